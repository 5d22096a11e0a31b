"""Synthetic control figures: treated vs synthetic, the gaps with every placebo, donor weights, and synthetic
DiD's weighted trends.  Each takes a Result of a ``synthetic_control`` design, draws on ``ax=`` (a new figure when
None) and returns the Axes; they only read ``result.extras`` (no re-fitting)."""

from __future__ import annotations

from causalspec.errors import UnsupportedError
from causalspec.sensitivity._plots import new_axes

__all__ = ["sc_path_plot", "sc_gaps_plot", "sc_weights_plot", "sdid_trends_plot"]

_TREATED, _SYNTH, _PLACEBO = "#1f4e79", "#c0504d", "#bbbbbb"


def _extras(result, key: str, what: str) -> dict:
    table = result.extras.get(key) if hasattr(result, "extras") else None
    if not table:
        raise UnsupportedError(f"this result has no {what}.", loc="design.type",
                               fix=f"Plot the result of a design.type synthetic_control spec with estimator "
                                   f"{'synth' if key != 'synthdid' else 'synthdid'}.")
    return table


def sc_path_plot(result, *, title: str | None = None, ax=None):
    """The treated unit's outcome and its synthetic control in every period, the treatment time marked."""
    e = _extras(result, "synthetic_control", "synthetic control path")
    t = [r["time"] for r in e["path"]]
    ax = new_axes(ax, (7.0, 4.2), what="sc_path_plot")
    ax.plot(t, [r["treated"] for r in e["path"]], color=_TREATED, lw=1.6, label=str(e["treated_unit"]))
    ax.plot(t, [r["synthetic"] for r in e["path"]], color=_SYNTH, lw=1.4, ls="--", label="synthetic control")
    ax.axvline(e["treatment_time"], color="#888888", lw=0.8, ls=":")
    ax.set_xlabel("period")
    ax.set_ylabel(result.plan.outcome)
    ax.set_title(title or f"Treated and synthetic: {result.plan.name}")
    ax.legend(frameon=False, fontsize=8)
    return ax


def sc_gaps_plot(result, *, title: str | None = None, max_ratio: float | None = None, ax=None):
    """The treated unit's gap (outcome minus synthetic) over the gaps of every in-space placebo (grey).

    ``max_ratio`` leaves out placebos whose pre-treatment RMSPE exceeds that multiple of the treated unit's
    (ADH 2010 drop placebos fitted five or twenty times worse); all are drawn by default.
    """
    e = _extras(result, "synthetic_control", "synthetic control gaps")
    placebos = (result.extras.get("placebos") or {}).get("in_space")
    ax = new_axes(ax, (7.0, 4.2), what="sc_gaps_plot")
    if placebos:
        t = placebos["times"]
        pre = placebos["treated"]["pre_rmspe"]
        for p in placebos["placebos"]:
            if max_ratio is None or p["pre_rmspe"] <= max_ratio * pre:
                ax.plot(t, p["gaps"], color=_PLACEBO, lw=0.8)
        ax.plot([], [], color=_PLACEBO, lw=0.8, label="placebos (each donor treated in turn)")
        ax.plot(t, placebos["treated"]["gaps"], color=_TREATED, lw=1.8, label=str(e["treated_unit"]))
        ax.text(0.01, 0.02, f"permutation p = {placebos['p_value']:.3g} (rank {placebos['rank']} of "
                f"{placebos['units']})", transform=ax.transAxes, fontsize=8)
    else:
        ax.plot([r["time"] for r in e["path"]], [r["gap"] for r in e["path"]], color=_TREATED, lw=1.8,
                label=str(e["treated_unit"]))
    ax.axhline(0, color="#888888", lw=0.8)
    ax.axvline(e["treatment_time"], color="#888888", lw=0.8, ls=":")
    ax.set_xlabel("period")
    ax.set_ylabel(f"gap in {result.plan.outcome} (treated - synthetic)")
    ax.set_title(title or f"Gaps and placebos: {result.plan.name}")
    ax.legend(frameon=False, fontsize=8, loc="upper left")
    return ax


