"""Propensity-score figures drawn from a Result (no re-fitting): overlap of the scores and the love plot."""

from __future__ import annotations

import numpy as np
import pandas as pd

from causalspec.errors import Problem, UnsupportedError
from causalspec.sensitivity._plots import new_axes, panel_axes

__all__ = ["overlap_plot", "love_plot"]


def _need(result, key: str, what: str, needs: tuple[str, ...] = ("ipw", "aipw", "matching")):
    extras = getattr(result, "extras", None) or {}
    if key not in extras:
        estimator = getattr(getattr(result, "plan", None), "estimator", None)
        name = getattr(estimator, "value", estimator)
        raise UnsupportedError(Problem(
            "design.estimator", f"the {what} needs a fit by {' or '.join(needs)}; this result's estimator is {name}.",
            fix=f"Use design.estimator {' or '.join(needs)}.", code="plot_not_applicable"))
    return extras[key]


def overlap_plot(result, *, ax=None):
    """Propensity-score distributions of the treated and the controls (mirrored histograms), and after matching.

    The common-support range is shaded; scores piled against 0 or 1 mean weights are unstable and
    matches poor.  Like ``plot(m, type = "hist")`` in MatchIt or ``cobalt::bal.plot(which = "both")``.

    One panel (all units), or two after matching (all units, then the matched sample): ``ax`` is None (a new
    figure), one Axes for one panel or a sequence of two Axes for two.  Returns the Axes drawn on: one Axes for one
    panel, else a tuple of two.

    Examples
    --------
    >>> import causalspec as cs
    >>> r = cs.run("specs/feature_psm.yaml", refute=False)      # doctest: +SKIP
    >>> all_units, matched = overlap_plot(r)                     # doctest: +SKIP
    >>> matched.figure.savefig("overlap.png")                    # doctest: +SKIP
    """
    h = _need(result, "propensity_histogram", "overlap plot")
    edges = np.asarray(h["edges"], float)
    width = np.diff(edges)
    mids = edges[:-1]
    panels = [("All units", np.asarray(h["treated"], float), np.asarray(h["control"], float))]
    if "treated_matched" in h:
        panels.append(("Matched (weighted)", np.asarray(h["treated_matched"], float),
                       np.asarray(h["control_matched"], float)))
    axes = panel_axes(ax, len(panels), (6.0 * len(panels), 4.0), what="overlap_plot")
    support = (result.extras.get("overlap") or {}).get("support")
    for i, ((title, tr, co), ax) in enumerate(zip(panels, axes)):
        tr_share = tr / max(tr.sum(), 1.0)
        co_share = co / max(co.sum(), 1.0)
        ax.bar(mids, tr_share, width=width, align="edge", color="#1f77b4", alpha=0.8, label="treated")
        ax.bar(mids, -co_share, width=width, align="edge", color="#ff7f0e", alpha=0.8, label="control")
        if support is not None:
            ax.axvspan(support[0], support[1], color="grey", alpha=0.12, label="common support")
        ax.axhline(0.0, color="black", linewidth=0.6)
        ticks = ax.get_yticks()
        ax.set_yticks(ticks, [f"{abs(t):.2g}" for t in ticks])
        ax.set_xlim(0.0, 1.0)
        ax.set_xlabel("propensity score")
        ax.set_ylabel("share of group (treated up, control down)")
        ax.set_title(title)
        if i == 0:
            ax.legend(loc="upper right", frameon=False, fontsize=8)
    return axes[0] if len(axes) == 1 else axes


def love_plot(result, *, threshold: float = 0.1, ax=None):
    """Absolute mean differences before and after matching or weighting, one row per covariate.

    As ``plot(summary(m))`` in MatchIt / ``cobalt::love.plot``: hollow points before, filled after; the
    dashed line is the usual 0.1 balance threshold.  After matching the differences are MatchIt's standardized
    ones; after weighting cobalt's (``diff``: standardized for continuous covariates, raw for binary ones).
    Draws on ``ax`` (a new figure when None) and returns the Axes.
    """

    before = _need(result, "balance_before", "love plot", ("matching", "ipw", "aipw", "ipw_ra", "aipw_wls"))
    after = {r["covariate"]: r for r in _need(result, "balance_after", "love plot", ("matching", "ipw", "aipw", "ipw_ra", "aipw_wls"))}
    names = [r["covariate"] for r in before]

    def smd(row):
        v = None
        for key in ("smd", "diff", "mean_diff"):
            if row and row.get(key) is not None:
                v = row[key]
                break
        return np.nan if v is None else abs(float(v))

    b = np.array([smd(r) for r in before])
    a = np.array([smd(after.get(n)) for n in names])
    estimator = getattr(getattr(getattr(result, "plan", None), "estimator", None), "value", "matching")
    raw = any(r.get("standardized") is False for r in before)
    return _draw_love(names, b, a, threshold, absolute=True,
                      adjusted="Matched" if estimator == "matching" else "Weighted",
                      label="Absolute mean differences (standardized; binary covariates raw)" if raw else None, ax=ax)


def love_plot_from_tables(before: pd.DataFrame, after: pd.DataFrame, *, threshold: float = 0.1,
                          absolute: bool = True, ax=None):
    """The love plot from two MatchIt-style balance tables (``Matching.balance()``): standardized mean
    differences before and after matching, one row per covariate.  Returns the Axes drawn on."""
    col = "Std. Mean Diff." if "Std. Mean Diff." in before.columns else "Mean Diff."
    names = list(before.index)
    b = before[col].to_numpy(dtype=float)
    a = after.reindex(names)[col].to_numpy(dtype=float)
    if absolute:
        b, a = np.abs(b), np.abs(a)
    return _draw_love(names, b, a, threshold, absolute=absolute, ax=ax)


def _draw_love(names, b, a, threshold: float, *, absolute: bool, adjusted: str = "Matched", label: str | None = None,
               ax=None):
    ax = new_axes(ax, (6.0, 0.35 * len(names) + 1.4), what="love_plot")
    ypos = np.arange(len(names))[::-1]
    ax.scatter(b, ypos, marker="o", facecolors="none", edgecolors="black", label="All data")
    ax.scatter(a, ypos, marker="o", color="black", label=adjusted)
    ax.set_yticks(ypos, names)
    ax.axvline(0.0, color="grey", linewidth=0.8)
    for v in (threshold,) if absolute else (threshold, -threshold):
        ax.axvline(v, color="grey", linestyle="--", linewidth=0.8)
    ax.set_xlabel(label or (("Absolute s" if absolute else "S") + "tandardized mean difference"))
    ax.legend(loc="lower right", frameon=False)
    return ax
