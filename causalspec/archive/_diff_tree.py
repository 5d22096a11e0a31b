"""Field-by-field differences of two JSON trees (a dumped spec, a plan), by dotted path, rendered as Markdown lines.

Lists whose order carries no meaning (DAG edges, latent nodes, covariates, clusters, instruments...) are compared
as sets and print what was added and removed; DAG edges are compared in canonical form, so ``a<-b`` equals
``b -> a`` and ``x <-> y`` equals ``y <-> x``.  Other lists are compared element by element.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from causalspec.archive._diff_markdown import capped, code, value
from causalspec.graph._edges import parse_edge

__all__ = ["Change", "changes", "render", "as_set"]

#: Keys whose list values are sets: the order in which a spec (or a plan) lists them means nothing.
SET_KEYS = frozenset({
    "edges", "latent", "nodes", "adjusted", "adjustment", "covariates", "cluster", "instruments", "fixed_effects",
    "exact", "refutations", "modifiers", "balance", "benchmarks", "donors", "treated_units", "restrictions",
    "optimal_adjustment_set", "assumptions", "obstacles", "alternatives", "notes", "warnings", "benchmark_labels",
})


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


@dataclass(frozen=True)
class Change:
    """One difference at ``path``: a value replaced (``before`` → ``after``), or set members added / removed."""

    path: str
    before: Any = MISSING
    after: Any = MISSING
    added: tuple = ()
    removed: tuple = ()
    fields: bool = False  # added / removed are field names of the dict at path, not set members


def _canonical_edges(edges: list) -> list:
    out: list = []
    for edge in edges:
        parsed = parse_edge(edge) if isinstance(edge, str) else str(edge)
        if isinstance(parsed, str):  # not an edge (a spec that loaded cannot hold one): compared as written
            out.append(edge)
        else:
            out.extend(f"{v} {op} {w}" for v, op, w in parsed)
    return out


def _hashable(items: list) -> bool:
    return all(isinstance(x, (str, int, float, bool)) or x is None for x in items)


def as_set(key: str, items: Any) -> list | None:
    """``items`` as an ordered list of distinct members when ``key`` names a set-like list, else None."""
    if key not in SET_KEYS or not isinstance(items, list) or not _hashable(items):
        return None
    if key == "edges":
        items = _canonical_edges(items)
    return list(dict.fromkeys(items))


def _join(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


def changes(a: Any, b: Any, path: str = "", skip: frozenset = frozenset()) -> list[Change]:
    """Every difference between ``a`` and ``b``; top-level keys in ``skip`` are left out."""
    if a == b and type(a) is type(b):
        return []
    if isinstance(a, dict) and isinstance(b, dict):
        keep = [k for k in list(a) + [k for k in b if k not in a] if path or k not in skip]
        gone = tuple(k for k in keep if k not in b)
        new = tuple(k for k in keep if k not in a)
        # A switched union tag (design.type) brings the other type's fields: name them, do not list defaults.
        grouped = new if "type" in a and "type" in b and a["type"] != b["type"] else ()
        out: list[Change] = []
        for key in keep:
            if key not in gone and key not in grouped:
                out += changes(a.get(key, MISSING), b.get(key, MISSING), _join(path, key))
        if gone or grouped:
            out.append(Change(path, added=grouped, removed=gone, fields=True))
        return out
    if isinstance(b, dict) and (a is None or a is MISSING):  # a section switched on: list what it holds
        return changes({}, b, path)
    key = path.rpartition(".")[2]
    sa, sb = as_set(key, a), as_set(key, b)
    if sa is not None and sb is not None:
        added = tuple(x for x in sb if x not in sa)
        removed = tuple(x for x in sa if x not in sb)
        return [Change(path, added=added, removed=removed)] if added or removed else []
    if isinstance(a, list) and isinstance(b, list) and any(isinstance(x, dict) for x in a + b):
        out = []
        for i in range(max(len(a), len(b))):
            out += changes(a[i] if i < len(a) else MISSING, b[i] if i < len(b) else MISSING, f"{path}[{i}]")
        return out
    return [Change(path, a, b)]


def _side(item: Any) -> str:
    if item is MISSING:
        return "*(absent)*"
    if isinstance(item, dict):
        return f"*({len(item)} field{'s' if len(item) != 1 else ''})*"
    return value(item)


def _names(keys: tuple) -> str:
    return ", ".join(code(k) for k in keys)


def render(found: list[Change]) -> list[str]:
    """One Markdown list item per replaced value and per added / removed set member (no dict reprs)."""
    lines: list[str] = []
    for c in found:
        where = code(c.path or "(top level)")
        if c.fields:
            lines += [f"- {where}: fields of the new type: {_names(c.added)}"] * bool(c.added)
            lines += [f"- {where}: fields no longer set: {_names(c.removed)}"] * bool(c.removed)
        elif c.added or c.removed:
            lines += [f"- {where}: + {code(x)}" for x in c.added]
            lines += [f"- {where}: − {code(x)}" for x in c.removed]
        else:
            lines.append(f"- {where}: {_side(c.before)} → {_side(c.after)}")
    return capped(lines)
