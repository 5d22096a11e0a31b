"""Covariate adjustment: the generalised adjustment criterion, minimal / canonical /
all / optimal adjustment sets and front-door sets."""

from __future__ import annotations

import time
from itertools import combinations
from math import comb
from typing import Iterable, Literal

from causalspec.errors import GraphError, Problem, UnsupportedError

from causalspec.graph._dag import DAG, _closure
from causalspec.graph._separation import OverBudget, d_connected_exp, list_minimal_separators, moral_graph

__all__ = ["is_adjustment_set", "adjustment_sets", "optimal_adjustment_set", "front_door_sets",
           "MAX_ADJUSTMENT_SETS", "ADJUSTMENT_TIME_BUDGET"]

_ALL_LIMIT = 20  # type="all" enumerates subsets: refuse more candidates than this
#: Most minimal adjustment sets listed: a DAG can have exponentially many (2^k for k parallel back-door paths).
MAX_ADJUSTMENT_SETS = 10_000
#: Seconds the listing may take before it stops with an error (a large dense DAG is slow well before the cap).
ADJUSTMENT_TIME_BUDGET = 30.0
_FRONT_DOOR_TESTS = 200_000  # front_door_sets tests every subset up to max_size: refuse more than this


def _xy(dag: DAG, x, y) -> tuple[set[str], set[str]]:
    X = set(dag._check(x, "exposure"))
    Y = set(dag._check(y, "outcome"))
    problems = []
    if not X:
        problems.append(Problem("exposure", "no exposure given.", fix="Name the treatment node."))
    if not Y:
        problems.append(Problem("outcome", "no outcome given.", fix="Name the outcome node."))
    if X & Y:
        problems.append(Problem("outcome", f"{sorted(X & Y)} is both exposure and outcome.",
                                fix="Use different nodes for treatment and outcome."))
    if problems:
        raise GraphError(problems)
    return X, Y


def causal_nodes(dag: DAG, X: set[str], Y: set[str]) -> set[str]:
    """Nodes on proper causal paths from X to Y, X excluded (cn(X, Y) of Perković et al.)."""
    exp = dag._expanded
    # ancestors of Y reached without passing through X, intersected with descendants of X
    seen: set[str] = set()
    stack = list(Y)
    while stack:
        v = stack.pop()
        if v in seen:
            continue
        seen.add(v)
        if v not in X:
            stack.extend(exp.parents[v])
    return (seen & exp.descendants(X)) - X


def forbidden_nodes(dag: DAG, X: set[str], Y: set[str]) -> set[str]:
    """Descendants of proper-causal-path nodes (dagitty's ``dpcp``): never adjusted for."""
    return dag._expanded.descendants(causal_nodes(dag, X, Y))


def _backdoor(dag: DAG, X: set[str], Y: set[str]):
    """Parents/children maps of the proper back-door graph: first edges of proper causal paths removed."""
    exp = dag._expanded
    cn = causal_nodes(dag, X, Y)
    pa = dict(exp.parents)
    ch = dict(exp.children)
    for x in X:
        drop = ch[x] & cn
        if drop:
            ch[x] = ch[x] - drop
            for c in drop:
                pa[c] = pa[c] - {x}
    return pa, ch


def is_adjustment_set(dag: DAG, x: str | Iterable[str], y: str | Iterable[str], z: Iterable[str]) -> bool:
    """True when ``z`` is a valid adjustment set for the total effect of ``x`` on ``y``.

    The generalised adjustment criterion: no node of ``z`` descends from a node on a
    proper causal path, and ``z`` blocks every path of the proper back-door graph.
    Latent nodes are never allowed.  Matches ``dagitty::isAdjustmentSet``;
    Shpitser, VanderWeele & Robins (2010), Perković et al. (2018).

    Examples
    --------
    >>> g = DAG.from_edges(["z -> x", "z -> y", "x -> y"])
    >>> is_adjustment_set(g, "x", "y", ["z"]), is_adjustment_set(g, "x", "y", [])
    (True, False)
    """
    X, Y = _xy(dag, x, y)
    Z = set(dag._check(z, "adjustment"))
    if Z & (X | Y) or Z & dag._expanded.latent:
        return False
    if Z & forbidden_nodes(dag, X, Y):
        return False
    pa, ch = _backdoor(dag, X, Y)
    return not d_connected_exp(dag._expanded, X, Y, Z, pa, ch)


