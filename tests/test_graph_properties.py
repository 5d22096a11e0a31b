"""Property tests: every set the graph stage returns is checked by a plain, independent
d-separation oracle that enumerates paths by brute force on random small DAGs."""

from __future__ import annotations

from itertools import combinations

from hypothesis import given, settings
from hypothesis import strategies as st

from causalspec.graph import (
    DAG,
    adjustment_sets,
    d_separated,
    is_adjustment_set,
    optimal_adjustment_set,
)

NAMES = ["a", "b c", 'q"t', "é", "x->y", "n5", "n6", "n7", "n8", "n9", "n10", "n11"]
FAST = settings(max_examples=60, derandomize=True, deadline=None)


class Oracle:
    """A DAG with bidirected edges replaced by explicit latent parents; brute-force paths."""

    def __init__(self, nodes, directed, bidirected, latent):
        self.pa = {v: set() for v in nodes}
        for a, b in directed:
            self.pa[b].add(a)
        for a, b in bidirected:
            u = ("U", a, b)
            self.pa[u] = set()
            self.pa[a].add(u)
            self.pa[b].add(u)
        self.ch = {v: set() for v in self.pa}
        for v, ps in self.pa.items():
            for p in ps:
                self.ch[p].add(v)
        self.latent = set(latent) | {v for v in self.pa if isinstance(v, tuple)}

    def closure(self, vs, step):
        out, todo = set(vs), list(vs)
        while todo:
            for w in step[todo.pop()]:
                if w not in out:
                    out.add(w)
                    todo.append(w)
        return out

    def all_paths(self, x, y):
        def rec(path):
            v = path[-1]
            if v == y:
                yield list(path)
                return
            for w in self.pa[v] | self.ch[v]:
                if w not in path:
                    path.append(w)
                    yield from rec(path)
                    path.pop()

        yield from rec([x])

    def is_open(self, path, Z):
        an_z = self.closure(Z, self.pa)
        for i in range(1, len(path) - 1):
            prev, v, nxt = path[i - 1], path[i], path[i + 1]
            collider = prev in self.pa[v] and nxt in self.pa[v]
            if collider and v not in an_z:
                return False
            if not collider and v in Z:
                return False
        return True

    def d_separated(self, x, y, Z):
        return not any(self.is_open(p, Z) for p in self.all_paths(x, y))

    def is_causal(self, path):
        return all(path[i + 1] in self.ch[path[i]] for i in range(len(path) - 1))

    def valid_adjustment(self, x, y, Z):
        """Shpitser, VanderWeele & Robins (2010) adjustment criterion, checked path by path."""
        if set(Z) & self.latent:
            return False
        de_x = self.closure([x], self.ch)
        cn = (de_x - {x}) & self.closure([y], self.pa)
        if set(Z) & self.closure(cn, self.ch):
            return False
        return not any(self.is_open(p, Z) for p in self.all_paths(x, y) if not self.is_causal(p))


@st.composite
def graphs(draw):
    n = draw(st.integers(3, 9))
    names = NAMES[:n]
    order = draw(st.permutations(names))
    directed = [(order[i], order[j]) for i in range(n) for j in range(i + 1, n) if draw(st.booleans()) and draw(st.booleans())]
    pairs = [(a, b) for a, b in combinations(sorted(names), 2)]
    bidirected = draw(st.lists(st.sampled_from(pairs), max_size=2, unique=True))
    bidirected = [p for p in bidirected if p not in directed and p[::-1] not in directed]
    x, y = draw(st.sampled_from(list(combinations(names, 2))))
    if order.index(x) > order.index(y):
        x, y = y, x  # let y be downstream of x, so that an effect can exist
    latent = draw(st.lists(st.sampled_from([v for v in names if v not in (x, y)]), max_size=2, unique=True))
    edges = [f'"{a}" -> "{b}"'.replace('"q"t"', '"q\\"t"') for a, b in directed]
    edges += [f'"{a}" <-> "{b}"'.replace('"q"t"', '"q\\"t"') for a, b in bidirected]
    dag = DAG.from_edges(edges, latent=latent, nodes=names)
    return dag, Oracle(names, directed, bidirected, latent), x, y


