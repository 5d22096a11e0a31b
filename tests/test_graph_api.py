"""Behaviour of the public graph API: parsing, queries, roles, front door, O-set, paths."""

from __future__ import annotations

import dataclasses

import pytest

import causalspec.graph as graph
from causalspec.graph import (
    DAG,
    Role,
    adjustment_sets,
    d_separated,
    front_door_sets,
    instrumental_variables,
    is_adjustment_set,
    node_roles,
    optimal_adjustment_set,
    paths,
)


def test_public_namespace_exports_only_public_names():
    assert sorted(graph.__all__) == sorted(n for n in vars(graph) if not n.startswith("_") and n in graph.__all__)
    assert all(not n.startswith("_") for n in graph.__all__)
    for name in graph.__all__:
        assert getattr(graph, name).__module__.startswith("causalspec.graph")


def test_dag_is_immutable_and_hashable():
    g = DAG.from_edges(["a -> b"])
    with pytest.raises(dataclasses.FrozenInstanceError):
        g.nodes = ("c",)  # type: ignore[misc]
    assert hash(g) == hash(DAG.from_edges(["b <- a"]))


def test_edge_strings_accept_reverse_arrows_chains_quotes_spaces_and_unicode():
    g = DAG.from_edges(['"a -> b" -> c -> d', "account age <- é", 'q"x <-> c', '"say \\"hi\\"" -> d'])
    assert g.nodes == ("a -> b", "account age", "c", "d", "q\"x", "say \"hi\"", "é")
    assert ("é", "->", "account age") in g.edges
    assert ("c", "<->", 'q"x') in g.edges
    assert g.parents("d") == ("c", 'say "hi"')
    assert DAG.from_edges(g.to_dict()["edges"]) == g


def test_queries_follow_dagitty_conventions():
    g = DAG.from_edges(["z -> x -> m -> y", "z -> y", "x <-> w"], latent=["w"], nodes=["lonely"])
    assert g.observed == ("lonely", "m", "x", "y", "z")
    assert g.ancestors("m") == ("m", "x", "z")  # includes the node itself; not through <->
    assert g.descendants(["x"]) == ("m", "x", "y")
    assert g.children("z") == ("x", "y") and g.spouses("x") == ("w",)
    assert g.edges == (("m", "->", "y"), ("w", "<->", "x"), ("x", "->", "m"), ("z", "->", "x"), ("z", "->", "y"))
    assert g.to_dict()["latent"] == ["w"]


def test_dagitty_syntax_with_groups_attributes_and_newlines():
    text = '''dag {
      bb="0,0,1,1"
      x [exposure, pos="0,1"]
      y [outcome]
      u [latent]
      x -> {a b} ; {a b} -> y
      "quoted name" -> z
      u -> x; u -> y
      c <-> y
    }'''
    g = DAG.from_dagitty(text)
    assert g.exposures == ("x",) and g.outcomes == ("y",) and g.latent == frozenset({"u"})
    assert g.children("x") == ("a", "b") and g.parents("y") == ("a", "b", "u")
    assert ("c", "<->", "y") in g.edges and "quoted name" in g.nodes
    assert dict(g.positions) == {"x": "0,1"}


def test_d_separation_treats_bidirected_edges_as_latent_common_causes():
    g = DAG.from_edges(["x <-> m", "m <-> y"])
    assert d_separated(g, "x", "y")
    assert not d_separated(g, "x", "y", ["m"])  # m is a collider
    assert not d_separated(DAG.from_edges(["x <-> y"]), "x", "y")


def test_collider_descendant_opens_a_path():
    g = DAG.from_edges(["x -> c", "y -> c", "c -> d"])
    assert d_separated(g, "x", "y") and not d_separated(g, "x", "y", ["d"])
    got = paths(g, "x", "y", ["d"])
    assert [(p.text, p.open) for p in got] == [("x -> c <- y", True)]


def test_paths_write_bidirected_edges_and_flag_open_paths():
    g = DAG.from_edges(["z -> x", "z -> y", "x -> y", "x <-> y"])
    got = [(p.text, p.open) for p in paths(g, "x", "y", ["z"])]
    assert got == [("x -> y", True), ("x <- z -> y", False), ("x <-> y", True)]
    assert len(paths(g, "x", "y", limit=2)) == 2


