"""The event-study figure: one coefficient and CI per period relative to treatment."""

from __future__ import annotations
from causalspec.errors import UnsupportedError

__all__ = ["event_study_plot"]


def event_study_plot(result, *, title: str | None = None):
    """Coefficients by relative period with their confidence intervals, the reference period marked at zero.

    ``result`` is a Result of an ``event_study`` design (its ``extras["event_study"]`` table).
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    table = result.extras.get("event_study") if hasattr(result, "extras") else None
    if not table:
        raise UnsupportedError("this result has no event-study coefficients.", loc="design.type",
                               fix="Plot the result of a design.type event_study spec.")
    ref = result.extras.get("reference", -1)
    rows = sorted(table, key=lambda r: r["relative_time"])
    xs = [r["relative_time"] for r in rows] + [ref]
    est = [r["estimate"] for r in rows] + [0.0]
    lo = [r["estimate"] - r["conf_low"] for r in rows] + [0.0]
    hi = [r["conf_high"] - r["estimate"] for r in rows] + [0.0]
    order = sorted(range(len(xs)), key=lambda i: xs[i])
    fig, ax = plt.subplots(figsize=(7.0, 4.2))
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
    fig.tight_layout()
    return fig
