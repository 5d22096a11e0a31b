"""Every GraphError the graph stage raises names what, where and how to fix it."""

from __future__ import annotations

import pytest

from causalspec.errors import GraphError, UnsupportedError
from causalspec.graph import DAG, adjustment_sets, d_separated, instrumental_variables, is_adjustment_set, paths


def test_unparseable_edge_is_located_and_explains_the_syntax():
    with pytest.raises(GraphError, match=r"dag\.edges\[1\]: 'a b' is not an edge .* Write the edge as"):
        DAG.from_edges(["a -> b", "a b"])


def test_dangling_arrow_is_refused():
    with pytest.raises(GraphError, match=r"dag\.edges\[0\]: 'a -> ' is not an edge"):
        DAG.from_edges(["a -> "])


def test_non_string_edge_is_refused():
    with pytest.raises(GraphError, match=r"dag\.edges\[0\]: an edge must be a string .*not int"):
        DAG.from_edges([3])


def test_one_string_instead_of_a_list_is_refused():
    with pytest.raises(GraphError, match=r"dag\.edges: edges must be a list of strings"):
        DAG.from_edges("a -> b")


def test_unclosed_quote_is_refused():
    with pytest.raises(GraphError, match=r"dag\.edges\[0\]: a double quote is never closed"):
        DAG.from_edges(['"a -> b'])


def test_self_edge_is_refused():
    with pytest.raises(GraphError, match=r"dag\.edges\[0\]: self edge c -> c: .* Remove the edge"):
        DAG.from_edges(["c -> c"])


def test_duplicate_edge_names_the_first_occurrence():
    with pytest.raises(GraphError, match=r"dag\.edges\[2\]: duplicate edge a -> b \(already at dag\.edges\[0\]\)"):
        DAG.from_edges(["a -> b", "b -> c", "b <- a"])


def test_bidirected_duplicate_in_either_order_is_refused():
    with pytest.raises(GraphError, match=r"dag\.edges\[1\]: duplicate edge x <-> y"):
        DAG.from_edges(["x <-> y", "y <-> x"])


def test_cycle_is_named_edge_by_edge():
    with pytest.raises(GraphError, match=r"dag\.edges\[1\]: the graph has a cycle a -> b -> c -> a\. Remove or reverse"):
        DAG.from_edges(["a -> b -> c", "c -> a"])


def test_two_node_cycle_suggests_a_bidirected_edge():
    with pytest.raises(GraphError, match=r"dag\.edges\[1\]: edge b -> a contradicts a -> b .* use a <-> b"):
        DAG.from_edges(["a -> b", "b -> a"])


def test_unknown_latent_node_is_refused():
    with pytest.raises(GraphError, match=r"dag\.latent: latent node 'zz' is not a node of the DAG\. Add an edge"):
        DAG.from_edges(["a -> b"], latent=["zz"])


def test_all_problems_are_collected_and_raised_once():
    with pytest.raises(GraphError) as info:
        DAG.from_edges(["a -> b", "a b", "c -> c", "a -> b", "b -> d", "d -> a"], latent=["zz"])
    locs = [p.loc for p in info.value.problems]
    assert locs == ["dag.edges[1]", "dag.edges[2]", "dag.edges[3]", "dag.latent", "dag.edges[5]"]
    assert all(p.code == "dag_invalid" and p.fix for p in info.value.problems)


def test_graph_error_is_a_value_error():
    with pytest.raises(ValueError):
        DAG.from_edges(["a -> a"])


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("dag { x -> y ", r"dag line 1: expected '\}' but found 'the end of the text'"),
        ("pdag { x -- y }", r"dag line 1: graph type 'pdag' is not supported"),
        ("dag { x -- y }", r"dag line 1: undirected edges \(--\) are not allowed in a DAG"),
        ("dag { x [exposure }", r"dag line 1: unexpected '\}' in an attribute list"),
        ("foo { x -> y }", r"dag line 1: unknown graph type 'foo'"),
        ('dag { "x -> y }', r"dag line 1: a double quote is never closed"),
        ("dag {\n a -> b\n b -> c\n c -> a }", r"dag line 4: the graph has a cycle a -> b -> c -> a"),
        ("dag { x -> x }", r"dag line 1: self edge x -> x"),
    ],
)
def test_dagitty_syntax_errors_name_the_line(text, pattern):
    with pytest.raises(GraphError, match=pattern):
        DAG.from_dagitty(text)


def test_dagitty_text_must_be_a_string():
    with pytest.raises(GraphError, match=r"dagitty text must be a string"):
        DAG.from_dagitty(None)


def test_unknown_node_in_a_query_lists_the_nodes():
    g = DAG.from_edges(["x -> y"])
    with pytest.raises(GraphError, match=r"outcome: 'nope' is not a node of the DAG\. Use one of: x, y\."):
        adjustment_sets(g, "x", "nope")
    with pytest.raises(GraphError, match=r"zs: 'w' is not a node"):
        d_separated(g, "x", "y", ["w"])
    with pytest.raises(GraphError, match=r"adjustment: 'w' is not a node"):
        is_adjustment_set(g, "x", "y", ["w"])
    with pytest.raises(GraphError, match=r"node: 'q' is not a node"):
        g.parents("q")


def test_exposure_equal_to_outcome_is_refused():
    g = DAG.from_edges(["x -> y"])
    with pytest.raises(GraphError, match=r"outcome: \['x'\] is both exposure and outcome"):
        adjustment_sets(g, "x", "x")
    with pytest.raises(GraphError, match=r"paths: both ends are 'x'"):
        paths(g, "x", "x")


def test_unknown_type_or_effect_is_refused():
    g = DAG.from_edges(["x -> y"])
    with pytest.raises(UnsupportedError, match=r"type: type 'foo' is not available for the total effect"):
        adjustment_sets(g, "x", "y", type="foo")
    with pytest.raises(UnsupportedError, match=r"type 'canonical' is not available for the direct effect"):
        adjustment_sets(g, "x", "y", type="canonical", effect="direct")
    with pytest.raises(GraphError, match=r"effect: effect 'indirect' is not 'total' or 'direct'"):
        adjustment_sets(g, "x", "y", effect="indirect")


def test_all_sets_on_a_large_graph_is_refused_not_run_for_ever():
    edges = [f"c{i} -> x" for i in range(25)] + ["x -> y"]
    g = DAG.from_edges(edges)
    with pytest.raises(UnsupportedError, match=r"type='all' would test 2\^25 subsets"):
        adjustment_sets(g, "x", "y", type="all")


def test_instruments_for_several_exposures_are_refused():
    g = DAG.from_edges(["z -> x1", "x1 -> x2", "x2 -> y"])
    with pytest.raises(UnsupportedError, match=r"instruments need one exposure and one outcome"):
        instrumental_variables(g, ["x1", "x2"], "y")