def _minimal_total(dag: DAG, X: set[str], Y: set[str], max_n: int | None = None,
                   deadline: float | None = None) -> list[frozenset[str]]:
    pa, _ch = _backdoor(dag, X, Y)
    an = _closure(X | Y, pa)  # type: ignore[arg-type]
    adj = moral_graph(pa, an)
    forbidden = dag._expanded.latent | forbidden_nodes(dag, X, Y)
    return list_minimal_separators(adj, X, Y, set(forbidden) & an, max_n=max_n, deadline=deadline)


def _with_forced(dag: DAG, X: set[str], Y: set[str], forced: frozenset[str], max_sets, time_budget):
    """Minimal adjustment sets that contain ``forced``: condition on the forced nodes (remove them from the
    moral graph of the ancestors of X, Y and the forced nodes in the proper back-door graph) and list the minimal
    separators of what is left, each completed with the forced nodes."""
    exp = dag._expanded
    if forced & (exp.latent | forbidden_nodes(dag, X, Y)) or forced & (X | Y):
        return []
    pa, _ch = _backdoor(dag, X, Y)
    an = _closure(X | Y | forced, pa)  # type: ignore[arg-type]
    adj = moral_graph(pa, an)
    rest = {v: set(w) - forced for v, w in adj.items() if v not in forced}
    forbidden = (exp.latent | forbidden_nodes(dag, X, Y)) & set(rest)
    limit = MAX_ADJUSTMENT_SETS if max_sets is None else max_sets
    seps = list_minimal_separators(rest, X, Y, set(forbidden), max_n=limit + 1)
    return sorted(tuple(sorted(s | forced)) for s in seps)


def _minimal_direct(dag: DAG, X: set[str], Y: set[str], max_n: int | None = None,
                    deadline: float | None = None) -> list[frozenset[str]]:
    exp = dag._expanded
    # descendants of the outcome(s) that X affects may not be conditioned on
    de_y = exp.descendants(exp.descendants(X) & Y)
    pa = {k: (v - X if k in Y else v) for k, v in exp.parents.items()}  # drop x -> y edges
    an = _closure(X | Y, pa)  # type: ignore[arg-type]
    adj = moral_graph(pa, an)
    forbidden = (exp.latent | de_y) & an
    return list_minimal_separators(adj, X, Y, set(forbidden), max_n=max_n, deadline=deadline)


def _canonical(dag: DAG, X: set[str], Y: set[str], max_n=None, deadline=None) -> list[frozenset[str]]:
    exp = dag._expanded
    Z = exp.ancestors(X | Y) - exp.latent - X - Y - forbidden_nodes(dag, X, Y)
    return [frozenset(Z)] if is_adjustment_set(dag, X, Y, Z) else []


def _all(dag: DAG, X: set[str], Y: set[str], max_n=None, deadline=None) -> list[frozenset[str]]:
    cand = sorted(set(dag.observed) - X - Y - forbidden_nodes(dag, X, Y))
    if len(cand) > _ALL_LIMIT:
        raise UnsupportedError(Problem("adjustment_sets", f"type='all' would test 2^{len(cand)} subsets.",
                                       fix="Use type='minimal' or 'canonical' on graphs this large."))
    return [frozenset(c) for k in range(len(cand) + 1) for c in combinations(cand, k)
            if is_adjustment_set(dag, X, Y, c)]


