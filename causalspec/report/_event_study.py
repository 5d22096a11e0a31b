"""The event-study figure: one coefficient and CI per period relative to treatment."""

from __future__ import annotations

from causalspec.errors import UnsupportedError
from causalspec.sensitivity._plots import new_axes

__all__ = ["event_study_plot", "event_study_rows"]


def event_study_rows(result) -> tuple[list[dict], int]:
    """The result's event-study coefficients sorted by relative period, and its reference period."""
    table = result.extras.get("event_study") if hasattr(result, "extras") else None
    if not table:
        name = getattr(getattr(result, "plan", None), "name", "this result")
        raise UnsupportedError(f"{name} has no event-study coefficients.", loc="design.type",
                               fix="Plot the result of a design.type event_study spec.")
    return sorted(table, key=lambda r: r["relative_time"]), result.extras.get("reference", -1)


def event_study_plot(result, *, title: str | None = None, ax=None):
    """Coefficients by relative period with their confidence intervals, the reference period marked at zero.

    ``result`` is a Result of an ``event_study`` design (its ``extras["event_study"]`` table).  Draws on ``ax`` (a
    new figure when None) and returns the Axes; :func:`iplot` draws several results on one Axes.

    Examples
    --------
    >>> import causalspec as cs
    >>> ax = event_study_plot(cs.run("specs/mpdta_event_study.yaml", refute=False))   # doctest: +SKIP
    >>> ax.figure.savefig("event_study.png")                                         # doctest: +SKIP
    """
    rows, ref = event_study_rows(result)
    ax = new_axes(ax, (7.0, 4.2), what="event_study_plot")
    xs = [r["relative_time"] for r in rows] + [ref]
    est = [r["estimate"] for r in rows] + [0.0]
    lo = [r["estimate"] - r["conf_low"] for r in rows] + [0.0]
    hi = [r["conf_high"] - r["estimate"] for r in rows] + [0.0]
    order = sorted(range(len(xs)), key=lambda i: xs[i])
    ax.axhline(0, color="#888888", lw=0.8)
    ax.axvline(ref + 0.5, color="#bbbbbb", lw=0.8, ls="--")
    ax.errorbar([xs[i] for i in order], [est[i] for i in order], yerr=[[lo[i] for i in order], [hi[i] for i in order]],
                fmt="o-", color="#1f4e79", ecolor="#8fb3d9", capsize=3, lw=1)
    ax.plot([ref], [0.0], "o", mfc="white", mec="#1f4e79")
    ax.annotate("reference", (ref, 0.0), textcoords="offset points", xytext=(0, 8), ha="center", fontsize=8)
    level = result.plan.vcov.level
    ax.set_xlabel("periods relative to treatment")
    ax.set_ylabel(f"effect on {result.plan.outcome} ({level:.0%} CI)")
    ax.set_title(title or f"Event study: {result.plan.name}")
    return ax
