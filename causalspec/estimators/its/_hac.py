"""Heteroskedasticity- and autocorrelation-consistent (HAC) covariances of a least-squares fit, as sandwich computes
them: Newey-West with the automatic lag of ``bwNeweyWest`` and VAR(1) prewhitening for one series, and the panel
Newey-West of ``vcovPL(aggregate = FALSE)`` (within-series autocovariances only, as Stata's ``newey`` on panel data)
for several series.

Every function takes the design ``X`` (n x k, the kept columns, in time order) and the OLS residuals; the scores are
``X * resid`` (``sandwich::estfun.lm``) and the bread ``(X'X)^-1`` (``bread.lm`` / n), so the covariance is
``(X'X)^-1 S (X'X)^-1`` with ``S`` the weighted sum of score cross-products.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import linalg

__all__ = ["HAC", "newey_west", "bw_newey_west", "panel_newey_west", "var1_ols"]


@dataclass(frozen=True)
class HAC:
    """A HAC covariance: the matrix over the design's columns, the lag used and how it was chosen."""

    matrix: np.ndarray
    lag: int
    bandwidth: float | None  # the automatic rule's value before flooring (None: the lag was given)
    prewhite: bool
    adjust: bool
    r_call: str


def var1_ols(U: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A VAR(1) without intercept fitted by least squares: ``stats::ar(U, order.max = 1, aic = FALSE, demean =
    FALSE, method = "ols")``.  Returns ``(A, E)``: ``u_t = A u_{t-1} + e_t`` and the n - 1 residuals.

    ar.ols rescales each column by its standard deviation before fitting and undoes it after; the fit is the
    same least-squares projection, so it is done on the scaled columns here too (the same rounding)."""
    n, k = U.shape
    sc = np.std(U, axis=0, ddof=1)
    sc[sc == 0] = 1.0
    x = U / sc
    Y, Xl = x[1:], x[:-1]
    coef = linalg.solve(Xl.T @ Xl, Xl.T @ Y, assume_a="pos")  # (k x k): x_t' = x_{t-1}' coef
    E = (Y - Xl @ coef) * sc
    A = coef.T * np.outer(sc, 1.0 / sc)
    return A, E


def _scores(X: np.ndarray, resid: np.ndarray) -> np.ndarray:
    return np.asarray(X, float) * np.asarray(resid, float)[:, None]


def _bread(X: np.ndarray) -> np.ndarray:
    R = linalg.qr(np.asarray(X, float), mode="r")[0][: X.shape[1]]
    Rinv = linalg.solve_triangular(R, np.eye(R.shape[0]), lower=False)
    return Rinv @ Rinv.T


def bw_newey_west(X: np.ndarray, resid: np.ndarray, names, prewhite: bool = True) -> float:
    """The automatic bandwidth of Newey & West (1994) for the Bartlett kernel, as ``sandwich::bwNeweyWest(fit,
    prewhite = prewhite)`` for an lm: the scores weighted 1 (0 for the intercept), prewhitened by a VAR(1),
    autocovariances up to ``m = floor(3 (n/100)^(2/9))`` (4 without prewhitening), and
    ``1.1447 ((s1/s0)^2)^(1/3) n^(1/3)``."""
    U = _scores(X, resid)
    n = U.shape[0]
    w = np.array([0.0 if t == "(Intercept)" else 1.0 for t in names])
    if not np.any(w > 0):
        w = np.ones(len(names))
    m = math.floor((3 if prewhite else 4) * (n / 100) ** (2 / 9))
    if prewhite:
        _, U = var1_ols(U)
    nn = U.shape[0]
    hw = U @ w
    sigma = np.array([np.sum(hw[: nn - j] * hw[j:]) / nn for j in range(m + 1)])
    s0 = sigma[0] + 2 * np.sum(sigma[1:])
    s1 = 2 * np.sum(np.arange(1, m + 1) * sigma[1:])
    return float(1.1447 * ((s1 / s0) ** 2) ** (1 / 3) * (nn + (1 if prewhite else 0)) ** (1 / 3))


def _bartlett_nw(lag: int) -> np.ndarray:
    # NeweyWest's weights: seq(1, 0, by = -1/(lag + 1)), as R computes the sequence
    by = -1.0 / (lag + 1)
    return 1.0 + np.arange(lag + 2) * by


def newey_west(X: np.ndarray, resid: np.ndarray, names, *, lag: int | None = None, prewhite: bool = True,
               adjust: bool = False) -> HAC:
    """Newey-West HAC covariance of an lm fitted to one series in time order.

    Matches ``sandwich::NeweyWest(fit, lag = lag, prewhite = prewhite, adjust = adjust)`` (sandwich 3.0.2's
    defaults: ``lag = NULL`` -> ``floor(bwNeweyWest(fit))``, ``prewhite = TRUE``, ``adjust = FALSE``); Newey &
    West (1987, 1994); VAR(1) prewhitening and recolouring as Andrews & Monahan (1992).
    """
    X = np.asarray(X, float)
    U = _scores(X, resid)
    n, k = U.shape
    bw = None
    if lag is None:
        bw = bw_newey_west(X, resid, names, prewhite)
        lag = int(math.floor(bw))
    w = _bartlett_nw(lag)
    D = None
    if prewhite:
        A, U = var1_ols(U)
        D = linalg.solve(np.eye(k) - A, np.eye(k))
    nn = U.shape[0]
    w = w[:nn]
    S = 0.5 * (U.T @ U) * w[0]
    for j in range(1, len(w)):
        S = S + w[j] * (U[: nn - j].T @ U[j:])
    S = S + S.T
    if adjust:
        S = n / (n - k) * S
    if D is not None:
        S = D @ S @ D.T
    B = _bread(X)
    V = B @ S @ B
    args = ("" if bw is not None else f", lag = {lag}") + ("" if prewhite else ", prewhite = FALSE") + (
        ", adjust = TRUE" if adjust else "")
    return HAC((V + V.T) / 2, lag, bw, bool(prewhite), bool(adjust), f"sandwich::NeweyWest(fit{args})")


def panel_newey_west(X: np.ndarray, resid: np.ndarray, series: np.ndarray, period: np.ndarray, *,
                     lag: int | None = None, adjust: bool = True) -> HAC:
    """Panel Newey-West: Bartlett-weighted autocovariances of the scores within each series, none across series.

    Matches ``sandwich::vcovPL(fit, cluster = ~ series, order.by = ~ time, aggregate = FALSE, lag = lag,
    adjust = adjust)`` (default ``lag = "NW1987"``: ``floor(T^(1/4))`` over the T distinct periods; default
    ``adjust = TRUE``: n / (n - k)), the variance Stata's ``newey`` reports on panel data (Newey & West 1987;
    the comparative ITS of Linden 2015).  ``series`` and ``period`` label each row (integer period index).
    """
    X = np.asarray(X, float)
    U = _scores(X, resid)
    n, k = U.shape
    periods = np.unique(period)
    nt = len(periods)
    chosen = lag is None
    if lag is None:
        lag = int(math.floor(nt ** 0.25))
    bw = lag + 1
    w = np.clip(1.0 - np.arange(nt) / bw, 0.0, None)
    w = w[: int(np.max(np.flatnonzero(np.abs(w) > 0))) + 1]
    S = 0.5 * (U.T @ U) * w[0]
    pos = {p: i for i, p in enumerate(periods)}
    tix = np.array([pos[p] for p in period])
    for s in np.unique(series):
        rows = np.flatnonzero(series == s)
        rows = rows[np.argsort(tix[rows], kind="stable")]
        full = np.full((nt, k), np.nan)
        full[tix[rows]] = U[rows]
        present = ~np.isnan(full[:, 0])
        for j in range(1, len(w)):
            ok = present[: nt - j] & present[j:]
            a, b = full[: nt - j][ok], full[j:][ok]
            S = S + w[j] * (a.T @ b)
    S = S + S.T
    if adjust:
        S = n / (n - k) * S
    B = _bread(X)
    V = B @ S @ B
    args = ("" if chosen else f", lag = {lag}") + ("" if adjust else ", adjust = FALSE")
    return HAC((V + V.T) / 2, lag, None, False, bool(adjust),
               f"sandwich::vcovPL(fit, cluster = ~ series, order.by = ~ time, aggregate = FALSE{args})")
