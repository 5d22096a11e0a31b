"""d-separation and (minimal) separators.

d-separation is decided by the reachability ("Bayes-ball") search of Shachter (1998);
minimal separators are vertex separators of the moralised ancestral graph
(Lauritzen et al. 1990), listed with Takata's (2010) polynomial-delay algorithm
extended to vertices that may not be used (latent nodes, forbidden nodes), as in
van der Zander, Liśkiewicz & Textor (2019).
"""

from __future__ import annotations

from typing import Iterable, Mapping

from ._dag import DAG, _Expanded, _closure

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


def _real_neighbours(adj: Mapping[str, set[str]], V: Iterable[str], forbidden: set[str]) -> set[str]:
    """Allowed vertices outside ``V`` reachable from ``V`` through forbidden vertices only."""
    seen = set(V)
    stack = list(seen)
    out: set[str] = set()
    while stack:
        for w in adj[stack.pop()]:
            if w not in seen:
                seen.add(w)
                if w in forbidden:
                    stack.append(w)
                else:
                    out.add(w)
    return out


def _component(adj: Mapping[str, set[str]], start: Iterable[str], avoid: set[str]) -> set[str]:
    seen = set(start)
    stack = list(seen)
    while stack:
        for w in adj[stack.pop()]:
            if w not in seen and w not in avoid:
                seen.add(w)
                stack.append(w)
    return seen


def list_minimal_separators(adj: Mapping[str, set[str]], S: set[str], T: set[str],
                            forbidden: set[str], max_n: int | None = None) -> list[frozenset[str]]:
    """Every inclusion-minimal vertex set, free of ``forbidden`` and of S, T, separating S from T.

    Takata (2010) "Space-optimal, backtracking algorithms to list the minimal vertex
    separators of a graph", with forbidden vertices absorbed into the sides.
    """
    forbidden = set(forbidden) | S | T
    if _real_neighbours(adj, S, forbidden - T) & T or S & T:
        return []
    out: list[frozenset[str]] = []
    U0 = set(T)
    for t in T:
        U0 |= adj[t]

    def near_separator(A: set[str]) -> set[str] | None:
        NA = _real_neighbours(adj, A, forbidden)
        C = _component(adj, T, NA)
        if C & A:
            return None
        return _real_neighbours(adj, C, forbidden)

    def rec(A: set[str], U: set[str]) -> None:
        if max_n is not None and len(out) >= max_n:
            return
        SA = near_separator(A)
        if SA is None:
            return
        Astar = _component(adj, S, SA)
        if Astar & U:
            return
        candidates = sorted(_real_neighbours(adj, Astar, forbidden) - U)
        if candidates:
            v = candidates[0]
            rec(Astar | {v}, U)
            rec(Astar, U | {v})
        else:
            out.append(frozenset(SA))

    rec(set(S), U0)
    return out


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
