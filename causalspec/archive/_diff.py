"""Compare two specs or two archives: spec, plan (adjustment set, estimator, formula) and results, as Markdown.

An archive (folder or .zip) is read with the same checks as ``verify`` (regular files only, no links, bounded,
manifest consistent) and never executed.  Values are printed as code spans with control characters escaped,
so a hostile spec or archive cannot add lines (or GitHub workflow commands) to the pull-request comment.
"""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path
from typing import Any

from causalspec import api
from causalspec.errors import ArchiveError, Problem
from causalspec.archive._read import parse_json, read_archive
from causalspec.archive._verify import VerifyReport, _spec, check_manifest

_PLAN_KEYS = ("adjustment_set", "estimator", "formula", "vcov", "estimand", "identified")


def _is_archive_path(path: "str | Path") -> bool:
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return stat.S_ISDIR(mode) or (stat.S_ISREG(mode) and str(path).lower().endswith(".zip"))


def _side(path: "str | Path") -> tuple[dict, dict, dict | None]:
    """(spec, plan, results) as plain dicts; an archive is read as data (checked like verify), never executed."""
    if _is_archive_path(path):

        arc = read_archive(path)
        report = VerifyReport()
        check_manifest(arc, report)
        if report.tampered:
            raise ArchiveError([Problem("", f"{name} {report.reasons[name]}.", code="archive_tampered",
                                        file=str(path), fix="Run causalspec verify on it; do not trust it.")
                                for name in report.tampered])
        spec = _spec(arc)
        return json.loads(spec.model_dump_json()), parse_json(arc, "plan.json"), parse_json(arc, "results.json")
    spec = api.load(path)
    return json.loads(spec.model_dump_json()), api.plan(spec).to_dict(), None


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _code(value: Any, limit: int = 300) -> str:
    """``value`` as one Markdown code span: control characters escaped, long values cut, fenced with more
    backticks than any run inside it (CommonMark), so it cannot end the span or start a new line."""
    text = _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode(), str(value))
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    fence = "`" * (max((len(r) for r in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _effect(results: dict | None) -> Any:
    effect = None if results is None else results.get("effect")
    return effect.get("estimate") if isinstance(effect, dict) else None


def diff(a: "str | Path", b: "str | Path") -> str:
    """Markdown suited to a pull-request comment; empty sections are left out."""
    spec_a, plan_a, res_a = _side(a)
    spec_b, plan_b, res_b = _side(b)
    lines = [f"### causalspec diff: {_code(a)} → {_code(b)}", ""]
    changed = [k for k in sorted(set(spec_a) | set(spec_b)) if spec_a.get(k) != spec_b.get(k)]
    if changed:
        lines += ["**Spec**", ""] + [f"- {_code(k)}: {_code(spec_a.get(k))} → {_code(spec_b.get(k))}"
                                     for k in changed] + [""]
    plan_changed = [k for k in _PLAN_KEYS if plan_a.get(k) != plan_b.get(k)]
    if plan_changed:
        lines += ["**Plan**", ""] + [f"- {k}: {_code(plan_a.get(k))} → {_code(plan_b.get(k))}"
                                     for k in plan_changed] + [""]
    ea, eb = _effect(res_a), _effect(res_b)
    if isinstance(ea, (int, float)) and isinstance(eb, (int, float)) and ea != eb:
        lines += ["**Results**", "", f"- effect: {ea:.6g} → {eb:.6g} (change {eb - ea:+.6g})", ""]
    if len(lines) == 2:
        lines.append("No differences in spec, plan or effect.")
    return "\n".join(lines) + "\n"
