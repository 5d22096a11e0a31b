"""Figures for heterogeneous effects: each takes ``ax=`` (a new figure on its own Agg canvas when None, never
registered with pyplot) and returns the Axes."""

from __future__ import annotations

import numpy as np

from causalspec.heterogeneity._uplift import qini_curve, uplift_curve
from causalspec.heterogeneity._policy import value_curve
from causalspec.sensitivity._plots import new_axes

__all__ = ["plot_cate_distribution", "plot_group_effects", "plot_uplift", "plot_value_curve"]


def _axes(ax):
    return new_axes(ax, (6.0, 4.0))


def plot_cate_distribution(cate, ax=None, bins: int = 40, ate: float | None = None):
    """Histogram of the predicted CATEs, with zero and (when given) the average effect marked."""
    ax = _axes(ax)
    cate = np.asarray(cate, float)
    ax.hist(cate, bins=bins, color="#4C72B0", alpha=0.8)
    ax.axvline(0.0, color="black", lw=1)
    if ate is not None:
        ax.axvline(ate, color="#C44E52", lw=1.5, ls="--", label=f"average effect {ate:.3g}")
        ax.legend(frameon=False)
    ax.set_xlabel("predicted effect (CATE)")
    ax.set_ylabel("units")
    ax.set_title("Distribution of predicted effects")
    return ax


def plot_group_effects(effects, ax=None, title: str = "Group effects (95% CI)"):
    """Point estimates and intervals of group effects (``GroupEffect`` rows), one line per group."""
    ax = _axes(ax)
    names = [e.group for e in effects]
    est = np.array([e.estimate for e in effects])
    lo = np.array([e.conf_low for e in effects])
    hi = np.array([e.conf_high for e in effects])
    y = np.arange(len(names))
    ax.errorbar(est, y, xerr=[est - lo, hi - est], fmt="o", color="#4C72B0", capsize=3)
    ax.axvline(0.0, color="black", lw=1)
    ax.set_yticks(y, names)
    ax.set_xlabel("effect")
    ax.set_title(title)
    return ax


def plot_uplift(y, score, t, kind: str = "qini", ax=None, label: str = "model"):
    """The Qini (or uplift) curve of a score against the random-targeting line."""
    ax = _axes(ax)
    x, v = (qini_curve if kind == "qini" else uplift_curve)(y, score, t)
    ax.plot(x, v, color="#4C72B0", label=label)
    ax.plot([0, x[-1]], [0, v[-1]], color="gray", ls="--", label="random")
    ax.set_xlabel("units targeted (by descending score)")
    ax.set_ylabel("incremental responders" if kind == "qini" else "uplift x units targeted")
    ax.set_title("Qini curve" if kind == "qini" else "Uplift curve")
    ax.legend(frameon=False)
    return ax


def plot_value_curve(scores, cate, value: float = 1.0, cost: float = 0.0, ax=None, budget: float | None = None):
    """Net value per unit (DR, with a 95% band) against the share treated along the CATE ranking."""
    ax = _axes(ax)
    share, v, se = value_curve(scores, cate, value, cost)
    ax.plot(share, v, color="#4C72B0", label="treat top share by predicted benefit")
    ax.fill_between(share, v - 1.96 * se, v + 1.96 * se, color="#4C72B0", alpha=0.2, lw=0)
    ax.plot([0, 1], [0, v[-1]], color="gray", ls="--", label="random order")
    ax.axhline(0.0, color="black", lw=1)
    if budget is not None:
        ax.axvline(budget, color="#C44E52", ls=":", label=f"budget {budget:.0%}")
    ax.set_xlabel("share treated")
    ax.set_ylabel("net value per unit")
    ax.set_title("Value of targeting")
    ax.legend(frameon=False)
    return ax
