"""Fitting 2SLS: fixest::feols IV (with fixed effects or clusters) or AER::ivreg with sandwich's variances."""

from __future__ import annotations


import numpy as np
import pandas as pd
from scipy import stats

from causalspec.designs._common import estimate_rows, find_row, treatment_terms, weights_of
from causalspec.designs._family import Fit
from causalspec.designs._fixest import (
    fe_frame,
    fixest_stats,
    fixest_vcov_for,
    naive_contrast,
    regressor_matrix,
)
from causalspec.formula import materialize, quote_name
from causalspec.estimators._iv import iv2sls, iv_fitstat
from causalspec.estimators._ivreg import _lm, ivreg, ivreg_diagnostics, ivreg_leverage_vcov, ivreg_vcov, lm_vcov
from causalspec.estimators._linear import fit_ols
from causalspec.inference import coef_table, vcov as compute_vcov
from causalspec.inference._fixest import coeftable, wald_test
from causalspec.planner import VcovPlan
from causalspec.sensitivity._plausibly_exogenous import ExclusionInputs, ExclusionVariance


def fit_iv(plan, frame: pd.DataFrame) -> Fit:
    """2SLS on the plan's rows, weighted when the spec names ``weights`` (rows with weight 0 are already dropped
    and counted): fixest::feols(weights = ~w) with fixed effects or a clustered variance, AER::ivreg(weights = w)
    with sandwich's variances otherwise; every statistic beside the estimate is weighted as those R calls weight
    it."""
    vc = plan.vcov
    s = plan.settings
    fes = s.fixed_effects
    exog_terms = [quote_name(v) for v in s.exogenous] or ["1"]
    design, EX, enames = regressor_matrix(plan, frame, exog_terms, not fes)
    rows_frame = frame.loc[design.rows]
    y = design.y
    D = rows_frame[[plan.treatment]].to_numpy(float)
    Z = rows_frame[list(s.instruments)].to_numpy(float)
    w = weights_of(plan, rows_frame)
    aer = None
    if fes:
        fe_ids = fe_frame(rows_frame, fes)
        iv = iv2sls(y, EX, enames, D, [plan.treatment], Z, list(s.instruments), fe_ids, weights=w)
        second = iv.second
        V = fixest_vcov_for(second, vc, rows_frame.loc[second.sample.mask])
        variance = _fixest_variance(vc, rows_frame, fe_ids, w)
        stats_kind = {"iid": "iid", "HC1": "hetero"}.get(vc.kind)
    else:
        iv = iv2sls(y, EX, enames, D, [plan.treatment], Z, list(s.instruments), weights=w)
        second = iv.second
        if vc.kind == "CR1":
            V = fixest_vcov_for(second, vc, rows_frame)
            variance = _fixest_variance(vc, rows_frame, weights=w)
        else:
            # AER::ivreg + sandwich: the same 2SLS coefficients; classical or HC variance on n - k
            aer = _aer_fit(plan, y, EX, enames, D, Z, w)
            second = aer.fit
            V = ivreg_leverage_vcov(aer, vc.kind) if vc.kind in ("HC2", "HC3") else ivreg_vcov(aer.fit, vc.kind)
            variance = ExclusionVariance(vc.kind, weights=w)
        stats_kind = "iid"
    iv_arrays = _exclusion_inputs(plan, y, EX, enames, D, Z, variance)
    rows = estimate_rows(coeftable(second, V, vc.level), V.df_t)
    effect = find_row(rows, f"fit_{plan.treatment}", *treatment_terms(plan.treatment))
    first = {endo: {n: float(c) for n, c in zip(fs.names, fs.coef)} for endo, fs in iv.first.items()}
    fitstat = {}
    try:
        fitstat = {k: {kk: (float(vv) if isinstance(vv, (int, float, np.floating)) else vv) for kk, vv in v.items()}
                   if isinstance(v, dict) else float(v) for k, v in iv_fitstat(iv, stats_kind).items()}
    except Exception as exc:  # diagnostics must not hide the estimate  # noqa: BLE001
        fitstat = {"error": str(exc)}
    if w is not None and isinstance(fitstat.get("sargan"), dict):
        fitstat["sargan"] = _weighted_fixest_sargan(fitstat["sargan"], fes)
    naive = (naive_contrast(plan, rows_frame, vc) if fes or vc.kind in ("iid", "HC1", "CR1")
             else _lm_naive(plan, rows_frame, vc))
    warnings = ()
    f1 = fitstat.get(f"ivf1::{plan.treatment}")
    if isinstance(f1, dict) and f1.get("stat") is not None and f1["stat"] < 10:
        warnings = (f"weak instruments: the first-stage F statistic is {f1['stat']:.3g} (< 10); 2SLS is biased "
                    "towards OLS and its intervals are unreliable.",)
    extras = {"first_stage": first, "fitstat": fitstat}
    fit_stats = fixest_stats(second) if fes else ()
    if fes:
        extras["first_stage_table"] = _fixest_first_stages(iv, vc, rows_frame, plan.weights)
    else:
        try:
            extras.update(_aer_results(aer or _aer_fit(plan, y, EX, enames, D, Z, w), second, V, vc, rows_frame,
                                       plan.weights))
            fit_stats = tuple((k, float(v)) for k, v in extras["second_stage"].items() if k != "wald") + tuple(
                (f"wald_{k}", float(v)) for k, v in extras["second_stage"]["wald"].items() if k != "r_call")
        except Exception as exc:  # fit statistics must not hide the estimate  # noqa: BLE001
            extras["second_stage"] = {"error": str(exc)}
    return Fit(effect, naive, rows, tuple(V.names), V.matrix, second.nobs, (), tuple(second.notes), fit_stats,
               extras=extras, warnings=warnings, outcome_sd=float(np.std(y, ddof=1)), iv_arrays=iv_arrays)


