"""Parallel-trends sensitivity for event studies (Rambachan & Roth 2023, "A More Credible Approach to Parallel
Trends"), as the HonestDiD R package computes it.

Given event-study coefficients ``beta = (beta_pre, beta_post)`` (the reference period left out) and their
covariance, the target is ``theta = l' tau_post``.  Two families of restrictions on the post-treatment violation
of parallel trends ``delta_post``, indexed by how much worse than the pre-period it may be:

* **relative magnitudes** Delta^RM(Mbar): every post-period first difference of delta is at most Mbar times the
  largest pre-period first difference.  Confidence sets by the conditional / least-favourable hybrid test of
  Andrews, Roth & Pakes (HonestDiD's default "C-LF"), inverted over a grid of theta (``gridPoints`` values
  on ``[-20, 20]`` standard errors of the estimate), taking the union over which pre-period difference is
  largest and its sign, as ``createSensitivityResults_relativeMagnitudes`` does.
* **smoothness** Delta^SD(M): the slope of delta changes by at most M between consecutive periods.  Optimal
  fixed-length confidence intervals (HonestDiD's default "FLCI", :mod:`._flci`).

The *breakdown value* is the largest Mbar (or M) among those tried whose set excludes zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from causalspec._values import jsonable
from causalspec.sensitivity._arp import (
    MomentLP,
    lf_critical_value,
    lf_critical_value_no_nuisance,
    reject_lf_hybrid_grid,
    test_lf_hybrid_no_nuisance,
)
from causalspec.sensitivity._flci import flci

__all__ = ["HonestRow", "ParallelTrendsSensitivity", "original_ci", "relative_magnitudes", "smoothness",
           "smoothness_m_upper"]


@dataclass(frozen=True)
class HonestRow:
    bound: float  # Mbar (relative magnitudes) or M (smoothness)
    lower: float
    upper: float

    @property
    def excludes_zero(self) -> bool:
        return bool(self.lower > 0 or self.upper < 0)


@dataclass(frozen=True)
class ParallelTrendsSensitivity:
    """One sensitivity analysis: the robust confidence sets for each value of the bound, and the original CI."""

    restriction: str  # "relative_magnitudes" | "smoothness"
    method: str  # "C-LF" | "FLCI"
    target: str
    rows: tuple[HonestRow, ...]
    original: tuple[float, float]
    level: float
    notes: tuple[str, ...] = ()

    @property
    def breakdown(self) -> float | None:
        """The largest bound tried whose set still excludes zero (None when even the smallest does not)."""
        kept = None
        for row in sorted(self.rows, key=lambda r: r.bound):
            if not row.excludes_zero:
                break
            kept = row.bound
        return kept

    def summary_lines(self) -> list[str]:
        sym = "Mbar" if self.restriction == "relative_magnitudes" else "M"
        what = ("post-treatment violations of parallel trends up to Mbar times the largest pre-treatment one"
                if self.restriction == "relative_magnitudes" else
                "a trend violation whose slope changes by at most M per period")
        sets = "; ".join(f"{sym} = {r.bound:.4g}: [{r.lower:.4g}, {r.upper:.4g}]" for r in self.rows)
        b = self.breakdown
        lo, hi = self.original
        if lo <= 0 <= hi:
            verdict = f"the original {self.level:.0%} interval [{lo:.4g}, {hi:.4g}] already includes zero"
        elif b is not None:
            verdict = (f"the effect stays significant up to {sym} = {b:.4g} (breakdown value among those tried; "
                       f"original interval [{lo:.4g}, {hi:.4g}])")
        else:
            verdict = (f"the effect is significant without the restriction ([{lo:.4g}, {hi:.4g}]) but not at "
                       f"{sym} = {min(r.bound for r in self.rows):.4g}")
        return [f"Parallel-trends sensitivity ({self.restriction.replace('_', ' ')}, Rambachan-Roth {self.method}, "
                f"{self.target}): {self.level:.0%} robust sets allowing {what}: {sets}; {verdict}."]

    def to_dict(self) -> dict:
        return jsonable({
            "restriction": self.restriction, "method": self.method, "target": self.target, "level": self.level,
            "original_ci": list(self.original), "breakdown": self.breakdown,
            "rows": [{"bound": r.bound, "conf_low": r.lower, "conf_high": r.upper} for r in self.rows],
            "notes": list(self.notes),
        })


def original_ci(betahat, sigma, num_pre: int, l_vec, alpha: float = 0.05) -> tuple[float, float]:
    """HonestDiD's ``constructOriginalCS``: the normal CI of l' beta_post."""
    post = slice(num_pre, None)
    se = float(np.sqrt(l_vec @ sigma[post, post] @ l_vec))
    est = float(l_vec @ betahat[post])
    q = stats.norm.ppf(1 - alpha / 2)
    return est - q * se, est + q * se


def _a_rm(num_pre: int, num_post: int, mbar: float, s: int, positive: bool) -> np.ndarray:
    """Delta^RM_{s,sign}(Mbar) as ``A delta <= 0``: every first difference bounded by the one ending at pre-period
    s (times Mbar after treatment), in columns without the reference period."""
    n = num_pre + num_post
    diffs = np.zeros((n, n + 1))
    for r in range(n):
        diffs[r, r:r + 2] = (-1.0, 1.0)
    vmax = np.zeros(n + 1)
    vmax[num_pre + s - 1:num_pre + s + 1] = (-1.0, 1.0)
    if not positive:
        vmax = -vmax
    upper = np.vstack([np.tile(vmax, (num_pre, 1)), np.tile(mbar * vmax, (num_post, 1))])
    a = np.vstack([diffs - upper, -diffs - upper])
    a = a[np.einsum("ij,ij->i", a, a) > 1e-10]
    return np.delete(a, num_pre, axis=1)


def _gamma(l_vec: np.ndarray) -> np.ndarray:
    """An invertible matrix with l' as its first row (the pivot columns of rref([l, I]))."""
    cols = [l_vec]
    for i in range(l_vec.size):
        e = np.eye(l_vec.size)[i]
        if np.linalg.matrix_rank(np.column_stack([*cols, e])) > len(cols):
            cols.append(e)
    return np.column_stack(cols).T


