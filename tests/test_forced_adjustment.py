"""Forced adjustment nodes (issue 12): dagitty's [adjusted] attribute and the spec's dag.adjusted are completed
into the minimal valid sets that contain them, never parsed and thrown away."""

from __future__ import annotations

import pytest

import causalspec as cs
from causalspec.errors import AdjustmentError
from causalspec.graph import DAG, adjustment_sets, is_adjustment_set

M_BIAS = ["a -> x", "a -> m", "b -> m", "b -> y", "x -> y"]


def test_forcing_the_m_bias_collider_brings_a_node_that_blocks_the_path_it_opens():
    g = DAG.from_edges(M_BIAS)
    assert adjustment_sets(g, "x", "y") == [()]
    sets = adjustment_sets(g, "x", "y", include=["m"])
    assert sets == [("a", "m"), ("b", "m")]
    assert all(is_adjustment_set(g, "x", "y", s) for s in sets)
    assert not is_adjustment_set(g, "x", "y", ("m",))


@pytest.mark.parametrize("dag", [{"edges": M_BIAS, "adjusted": ["m"]},
                                 "dag { a -> x a -> m b -> m b -> y x -> y m [adjusted] }"])
def test_the_planner_completes_adjusted_nodes_from_the_spec_or_dagitty_text(dag):
    plan = cs.plan(cs.Spec(name="m", treatment="x", outcome="y", dag=dag))
    assert plan.adjustment_set == ("a", "m")
    assert plan.minimal_adjustment_sets == (("a", "m"), ("b", "m"))
    assert plan.adjustment_source == "adjusted"
    reasons = {d.node: d.reason for d in plan.decisions}
    assert "marked adjusted in the DAG" in reasons["m"] and "blocks the path an adjusted node opens" in reasons["a"]


def test_an_adjusted_mediator_cannot_be_completed_and_says_why():
    spec = cs.Spec(name="m", treatment="x", outcome="y", dag={"edges": ["x -> med", "med -> y"], "adjusted": ["med"]})
    with pytest.raises(AdjustmentError, match=r"dag.adjusted: the adjusted nodes 'med' cannot be completed .* "
                                              r"'med' is a descendant of the treatment"):
        cs.plan(spec)


def test_an_explicit_list_must_contain_the_adjusted_nodes():
    spec = cs.Spec(name="m", treatment="x", outcome="y", dag={"edges": M_BIAS, "adjusted": ["m"]}, adjustment=["a"])
    with pytest.raises(AdjustmentError, match=r"adjustment: the DAG marks 'm' as adjusted"):
        cs.plan(spec)
