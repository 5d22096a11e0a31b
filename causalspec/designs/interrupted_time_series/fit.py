"""Fitting the segmented regression: the model with the plan's variance, the level / slope changes and the
average and cumulative effects against the counterfactual trend (delta method), the falsification checks, and
the series table the figure draws (``extras["interrupted_time_series"]``)."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd
from scipy import stats

from causalspec.designs._common import estimate, estimate_rows
from causalspec.designs._family import Fit
from causalspec.designs.interrupted_time_series.falsification import (
    PRE_PERIOD_RULE,
    autocorrelation_tests,
    placebo_tests,
    pre_period_warning,
)
from causalspec.designs.interrupted_time_series.model import fit_model
from causalspec.designs.interrupted_time_series.series import read_series
from causalspec.estimators.its import counterfactual_rows, effect_combinations, segmented_design

__all__ = ["fit_segmented"]


def _builder(plan):
    s = plan.settings
    covs = tuple(plan.covariates)

    def build(time, cuts, group, covariates):
        return segmented_design(time, cuts, period=s.season_period, terms=s.season_terms or "fourier",
                                harmonics=s.harmonics, group=group, covariates=covariates, covariate_names=covs)
    return build


def _naive(plan, series, level: float) -> tuple:
    """``outcome ~ treatment`` on the interrupted series, with the same kind of variance (one series)."""
    rows = series.treated_rows
    X = np.column_stack([np.ones(len(rows)), series.d[rows]])
    kind = "newey_west" if plan.vcov.kind == "panel_newey_west" else plan.vcov.kind
    s = plan.settings
    if plan.vcov.kind == "panel_newey_west":  # NeweyWest's own defaults on the one series
        s = replace(s, lag=None, prewhite=True, adjust=False)
    m = fit_model(kind, s, series.y[rows], X, ("(Intercept)", plan.treatment), series.time[rows], None,
                  [np.arange(len(rows))], comparative=False)
    return estimate(plan.treatment, m.coef[1], math.sqrt(m.V[1, 1]), level, m.df), m.details["r_call"]


def _series_table(series, design, m, level: float) -> list[dict]:
    """Every row: observed, fitted; for the interrupted series after the interruption also the counterfactual
    (the fitted line without the effect terms) with its pointwise confidence band."""
    q = stats.t.ppf(0.5 + level / 2, m.df)
    fitted = design.X @ m.coef
    post = np.flatnonzero((series.time >= series.interruptions[0]) & (
        np.ones(len(series.y), bool) if series.group is None else series.group == 1))
    Xc = counterfactual_rows(design, post)
    cf = Xc @ m.coef
    se = np.sqrt(np.einsum("ij,jk,ik->i", Xc, m.V, Xc))
    extra = {int(r): (cf[i], se[i]) for i, r in enumerate(post)}
    out = []
    for i in range(len(series.y)):
        t = int(series.time[i])
        row = {"series": None if series.series is None else str(series.series[i]),
               "interrupted": bool(series.group is None or series.group[i] == 1),
               "period": series.label(t), "time": t, "segment": int(sum(t >= c for c in series.interruptions)),
               "observed": float(series.y[i]), "fitted": float(fitted[i])}
        if i in extra:
            c, e = extra[i]
            row.update(counterfactual=float(c), counterfactual_se=float(e), counterfactual_low=float(c - q * e),
                       counterfactual_high=float(c + q * e))
        out.append(row)
    return out


def fit_segmented(plan, frame: pd.DataFrame) -> Fit:
    """Segmented regression of an interrupted time series (Wagner et al. 2002; Linden 2015 with a comparison).

    Matches ``lm(y ~ time + level + trend + ...)`` with ``lmtest::coeftest(fit, vcov. = sandwich::NeweyWest(fit))``
    (or ``sandwich::vcovPL`` with a comparison series, ``sandwich::vcovHC`` / iid for ``ols``), or
    ``nlme::gls(..., correlation = corAR1())`` for ``ar1_gls``; tests use t with the residual degrees of freedom.
    """
    s, level = plan.settings, plan.vcov.level
    series = read_series(plan, frame)
    build = _builder(plan)
    design = build(series.time, list(series.interruptions), series.group, series.covariates)
    m = fit_model(plan.vcov.kind, s, series.y, design.X, design.names, series.time, series.series,
                  series.groups(), comparative=series.series is not None)
    rows = estimate_rows(m.table(level), float(m.df))
    by_term = {r.term: r for r in rows}
    effect = by_term[design.level_terms[0]]
    post = np.flatnonzero((series.time >= series.interruptions[0]) & (
        np.ones(len(series.y), bool) if series.group is None else series.group == 1))
    labels = [series.label(c) for c in series.interruptions]
    effects = []
    for k, (lt, tt) in enumerate(zip(design.level_terms, design.trend_terms)):
        effects.append({**by_term[lt].to_dict(), "description": f"level change at {labels[k]}"})
        effects.append({**by_term[tt].to_dict(), "description": f"slope change at {labels[k]} (per period)"})
    for comb in effect_combinations(design, post):
        est, se = comb.value(m.coef, m.V)
        effects.append({**estimate(comb.term, est, se, level, m.df).to_dict(), "description": comb.description})
    naive, naive_call = _naive(plan, series, level)
    bg = autocorrelation_tests(plan, series, build)
    placebo = placebo_tests(plan, series, build, level)
    warnings, notes = [], []
    short = pre_period_warning(plan, series)
    if short:
        warnings.append(short)
    treated_bg = next((b for b in bg if b.get("computed") and (b["series"] in (None, series.treated))), None)
    if treated_bg is not None and s.variance == "ols" and treated_bg["p_value"] < 0.05:
        warnings.append(f"the OLS residuals are autocorrelated (Breusch-Godfrey of order {treated_bg['order']}: "
                        f"LM = {treated_bg['statistic']:.4g}, p = {treated_bg['p_value']:.3g}); {plan.vcov.kind} "
                        "standard errors assume they are not and are too small. Use design.variance: newey_west "
                        "or ar1_gls.")
    flagged = [p for p in placebo if p.get("computed") and p["level_change"]["p_value"] is not None
               and p["level_change"]["p_value"] < 0.05]
    if flagged:
        warnings.append("placebo interruption(s) in the pre-period show a level change significant at 5%: "
                        + "; ".join(f"{p['period']}: {p['level_change']['estimate']:.4g} (p = "
                                    f"{p['level_change']['p_value']:.3g})" for p in flagged)
                        + ". The pre-period is not one stable trend, so its extrapolation is a weak counterfactual.")
    for e in effects:
        notes.append(f"{e['description']}: {e['estimate']:.4g} (SE {e['std_error']:.4g}, {level:.0%} CI "
                     f"{e['conf_low']:.4g} to {e['conf_high']:.4g}, p = {e['p_value']:.3g})")
    if "lag" in m.details:
        notes.append(f"Newey-West lag {m.details['lag']}: {m.details['lag_rule']}"
                     + (f" (bandwidth {m.details['bandwidth']:.4g})" if m.details.get("bandwidth") else ""))
    if "phi" in m.details:
        notes.append(f"AR(1) errors: phi = {m.details['phi']:.4g} ({m.details['method']}), sigma = "
                     f"{m.details['sigma']:.4g}")
    for b in bg:
        if b.get("computed"):
            notes.append(f"Breusch-Godfrey test of order {b['order']} on the OLS residuals"
                         + (f" of {b['series']!r}" if b["series"] else "") + f": LM = {b['statistic']:.4g}, "
                         f"p = {b['p_value']:.3g}")
    if placebo:
        notes.append("placebo interruptions in the pre-period (level change): " + "; ".join(
            f"{p['period']}: {p['level_change']['estimate']:.4g} (p = {p['level_change']['p_value']:.3g})"
            if p.get("computed") else f"{p['period']}: not computed" for p in placebo))
    fit_stats = [("r2", m.ols.r2), ("adj_r2", m.ols.adj_r2)] if "phi" not in m.details else []
    fit_stats += [(k, float(m.details[k])) for k in ("phi", "sigma", "loglik") if k in m.details]
    if "phi" not in m.details:
        fit_stats.append(("sigma", m.ols.sigma))
    if "lag" in m.details:
        fit_stats.append(("hac_lag", float(m.details["lag"])))
    if treated_bg is not None:
        fit_stats += [("bg_statistic", treated_bg["statistic"]), ("bg_p_value", treated_bg["p_value"])]
    extras = {"interrupted_time_series": {
        "time": s.time, "interruptions": labels, "interruptions_from": series.source,
        "interrupted_series": series.treated, "comparison": s.comparison,
        "comparison_series": sorted({str(v) for v in series.series} - {series.treated}) if series.series is not None
        else [],
        "periods": {"first": series.label(int(series.time.min())), "last": series.label(int(series.time.max())),
                    "pre": series.n_pre, "post": int(len(post))},
        "model": {"terms": list(design.names), "effect_terms": list(design.effect_terms)},
        "variance": {"kind": plan.vcov.kind, "df": m.df, **m.details},
        "effects": effects, "naive": {**naive.to_dict(), "r_call": naive_call},
        "falsification": {"breusch_godfrey": bg, "placebo": placebo,
                          "pre_period": {"periods": series.n_pre, "rule": PRE_PERIOD_RULE, "short": bool(short)}},
        "series": _series_table(series, design, m, level)}}
    return Fit(effect, naive, rows, tuple(design.names), m.V, len(series.y), (), tuple(notes),
               tuple((k, float(v)) for k, v in fit_stats), extras=extras, warnings=tuple(warnings))
