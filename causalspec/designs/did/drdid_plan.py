"""Planning the two-period DR-DiD estimators (DRDID::drdid / ipwdid / ordid) as a direct did design.

The covariates are the spec's ``covariates``: DRDID's ``xformla``, the pre-treatment covariates given which
parallel trends hold.  The planner checks them against the DAG (none may be affected by the treatment); an
explicit ``adjustment`` is refused, since a backdoor set for the outcome's level is not the conditioning set of
conditional parallel trends, and the DAG does not encode trends.
"""

from __future__ import annotations

from causalspec.designs._common import plan_columns, plan_fields
from causalspec.designs.did.settings import DrDidSettings
from causalspec.errors import Problem, UnsupportedError
from causalspec.formula import quote_name
from causalspec.graph import DAG
from causalspec.planner import Estimator, Identification, Strategy, VcovPlan
from causalspec.planner._backdoor import check_covariates
from causalspec.planner._vcov import unsupported_vcov

__all__ = ["plan_drdid", "drdid_vcov", "refuse_drdid_options", "DRDID_OPTIONS"]

# the design fields only the drdid estimator reads, with their defaults
DRDID_OPTIONS = {"drdid_method": "imp", "panel": True, "trim_level": 0.995}

# what each design.drdid_method is, and the DRDID wrapper call it reproduces
_METHODS = {
    "imp": ("improved locally efficient doubly robust DiD (Sant'Anna & Zhao 2020): propensity score by inverse "
            "probability tilting, outcome regressions by weighted least squares", "drdid", 'estMethod = "imp"'),
    "trad": ("traditional locally efficient doubly robust DiD (Sant'Anna & Zhao 2020): logit propensity score, "
             "OLS outcome regressions", "drdid", 'estMethod = "trad"'),
    "ipw": ("inverse-probability-weighted DiD (Abadie 2005), Horvitz-Thompson weights", "ipwdid",
            "normalized = FALSE"),
    "std_ipw": ("standardized (Hajek) inverse-probability-weighted DiD (Abadie 2005): each group's weights sum to "
                "one", "ipwdid", "normalized = TRUE"),
    "reg": ("outcome-regression DiD (Heckman, Ichimura & Todd 1997): the comparison group's regression predicts "
            "the treated group's untreated change", "ordid", ""),
}
_SE = ("DRDID 1.2.3 analytical SE: sd(influence function) * sqrt(n - 1) / n, n the {what}; normal intervals")


def refuse_drdid_options(d, estimator: str) -> None:
    """The drdid options are refused where they are written for another estimator (they would change nothing)."""
    for name, default in DRDID_OPTIONS.items():
        if getattr(d, name) != default:
            raise UnsupportedError(Problem(
                f"design.{name}", f"{name} is an option of the DR-DiD estimators (DRDID); the {estimator} "
                "difference in differences does not read it.", fix=f"Remove {name}, or set design.estimator: drdid.",
                code="option_not_read"))


def drdid_vcov(inference, panel: bool, unit: str | None) -> VcovPlan:
    """DRDID's influence-function variance, the only one the DR-DiD estimators have (used by plan and
    ``Result.with_vcov``)."""
    if inference.vcov is not None:
        raise unsupported_vcov(inference.vcov, "the DR-DiD estimators (DRDID)", "only DRDID's analytical "
                               "influence-function SE", fix="Leave inference.vcov out.")
    if inference.cluster:
        raise UnsupportedError(Problem(
            "inference.cluster", "DRDID's analytical SE is not clustered; with panel data each unit's influence "
            "function already sums its two periods.", fix="Remove inference.cluster.", code="unsupported_vcov"))
    return VcovPlan("influence_function", (unit,) if panel and unit else (), inference.level,
                    _SE.format(what="units" if panel else "observations"))


def _columns(spec) -> tuple[str, str, str | None]:
    """(period column, its field, unit column) for the layout the spec asks for, or a located refusal."""
    d = spec.design
    if d.fixed_effects:
        raise UnsupportedError(Problem("design.fixed_effects", "the DR-DiD estimators adjust for covariates, not "
                                       "fixed effects (DRDID has no fixed effects).", fix="Remove fixed_effects, or "
                                       "set design.estimator: twfe.", code="option_not_read"))
    if d.time is not None and d.post is not None:
        raise UnsupportedError(Problem("design.post", "the DR-DiD estimators read one period column (DRDID's "
                                       "tname), but both design.time and design.post are set.",
                                       fix="Keep design.time or design.post, not both.", code="drdid_columns"))
    period, where = (d.time, "design.time") if d.time is not None else (d.post, "design.post")
    if period is None:
        raise UnsupportedError(Problem("design.time", "the DR-DiD estimators need the period column (DRDID's "
                                       "tname: two periods, the later one is after the change).",
                                       fix="Set design.time (or design.post, a 0/1 column).", code="drdid_columns"))
    if d.panel and d.unit is None:
        raise UnsupportedError(Problem("design.unit", "panel data (design.panel: true, DRDID's panel = TRUE) need "
                                       "the unit identifier (DRDID's idname).", fix="Set design.unit, or set "
                                       "design.panel: false for repeated cross-sections.", code="drdid_columns"))
    if not d.panel and d.unit is not None:
        raise UnsupportedError(Problem("design.unit", "repeated cross-sections (design.panel: false) observe "
                                       "different units in each period, so the DR-DiD estimators do not read a "
                                       "unit identifier.", fix="Remove design.unit, or set design.panel: true.",
                                       code="option_not_read"))
    return period, where, d.unit if d.panel else None