def sc_weights_plot(result, *, title: str | None = None, threshold: float = 1e-3, ax=None):
    """Donor weights (Synth's W), or synthdid's and SC's unit weights side by side; weights below
    ``threshold`` are left out.  One panel (synthdid's and SC's weights as paired bars); returns the Axes."""
    if result.extras.get("synthetic_control"):
        rows = [(str(d["unit"]), d["weight"]) for d in result.extras["synthetic_control"]["donors"]
                if d["weight"] >= threshold]
        series = {"Synth W": [w for _, w in rows]}
    else:
        e = _extras(result, "synthdid", "donor weights")
        rows = [(str(d["unit"]), d["sdid"]) for d in e["unit_weights"] if max(d["sdid"], d["sc"]) >= threshold]
        keep = {u for u, _ in rows}
        series = {"SDID omega": [d["sdid"] for d in e["unit_weights"] if str(d["unit"]) in keep],
                  "SC omega": [d["sc"] for d in e["unit_weights"] if str(d["unit"]) in keep]}
    rows_sorted = sorted(range(len(rows)), key=lambda i: -list(series.values())[0][i])
    names = [rows[i][0] for i in rows_sorted]
    ax = new_axes(ax, (7.0, max(2.5, 0.28 * len(names) + 1.2)), what="sc_weights_plot")
    height = 0.8 / len(series)
    for k, (label, values) in enumerate(series.items()):
        ys = [i + k * height for i in range(len(names))]
        ax.barh(ys, [values[i] for i in rows_sorted], height=height, label=label,
                color=_TREATED if k == 0 else _SYNTH)
    ax.set_yticks([i + (len(series) - 1) * height / 2 for i in range(len(names))], names, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("weight")
    ax.set_title(title or f"Donor weights: {result.plan.name}")
    if len(series) > 1:
        ax.legend(frameon=False, fontsize=8)
    return ax


def sdid_trends_plot(result, *, title: str | None = None, ax=None):
    """synthdid's picture: the treated units' mean and the omega-weighted controls, the time weights lambda
    shaded under the pre-period, and the counterfactual (controls shifted by the lambda-weighted pre-period gap)."""
    e = _extras(result, "synthdid", "synthetic DiD trends")
    t = [r["time"] for r in e["trends"]]
    treated = [r["treated"] for r in e["trends"]]
    control = [r["sdid_control"] for r in e["trends"]]
    lam = {r["time"]: r["lambda"] for r in e["time_weights"]}
    pre_gap = sum(lam.get(ti, 0.0) * (a - b) for ti, a, b in zip(t, treated, control))
    ax = new_axes(ax, (7.0, 4.2), what="sdid_trends_plot")
    ax.plot(t, treated, color=_TREATED, lw=1.6, label="treated (mean)")
    ax.plot(t, control, color=_SYNTH, lw=1.4, label="synthetic DiD control (omega-weighted)")
    post = [i for i, ti in enumerate(t) if ti >= e["treatment_time"]]
    ax.plot([t[i] for i in post], [control[i] + pre_gap for i in post], color=_SYNTH, lw=1.0, ls="--",
            label="counterfactual (control + lambda-weighted pre-period gap)")
    ax.axvline(e["treatment_time"], color="#888888", lw=0.8, ls=":")
    low = min(min(treated), min(control))
    span = max(max(treated), max(control)) - low
    for ti, w in lam.items():
        if w > 0:
            ax.bar(ti, w * 0.25 * span, bottom=low - 0.3 * span, width=0.8, color=_PLACEBO)
    sdid = next((r for r in e["estimates"] if r["estimator"] == "SDID"), None)
    if sdid is not None:
        ax.text(0.01, 0.02, f"SDID {sdid['estimate']:.3g}" + (f" (SE {sdid['std_error']:.3g})"
                                                              if sdid["std_error"] is not None else ""),
                transform=ax.transAxes, fontsize=8)
    ax.set_xlabel("period (grey bars: time weights lambda)")
    ax.set_ylabel(result.plan.outcome)
    ax.set_title(title or f"Synthetic difference in differences: {result.plan.name}")
    ax.legend(frameon=False, fontsize=8, loc="upper right")
    return ax
