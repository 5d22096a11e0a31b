"""Fitting TWFE and Sun & Abraham event studies with fixest's algorithm and variance."""

from __future__ import annotations


import numpy as np
import pandas as pd
from scipy import stats

from causalspec._values import Estimate
from causalspec.designs._common import estimate_rows, find_row, weights_of
from causalspec.designs._family import EventCoefficients, Fit
from causalspec.designs._fixest import (
    fixest_numbers,
    fixest_stats,
    fixest_vcov_for,
)
from causalspec.errors import EstimationError, Problem
from causalspec.planner import Estimator
import re

from causalspec.estimators.fixest import feols, i_dummies, sunab, sunab_aggregate, sunab_weights
from causalspec.inference._fixest import coeftable


def fit_event_study(plan, frame: pd.DataFrame) -> Fit:

    vc = plan.vcov
    s = plan.settings
    unit, time = s.unit, s.time
    y = frame[plan.outcome].to_numpy(float)
    dropped = []
    fe = frame[[unit, time]]
    if plan.estimator is Estimator.SUN_ABRAHAM:
        cohort = frame[s.first_treated].to_numpy(float)
        cohort = np.where(np.isnan(cohort) | (cohort <= 0), np.inf, cohort)  # never treated
        design = sunab(cohort, frame[time].to_numpy(), period_name=time)
        fit = feols(y, design.X, design.names, fe, weights=weights_of(plan, frame))
        V = fixest_vcov_for(fit, vc, frame.loc[fit.sample.mask] if not fit.sample.mask.all() else frame)
        periods = sunab_aggregate(fit, V, design, "period", vc.level)
        att = sunab_aggregate(fit, V, design, "att", vc.level)
        rows = estimate_rows(periods, V.df_t)
        effect = estimate_rows(att, V.df_t)[0]
        keys, W = sunab_weights(fit, design, "period")
        coefs = _event_coefficients(keys, W @ fit.coef, W @ V.matrix @ W.T, -1)
        n_coef = len(keys)  # fixest's coef() on a sunab fit: the aggregated periods (its within adj. R2 counts them)
    else:
        if s.relative_time:
            rel = frame[s.relative_time].to_numpy(float)
            treated = frame[s.treated].to_numpy(float)
        else:
            ft = frame[s.first_treated].to_numpy(float)
            treated = ((ft > 0) & ~np.isnan(ft)).astype(float)
            rel = np.where(treated == 1, frame[time].to_numpy(float) - np.nan_to_num(ft), 0.0)
        if s.window:
            lo, hi = s.window
            outside = (treated == 1) & ((rel < lo) | (rel > hi))
            if s.bin_endpoints:
                rel = np.clip(rel, lo, hi)
            elif outside.any():
                keep = ~outside
                dropped.append((f"treated periods outside the window [{lo}, {hi}]", int(outside.sum())))
                frame, y, rel, treated, fe = frame[keep], y[keep], rel[keep], treated[keep], fe[keep]
        present = np.unique(rel[treated == 1].astype(int))
        if s.reference not in present:
            raise EstimationError(Problem(
                "design.reference", f"the reference period {s.reference} does not occur among the treated units' "
                f"relative periods ({present.min()} to {present.max()}), so it cannot be the baseline.",
                fix="Set design.reference to a relative period in the data (usually -1).",
                code="reference_not_in_data"))
        # fixest names the terms after the user's columns (i(rel_time, treated) -> rel_time::-2:treated)
        X, xnames = i_dummies(rel.astype(int), treated, ref=[s.reference], var_name=s.relative_time or "rel_time",
                              treat_name=s.treated or "treat")
        fit = feols(y, X, xnames, fe, weights=weights_of(plan, frame))
        n_coef = None
        V = fixest_vcov_for(fit, vc, frame)
        table = coeftable(fit, V, vc.level)
        rows = estimate_rows(table, V.df_t)
        post = [i for i, n in enumerate(fit.names) if _rel_of(n) is not None and _rel_of(n) >= 0]
        if not post:
            raise EstimationError(Problem("design.window", "no period at or after treatment was estimated.",
                                          fix="Widen the window."))
        w = np.zeros(len(fit.names))
        w[post] = 1.0 / len(post)
        est = float(w @ fit.coef)
        se = float(np.sqrt(w @ V.matrix @ w))
        q = stats.t.ppf(0.5 + vc.level / 2, V.df_t)
        t = est / se
        effect = Estimate("average of post-treatment periods", est, se, t, float(2 * stats.t.sf(abs(t), V.df_t)),
                          est - q * se, est + q * se, float(V.df_t))
        coefs = _event_coefficients(fit.names, fit.coef, V.matrix, s.reference)
    names, matrix = tuple(V.names), V.matrix
    pretest = lead_wald(fit, V)
    numbers = fixest_numbers(fit, V, vc.cluster or (s.unit,))
    event = [{"relative_time": _rel_of(r.term), "term": r.term, "estimate": r.estimate, "std_error": r.std_error,
              "conf_low": r.conf_low, "conf_high": r.conf_high} for r in rows if _rel_of(r.term) is not None]
    treat_now = treated_now(plan, frame)
    naive = naive_event(plan, frame, treat_now, vc)
    return Fit(effect, naive, rows, names, matrix, fit.nobs, tuple(dropped), tuple(fit.notes), fixest_stats(fit, n_coef),
                     extras={"event_study": event, "reference": s.reference, "vcov_type": V.label, "pretest": pretest,
                             **numbers},
                     outcome_sd=float(np.std(y, ddof=1)), event_vcov=coefs)