def _weighted_fixest_sargan(sargan: dict, fes) -> dict:
    """fixest's Sargan with weights is n (1 - sum(w r^2) / sum((e - mean(e))^2)): a weighted residual sum of squares
    over an unweighted total (fixest 0.12, R/estimation.R, ``cpp_ssr_null(resid_2nd)`` without the weights), which
    is not a chi-squared statistic and can be negative.  fixest's numbers are kept under ``fixest_stat`` /
    ``fixest_p``; ``stat`` is None, so that no report prints them as a test."""
    where = ("AER's weighted Sargan test is extras['diagnostics']['Sargan']" if not fes
             else "no weighted Sargan test is computed with fixed effects")
    return {"stat": None, "p": None, "df": sargan.get("df"), "fixest_stat": sargan.get("stat"),
            "fixest_p": sargan.get("p"),
            "note": "not a test with weights: fixest::fitstat's Sargan divides the weighted residual sum of squares "
                    f"by an unweighted total sum of squares; {where}"}


def _fixest_variance(vc: VcovPlan, rows_frame: pd.DataFrame, fe_ids=None, weights=None) -> ExclusionVariance:
    """fixest_vcov_for's variance as plain data: iid, hetero, or clustered by the plan's columns (aligned with y)."""
    if vc.kind in ("iid", "HC1"):
        return ExclusionVariance("iid" if vc.kind == "iid" else "hetero", True, fe_ids, weights=weights)
    return ExclusionVariance("cluster", True, fe_ids, fe_frame(rows_frame, vc.cluster), weights=weights)


def _exclusion_inputs(plan, y, EX, enames, D, Z, variance) -> ExclusionInputs:
    """Arrays for the exclusion-restriction sensitivity (Conley, Hansen & Rossi): no closures, so Results pickle;
    the weights travel in ``variance`` so that each direct effect is refitted with them."""
    inst = tuple(plan.settings.instruments)
    return ExclusionInputs(y, np.column_stack([EX, D]), (*enames, plan.treatment), np.column_stack([EX, Z]),
                           (*enames, *inst), Z[:, 0] if len(inst) == 1 else Z, ", ".join(inst), plan.treatment,
                           variance)


def _table(fit, V, df, r_call: str) -> dict:
    """A first-stage coefficient table as JSON types (estimate, SE, t, p on ``df``)."""
    se = V.se
    t = fit.coef / se
    p = 2 * stats.t.sf(np.abs(t), df)
    return {"terms": list(fit.names), "estimate": fit.coef.tolist(), "std_error": se.tolist(),
            "statistic": t.tolist(), "p_value": p.tolist(), "df": int(df), "r_call": r_call}