def adjustment_sets(dag: DAG, x: str | Iterable[str], y: str | Iterable[str],
                    type: Literal["minimal", "canonical", "all"] = "minimal",
                    effect: Literal["total", "direct"] = "total", *, include: Iterable[str] | None = None,
                    max_sets: int | None = None, time_budget: float | None = None) -> list[tuple[str, ...]]:
    """Adjustment sets for the effect of ``x`` on ``y``.

    ``type="minimal"`` lists every inclusion-minimal set (minimal separators of the
    moralised ancestral proper back-door graph), ``"canonical"`` the one set of all
    allowed ancestors of x and y if it is valid, ``"all"`` every valid set of observed
    nodes (small graphs only).  ``effect="direct"`` gives minimal sets for the direct
    effect (x -> y edges removed).  Each set is a sorted tuple; the list is sorted;
    ``[]`` means no set exists and ``[()]`` that the empty set suffices.
    Matches ``dagitty::adjustmentSets``; van der Zander, Liśkiewicz & Textor (2019).

    ``include`` (default: the DAG's own ``[adjusted]`` nodes, as ``dagitty::adjustmentSets`` takes them; ``()``
    ignores them) forces variables into every set: ``type="minimal"`` then lists
    the sets that contain them and are minimal among such sets -- the forced nodes completed into valid
    adjustment sets (a forced collider brings the nodes that block the path it opens).  No set exists when a
    forced node is a descendant of the treatment on a causal path, or latent.

    A DAG can have exponentially many minimal sets, so the listing is lazy and bounded: more
    than ``max_sets`` sets (default :data:`MAX_ADJUSTMENT_SETS`) or more than ``time_budget``
    seconds (default :data:`ADJUSTMENT_TIME_BUDGET`) raise :class:`~causalspec.errors.UnsupportedError`
    (codes ``too_many_adjustment_sets`` and ``adjustment_time_budget``), which suggests giving the
    set explicitly.

    Examples
    --------
    >>> g = DAG.from_edges(["z -> x", "z -> y", "x -> y"])
    >>> adjustment_sets(g, "x", "y")
    [('z',)]
    """
    X, Y = _xy(dag, x, y)
    forced = frozenset(dag.adjusted if include is None else include)
    if forced:
        unknown = sorted(forced - set(dag.nodes))
        if unknown:
            raise UnsupportedError(Problem("include", f"{unknown[0]!r} is not a node of the DAG.",
                                           fix="Name nodes of the DAG.", code="unknown_node"))
        if type != "minimal" or effect != "total":
            raise UnsupportedError(Problem("include", "forced nodes are supported for minimal total-effect sets.",
                                           fix="Use type='minimal' and effect='total'.", code="include_unsupported"))
        return _with_forced(dag, X, Y, forced, max_sets, time_budget)
    if effect == "total":
        fn = {"minimal": _minimal_total, "canonical": _canonical, "all": _all}.get(type)
    elif effect == "direct":
        fn = {"minimal": _minimal_direct}.get(type)
    else:
        raise GraphError(Problem("effect", f"effect {effect!r} is not 'total' or 'direct'.",
                                 fix="Use effect='total' or effect='direct'."))
    if fn is None:
        raise UnsupportedError(Problem("type", f"type {type!r} is not available for the {effect} effect.",
                                       fix="Use type='minimal', 'canonical' or 'all' (total effect) "
                                           "or 'minimal' (direct effect)."))
    limit = MAX_ADJUSTMENT_SETS if max_sets is None else max_sets
    budget = ADJUSTMENT_TIME_BUDGET if time_budget is None else time_budget
    what = f"the {effect} effect of {', '.join(sorted(X))} on {', '.join(sorted(Y))}"
    fix = ("List the variables to adjust for under 'adjustment:' in the spec, so the planner checks that one "
           "set instead of listing every set; or simplify the DAG.")
    try:
        found = fn(dag, X, Y, max_n=limit + 1, deadline=time.monotonic() + budget)
    except OverBudget as over:
        raise UnsupportedError(Problem(
            "dag", f"listing the minimal adjustment sets for {what} took more than {budget:g} seconds "
                   f"({over.found:,} found so far).", fix=fix, code="adjustment_time_budget")) from None
    if len(found) > limit:
        raise UnsupportedError(Problem(
            "dag", f"the DAG has more than {limit:,} minimal adjustment sets for {what}; causalspec stops "
                   "listing them there.", fix=fix, code="too_many_adjustment_sets"))
    return sorted({tuple(sorted(s)) for s in found})


