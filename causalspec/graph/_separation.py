"""d-separation and (minimal) separators.

d-separation is decided by the reachability ("Bayes-ball") search of Shachter (1998);
minimal separators are vertex separators of the moralised ancestral graph
(Lauritzen et al. 1990), listed with Takata's (2010) polynomial-delay algorithm
extended to vertices that may not be used (latent nodes, forbidden nodes), as in
van der Zander, Liśkiewicz & Textor (2019).
"""

from __future__ import annotations

import time
from typing import Iterable, Mapping

from causalspec.graph._dag import DAG, _Expanded, _closure

__all__ = ["d_separated"]

Adj = Mapping[str, frozenset[str]]


def d_connected_exp(exp: _Expanded, xs: Iterable[str], ys: Iterable[str], zs: Iterable[str],
                    parents: Adj | None = None, children: Adj | None = None) -> bool:
    """True when some path between ``xs`` and ``ys`` is open given ``zs`` (Bayes-ball search)."""
    pa = exp.parents if parents is None else parents
    ch = exp.children if children is None else children
    Z = set(zs)
    Y = set(ys)
    an_z = _closure(Z, pa)  # type: ignore[arg-type]
    # state (v, up): we arrived at v from a child (or start); (v, down): from a parent.
    stack = [(x, True) for x in xs]
    seen = set(stack)
    while stack:
        v, up = stack.pop()
        if v in Y:
            return True
        nxt: list[tuple[str, bool]] = []
        if up:
            if v not in Z:
                nxt += [(p, True) for p in pa[v]] + [(c, False) for c in ch[v]]
        else:
            if v not in Z:
                nxt += [(c, False) for c in ch[v]]
            if v in an_z:  # an open collider: go back up through the other parents
                nxt += [(p, True) for p in pa[v]]
        for s in nxt:
            if s not in seen:
                seen.add(s)
                stack.append(s)
    return False


def d_separated(dag: DAG, xs: str | Iterable[str], ys: str | Iterable[str], zs: Iterable[str] = ()) -> bool:
    """True when ``zs`` d-separates every node of ``xs`` from every node of ``ys``.

    Bidirected edges count as latent common causes.  Matches ``dagitty::dseparated``;
    Pearl (1988), Shachter (1998) "Bayes-ball".

    Examples
    --------
    >>> g = DAG.from_edges(["x -> m", "m -> y"])
    >>> d_separated(g, "x", "y", ["m"])
    True
    """
    X = dag._check(xs, "xs")
    Y = dag._check(ys, "ys")
    Z = dag._check(zs, "zs")
    return not d_connected_exp(dag._expanded, X, Y, Z)


def moral_graph(parents: Adj, keep: set[str]) -> dict[str, set[str]]:
    """The moral graph of the subgraph induced by ``keep`` (an ancestral set)."""
    adj: dict[str, set[str]] = {v: set() for v in keep}
    for v in keep:
        ps = [p for p in parents[v] if p in keep]
        for i, p in enumerate(ps):
            adj[v].add(p)
            adj[p].add(v)
            for q in ps[i + 1:]:  # marry the parents of a common child
                adj[p].add(q)
                adj[q].add(p)
    return adj


def _component(adj: Mapping[str, set[str]], start: Iterable[str], avoid: set[str]) -> set[str]:
    seen = set(start)
    stack = list(seen)
    while stack:
        for w in adj[stack.pop()]:
            if w not in seen and w not in avoid:
                seen.add(w)
                stack.append(w)
    return seen


def _bits(m: int):
    while m:
        low = m & -m
        yield low.bit_length() - 1
        m ^= low


class OverBudget(Exception):
    """Raised by :func:`list_minimal_separators` when its ``deadline`` passes before the listing ends."""

    def __init__(self, found: int):
        super().__init__(f"stopped after {found} separators")
        self.found = found