def _fixest_first_stages(iv, vc: VcovPlan, rows_frame: pd.DataFrame, weights: str | None) -> dict:
    """``summary(fixest::feols(y ~ exog | fe | endog ~ inst), stage = 1)``: each first stage with the same fixed
    effects, weights and variance as the second stage (t on fixest's df of that variance)."""
    wt = f", weights = ~{weights}" if weights else ""
    out = {}
    for endo, f1 in iv.first.items():
        V1 = fixest_vcov_for(f1, vc, rows_frame.loc[f1.sample.mask])
        out[endo] = _table(f1, V1, V1.df_t, f"summary(fixest::feols(... | {endo} ~ ...{wt}), stage = 1, "
                                           f"vcov = {_fixest_vcov_arg(vc)})")
    return out


def _fixest_vcov_arg(vc: VcovPlan) -> str:
    return {"iid": '"iid"', "HC1": '"hetero"'}.get(vc.kind, f"~{' + '.join(vc.cluster)}")


def _lm_naive(plan, frame: pd.DataFrame, vc: VcovPlan):
    """lm(y ~ x, weights = w) with sandwich's variance of the plan's kind (HC0, HC2, HC3 have no fixest
    equivalent)."""
    design = materialize(f"{quote_name(plan.outcome)} ~ {quote_name(plan.treatment)}", frame)
    fit = fit_ols(design.y, design.X, design.terms, weights=weights_of(plan, frame.loc[design.rows]))
    V = compute_vcov(fit, vc.kind)
    return find_row(estimate_rows(coef_table(fit.coef, V, vc.level), V.df_for()), *treatment_terms(plan.treatment))


def _aer_fit(plan, y, EX, enames, D, Z, weights=None):
    """``AER::ivreg(y ~ exog + endog | exog + instruments, weights = w)`` on the design's rows."""
    inst = list(plan.settings.instruments)
    return ivreg(y, np.column_stack([EX, D]), [*enames, plan.treatment], np.column_stack([EX, Z]), [*enames, *inst],
                 weights=weights)


_SANDWICH = {"iid": "vcov", **{k: f'sandwich::vcovHC(x, type = "{k}")' for k in ("HC0", "HC1", "HC2", "HC3")}}


