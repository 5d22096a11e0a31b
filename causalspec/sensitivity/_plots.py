"""Sensitivity plots drawn with matplotlib's object API (Agg canvas): they return a Figure and
never show it or touch pyplot's global state.  All numbers come from :mod:`._contour`."""

from __future__ import annotations

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from causalspec.sensitivity._contour import ContourGrid, ExtremeGrid, contour_grid_for, extreme_grid_for

__all__ = ["contour_plot", "extreme_plot", "parallel_trends_plot"]

_TITLES = {
    "estimate": "Adjusted estimate",
    "t-value": "Adjusted t-value",
    "lwr": "Adjusted lower confidence limit",
    "upr": "Adjusted upper confidence limit",
}


def _figure(size=(6.0, 6.0)) -> Figure:
    fig = Figure(figsize=size, dpi=100)
    FigureCanvasAgg(fig)  # attach an Agg canvas so savefig works without pyplot
    return fig


def _fmt(x: float, digits: int = 3) -> str:
    return f"{round(float(x), digits):g}"


def contour_plot(source, sensitivity_of: str = "estimate", *, title: str | None = None, digits: int = 3) -> Figure:
    """Contour plot of bias-adjusted estimates (or t-values, CI limits) over confounder strengths.

    ``source`` is a :class:`SensitivityResult` or a :class:`ContourGrid`.  The red dashed curve is
    the threshold (e.g. zero, or the critical t); red diamonds are the benchmark bounds.
    Reproduces the layout of ``sensemakr::ovb_contour_plot`` (Cinelli & Hazlett 2020, Figs. 2-3).
    """
    grid: ContourGrid = source if isinstance(source, ContourGrid) else contour_grid_for(source, sensitivity_of)
    fig = _figure()
    ax = fig.add_subplot(1, 1, 1)
    z = grid.value.T  # matplotlib wants z[y, x]
    levels = grid.levels
    if levels.size > 1:
        # like sensemakr, hide the regular level that would sit on top of the threshold curve
        keep = np.abs(levels - grid.threshold) >= 0.25 * np.min(np.diff(levels))
        cs = ax.contour(grid.r2dz_x, grid.r2yz_dx, z, levels=levels[keep], colors="black", linewidths=0.8,
                        linestyles="solid")
        ax.clabel(cs, fontsize=7, fmt=lambda v: _fmt(v, digits))
    if z.min() <= grid.threshold <= z.max():
        thr = ax.contour(grid.r2dz_x, grid.r2yz_dx, z, levels=[grid.threshold], colors="red",
                         linewidths=1.6, linestyles="dashed")
        ax.clabel(thr, fontsize=7, fmt=lambda v: _fmt(v, digits))
    bump_x, bump_y = grid.lim_x / 15, grid.lim_y / 15
    ax.plot([0], [0], marker="^", color="black", markersize=7, clip_on=False)
    ax.annotate(f"Observed\n({_fmt(grid.unadjusted, digits)})", (0, 0), (bump_x, bump_y * 0.6),
                textcoords="data", fontsize=7, ha="center")
    for x, y, v, lab in zip(grid.bounds_r2dz_x, grid.bounds_r2yz_dx, grid.bounds_value, grid.bounds_label):
        ax.plot([x], [y], marker="D", markerfacecolor="red", markeredgecolor="black", markersize=6)
        ax.annotate(f"{lab}\n({_fmt(v, digits)})", (x, y), (x + bump_x * 0.3, y + bump_y * 0.4),
                    textcoords="data", fontsize=7)
    ax.set_xlim(0, grid.lim_x)
    ax.set_ylim(0, grid.lim_y)
    ax.set_xlabel("Partial R² of confounder(s) with the treatment")
    ax.set_ylabel("Partial R² of confounder(s) with the outcome")
    ax.set_title(title or _TITLES[grid.sensitivity_of], fontsize=10)
    fig.tight_layout()
    return fig


def extreme_plot(source, *, title: str | None = None, **kwargs) -> Figure:
    """Extreme-scenario plot: adjusted estimate against R²_{D~Z|X} for confounders that explain
    100%, 75% and 50% of the residual outcome variance (``sensemakr::ovb_extreme_plot``).

    ``source`` is a :class:`SensitivityResult` (``kwargs`` go to :func:`extreme_grid_for`) or an
    :class:`ExtremeGrid`.  Red ticks on the x axis mark the benchmark bounds on R²_{D~Z|X}.
    """
    grid: ExtremeGrid = source if isinstance(source, ExtremeGrid) else extreme_grid_for(source, **kwargs)
    fig = _figure((7.0, 4.5))
    ax = fig.add_subplot(1, 1, 1)
    styles = ["-", "--", ":", "-."]
    for i, (y, curve) in enumerate(zip(grid.r2yz_dx, grid.adjusted_estimate)):
        ax.plot(grid.r2dz_x, curve, color="black", linestyle=styles[i % len(styles)], linewidth=1.2,
                label=f"R²(Y~Z|D,X) = {100 * y:g}%")
    ax.axhline(grid.threshold, color="red", linestyle=(0, (5, 3)), linewidth=1, label="threshold")
    for x in grid.bounds_r2dz_x:
        ax.axvline(x, ymin=0, ymax=0.04, color="red", linewidth=2)
    first = grid.adjusted_estimate[0]
    if first[0] < 0:
        ax.invert_yaxis()
    ax.set_xlim(0, grid.r2dz_x[-1])
    ax.set_xlabel("Partial R² of confounder(s) with the treatment")
    ax.set_ylabel("Adjusted effect estimate")
    ax.legend(fontsize=7, frameon=False, loc="upper right", title="Partial R² with the outcome",
              title_fontsize=7)
    ax.set_title(title or "Extreme scenarios", fontsize=10)
    fig.tight_layout()
    return fig


def parallel_trends_plot(analyses) -> Figure:
    """HonestDiD's sensitivity plot: the original confidence interval, then the robust set at each bound, one
    panel per restriction (relative magnitudes, smoothness)."""
    analyses = [a for a in analyses if hasattr(a, "rows")]
    fig = _figure((5.2 * max(len(analyses), 1), 3.6))
    for k, a in enumerate(analyses):
        ax = fig.add_subplot(1, max(len(analyses), 1), k + 1)
        sym = "Mbar" if a.restriction == "relative_magnitudes" else "M"
        labels = ["original"] + [f"{r.bound:.3g}" for r in a.rows]
        lows = [a.original[0]] + [r.lower for r in a.rows]
        highs = [a.original[1]] + [r.upper for r in a.rows]
        for i, (lo, hi) in enumerate(zip(lows, highs)):
            colour = "#999999" if i == 0 else "#1f4e79"
            if np.isfinite(lo) and np.isfinite(hi):
                ax.plot([i, i], [lo, hi], color=colour, lw=2.5)
                ax.plot([i - 0.12, i + 0.12], [lo, lo], color=colour, lw=1)
                ax.plot([i - 0.12, i + 0.12], [hi, hi], color=colour, lw=1)
        ax.axhline(0, color="#bbbbbb", lw=0.8, ls="--")
        ax.set_xticks(range(len(labels)))
        ax.set_xticklabels(labels, fontsize=8)
        ax.set_xlabel(sym)
        ax.set_title(f"{a.restriction.replace('_', ' ')} ({a.method}, {a.level:.0%})", fontsize=9)
        if k == 0:
            ax.set_ylabel(a.target, fontsize=8)
    fig.tight_layout()
    return fig
