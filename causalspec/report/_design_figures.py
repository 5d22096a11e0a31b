"""The main pictures of the quasi-experimental designs, by design type, and of a CATE model: drawn first in
report.html and written to archives (each a function of a Result drawing on ``ax=`` and returning the Axes, no
re-fitting; :func:`design_figures` hands the report and the archive whole Figures)."""

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
    # not a design: the pictures of a CATE model (heterogeneity.learner), after the design's own, in any design
    # whose result has one; each is drawn only when the fit produced its data (the extras path after the name)
    "heterogeneity": (
        ("cate_distribution", "The distribution of the predicted effects, the average effect marked",
         "causalspec.report._cate_plots:cate_distribution_plot"),
        ("cate_groups", "Effects by segment and by predicted-effect group, with their intervals",
         "causalspec.report._cate_plots:cate_groups_plot"),
        ("cate_qini", "The Qini curve of the CATE ranking against random targeting",
         "causalspec.report._cate_plots:qini_plot"),
        ("cate_policy_value", "Net value per unit of treating the top share by predicted benefit",
         "causalspec.report._cate_plots:policy_value_plot"),
    ),
}
# what each CATE figure needs in extras["cate"]
_CATE_NEEDS = {"cate_distribution": ("cate", "histogram"), "cate_groups": ("segments",),
               "cate_qini": ("uplift", "qini_curve"), "cate_policy_value": ("policy", "value_curve")}


def design_figures(result) -> list[tuple[str, str, Callable[[], Any]]]:
    """(name, alt text, draw) for the result's design, in report order; empty for the other designs.

    ``draw()`` returns the matplotlib Figure the picture is drawn on (what the report embeds and the archive saves)."""
    out = []
    plan = result.plan
    by_estimator = f"{plan.design}/{plan.estimator.value}"
    for name, alt, target in DESIGN_FIGURES.get(by_estimator, DESIGN_FIGURES.get(plan.design, ())):
        module, function = target.split(":")
        draw = getattr(import_module(module), function)
        out.append((name, alt, (lambda d=draw: d(result).figure)))
    if "cate" in result.extras:
        from_cate = import_module("causalspec.report._cate_plots")
        for name, alt, target in DESIGN_FIGURES["heterogeneity"]:
            if from_cate.has(result, *_CATE_NEEDS[name]):
                draw = getattr(from_cate, target.split(":")[1])
                out.append((name, alt, (lambda d=draw: d(result).figure)))
    return out
