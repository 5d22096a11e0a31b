"""The immutable :class:`DAG` and the parser for edge strings such as ``"a -> b"``."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Iterable, Sequence

from causalspec.errors import GraphError, Problem

from causalspec.graph._dagitty import read_dagitty, relocate
from causalspec.graph._names import name_problem
from causalspec.graph._edges import _HIDDEN, _hidden_name, parse_edge

__all__ = ["DAG", "from_parsed"]


def _find_cycle(nodes: Iterable[str], children: dict[str, list[str]]) -> list[str] | None:
    """One directed cycle as a node list ``[a, b, c, a]``, or None (iterative DFS)."""
    state: dict[str, int] = {}
    for root in sorted(nodes):
        if state.get(root):
            continue
        stack = [(root, iter(sorted(children.get(root, ()))))]
        path = [root]
        state[root] = 1
        while stack:
            v, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                state[v] = 2
                stack.pop()
                path.pop()
                continue
            s = state.get(nxt, 0)
            if s == 1:
                return path[path.index(nxt):] + [nxt]
            if s == 0:
                state[nxt] = 1
                path.append(nxt)
                stack.append((nxt, iter(sorted(children.get(nxt, ())))))
    return None


@dataclass(frozen=True)
class DAG:
    """A causal DAG with directed edges, bidirected edges and latent nodes.

    ``a <-> b`` means an unobserved common cause of ``a`` and ``b``; every algorithm
    treats it as a latent parent of both, as dagitty does.  Build one with
    :meth:`from_edges` or :meth:`from_dagitty`.

    Attributes
    ----------
    nodes : tuple of str
        Every node (observed and latent), sorted.
    edges : tuple of (str, str, str)
        ``(v, "->", w)`` or ``(v, "<->", w)`` with ``v < w`` for bidirected, sorted.
    latent : frozenset of str
        Unobserved nodes: never adjusted for.
    exposures, outcomes : tuple of str
        Optional roles read from dagitty attributes (``x [exposure]``).
    adjusted : tuple of str
        Nodes every adjustment set must contain (dagitty's ``[adjusted]``, or the spec's ``dag.adjusted``).

    Examples
    --------
    >>> g = DAG.from_edges(["z -> x", "z -> y", "x -> y"])
    >>> g.parents("y")
    ('x', 'z')
    """

    nodes: tuple[str, ...]
    edges: tuple[tuple[str, str, str], ...]
    latent: frozenset[str] = frozenset()
    exposures: tuple[str, ...] = ()
    outcomes: tuple[str, ...] = ()
    positions: tuple[tuple[str, str], ...] = field(default=(), compare=False)
    adjusted: tuple[str, ...] = ()

    # ---- construction -------------------------------------------------
    @classmethod
    def from_edges(
        cls,
        edges: Sequence[str],
        latent: Iterable[str] = (),
        nodes: Iterable[str] = (),
        *,
        loc: str = "dag.edges",
        exposures: Iterable[str] = (),
        outcomes: Iterable[str] = (),
        adjusted: Iterable[str] = (),
    ) -> "DAG":
        """Build a DAG from strings ``"a -> b"``, ``"a <- b"``, ``"a <-> b"`` or chains ``"a -> b -> c"``.

        Names may be double-quoted to contain arrows or quotes (``"\\"a -> b\\" -> c"``).
        Every problem (unparseable text, self edge, duplicate edge, cycle, unknown latent
        node) is collected and raised once as :class:`~causalspec.errors.GraphError`.
        """
        if isinstance(edges, str):
            raise GraphError(Problem(loc, "edges must be a list of strings, not one string.",
                                     fix='Write edges: ["a -> b", "b -> c"].'))
        problems: list[Problem] = []
        checked: set[str] = set()  # names whose spelling was checked (each bad name is reported once)
        seen: dict[tuple[str, str, str], int] = {}
        triples: list[tuple[str, str, str]] = []
        for i, text in enumerate(edges):
            where = f"{loc}[{i}]"
            parsed = parse_edge(text)
            if isinstance(parsed, str):
                message = parsed if parsed.endswith(".") else parsed + "."
                problems.append(Problem(where, message,
                                        fix=getattr(parsed, "fix", "") or
                                        'Write the edge as "a -> b", "a <- b" or "a <-> b"; '
                                        'quote names containing arrows with double quotes.'))
                continue
            bad_names = [(nm, why) for nm in dict.fromkeys(name for t in parsed for name in (t[0], t[2]))
                         if nm not in checked and (why := name_problem(nm))]
            checked.update(name for t in parsed for name in (t[0], t[2]))
            for _nm, (message, fix) in bad_names:
                problems.append(Problem(where, message, fix=fix))
            if bad_names:
                continue
            for t in parsed:
                a, op, b = t
                if a == b:
                    problems.append(Problem(where, f"self edge {a} {op} {b}: a node cannot cause itself.",
                                            fix="Remove the edge or rename one end."))
                    continue
                if t in seen:
                    problems.append(Problem(where, f"duplicate edge {a} {op} {b} (already at {loc}[{seen[t]}]).",
                                            fix="Remove the repeated edge."))
                    continue
                if op == "->" and (b, "->", a) in seen:
                    problems.append(Problem(where, f"edge {a} -> {b} contradicts {b} -> {a} at {loc}[{seen[(b, '->', a)]}]"
                                                   " (a two-node cycle).",
                                            fix="Keep one direction, or use a <-> b for an unobserved common cause."))
                    continue
                seen[t] = i
                triples.append(t)
        nodes = list(nodes)
        node_set = set(nodes)
        nodes_loc = loc[: -len("edges")] + "nodes" if loc.endswith("edges") else loc
        for k, n in enumerate(nodes):
            if not isinstance(n, str) or not n or _HIDDEN in n:
                problems.append(Problem(f"{loc}", f"node {n!r} is not a valid name.", fix="Use a non-empty string."))
            elif n not in checked and (why := name_problem(n)):
                problems.append(Problem(f"{nodes_loc}[{k}]", why[0], fix=why[1]))
            checked.add(n) if isinstance(n, str) else None
        for a, _op, b in triples:
            node_set.update((a, b))
        latent_set = frozenset(latent)
        for name in sorted(latent_set, key=str):
            if name not in node_set:
                problems.append(Problem("dag.latent", f"latent node {name!r} is not a node of the DAG.",
                                        fix="Add an edge with it, list it in nodes, or fix the spelling."))
        children: dict[str, list[str]] = {}
        for a, op, b in triples:
            if op == "->":
                children.setdefault(a, []).append(b)
        cycle = _find_cycle(node_set, children)
        if cycle is not None:
            idx = [seen[(cycle[k], "->", cycle[k + 1])] for k in range(len(cycle) - 1)]
            problems.append(Problem(f"{loc}[{max(idx)}]", f"the graph has a cycle {' -> '.join(cycle)}.",
                                    fix="Remove or reverse one edge of the cycle; use <-> for an unobserved common cause."))
        for kind, names in (("exposure", exposures), ("outcome", outcomes)):
            for name in names:
                if name not in node_set:
                    problems.append(Problem(f"dag.{kind}", f"{kind} {name!r} is not a node of the DAG.",
                                            fix="Add it to the edges or fix the spelling."))
        if problems:
            raise GraphError(problems)
        forced = tuple(sorted(set(adjusted)))
        missing = [v for v in forced if v not in node_set]
        if missing:
            raise GraphError(Problem("dag.adjusted", f"{missing[0]!r} is not a node of the DAG.",
                                     fix="Name a node of the DAG, or add its edges.", code="unknown_node"))
        return cls(nodes=tuple(sorted(node_set)), edges=tuple(sorted(triples)), latent=latent_set,
                   exposures=tuple(sorted(set(exposures))), outcomes=tuple(sorted(set(outcomes))),
                   adjusted=forced)

    @classmethod
    def from_dagitty(cls, text: str) -> "DAG":
        """Parse dagitty syntax (``dag { x [exposure] ; x -> {a b} ; a <-> b }``); never evaluates anything.

        Graphviz DOT and GML text have their own parsers: :func:`causalspec.graph.from_dot` and
        :func:`causalspec.graph.from_gml`."""
        p = read_dagitty(text)
        return from_parsed(p.edges, p.lines, where="dag", nodes=p.nodes, latent=p.latent, exposures=p.exposures,
                           outcomes=p.outcomes, adjusted=p.adjusted, positions=p.positions)

    # ---- queries ------------------------------------------------------
    @cached_property
    def observed(self) -> tuple[str, ...]:
        """Nodes that are not latent, sorted."""
        return tuple(n for n in self.nodes if n not in self.latent)

    @cached_property
    def _parents(self) -> dict[str, tuple[str, ...]]:
        pa: dict[str, list[str]] = {n: [] for n in self.nodes}
        for a, op, b in self.edges:
            if op == "->":
                pa[b].append(a)
        return {k: tuple(sorted(v)) for k, v in pa.items()}

    @cached_property
    def _children(self) -> dict[str, tuple[str, ...]]:
        ch: dict[str, list[str]] = {n: [] for n in self.nodes}
        for a, op, b in self.edges:
            if op == "->":
                ch[a].append(b)
        return {k: tuple(sorted(v)) for k, v in ch.items()}

    @cached_property
    def _spouses(self) -> dict[str, tuple[str, ...]]:
        sp: dict[str, list[str]] = {n: [] for n in self.nodes}
        for a, op, b in self.edges:
            if op == "<->":
                sp[a].append(b)
                sp[b].append(a)
        return {k: tuple(sorted(v)) for k, v in sp.items()}

    def _check(self, vs: Iterable[str], what: str = "node") -> list[str]:
        out = [vs] if isinstance(vs, str) else list(vs)
        bad = [v for v in out if v not in self._parents]
        if bad:
            raise GraphError([Problem(what, f"{v!r} is not a node of the DAG.",
                                      fix="Use one of: " + ", ".join(self.nodes[:20]) + ("..." if len(self.nodes) > 20 else "") + ".")
                              for v in bad])
        return out

    def parents(self, v: str) -> tuple[str, ...]:
        """Direct causes of ``v`` (``p -> v``), sorted."""
        return self._parents[self._check(v)[0]]

    def children(self, v: str) -> tuple[str, ...]:
        """Direct effects of ``v`` (``v -> c``), sorted."""
        return self._children[self._check(v)[0]]

    def spouses(self, v: str) -> tuple[str, ...]:
        """Nodes joined to ``v`` by ``<->``, sorted."""
        return self._spouses[self._check(v)[0]]

    def ancestors(self, vs: str | Iterable[str]) -> tuple[str, ...]:
        """``vs`` and every node with a directed path into them (dagitty's ``ancestors``), sorted."""
        return tuple(sorted(_closure(self._check(vs), self._parents)))

    def descendants(self, vs: str | Iterable[str]) -> tuple[str, ...]:
        """``vs`` and every node reachable by a directed path from them, sorted."""
        return tuple(sorted(_closure(self._check(vs), self._children)))

    def adjacent(self, a: str, b: str) -> bool:
        """True when an edge of any kind joins ``a`` and ``b``."""
        return b in self._parents[a] or b in self._children[a] or b in self._spouses[a]

    def to_dict(self) -> dict:
        """A JSON-ready description: nodes, edges as strings, latent, exposures, outcomes."""
        return {
            "nodes": list(self.nodes),
            "edges": [f"{_q(a)} {op} {_q(b)}" for a, op, b in self.edges],
            "latent": sorted(self.latent),
            "exposures": list(self.exposures),
            "outcomes": list(self.outcomes),
        }

    def with_roles(self, exposures: Iterable[str] = (), outcomes: Iterable[str] = ()) -> "DAG":
        """A copy with the given exposures and outcomes."""
        ex, oc = self._check(exposures, "exposure"), self._check(outcomes, "outcome")
        return DAG(self.nodes, self.edges, self.latent, tuple(sorted(set(ex))), tuple(sorted(set(oc))), self.positions)

    # ---- the expanded DAG used by the algorithms -----------------------
    @cached_property
    def _expanded(self) -> "_Expanded":
        return _Expanded.of(self)


def from_parsed(edges: Sequence[tuple[str, str, str]], lines: Sequence[int], *, where: str,
                nodes: Iterable[str] = (), node_lines: "Sequence[int | None]" = (), latent: Iterable[str] = (),
                exposures: Iterable[str] = (), outcomes: Iterable[str] = (), adjusted: Iterable[str] = (),
                positions: tuple[tuple[str, str], ...] = ()) -> DAG:
    """The DAG of edges a text parser read (dagitty, DOT, GML), each with its line in the text: built and checked
    by :meth:`DAG.from_edges`, whose problems are then located at ``{where} line N`` instead of an edge index."""
    nodes = tuple(nodes)
    try:
        dag = DAG.from_edges([f"{_q(a)} {op} {_q(b)}" for (a, op, b) in edges], latent=latent, nodes=nodes,
                             loc="dag.edges", exposures=exposures, outcomes=outcomes, adjusted=adjusted)
    except GraphError as err:
        raise relocate(err, tuple(lines), where, tuple(node_lines)) from None
    return DAG(dag.nodes, dag.edges, dag.latent, dag.exposures, dag.outcomes, positions, dag.adjusted)


_PLAIN = re.compile(r"^[^\s\"<>\-{}\[\];=,]+$")


def _q(name: str) -> str:
    """Quote a name when it would not survive being parsed back."""
    if _PLAIN.match(name):
        return name
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _closure(start: Iterable[str], step: dict[str, tuple[str, ...]]) -> set[str]:
    seen = set(start)
    stack = list(seen)
    while stack:
        for w in step.get(stack.pop(), ()):
            if w not in seen:
                seen.add(w)
                stack.append(w)
    return seen


@dataclass(frozen=True)
class _Expanded:
    """The DAG with every ``a <-> b`` replaced by a hidden latent parent of ``a`` and ``b``."""

    parents: dict[str, frozenset[str]]
    children: dict[str, frozenset[str]]
    latent: frozenset[str]  # user latent nodes plus hidden ones

    @classmethod
    def of(cls, dag: DAG) -> "_Expanded":
        pa: dict[str, set[str]] = {n: set() for n in dag.nodes}
        ch: dict[str, set[str]] = {n: set() for n in dag.nodes}
        hidden = set()
        for a, op, b in dag.edges:
            if op == "->":
                pa[b].add(a)
                ch[a].add(b)
            else:
                u = _hidden_name(a, b)
                hidden.add(u)
                pa[u], ch[u] = set(), {a, b}
                pa[a].add(u)
                pa[b].add(u)
        return cls({k: frozenset(v) for k, v in pa.items()}, {k: frozenset(v) for k, v in ch.items()},
                   frozenset(dag.latent) | frozenset(hidden))

    def ancestors(self, vs: Iterable[str]) -> set[str]:
        return _closure(vs, self.parents)  # type: ignore[arg-type]

    def descendants(self, vs: Iterable[str]) -> set[str]:
        return _closure(vs, self.children)  # type: ignore[arg-type]
