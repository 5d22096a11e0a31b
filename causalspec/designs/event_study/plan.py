"""Planning event studies: TWFE with i(), Sun & Abraham (fixest::sunab) or Callaway & Sant'Anna (did::att_gt)."""

from __future__ import annotations

from causalspec.designs._common import plan_columns, plan_fields
from causalspec.designs._fixest import design_estimand
from causalspec.errors import Problem, UnsupportedError
from causalspec.formula import quote_name
from causalspec.graph import DAG
from causalspec.planner import Estimator, Identification, Strategy, VcovPlan
from causalspec.planner._vcov import fixest_vcov_plan
from causalspec.designs.event_study.settings import EventStudySettings

# Callaway & Sant'Anna's analytical SEs and the packages that share the convention. Stata's drdid / csdid used
# n - 1 only in the May 2021 betas (drdid <= 1.35, csdid 0.x, each ATT(g,t) over its own 2x2 sample); drdid 1.36+
# and csdid 1.0+ divide by n as did does, so there is no second convention to choose (issue 12;
# tests/test_cs_standard_errors.py checks csdid's published mpdta output).
CS_ANALYTIC_SES = ("did::att_gt / aggte analytical SEs (influence-function variance divided by the number of "
                   "units, clustered by unit; the same as Stata's csdid / estat 1.0+ and drdid 1.36+)")


def plan_event_study(spec, dag: DAG) -> dict:
    estimand = design_estimand(spec, "event study", "ATT")
    d = spec.design
    estimator = d.estimator
    if estimator == "auto":
        estimator = "sun_abraham" if d.first_treated else "twfe"
    if estimator in ("sun_abraham", "callaway_santanna") and not d.first_treated:
        raise UnsupportedError(Problem("design.first_treated", f"{estimator} needs each unit's first treated "
                                       "period.", fix="Set design.first_treated (0 or empty for never treated).",
                                       code="first_treated_missing"))
    if estimator == "twfe" and not (d.first_treated or (d.relative_time and d.treated)):
        raise UnsupportedError(Problem("design.first_treated", "an event study needs relative time: "
                                       "first_treated, or relative_time with treated.",
                                       fix="Set design.first_treated.", code="relative_time_missing"))
    if d.window and estimator != "twfe":
        raise UnsupportedError(Problem(
            "design.window", f"window trims the relative periods of the two-way fixed-effects event study; "
            f"{estimator} estimates every cohort and period it can and does not read it.",
            fix="Remove window, or set design.estimator to twfe.", code="window_unsupported"))
    if estimator != "callaway_santanna":
        _refuse_callaway_santanna_options(d, estimator)
    _refuse_twfe_options(d, estimator)
    if d.min_e is not None and d.max_e is not None and d.min_e > d.max_e:
        raise UnsupportedError(Problem("design.min_e", f"min_e ({d.min_e}) is after max_e ({d.max_e}).",
                                       fix="Swap them.", code="event_window_empty"))
    fes = (d.unit, d.time)
    ident = Identification(True, Strategy.PARALLEL_TRENDS, (), "design",
                                  "event study: units compared with not-yet or never-treated units over time",
                                  (), None)
    vcov = fixest_vcov_plan(spec.inference, fes)
    y = quote_name(spec.outcome)
    if estimator == "callaway_santanna":
        covs = " + ".join(quote_name(c) for c in spec.covariates) or "1"
        formula = (f"did::att_gt(yname = {y}, tname = {d.time}, idname = {d.unit}, gname = {d.first_treated}, "
                   f"xformla = ~{covs}, control_group = {d.control_group.replace('_', '')}, "
                   f"est_method = {d.est_method}"
                   + (f", base_period = {d.base_period})" if d.base_period != "varying" else ")"))
        est, why = Estimator.CALLAWAY_SANTANNA, (
            "Callaway & Sant'Anna (2021) group-time ATTs (did::att_gt), aggregated to one ATT (simple) and by "
            f"event time (dynamic), by cohort (group) and by period (calendar); the effect reported is the "
            f"{d.aggregation} aggregation; comparison group: {d.control_group.replace('_', ' ')} units, "
            f"{d.est_method} estimation")
        vcov = VcovPlan("influence_function", (d.unit,), spec.inference.level,
                        CS_ANALYTIC_SES if d.bands == "pointwise" else
                        f"did::att_gt(bstrap = TRUE, cband = TRUE, biters = {d.bootstrap_iterations}) multiplier-"
                        "bootstrap SEs and uniform bands (clustered by unit)")
    elif estimator == "sun_abraham":
        formula = f"{y} ~ sunab({quote_name(d.first_treated)}, {quote_name(d.time)}) | {d.unit} + {d.time}"
        est, why = Estimator.SUN_ABRAHAM, ("Sun & Abraham (2021) interaction-weighted estimator (fixest::sunab): "
                                          "cohort-by-period effects aggregated by relative period; robust to "
                                          "effects that differ across adoption cohorts")
    else:
        rel = d.relative_time or "relative time"
        formula = f"{y} ~ i({rel}, {d.treated or d.first_treated}, ref = {d.reference}) | {d.unit} + {d.time}"
        est, why = Estimator.EVENT_STUDY, ("two-way fixed-effects event study (fixest i(relative time, treated, "
                                           "ref)): one coefficient per period relative to treatment")
    settings = EventStudySettings(
        unit=d.unit, time=d.time, first_treated=d.first_treated, relative_time=d.relative_time, treated=d.treated,
        reference=d.reference, control_group=d.control_group.replace("_", ""), est_method=d.est_method,
        anticipation=d.anticipation, covariates=tuple(spec.covariates),
        window=tuple(d.window) if d.window else None, bin_endpoints=d.bin_endpoints, base_period=d.base_period,
        aggregation=d.aggregation, min_e=d.min_e, max_e=d.max_e, balance_e=d.balance_e, bands=d.bands,
        bootstrap_iterations=d.bootstrap_iterations)
    cols = plan_columns(spec, [(d.unit, "design.unit"), (d.time, "design.time"), (d.first_treated, "design.first_treated"),
                           (d.relative_time, "design.relative_time"), (d.treated, "design.treated")]
                    + [(c, f"covariates[{i}]") for i, c in enumerate(spec.covariates)])
    assumptions = [
        f"Parallel trends: without treatment, treated and comparison units' {spec.outcome} would have moved in "
        "parallel (the leads, periods before treatment, are a check: they should be near zero).",
        f"No anticipation: no effect before treatment (the reference period {d.reference} is the baseline).",
        "Treatment is absorbing: once treated, a unit stays treated."]
    return {"estimand": estimand, **plan_fields(spec, dag, ident, tuple(spec.covariates), est, why, formula, f"{y} ~ {quote_name(spec.treatment)}",
                   vcov, assumptions, settings, cols)}


