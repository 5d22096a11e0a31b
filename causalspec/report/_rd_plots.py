"""Regression discontinuity figures drawn from a Result (no re-fitting): the RD plot and the estimate across
bandwidths."""

from __future__ import annotations

import numpy as np

from causalspec.errors import Problem, UnsupportedError
from causalspec.sensitivity._plots import new_axes

__all__ = ["rd_plot", "rd_bandwidth_plot"]


def _extras(result, key: str, what: str) -> dict:
    extras = getattr(result, "extras", None) or {}
    found = extras.get(key)
    if not isinstance(found, dict) or "error" in found:
        why = found["error"] if isinstance(found, dict) else "the result has none"
        raise UnsupportedError(Problem("design.type", f"the {what} needs a regression discontinuity fit's "
                                       f"{key.replace('_', ' ')} ({why}).",
                                       fix="Fit a spec with design.type: regression_discontinuity.",
                                       code="plot_not_applicable"))
    return found


def _poly(coef, x, c):
    return sum(b * (x - c) ** j for j, b in enumerate(coef))


def rd_plot(result, *, title: str | None = None, ax=None):
    """Binned means of the outcome (bins as rdrobust::rdplot chooses them: evenly spaced, mimicking variance) with
    rdplot's global polynomial of order 4 on each side (solid) and rdrobust's local polynomial within the
    bandwidth (dashed; the outcome's fit without the covariates' adjustment); the cutoff as a vertical line.
    Draws on ``ax`` (a new figure when None) and returns the Axes.

    Examples
    --------
    >>> import causalspec as cs
    >>> r = cs.run("specs/rd_senate.yaml", refute=False)        # doctest: +SKIP
    >>> rd_plot(r).figure.savefig("rd_plot.png")                # doctest: +SKIP
    """
    bins = _extras(result, "rdplot", "RD plot")
    fit = _extras(result, "rdrobust", "RD plot")
    c = fit["c"]
    ax = new_axes(ax, (7.0, 4.5), what="rd_plot")
    ax.scatter(bins["mid"], bins["mean_y"], s=14, color="#1f3b73", zorder=3, label="binned means")
    for lo, hi, coef in ((bins["x_min"], c, bins["poly_left"]), (c, bins["x_max"], bins["poly_right"])):
        grid = np.linspace(lo, hi, 200)
        ax.plot(grid, _poly(coef, grid, c), color="#c0392b", linewidth=1.4)
    for lo, hi, coef in ((c - fit["h"][0], c, fit["beta_y_left"]), (c, c + fit["h"][1], fit["beta_y_right"])):
        grid = np.linspace(lo, hi, 100)
        ax.plot(grid, _poly(coef, grid, c), color="#2c7a2c", linestyle="--", linewidth=1.4)
    ax.axvline(c, color="black", linewidth=0.8)
    ax.plot([], [], color="#c0392b", label=f"global polynomial (p = {bins['p']})")
    ax.plot([], [], color="#2c7a2c", linestyle="--", label=f"local polynomial (p = {fit['p']}, h)")
    plan = getattr(result, "plan", None)
    ax.set_xlabel(getattr(getattr(plan, "settings", None), "running", "running variable"))
    ax.set_ylabel(getattr(plan, "outcome", "outcome"))
    e = result.effect
    ax.set_title(title or f"RD plot: effect {e.estimate:.3g} (robust {result.plan.vcov.level:.0%} CI "
                          f"{e.conf_low:.3g} to {e.conf_high:.3g}); bins {bins['J'][0]} | {bins['J'][1]}", fontsize=9)
    ax.legend(loc="best", frameon=False, fontsize=8)
    return ax


def rd_bandwidth_plot(result, *, ax=None):
    """The conventional estimate with its robust bias-corrected confidence interval at each bandwidth of the
    falsification tests (multiples of the bandwidth used), the fitted bandwidth highlighted.  Draws on ``ax`` (a new
    figure when None) and returns the Axes."""

    fals = _extras(result, "falsification", "estimate-by-bandwidth plot")
    main = _extras(result, "rdrobust", "estimate-by-bandwidth plot")
    rows = [r for r in fals.get("bandwidths", []) if "error" not in r]
    if not rows:
        raise UnsupportedError(Problem("design.falsification.bandwidths", "no bandwidth re-estimate ran, so there "
                                       "is nothing to plot.", fix="Turn the falsification tests on.",
                                       code="plot_not_applicable"))
    est = main["estimates"]["Conventional"]["coef"]
    robust_ci = main["estimates"]["Robust"]["ci"]
    points = sorted([(r["h"][0], r["estimate"], r["robust_ci"]) for r in rows] + [(main["h"][0], est, robust_ci)])
    h = np.array([p[0] for p in points])
    y = np.array([p[1] for p in points])
    lo = np.array([p[2][0] for p in points])
    hi = np.array([p[2][1] for p in points])
    ax = new_axes(ax, (6.5, 4.0), what="rd_bandwidth_plot")
    ax.errorbar(h, y, yerr=[y - lo, hi - y], fmt="o", color="#1f3b73", ecolor="#7f8fb0", capsize=3)
    ax.errorbar([main["h"][0]], [est], yerr=[[est - robust_ci[0]], [robust_ci[1] - est]], fmt="s", color="#c0392b",
                ecolor="#c0392b", capsize=3, label=f"fitted h = {main['h'][0]:.3g} ({main['bwselect']})")
    ax.axhline(0.0, color="black", linewidth=0.6)
    ax.set_xlabel("bandwidth h (left)")
    ax.set_ylabel("estimate (robust CI)")
    ax.set_title("The estimate across bandwidths", fontsize=9)
    ax.legend(loc="best", frameon=False, fontsize=8)
    return ax
