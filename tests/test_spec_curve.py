"""The specification curve: every valid adjustment set, each checked by d-separation, and the disagreement warning."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import causalspec as cs
from causalspec.report._figures import figure_of
from causalspec.errors import UnsupportedError
from causalspec.graph import is_adjustment_set
from causalspec.robustness import specification_curve_plot

# x <- a -> b -> y: {a} and {b} are both minimal; the O-set is {b}
EDGES = ["a -> x", "a -> b", "b -> y", "x -> y"]


def _data(direct_a_to_y: float, n=4000, seed=8):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=n)
    b = a + rng.normal(size=n)
    x = 0.8 * a + rng.normal(size=n)
    y = 1.0 * x + 1.0 * b + direct_a_to_y * a + rng.normal(size=n)
    return pd.DataFrame({"a": a, "b": b, "x": x, "y": y})


def _spec():
    return cs.Spec(name="curve", treatment="x", outcome="y", dag={"edges": EDGES},
                   sensitivity={"refutations": [], "all_adjustment_sets": True})


def test_every_row_is_a_valid_adjustment_set_and_the_sets_agree_when_the_dag_is_right():
    spec = _spec()
    result = cs.run(spec, data=_data(0.0))
    curve = result.specification_curve
    assert {r.adjustment_set for r in curve.rows} == {("a",), ("b",)}
    assert all(is_adjustment_set(spec.graph, "x", "y", r.adjustment_set) for r in curve.rows)
    assert curve.verdict == "agree"
    for r in curve.rows:
        assert r.conf_low < 1.0 < r.conf_high  # the truth


def test_a_missing_edge_in_the_dag_makes_valid_sets_disagree_and_the_report_says_so():
    # the truth has a -> y, which the DAG omits: {b} no longer blocks x <- a -> y and is biased
    result = cs.run(_spec(), data=_data(1.5))
    curve = result.specification_curve
    assert curve.verdict == "warn" and curve.max_gap_in_se > 2
    assert "disagree" in curve.message and "check the DAG" in curve.message
    assert "WARNING: valid adjustment sets disagree" in result.summary()
    by_set = {r.adjustment_set: r for r in curve.rows}
    assert by_set[("a",)].conf_low < 1.0 < by_set[("a",)].conf_high
    assert not by_set[("b",)].conf_low < 1.0 < by_set[("b",)].conf_high


def test_curve_is_in_json_and_plots(tmp_path):
    result = cs.run(_spec(), data=_data(0.0))
    rows = result.to_dict()["specification_curve"]["rows"]
    assert [r["adjustment_set"] for r in rows] == [list(r.adjustment_set) for r in result.specification_curve.rows]
    drawn = specification_curve_plot(result.specification_curve)
    figure_of(drawn).savefig(tmp_path / "curve.png")
    assert (tmp_path / "curve.png").stat().st_size > 1000


def test_curve_needs_an_observational_design():
    spec = cs.Spec(name="e", treatment="x", outcome="y", design={"type": "experiment"})
    rng = np.random.default_rng(0)
    data = pd.DataFrame({"x": rng.integers(0, 2, 100).astype(float), "y": rng.normal(size=100)})
    with pytest.raises(UnsupportedError, match="specification curve compares adjustment sets"):
        cs.run(spec, data=data, all_adjustment_sets=True)


def test_the_curve_labels_its_intervals_at_the_plans_level():
    from causalspec.robustness import SpecificationCurve
    curve = SpecificationCurve((), 0.0, "agree", "", level=0.9)
    assert "90% CI" in curve.table() and "95%" not in curve.table()