def _accept_rm(betahat, sigma, num_pre, num_post, l_vec, mbar, s, positive, alpha, kappa, grid) -> np.ndarray:
    a = _a_rm(num_pre, num_post, mbar, s, positive)
    d = np.zeros(a.shape[0])
    post = slice(num_pre, None)
    if num_post == 1:
        rows = np.flatnonzero(a[:, -1] != 0)
        a, d = a[rows], d[rows]
        lf_cv = lf_critical_value_no_nuisance(a @ sigma @ a.T, kappa)
        e = np.zeros(betahat.size)
        e[num_pre] = 1.0
        return np.array([not test_lf_hybrid_no_nuisance(betahat - e * th, sigma, a, d, alpha, kappa, lf_cv)
                         for th in grid])
    rows = np.flatnonzero((a[:, post] != 0).sum(axis=1) > 0)
    ag = a[:, post] @ np.linalg.inv(_gamma(l_vec))
    a1, x = ag[:, 0], ag[:, 1:]
    y = a @ betahat - d
    sy = a @ sigma @ a.T
    xr, sr = x[rows], sy[np.ix_(rows, rows)]
    lf_cv = lf_critical_value(xr, sr, kappa)
    lp = MomentLP(np.sqrt(np.diag(sr)), xr)
    return ~reject_lf_hybrid_grid(y[rows], a1[rows], grid, xr, sr, lp, alpha, kappa, lf_cv)


def _grid(betahat, num_pre: int, l_vec, sd_theta: float, mbar: float, centred: bool, points: int) -> np.ndarray:
    """The candidate values of theta.  HonestDiD's (R, master): ``[-20, 20]`` standard errors of the estimate.
    ``centred``: the grid of Stata's ``honestdid`` and HonestDiD pull request #53 (with which the R README's
    examples were computed): the estimate plus or minus ``Mbar * sum_t t |l_t| * max |pre-period first
    difference| + 20`` standard errors, so that large Mbar are not cut off at the grid's end."""
    if not centred:
        return np.linspace(-20 * sd_theta, 20 * sd_theta, points)
    pre = betahat[:num_pre]
    maxpre = float(np.max(np.abs(np.diff(np.append(pre, 0.0))))) if num_pre > 1 else abs(float(pre[0]))
    off = float(betahat[num_pre:] @ l_vec)
    half = mbar * float(np.arange(1, l_vec.size + 1) @ np.abs(l_vec)) * maxpre + 20 * sd_theta
    return np.linspace(off - half, off + half, points)