def list_minimal_separators(adj: Mapping[str, set[str]], S: set[str], T: set[str],
                            forbidden: set[str], max_n: int | None = None,
                            deadline: float | None = None) -> list[frozenset[str]]:
    """Every inclusion-minimal vertex set, free of ``forbidden`` and of S, T, separating S from T.

    Takata (2010) "Space-optimal, backtracking algorithms to list the minimal vertex
    separators of a graph", Discrete Appl Math 158:1660-1667.  Forbidden vertices are
    eliminated first (their neighbours become a clique: a separator can never use them),
    S and T are merged into one vertex each, and vertex sets are bit masks for speed.

    The backtracking runs on an explicit stack (its depth grows with the number of vertices,
    so recursion would overflow on large graphs), stops after ``max_n`` separators, and raises
    :class:`OverBudget` once ``time.monotonic()`` passes ``deadline``: a graph can have
    exponentially many minimal separators.
    """
    forbidden = set(forbidden) - S - T
    if S & T:
        return []
    # eliminate forbidden vertices: neighbours of each forbidden component become adjacent
    nbr: dict[str, set[str]] = {v: set(adj[v]) - forbidden for v in adj if v not in forbidden}
    seen: set[str] = set()
    for f in forbidden:
        if f in seen or f not in adj:
            continue
        comp, stack, border = {f}, [f], set()
        while stack:
            for w in adj[stack.pop()]:
                if w in forbidden:
                    if w not in comp:
                        comp.add(w)
                        stack.append(w)
                else:
                    border.add(w)
        seen |= comp
        for a in border:
            nbr[a] |= border - {a}
    # merge S into one vertex and T into another
    names = ["\x00S", "\x00T"] + sorted(v for v in nbr if v not in S and v not in T)
    index = {v: i for i, v in enumerate(names)}
    for v in S:
        index[v] = 0
    for v in T:
        index[v] = 1
    adjm = [0] * len(names)
    for v, ws in nbr.items():
        i = index[v]
        for w in ws:
            j = index[w]
            if i != j:
                adjm[i] |= 1 << j
                adjm[j] |= 1 << i
    s_bit, t_bit = 1, 2
    if adjm[0] & t_bit:
        return []

    def neighbours(m: int) -> int:
        out, rest = 0, m
        while rest:  # inlined bit loop: this is the hot path of the listing
            low = rest & -rest
            out |= adjm[low.bit_length() - 1]
            rest ^= low
        return out & ~m

    def component(start: int, avoid: int) -> int:
        comp = frontier = start
        while frontier:
            frontier = neighbours(frontier) & ~avoid & ~comp
            comp |= frontier
        return comp

    out: list[int] = []
    # Takata's recursion rec(A, U), depth-first in the same order: rec(A* + v, U) before rec(A*, U + v)
    stack = [(s_bit, t_bit | adjm[1])]
    steps = 0
    while stack:
        if max_n is not None and len(out) >= max_n:
            break
        steps += 1
        if deadline is not None and not steps & 255 and time.monotonic() > deadline:
            raise OverBudget(len(out))
        A, U = stack.pop()
        C = component(t_bit, neighbours(A))
        if C & A:
            continue
        SA = neighbours(C)  # the minimal separator closest to A
        Astar = component(s_bit, SA)
        if Astar & U:
            continue
        free = neighbours(Astar) & ~U
        if free:
            v = free & -free
            stack.append((Astar, U | v))
            stack.append((Astar | v, U))
        else:
            out.append(SA)
    return [frozenset(names[i] for i in _bits(m)) for m in out]


def find_minimal_separator(parents: Adj, children: Adj, X: set[str], Y: set[str],
                           allowed: set[str]) -> frozenset[str] | None:
    """One minimal d-separator of ``X`` and ``Y`` made of ``allowed`` nodes, or None.

    Start from every allowed ancestor of X ∪ Y, keep those adjacent (in the moral
    ancestral graph) to X's side, then those adjacent to Y's side: van der Zander &
    Liśkiewicz (2020) "Finding minimal d-separators in linear time"; the set dagitty's
    ``findMinimalSeparator`` returns.
    """
    an = _closure(X | Y, parents)  # type: ignore[arg-type]
    adj = moral_graph(parents, an)
    Z = (an & allowed) - X - Y
    for side, other in ((X, Y), (Y, X)):
        comp = _component(adj, side, Z)
        if comp & other:
            return None
        Z = {z for z in Z if adj[z] & comp}
    return frozenset(Z)
