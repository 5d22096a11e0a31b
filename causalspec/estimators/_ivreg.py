"""Two-stage least squares as ``AER::ivreg(y ~ X | Z, weights = w)``, with sandwich's variances and AER's
``summary(fit, vcov. = , diagnostics = TRUE)`` (weak instruments, Wu-Hausman, Sargan); re-exported by
:mod:`causalspec.estimators._iv`, beside fixest's 2SLS.

Matches AER::ivreg, sandwich::vcovHC / vcovCL, AER::summary.ivreg; Wooldridge (2010), ch. 5; Wu (1973),
Hausman (1978), Sargan (1958).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg, stats

from causalspec.errors import DataError, EstimationError, Problem
from causalspec.inference._fixest import SSC, FixestVcov, fixest_vcov, wald_test
from causalspec.estimators.fixest._feols import FixestFit, assemble_fit, ols_fit, prepare_sample, wssq

__all__ = ["IVRegFit", "ivreg", "ivreg_vcov", "ivreg_leverage_vcov", "lm_vcov", "ivreg_diagnostics"]

_INTERCEPT = "(Intercept)"


def _cols(a, n, what):
    if a is None:
        return np.empty((n, 0))
    arr = np.asarray(a, dtype=float)
    arr = arr[:, None] if arr.ndim == 1 else arr
    if arr.shape[0] != n:
        raise DataError(f"{what} has {arr.shape[0]} rows but y has {n}.", loc=what,
                        fix="Pass columns aligned with y, one row per observation.")
    return arr


def _names(names, k, what):
    names = tuple(str(s) for s in (names or ()))
    if len(names) != k:
        raise DataError(f"{what} has {len(names)} names for {k} columns.", loc=what, fix="Give one name per column.")
    return names


@dataclass(frozen=True)
class IVRegFit:
    """An AER::ivreg fit: the projected-regressor regression carries the sandwich pieces."""

    fit: FixestFit          # X = projected regressors, resid = structural residuals
    names: tuple[str, ...]
    endog: tuple[str, ...]
    inst: tuple[str, ...]
    y: np.ndarray
    X: np.ndarray
    Z: np.ndarray
    Z_names: tuple[str, ...]
    r2: float
    adj_r2: float
    sigma: float

    @property
    def coef(self) -> np.ndarray:
        return self.fit.coef

    @property
    def df_residual(self) -> int:
        return self.fit.nobs - len(self.names)


_AER_VCOV = {"iid": ("iid", SSC()), "HC1": ("hetero", SSC()),
             "HC0": ("hetero", SSC(adj=False, cluster_adj=False))}


def ivreg_vcov(fit: FixestFit, vcov: str = "iid") -> FixestVcov:
    """``vcov(ivreg)`` or ``sandwich::vcovHC(type = "HC0"|"HC1")`` for a regression without FEs.

    Matches AER::vcov.ivreg / sandwich::vcovHC (HC0, HC1); White (1980).
    """
    if vcov not in _AER_VCOV:
        raise DataError(f"vcov '{vcov}' is not one of {sorted(_AER_VCOV)}.", loc="vcov", fix="Use iid, HC0 or HC1.")
    kind, ssc = _AER_VCOV[vcov]
    v = fixest_vcov(fit, kind, ssc=ssc)
    return FixestVcov(v.matrix, v.names, v.kind, vcov, fit.nobs - len(fit.names), v.df_k)


def ivreg_leverage_vcov(iv: IVRegFit, vcov: str) -> FixestVcov:
    """``sandwich::vcovHC(type = "HC2"|"HC3")`` on an ``AER::ivreg`` fit.

    sandwich's meat uses the estimating functions ``w_i e_i * xhat_i`` (projected regressors, structural residuals,
    weights) scaled by ``1 / (1 - h_i)`` (HC2) or ``1 / (1 - h_i)^2`` (HC3), with AER's ``hatvalues.ivreg``:
    ``h_i = x_i' (Xhat'Xhat)^-1 (P_Z X)_i``, the diagonal of ``X (Xhat'Xhat)^-1 X' P_Z``.  With weights that is
    what AER computes: Xhat is the weighted projection (``model.matrix(fit, "projected")``) but the hat matrix
    takes no weights (neither in Xhat'Xhat nor in P_Z), while the bread is (Xhat'W Xhat)^-1.  MacKinnon & White
    (1985).
    """
    if vcov not in ("HC2", "HC3"):
        raise DataError(f"vcov '{vcov}' is not HC2 or HC3.", loc="vcov", fix="Use ivreg_vcov for iid, HC0, HC1.")
    fit = iv.fit
    Xh = np.asarray(fit.X, dtype=float)
    cols = [list(iv.names).index(n) for n in fit.names]
    X = np.asarray(iv.X, dtype=float)[:, cols]
    w = fit.weights
    A = np.linalg.inv(Xh.T @ Xh)
    # AER's hatvalues.ivreg projects on Z without weights
    Xu = Xh if w is None else X - _resid_on(X, iv.Z)
    h = np.einsum("ij,jk,ik->i", X, A, Xu)
    if np.any(h > 1.0 - 1e-10):
        raise EstimationError(Problem("inference.vcov", f"{vcov} divides by 1 - leverage, and some observations have "
                                      "leverage 1, so the variance is undefined.", fix="Use vcov HC1 or iid.",
                                      code="leverage_one"))
    e = np.asarray(fit.resid, dtype=float) * (1.0 if w is None else w)
    omega = e ** 2 / ((1.0 - h) if vcov == "HC2" else (1.0 - h) ** 2)
    B = A if w is None else linalg.cho_solve((fit.xwx_chol, False), np.eye(len(fit.names)))
    V = B @ (Xh.T * omega) @ Xh @ B
    V = (V + V.T) / 2
    return FixestVcov(V, tuple(fit.names), "hetero", vcov, fit.nobs - len(fit.names), len(fit.names))


def _resid_on(X: np.ndarray, Z: np.ndarray) -> np.ndarray:
    """Residuals of the columns of X regressed on Z by unweighted least squares."""
    return X - Z @ np.linalg.lstsq(Z, X, rcond=None)[0]


def ivreg(y, X, X_names, Z, Z_names, *, weights=None) -> IVRegFit:
    """2SLS as ``AER::ivreg(y ~ X | Z)``: regressors X (with endogenous ones), instruments Z.

    Matches AER::ivreg; Wooldridge (2010), ch. 5.
    """
    y = np.asarray(y, dtype=float).ravel()
    n = y.shape[0]
    X = _cols(X, n, "X")
    Z = _cols(Z, n, "Z")
    xn = _names(X_names, X.shape[1], "X_names")
    zn = _names(Z_names, Z.shape[1], "Z_names")
    sample = prepare_sample([y[:, None], X, Z], None, weights, "none")
    m = sample.mask
    y, X, Z = y[m], X[m], Z[m]
    w = sample.weights
    Xhat = np.column_stack([X[:, j] - ols_fit(X[:, j], Z, w)[3] for j in range(X.shape[1])])
    coef, keep, R, _ = ols_fit(y, Xhat, w)
    if not keep.all():
        raise EstimationError("the projected regressors are collinear (too few relevant instruments?).",
                              fix="Check that every endogenous regressor has an instrument.")
    resid = y - X @ coef
    fit = assemble_fit(y, y, Xhat, xn, keep, coef, R, resid, sample)
    endog = tuple(t for t in xn if t not in zn)
    inst = tuple(t for t in zn if t not in xn)
    has_int = _INTERCEPT in xn
    wt = np.ones(len(y)) if w is None else w
    tss = float(np.sum(wt * (y - np.average(y, weights=wt)) ** 2)) if has_int else float(np.sum(wt * y ** 2))
    r2 = 1 - fit.ssr / tss
    dfr = len(y) - len(xn)
    adj = 1 - (1 - r2) * ((len(y) - (1 if has_int else 0)) / dfr)
    return IVRegFit(fit, xn, endog, inst, y, X, Z, zn, r2, adj, float(np.sqrt(fit.ssr / dfr)))


def lm_vcov(fit: FixestFit, vcov: str = "iid", cluster=None) -> FixestVcov:
    """``vcov(lm)``, ``sandwich::vcovHC(lm, type = vcov)`` or ``sandwich::vcovCL(lm, cluster = cluster, type =
    "HC1")`` (``vcov = "CR1"``, one cluster column aligned with the fit's rows) for a fit without FEs.

    Weighted fits as sandwich weights an ``lm(weights = w)``: estimating functions ``w_i e_i x_i``, bread
    (X'WX)^-1, and for HC2 / HC3 lm's weighted hat values, the diagonal of W^1/2 X (X'WX)^-1 X' W^1/2.
    Matches sandwich::vcovHC (HC0-HC3) / vcovCL (HC1); MacKinnon & White (1985).
    """
    if vcov == "CR1":
        return fixest_vcov(fit, "cluster", cluster)
    if vcov not in ("HC2", "HC3"):
        return ivreg_vcov(fit, vcov)
    X = np.asarray(fit.X, dtype=float)
    w = fit.weights
    B = linalg.cho_solve((fit.xwx_chol, False), np.eye(X.shape[1]))
    Xs = X if w is None else X * np.sqrt(w)[:, None]
    h = np.einsum("ij,jk,ik->i", Xs, B, Xs)
    e = np.asarray(fit.resid, dtype=float) * (1.0 if w is None else w)
    omega = e ** 2 / (1.0 - h) ** (1 if vcov == "HC2" else 2)
    V = B @ (X.T * omega) @ X @ B
    return FixestVcov((V + V.T) / 2, tuple(fit.names), "hetero", vcov, fit.nobs - len(fit.names), len(fit.names))


def _lm(y, X, names, w, sample) -> FixestFit:
    coef, keep, R, resid = ols_fit(y, X, w)
    return assemble_fit(y, y, X[:, keep], names, keep, coef, R, resid, sample)


def ivreg_diagnostics(iv: IVRegFit, vcov: str = "iid", cluster=None) -> dict[str, dict]:
    """``summary(ivreg, vcov. = vcov, diagnostics = TRUE)$diagnostics`` of AER.

    Weak instruments: Wald F of the excluded instruments in each first stage;
    Wu-Hausman: Wald F of the fitted endogenous regressors added to the
    structural equation; both with ``vcov`` (iid, HC0-HC3, or CR1: ``sandwich::vcovCL(cluster = cluster, type =
    "HC1")``, ``cluster`` one id column aligned with the fit's rows) applied to the auxiliary lm, weighted as the
    ivreg fit is.  Sargan: n R2 of the residuals on all instruments (chi-squared; weighted R2 with weights).
    Matches AER::summary.ivreg(diagnostics = TRUE) (AER's ivdiag); Wu (1973), Hausman (1978), Sargan (1958).
    """
    s = iv.fit.sample
    w = s.weights
    out: dict[str, dict] = {}
    zi = [iv.Z_names.index(t) for t in iv.inst]
    xfit = []
    for k, e in enumerate(iv.endog):
        xe = iv.X[:, iv.names.index(e)]
        aux = _lm(xe, iv.Z, iv.Z_names, w, s)
        xfit.append(xe - aux.resid)
        v = lm_vcov(aux, vcov, cluster)
        idx = [aux.names.index(t) for t in iv.inst]
        key = "Weak instruments" if len(iv.endog) == 1 else f"Weak instruments ({e})"
        out[key] = wald_test(aux.coef[idx], v.matrix[np.ix_(idx, idx)], aux.nobs - len(aux.names))
    fit_names = tuple(f"fit_{e}" for e in iv.endog)
    auxa = _lm(iv.y, np.column_stack([iv.X, *xfit]), iv.names + fit_names, w, s)
    va = lm_vcov(auxa, vcov, cluster)
    idx = [auxa.names.index(t) for t in fit_names]
    out["Wu-Hausman"] = wald_test(auxa.coef[idx], va.matrix[np.ix_(idx, idx)], auxa.nobs - len(auxa.names))
    res = iv.fit.resid
    wt = np.ones(len(res)) if w is None else w
    rssr = float(np.sum(wt * (res - np.average(res, weights=wt)) ** 2))
    rssu = wssq(ols_fit(res, iv.Z, w)[3], w)
    stat = len(res) * (1 - rssu / rssr)
    dfs = len(zi) - len(iv.endog)
    out["Sargan"] = {"stat": stat, "p": float(stats.chi2.sf(stat, dfs)), "df1": dfs, "df2": None}
    return out
