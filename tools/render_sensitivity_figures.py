"""Render the sensitivity figures in docs/figures from the bundled feature-adoption example.

Run: ``python tools/render_sensitivity_figures.py`` (deterministic: the simulator and the spec are seeded).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import causalspec as cs  # noqa: E402
from causalspec.robustness import specification_curve_plot  # noqa: E402
from causalspec.sensitivity import contour_plot, extreme_plot  # noqa: E402
from causalspec.report._figures import figure_of  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "figures"


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    result = cs.run(ROOT / "specs" / "feature_adoption.yaml", all_adjustment_sets=True)
    ovb = result.sensitivity.ovb
    figures = {
        "sensitivity_contour_estimate.png": contour_plot(ovb, "estimate"),
        "sensitivity_contour_t.png": contour_plot(ovb, "t-value"),
        "sensitivity_extreme.png": extreme_plot(ovb),
        "spec_curve_feature_adoption.png": specification_curve_plot(result.specification_curve),
    }
    for name, fig in figures.items():
        figure_of(fig).savefig(OUT / name, dpi=110, bbox_inches="tight", metadata={"Software": None})
        print(OUT / name)


if __name__ == "__main__":
    main()
