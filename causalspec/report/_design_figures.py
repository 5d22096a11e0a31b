"""The main pictures of the quasi-experimental designs, by design type: drawn first in report.html and written to
archives (each a function of a Result returning a matplotlib Figure, no re-fitting)."""

from __future__ import annotations

from importlib import import_module
from typing import Any, Callable

__all__ = ["DESIGN_FIGURES", "design_figures"]

# design type (or "type/estimator") -> (figure name, alt text, "module:function"), in the order the report shows them
DESIGN_FIGURES: dict[str, tuple[tuple[str, str, str], ...]] = {
    "regression_discontinuity": (
        ("rd_plot", "RD plot: binned means and the fitted polynomials on each side of the cutoff",
         "causalspec.report._rd_plots:rd_plot"),
        ("rd_bandwidths", "The estimate across bandwidths", "causalspec.report._rd_plots:rd_bandwidth_plot"),
    ),
    # synthetic control: by estimator (design type / estimator), since Synth and synthdid draw different pictures
    "synthetic_control/synth": (
        ("sc_path", "The treated unit and its synthetic control, the treatment time marked",
         "causalspec.report._sc_plots:sc_path_plot"),
        ("sc_gaps", "The gap between the treated unit and its synthetic control, with every in-space placebo's",
         "causalspec.report._sc_plots:sc_gaps_plot"),
        ("sc_weights", "The donor weights", "causalspec.report._sc_plots:sc_weights_plot"),
    ),
    "synthetic_control/synthdid": (
        ("sdid_trends", "The treated units' mean and the unit-weighted controls, the time weights below",
         "causalspec.report._sc_plots:sdid_trends_plot"),
        ("sc_weights", "The unit weights of synthetic DiD and of SC", "causalspec.report._sc_plots:sc_weights_plot"),
    ),
    "interrupted_time_series": (
        ("its_plot", "The series, the fitted segments and the counterfactual trend with its band",
         "causalspec.report._its_plots:its_plot"),
    ),
}


def design_figures(result) -> list[tuple[str, str, Callable[[], Any]]]:
    """(name, alt text, draw) for the result's design, in report order; empty for the other designs."""
    out = []
    plan = result.plan
    by_estimator = f"{plan.design}/{plan.estimator.value}"
    for name, alt, target in DESIGN_FIGURES.get(by_estimator, DESIGN_FIGURES.get(plan.design, ())):
        module, function = target.split(":")
        draw = getattr(import_module(module), function)
        out.append((name, alt, (lambda d=draw: d(result))))
    return out
