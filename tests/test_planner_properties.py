"""Property tests: every adjustment set the planner returns satisfies the backdoor criterion.

The oracle is independent of causalspec's graph code: networkx's d-separation on the DAG with each
bidirected edge ``a <-> b`` replaced by a fresh latent parent of ``a`` and ``b``.
"""

from __future__ import annotations

import networkx as nx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import causalspec as cs

_dsep = getattr(nx, "is_d_separator", None) or nx.d_separated


@st.composite
def random_dags(draw):
    n = draw(st.integers(3, 10))
    names = [f"v{i}" for i in range(n)]
    edges = []
    for j in range(n):
        for i in range(j):
            if draw(st.integers(0, 99)) < 35:
                edges.append(f"{names[i]} -> {names[j]}")
    bidirected = []
    for _ in range(draw(st.integers(0, 2))):
        i, j = draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))
        if i != j and f"{names[min(i, j)]} <-> {names[max(i, j)]}" not in bidirected:
            bidirected.append(f"{names[min(i, j)]} <-> {names[max(i, j)]}")
    latent = draw(st.lists(st.sampled_from(names), max_size=2, unique=True))
    # a treatment with a directed path to the outcome
    x = draw(st.sampled_from(names[:-1]))
    y = draw(st.sampled_from(names[names.index(x) + 1:]))
    edges.append(f"{x} -> {y}") if f"{x} -> {y}" not in edges else None
    latent = [v for v in latent if v not in (x, y)]
    return edges + bidirected, latent, x, y


def oracle_graph(edges):
    g = nx.DiGraph()
    for e in edges:
        if "<->" in e:
            a, b = (s.strip() for s in e.split("<->"))
            u = f"U[{a},{b}]"
            g.add_edge(u, a)
            g.add_edge(u, b)
        else:
            a, b = (s.strip() for s in e.split("->"))
            g.add_edge(a, b)
    return g


def satisfies_backdoor(g: nx.DiGraph, x: str, y: str, z: set[str]) -> bool:
    """Pearl's backdoor criterion: no descendant of x in z; z blocks every path into x."""
    if z & nx.descendants(g, x):
        return False
    cut = g.copy()
    cut.remove_edges_from(list(g.out_edges(x)))
    return _dsep(cut, {x}, {y}, z)


def covers_proper_causal_paths(g, x, y, z) -> bool:
    # the generalized criterion (dagitty) also allows z when x's other children don't lead to y
    return satisfies_backdoor(g, x, y, z)


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(random_dags())
def test_every_set_the_planner_returns_satisfies_the_backdoor_criterion(case):
    edges, latent, x, y = case
    try:
        spec = cs.Spec(name="p", treatment=x, outcome=y, dag={"edges": edges, "latent": latent})
    except cs.errors.SpecError:
        return  # e.g. the drawn treatment has no directed path to the outcome any more
    plan = cs.plan(spec)
    g = oracle_graph(edges)
    descendants = nx.descendants(g, x)
    if not plan.identified:
        # no minimal set may exist: check that the oracle agrees on the canonical candidate
        observed = set(g.nodes) - set(latent) - {n for n in g.nodes if n.startswith("U[")}
        candidate = (nx.ancestors(g, x) | nx.ancestors(g, y)) & observed - descendants - {x, y}
        assert not satisfies_backdoor(g, x, y, candidate)
        return
    for s in (plan.adjustment_set, *plan.minimal_adjustment_sets):
        z = set(s)
        assert not z & descendants, (edges, x, y, s)
        assert not z & set(latent), (edges, x, y, s)
        assert satisfies_backdoor(g, x, y, z), (edges, latent, x, y, s)
