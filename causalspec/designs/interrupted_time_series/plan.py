"""Planning an interrupted time series: segmented regression, identified by the design (no concurrent change at the
interruption, the pre-period trend would have continued), its variance named with the R call it matches."""

from __future__ import annotations

from causalspec.designs._common import plan_columns, plan_fields
from causalspec.designs._fixest import design_estimand
from causalspec.designs.interrupted_time_series.settings import InterruptedTimeSeriesSettings
from causalspec.designs.observational.plan import refuse_model_formula
from causalspec.errors import AdjustmentError, Problem, UnsupportedError
from causalspec.formula import quote_name
from causalspec.graph import DAG
from causalspec.planner import Estimator, Identification, NodeDecision, Strategy, VcovPlan
from causalspec.planner._backdoor import check_covariates
from causalspec.planner._vcov import LM_R_CALLS, unsupported_vcov

__all__ = ["plan_interrupted_time_series", "its_vcov", "vcov_for", "SENSITIVITY_OFF", "GENERATED"]

SENSITIVITY_OFF = (
    "omitted-variable-bias bounds and E-values measure how strong an unobserved common cause of treatment and "
    "outcome across units would have to be; an interrupted time series compares a series with its own "
    "extrapolated past, so its threats are a concurrent change at the interruption or a pre-period trend that "
    "would not have continued, which no confounder partial R-squared describes. The design's falsification "
    "checks stand in for them: placebo interruptions in the pre-period, the Breusch-Godfrey test of residual "
    "autocorrelation, and (comparative ITS) the comparison series")

# names the fitter gives the columns it builds; a covariate of the same name would be overwritten
GENERATED = ("time", "level", "trend", "group")

_HAC_OPTIONS = ("lag", "prewhite", "adjust")


def _refuse(loc: str, message: str, fix: str, code: str = "option_not_read") -> None:
    raise UnsupportedError(Problem(loc, message, fix=fix, code=code))


def _check_options(spec) -> None:
    d = spec.design
    for name in _HAC_OPTIONS:
        if getattr(d, name) is not None and d.variance != "newey_west":
            _refuse(f"design.{name}", f"{name} is an option of the Newey-West variance, and design.variance is "
                    f"{d.variance}, so it would change nothing.", f"Remove design.{name}, or set design.variance: "
                    "newey_west.")
    if d.prewhite is not None and d.comparison is not None:
        _refuse("design.prewhite", "with a comparison series the variance is sandwich::vcovPL(aggregate = FALSE), "
                "which has no prewhitening, so prewhite would change nothing.", "Remove design.prewhite.")
    if d.ar1_method != "REML" and d.variance != "ar1_gls":
        _refuse("design.ar1_method", f"ar1_method is read by the AR(1) GLS fit (nlme::gls), and design.variance "
                f"is {d.variance}, so it would change nothing.", "Remove design.ar1_method, or set "
                "design.variance: ar1_gls.")
    s = d.seasonality
    if s is not None and s.terms == "dummies" and s.harmonics is not None:
        _refuse("design.seasonality.harmonics", "harmonics is the number of Fourier terms; with terms: dummies "
                "every season has its own indicator, so it would change nothing.",
                "Remove harmonics, or set terms: fourier.")
    if s is not None and s.terms == "fourier" and (s.harmonics or 2) > s.period // 2:
        _refuse("design.seasonality.harmonics", f"{s.harmonics or 2} harmonics exceed period / 2 = {s.period // 2}: "
                "higher harmonics repeat lower ones at whole periods and would be collinear.",
                f"Use at most {s.period // 2} harmonics (that many is the same fit as terms: dummies).", "bad_value")
    roles = {spec.treatment: "the treatment", spec.outcome: "the outcome"}
    for field in ("time", "comparison"):
        col = getattr(d, field)
        if col in roles:
            raise AdjustmentError(Problem(f"design.{field}", f"the {field} column {col!r} is {roles[col]}.",
                                          fix=f"Name the column that holds the {'period' if field == 'time' else 'series'}.",
                                          code="column_role"))
    if d.comparison is not None and d.comparison == d.time:
        raise AdjustmentError(Problem("design.comparison", f"{d.comparison!r} is also design.time.",
                                      fix="Name the column that identifies each series.", code="column_role"))
    for i, c in enumerate(spec.covariates):
        if c in (d.time, d.comparison) or c in GENERATED or c.startswith(("level_", "trend_", "group_", "sin_",
                                                                          "cos_", "season_")):
            raise AdjustmentError(Problem(f"covariates[{i}]", f"{c!r} is the period column, the series column or "
                                          "the name of a term the segmented regression builds.",
                                          fix="Rename the column (and the DAG node), or remove it from covariates.",
                                          code="covariate_name"))


