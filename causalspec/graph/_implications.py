"""Instrumental variables and the conditional independencies a DAG implies."""

from __future__ import annotations

from causalspec.errors import Problem, UnsupportedError

from causalspec.graph._adjustment import _backdoor, _xy
from causalspec.graph._dag import DAG, _closure
from causalspec.graph._separation import d_connected_exp, find_minimal_separator, list_minimal_separators, moral_graph

__all__ = ["instrumental_variables", "implied_conditional_independencies"]


def instrumental_variables(dag: DAG, x: str, y: str) -> list[tuple[str, tuple[str, ...]]]:
    """Every observed (conditional) instrument ``z`` for ``x -> y`` with its conditioning set.

    ``z`` is an instrument given ``W`` when, in the proper back-door graph, ``W`` (which
    avoids mediators and descendants of ``y``) d-separates ``z`` from ``y`` but not from
    ``x``; ``W`` is the minimal separator nearest to ``y``, so each ``z`` is listed once.
    Matches ``dagitty::instrumentalVariables``; van der Zander, Textor & Liśkiewicz
    (2015), IJCAI, "Efficiently finding conditional instruments for causal inference".

    Examples
    --------
    >>> g = DAG.from_edges(["z -> x", "x -> y", "x <-> y"])
    >>> instrumental_variables(g, "x", "y")
    [('z', ())]
    """
    X, Y = _xy(dag, x, y)
    if len(X) != 1 or len(Y) != 1:
        raise UnsupportedError(Problem("instrumental_variables", "instruments need one exposure and one outcome.",
                                       fix="Ask for each (exposure, outcome) pair separately."))
    (xv,), (yv,) = X, Y
    exp = dag._expanded
    pa, ch = _backdoor(dag, X, Y)
    mediators = (exp.descendants(X) & exp.ancestors(Y)) - X - Y
    de_y = _closure(Y, ch)  # type: ignore[arg-type]
    allowed = set(dag.observed) - mediators
    out = []
    for z in dag.observed:
        if z in (xv, yv):
            continue
        W = find_minimal_separator(pa, ch, {yv}, {z}, allowed)
        if W is None or W & de_y or xv in W:
            continue
        if d_connected_exp(exp, {xv}, {z}, W, pa, ch):
            out.append((z, tuple(sorted(W))))
    return sorted(out)


def implied_conditional_independencies(dag: DAG, type: str = "missing.edge",
                                       ) -> list[tuple[str, str, tuple[str, ...]]]:
    """``(a, b, given)`` for every non-adjacent observed pair and every minimal separating set.

    ``a < b``; ``given`` is a sorted tuple of observed nodes; pairs that no observed set
    separates are left out.  Matches ``dagitty::impliedConditionalIndependencies(type =
    "missing.edge")``; Textor et al. (2016) Int J Epidemiol 45(6).

    Examples
    --------
    >>> g = DAG.from_edges(["a -> b", "b -> c"])
    >>> implied_conditional_independencies(g)
    [('a', 'c', ('b',))]
    """
    if type != "missing.edge":
        raise UnsupportedError(Problem("type", f"type {type!r} is not supported.", fix="Use type='missing.edge'."))
    exp = dag._expanded
    obs = dag.observed
    out = []
    for i, a in enumerate(obs):
        for b in obs[i + 1:]:
            if dag.adjacent(a, b):
                continue
            an = exp.ancestors({a, b})
            adj = moral_graph(exp.parents, an)
            for s in list_minimal_separators(adj, {a}, {b}, set(exp.latent) & an):
                out.append((a, b, tuple(sorted(s))))
    return sorted(out)
