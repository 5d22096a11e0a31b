"""Generalized least squares with AR(1) errors, as ``nlme::gls(correlation = corAR1())`` fits it.

The errors of each series follow ``e_t = phi e_{t-1} + u_t`` (one phi shared by every series, none across them).
For a given phi the Prais-Winsten transform (the first row kept, then ``(y_t - phi y_{t-1}) / sqrt(1 - phi^2)``)
whitens each series, so beta and sigma are least squares on the transformed data; phi maximises the profile
(ML) or restricted (REML) log-likelihood.  Here phi is the root of the profile score, computed analytically and
solved by Brent's method to machine precision.  nlme climbs the same likelihood with nlminb, whose default x.tol
(1.5e-8 on log((1 + phi) / (1 - phi))) stops about 5e-8 from the optimum; at the exact optimum the two agree to
1e-9 and better (tests/parity/cases/its_*_ar1_gls*.json).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import linalg, optimize

__all__ = ["AR1Fit", "ar1_gls"]


@dataclass(frozen=True)
class AR1Fit:
    """``nlme::gls`` with ``corAR1``: coefficients, their covariance (``vcov(fit)``), phi, sigma, log-likelihood."""

    coef: np.ndarray
    vcov: np.ndarray
    phi: float
    sigma: float
    loglik: float
    method: str
    nobs: int
    df_resid: int
    fitted: np.ndarray
    residuals: np.ndarray


def _transform(v: np.ndarray, groups, phi: float) -> np.ndarray:
    """``L v`` with ``L'L = R^-1`` (R the AR(1) correlation): the first row kept, then
    ``(v_t - phi v_{t-1}) / sqrt(1 - phi^2)`` (sigma is the errors' marginal SD, as nlme's)."""
    out = np.empty_like(v)
    s = 1.0 / math.sqrt(1.0 - phi * phi)
    for g in groups:
        out[g[0]] = v[g[0]]
        out[g[1:]] = (v[g[1:]] - phi * v[g[:-1]]) * s
    return out


def _dtransform(v: np.ndarray, groups, phi: float) -> np.ndarray:
    """d(L v)/d phi."""
    out = np.empty_like(v)
    q = 1.0 - phi * phi
    for g in groups:
        out[g[0]] = 0.0
        out[g[1:]] = -v[g[:-1]] / math.sqrt(q) + (v[g[1:]] - phi * v[g[:-1]]) * phi / q**1.5
    return out


def _pieces(y, X, groups, phi):
    ys, Xs = _transform(y, groups, phi), _transform(X, groups, phi)
    Q, R = linalg.qr(Xs, mode="economic")
    beta = linalg.solve_triangular(R, Q.T @ ys, lower=False)
    return ys, Xs, R, beta


def _loglik(y, X, groups, phi, reml: bool) -> float:
    n, p = X.shape
    ys, Xs, R, beta = _pieces(y, X, groups, phi)
    rss = float(np.sum((ys - Xs @ beta) ** 2))
    # -1/2 log|R|: the AR(1) correlation of a series of n_g periods has determinant (1 - phi^2)^(n_g - 1)
    logdet_l = -0.5 * sum((len(g) - 1) for g in groups) * math.log(1.0 - phi * phi)
    if reml:
        m = n - p
        return (-0.5 * m * (math.log(2 * math.pi) + 1.0 + math.log(rss / m)) + logdet_l
                - float(np.sum(np.log(np.abs(np.diag(R))))))
    return -0.5 * n * (math.log(2 * math.pi) + 1.0 + math.log(rss / n)) + logdet_l


def _score(y, X, groups, phi, reml: bool) -> float:
    n, p = X.shape
    ys, Xs, R, beta = _pieces(y, X, groups, phi)
    r = y - X @ beta
    e = ys - Xs @ beta
    rss = float(e @ e)
    drss = 2.0 * float(e @ _dtransform(r, groups, phi))  # envelope theorem: beta at its optimum
    dlogdet = sum((len(g) - 1) for g in groups) * phi / (1.0 - phi * phi)
    m = n - p if reml else n
    s = -0.5 * m * drss / rss + dlogdet
    if reml:
        dXs = _dtransform(X, groups, phi)
        # d/dphi of 1/2 log|Xs'Xs| = tr((Xs'Xs)^-1 Xs' dXs)
        G = linalg.solve_triangular(R, linalg.solve_triangular(R, Xs.T @ dXs, trans="T", lower=False), lower=False)
        s -= float(np.trace(G))
    return s


def ar1_gls(y: np.ndarray, X: np.ndarray, groups, method: str = "REML") -> AR1Fit:
    """GLS with AR(1) errors within each group of rows (each an index array in time order, without gaps).

    Matches ``nlme::gls(y ~ x, correlation = corAR1(form = ~ time | series), method = method)``: ``coef(fit)``,
    ``vcov(fit)`` (RSS / (n - p) (X' R^-1 X)^-1 for both methods), ``fit$sigma`` (sqrt(RSS / (n - p)) for
    REML, sqrt(RSS / n) for ML),
    ``coef(fit$modelStruct$corStruct, unconstrained = FALSE)`` and ``logLik(fit)``; Prais & Winsten (1954) for
    the transform, Beach & MacKinnon (1978) for the exact likelihood.
    """
    y = np.asarray(y, float)
    X = np.asarray(X, float)
    groups = [np.asarray(g, dtype=np.intp) for g in groups]
    reml = method == "REML"
    n, p = X.shape
    grid = np.linspace(-0.995, 0.995, 399)
    ll = np.array([_loglik(y, X, groups, f, reml) for f in grid])
    i = int(np.argmax(ll))
    lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
    f = lambda ph: _score(y, X, groups, ph, reml)  # noqa: E731
    if i in (0, len(grid) - 1) or not f(lo) > 0 > f(hi):
        res = optimize.minimize_scalar(lambda ph: -_loglik(y, X, groups, ph, reml), bounds=(-0.9999, 0.9999),
                                       method="bounded", options={"xatol": 1e-12})
        phi = float(res.x)
    else:
        phi = float(optimize.brentq(f, lo, hi, xtol=1e-15, rtol=4 * np.finfo(float).eps, maxiter=200))
    ys, Xs, R, beta = _pieces(y, X, groups, phi)
    e = ys - Xs @ beta
    rss = float(e @ e)
    sigma2 = rss / (n - p if reml else n)
    Rinv = linalg.solve_triangular(R, np.eye(p), lower=False)
    # gls scales varBeta by (N - REML p) / (N - p), so both methods report RSS / (N - p) (X' Sigma^-1 X)^-1
    V = rss / (n - p) * (Rinv @ Rinv.T)
    fitted = X @ beta
    return AR1Fit(beta, (V + V.T) / 2, phi, math.sqrt(sigma2), _loglik(y, X, groups, phi, reml), method, n, n - p,
                  fitted, y - fitted)
