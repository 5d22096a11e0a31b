"""The pictures of a CATE model (``heterogeneity.learner``), drawn from ``Result.extras["cate"]`` (no re-fitting):
the distribution of predicted effects, the group effects with their intervals, the Qini curve against random
targeting (randomized evaluation rows only) and the net value of treating the top share by predicted benefit.
Each draws on ``ax=`` (a new figure when None) and returns the Axes."""

from __future__ import annotations

import numpy as np

from causalspec.sensitivity._plots import new_axes

__all__ = ["cate_distribution_plot", "cate_groups_plot", "qini_plot", "policy_value_plot", "has"]

_BLUE, _RED = "#4C72B0", "#C44E52"


def has(result, *keys: str) -> bool:
    """Whether the result's CATE extras hold every key (a figure is drawn only from what the fit produced)."""
    cate = result.extras.get("cate") or {}
    node = cate
    for k in keys:
        if not isinstance(node, dict) or k not in node or node[k] in (None, [], {}):
            return False
        node = node[k]
    return True


def cate_distribution_plot(result, *, ax=None):
    c = result.extras["cate"]
    h = c["cate"]["histogram"]
    edges, counts = np.asarray(h["edges"]), np.asarray(h["counts"])
    ax = new_axes(ax, (7.0, 4.2))
    if len(counts) == 1:  # one predicted effect for everyone: one bar at it, wide enough to see
        mid = edges.mean()
        ax.bar([mid], counts, width=max(0.02 * abs(mid), 1e-6), color=_BLUE, alpha=0.8)
    else:
        ax.bar(edges[:-1], counts, width=np.diff(edges), align="edge", color=_BLUE, alpha=0.8)
    ax.axvline(0.0, color="black", lw=1)
    ate = c["ate_dr"]["estimate"]
    ax.axvline(ate, color=_RED, lw=1.5, ls="--", label=f"average effect (DR) {ate:.3g}")
    ax.set_xlabel(f"predicted effect of {result.plan.treatment} (CATE, {c['learner']}-learner)")
    ax.set_ylabel("units")
    ax.set_title(f"Distribution of predicted effects ({c['evaluated_on'].split(' (')[0]})")
    ax.legend(frameon=False)
    return ax


def cate_groups_plot(result, *, ax=None):
    c = result.extras["cate"]
    rows = []
    for seg in c["segments"]:
        for g in seg.get("effects") or seg.get("gates") or ():
            rows.append((f"{seg['name']}: {g['group']}", g["estimate"], g["conf_low"], g["conf_high"]))
    ax = new_axes(ax, (7.0, max(2.5, 0.35 * len(rows) + 1.2)))
    y = np.arange(len(rows))[::-1]
    est = np.array([r[1] for r in rows])
    lo, hi = np.array([r[2] for r in rows]), np.array([r[3] for r in rows])
    ax.errorbar(est, y, xerr=[est - lo, hi - est], fmt="o", color=_BLUE, capsize=3)
    ax.axvline(0.0, color="black", lw=1)
    ax.axvline(c["ate_dr"]["estimate"], color=_RED, lw=1, ls="--", label="average effect")
    ax.set_yticks(y, [r[0] for r in rows])
    ax.set_xlabel(f"effect of {result.plan.treatment} (doubly robust, {result.plan.vcov.level:.0%} CI)")
    ax.set_title("Effects by segment and by predicted-effect group (GATES)")
    ax.legend(frameon=False)
    return ax


def qini_plot(result, *, ax=None):
    q = result.extras["cate"]["uplift"]["qini_curve"]
    x, v = np.asarray(q["targeted"]), np.asarray(q["incremental"])
    ax = new_axes(ax, (7.0, 4.2))
    ax.plot(x, v, color=_BLUE, label=f"CATE ranking (Qini AUC {result.extras['cate']['uplift']['qini_auc_score']:.3g})")
    ax.plot([0, x[-1]], [0, v[-1]], color="gray", ls="--", label="random targeting")
    ax.set_xlabel("units targeted, by descending predicted effect")
    ax.set_ylabel("incremental outcomes")
    ax.set_title("Qini curve on the randomized evaluation rows")
    ax.legend(frameon=False)
    return ax


def policy_value_plot(result, *, ax=None):
    p = result.extras["cate"]["policy"]
    vc = p["value_curve"]
    share, v, se = (np.asarray(vc[k]) for k in ("share", "value", "std_error"))
    ax = new_axes(ax, (7.0, 4.2))
    ax.plot(share, v, color=_BLUE, label="treat the top share by predicted benefit")
    ax.fill_between(share, v - 1.96 * se, v + 1.96 * se, color=_BLUE, alpha=0.2, lw=0)
    ax.plot([0, 1], [0, v[-1]], color="gray", ls="--", label="treat a random share")
    ax.axhline(0.0, color="black", lw=1)
    ax.axvline(p["best_share"], color=_RED, ls=":", label=f"best share {p['best_share']:.0%}")
    ax.set_xlabel("share treated")
    ax.set_ylabel(f"net value per unit (value {p['value']:g}, cost {p['cost']:g})")
    ax.set_title("Value of targeting, net of cost (95% band)")
    ax.legend(frameon=False)
    return ax