# the design fields only Callaway & Sant'Anna reads, with their defaults
_CS_ONLY = {"base_period": "varying", "aggregation": "simple", "min_e": None, "max_e": None, "balance_e": None,
            "bands": "pointwise", "bootstrap_iterations": 1000, "control_group": "never_treated",
            "est_method": "dr", "anticipation": 0}


def _refuse_twfe_options(d, estimator: str) -> None:
    """Options only the two-way fixed-effects event study reads, refused where they are written for the others
    (each would otherwise be accepted and change nothing): the reference period (sunab and att_gt use -1),
    binning, and relative time given as columns; binning needs a window."""
    unread = []
    if estimator != "twfe":
        if d.reference != -1:
            unread.append(("reference", "sunab() and did::att_gt compare with the period before treatment (-1)"))
        if d.bin_endpoints:
            unread.append(("bin_endpoints", "binning applies to the window of the two-way fixed-effects event study"))
        for name in ("relative_time", "treated"):
            if getattr(d, name) is not None:
                unread.append((name, f"{estimator} builds relative time from first_treated"))
    elif d.bin_endpoints and not d.window:
        raise UnsupportedError(Problem("design.bin_endpoints", "bin_endpoints bins the periods outside the window "
                                       "into its end points, but no window is set, so it would change nothing.",
                                       fix="Set design.window (e.g. [-5, 5]), or remove bin_endpoints.",
                                       code="option_not_read"))
    if unread:
        name, why = unread[0]
        raise UnsupportedError(Problem(f"design.{name}", f"the {estimator} event study does not read {name}: {why}.",
                                       fix=f"Remove {name}, or set design.estimator to twfe.", code="option_not_read"))


def _refuse_callaway_santanna_options(d, estimator: str) -> None:
    for name, default in _CS_ONLY.items():
        if getattr(d, name) != default:
            raise UnsupportedError(Problem(
                f"design.{name}", f"{name} is an option of Callaway & Sant'Anna's did::att_gt / aggte; the "
                f"{estimator} event study does not read it (it compares every period with the reference period "
                f"{d.reference}).", fix=f"Remove {name}, or set design.estimator to callaway_santanna." + (
                    f" With anticipation, the two-way event study's reference period is the last one before it: "
                    f"design.reference: {-1 - d.anticipation}." if name == "anticipation" else ""),
                code="base_period_unsupported" if name == "base_period" else "callaway_santanna_option"))
