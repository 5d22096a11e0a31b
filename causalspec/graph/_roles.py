"""Each node's role relative to a (treatment, outcome) pair, for the planner to explain."""

from __future__ import annotations

from enum import Enum

from causalspec.graph._adjustment import _xy
from causalspec.graph._dag import DAG
from causalspec.graph._implications import instrumental_variables
from causalspec.graph._paths import paths_within

__all__ = ["Role", "node_roles"]


class Role(str, Enum):
    """The role of a node relative to treatment x and outcome y (first matching rule wins).

    - ``treatment`` / ``outcome``: x and y themselves.
    - ``latent``: an unobserved node (declared latent); it can never be adjusted for.
    - ``mediator``: on a directed path x -> ... -> y (a descendant of x and an ancestor of y).
    - ``descendant_of_treatment``: any other descendant of x (including colliders downstream
      of x and descendants of y); adjusting for it can bias the total effect.
    - ``confounder``: an ancestor of both x and y that is not a descendant of x.
    - ``collider``: a non-descendant of x that is a collider on some path between x and y
      (for instance M in the M-bias graph x <- a -> M <- b -> y); adjusting for it alone
      opens that path.  Found by listing the paths; when a large graph has too many paths to
      list (more than ``path_limit`` paths or ``path_steps`` steps), a node also counts as a
      collider when two of its parents reach x and y without passing through it (a necessary
      condition, so the role may then be over-assigned; it never changes an adjustment set).
    - ``instrument``: an observed node that dagitty's instrumentalVariables lists for x -> y
      (it affects y only through x, possibly given a conditioning set).
    - ``cause_of_treatment_only``: an ancestor of x but not of y (other than through x).
    - ``precision``: an ancestor of y, not of x; adjusting for it is harmless and can
      reduce variance.
    - ``irrelevant``: none of the above.
    """

    TREATMENT = "treatment"
    OUTCOME = "outcome"
    LATENT = "latent"
    MEDIATOR = "mediator"
    DESCENDANT_OF_TREATMENT = "descendant_of_treatment"
    CONFOUNDER = "confounder"
    INSTRUMENT = "instrument"
    COLLIDER = "collider"
    CAUSE_OF_TREATMENT_ONLY = "cause_of_treatment_only"
    PRECISION = "precision"
    IRRELEVANT = "irrelevant"


def node_roles(dag: DAG, x: str, y: str, path_limit: int = 10_000, path_steps: int = 20_000) -> dict[str, Role]:
    """The :class:`Role` of every node (see Role for the precise rules, applied in order).

    Examples
    --------
    >>> g = DAG.from_edges(["c -> x", "c -> y", "x -> m", "m -> y"])
    >>> {k: v.value for k, v in node_roles(g, "x", "y").items()}
    {'c': 'confounder', 'm': 'mediator', 'x': 'treatment', 'y': 'outcome'}
    """
    _xy(dag, x, y)
    de_x = set(dag.descendants(x))
    an_y = set(dag.ancestors(y))
    # "ancestor of y other than through x": ancestors of y in the graph without x's out-edges
    pa_no_x = {k: tuple(p for p in v if p != x) for k, v in dag._parents.items()}
    an_y_not_via_x = set()
    stack = [y]
    while stack:
        v = stack.pop()
        if v not in an_y_not_via_x:
            an_y_not_via_x.add(v)
            stack.extend(pa_no_x[v])
    an_x = set(dag.ancestors(x))
    instruments = {z for z, _ in instrumental_variables(dag, x, y)}
    colliders: set[str] = set()
    found, complete = paths_within(dag, x, y, limit=path_limit, max_steps=path_steps)
    for p in found:
        colliders.update(p.colliders)
    if not complete:  # too many paths to list: the connectivity rule below (see _possible_colliders)
        colliders |= _possible_colliders(dag, x, y, de_x)
    roles: dict[str, Role] = {}
    for v in dag.nodes:
        if v == x:
            r = Role.TREATMENT
        elif v == y:
            r = Role.OUTCOME
        elif v in dag.latent:
            r = Role.LATENT
        elif v in de_x and v in an_y:
            r = Role.MEDIATOR
        elif v in de_x:
            r = Role.DESCENDANT_OF_TREATMENT
        elif v in an_x and v in an_y_not_via_x:
            r = Role.CONFOUNDER
        elif v in colliders:
            r = Role.COLLIDER
        elif v in instruments:
            r = Role.INSTRUMENT
        elif v in an_x:
            r = Role.CAUSE_OF_TREATMENT_ONLY
        elif v in an_y:
            r = Role.PRECISION
        else:
            r = Role.IRRELEVANT
        roles[v] = r
    return dict(sorted(roles.items()))


def _possible_colliders(dag: DAG, x: str, y: str, de_x: set[str]) -> set[str]:
    """Nodes with two distinct arrowheads-in whose tails reach x and y (skeleton walks avoiding the node)."""
    nbrs = {v: set(dag._children[v]) | set(dag._parents[v]) | set(dag._spouses[v]) for v in dag.nodes}

    def reach(start: str, banned: set[str]) -> set[str]:
        seen, stack = {start}, [start]
        while stack:
            v = stack.pop()
            for w in nbrs[v]:
                if w not in seen and w not in banned:
                    seen.add(w)
                    stack.append(w)
        return seen

    out = set()
    for c in dag.nodes:
        if c in (x, y) or c in de_x:
            continue
        into = set(dag._parents[c]) | set(dag._spouses[c])
        if len(into) < 2:
            continue
        from_x = reach(x, {c, y})
        from_y = reach(y, {c, x})
        if any(a in from_x and b in from_y for a in into for b in into if a != b):
            out.add(c)
    return out
