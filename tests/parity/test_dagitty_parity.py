"""causalspec.graph against dagitty 0.3.4 (R): adjustment sets, instruments, implied
independencies, ancestry and paths must match exactly (sets compared as sets)."""

from __future__ import annotations

import pytest

from causalspec.graph import (
    DAG,
    adjustment_sets,
    implied_conditional_independencies,
    instrumental_variables,
    is_adjustment_set,
    paths,
)
from parity._cases import case_ids, load_case

IDS = case_ids("dagitty_")


def _graph(case) -> tuple[DAG, str, str]:
    inp = case["input"]
    dag = DAG.from_dagitty(inp["dag"])
    assert sorted(dag.latent) == sorted(inp["latent"])
    return dag, inp["exposure"], inp["outcome"]


def _one(v) -> str:
    return v if isinstance(v, str) else v[0]


def _sets(sets) -> set[tuple[str, ...]]:
    return {tuple(sorted(s)) for s in sets}


def test_there_are_21_dagitty_cases():
    assert len(IDS) == 21


@pytest.mark.parametrize("case_id", IDS)
def test_graph_matches_dagitty(case_id):
    case = load_case(case_id)
    exp = case["expected"]
    dag, x, y = _graph(case)

    assert list(dag.nodes) == exp["nodes"]
    assert [list(e) for e in dag.edges] == exp["edges"]
    assert list(dag.exposures) == exp["exposure"] and list(dag.outcomes) == exp["outcome"]

    adj = exp["adjustment_sets"]
    assert _sets(adjustment_sets(dag, x, y, "minimal")) == _sets(adj["minimal_total"])
    assert adjustment_sets(dag, x, y, "minimal") == sorted(_sets(adj["minimal_total"]))
    assert _sets(adjustment_sets(dag, x, y, "canonical")) == _sets(adj["canonical_total"])
    if "all_total" in adj:
        assert _sets(adjustment_sets(dag, x, y, "all")) == _sets(adj["all_total"])
    if "minimal_direct" in adj:
        assert _sets(adjustment_sets(dag, x, y, "minimal", effect="direct")) == _sets(adj["minimal_direct"])

    for cand in exp["is_adjustment_set"]:
        assert is_adjustment_set(dag, x, y, cand["set"]) is cand["value"], cand["why"]

    ivs = {(r["instrument"], tuple(r["given"])) for r in exp["instrumental_variables"]}
    assert set(instrumental_variables(dag, x, y)) == ivs

    cis = {(r["x"], r["y"], tuple(r["given"])) for r in exp["implied_conditional_independencies"]}
    assert set(implied_conditional_independencies(dag)) == cis

    assert list(dag.ancestors(x)) == exp["ancestors_of_exposure"]
    assert list(dag.descendants(x)) == exp["descendants_of_exposure"]
    assert list(dag.ancestors(y)) == exp["ancestors_of_outcome"]

    for key in ("paths", "paths_given_first_minimal_set"):
        if key not in exp:
            continue
        rec = exp[key]
        got = paths(dag, _one(rec["from"]), _one(rec["to"]), rec["given"], limit=rec["limit"])
        assert len(got) == rec["n"]
        assert (len(got) >= rec["limit"]) is rec["truncated"]
        if "paths" in rec:
            assert [(p.text, p.open) for p in got] == [(p["path"], p["open"]) for p in rec["paths"]]