def _resolved(d) -> tuple[bool | None, bool | None]:
    """prewhite and adjust as the R function the plan calls takes them by default (None: not a Newey-West plan,
    or no prewhitening option in vcovPL)."""
    if d.variance != "newey_west":
        return None, None
    comparative = d.comparison is not None
    prewhite = None if comparative else (True if d.prewhite is None else d.prewhite)
    adjust = (comparative if d.adjust is None else d.adjust)
    return prewhite, adjust


def _hac_args(s: InterruptedTimeSeriesSettings, given: dict) -> str:
    """The R call's arguments as the spec writes them (left-out options take the function's default)."""
    out = ""
    if s.lag is not None:
        out += f", lag = {s.lag}"
    if given.get("prewhite") is not None:
        out += f", prewhite = {str(s.prewhite).upper()}"
    if given.get("adjust") is not None:
        out += f", adjust = {str(s.adjust).upper()}"
    return out


def vcov_for(inference, s: InterruptedTimeSeriesSettings, given: dict | None = None) -> VcovPlan:
    """The variance of the segmented regression (``design.variance``); inference.vcov applies to ``ols`` only."""
    given = given if given is not None else {"prewhite": s.prewhite, "adjust": s.adjust}
    if inference.wild_bootstrap is not None:
        raise UnsupportedError(Problem("inference.wild_bootstrap", "the wild cluster bootstrap resamples clusters; "
                                       "an interrupted time series has one series (or a few).",
                                       fix="Remove wild_bootstrap.", code="wild_unsupported"))
    if inference.cluster:
        raise UnsupportedError(Problem(
            "inference.cluster", "clustered variances need many clusters; an interrupted time series has one series "
            "(or a few), whose autocorrelation design.variance handles.", fix="Remove inference.cluster and set "
            "design.variance (newey_west, ar1_gls, or ols).", code="unsupported_vcov"))
    if s.variance != "ols":
        if inference.vcov is not None:
            raise UnsupportedError(Problem(
                "inference.vcov", f"{inference.vcov} is not available with design.variance: {s.variance}: an "
                "interrupted time series takes its variance from design.variance, and inference.vcov chooses among "
                "iid and HC0-HC3 only for design.variance: ols.", fix="Remove inference.vcov, or set "
                "design.variance: ols to use iid or HC0-HC3.", code="unsupported_vcov"))
        if s.variance == "ar1_gls":
            form = "~ time" + (" | series" if s.comparison else "")
            return VcovPlan("ar1_gls", (), inference.level,
                            f'nlme::gls(correlation = corAR1(form = {form}), method = "{s.ar1_method}")')
        if s.comparison:
            return VcovPlan("panel_newey_west", (), inference.level,
                            f"lmtest::coeftest(fit, vcov. = sandwich::vcovPL(fit, cluster = ~ series, order.by = "
                            f"~ time, aggregate = FALSE{_hac_args(s, given)}))")
        return VcovPlan("newey_west", (), inference.level,
                        f"lmtest::coeftest(fit, vcov. = sandwich::NeweyWest(fit{_hac_args(s, given)}))")
    kind = inference.vcov or "iid"
    if kind not in ("iid", "HC0", "HC1", "HC2", "HC3"):
        raise unsupported_vcov(kind, "an interrupted time series", "iid, HC0, HC1, HC2 and HC3 (design.variance: "
                               "ols)")
    return VcovPlan(kind, (), inference.level, LM_R_CALLS[kind])


def its_vcov(inference, plan) -> VcovPlan:
    """The family's variance rule for ``Result.with_vcov`` (``plan()`` calls :func:`vcov_for` with the spec's
    options): another inference.vcov is refused unless design.variance is ols."""
    return vcov_for(inference, plan.settings)


def _formula(spec, s: InterruptedTimeSeriesSettings) -> str:
    y = quote_name(spec.outcome)
    k = len(s.interruptions)
    seg = ("level + trend" if k == 1 else " + ".join(f"level_{i} + trend_{i}" for i in range(1, k + 1)) if k
           else f"level_k + trend_k (one pair per change of {spec.treatment})")
    terms = f"time + {seg}"
    if s.season_period is not None:
        terms += (f" + fourier(period = {s.season_period}, harmonics = {s.harmonics or 2})"
                  if s.season_terms == "fourier" else f" + season dummies (period {s.season_period})")
    if s.comparison:
        terms = f"({terms}) * group"
    if spec.covariates:
        terms += " + " + " + ".join(quote_name(c) for c in spec.covariates)
    return f"{y} ~ {terms}"


