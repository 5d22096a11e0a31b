"""Two-stage least squares with and without fixed effects, and the IV diagnostics R reports.

Two front ends share one computation of 2SLS:

* :func:`iv2sls` follows ``fixest::feols(y ~ exog | fe | endo ~ inst)``: first
  stages on (instruments, exogenous), a second stage on the fitted endogenous
  variables named ``fit_<endo>``, structural residuals y - X b with the actual
  regressors, fixest's variance estimators, and ``fitstat`` statistics (ivf,
  ivf2, ivwald, ivwald2, Wu-Hausman, Sargan, Cragg-Donald).
* :func:`ivreg` follows ``AER::ivreg(y ~ X | Z)`` and ``summary(fit, vcov. =,
  diagnostics = TRUE)`` (weak instruments, Wu-Hausman, Sargan); it lives in
  :mod:`causalspec.estimators._ivreg` and is re-exported here.

Both take observation weights (``fixest::feols(weights = ~w)``, ``AER::ivreg(weights = w)``).

Matches fixest::feols IV + fixest::fitstat, and AER::ivreg; Wooldridge (2010), ch. 5;
Wu (1973), Hausman (1978), Sargan (1958), Cragg & Donald (1993).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np
from scipy import linalg, stats

from causalspec.errors import DataError, EstimationError
from causalspec.inference._fixest import fixest_vcov, wald_test
from causalspec.estimators.fixest._demean import demean
from causalspec.estimators.fixest._feols import FixestFit, assemble_fit, fit_on_sample, ols_fit, prepare_sample, wssq
from causalspec.estimators._ivreg import (  # the AER::ivreg front end, re-exported
    IVRegFit,
    _INTERCEPT,
    _cols,
    _names,
    ivreg,
    ivreg_diagnostics,
    ivreg_leverage_vcov,
    ivreg_vcov,
    lm_vcov,
)

__all__ = ["IVFit", "iv2sls", "iv_fitstat", "IVRegFit", "ivreg", "ivreg_vcov", "ivreg_leverage_vcov", "lm_vcov",
           "ivreg_diagnostics"]


@dataclass(frozen=True)
class IVFit:
    """A fixest-style 2SLS fit: the second stage, the first stages and the pieces of the diagnostics."""

    second: FixestFit
    first: Mapping[str, FixestFit]
    endog_names: tuple[str, ...]
    inst_names: tuple[str, ...]
    ssr_no_inst: Mapping[str, float]
    ssr_no_endo: float
    iv_resid_ssr: float
    wh: dict
    sargan: dict | None
    cd: float


def _intercept_first(names: tuple[str, ...]) -> list[int]:
    """Column order with the intercept first, as fixest puts it in IV stages."""
    order = list(range(len(names)))
    if _INTERCEPT in names:
        i = names.index(_INTERCEPT)
        order.remove(i)
        order.insert(0, i)
    return order


def _cancor_min(A: np.ndarray, B: np.ndarray) -> float:
    """Smallest canonical correlation of two column sets (R's cancor, centred)."""
    qa = np.linalg.qr(A - A.mean(axis=0))[0]
    qb = np.linalg.qr(B - B.mean(axis=0))[0]
    return float(np.linalg.svd(qa.T @ qb, compute_uv=False).min())


def iv2sls(y, exog, exog_names, endog, endog_names, instruments, instrument_names, fe=None, *,
           weights=None, fixef_rm: str = "none", tol: float = 1e-6, maxiter: int = 10_000,
           collin_tol: float = 1e-10) -> IVFit:
    """2SLS as ``fixest::feols(y ~ exog | fe | endog ~ instruments)``.

    Matches fixest::feols (IV, with or without fixed effects); Wooldridge (2010), ch. 5.

    Parameters
    ----------
    y : array_like (n,)
    exog : array_like (n, k) or None
        Exogenous regressors; include ``"(Intercept)"`` when there is no FE.
    endog : array_like (n, p)
        Endogenous regressors; their second-stage terms are named ``fit_<name>``.
    instruments : array_like (n, m)
        Excluded instruments (m >= p).
    fe : DataFrame or mapping, optional
        Fixed-effect id columns, absorbed in both stages.

    Returns
    -------
    IVFit
    """
    y = np.asarray(y, dtype=float).ravel()
    n = y.shape[0]
    X = _cols(exog, n, "exog")
    E = _cols(endog, n, "endog")
    Z = _cols(instruments, n, "instruments")
    xn = _names(exog_names, X.shape[1], "exog_names")
    en = _names(endog_names, E.shape[1], "endog_names")
    zn = _names(instrument_names, Z.shape[1], "instrument_names")
    if E.shape[1] == 0 or Z.shape[1] < E.shape[1]:
        raise DataError(f"{Z.shape[1]} instrument(s) for {E.shape[1]} endogenous regressor(s).",
                        loc="instruments", fix="Give at least as many excluded instruments as endogenous regressors.")
    sample = prepare_sample([y[:, None], X, E, Z], fe, weights, fixef_rm)
    m = sample.mask
    y, X, E, Z = y[m], X[m], E[m], Z[m]
    w = sample.weights
    if sample.fe is not None:
        allc, _ = demean(np.column_stack([y, E, Z, X]), sample.fe, w, tol=tol, maxiter=maxiter)
        p, q = E.shape[1], Z.shape[1]
        y_dm, E_dm, Z_dm, X_dm = allc[:, 0], allc[:, 1:1 + p], allc[:, 1 + p:1 + p + q], allc[:, 1 + p + q:]
    else:
        y_dm, E_dm, Z_dm, X_dm = y, E, Z, X

    # First stages: regressors (Intercept), instruments, other exogenous (fixest's order).
    ZX_names = zn + xn
    order = _intercept_first(ZX_names)
    ZX, ZX_dm = np.column_stack([Z, X])[:, order], np.column_stack([Z_dm, X_dm])[:, order]
    ZX_names = tuple(ZX_names[i] for i in order)
    first, fitted, ssr_no_inst = {}, [], {}
    for j, name in enumerate(en):
        f1 = fit_on_sample(E[:, j], ZX, ZX_names, sample, collin_tol=collin_tol, demeaned=(E_dm[:, j], ZX_dm))
        first[name] = f1
        keep = [ZX_names.index(t) for t in f1.names]
        fitted.append(ZX_dm[:, keep] @ f1.coef)
        if X.shape[1]:
            ssr_no_inst[name] = wssq(ols_fit(E_dm[:, j], X_dm, w, collin_tol)[3], w)
        else:
            ssr_no_inst[name] = wssq(E_dm[:, j], w)
    U_dm = np.column_stack(fitted)

    # Second stage on (Intercept), fit_<endo>, exogenous; residuals use the actual regressors.
    fit_names = tuple(f"fit_{e}" for e in en)
    UX_names = fit_names + xn
    order2 = _intercept_first(UX_names)
    UX_names = tuple(UX_names[i] for i in order2)
    UX_dm = np.column_stack([U_dm, X_dm])[:, order2]
    EX_dm = np.column_stack([E_dm, X_dm])[:, order2]
    coef, keep, R, iv_resid = ols_fit(y_dm, UX_dm, w, collin_tol)
    if not keep.any():
        raise EstimationError("every second-stage regressor is collinear.", fix="Check the instruments and FEs.")
    resid = y_dm - EX_dm[:, keep] @ coef
    second = assemble_fit(y, y_dm, UX_dm[:, keep], UX_names, keep, coef, R, resid, sample)
    ssr_no_endo = wssq(ols_fit(y_dm, X_dm, w, collin_tol)[3], w) if X.shape[1] else wssq(y_dm, w)

    # Wu-Hausman: y on (endog, fit_endog, exog); F test of the fit_ coefficients with iid errors.
    RHS = np.column_stack([E_dm, UX_dm])
    c_wh, k_wh, R_wh, r_wh = ols_fit(y_dm, RHS, w, collin_tol)
    p_endo = E.shape[1]
    df2 = second.nobs - (second.nparams + p_endo)
    if not k_wh.all():
        # fixest reports NA here; say why instead of a bare NaN.
        wh = {"stat": np.nan, "p": np.nan, "df1": p_endo, "df2": df2,
              "note": "not available: a regressor of the Wu-Hausman regression is collinear"}
    else:
        qui = [p_endo + UX_names.index(fn) for fn in fit_names]
        inv = linalg.cho_solve((R_wh, False), np.eye(RHS.shape[1]))[np.ix_(qui, qui)]
        wh = wald_test(c_wh[qui], inv * wssq(r_wh, w) / df2, df2)
        wh = {"stat": wh["stat"], "p": wh["p"], "df1": p_endo, "df2": df2}

    # Sargan: n * R2 of the structural residuals on all instruments (fixest centres the TSS unweighted).
    sargan = None
    if Z.shape[1] > p_endo:
        r = ols_fit(resid, ZX_dm, w, collin_tol)[3]
        stat = second.nobs * (1 - wssq(r, w) / float(np.sum((resid - resid.mean()) ** 2)))
        dfs = Z.shape[1] - p_endo
        sargan = {"stat": stat, "p": float(stats.chi2.sf(stat, dfs)), "df": dfs}

    # Cragg-Donald from the smallest canonical correlation of the projected endog and instruments
    # (fixest projects without weights).
    if w is not None and sample.fe is not None:
        allu, _ = demean(np.column_stack([E, Z, X]), sample.fe, None, tol=tol, maxiter=maxiter)
        Eu, Zu, Xu = allu[:, :p_endo], allu[:, p_endo:p_endo + Z.shape[1]], allu[:, p_endo + Z.shape[1]:]
    else:
        Eu, Zu, Xu = E_dm, Z_dm, X_dm
    if Xu.shape[1]:
        Eu = Eu - Xu @ np.linalg.lstsq(Xu, Eu, rcond=None)[0]
        Zu = Zu - Xu @ np.linalg.lstsq(Xu, Zu, rcond=None)[0]
    cc = _cancor_min(Eu, Zu)
    n_inst = Z.shape[1]
    cd = ((second.nobs - p_endo - n_inst - 1) / n_inst) / ((1 - cc ** 2) / cc ** 2)

    return IVFit(second, first, en, zn, ssr_no_inst, ssr_no_endo, wssq(iv_resid, w), wh, sargan, cd)


def iv_fitstat(iv: IVFit, kind: str | None = None, cluster=None, *, stage1_kind: str | None = None,
               stage1_cluster=None) -> dict[str, dict]:
    """IV statistics as ``fixest::fitstat(fit, ~ ivf + ivf2 + ivwald + ivwald2 + wh + sargan + cd)``.

    Matches fixest::fitstat (R/fitstats.R); Stock & Yogo (2005) for the first-stage F.

    Parameters
    ----------
    kind, cluster
        The vcov of the Wald forms and of the second-stage residual df (fixest's
        ``summary(fit, vcov = ...)``); ``None`` is the fit's default.
    stage1_kind, stage1_cluster
        The vcov of the first stage as estimated (fixest takes the stage-1 residual
        df from it): ``None`` is its default, i.e. what ``feols`` used without a
        ``vcov``/``cluster`` argument.
    """
    s2 = iv.second
    out: dict[str, dict] = {}
    for name, f1 in iv.first.items():
        inst = [t for t in f1.names if t in iv.inst_names]
        df1 = len(inst)
        df2 = f1.nobs - fixest_vcov(f1, stage1_kind, stage1_cluster).df_k
        stat = ((iv.ssr_no_inst[name] - f1.ssr) / df1) / (f1.ssr / df2)
        out[f"ivf1::{name}"] = {"stat": stat, "p": float(stats.f.sf(stat, df1, df2)), "df1": df1, "df2": df2}
        v1 = fixest_vcov(f1, kind, cluster)
        idx = [f1.names.index(t) for t in inst]
        wt = wald_test(f1.coef[idx], v1.matrix[np.ix_(idx, idx)], df2)
        out[f"ivwald1::{name}"] = {**wt, "vcov": v1.label}
    v2 = fixest_vcov(s2, kind, cluster)
    fit_idx = [i for i, t in enumerate(s2.names) if t.startswith("fit_") and t[4:] in iv.endog_names]
    df1 = len(fit_idx)
    df2 = s2.nobs - v2.df_k
    stat = ((iv.ssr_no_endo - iv.iv_resid_ssr) / df1) / (iv.iv_resid_ssr / df2)
    out["ivf2"] = {"stat": stat, "p": float(stats.f.sf(stat, df1, df2)), "df1": df1, "df2": df2}
    wt = wald_test(s2.coef[fit_idx], v2.matrix[np.ix_(fit_idx, fit_idx)], df2)
    out["ivwald2"] = {**wt, "vcov": v2.label}
    out["wh"] = dict(iv.wh)
    if iv.sargan is not None:
        out["sargan"] = dict(iv.sargan)
    out["cd"] = {"stat": iv.cd}
    return out
