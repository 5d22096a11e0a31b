"""The main pictures of the quasi-experimental designs, by design type: drawn first in report.html and written to
archives (each a function of a Result returning a matplotlib Figure, no re-fitting)."""

from __future__ import annotations

from importlib import import_module
from typing import Any, Callable

__all__ = ["DESIGN_FIGURES", "design_figures"]

# design type -> (figure name, alt text, "module:function"), in the order the report shows them
DESIGN_FIGURES: dict[str, tuple[tuple[str, str, str], ...]] = {
    "regression_discontinuity": (
        ("rd_plot", "RD plot: binned means and the fitted polynomials on each side of the cutoff",
         "causalspec.report._rd_plots:rd_plot"),
        ("rd_bandwidths", "The estimate across bandwidths", "causalspec.report._rd_plots:rd_bandwidth_plot"),
    ),
    "interrupted_time_series": (
        ("its_plot", "The series, the fitted segments and the counterfactual trend with its band",
         "causalspec.report._its_plots:its_plot"),
    ),
}


def design_figures(result) -> list[tuple[str, str, Callable[[], Any]]]:
    """(name, alt text, draw) for the result's design, in report order; empty for the other designs."""
    out = []
    for name, alt, target in DESIGN_FIGURES.get(result.plan.design, ()):
        module, function = target.split(":")
        draw = getattr(import_module(module), function)
        out.append((name, alt, (lambda d=draw: d(result))))
    return out
