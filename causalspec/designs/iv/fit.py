"""Fitting 2SLS: fixest::feols IV (with fixed effects or clusters) or AER::ivreg with sandwich's variances."""

from __future__ import annotations


import numpy as np
import pandas as pd

from causalspec.designs._common import estimate_rows, find_row, treatment_terms
from causalspec.designs._family import Fit
from causalspec.designs._fixest import (
    fe_frame,
    fixest_stats,
    fixest_vcov_for,
    naive_contrast,
    regressor_matrix,
)
from causalspec.formula import materialize, quote_name
from causalspec.estimators._iv import iv2sls, iv_fitstat, ivreg, ivreg_leverage_vcov, ivreg_vcov
from causalspec.estimators._linear import fit_ols
from causalspec.inference import coef_table, vcov as compute_vcov
from causalspec.inference._fixest import coeftable
from causalspec.planner import VcovPlan
from causalspec.sensitivity._plausibly_exogenous import ExclusionInputs, ExclusionVariance


def fit_iv(plan, frame: pd.DataFrame) -> Fit:

    vc = plan.vcov
    s = plan.settings
    fes = s.fixed_effects
    exog_terms = [quote_name(v) for v in s.exogenous]
    if exog_terms:
        design, EX, enames = regressor_matrix(plan, frame, exog_terms, not fes)
    else:
        design, EX, enames = regressor_matrix(plan, frame, ["1"], not fes)
    rows_frame = frame.loc[design.rows]
    y = design.y
    D = rows_frame[[plan.treatment]].to_numpy(float)
    Z = rows_frame[list(s.instruments)].to_numpy(float)
    first = {}
    iv_arrays = None
    if fes:
        fe_ids = fe_frame(rows_frame, fes)
        iv = iv2sls(y, EX, enames, D, [plan.treatment], Z, list(s.instruments), fe_ids)
        V = fixest_vcov_for(iv.second, vc, rows_frame.loc[iv.second.sample.mask])
        second = iv.second
        iv_arrays = _exclusion_inputs(plan, rows_frame, y, EX, enames, D, Z, _fixest_variance(vc, rows_frame, fe_ids))
        stats_kind = {"iid": "iid", "HC1": "hetero"}.get(vc.kind)
    else:
        iv = iv2sls(y, EX, enames, D, [plan.treatment], Z, list(s.instruments))
        second = iv.second
        if vc.kind == "CR1":
            V = fixest_vcov_for(second, vc, rows_frame)
            iv_arrays = _exclusion_inputs(plan, rows_frame, y, EX, enames, D, Z, _fixest_variance(vc, rows_frame))
        else:
            # AER::ivreg + sandwich: the same 2SLS coefficients; classical or HC variance on n - k
            X = np.column_stack([EX, D])
            Zm = np.column_stack([EX, Z])
            names = [*enames, plan.treatment]
            aer = ivreg(y, X, names, Zm, [*enames, *s.instruments])
            second = aer.fit
            V = ivreg_leverage_vcov(aer, vc.kind) if vc.kind in ("HC2", "HC3") else ivreg_vcov(aer.fit, vc.kind)
            iv_arrays = _exclusion_inputs(plan, rows_frame, y, EX, enames, D, Z, ExclusionVariance(vc.kind))
        stats_kind = "iid"
    rows = estimate_rows(coeftable(second, V, vc.level), V.df_t)
    effect = find_row(rows, f"fit_{plan.treatment}", *treatment_terms(plan.treatment))
    for endo, fs in iv.first.items():
        first[endo] = {n: float(c) for n, c in zip(fs.names, fs.coef)}
    fitstat = {}
    try:
        fitstat = {k: {kk: (float(vv) if isinstance(vv, (int, float, np.floating)) else vv) for kk, vv in v.items()}
                   if isinstance(v, dict) else float(v) for k, v in iv_fitstat(iv, stats_kind).items()}
    except Exception as exc:  # diagnostics must not hide the estimate  # noqa: BLE001
        fitstat = {"error": str(exc)}
    naive = (naive_contrast(plan, rows_frame, vc) if fes or vc.kind in ("iid", "HC1", "CR1")
             else _lm_naive(plan, rows_frame, vc))
    warnings = ()
    f1 = fitstat.get(f"ivf1::{plan.treatment}")
    if isinstance(f1, dict) and f1.get("stat") is not None and f1["stat"] < 10:
        warnings = (f"weak instruments: the first-stage F statistic is {f1['stat']:.3g} (< 10); 2SLS is biased "
                    "towards OLS and its intervals are unreliable.",)
    return Fit(effect, naive, rows, tuple(V.names), V.matrix, second.nobs, (), tuple(second.notes),
                     fixest_stats(second) if fes else (), extras={"first_stage": first, "fitstat": fitstat},
                     warnings=warnings, outcome_sd=float(np.std(y, ddof=1)),
               iv_arrays=iv_arrays)


def _fixest_variance(vc: VcovPlan, rows_frame: pd.DataFrame, fe_ids=None) -> ExclusionVariance:
    """fixest_vcov_for's variance as plain data: iid, hetero, or clustered by the plan's columns (aligned with y)."""
    if vc.kind in ("iid", "HC1"):
        return ExclusionVariance("iid" if vc.kind == "iid" else "hetero", True, fe_ids)
    return ExclusionVariance("cluster", True, fe_ids, fe_frame(rows_frame, vc.cluster))


def _exclusion_inputs(plan, rows_frame, y, EX, enames, D, Z, variance) -> ExclusionInputs:
    """Arrays for the exclusion-restriction sensitivity (Conley, Hansen & Rossi): no closures, so Results pickle."""
    inst = tuple(plan.settings.instruments)
    return ExclusionInputs(y, np.column_stack([EX, D]), (*enames, plan.treatment), np.column_stack([EX, Z]),
                           (*enames, *inst), Z[:, 0] if len(inst) == 1 else Z, ", ".join(inst), plan.treatment,
                           variance)


def _lm_naive(plan, frame: pd.DataFrame, vc: VcovPlan):
    """lm(y ~ x) with sandwich's variance of the plan's kind (HC0, HC2, HC3 have no fixest equivalent)."""
    design = materialize(f"{quote_name(plan.outcome)} ~ {quote_name(plan.treatment)}", frame)
    fit = fit_ols(design.y, design.X, design.terms)
    V = compute_vcov(fit, vc.kind)
    return find_row(estimate_rows(coef_table(fit.coef, V, vc.level), V.df_for()), *treatment_terms(plan.treatment))
