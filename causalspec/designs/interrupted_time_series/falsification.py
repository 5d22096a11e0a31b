"""The falsification checks an interrupted time series runs by default: placebo interruptions in the pre-period,
the Breusch-Godfrey test of the OLS residuals, and the length of the pre-period.  JSON-safe results."""

from __future__ import annotations

import math

import numpy as np

from causalspec.designs._common import estimate
from causalspec.designs.interrupted_time_series.model import fit_model
from causalspec.designs.interrupted_time_series.settings import MIN_PLACEBO_SIDE, MIN_PRE_PERIODS, PLACEBO_QUANTILES
from causalspec.errors import CausalSpecError, DataError, Problem
from causalspec.estimators.its import breusch_godfrey

__all__ = ["placebo_periods", "placebo_tests", "autocorrelation_tests", "pre_period_warning", "PRE_PERIOD_RULE"]

PRE_PERIOD_RULE = (f"at least {MIN_PRE_PERIODS} periods before the first interruption (Wagner et al. 2002), and "
                   "two full seasonal cycles when seasonality is modelled")


def placebo_periods(plan, series) -> list[int]:
    """The placebo interruptions (period indices): the spec's, checked, or the rule's (PLACEBO_QUANTILES of the
    pre-period, each leaving MIN_PLACEBO_SIDE periods or more on both sides)."""
    s = plan.settings
    pre = sorted(int(t) for t in series.time[series.treated_rows] if t < series.interruptions[0])
    n = len(pre)
    if s.placebo_interruptions is not None:
        out = series.resolve(s.placebo_interruptions, "design.placebo_interruptions")
        for i, p in enumerate(out):
            before = sum(t < p for t in pre)
            if p >= series.interruptions[0] or before < MIN_PLACEBO_SIDE or n - before < MIN_PLACEBO_SIDE:
                raise DataError(Problem(
                    f"design.placebo_interruptions[{i}]", f"the placebo interruption {series.label(p)} must fall in "
                    f"the pre-period ({series.label(pre[0])} to {series.label(pre[-1])}) with {MIN_PLACEBO_SIDE} or "
                    "more periods on each side.", fix="Choose an earlier period inside the pre-period, or leave "
                    "placebo_interruptions out for the default ones.", code="placebo_outside_pre_period"))
        return out
    out = []
    for q in PLACEBO_QUANTILES:
        pos = int(math.floor(q * n))
        if pos >= MIN_PLACEBO_SIDE and n - pos >= MIN_PLACEBO_SIDE and pre[pos] not in out:
            out.append(pre[pos])
    return out


def _row(m, term: str, level: float) -> dict:
    i = m.names.index(term)
    return estimate(term, m.coef[i], math.sqrt(m.V[i, i]), level, m.df).to_dict()


def placebo_tests(plan, series, build, level: float) -> list[dict]:
    """Refit on the pre-period alone with an interruption at each placebo period: level and slope changes."""
    first = series.interruptions[0]
    keep = np.flatnonzero(series.time < first)
    out = []
    for p in placebo_periods(plan, series):
        entry = {"period": series.label(p)}
        sub_series = None if series.series is None else series.series[keep]
        design = build(series.time[keep], [p], None if series.group is None else series.group[keep],
                       None if series.covariates is None else series.covariates[keep])
        groups = [np.flatnonzero(sub_series == g) for g in dict.fromkeys(sub_series)] if sub_series is not None \
            else [np.arange(len(keep))]
        try:
            m = fit_model(plan.vcov.kind, plan.settings, series.y[keep], design.X, design.names, series.time[keep],
                          sub_series, groups, comparative=series.series is not None)
        except CausalSpecError as exc:
            out.append({**entry, "computed": False, "reason": str(exc)})
            continue
        entry.update({"computed": True, "nobs": int(len(keep)),
                      "level_change": _row(m, design.level_terms[0], level),
                      "slope_change": _row(m, design.trend_terms[0], level), "r_call": m.details["r_call"]})
        if "lag" in m.details:
            entry["lag"] = m.details["lag"]
        out.append(entry)
    return out


def autocorrelation_tests(plan, series, build) -> list[dict]:
    """Breusch-Godfrey on the OLS residuals of each series' own segmented regression (``lmtest::bgtest``)."""
    order = plan.settings.autocorrelation_order
    out = []
    for rows in series.groups():
        name = None if series.series is None else str(series.series[rows[0]])
        design = build(series.time[rows], list(series.interruptions), None,
                       None if series.covariates is None else series.covariates[rows])
        n, k = design.X.shape
        if n - k - order < 1:
            out.append({"series": name, "order": order, "computed": False,
                        "reason": f"{n} periods leave no degrees of freedom for {k} terms and {order} lagged "
                                  "residuals"})
            continue
        out.append({"series": name, "computed": True,
                    **breusch_godfrey(series.y[rows], design.X, design.names, order).to_dict()})
    return out


def pre_period_warning(plan, series) -> str | None:
    """A warning when the pre-period is shorter than PRE_PERIOD_RULE asks."""
    s = plan.settings
    need = max(MIN_PRE_PERIODS, 2 * s.season_period if s.season_period else 0)
    n = series.n_pre
    if n >= need:
        return None
    cycles = 2 * s.season_period if s.season_period else 0
    season = (f"two full seasonal cycles (2 x {s.season_period} = {cycles}) to tell the seasonal terms from the "
              "trend") if n < cycles else ""
    rule = (f"at least {MIN_PRE_PERIODS} (Wagner et al. 2002)" if n < MIN_PRE_PERIODS else "")
    return (f"the pre-period has {n} periods before the first interruption {series.label(series.interruptions[0])}; "
            f"an interrupted time series needs {' and '.join(x for x in (rule, season) if x)}. The "
            "pre-interruption trend the counterfactual extrapolates is poorly determined, and the autocorrelation "
            "and placebo checks have little power.")
