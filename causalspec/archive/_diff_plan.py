"""What changed in the plan: identification, adjustment set, each variable's role (with the planner's reason),
estimator, formula and variance, as Markdown lines plus the short phrases the verdict names."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from causalspec.archive._diff_markdown import capped, code, value
from causalspec.archive._diff_tree import changes, render

__all__ = ["PlanDiff", "diff_plans"]

# Shown by the Spec section already, or bookkeeping that changes whenever anything does.
_SKIP = frozenset({"name", "treatment", "outcome", "estimand", "design", "data", "seed", "weights", "spec_hash",
                   "columns", "column_fields", "decisions", "adjustment_set", "minimal_adjustment_sets",
                   "identified", "strategy"})
# Plan fields a verdict names when they change (dotted paths of the generic comparison).
_HEADLINE = {"estimator": "estimator", "vcov.kind": "vcov", "vcov.cluster": "cluster",
             "vcov.level": "level", "covariates": "covariates"}


@dataclass(frozen=True)
class PlanDiff:
    """The plan section's lines and the verdict's phrases (both empty when the plans agree)."""

    lines: tuple[str, ...]
    summary: tuple[str, ...]


def _names(items: Any) -> list:
    return list(items) if isinstance(items, list) else []


def _braced(items: list) -> str:
    return "{" + ", ".join(code(x) for x in items) + "}"


def _adjustment(a: dict, b: dict) -> tuple[list[str], list[str]]:
    sa, sb = _names(a.get("adjustment_set")), _names(b.get("adjustment_set"))
    added = [x for x in sb if x not in sa]
    removed = [x for x in sa if x not in sb]
    lines = [f"- adjustment set: + {code(x)}" for x in added] + [f"- adjustment set: − {code(x)}" for x in removed]
    summary = []
    if added:
        summary.append(f"adjustment set +{_braced(added)}")
    if removed:
        summary.append(f"adjustment set −{_braced(removed)}")
    if a.get("adjustment_set") != b.get("adjustment_set") and not (added or removed) and "adjustment_set" in b:
        lines.append(f"- adjustment set: {value(a.get('adjustment_set'))} → {value(b.get('adjustment_set'))}")
    ma, mb = a.get("minimal_adjustment_sets"), b.get("minimal_adjustment_sets")
    if ma != mb:
        lines.append(f"- minimal adjustment sets: {_sets(ma)} → {_sets(mb)}")
    return lines, summary


def _sets(sets: Any) -> str:
    if not isinstance(sets, list) or not sets:
        return "*(none)*"
    return " or ".join(_braced(_names(s)) if isinstance(s, list) else code(s) for s in sets)


def _decisions(plan: dict) -> dict:
    out = {}
    for d in plan.get("decisions") or ():
        if isinstance(d, dict) and isinstance(d.get("node"), str):
            out[d["node"]] = d
    return out


def _adjusted(d: dict) -> str:
    return "adjusted" if d.get("adjusted") else "not adjusted"


def _roles(a: dict, b: dict) -> tuple[list[str], list[str]]:
    """One line per variable whose role or adjustment changed, with the new plan's reason; and the verdict's
    phrases for the variables kept whose role changed."""
    da, db = _decisions(a), _decisions(b)
    lines, moved = [], []
    for node in list(da) + [n for n in db if n not in da]:
        old, new = da.get(node), db.get(node)
        if old is None:
            lines.append(f"- {code(node)}: new, {value(new.get('role'))}, {_adjusted(new)} — "
                         f"{value(new.get('reason'))}")
        elif new is None:
            lines.append(f"- {code(node)}: no longer in the DAG (was {value(old.get('role'))})")
        elif old.get("role") != new.get("role") or bool(old.get("adjusted")) != bool(new.get("adjusted")):
            move = (f"{value(old.get('role'))} → {value(new.get('role'))}" if old.get("role") != new.get("role")
                    else value(new.get("role")))
            now = _adjusted(new) if bool(old.get("adjusted")) == bool(new.get("adjusted")) else \
                f"{_adjusted(old)} → {_adjusted(new)}"
            lines.append(f"- {code(node)}: {move} ({now}) — {value(new.get('reason'))}")
            if old.get("role") != new.get("role"):
                moved.append(f"{code(node)}: {move}")
    return lines, moved


def _identification(a: dict, b: dict) -> tuple[list[str], list[str]]:
    lines, summary = [], []
    for key in ("identified", "strategy"):
        if a.get(key) != b.get(key):
            lines.append(f"- {key}: {value(a.get(key))} → {value(b.get(key))}")
    if a.get("identified") != b.get("identified"):
        summary.append("NOW IDENTIFIED" if b.get("identified") else "NO LONGER IDENTIFIED")
    elif a.get("strategy") != b.get("strategy"):
        summary.append(f"identification {value(a.get('strategy'))} → {value(b.get('strategy'))}")
    return lines, summary


def diff_plans(a: dict, b: dict) -> PlanDiff:
    """The plan section: identification, adjustment set, roles, then every other plan field by dotted path."""
    if not isinstance(a, dict) or not isinstance(b, dict):
        return PlanDiff((f"- plan: {value(type(a).__name__)} → {value(type(b).__name__)}",), ("plan changed",))
    ident, summary = _identification(a, b)
    adjust, adjust_summary = _adjustment(a, b)
    roles, moved = _roles(a, b)
    rest = changes(a, b, skip=_SKIP)
    summary += adjust_summary
    if moved:
        summary += moved if len(moved) <= 2 else [f"{len(moved)} roles changed"]
    for c in rest:
        if c.path in _HEADLINE:
            name = _HEADLINE[c.path]
            if c.added or c.removed:
                summary.append(f"{name} " + " ".join([f"+{_braced(list(c.added))}"] * bool(c.added)
                                                      + [f"−{_braced(list(c.removed))}"] * bool(c.removed)))
            else:
                summary.append(f"{name} {value(c.before)} → {value(c.after)}")
    if rest and not summary:
        summary.append(", ".join(code(c.path) for c in rest[:3]) + (" ..." if len(rest) > 3 else ""))
    lines = ident + adjust
    if roles:
        lines += ["- roles:"] + ["  " + line for line in capped(roles)]
    lines += render(rest)
    return PlanDiff(tuple(lines), tuple(summary))
