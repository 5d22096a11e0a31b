"""The numbers behind the sensitivity plots (contour and extreme-scenario), without drawing.

:func:`contour_grid` reproduces ``sensemakr::ovb_contour_plot`` 0.1.6: a 401 x 401 grid of
adjusted estimates, t-values or confidence limits over (R²_{D~Z|X}, R²_{Y~Z|D,X}), the axis
limits, the critical threshold and R's default contour levels (``pretty(range, nlevels)``,
re-implemented in :func:`r_pretty`).  :func:`extreme_grid` reproduces ``ovb_extreme_plot``.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from typing import Literal, Sequence

import numpy as np
from scipy import stats

from causalspec.errors import Problem, SpecError
from causalspec.sensitivity import _ovb

__all__ = ["ContourGrid", "ExtremeGrid", "contour_grid", "contour_grid_for", "extreme_grid",
           "extreme_grid_for", "r_pretty", "r_seq_by", "r_seq_length_out"]

SensitivityOf = Literal["estimate", "t-value", "lwr", "upr"]


def r_seq_by(start: float, stop: float, by: float) -> np.ndarray:
    """R's ``seq(from, to, by)``: ``from + (0:n) * by`` with n = floor((to - from) / by + 1e-10)."""
    n = int((stop - start) / by + 1e-10)
    return np.minimum(start + np.arange(n + 1) * by, stop)


def r_seq_length_out(start: float, stop: float, length: int) -> np.ndarray:
    """R 4.2's ``seq.int(from, to, length.out)``: ``from + i * by`` with the last value set to ``to``."""
    out = start + np.arange(length) * ((stop - start) / (length - 1) if length > 1 else 0.0)
    if length > 1:
        out[-1] = stop
    return out


def r_pretty(lo: float, up: float, n: int = 5, *, shrink_sml: float = 0.75, high_u_bias: float = 1.5,
             f_min: float = 2.0 ** -20) -> np.ndarray:
    """R's ``pretty(c(lo, up), n)`` (R 4.2 ``R_pretty`` with ``bounds = TRUE``, ``eps.correct = 0``)."""
    min_n = n // 3
    h, h5 = high_u_bias, 0.5 + 1.5 * high_u_bias
    eps = sys.float_info.epsilon
    dx = up - lo
    if dx == 0 and up == 0:
        cell, i_small = 1.0, True
    else:
        cell = max(abs(lo), abs(up))
        u = 1 + (1 / (1 + h) if h5 >= 1.5 * h + 0.5 else 1.5 / (1 + h5))
        u *= max(1, n) * eps
        i_small = dx < cell * u * 3
    if i_small:
        if cell > 10:
            cell = 9 + cell / 10
        cell *= shrink_sml
        if min_n > 1:
            cell /= min_n
    else:
        cell = dx
        if n > 1:
            cell /= n
    subsmall = f_min * sys.float_info.min or sys.float_info.min
    cell = max(cell, subsmall)
    base = 10.0 ** math.floor(math.log10(cell))
    unit = base
    if 2 * base - cell < h * (cell - unit):
        unit = 2 * base
        if 5 * base - cell < h5 * (cell - unit):
            unit = 5 * base
            if 10 * base - cell < h * (cell - unit):
                unit = 10 * base
    rounding_eps = 1e-10
    ns = math.floor(lo / unit + rounding_eps)
    nu = math.ceil(up / unit - rounding_eps)
    while ns * unit > lo + rounding_eps * unit:
        ns -= 1
    while nu * unit < up - rounding_eps * unit:
        nu += 1
    k = int(0.5 + nu - ns)
    if k < min_n:
        k = min_n - k
        if ns >= 0:
            nu += k // 2
            ns -= k // 2 + k % 2
        else:
            ns -= k // 2
            nu += k // 2 + k % 2
        ndiv = min_n
    else:
        ndiv = k
    lo_b = ns * unit if ns * unit < lo else lo
    up_b = nu * unit if nu * unit > up else up
    s = r_seq_length_out(lo_b, up_b, ndiv + 1)
    if ndiv:
        # pretty.default zaps values that are only rounding noise away from 0
        delta = (max(lo_b, up_b) - min(lo_b, up_b)) / ndiv
        s[np.abs(s) < 1e-14 * delta] = 0.0
    return s


