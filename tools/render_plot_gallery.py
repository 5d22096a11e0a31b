"""Render the pictures of docs/plots-and-tables.md into docs/figures/ from the bundled specs.

Run: ``python tools/render_plot_gallery.py`` (deterministic: the data and the specs are seeded; the synthetic
control example takes about a minute and a half for its placebos).  Every figure is drawn the documented way:
the plotting function returns its Axes and the Figure is saved through ``ax.figure``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import causalspec as cs
from causalspec.report import coefplot, event_study_plot, iplot, love_plot, overlap_plot, plot_dag
from causalspec.report._cate_plots import cate_distribution_plot, cate_groups_plot, policy_value_plot, qini_plot
from causalspec.report._figures import estimate_plot, figure_of
from causalspec.report._its_plots import its_plot
from causalspec.report._rd_plots import rd_plot
from causalspec.report._sc_plots import sc_path_plot
from causalspec.robustness import specification_curve_plot
from causalspec.sensitivity import contour_plot, parallel_trends_plot

ROOT = Path(__file__).resolve().parents[1]
SPECS = ROOT / "specs"
OUT = ROOT / "docs" / "figures"


def run(name: str, **options):
    return cs.run(SPECS / f"{name}.yaml", refute=False, **options)


def figures(skip_slow: bool = False):
    """(file name, a function drawing it), in the order of the page."""
    fa = run("feature_adoption", all_adjustment_sets=True)
    twfe, sa = run("mpdta_event_study"), run("mpdta_sun_abraham")
    psm, iv, cate = run("feature_psm"), run("mroz_iv"), run("churn_uplift")
    out = [
        ("plot_dag_feature_adoption.png", lambda: plot_dag(fa, layout="layered")),
        ("plot_dag_mroz_iv.png", lambda: plot_dag(iv, layout="layered")),
        ("plot_estimates.png", lambda: estimate_plot(fa)),
        ("plot_coefplot.png", lambda: coefplot({"HC2 (the spec's)": fa, "iid": fa.with_vcov("iid")}, drop=["Intercept"],
                                                    dict={"feature_usage": "feature_usage (treatment)"})),
        ("plot_iplot_mpdta.png", lambda: iplot({"TWFE event study": twfe, "Sun and Abraham": sa})),
        ("plot_event_study.png", lambda: event_study_plot(twfe)),
        ("plot_parallel_trends.png", lambda: parallel_trends_plot(twfe.sensitivity.parallel_trends.analyses)),
        ("plot_overlap.png", lambda: overlap_plot(psm)),
        ("plot_love.png", lambda: love_plot(psm)),
        ("plot_rd.png", lambda: rd_plot(run("rd_senate"))),
        ("plot_its.png", lambda: its_plot(run("its_seatbelts"))),
        ("plot_contour.png", lambda: contour_plot(fa.sensitivity.ovb)),
        ("plot_spec_curve.png", lambda: specification_curve_plot(fa.specification_curve)),
    ]
    if "cate" in cate.extras:
        out += [("plot_cate_distribution.png", lambda: cate_distribution_plot(cate)),
                ("plot_cate_groups.png", lambda: cate_groups_plot(cate)),
                ("plot_cate_qini.png", lambda: qini_plot(cate)),
                ("plot_cate_policy_value.png", lambda: policy_value_plot(cate))]
    if not skip_slow:
        out.append(("plot_sc_path.png", lambda: sc_path_plot(run("synthetic_control_basque"))))
    return out


def main(argv: list[str]) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, draw in figures(skip_slow="--fast" in argv):
        figure_of(draw()).savefig(OUT / name, dpi=100, bbox_inches="tight", metadata={"Software": None})
        print(OUT / name)


if __name__ == "__main__":
    main(sys.argv[1:])
