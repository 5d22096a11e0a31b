"""Shared backdoor rules: identification by adjustment, precision covariates, and each node's decision.

Applied in this order by the observational family (and, for the decisions, by every family):

1. :func:`identify` — the backdoor criterion on the DAG: every minimal adjustment set, the optimal one, and
   the set used (the spec's explicit list, checked; else :data:`ADJUSTMENT_RULE`);
2. :func:`check_covariates` — precision covariates must not be descendants of the treatment nor open a path;
3. :func:`decide_nodes` — every node's role and whether (and why) it is adjusted for.

Adjustment rule (``adjustment: auto``): the optimal adjustment set (O-set, Henckel, Perković & Maathuis 2022)
when it exists among observed nodes — it gives the smallest asymptotic variance among valid sets — else the
smallest minimal set, ties broken by the sorted names.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from causalspec.errors import AdjustmentError, Problem, UnsupportedError
from causalspec.graph import (
    DAG,
    adjustment_sets,
    front_door_sets,
    instrumental_variables,
    is_adjustment_set,
    node_roles,
    optimal_adjustment_set,
    paths,
)
from causalspec.planner._records import NodeDecision, Strategy

__all__ = ["ADJUSTMENT_RULE", "Identification", "identify", "check_covariates", "decide_nodes", "open_path_problem",
           "descendant_problems", "unblockable_paths", "find_alternatives", "directed_path",
           "listed_minimal_sets"]

ADJUSTMENT_RULE = (
    "the optimal adjustment set (O-set; Henckel, Perković & Maathuis 2022) when it exists among observed "
    "nodes, else the smallest minimal adjustment set, ties broken by name"
)


@dataclass(frozen=True)
class Identification:
    identified: bool
    strategy: Strategy
    adjustment_set: tuple[str, ...]
    source: str
    rule: str
    minimal_sets: tuple[tuple[str, ...], ...]
    optimal_set: tuple[str, ...] | None
    obstacles: tuple[str, ...] = ()
    alternatives: tuple[str, ...] = ()



# ---------------------------------------------------------------- 1. identify
_TOO_MANY = frozenset({"too_many_adjustment_sets", "adjustment_time_budget"})


def listed_minimal_sets(dag: DAG, x: str, y: str, *, required: bool = True):
    """Every minimal adjustment set; None when there are too many to list and the caller does not need them
    (an explicit adjustment list is checked by the backdoor criterion directly)."""
    try:
        return tuple(tuple(s) for s in adjustment_sets(dag, x, y, type="minimal"))
    except UnsupportedError as exc:
        if required or not any(p.code in _TOO_MANY for p in exc.problems):
            raise
        return None
def identify(spec, dag: DAG) -> Identification:
    """Backdoor identification: the spec's explicit adjustment list (checked), else the planner's choice."""
    x, y = spec.treatment, spec.outcome
    explicit = isinstance(spec.adjustment, tuple)
    minimal = listed_minimal_sets(dag, x, y, required=not explicit)
    optimal = optimal_adjustment_set(dag, x, y)
    optimal = tuple(optimal) if optimal is not None else None
    forced = tuple(dag.adjusted)
    if explicit:
        chosen = tuple(sorted(spec.adjustment))
        missing = [v for v in forced if v not in chosen]
        if missing:
            raise AdjustmentError(Problem(
                "adjustment", f"the DAG marks {', '.join(map(repr, missing))} as adjusted, but the explicit "
                "adjustment list leaves it out.", fix="Add it to adjustment, or use adjustment: auto to complete "
                "the adjusted nodes into valid sets.", code="adjusted_not_listed"))
        _check_explicit(spec, dag, chosen)
        rule = "the spec's explicit adjustment list, checked against the DAG"
        if minimal is None:
            rule += " (the DAG has too many minimal adjustment sets to list them)"
        return Identification(True, Strategy.BACKDOOR, chosen, "explicit", rule, minimal or (), optimal)

    if forced:
        return _identify_forced(dag, x, y, forced, minimal, optimal)
    if not minimal:
        obstacles = unblockable_paths(dag, x, y)
        return Identification(False, Strategy.NOT_IDENTIFIED, (), "auto", ADJUSTMENT_RULE, minimal, optimal,
                              obstacles, find_alternatives(dag, x, y))
    if optimal is not None:
        chosen = tuple(sorted(optimal))
    else:
        chosen = min((tuple(sorted(s)) for s in minimal), key=lambda s: (len(s), s))
    return Identification(True, Strategy.BACKDOOR, chosen, "auto", ADJUSTMENT_RULE, minimal, optimal)



FORCED_RULE = ("the smallest minimal adjustment set that contains the DAG's adjusted nodes (dagitty::adjustmentSets "
               "with adjusted nodes), ties broken by name")


def _identify_forced(dag: DAG, x: str, y: str, forced: tuple[str, ...], minimal, optimal) -> Identification:
    """Adjusted (forced) nodes completed into the minimal valid sets that contain them."""
    completed = tuple(tuple(s) for s in adjustment_sets(dag, x, y, "minimal", include=forced))
    if not completed:
        bad = [v for v in forced if v in set(dag.descendants([x])) - {x}]
        why = (f"{', '.join(map(repr, bad))} {'is a descendant' if len(bad) == 1 else 'are descendants'} of the "
               "treatment" if bad else "no set of measured variables that contains them blocks every backdoor path")
        raise AdjustmentError(Problem(
            "dag.adjusted", f"the adjusted nodes {', '.join(map(repr, forced))} cannot be completed into a valid "
            f"adjustment set: {why}.", fix="Remove them from dag.adjusted, or measure the variables that would "
            "block the paths they open.", code="adjusted_not_completable"))
    chosen = min(completed, key=lambda s: (len(s), s))
    return Identification(True, Strategy.BACKDOOR, chosen, "adjusted", FORCED_RULE, completed, optimal)


def _check_explicit(spec, dag: DAG, chosen: tuple[str, ...]) -> None:
    x, y = spec.treatment, spec.outcome
    problems = descendant_problems(dag, x, y, spec.adjustment, "adjustment")
    if problems:
        raise AdjustmentError(problems)
    if not is_adjustment_set(dag, x, y, chosen):
        raise AdjustmentError(open_path_problem(dag, x, y, chosen, spec.adjustment, "adjustment"))


def descendant_problems(dag: DAG, x: str, y: str, names, field: str) -> list[Problem]:
    problems = []
    descendants = set(dag.descendants([x])) - {x}
    for i, name in enumerate(names):
        if name not in descendants:
            continue
        route = directed_path(dag, x, name)
        onward = directed_path(dag, name, y)
        if onward:
            chain = " -> ".join(route + onward[1:])
            problems.append(Problem(
                f"{field}[{i}]",
                f"{name!r} is a mediator ({chain}); adjusting for it removes part of the effect you want.",
                fix="Remove it (the total effect needs no mediator), or estimate a direct effect instead.",
                code="mediator_adjusted"))
        else:
            problems.append(Problem(
                f"{field}[{i}]",
                f"{name!r} is a descendant of the treatment ({' -> '.join(route)}): it is affected by the "
                "treatment, and adjusting for it can bias the effect.",
                fix=f"Remove {name!r}: adjust only for variables measured before the treatment.",
                code="descendant_adjusted"))
    return problems


def open_path_problem(dag: DAG, x: str, y: str, chosen, listed, field: str) -> Problem:
    open_paths = [p for p in _noncausal_paths(dag, x, y, chosen) if p.open]
    listed = tuple(listed)
    for p in open_paths:
        colliders = [v for v in p.colliders if v in chosen]
        if colliders:
            v = colliders[0]
            i = listed.index(v) if v in listed else 0
            return Problem(
                f"{field}[{i}]",
                f"{v!r} is a collider on the path {p.text}; adjusting for it opens that path and biases the "
                "effect.",
                fix=f"Remove {v!r} from {field}, or also adjust for a non-collider on that path.",
                code="collider_adjusted")
    if open_paths:
        p = open_paths[0]
        blockers = [v for v in p.nodes[1:-1] if v not in p.colliders and v in dag.observed]
        hint = (f"Add {' or '.join(repr(b) for b in blockers)} to {field}" if blockers
                else "No observed variable blocks it: see `causalspec plan` for an instrument or a front-door set")
        return Problem(field, f"the backdoor path {p.text} stays open given {list(chosen) or 'nothing'}.",
                       fix=f"{hint}.", code="backdoor_open")
    return Problem(field, f"{list(chosen)} is not a valid adjustment set for the DAG.",
                   fix="Use `adjustment: auto` to let the planner choose.", code="adjustment_invalid")


def _noncausal_paths(dag: DAG, x: str, y: str, given):
    """Paths between x and y other than directed ones out of x (backdoor paths and the like)."""
    return [p for p in paths(dag, x, y, tuple(given)) if not p.causal]


def unblockable_paths(dag: DAG, x: str, y: str) -> tuple[str, ...]:
    """Backdoor paths left open even when every observed pre-treatment ancestor is adjusted for."""
    pre = set(dag.ancestors([x, y])) - set(dag.descendants([x])) - set(dag.latent)
    open_paths = [p.text for p in _noncausal_paths(dag, x, y, sorted(pre)) if p.open]
    return tuple(open_paths)


def find_alternatives(dag: DAG, x: str, y: str) -> tuple[str, ...]:
    found = []
    for instrument, given in instrumental_variables(dag, x, y):
        cond = f" given {', '.join(given)}" if given else ""
        found.append(f"instrument: {instrument}{cond} (design.type iv)")
    try:
        for fd in front_door_sets(dag, x, y):
            found.append(f"front-door set: {', '.join(fd)} (the effect runs through it and it is shielded)")
    except UnsupportedError as exc:  # too many candidate sets to search: say so instead of failing the plan
        found.append(f"front-door sets: not searched ({exc.problems[0].message})")
    if not found:
        found.append("none: the effect is not identified from this DAG; measure a confounder on the open path, "
                     "or find an instrument or a randomized experiment")
    return tuple(found)


def directed_path(dag: DAG, start: str, goal: str) -> list[str]:
    """The first directed path start -> ... -> goal in breadth-first order (children sorted), or []."""
    if start == goal:
        return [start]
    previous = {start: None}
    queue = deque([start])
    while queue:
        v = queue.popleft()
        for c in sorted(dag.children(v)):
            if c not in previous:
                previous[c] = v
                if c == goal:
                    route = [c]
                    while previous[route[-1]] is not None:
                        route.append(previous[route[-1]])
                    return route[::-1]
                queue.append(c)
    return []


# ---------------------------------------------------------- 2. covariates
def check_covariates(spec, dag: DAG, ident: Identification) -> tuple[str, ...]:
    x, y = spec.treatment, spec.outcome
    covs = tuple(spec.covariates)
    problems = descendant_problems(dag, x, y, covs, "covariates")
    if problems:
        raise AdjustmentError(problems)
    extra = tuple(c for c in covs if c not in ident.adjustment_set)
    if ident.identified and ident.strategy is Strategy.BACKDOOR and extra:
        full = tuple(sorted(set(ident.adjustment_set) | set(extra)))
        if not is_adjustment_set(dag, x, y, full):
            raise AdjustmentError(open_path_problem(dag, x, y, full, covs, "covariates"))
    return extra


# ------------------------------------------------------------ 3. decisions
_ROLE_TEXT = {
    "confounder": "a common cause of treatment and outcome",
    "mediator": "on a causal path from treatment to outcome",
    "descendant_of_treatment": "affected by the treatment",
    "collider": "a collider between causes of treatment and outcome",
    "instrument": "affects the outcome only through the treatment",
    "precision": "a cause of the outcome only",
    "cause_of_treatment_only": "a cause of the treatment only",
    "irrelevant": "unrelated to treatment and outcome",
    "latent": "not measured",
}


def decide_nodes(spec, dag: DAG, ident: Identification, extra: tuple[str, ...]) -> tuple[NodeDecision, ...]:
    x, y = spec.treatment, spec.outcome
    roles = {k: getattr(v, "value", str(v)) for k, v in node_roles(dag, x, y).items()}
    adjusted = set(ident.adjustment_set)
    decisions = []
    for node in sorted(dag.nodes):
        role = roles.get(node, "irrelevant")
        if node == x:
            decisions.append(NodeDecision(node, "treatment", False, "the treatment"))
            continue
        if node == y:
            decisions.append(NodeDecision(node, "outcome", False, "the outcome"))
            continue
        text = _ROLE_TEXT.get(role, role)
        if node in adjusted:
            why = ("in the adjustment set: " + text + (
                "; marked adjusted in the DAG (dag.adjusted)" if node in dag.adjusted else
                "; needed to block a backdoor path" if role == "confounder" else
                "; blocks the path an adjusted node opens" if ident.source == "adjusted" else
                "; the O-set includes it because it sharpens the estimate" if ident.source == "auto" else
                "; listed in the spec's adjustment"))
            decisions.append(NodeDecision(node, role, True, why))
        elif node in extra:
            decisions.append(NodeDecision(node, role, True, f"precision covariate from the spec: {text}"))
        elif role == "latent":
            decisions.append(NodeDecision(node, role, False, "not measured, so it cannot be adjusted for"))
        elif role in ("mediator", "descendant_of_treatment"):
            decisions.append(NodeDecision(node, role, False, f"{text}: adjusting for it would bias the total effect"))
        elif role == "collider":
            decisions.append(NodeDecision(node, role, False, f"{text}: adjusting for it would open a path"))
        elif role == "instrument":
            decisions.append(NodeDecision(
                node, role, False, f"{text}: adjusting for it adds variance and can amplify bias"))
        elif role == "confounder":
            decisions.append(NodeDecision(
                node, role, False, f"{text}, but its paths are already blocked by the adjustment set"))
        else:
            decisions.append(NodeDecision(node, role, False, f"{text}: not needed for identification"))
    return tuple(decisions)