@dataclass(frozen=True)
class ContourGrid:
    """``value[i, j]`` is the adjusted quantity at ``r2dz_x[i]``, ``r2yz_dx[j]``."""

    sensitivity_of: str
    r2dz_x: np.ndarray
    r2yz_dx: np.ndarray
    value: np.ndarray
    threshold: float
    levels: np.ndarray
    unadjusted: float
    bounds_r2dz_x: tuple[float, ...] = ()
    bounds_r2yz_dx: tuple[float, ...] = ()
    bounds_value: tuple[float, ...] = ()
    bounds_label: tuple[str, ...] = ()

    @property
    def lim_x(self) -> float:
        return float(self.r2dz_x[-1])

    @property
    def lim_y(self) -> float:
        return float(self.r2yz_dx[-1])


def _lim(lim: float | None, values: Sequence[float]) -> float:
    if lim is None:
        lim = min(max([0.4, *(1.2 * v for v in values)]), 1 - 1e-12)
    if lim > 1:
        lim = 1 - 1e-12
    if lim < 0:
        lim = 0.4
    return float(lim)


def contour_grid(estimate: float, se: float, dof: float, sensitivity_of: SensitivityOf = "estimate", *,
                 r2dz_x: Sequence[float] = (), r2yz_dx: Sequence[float] = (), bound_label: Sequence[str] = (),
                 reduce: bool = True, estimate_threshold: float = 0.0, t_threshold: float | None = None,
                 alpha: float = 0.05, lim: float | None = None, lim_y: float | None = None,
                 nlevels: int = 10) -> ContourGrid:
    """Grid of bias-adjusted values for the sensitivity contour plot.

    Matches ``sensemakr::ovb_contour_plot`` (numeric method, 0.1.6): grid ``seq(0, lim, by = lim/400)``
    with ``lim = max(0.4, 1.2 * bounds)`` per axis; t-values test ``estimate_threshold``; the default
    ``t_threshold`` is ``qt(1 - alpha/2, dof)``.  Cinelli & Hazlett (2020), Section 5.
    """
    if sensitivity_of not in ("estimate", "t-value", "lwr", "upr"):
        raise SpecError(Problem("sensitivity.sensitivity_of", f"unknown contour quantity {sensitivity_of!r}.",
                                fix="Use 'estimate', 't-value', 'lwr' or 'upr'."))
    bx = np.atleast_1d(_ovb._check_r2(r2dz_x, "r2dz_x"))
    by_ = np.atleast_1d(_ovb._check_r2(r2yz_dx, "r2yz_dx"))
    if bx.size != by_.size:
        raise SpecError(Problem("sensitivity.r2yz_dx", "r2dz_x and r2yz_dx must have the same length.",
                                fix="Pass one R²_{Y~Z|D,X} per R²_{D~Z|X}."))
    alpha = _ovb.check_alpha(alpha)
    if t_threshold is None:
        t_threshold = float(stats.t.ppf(1 - alpha / 2, dof))
    lx, ly = _lim(lim, bx), _lim(lim if lim_y is None else lim_y, by_)
    gx, gy = r_seq_by(0.0, lx, lx / 400), r_seq_by(0.0, ly, ly / 400)
    xx, yy = np.meshgrid(gx, gy, indexing="ij")

    def values(a, b):
        if sensitivity_of == "estimate":
            return _ovb.adjusted_estimate(estimate, se, dof, a, b, reduce=reduce)
        if sensitivity_of == "t-value":
            return _ovb.adjusted_t(estimate, se, dof, a, b, reduce=reduce, h0=estimate_threshold)
        return _ovb.adjusted_ci(estimate, se, dof, a, b, which=sensitivity_of, reduce=reduce, alpha=alpha)

    z = np.asarray(values(xx, yy))
    if sensitivity_of == "estimate":
        threshold, unadjusted = estimate_threshold, estimate
    elif sensitivity_of == "t-value":
        threshold, unadjusted = t_threshold, (estimate - estimate_threshold) / se
    else:
        # sensemakr 0.1.6 reports the t threshold for the confidence-limit contours too
        threshold, unadjusted = t_threshold, float(values(0.0, 0.0))
    bvals = tuple(float(v) for v in np.atleast_1d(values(bx, by_))) if bx.size else ()
    labels = tuple(bound_label) if len(bound_label) else tuple("manual" for _ in bx)
    return ContourGrid(sensitivity_of, gx, gy, z, float(threshold), r_pretty(float(z.min()), float(z.max()), nlevels),
                       float(unadjusted), tuple(map(float, bx)), tuple(map(float, by_)), bvals, labels)


