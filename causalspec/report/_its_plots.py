"""The interrupted time series figure: the series, the fitted segments, and the counterfactual trend with its band."""

from __future__ import annotations

from causalspec.errors import UnsupportedError
from causalspec.sensitivity._plots import new_axes

__all__ = ["its_plot"]

_BLUE, _GREY, _RED = "#1f4e79", "#9a9a9a", "#c0392b"


def _ticks(ax, rows) -> None:
    times = sorted({r["time"] for r in rows})
    label = {r["time"]: r["period"] for r in rows}
    step = max(1, len(times) // 8)
    shown = times[::step]
    ax.set_xticks(shown)
    ax.set_xticklabels([label[t] for t in shown], rotation=30, ha="right", fontsize=8)


def its_plot(result, *, title: str | None = None, ax=None):
    """The observed series (points), the fitted segmented line (one line per segment), and after the first
    interruption the counterfactual (the pre-interruption line and seasonality continued, dashed) with its
    pointwise confidence band; comparison series in grey.  Draws on ``ax`` (a new figure when None) and returns
    the Axes.

    ``result`` is a Result of an ``interrupted_time_series`` design (its ``extras["interrupted_time_series"]``).

    Examples
    --------
    >>> import causalspec as cs  # doctest: +SKIP
    >>> ax = its_plot(cs.run("specs/its_seatbelts.yaml", refute=False))  # doctest: +SKIP
    >>> ax.figure.savefig("its.png")                                    # doctest: +SKIP
    """
    its = result.extras.get("interrupted_time_series") if hasattr(result, "extras") else None
    if not its or not its.get("series"):
        raise UnsupportedError("this result has no interrupted time series.", loc="design.type",
                               fix="Plot the result of a design.type interrupted_time_series spec.")
    rows = its["series"]
    level = result.plan.vcov.level
    ax = new_axes(ax, (8.0, 4.4), what="its_plot")
    for name in dict.fromkeys(r["series"] for r in rows):
        mine = sorted((r for r in rows if r["series"] == name), key=lambda r: r["time"])
        interrupted = mine[0]["interrupted"]
        colour = _BLUE if interrupted else _GREY
        label = f"{result.plan.outcome}" + (f" ({name})" if name is not None else "")
        ax.plot([r["time"] for r in mine], [r["observed"] for r in mine], "o", ms=2.5, color=colour, alpha=0.55,
                label=label)
        for seg in dict.fromkeys(r["segment"] for r in mine):
            part = [r for r in mine if r["segment"] == seg]
            ax.plot([r["time"] for r in part], [r["fitted"] for r in part], "-", lw=1.6, color=colour,
                    label="fitted segments" if interrupted and seg == 0 else None)
        band = [r for r in mine if "counterfactual" in r]
        if band:
            xs = [r["time"] for r in band]
            ax.fill_between(xs, [r["counterfactual_low"] for r in band], [r["counterfactual_high"] for r in band],
                            color=_RED, alpha=0.15, lw=0, label=f"counterfactual, {level:.0%} CI")
            ax.plot(xs, [r["counterfactual"] for r in band], "--", lw=1.4, color=_RED,
                    label="counterfactual (no interruption)")
    by_label = {r["period"]: r["time"] for r in rows}
    for cut in its["interruptions"]:
        if cut in by_label:
            ax.axvline(by_label[cut] - 0.5, color="#555555", lw=0.8, ls=":")
            ax.annotate(cut, (by_label[cut] - 0.5, 1.0), xycoords=("data", "axes fraction"), xytext=(3, -12),
                        textcoords="offset points", fontsize=8, color="#555555")
    _ticks(ax, rows)
    ax.set_xlabel(its["time"])
    ax.set_ylabel(result.plan.outcome)
    ax.set_title(title or f"Interrupted time series: {result.plan.name}")
    ax.legend(fontsize=8, frameon=False, loc="best")
    return ax