def plan_interrupted_time_series(spec, dag: DAG) -> dict:
    refuse_model_formula(spec)
    d = spec.design
    estimand = design_estimand(spec, "interrupted time series (the effect on the interrupted series after the "
                               "interruption)", "ATT")
    if isinstance(spec.adjustment, tuple) and spec.adjustment:
        raise AdjustmentError(Problem(
            "adjustment", "an interrupted time series compares the series with its own extrapolated past; there is "
            "no adjustment set to choose.", fix="Remove adjustment; list time-varying causes of the outcome that "
            "the interruption does not affect under covariates.", code="adjustment_unused"))
    _check_options(spec)
    ident = Identification(True, Strategy.INTERRUPTED_TIME_SERIES, (), "design",
                           "the interruption: the segmented trend before it, extrapolated, is the counterfactual",
                           (), None)
    extra = check_covariates(spec, dag, ident)  # refuses covariates the treatment affects
    prewhite, adjust = _resolved(d)
    s = d.seasonality
    settings = InterruptedTimeSeriesSettings(
        time=d.time, interruptions=tuple(d.interruptions), comparison=d.comparison,
        season_period=s.period if s else None, season_terms=s.terms if s else None,
        harmonics=(s.harmonics or 2) if s is not None and s.terms == "fourier" else None,
        variance=d.variance, lag=d.lag, prewhite=prewhite, adjust=adjust, ar1_method=d.ar1_method,
        autocorrelation_order=d.autocorrelation_order or (s.period if s else 1),
        placebo_interruptions=None if d.placebo_interruptions is None else tuple(d.placebo_interruptions))
    vcov = vcov_for(spec.inference, settings, {"prewhite": d.prewhite, "adjust": d.adjust})
    when = ", ".join(map(str, d.interruptions)) or f"the periods at which {spec.treatment} changes"
    season = " and seasonal pattern" if s else ""
    x, y = spec.treatment, spec.outcome
    assumptions = [
        f"No concurrent change: nothing but {x} changed the level or trend of {y} at {when} (no other "
        "intervention, event, or change in how the outcome is measured or who is counted).",
        f"The pre-interruption trend{season} would have continued: the segmented line before the first "
        f"interruption, extrapolated, is what {y} would have been without {x}."]
    if d.comparison:
        assumptions.append(f"The comparison series (by {d.comparison}) shares the interrupted series' trend and any "
                           "concurrent shock, and is unaffected by the interruption: its own change at the "
                           "interruption is what the interrupted series would have shown (Linden 2015).")
    assumptions.append({
        "newey_west": "The errors may be autocorrelated and heteroskedastic; Newey-West covers autocorrelation up "
                      "to the lag used" + (" within each series, none across them" if d.comparison else ""),
        "ar1_gls": "The errors follow one stationary AR(1) process" + (" within each series, independent across "
                                                                     "series" if d.comparison else ""),
        "ols": "The errors are uncorrelated over time (the Breusch-Godfrey test checks it)"}[d.variance] + ".")
    if extra:
        assumptions.append(f"The covariates {', '.join(extra)} are not affected by {x}.")
    why = ("segmented regression (Wagner et al. 2002; Bernal, Cummins & Gasparrini 2017)"
           + ("; comparative ITS with group interactions (Linden 2015)" if d.comparison else ""))
    why = (f"auto: the design's one estimator, {why}" if d.estimator == "auto" else f"{why} (design.estimator)")
    cols = plan_columns(spec, [(d.time, "design.time"), (d.comparison, "design.comparison")]
                        + [(c, f"covariates[{i}]") for i, c in enumerate(spec.covariates)])
    notes = () if spec.estimand == estimand else (
        f"the spec's estimand {spec.estimand} (the default) is reported as the {estimand}: an interrupted time series "
        "estimates the effect on the interrupted series in the periods after the interruption, not on periods or "
        "series that were never interrupted",)
    fields = plan_fields(spec, dag, ident, extra, Estimator.SEGMENTED, why, _formula(spec, settings),
                         f"{quote_name(y)} ~ {quote_name(x)}", vcov, assumptions, settings, cols, notes=notes)
    fields["decisions"] = tuple(
        NodeDecision(n.node, n.role, True, "the period column: the segmented regression models it (the time, "
                     "level and trend terms), which blocks the paths through it") if n.node == d.time else n
        for n in fields["decisions"])
    return {"estimand": estimand, **fields}
