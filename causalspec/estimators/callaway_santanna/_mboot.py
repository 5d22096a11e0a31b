"""Multiplier bootstrap of influence functions for standard errors and uniform bands.

Matches the algorithm of ``did::mboot`` (did 2.5.1; Callaway & Sant'Anna 2021,
section 4.1): each draw multiplies the unit influence functions by iid weights
with mean 0 and variance 1, the bootstrap standard error is the interquartile
range of the draws over that of the standard normal, and the uniform-band
critical value is the (1 - alp) quantile of the largest studentised draw.
Draws come from a seeded ``numpy.random.Generator``, so they cannot equal R's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from causalspec.errors import Problem, SpecError

__all__ = ["BootstrapResult", "multiplier_bootstrap"]

_IQR_NORMAL = stats.norm.ppf(0.75) - stats.norm.ppf(0.25)


@dataclass(frozen=True)
class BootstrapResult:
    """Bootstrap standard errors (NaN for degenerate columns) and the uniform critical value."""

    se: np.ndarray
    crit_val: float
    biters: int
    weights: str


def _quantile_type1(x: np.ndarray, p: float, axis: int = 0) -> np.ndarray:
    # R's quantile(type = 1): the inverse of the empirical distribution function.
    return np.quantile(x, p, axis=axis, method="inverted_cdf")


def _draw_weights(rng: np.random.Generator, size: tuple[int, int], kind: str) -> np.ndarray:
    if kind == "rademacher":
        return rng.choice(np.array([-1.0, 1.0]), size=size)
    # Mammen (1993) two-point weights: mean 0, variance 1, third moment 1 (did's default).
    s5 = np.sqrt(5.0)
    lo, hi = -(s5 - 1.0) / 2.0, (s5 + 1.0) / 2.0
    p_lo = (s5 + 1.0) / (2.0 * s5)
    return np.where(rng.random(size) < p_lo, lo, hi)


def multiplier_bootstrap(inf_func: np.ndarray, rng: np.random.Generator, *, biters: int = 1000,
                         weights: str = "mammen", alp: float = 0.05, chunk: int = 250) -> BootstrapResult:
    """Bootstrap standard errors and the sup-t critical value of a units x k influence-function matrix.

    Matches did::mboot (did 2.5.1, multiplier bootstrap without extra clustering).
    Callaway & Sant'Anna (2021), "Difference-in-differences with multiple time periods", section 4.1.
    """
    if weights not in ("mammen", "rademacher"):
        raise SpecError(Problem("bootstrap.weights", f"unknown multiplier weights {weights!r}.",
                                fix="Use 'mammen' (did's default) or 'rademacher'."))
    if not isinstance(rng, np.random.Generator):
        raise SpecError(Problem("rng", "the bootstrap needs a numpy.random.Generator.",
                                fix="Pass rng=numpy.random.default_rng(seed)."))
    psi = np.asarray(inf_func, dtype=float)
    if psi.ndim == 1:
        psi = psi[:, None]
    n, k = psi.shape
    draws = np.empty((biters, k))
    for start in range(0, biters, chunk):
        stop = min(start + chunk, biters)
        v = _draw_weights(rng, (stop - start, n), weights)
        draws[start:stop] = np.sqrt(n) * (v @ psi) / n
    # Columns with no variation (e.g. normalised base-period cells) carry no information.
    ok = np.isfinite(draws.sum(axis=0)) & ((draws ** 2).sum(axis=0) > np.sqrt(np.finfo(float).eps) * 10)
    se = np.full(k, np.nan)
    crit = np.nan
    if ok.any():
        b = draws[:, ok]
        sigma = (_quantile_type1(b, 0.75) - _quantile_type1(b, 0.25)) / _IQR_NORMAL
        with np.errstate(divide="ignore", invalid="ignore"):
            t_max = np.nanmax(np.abs(b / sigma), axis=1)
        t_max = t_max[np.isfinite(t_max)]
        if t_max.size:
            crit = float(_quantile_type1(t_max, 1.0 - alp))
        se[ok] = sigma / np.sqrt(n)
    return BootstrapResult(se=se, crit_val=crit, biters=biters, weights=weights)