def optimal_adjustment_set(dag: DAG, x: str | Iterable[str], y: str | Iterable[str]) -> tuple[str, ...] | None:
    """The O-set pa(cn(x, y)) \\ forb(x, y), the valid set with the smallest asymptotic variance.

    Returns None when the O-set is not a valid adjustment set of observed nodes (for
    instance when it contains a latent node or a bidirected edge enters the causal
    nodes).  When y is not a descendant of x there are no causal nodes; the empty set
    is returned if it is valid, else None.  Henckel, Perković & Maathuis (2022), JRSS-B 84(2) 579-599; matches
    ``pcalg::optAdjSet``.

    Examples
    --------
    >>> g = DAG.from_edges(["z -> x", "w -> y", "z -> y", "x -> y"])
    >>> optimal_adjustment_set(g, "x", "y")
    ('w', 'z')
    """
    X, Y = _xy(dag, x, y)
    exp = dag._expanded
    cn = causal_nodes(dag, X, Y)
    forb = exp.descendants(cn) | X
    O = set().union(*(exp.parents[c] for c in cn)) - forb if cn else set()
    if O & exp.latent or not is_adjustment_set(dag, X, Y, O):
        return None
    return tuple(sorted(O))


def front_door_sets(dag: DAG, x: str, y: str, max_size: int = 4) -> list[tuple[str, ...]]:
    """Sets M satisfying Pearl's front-door criterion for the effect of ``x`` on ``y``.

    (i) M intercepts every directed path x -> ... -> y; (ii) no back-door path from x
    to M is open (given nothing); (iii) x blocks every back-door path from M to y.
    Brute force over observed descendants of x of size at most ``max_size``; only
    inclusion-minimal sets are returned, sorted.  Pearl (1995) Biometrika 82(4).

    Examples
    --------
    >>> g = DAG.from_edges(["x -> m", "m -> y", "x <-> y"])
    >>> front_door_sets(g, "x", "y")
    [('m',)]
    """
    X, Y = _xy(dag, x, y)
    exp = dag._expanded
    # a node of a minimal front-door set lies on a directed path x -> ... -> y (any other node can be
    # dropped without breaking (i)-(iii)), so only those are candidates
    cand = sorted((exp.descendants(X) & exp.ancestors(Y)) - X - Y - exp.latent)
    tests = sum(comb(len(cand), k) for k in range(1, min(max_size, len(cand)) + 1))
    if tests > _FRONT_DOOR_TESTS:
        raise UnsupportedError(Problem(
            "front_door_sets", f"the front-door search would test {tests:,} sets of up to {max_size} of the "
                               f"{len(cand):,} nodes between {', '.join(sorted(X))} and {', '.join(sorted(Y))}.",
            fix="Pass a smaller max_size, or name the front-door set yourself.", code="front_door_budget"))
    out: list[frozenset[str]] = []
    for k in range(1, min(max_size, len(cand)) + 1):
        for M in combinations(cand, k):
            Ms = frozenset(M)
            if any(s <= Ms for s in out):
                continue
            if _front_door(dag, X, Y, Ms):
                out.append(Ms)
    return sorted(tuple(sorted(s)) for s in out)


def _front_door(dag: DAG, X: set[str], Y: set[str], M: frozenset[str]) -> bool:
    exp = dag._expanded
    # (i) every directed path from X to Y meets M
    pa_cut = {k: (v if k not in M else frozenset()) for k, v in exp.parents.items()}
    if _closure(Y, pa_cut) & X:  # type: ignore[arg-type]
        return False
    # (ii) no unblocked back-door path from X to M: drop X's outgoing edges
    pa2 = {k: v - X for k, v in exp.parents.items()}
    ch2 = {k: (frozenset() if k in X else v) for k, v in exp.children.items()}
    if d_connected_exp(exp, X, M, (), pa2, ch2):
        return False
    # (iii) X blocks every back-door path from M to Y: drop M's outgoing edges
    pa3 = {k: v - M for k, v in exp.parents.items()}
    ch3 = {k: (frozenset() if k in M else v) for k, v in exp.children.items()}
    return not d_connected_exp(exp, M, Y, X, pa3, ch3)