def contour_grid_for(result, sensitivity_of: SensitivityOf = "estimate", **kwargs) -> ContourGrid:
    """Contour grid of a :class:`SensitivityResult`, as ``plot(sensemakr_object)`` draws it.

    Matches ``ovb_contour_plot.sensemakr``: the estimate threshold is h0 and the t threshold is
    ``|qt(alpha/2, dof - 1)| * sign(t)``; the result's bounds are marked.
    """
    t_thr = abs(stats.t.ppf(result.alpha / 2, result.dof - 1)) * np.sign(result.t_statistic)
    opts = dict(r2dz_x=[b.r2dz_x for b in result.bounds], r2yz_dx=[b.r2yz_dx for b in result.bounds],
                bound_label=[b.label for b in result.bounds], reduce=result.reduce,
                estimate_threshold=result.h0, t_threshold=float(t_thr), alpha=result.alpha)
    opts.update(kwargs)
    return contour_grid(result.estimate, result.se, result.dof, sensitivity_of, **opts)


@dataclass(frozen=True)
class ExtremeGrid:
    """Adjusted estimates along R²_{D~Z|X} for confounders explaining fixed shares of the outcome."""

    r2dz_x: np.ndarray
    r2yz_dx: tuple[float, ...]
    adjusted_estimate: np.ndarray  # one row per r2yz_dx scenario
    threshold: float
    bounds_r2dz_x: tuple[float, ...] = ()


def extreme_grid(estimate: float, se: float, dof: float, *, r2dz_x: Sequence[float] = (),
                 r2yz_dx: Sequence[float] = (1.0, 0.75, 0.5), reduce: bool = True, threshold: float = 0.0,
                 lim: float | None = None) -> ExtremeGrid:
    """Curves of the extreme-scenario plot (``sensemakr::ovb_extreme_plot``, numeric method, 0.1.6).

    The x grid is ``seq(0, lim, by = 0.001)`` with ``lim = min(c(r2dz_x + 0.1, 0.5))`` by default.
    Cinelli & Hazlett (2020), Section 5.2.
    """
    bx = np.atleast_1d(_ovb._check_r2(r2dz_x, "r2dz_x"))
    ys = tuple(float(v) for v in np.atleast_1d(_ovb._check_r2(r2yz_dx, "r2yz_dx")))
    if lim is None:
        lim = float(min([*(bx + 0.1), 0.5]))
    if lim >= 1:
        lim = 0.99
    if lim < 0:
        lim = 0.4
    gx = r_seq_by(0.0, lim, 0.001)
    curves = np.vstack([np.atleast_1d(_ovb.adjusted_estimate(estimate, se, dof, gx, y, reduce=reduce)) for y in ys])
    return ExtremeGrid(gx, ys, curves, float(threshold), tuple(map(float, bx)))


def extreme_grid_for(result, **kwargs) -> ExtremeGrid:
    """Extreme-scenario curves of a :class:`SensitivityResult` (``ovb_extreme_plot.sensemakr``)."""
    opts = dict(r2dz_x=[b.r2dz_x for b in result.bounds], reduce=result.reduce, threshold=result.h0)
    opts.update(kwargs)
    return extreme_grid(result.estimate, result.se, result.dof, **opts)