def _aer_results(aer, second, V, vc: VcovPlan, rows_frame: pd.DataFrame, weights: str | None = None) -> dict:
    """What ``summary(AER::ivreg(..., weights = w), vcov. = f, diagnostics = TRUE)`` reports beside the
    coefficients.

    ``second_stage``: R2, adjusted R2, sigma, residual df, SSR (weighted: sum(w e^2)), RMSE (sqrt(SSR / n)) and the
    overall Wald test of every non-intercept coefficient with the design's variance (F on q and n - k);
    ``first_stage_table``: each first stage ``lm(endog ~ exog + instruments, weights = w)`` as
    ``lmtest::coeftest`` reports it with the same variance (CR1: ``sandwich::vcovCL(cluster = ..., type =
    "HC1")``, residual df); ``diagnostics``: weak instruments and Wu-Hausman with the design's variance, Sargan
    (not robust), for iid, HC0-HC3 and CR1 with one cluster column (AER's ivdiag applies ``vcov.`` to its
    auxiliary ``lm(y ~ 0 + x, weights = w)``: well defined when the cluster is given as the id vector of the
    estimation rows; a formula ``cluster = ~g`` cannot be evaluated there); ``control_function``.
    """
    wt = f", weights = {weights}" if weights else ""
    one_way = vc.kind == "CR1" and len(vc.cluster) == 1
    cluster = fe_frame(rows_frame, vc.cluster) if vc.kind == "CR1" else None
    f = _SANDWICH.get(vc.kind)
    if f is None:
        f = f'sandwich::vcovCL(x, cluster = ~ {" + ".join(vc.cluster)}, type = "HC1")'
    fn = "NULL" if vc.kind == "iid" else f"function(x) {f}"
    n, k = aer.fit.nobs, len(aer.names)
    ssr = float(aer.fit.ssr)
    test = [i for i, t in enumerate(V.names) if t != "(Intercept)"]
    wt_ = wald_test(np.asarray(second.coef)[test], np.asarray(V.matrix)[np.ix_(test, test)], n - k)
    out = {"second_stage": {
        "r2": float(aer.r2), "adj_r2": float(aer.adj_r2), "sigma": float(aer.sigma), "df_residual": n - k,
        "ssr": ssr, "rmse": float(np.sqrt(ssr / n)),
        "wald": {"statistic": wt_["stat"], "df1": wt_["df1"], "df2": wt_["df2"], "p": wt_["p"],
                 "r_call": f"summary(AER::ivreg(...{wt}), vcov. = {fn})$waldtest"}}}
    tables = {}
    rhs = " + ".join(t for t in aer.Z_names if t != "(Intercept)") + ("" if "(Intercept)" in aer.Z_names else " - 1")
    for e in aer.endog:
        aux = _lm(aer.X[:, aer.names.index(e)], aer.Z, aer.Z_names, aer.fit.weights, aer.fit.sample)
        v = lm_vcov(aux, vc.kind, cluster)
        tables[e] = _table(aux, v, n - len(aux.names), f"x <- lm({e} ~ {rhs}{wt}); lmtest::coeftest(x, vcov. = {f})")
    out["first_stage_table"] = tables
    if vc.kind in _SANDWICH or one_way:
        diag = {}
        for name, d in ivreg_diagnostics(aer, vc.kind, cluster).items():
            diag[name] = {"statistic": float(d["stat"]), "df1": d["df1"], "df2": d["df2"], "p": float(d["p"]),
                          "robust": name != "Sargan" and vc.kind != "iid"}
        dfn = fn if not one_way else (f'function(x) sandwich::vcovCL(x, cluster = d${vc.cluster[0]}, '
                                      'type = "HC1")')
        out["diagnostics"] = {**diag, "r_call": f"summary(AER::ivreg(...{wt}), vcov. = {dfn}, "
                                                "diagnostics = TRUE)$diagnostics"}
        out["control_function"] = _control_function(aer, vc.kind, f, cluster)
    else:
        why = ("AER's diagnostics with sandwich::vcovCL and two or more cluster columns use a "
               "per-dimension small-sample factor, which causalspec's multi-way clustered variance (fixest's "
               "G_min / (G_min - 1)) does not reproduce; cluster by one column for them")
        out["diagnostics"] = {"computed": False, "reason": why}
    return out


def _control_function(aer, kind: str, f: str, cluster=None) -> dict:
    """The control-function form of 2SLS, as textbooks present it: each first-stage residual added to the
    structural equation, fitted by (weighted) OLS.  The coefficients of the original regressors are the 2SLS
    ones; the (joint) test of the residuals, with the design's variance, is the regression form of the Wu-Hausman
    test (AER's, for iid, HC0-HC3 and one-way CR1).  OLS standard errors of this equation ignore the estimated
    first stage, so only the test and the point estimates are reported; the effect's SE is the 2SLS one."""
    w = aer.fit.weights
    resid, rnames = [], []
    for e in aer.endog:
        aux = _lm(aer.X[:, aer.names.index(e)], aer.Z, aer.Z_names, w, aer.fit.sample)
        resid.append(aux.resid)
        rnames.append(f"first_stage_residual_{e}")
    X = np.column_stack([aer.X, *resid])
    names = [*aer.names, *rnames]
    cf = _lm(aer.fit.y, X, names, w, aer.fit.sample)
    V = lm_vcov(cf, kind, cluster)
    idx = [list(cf.names).index(r) for r in rnames]
    wt = wald_test(np.asarray(cf.coef)[idx], np.asarray(V.matrix)[np.ix_(idx, idx)], cf.nobs - len(cf.names))
    return {"coefficients": dict(zip(cf.names, (float(c) for c in cf.coef))), "residual_terms": rnames,
            "test": {"statistic": wt["stat"], "df1": wt["df1"], "df2": wt["df2"], "p": wt["p"]},
            "r_call": "lm(y ~ exog + endog + residuals(lm(endog ~ exog + instruments))"
                      f"{', weights = w' if w is not None else ''}); lmtest::waldtest(., vcov = {f}) on the residual "
                      "terms"}
