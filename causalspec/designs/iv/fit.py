"""Fitting 2SLS: fixest::feols IV (with fixed effects or clusters) or AER::ivreg with sandwich's variances."""

from __future__ import annotations


import numpy as np
import pandas as pd
from scipy import stats

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
from causalspec.estimators._iv import (
    _lm,
    iv2sls,
    iv_fitstat,
    ivreg,
    ivreg_diagnostics,
    ivreg_leverage_vcov,
    ivreg_vcov,
    lm_vcov,
)
from causalspec.estimators._linear import fit_ols
from causalspec.inference import coef_table, vcov as compute_vcov
from causalspec.inference._fixest import coeftable, fixest_vcov, wald_test
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
        aer = None
        if vc.kind == "CR1":
            V = fixest_vcov_for(second, vc, rows_frame)
            iv_arrays = _exclusion_inputs(plan, rows_frame, y, EX, enames, D, Z, _fixest_variance(vc, rows_frame))
        else:
            # AER::ivreg + sandwich: the same 2SLS coefficients; classical or HC variance on n - k
            aer = _aer_fit(plan, y, EX, enames, D, Z)
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
    extras = {"first_stage": first, "fitstat": fitstat}
    fit_stats = fixest_stats(second) if fes else ()
    if not fes:
        try:
            extras.update(_aer_results(aer or _aer_fit(plan, y, EX, enames, D, Z), second, V, vc, rows_frame))
            fit_stats = tuple((k, float(v)) for k, v in extras["second_stage"].items() if k != "wald") + tuple(
                (f"wald_{k}", float(v)) for k, v in extras["second_stage"]["wald"].items() if k != "r_call")
        except Exception as exc:  # fit statistics must not hide the estimate  # noqa: BLE001
            extras["second_stage"] = {"error": str(exc)}
    return Fit(effect, naive, rows, tuple(V.names), V.matrix, second.nobs, (), tuple(second.notes),
                     fit_stats, extras=extras,
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


def _aer_fit(plan, y, EX, enames, D, Z):
    """``AER::ivreg(y ~ exog + endog | exog + instruments)`` on the design's rows."""
    inst = list(plan.settings.instruments)
    return ivreg(y, np.column_stack([EX, D]), [*enames, plan.treatment], np.column_stack([EX, Z]), [*enames, *inst])


_SANDWICH = {"iid": "vcov", **{k: f'sandwich::vcovHC(x, type = "{k}")' for k in ("HC0", "HC1", "HC2", "HC3")}}


def _aer_results(aer, second, V, vc: VcovPlan, rows_frame: pd.DataFrame) -> dict:
    """What ``summary(AER::ivreg(...), vcov. = f, diagnostics = TRUE)`` reports beside the coefficients.

    ``second_stage``: R2, adjusted R2, sigma, residual df, SSR, RMSE and the overall Wald test of every
    non-intercept coefficient with the design's variance (F on q and n - k); ``first_stage_table``: each
    first stage ``lm(endog ~ exog + instruments)`` as ``lmtest::coeftest`` reports it with the same variance
    (CR1: ``sandwich::vcovCL(cluster = ..., type = "HC1")``, residual df); ``diagnostics``: weak instruments and
    Wu-Hausman with the design's variance, Sargan (not robust), for iid and HC0-HC3.
    """
    f = _SANDWICH.get(vc.kind)
    if f is None:
        cl = " + ".join(vc.cluster)
        f = f'sandwich::vcovCL(x, cluster = ~ {cl}, type = "HC1")'
    fn = "NULL" if vc.kind == "iid" else f"function(x) {f}"
    n, k = aer.fit.nobs, len(aer.names)
    ssr = float(aer.fit.ssr)
    test = [i for i, t in enumerate(V.names) if t != "(Intercept)"]
    wt = wald_test(np.asarray(second.coef)[test], np.asarray(V.matrix)[np.ix_(test, test)], n - k)
    out = {"second_stage": {
        "r2": float(aer.r2), "adj_r2": float(aer.adj_r2), "sigma": float(aer.sigma), "df_residual": n - k,
        "ssr": ssr, "rmse": float(np.sqrt(ssr / n)),
        "wald": {"statistic": wt["stat"], "df1": wt["df1"], "df2": wt["df2"], "p": wt["p"],
                 "r_call": f"summary(AER::ivreg(...), vcov. = {fn})$waldtest"}}}
    tables = {}
    rhs = " + ".join(t for t in aer.Z_names if t != "(Intercept)") + ("" if "(Intercept)" in aer.Z_names else " - 1")
    for e in aer.endog:
        aux = _lm(aer.X[:, aer.names.index(e)], aer.Z, aer.Z_names, None, aer.fit.sample)
        if vc.kind == "CR1":
            v = fixest_vcov(aux, "cluster", rows_frame[list(vc.cluster)].reset_index(drop=True))
        else:
            v = lm_vcov(aux, vc.kind)
        se = v.se
        t = aux.coef / se
        p = 2 * stats.t.sf(np.abs(t), n - len(aux.names))
        tables[e] = {"terms": list(aux.names), "estimate": aux.coef.tolist(), "std_error": se.tolist(),
                     "statistic": t.tolist(), "p_value": p.tolist(), "df": n - len(aux.names),
                     "r_call": f"x <- lm({e} ~ {rhs}); lmtest::coeftest(x, vcov. = {f})"}
    out["first_stage_table"] = tables
    if vc.kind in _SANDWICH:
        diag = {}
        for name, d in ivreg_diagnostics(aer, vc.kind).items():
            diag[name] = {"statistic": float(d["stat"]), "df1": d["df1"], "df2": d["df2"], "p": float(d["p"]),
                          "robust": name != "Sargan" and vc.kind != "iid"}
        out["diagnostics"] = {**diag, "r_call": f"summary(AER::ivreg(...), vcov. = {fn}, diagnostics = TRUE)$diagnostics"}
    if vc.kind in _SANDWICH:
        out["control_function"] = _control_function(aer, vc.kind, f)
    return out


def _control_function(aer, kind: str, f: str) -> dict:
    """The control-function form of 2SLS, as textbooks present it: each first-stage residual added to the
    structural equation, fitted by OLS.  The coefficients of the original regressors are the 2SLS ones; the
    (joint) test of the residuals, with the design's variance, is the regression form of the Wu-Hausman test
    (AER's, for iid and HC0-HC3).  OLS standard errors of this equation ignore the estimated first stage, so
    only the test and the point estimates are reported; the effect's SE is the 2SLS one."""
    resid, rnames = [], []
    for e in aer.endog:
        aux = _lm(aer.X[:, aer.names.index(e)], aer.Z, aer.Z_names, None, aer.fit.sample)
        resid.append(aux.resid)
        rnames.append(f"first_stage_residual_{e}")
    X = np.column_stack([aer.X, *resid])
    names = [*aer.names, *rnames]
    cf = _lm(aer.fit.y, X, names, None, aer.fit.sample)
    V = lm_vcov(cf, kind)
    idx = [list(cf.names).index(r) for r in rnames]
    wt = wald_test(np.asarray(cf.coef)[idx], np.asarray(V.matrix)[np.ix_(idx, idx)], cf.nobs - len(cf.names))
    return {"coefficients": dict(zip(cf.names, (float(c) for c in cf.coef))), "residual_terms": rnames,
            "test": {"statistic": wt["stat"], "df1": wt["df1"], "df2": wt["df2"], "p": wt["p"]},
            "r_call": f"lm(y ~ exog + endog + residuals(lm(endog ~ exog + instruments))); "
                      f"lmtest::waldtest(., vcov = {f}) on the residual terms"}
