"""The pieces rdrobust's local polynomial fits are made of: kernel weights, the polynomial basis, the weighted fit
on one side of the cutoff, residuals (nearest-neighbour and plug-in) and the variance "meat" (heteroskedasticity-
robust, CR1 cluster-robust).  Arrays in, arrays out.

Matches rdrobust's internal ``rdrobust_kweight``, ``rdrobust_res`` and ``rdrobust_vce`` (R package rdrobust,
functions.R; the Python port 2.1.1, funs.py); Calonico, Cattaneo & Titiunik (2014), Calonico, Cattaneo & Farrell
(2018).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.linalg import cho_factor, cho_solve

__all__ = ["KERNELS", "kernel_weights", "vander", "inv_chol", "inv_chol_or_pinv", "Side", "WindowFit",
           "window_fit", "distinct_sorted", "nn_residuals", "plug_in_residuals", "meat", "leverages", "partial_out_covariates"]

KERNELS = ("triangular", "epanechnikov", "uniform")
_EPS = float(np.sqrt(np.finfo(float).eps))


def kernel_weights(x: np.ndarray, c: float, h: float, kernel: str) -> np.ndarray:
    """K((x - c) / h) / h: rdrobust_kweight (triangular, Epanechnikov or uniform on [-1, 1])."""
    u = (x - c) / h
    if kernel == "epanechnikov":
        return (0.75 * (1 - u ** 2) * (abs(u) <= 1)) / h
    if kernel == "uniform":
        return (0.5 * (abs(u) <= 1)) / h
    return ((1 - abs(u)) * (abs(u) <= 1)) / h


def vander(u: np.ndarray, p: int) -> np.ndarray:
    """[1, u, u^2, ..., u^p], each column the previous one times u (rdrobust's construction)."""
    out = np.empty((u.size, p + 1))
    out[:, 0] = 1.0
    for j in range(1, p + 1):
        out[:, j] = out[:, j - 1] * u
    return out


def inv_chol(a: np.ndarray) -> np.ndarray:
    """The inverse of a symmetric positive-definite matrix from its Cholesky factor (rdrobust's inv_chol)."""
    factor = cho_factor(a, lower=True)
    return cho_solve(factor, np.eye(a.shape[0]))


def inv_chol_or_pinv(a: np.ndarray) -> np.ndarray:
    """inv_chol, or the Moore-Penrose inverse when the factorisation fails (rdrobust's pilot fits)."""
    try:
        return inv_chol(a)
    except np.linalg.LinAlgError:
        return np.linalg.pinv(a)


@dataclass(frozen=True)
class Side:
    """One side of the cutoff, sorted by the running variable: ``D`` holds the outcome, then the take-up (fuzzy),
    then the covariates; ``clusters`` are integer codes or None."""

    x: np.ndarray
    D: np.ndarray
    dT: int
    dZ: int
    clusters: np.ndarray | None = None

    @property
    def n(self) -> int:
        return int(self.x.size)


@dataclass(frozen=True)
class WindowFit:
    """A kernel-weighted polynomial fit of every column of ``D`` on the observations with positive weight."""

    x: np.ndarray
    D: np.ndarray
    w: np.ndarray
    R: np.ndarray
    invG: np.ndarray
    beta: np.ndarray
    clusters: np.ndarray | None

    @property
    def n(self) -> int:
        return int(self.x.size)


def window_fit(side: Side, c: float, h: float, order: int, kernel: str) -> WindowFit | None:
    """The local polynomial of ``order`` within bandwidth ``h``; None when the window holds fewer distinct values
    of the running variable than coefficients (rdrobust then reports an undefined pilot)."""
    # x is sorted, so the positive weights are one run: weigh a slightly wider run, then slice (no copies)
    lo = int(np.searchsorted(side.x, c - h * (1 + 1e-9), side="left"))
    hi = int(np.searchsorted(side.x, c + h * (1 + 1e-9), side="right"))
    w_run = kernel_weights(side.x[lo:hi], c, h, kernel)
    pos = np.flatnonzero(w_run > 0)
    if pos.size == 0:
        return None
    a, b = lo + int(pos[0]), lo + int(pos[-1]) + 1
    x = side.x[a:b]
    if distinct_sorted(x) < order + 1:
        return None
    w = w_run[a - lo:b - lo]
    R = vander(x - c, order)
    sq = R * np.sqrt(w)[:, None]
    invG = inv_chol_or_pinv(sq.T @ sq)
    D = side.D[a:b]
    beta = invG @ ((R * w[:, None]).T @ D)
    return WindowFit(x, D, w, R, invG, beta, None if side.clusters is None else side.clusters[a:b])


def distinct_sorted(x: np.ndarray) -> int:
    """The number of distinct values of a sorted array."""
    return int(x.size and 1 + np.count_nonzero(x[1:] != x[:-1]))


def partial_out_covariates(U: np.ndarray, invG: np.ndarray, ZWD: np.ndarray, dT: int, dZ: int):
    """The covariates' part of the local fit: Z'WZ and Z'WY after the polynomial is partialled out
    (rdrobust's ZWZ and ZWY, columns 1 + dT onwards of D are the covariates)."""
    cols = np.arange(1 + dT, 1 + dT + dZ)
    UiGU = U[:, cols].T @ (invG @ U)
    ZWZ = ZWD[:, cols] - UiGU[:, cols]
    ZWY = ZWD[:, :1 + dT] - UiGU[:, :1 + dT]
    return ZWZ, ZWY


def nn_residuals(x: np.ndarray, D: np.ndarray, matches: int) -> np.ndarray:
    """Nearest-neighbour residuals (rdrobust's vce = "nn"; Abadie & Imbens 2006, CCT 2014 eq. (S.2)).

    ``x`` is sorted.  Each observation is compared with the mean of at least ``matches`` neighbours: ties of its own
    value first, then the nearer of the next distinct values on either side (both when equally near), whole groups
    of ties at a time; the residual is sqrt(J / (J + 1)) (d_i - mean of the J neighbours).  Every member of a group
    of ties has the same neighbours, so the search runs once per distinct value, all values at once.
    """
    n = x.size
    starts = np.flatnonzero(np.r_[True, x[1:] != x[:-1]])
    counts = np.diff(np.r_[starts, n])
    xu = x[starts]
    G = starts.size
    cap = min(matches, n - 1)
    n_left = np.zeros(G, dtype=np.int64)  # groups taken on each side
    n_right = np.zeros(G, dtype=np.int64)
    obs_left = np.zeros(G, dtype=np.int64)  # observations taken on each side
    obs_right = np.zeros(G, dtype=np.int64)
    total = counts - 1
    cum = np.r_[0, np.cumsum(counts)]
    while True:
        g = np.flatnonzero(total < cap)
        if g.size == 0:
            break
        gl, gr = g - n_left[g] - 1, g + n_right[g] + 1
        no_left, no_right = gl < 0, gr >= G
        dleft = xu[g] - xu[np.maximum(gl, 0)]
        dright = xu[np.minimum(gr, G - 1)] - xu[g]
        tol = np.maximum(dleft, dright) * _EPS
        both_sides = ~no_left & ~no_right
        right_nearer = both_sides & (dleft - dright > tol)
        left_nearer = both_sides & ~right_nearer & (dright - dleft > tol)
        tie = both_sides & ~right_nearer & ~left_nearer
        go_right = no_left | right_nearer | tie
        go_left = (~no_left & no_right) | left_nearer | tie
        add_r = np.where(go_right, counts[np.minimum(gr, G - 1)], 0)
        add_l = np.where(go_left, counts[np.maximum(gl, 0)], 0)
        n_right[g] += go_right
        n_left[g] += go_left
        obs_right[g] += add_r
        obs_left[g] += add_l
        total[g] += add_r + add_l
    lo = cum[:-1] - obs_left
    hi = cum[1:] + obs_right
    padded = np.vstack([D, np.zeros((1, D.shape[1]))])  # reduceat needs every index below the length
    sums = np.add.reduceat(padded, np.ravel(np.column_stack([lo, hi])), axis=0)[::2]
    group = np.repeat(np.arange(G), counts)
    J = (hi - lo - 1).astype(float)
    sf = np.sqrt(J / (J + 1))[group][:, None]
    others = sums[group] - D
    return sf * (D - others / J[group][:, None])


def leverages(R: np.ndarray, invG: np.ndarray, w: np.ndarray) -> np.ndarray:
    """The diagonal of the weighted hat matrix, h_ii = r_i' G^-1 r_i w_i (HC2, HC3)."""
    return np.sum((R @ invG) * (R * w[:, None]), axis=1)


def plug_in_residuals(D: np.ndarray, fitted: np.ndarray, kind: str, *, k: int, hii=None,
                      clustered: bool = False) -> np.ndarray:
    """Plug-in residuals scaled as rdrobust_res does: hc0 none, hc1 sqrt(n / (n - k)) (none when clustered: CR1
    applies its own factor), hc2 1 / sqrt(1 - h_ii), hc3 1 / (1 - h_ii); raw residuals for CR2."""
    e = D - fitted
    n = D.shape[0]
    if kind in ("hc0", "cr2"):
        return e
    if kind == "hc1":
        return e if clustered else math.sqrt(n / (n - k)) * e
    one_minus = np.maximum(1 - hii, 1e-8)
    w = np.sqrt(1 / one_minus) if kind == "hc2" else 1 / one_minus
    return w[:, None] * e


def meat(RX: np.ndarray, res: np.ndarray, s, clusters: np.ndarray | None = None, k_df: int | None = None):
    """sum_i (RX_i s'res_i)(RX_i s'res_i)', or its CR1 cluster sum times ((n - 1) / (n - k)) (G / (G - 1))
    (rdrobust_vce; ``s`` combines the outcome's residual with the take-up's and covariates' ones)."""
    r = res @ np.atleast_1d(np.asarray(s, dtype=float)).reshape(-1)
    score = RX * r[:, None]
    if clusters is None:
        return score.T @ score
    n, k = RX.shape
    k_df = k if k_df is None else k_df
    codes, size = _codes(clusters)
    sums = np.column_stack([np.bincount(codes, weights=score[:, j], minlength=size) for j in range(k)])
    factor = ((n - 1) / (n - k_df)) * (size / (size - 1)) if size > 1 else math.nan
    return factor * (sums.T @ sums)


def _codes(clusters: np.ndarray) -> tuple[np.ndarray, int]:
    uniq, codes = np.unique(clusters, return_inverse=True)
    return codes.reshape(-1), int(uniq.size)
