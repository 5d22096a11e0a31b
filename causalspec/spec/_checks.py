"""Whole-spec checks that name a field: listed variables against the DAG, and columns that options name but
that are the treatment or the outcome (each would silently answer another question)."""

from __future__ import annotations

import difflib

from causalspec.errors import Problem
from causalspec.graph import DAG

__all__ = ["check_names", "did_you_mean", "role_column_problems"]


def check_names(names, field: str, nodes: set[str], latent: set[str], spec) -> list[Problem]:
    problems = []
    seen: set[str] = set()
    for i, name in enumerate(names):
        loc = f"{field}[{i}]"
        if name in seen:
            problems.append(Problem(loc, f"{name!r} is listed twice.", fix="Remove the duplicate.", code="duplicate"))
        seen.add(name)
        if name in (spec.treatment, spec.outcome):
            problems.append(Problem(loc, f"{name!r} is the {'treatment' if name == spec.treatment else 'outcome'}.",
                                    fix=f"Remove it from {field}.", code="self_adjustment"))
        elif name not in nodes:
            problems.append(Problem(
                loc, f"{name!r} is not a node of the DAG{did_you_mean(name, nodes)}.",
                fix=f"Add {name!r} to dag.edges (with its causes and effects) or remove it from {field}.",
                code="unknown_node"))
        elif name in latent:
            problems.append(Problem(loc, f"{name!r} is latent (unmeasured), so it cannot be {field[:-1] if field.endswith('s') else 'adjusted for'}.",
                                    fix=f"Remove it from {field}, or from dag.latent if it is measured.",
                                    code="latent_adjustment"))
    return problems


def did_you_mean(name: str, candidates) -> str:

    close = difflib.get_close_matches(name, sorted(candidates), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def role_column_problems(self, graph: DAG) -> list[Problem]:
    """Columns that options name but that are the treatment or the outcome (or, for a placebo outcome,
    causally tied to the treatment): each would silently answer another question."""
    problems = []
    roles = {self.treatment: "the treatment", self.outcome: "the outcome"}
    d = self.design
    if getattr(d, "cuped", None) in roles:
        problems.append(Problem("design.cuped", f"the CUPED covariate {d.cuped!r} is {roles[d.cuped]}.",
                                fix="Name a pre-period covariate measured before assignment.",
                                code="cuped_role"))
    for i, g in enumerate(getattr(d, "guardrails", ())):
        if g.column == self.treatment:
            problems.append(Problem(f"design.guardrails[{i}].column", f"the guardrail {g.column!r} is the "
                                    "treatment.", fix="Name a metric the change must not harm.",
                                    code="guardrail_role"))
    placebo = self.sensitivity.placebo_outcome
    if placebo is not None:
        if placebo in roles:
            problems.append(Problem("sensitivity.placebo_outcome", f"the placebo outcome {placebo!r} is "
                                    f"{roles[placebo]}.", fix="Name a column the treatment cannot affect.",
                                    code="placebo_outcome_role"))
        elif placebo in graph.nodes and placebo in graph.descendants([self.treatment]):
            problems.append(Problem("sensitivity.placebo_outcome", f"the DAG says {self.treatment!r} affects "
                                    f"the placebo outcome {placebo!r}, so its effect need not be zero.",
                                    fix="Name a column the treatment cannot affect (measured before it).",
                                    code="placebo_outcome_affected"))
        elif placebo in graph.nodes and self.treatment in graph.descendants([placebo]):
            problems.append(Problem("sensitivity.placebo_outcome", f"the DAG makes the placebo outcome "
                                    f"{placebo!r} a cause of the treatment {self.treatment!r}: the test would "
                                    "find its association with the treatment, not a refutation.",
                                    fix="Name a column that neither causes nor is caused by the treatment.",
                                    code="placebo_outcome_cause"))
    return problems