def lead_wald(fit, V) -> dict:
    """The joint Wald test that every pre-treatment coefficient is zero, as ``fixest::wald(fit, keep = "::-")``:
    F = b' V^-1 b / q on q and n - (parameters, fixed effects included) degrees of freedom, with the fit's
    variance."""
    leads = [i for i, n in enumerate(fit.names) if (_rel_of(n) or 0) < 0]
    if not leads:
        return {"computed": False, "reason": "no pre-treatment coefficient was estimated"}
    b = np.asarray(fit.coef, dtype=float)[leads]
    Vl = np.asarray(V.matrix, dtype=float)[np.ix_(leads, leads)]
    q, df2 = len(leads), int(fit.nobs - fit.nparams)
    stat = float(b @ np.linalg.solve(Vl, b) / q)
    return {"statistic": stat, "df1": q, "df2": df2, "p_value": float(stats.f.sf(stat, q, df2)),
            "terms": [fit.names[i] for i in leads], "vcov_type": V.label,
            "r_equivalent": 'fixest::wald(fit, keep = "::-") (joint test of the leads)'}


def _event_coefficients(names, coef, matrix, reference: int) -> EventCoefficients:
    """The relative-period coefficients, in time order, with their covariance."""
    rel = [(_rel_of(n), i) for i, n in enumerate(names) if _rel_of(n) is not None]
    rel.sort()
    idx = [i for _, i in rel]
    matrix = np.asarray(matrix, dtype=float)
    return EventCoefficients(tuple(r for r, _ in rel), np.asarray(coef, dtype=float)[idx], matrix[np.ix_(idx, idx)],
                             reference)


def _rel_of(term: str):
    """The relative period in a fixest term name (``rel_time::-2:treat``, ``year::3``), or None."""

    m = re.search(r"::(-?\d+)", term)
    return int(m.group(1)) if m else None


def treated_now(plan, frame: pd.DataFrame) -> np.ndarray:
    s = plan.settings
    if s.first_treated:
        ft = frame[s.first_treated].to_numpy(float)
        return ((ft > 0) & ~np.isnan(ft) & (frame[s.time].to_numpy(float) >= np.nan_to_num(ft))).astype(float)
    return ((frame[s.treated].to_numpy(float) == 1) & (frame[s.relative_time].to_numpy(float) >= 0)).astype(float)


def naive_event(plan, frame, treat_now, vc):
    """Treated-now vs everything else, no fixed effects: the comparison a dashboard would make."""

    X = np.column_stack([np.ones(len(frame)), treat_now])
    fit = feols(frame[plan.outcome].to_numpy(float), X, ["(Intercept)", "treated_now"], weights=weights_of(plan, frame))
    V = fixest_vcov_for(fit, vc, frame)
    return find_row(estimate_rows(coeftable(fit, V, vc.level), V.df_t), "treated_now")

