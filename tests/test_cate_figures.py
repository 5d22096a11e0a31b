"""A CATE model's pictures (issue 15): drawn from the Result alone, shown in report.html and written to archives;
a picture whose data the fit did not produce (no randomized rows: no Qini curve) is left out, not drawn empty."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import causalspec as cs
from causalspec.archive import archive, verify
from causalspec.report._design_figures import design_figures

SPEC = Path(__file__).parent / "specs" / "cate" / "small_cate.yaml"
NAMES = ["cate_distribution", "cate_groups", "cate_qini", "cate_policy_value"]


@pytest.fixture(scope="module")
def result():
    return cs.run(SPEC)


def test_the_figure_data_are_the_fit_s_own_numbers(result):
    c = result.extras["cate"]
    assert sum(c["cate"]["histogram"]["counts"]) == c["n_eval"]
    q = c["uplift"]["qini_curve"]
    assert q["targeted"][0] == 0 and q["targeted"][-1] == c["n_eval"] and len(q["targeted"]) <= 201
    v = c["policy"]["value_curve"]
    assert v["share"][0] == 0 and v["share"][-1] == 1 and v["value"][0] == 0
    # the value curve's maximum is the policy's best share (both from the same DR scores and ranking)
    assert v["share"][int(np.argmax(v["value"]))] == pytest.approx(c["policy"]["best_share"], abs=1.0 / len(v["share"]))


def test_each_picture_is_drawn_and_listed_after_the_design_s(result):
    names = [name for name, _, _ in design_figures(result)]
    assert names == NAMES
    for _, _, draw in design_figures(result):
        fig = draw()  # the report and the archive get the whole Figure
        assert fig.axes and fig.axes[0].has_data()


def test_each_picture_draws_on_a_given_axes(result):
    from causalspec.report import _cate_plots
    from causalspec.sensitivity._plots import new_figure

    axes = new_figure((12, 8)).subplots(2, 2).ravel()
    drawn = [f(result, ax=a) for f, a in zip((_cate_plots.cate_distribution_plot, _cate_plots.cate_groups_plot,
                                              _cate_plots.qini_plot, _cate_plots.policy_value_plot), axes)]
    assert drawn == list(axes) and all(a.has_data() for a in drawn)


def test_a_picture_without_its_data_is_left_out(result):
    cate = {k: v for k, v in result.extras["cate"].items() if k not in ("uplift", "policy")}
    bare = replace(result, extras={**result.extras, "cate": cate})
    assert [name for name, _, _ in design_figures(bare)] == ["cate_distribution", "cate_groups"]


def test_the_archive_and_the_report_hold_them(tmp_path):
    out = archive(SPEC, tmp_path / "a")
    assert verify(out).exit_code == 0
    for name in NAMES:
        assert (out / f"{name}.png").stat().st_size > 1000 and (out / f"{name}.svg").exists()
    html = (out / "report.html").read_text()
    assert "The Qini curve of the CATE ranking against random targeting" in html


def test_a_constant_cate_reports_no_rank_based_numbers(tmp_path):
    # an S-learner with a linear outcome model predicts one effect for everyone (up to the last bits); GATES, BLP
    # and RATE would divide by that rounding noise (a BLP loading of 1e15 before this rule), so they are left out
    import yaml

    spec = yaml.safe_load(SPEC.read_text())
    spec["heterogeneity"]["learner"] = "s"
    spec["data"] = str((SPEC.parent / spec["data"]).resolve())
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(spec))
    r = cs.run(path)
    c = r.extras["cate"]
    assert c["cate"]["sd"] < 1e-12 and c["rate"] is None and "uplift" not in c
    quantile = [s for s in c["segments"] if "cate_quantiles" in s]
    assert quantile and all(s["not_reported"] == "the predicted effect is constant" for s in quantile)
    assert any("predicts the same effect for every unit" in n for n in c["notes"])
    assert [name for name, _, _ in design_figures(r)] == ["cate_distribution", "cate_groups", "cate_policy_value"]
