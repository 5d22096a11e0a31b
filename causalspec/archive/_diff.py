"""Compare two specs or two archives as Markdown a reviewer reads in a pull request.

Top to bottom: a one-line verdict (``Identical``, ``Conclusion unchanged: ...``, ``CONCLUSION CHANGED: ...``,
``No result change; plan changed: ...``); the spec fields that changed, by dotted path (DAG edges and other
unordered lists as added / removed members); the plan (identification, adjustment set, each variable's role
with the planner's reason, estimator, formula, variance); the results (effect and naive contrast: estimate,
SE, CI, p-value; nobs; robustness value and E-value) with absolute and relative deltas.

An archive (folder or .zip) is read with the same checks as ``verify`` (regular files only, no links, bounded,
manifest consistent) and never executed; its results are the archived ones.  Two specs are compared on their
plans, or with ``run=True`` fitted (without the refutation tests) and compared on their results too.  Values
are printed as code spans with control characters escaped (``_diff_markdown``), so a hostile spec or archive
cannot add lines (or GitHub workflow commands) to the pull-request comment.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from causalspec import api
from causalspec.archive._diff_markdown import code, value
from causalspec.archive._diff_plan import diff_plans
from causalspec.archive._diff_results import diff_results
from causalspec.archive._diff_tree import changes, render
from causalspec.archive._read import parse_json, read_archive
from causalspec.archive._verify import VerifyReport, _spec, check_manifest
from causalspec.errors import ArchiveError, Problem

__all__ = ["diff"]

_NOT_RUN = "a spec is compared on its plan; pass run=True (causalspec diff --run) to fit it"


def _is_archive_path(path: "str | Path") -> bool:
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return stat.S_ISDIR(mode) or (stat.S_ISREG(mode) and str(path).lower().endswith(".zip"))


def _plain(tree) -> object:
    """Tuples as lists, as in the archived JSON, so a fitted spec and an archive compare alike."""
    return json.loads(json.dumps(tree, allow_nan=True, default=str))


def _side(path: "str | Path", run: bool) -> tuple[dict, dict, dict | None]:
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
    plan = api.plan(spec)
    results = _plain(api.run(spec, plan_=plan, refute=False).to_dict()) if run else None
    return json.loads(spec.model_dump_json()), _plain(plan.to_dict()), results


#: Spec fields that change the question itself: the verdict names them.
_QUESTION = ("treatment", "outcome", "estimand", "design.type")


def _spec_fields(found) -> str:
    """How many spec fields changed (named in the Spec section, so the verdict stays one short line)."""
    n = len(dict.fromkeys(c.path for c in found))
    return f"{n} field{'s' if n != 1 else ''}"


def _verdict(spec_changes, plan, results, compared: bool) -> str:
    """The one line at the top: what a reviewer needs before reading the rest."""
    question = [f"{c.path} {value(c.before)} → {value(c.after)}" for c in spec_changes if c.path in _QUESTION]
    details = ([f"question changed: {', '.join(question)}"] * bool(question)
               + [f"plan changed: {', '.join(plan.summary)}"] * bool(plan.summary))
    if not details and spec_changes:
        details = [f"spec changed ({_spec_fields(spec_changes)}); plan unchanged"]
    if compared:
        head = results.verdict or ("No result change" if details else "")
    else:
        head = ""
        if details:
            details[-1] += " (results not compared: pass --run to fit both specs)"
    if not head and not details:
        return "**Identical**: same spec, plan and results" if compared else "**Identical**: same spec and plan"
    text = "; ".join(([head] if head else []) + details)
    return text[0].upper() + text[1:]


def diff(a: "str | Path", b: "str | Path", *, run: bool = False) -> str:
    """Markdown suited to a pull-request comment: a verdict line, then the spec, plan and results sections
    that differ (empty sections are left out).

    Parameters
    ----------
    a, b : path
        Spec files (YAML, TOML, JSON) or archives (folders or .zip files written by ``causalspec.archive``).
    run : bool
        Fit a spec side (as ``causalspec.run`` without refutation tests) and compare results too; an archive
        side always carries its archived results.

    Examples
    --------
    >>> from causalspec.archive import diff
    >>> print(diff("specs/feature_adoption.yaml", "specs/feature_adoption.yaml"))  # doctest: +SKIP
    ### causalspec diff: `specs/feature_adoption.yaml` → `specs/feature_adoption.yaml`
    <BLANKLINE>
    **Identical**: same spec and plan
    """
    spec_a, plan_a, res_a = _side(a, run)
    spec_b, plan_b, res_b = _side(b, run)
    spec_changes = changes(spec_a, spec_b)
    plan = diff_plans(plan_a, plan_b)
    results = diff_results(res_a, res_b, _NOT_RUN)
    compared = isinstance(res_a, dict) and isinstance(res_b, dict)
    lines = [f"### causalspec diff: {code(a)} → {code(b)}", "",
             _verdict(spec_changes, plan, results, compared), ""]
    for title, body in (("Spec", render(spec_changes)), ("Plan", list(plan.lines)),
                        ("Results", list(results.lines))):
        if body:
            lines += [f"**{title}**", ""] + body + [""]
    return "\n".join(lines).rstrip("\n") + "\n"
