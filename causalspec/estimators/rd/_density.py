"""The manipulation test of a regression discontinuity: is the running variable's density continuous at the cutoff?

Matches ``rddensity::rddensity(X, c)`` with its defaults (p = 2, q = 3, fitselect = "unrestricted",
kernel = "triangular", vce = "jackknife", bwselect = "comb", massPoints, regularize) and the bandwidths of
``rdbwdensity``: local polynomial density estimators (Cattaneo, Jansson & Ma 2020, "Simple local polynomial density
estimators", JASA; 2018, Stata Journal) of the empirical distribution function on each side; the test statistic is
the difference of the two densities at the cutoff over its jackknife standard error.  Not implemented: the
restricted fit, the plug-in variance, other bandwidth choices and the binomial tests near the cutoff.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.polynomial import hermite_e
from scipy import stats

__all__ = ["DensityTest", "rddensity"]

# rdbwdensity's constants for the preliminary bandwidths (p = 1, ..., 7)
_CB = (25884.444444494150957, 3430865.4551236177795, 845007948.04262602329, 330631733667.03808594,
       187774809656037.3125, 145729502641999264, 146013502974449876992)
_CC = (4.8000000000000246914, 548.57142857155463389, 100800.00000020420703, 29558225.458100609481,
       12896196859.612621307, 7890871468221.609375, 6467911284037581)


@dataclass(frozen=True)
class DensityTest:
    """rddensity's output: bandwidths and sample sizes (left, right), the densities at the cutoff on each side,
    their difference (right - left), jackknife standard errors, the test statistic T and its p-value."""

    c: float
    p: int
    q: int
    h: tuple[float, float]
    n: tuple[int, int]
    n_h: tuple[int, int]
    f: tuple[float, float]
    difference: float
    se: tuple[float, float, float]
    statistic: float
    p_value: float
    bandwidths: tuple[float, float, float, float]  # rdbwdensity: left, right, difference, sum
    mass_points: bool


def _moment(k: int, kernel: str) -> float:
    """The integral of K(l) l^k over [0, 1] (rddensity's S and C matrices, in closed form)."""
    if kernel == "uniform":
        return 0.5 / (k + 1)
    if kernel == "epanechnikov":
        return 0.75 * (1 / (k + 1) - 1 / (k + 3))
    return 1 / (k + 1) - 1 / (k + 2)


def _groups(x: np.ndarray):
    """First index and size of each run of equal values of a sorted array."""
    first = np.flatnonzero(np.r_[True, x[1:] != x[:-1]])
    return first, np.diff(np.r_[first, x.size])


def _fit(Y, X, n: int, hl: float, hr: float, p: int, s: int, kernel: str, mass: bool):
    """rddensity_fv (unrestricted, jackknife): the slope of the distribution function on each side at 0 (the
    density), the s-th coefficient, and their jackknife variances (left, right, difference)."""
    nl = int(np.sum(X < 0))
    left = np.arange(X.size) < nl
    u = np.where(left, X / hl, X / hr)
    if kernel == "uniform":
        W = np.where(left, 1 / (2 * hl), 1 / (2 * hr))
    elif kernel == "epanechnikov":
        W = np.where(left, 0.75 * (1 - u ** 2) / hl, 0.75 * (1 - u ** 2) / hr)
    else:
        W = np.where(left, (1 + u) / hl, (1 - u) / hr)
    Xp = np.zeros((X.size, 2 * p + 2))
    Hp = np.zeros(2 * p + 2)
    for power in range(p + 1):
        Xp[left, 2 * power] = u[left] ** power
        Xp[~left, 2 * power + 1] = u[~left] ** power
        Hp[2 * power], Hp[2 * power + 1] = hl ** power, hr ** power
    XpW = Xp * W[:, None]
    S = XpW.T @ Xp
    b = np.linalg.solve(S, XpW.T @ Y) / Hp
    tail = np.cumsum(np.vstack([np.zeros((1, XpW.shape[1])), XpW[::-1]]), axis=0) / (n - 1)
    L = tail[X.size - 1::-1]  # row i: the sum over the observations after i
    if mass:
        first, size = _groups(X)
        L = np.repeat(L[first], size, axis=0)
    Sinv_LL = np.linalg.solve(S, L.T @ L)
    V = np.linalg.solve(S, Sinv_LL.T).T / np.outer(Hp, Hp)
    var = np.array([V[2, 2], V[3, 3], V[2, 2] + V[3, 3] - 2 * V[2, 3], V[2, 2] + V[3, 3] + 2 * V[2, 3]])
    var[var < 0] = np.nan
    hat = np.array([b[2], b[3], b[3] - b[2], b[3] + b[2]])
    coef_s = np.array([b[2 * s], b[2 * s + 1], b[2 * s + 1] - b[2 * s], b[2 * s + 1] + b[2 * s]])
    return hat, var, coef_s


def _cdf_values(n: int, last: np.ndarray, size: np.ndarray, mass: bool) -> np.ndarray:
    Y = np.arange(n) / (n - 1)
    return np.repeat(Y[last], size) if mass else Y


def _kth(sorted_values: np.ndarray, k: int) -> float:
    return float(sorted_values[min(k, sorted_values.size) - 1])


def _bandwidths(X, XU, n, nl, nr, p, kernel, mass, Y) -> np.ndarray:
    """rdbwdensity: MSE-optimal bandwidths for the left, right, difference and sum of the densities."""
    mu, sd = float(np.mean(X)), float(np.std(X, ddof=1))
    z = mu / sd
    fhatb = 1 / (hermite_e.hermeval(z, [0] * (p + 2) + [1]) ** 2 * stats.norm.pdf(z))
    fhatc = 1 / (hermite_e.hermeval(z, [0] * p + [1]) ** 2 * stats.norm.pdf(z))
    bn = ((2 * p + 1) / 4 * fhatb * _CB[p - 1] / n) ** (1 / (2 * p + 5)) * sd
    cn = (1 / (2 * p) * fhatc * _CC[p - 1] / n) ** (1 / (2 * p + 1)) * sd
    bn, cn = min(bn, np.max(np.abs(XU))), min(cn, np.max(np.abs(XU)))
    for values in (X, XU):
        lft, rgt = np.sort(np.abs(values[values < 0])), values[values >= 0]
        bn = max(bn, _kth(lft, 20 + p + 3), _kth(rgt, 20 + p + 3))
        cn = max(cn, _kth(lft, 20 + p + 1), _kth(rgt, 20 + p + 1))
    mb, mc = np.abs(X) <= bn, np.abs(X) <= cn
    _, _, coef_b = _fit(Y[mb], X[mb], n, bn, bn, p + 2, p + 1, kernel, mass)
    _, var_c, _ = _fit(Y[mc], X[mc], n, cn, cn, p, 1, kernel, mass)
    S = np.array([[_moment(i + j, kernel) for j in range(p + 1)] for i in range(p + 1)])
    C = np.array([_moment(i + p + 1, kernel) for i in range(p + 1)])
    bias_constant = np.linalg.solve(S, C)[1]
    bias = np.array([coef_b[0] * bias_constant * (-1) ** p, coef_b[1] * bias_constant, 0.0, 0.0])
    bias[2], bias[3] = bias[1] - bias[0], bias[1] + bias[0]
    variance = n * cn * var_c
    with np.errstate(divide="ignore", invalid="ignore"):
        hn = (1 / (2 * p) * variance / bias ** 2 / n) ** (1 / (2 * p + 1))
    hn = np.where(np.isnan(hn) | (variance < 0), 0.0, hn)
    left_range, right_range = abs(XU[0]), XU[-1]
    hn = np.minimum(hn, [left_range, right_range, max(left_range, right_range), max(left_range, right_range)])
    for values in (X, XU):
        hlmin = _kth(np.sort(np.abs(values[values < 0])), 20 + p + 1)
        hrmin = _kth(values[values >= 0], 20 + p + 1)
        hn = np.maximum(hn, [hlmin, hrmin, max(hlmin, hrmin), max(hlmin, hrmin)])
    return hn


def rddensity(x, c: float = 0.0, *, p: int = 2, kernel: str = "triangular") -> DensityTest:
    """rddensity(X = x, c = c, p = p, kernel = kernel): the jackknife test of equal densities at the cutoff.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(1).normal(size=2000)
    >>> rddensity(x).p_value > 0.05
    True
    """
    q = p + 1
    X = np.sort(np.asarray(x, float))
    n = X.size
    nl = int(np.searchsorted(X, c, side="left"))
    nr = n - nl
    if c < X[0] or c > X[-1]:
        raise ValueError("the cutoff should be set within the range of the data")
    first, size = _groups(X)
    last = first + size - 1
    mass = first.size != n
    X = X - c
    XU = X[first]
    Y = _cdf_values(n, last, size, mass)
    bw = _bandwidths(X, XU, n, nl, nr, p, kernel, mass, Y)
    hl = float(np.median([bw[0], bw[2], bw[3]]))
    hr = float(np.median([bw[1], bw[2], bw[3]]))
    m = (X >= -hl) & (X <= hr)
    hat, var, _ = _fit(Y[m], X[m], n, hl, hr, q, 1, kernel, mass)
    nlh = int(np.sum(X[m] < 0))
    t = hat[2] / math.sqrt(var[2])
    return DensityTest(float(c), p, q, (hl, hr), (nl, nr), (nlh, int(m.sum()) - nlh), (float(hat[0]), float(hat[1])),
                       float(hat[2]), tuple(float(math.sqrt(v)) for v in var[:3]), float(t),
                       float(2 * (1 - stats.norm.cdf(abs(t)))), tuple(float(v) for v in bw), bool(mass))
