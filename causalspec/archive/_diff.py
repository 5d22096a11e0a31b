"""Compare two specs or two archives: spec, plan (adjustment set, estimator, formula) and results, as Markdown."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .. import api

_PLAN_KEYS = ("adjustment_set", "estimator", "formula", "vcov", "estimand", "identified")


def _side(path: "str | Path") -> tuple[dict, dict, dict | None]:
    """(spec, plan, results) as plain dicts; an archive folder is read as text, never executed."""
    path = Path(path)
    if path.is_dir():
        from ..spec import loads

        spec = loads((path / "spec.yaml").read_text(), "yaml")
        results = json.loads((path / "results.json").read_text())
        return json.loads(spec.model_dump_json()), json.loads((path / "plan.json").read_text()), results
    spec = api.load(path)
    return json.loads(spec.model_dump_json()), api.plan(spec).to_dict(), None


def _effect(results: dict | None) -> Any:
    return None if results is None else (results.get("effect") or {}).get("estimate")


def diff(a: "str | Path", b: "str | Path") -> str:
    """Markdown suited to a pull-request comment; empty sections are left out."""
    spec_a, plan_a, res_a = _side(a)
    spec_b, plan_b, res_b = _side(b)
    lines = [f"### causalspec diff: `{a}` → `{b}`", ""]
    changed = [k for k in sorted(set(spec_a) | set(spec_b)) if spec_a.get(k) != spec_b.get(k)]
    if changed:
        lines += ["**Spec**", ""] + [f"- `{k}`: `{spec_a.get(k)}` → `{spec_b.get(k)}`" for k in changed] + [""]
    plan_changed = [k for k in _PLAN_KEYS if plan_a.get(k) != plan_b.get(k)]
    if plan_changed:
        lines += ["**Plan**", ""] + [f"- {k}: `{plan_a.get(k)}` → `{plan_b.get(k)}`" for k in plan_changed] + [""]
    ea, eb = _effect(res_a), _effect(res_b)
    if ea is not None and eb is not None and ea != eb:
        lines += ["**Results**", "", f"- effect: {ea:.6g} → {eb:.6g} (change {eb - ea:+.6g})", ""]
    if len(lines) == 2:
        lines.append("No differences in spec, plan or effect.")
    return "\n".join(lines) + "\n"