@FAST
@given(graphs(), st.data())
def test_d_separated_agrees_with_path_enumeration(g, data):
    dag, oracle, x, y = g
    others = [v for v in dag.nodes if v not in (x, y)]
    Z = data.draw(st.lists(st.sampled_from(others), unique=True, max_size=3)) if others else []
    assert d_separated(dag, x, y, Z) == oracle.d_separated(x, y, Z)


@FAST
@given(graphs())
def test_every_minimal_set_is_valid_observed_pre_treatment_and_minimal(g):
    dag, oracle, x, y = g
    de_x = set(dag.descendants(x))
    for Z in adjustment_sets(dag, x, y, "minimal"):
        assert oracle.valid_adjustment(x, y, Z)
        assert not set(Z) & set(dag.latent)
        assert not set(Z) & (de_x - {x})
        for v in Z:
            smaller = [w for w in Z if w != v]
            assert not oracle.valid_adjustment(x, y, smaller), (Z, v)


@FAST
@given(graphs())
def test_minimal_sets_exist_exactly_when_the_canonical_set_is_valid(g):
    dag, oracle, x, y = g
    minimal = adjustment_sets(dag, x, y, "minimal")
    canonical = adjustment_sets(dag, x, y, "canonical")
    assert bool(minimal) == bool(canonical)
    if canonical:
        assert oracle.valid_adjustment(x, y, canonical[0])
        # every minimal set lies inside the canonical one (both are ancestors of x or y)
        assert all(set(m) <= set(canonical[0]) for m in minimal)


@FAST
@given(graphs())
def test_optimal_set_is_valid_and_exists_without_latent_confounding(g):
    dag, oracle, x, y = g
    o_set = optimal_adjustment_set(dag, x, y)
    if o_set is not None:
        assert oracle.valid_adjustment(x, y, o_set)
        assert not set(o_set) & set(dag.latent)
        assert not set(o_set) & (set(dag.descendants(x)) - {x})
    plain = not dag.latent and all(op == "->" for _a, op, _b in dag.edges)
    if plain and y in dag.descendants(x):
        assert o_set is not None  # in a DAG without latent nodes the O-set always exists


@FAST
@given(graphs(), st.data())
def test_is_adjustment_set_agrees_with_the_adjustment_criterion(g, data):
    dag, oracle, x, y = g
    others = [v for v in dag.nodes if v not in (x, y)]
    Z = data.draw(st.lists(st.sampled_from(others), unique=True, max_size=4)) if others else []
    assert is_adjustment_set(dag, x, y, Z) == oracle.valid_adjustment(x, y, Z)


@settings(max_examples=40, derandomize=True, deadline=None)
@given(graphs())
def test_minimal_sets_are_exactly_the_inclusion_minimal_valid_sets(g):
    dag, oracle, x, y = g
    cand = [v for v in dag.observed if v not in (x, y)]
    valid = [set(c) for k in range(len(cand) + 1) for c in combinations(cand, k)
             if oracle.valid_adjustment(x, y, c)]
    minimal = {tuple(sorted(s)) for s in valid if not any(t < s for t in valid)}
    assert set(adjustment_sets(dag, x, y, "minimal")) == minimal
    assert {tuple(sorted(s)) for s in valid} == set(adjustment_sets(dag, x, y, "all"))


@FAST
@given(graphs(), st.data())
def test_sets_with_forced_nodes_are_exactly_the_valid_sets_minimal_among_those_containing_them(g, data):
    """dagitty's [adjusted] nodes (issue 12): the completed sets, checked against brute force and the oracle."""
    dag, oracle, x, y = g
    observed = [v for v in dag.nodes if v not in (x, y) and v not in dag.latent]
    forced = data.draw(st.lists(st.sampled_from(observed), unique=True, max_size=2)) if observed else []
    got = {tuple(s) for s in adjustment_sets(dag, x, y, "minimal", include=forced)}
    free = [v for v in observed if v not in forced]
    valid = [tuple(sorted({*forced, *extra})) for k in range(len(free) + 1) for extra in combinations(free, k)
             if oracle.valid_adjustment(x, y, [*forced, *extra])]
    minimal = {z for z in valid if not any(set(w) < set(z) for w in valid)}
    assert got == minimal
