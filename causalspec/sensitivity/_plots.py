"""Sensitivity plots drawn with matplotlib's object API (Agg canvas): each takes ``ax=`` and returns the Axes it
drew on, never shows it and never touches pyplot's global state.  All numbers come from :mod:`._contour`.

:func:`panel_axes` and :func:`new_axes` are the one place every causalspec figure gets its Axes from (this is the
lowest layer that draws, so the heterogeneity, robustness and report figures share them)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from causalspec.errors import Problem, UnsupportedError
from causalspec.sensitivity._contour import ContourGrid, ExtremeGrid, contour_grid_for, extreme_grid_for

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["contour_plot", "extreme_plot", "parallel_trends_plot", "new_axes", "panel_axes", "new_figure"]

_TITLES = {
    "estimate": "Adjusted estimate",
    "t-value": "Adjusted t-value",
    "lwr": "Adjusted lower confidence limit",
    "upr": "Adjusted upper confidence limit",
}


def new_figure(size=(6.0, 6.0), *, layout: str | None = "constrained") -> Figure:
    """A Figure on its own Agg canvas: ``savefig`` works, and pyplot never holds it (nothing leaks or shows).
    matplotlib is imported here, at the first figure, not with causalspec (it is 0.7 s of every command's start)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, dpi=100, layout=layout)
    FigureCanvasAgg(fig)  # attach an Agg canvas so savefig works without pyplot
    return fig


def panel_axes(ax, n: int, size=(6.4, 4.2), *, what: str = "this plot", rows: int = 1, **subplots) -> tuple:
    """The ``n`` Axes a figure draws its panels on: ``ax`` itself (one Axes, or a sequence of exactly ``n``), or the
    Axes of a new Figure (``rows`` x ``n / rows``, ``subplots`` passed to ``Figure.subplots``) when ``ax`` is None."""
    if ax is None:
        fig = new_figure(size)
        grid = fig.subplots(rows, max(n, 1) // rows, squeeze=False, **subplots)
        return tuple(grid.ravel())
    from matplotlib.axes import Axes

    given = (ax,) if isinstance(ax, Axes) else tuple(np.ravel(np.asarray(ax, dtype=object)))
    if not all(isinstance(a, Axes) for a in given):
        raise UnsupportedError(Problem("ax", f"{what} draws on matplotlib Axes; got {type(ax).__name__}.",
                                       fix="Pass a matplotlib Axes (e.g. from fig.subplots()), or leave ax=None for a "
                                           "new figure."))
    if len(given) != n:
        raise UnsupportedError(Problem("ax", f"{what} draws {n} panel{'s' if n != 1 else ''}; {len(given)} Axes "
                                       "were given.", fix=f"Pass {'one Axes' if n == 1 else f'a sequence of {n} Axes'}"
                                       ", or leave ax=None for a new figure."))
    return given


def new_axes(ax=None, size=(6.4, 4.2), *, what: str = "this plot"):
    """The one Axes a single-panel figure draws on: ``ax`` itself, or the Axes of a new Figure."""
    return panel_axes(ax, 1, size, what=what)[0]


def _fmt(x: float, digits: int = 3) -> str:
    return f"{round(float(x), digits):g}"


def contour_plot(source, sensitivity_of: str = "estimate", *, title: str | None = None, digits: int = 3, ax=None):
    """Contour plot of bias-adjusted estimates (or t-values, CI limits) over confounder strengths.

    ``source`` is a :class:`SensitivityResult` or a :class:`ContourGrid`.  The red dashed curve is
    the threshold (e.g. zero, or the critical t); red diamonds are the benchmark bounds.
    Reproduces the layout of ``sensemakr::ovb_contour_plot`` (Cinelli & Hazlett 2020, Figs. 2-3).
    Draws on ``ax`` (a new 6 x 6 in figure when None) and returns the Axes.

    Examples
    --------
    >>> from causalspec.sensitivity import sensemakr
    >>> ax = contour_plot(sensemakr(0.0973, 0.0233, 783))
    >>> ax.get_xlabel()
    'Partial R² of confounder(s) with the treatment'
    """
    grid: ContourGrid = source if isinstance(source, ContourGrid) else contour_grid_for(source, sensitivity_of)
    ax = new_axes(ax, (6.0, 6.0), what="contour_plot")
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
    return ax


def extreme_plot(source, *, title: str | None = None, ax=None, **kwargs):
    """Extreme-scenario plot: adjusted estimate against R²_{D~Z|X} for confounders that explain
    100%, 75% and 50% of the residual outcome variance (``sensemakr::ovb_extreme_plot``).

    ``source`` is a :class:`SensitivityResult` (``kwargs`` go to :func:`extreme_grid_for`) or an
    :class:`ExtremeGrid`.  Red ticks on the x axis mark the benchmark bounds on R²_{D~Z|X}.
    Draws on ``ax`` (a new figure when None) and returns the Axes.
    """
    grid: ExtremeGrid = source if isinstance(source, ExtremeGrid) else extreme_grid_for(source, **kwargs)
    ax = new_axes(ax, (7.0, 4.5), what="extreme_plot")
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
    return ax


def parallel_trends_plot(analyses, *, ax=None):
    """HonestDiD's sensitivity plot: the original confidence interval, then the robust set at each bound, one
    panel per restriction (relative magnitudes, smoothness).

    ``ax``: None (a new figure, one panel per analysis side by side), one Axes when there is one analysis, or a
    sequence of as many Axes as analyses.  Returns the Axes drawn on: one Axes for one analysis, else a tuple.
    """
    analyses = [a for a in analyses if hasattr(a, "rows")]
    if not analyses:  # every restriction was left out (each says why in the result): one empty panel says so
        ax = new_axes(ax, (5.2, 3.6), what="parallel_trends_plot")
        ax.text(0.5, 0.5, "no parallel-trends sensitivity analysis was computed", ha="center", va="center")
        ax.set_axis_off()
        return ax
    axes = panel_axes(ax, len(analyses), (5.2 * len(analyses), 3.6), what="parallel_trends_plot")
    for k, (a, ax) in enumerate(zip(analyses, axes)):
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
    return axes[0] if len(axes) == 1 else axes
