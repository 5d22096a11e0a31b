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
        fig = draw()
        assert fig.axes and fig.axes[0].has_data()


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