def test_latent_confounding_leaves_no_adjustment_set_but_a_front_door():
    g = DAG.from_edges(["x -> m -> y", "u -> x", "u -> y"], latent=["u"])
    assert adjustment_sets(g, "x", "y") == []
    assert adjustment_sets(g, "x", "y", "canonical") == []
    assert not is_adjustment_set(g, "x", "y", ["u"])  # latent nodes are never allowed
    assert optimal_adjustment_set(g, "x", "y") is None
    assert front_door_sets(g, "x", "y") == [("m",)]
    assert front_door_sets(DAG.from_edges(["x -> m -> y", "x -> y", "x <-> y"]), "x", "y") == []


def test_empty_set_suffices_is_a_list_holding_the_empty_tuple():
    assert adjustment_sets(DAG.from_edges(["x -> y"]), "x", "y") == [()]


def test_minimal_sets_for_the_direct_effect_include_the_mediator():
    g = DAG.from_edges(["c -> x", "c -> y", "x -> m -> y", "x -> y"])
    assert adjustment_sets(g, "x", "y") == [("c",)]
    assert adjustment_sets(g, "x", "y", effect="direct") == [("c", "m")]


def test_optimal_set_holds_parents_of_causal_nodes():
    g = DAG.from_edges(["z -> x", "z -> y", "w -> m", "x -> m -> y", "v -> x"])
    assert optimal_adjustment_set(g, "x", "y") == ("w", "z")
    assert set(adjustment_sets(g, "x", "y")) == {("z",)}


def test_instruments_include_conditional_ones():
    g = DAG.from_edges(["w -> z", "w -> y", "z -> x", "x -> y", "u -> x", "u -> y"], latent=["u"])
    assert instrumental_variables(g, "x", "y") == [("z", ("w",))]


def test_node_roles_cover_every_kind():
    g = DAG.from_edges([
        "c -> x", "c -> y", "x -> m -> y", "x -> d", "y -> e", "a -> x", "a -> k", "b -> k",
        "b -> y", "p -> y", "q -> x", "q <-> y", "l -> x", "l -> y",
    ], latent=["l"], nodes=["i"])
    roles = node_roles(g, "x", "y")
    assert roles == {
        "a": Role.INSTRUMENT, "b": Role.PRECISION, "c": Role.CONFOUNDER, "d": Role.DESCENDANT_OF_TREATMENT,
        "e": Role.DESCENDANT_OF_TREATMENT, "i": Role.IRRELEVANT, "k": Role.COLLIDER, "l": Role.LATENT,
        "m": Role.MEDIATOR, "p": Role.PRECISION, "q": Role.CAUSE_OF_TREATMENT_ONLY,
        "x": Role.TREATMENT, "y": Role.OUTCOME,
    }
    assert Role.CONFOUNDER == "confounder"


def test_path_records_arrows_and_colliders_even_for_names_with_spaces():
    g = DAG.from_edges(["x <- a b -> m m", "c d -> m m", "c d -> y", "x -> y"])
    back = [p for p in paths(g, "x", "y") if not p.causal]
    assert [(p.nodes, p.arrows, p.colliders) for p in back] == [
        (("x", "a b", "m m", "c d", "y"), ("<-", "->", "<-", "->"), ("m m",))
    ]
    assert node_roles(g, "x", "y")["m m"] is Role.COLLIDER


def test_several_exposures_are_adjusted_for_jointly():
    g = DAG.from_edges(["c -> x1", "x1 -> x2", "c -> y", "x2 -> y", "d -> x2", "d -> y"])
    assert adjustment_sets(g, ["x1", "x2"], "y") == [("c", "d")]
    assert not is_adjustment_set(g, ["x1", "x2"], "y", ["c"])


def test_roles_fall_back_to_the_connectivity_rule_when_paths_are_too_many_to_list():
    from causalspec.graph import DAG, node_roles

    g = DAG.from_edges(["a -> x", "a -> m", "b -> m", "b -> y", "x -> y", "c -> x", "c -> y"])
    full = node_roles(g, "x", "y")
    budget = node_roles(g, "x", "y", path_steps=1)  # stop listing at once: only the fallback finds m
    assert full["m"].value == budget["m"].value == "collider"
    assert {k: v.value for k, v in budget.items() if k != "m"} == {k: v.value for k, v in full.items() if k != "m"}