def plan_drdid(spec, dag: DAG, estimand: str) -> dict:
    """The Plan fields of a two-period DR-DiD (``design.estimator: drdid``)."""
    d = spec.design
    if spec.adjustment != "auto":
        raise UnsupportedError(Problem(
            "adjustment", "the DR-DiD estimators condition parallel trends on the spec's covariates (DRDID's "
            "xformla); a backdoor adjustment set for the outcome's level is not that set.",
            fix="List the pre-treatment covariates under covariates and remove adjustment.", code="drdid_adjustment"))
    if d.drdid_method == "reg" and d.trim_level != DRDID_OPTIONS["trim_level"]:
        raise UnsupportedError(Problem("design.trim_level", "trim_level trims comparison units by their propensity "
                                       "score; the outcome-regression estimator (DRDID::ordid) fits none.",
                                       fix="Remove trim_level, or choose another drdid_method.",
                                       code="option_not_read"))
    period, period_field, unit = _columns(spec)
    group = d.group or spec.treatment
    group_field = "design.group" if d.group else "treatment"
    ident = Identification(True, Strategy.PARALLEL_TRENDS, (), "design",
                           "difference in differences: given the covariates, the comparison group's change stands "
                           "in for the treated group's change without treatment", (), None)
    covs = check_covariates(spec, dag, ident)  # none may be affected by the treatment
    what, fn, option = _METHODS[d.drdid_method]
    args = [f'yname = "{spec.outcome}"', f'tname = "{period}"'] + ([f'idname = "{unit}"'] if unit else []) + [
        f'dname = "{group}"', "xformla = ~" + (" + ".join(covs) or "1"), f"panel = {str(d.panel).upper()}"]
    if option:
        args.append(option)
    if d.drdid_method != "reg" and d.trim_level != DRDID_OPTIONS["trim_level"]:
        args.append(f"trim.level = {d.trim_level:g}")
    r_call = f"DRDID::{fn}({', '.join(args)})"
    settings = DrDidSettings(method=d.drdid_method, panel=d.panel, group=group, period=period, unit=unit,
                             covariates=covs, trim_level=None if d.drdid_method == "reg" else d.trim_level)
    cols = plan_columns(spec, [(group, group_field), (period, period_field), (unit, "design.unit")]
                        + [(c, f"covariates[{i}]") for i, c in enumerate(covs)])
    layout = ("panel data: the same units before and after (each unit's change is compared)" if d.panel else
              "repeated cross-sections: different units in each period, the groups' composition stable")
    assumptions = [
        f"Conditional parallel trends: given {', '.join(covs) or 'nothing (no covariates)'}, without the change "
        f"{spec.outcome} would have moved the same way, on average, in the treated group ({group} = 1) as in the "
        "comparison group.",
        "No anticipation: the treated group did not react before the change.",
        "Overlap: every treated unit's covariates occur in the comparison group (propensity score below 1; "
        f"comparison units at or above {d.trim_level:g} are trimmed)" if d.drdid_method != "reg" else
        "Overlap: the comparison group's outcome regression extrapolates to the treated group's covariates.",
        "The covariates are measured before the change (and do not vary between the two periods)." if d.panel else
        "Stationarity: the joint distribution of group and covariates is the same in both periods."]
    vcov = drdid_vcov(spec.inference, d.panel, unit)
    why = f"two-period DR-DiD (DRDID::{fn}{f'({option})' if option else ''}): {what}; {layout}"
    notes = ("The naive contrast compares the groups' mean outcomes after the change only.",)
    return {"estimand": estimand, **plan_fields(spec, dag, ident, covs, Estimator.DRDID, why, r_call,
                                                f"{quote_name(spec.outcome)} ~ {quote_name(group)}", vcov, assumptions, settings, cols,
                                                notes=notes)}