def relative_magnitudes(betahat, sigma, num_pre: int, num_post: int, mbars, l_vec=None, alpha: float = 0.05,
                        grid_points: int = 1000, centred_grid: bool = False,
                        target: str = "first post-treatment period") -> ParallelTrendsSensitivity:
    """Robust confidence sets under Delta^RM(Mbar) for each Mbar (``createSensitivityResults_relativeMagnitudes``
    with ``method = "C-LF"``); ``centred_grid`` picks the grid of Stata's honestdid (see :func:`_grid`)."""
    betahat = np.asarray(betahat, dtype=float).ravel()
    sigma = np.asarray(sigma, dtype=float)
    l_vec = np.eye(num_post)[0] if l_vec is None else np.asarray(l_vec, dtype=float).ravel()
    kappa = alpha / 10
    post = slice(num_pre, None)
    sd_theta = float(np.sqrt(l_vec @ sigma[post, post] @ l_vec))
    rows, notes = [], []
    for mbar in mbars:
        grid = _grid(betahat, num_pre, l_vec, sd_theta, float(mbar), centred_grid, grid_points)
        accept = np.zeros(grid_points, dtype=bool)
        for s in range(-(num_pre - 1), 1):
            for positive in (True, False):
                accept |= _accept_rm(betahat, sigma, num_pre, num_post, l_vec, float(mbar), s, positive, alpha,
                                     kappa, grid)
        if not accept.any():
            notes.append(f"Mbar = {mbar:g}: no value of the grid is accepted (the set is empty)")
            rows.append(HonestRow(float(mbar), float("nan"), float("nan")))
            continue
        if accept[0] or accept[-1]:
            notes.append(f"Mbar = {mbar:g}: the set reaches the end of the grid of candidate values; it may be "
                         "longer than shown" + ("" if centred_grid else " (the centred grid reaches further)"))
        rows.append(HonestRow(float(mbar), float(grid[accept].min()), float(grid[accept].max())))
    return ParallelTrendsSensitivity("relative_magnitudes", "C-LF", target, tuple(rows),
                                     original_ci(betahat, sigma, num_pre, l_vec, alpha), 1 - alpha, tuple(notes))


def smoothness_m_upper(betahat, sigma, num_pre: int, alpha: float = 0.05) -> float:
    """HonestDiD's ``DeltaSD_upperBound_Mpre``: the largest one-sided upper confidence bound of the pre-period
    second differences (with the reference period's zero), a data-driven top of the range of M to try."""
    if num_pre < 2:
        raise ValueError("the pre-period second differences need at least 2 pre-period coefficients")
    a = np.zeros((num_pre - 1, num_pre + 1))
    for r in range(num_pre - 1):
        a[r, r:r + 3] = (1.0, -2.0, 1.0)
    a = np.delete(a, num_pre, axis=1)
    a = np.vstack([a, -a])
    pre = np.asarray(betahat, dtype=float)[:num_pre]
    s = np.asarray(sigma, dtype=float)[:num_pre, :num_pre]
    se = np.sqrt(np.diag(a @ s @ a.T))
    return float(np.max(a @ pre + stats.norm.ppf(1 - alpha) * se))


def smoothness(betahat, sigma, num_pre: int, num_post: int, ms, l_vec=None, alpha: float = 0.05,
               target: str = "first post-treatment period") -> ParallelTrendsSensitivity:
    """Optimal FLCIs under Delta^SD(M) for each M (``createSensitivityResults`` with ``method = "FLCI"``)."""
    betahat = np.asarray(betahat, dtype=float).ravel()
    sigma = np.asarray(sigma, dtype=float)
    l_vec = np.eye(num_post)[0] if l_vec is None else np.asarray(l_vec, dtype=float).ravel()
    rows = []
    for m in ms:
        r = flci(betahat, sigma, num_pre, num_post, l_vec, float(m), alpha)
        rows.append(HonestRow(float(m), r.lower, r.upper))
    return ParallelTrendsSensitivity("smoothness", "FLCI", target, tuple(rows),
                                     original_ci(betahat, sigma, num_pre, l_vec, alpha), 1 - alpha)
