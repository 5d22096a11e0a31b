"""Forced (adjusted) nodes against dagitty's own tests (issue 12).

Every graph with adjusted or mandatory nodes in jtextor/dagitty's test suites (the R package's
``r/tests/testthat/testAdjustments.R`` and the JavaScript core's ``test/test/*.js``) whose assertion is a list of
adjustment sets, or that the adjusted nodes violate the adjustment criterion (so no set contains them), is a
``forced_dagitty_*`` case; each case names the file, commit, test and assertion it copies.  (Assertions about
internal graphs only -- active bias graphs, moral graphs, separators -- are not adjustment sets and are left out.)
The sets must be dagitty's exactly, through ``causalspec.graph.adjustment_sets(..., include=...)`` with the nodes
read from the ``[adjusted]`` attribute, and through a spec's plan wherever the spec accepts the graph.

Where causalspec disagrees with dagitty the test is a strict xfail whose reason says what causalspec gives, so
the disagreement stays visible and the mark must go when it is resolved.
"""

from __future__ import annotations

import dataclasses

import pytest

import causalspec as cs
from causalspec.errors import AdjustmentError, UnsupportedError
from causalspec.graph import DAG, adjustment_sets, is_adjustment_set
from parity._cases import case_ids, load_case

IDS = case_ids("forced_dagitty_", family="dagitty")

DISAGREES = {
    "forced_dagitty_js_m_bias_graph_adjusted_exposure": (
        "dagitty completes an adjusted exposure into the set {A}; causalspec lists no set "
        "(adjustment_sets(..., include=['A']) == []) and the planner raises adjusted_not_completable"),
}


def _sets(sets) -> list[tuple[str, ...]]:
    return [tuple(s) for s in sets]


def _text(case) -> str:
    """The case's dagitty text; dagitty's forbidden (must_not) nodes are marked latent, as in dagitty itself."""
    inp = case["input"]
    text = inp["dag"]
    if inp.get("must_not"):
        text = text.replace("dag {", "dag {\n" + "\n".join(f"{n} [latent]" for n in inp["must_not"]), 1)
    return text


def _dag(case) -> DAG:
    inp = case["input"]
    dag = DAG.from_dagitty(_text(case))
    assert sorted(dag.latent) == sorted(inp.get("latent", []) + inp.get("must_not", []))
    if inp["adjusted_via"] == "attribute":
        assert list(dag.adjusted) == inp["adjusted"]
    else:
        assert dag.adjusted == ()
    return dag


def _has_causal_path(dag: DAG, x: str, y: str) -> bool:
    return y in dag.descendants([x])


def _marked(ids):
    return [pytest.param(c, marks=pytest.mark.xfail(strict=True, reason=DISAGREES[c])) if c in DISAGREES else c
            for c in ids]


def test_every_forced_node_test_of_dagitty_is_a_case():
    assert len(IDS) == 13


@pytest.mark.parametrize("case_id", _marked(IDS))
def test_forced_sets_equal_dagitty(case_id):
    case = load_case(case_id)
    inp, exp = case["input"], case["expected"]
    x, y = inp["exposure"], inp["outcome"]
    dag = _dag(case)
    got = adjustment_sets(dag, x, y, "minimal", include=inp["adjusted"])
    assert got == _sets(exp["sets"])
    for s in got:
        assert is_adjustment_set(dag, x, y, s), s
    if "sets_without_forcing" in exp:
        unforced = dataclasses.replace(dag, adjusted=())
        assert adjustment_sets(unforced, x, y) == _sets(exp["sets_without_forcing"])


SPEC_IDS = [c for c in IDS if _has_causal_path(_dag(load_case(c)), load_case(c)["input"]["exposure"],
                                               load_case(c)["input"]["outcome"])]


def test_the_spec_path_covers_the_graphs_with_an_effect():
    # the two R M-bias graphs and the JavaScript x <- a -> m <- b -> y have no x -> y path: a spec refuses them
    # before adjustment (the DAG says the effect is zero), so only the graph API checks them
    assert len(SPEC_IDS) == 10


@pytest.mark.parametrize("case_id", _marked(SPEC_IDS))
def test_the_plan_completes_the_adjusted_nodes_as_dagitty_does(case_id):
    case = load_case(case_id)
    inp, exp = case["input"], case["expected"]
    spec = cs.Spec(name=case_id, treatment=inp["exposure"], outcome=inp["outcome"], dag=_text(case))
    if not exp["sets"]:
        with pytest.raises(AdjustmentError) as err:
            cs.plan(spec)
        assert [p.code for p in err.value.problems] == ["adjusted_not_completable"]
        return
    plan = cs.plan(spec)
    assert plan.minimal_adjustment_sets == tuple(_sets(exp["sets"]))
    assert plan.adjustment_set in plan.minimal_adjustment_sets
    assert plan.adjustment_source == "adjusted"


def test_the_spec_s_dag_adjusted_field_gives_the_same_sets():
    case = load_case("forced_dagitty_js_m_bias_graph_adjusted_m")
    inp = case["input"]
    dag = _dag(case)
    spec = cs.Spec(name="m_bias", treatment=inp["exposure"], outcome=inp["outcome"],
                   dag={"edges": [f"{a} {op} {b}" for a, op, b in dag.edges], "adjusted": inp["adjusted"]})
    assert cs.plan(spec).minimal_adjustment_sets == tuple(_sets(case["expected"]["sets"]))


@pytest.mark.xfail(strict=True, raises=UnsupportedError,
                   reason="causalspec supports forced nodes for total-effect sets only "
                          "(UnsupportedError include_unsupported for effect='direct')")
def test_forced_direct_effect_sets_equal_dagitty():
    case = load_case("forced_dagitty_js_thoemmes_adjusted_s2")
    inp = case["input"]
    got = adjustment_sets(_dag(case), inp["exposure"], inp["outcome"], "minimal", effect="direct",
                          include=inp["adjusted"])
    assert got == _sets(case["expected"]["direct_sets"])


def test_the_graph_s_own_adjusted_nodes_are_forced_by_default_as_in_dagitty():
    case = load_case("forced_dagitty_r_mbias_adjusted_a")
    inp = case["input"]
    assert adjustment_sets(_dag(case), inp["exposure"], inp["outcome"]) == _sets(case["expected"]["sets"])


def test_dagitty_s_test_graph_text_is_read_as_dagitty_reads_it():
    case = load_case("forced_dagitty_js_mbias_must_m")
    dag = DAG.from_dagitty(case["input"]["published_dag"])  # "{x[e]} <- a -> m <- b -> {y[o]}"
    assert (dag.exposures, dag.outcomes) == (("x",), ("y",))


def test_dagitty_s_one_letter_adjusted_attribute():
    # jtextor/dagitty test/test/biasing-paths.js: new Graph("x->{{m[a]}->y}<-{z[a]}") has m and z adjusted
    assert DAG.from_dagitty("x->{{m[a]}->y}<-{z[a]}").adjusted == ("m", "z")
