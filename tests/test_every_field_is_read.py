"""Every spec field causalspec reads changes the answer or is refused where it is written (issue 12).

For each design's bundled spec and each field of the design, inference, sensitivity and top-level sections (and
their nested option groups), a value other than the current one is tried: the plan must change (every option is
recorded in the plan, so ``explain`` and archives show it), or planning must raise a located causalspec error.
A field that is accepted and leaves the plan unchanged is a silent no-op — the defect this test exists for.
"""

from __future__ import annotations

import json
import typing

import pytest

import causalspec as cs
from causalspec.errors import CausalSpecError

ROOT = __import__('pathlib').Path(__file__).resolve().parents[1]

SPECS = {"observational": str(ROOT / "specs/feature_adoption.yaml"), "experiment": str(ROOT / "specs/ab_test.yaml"),
         "panel": str(ROOT / "specs/wagepan_fe.yaml"), "iv": str(ROOT / "specs/mroz_iv.yaml"), "did": str(ROOT / "specs/injury_did.yaml"),
         "event_study": str(ROOT / "specs/mpdta_event_study.yaml")}
NOT_OPTIONS = {"design", "inference", "sensitivity", "dag", "version", "name", "description", "data", "treatment",
               "outcome", "model", "type"}
# the value written is the one the default already resolves to for this spec: the same plan is right
SAME_AS_DEFAULT = {("panel", "design.estimator", "feols"), ("iv", "design.estimator", "2sls"),
                   ("did", "design.estimator", "2x2"), ("iv", "inference.vcov", "iid"),
                   ("did", "estimand", "ATT"), ("event_study", "estimand", "ATT")}


def _alternatives(field, current):
    ann = field.annotation
    args = typing.get_args(ann) or (ann,)
    literals = [v for a in args if typing.get_origin(a) is typing.Literal for v in typing.get_args(a)]
    if typing.get_origin(ann) is typing.Literal:
        literals = list(typing.get_args(ann))
    out = [v for v in literals if v != current]
    if bool in args:
        out.append(not current if isinstance(current, bool) else True)
    elif int in args and not literals:
        out.append(current + 1 if isinstance(current, int) else 1)
    if float in args:
        out.append(current * 0.9 if isinstance(current, float) and current else 0.5)
    return out


def _cases():
    for design, path in SPECS.items():
        spec = cs.load(path)
        body = spec.model_dump()
        sections = [("design", spec.design), ("inference", spec.inference), ("sensitivity", spec.sensitivity), ("", spec)]
        sections += [(f"design.{k}", getattr(spec.design, k)) for k, v in body["design"].items()
                     if isinstance(v, dict) and getattr(spec.design, k) is not None]
        for section, model in sections:
            for name, field in type(model).model_fields.items():
                if name in NOT_OPTIONS:
                    continue
                for alt in _alternatives(field, getattr(model, name)):
                    yield design, path, section, name, alt
        # option groups that are left out (None) by default: a minimal value of each
        node = next(n for n in spec.graph.nodes if n not in (spec.treatment, spec.outcome, *spec.graph.latent))
        yield design, path, "", "heterogeneity", {"modifiers": [node]}
        yield design, path, "design", "outcome_model", {"terms": [f"I({node}^2)"]}
        yield design, path, "design", "propensity_model", {"link": "probit"}


def _set(body: dict, section: str, name: str, value) -> dict:
    body = json.loads(json.dumps(body))
    target = body
    for part in [p for p in section.split(".") if p]:
        if target.get(part) is None:
            target[part] = {}
        target = target[part]
    target[name] = value
    return body


def _plan(spec) -> dict:
    return {k: v for k, v in cs.plan(spec).to_dict().items() if k != "spec_hash"}


CASES = list(_cases())


@pytest.mark.parametrize("design,path,section,name,alt", CASES,
                         ids=[f"{c[0]}:{c[2] + '.' if c[2] else ''}{c[3]}={c[4]}" for c in CASES])
def test_the_field_changes_the_plan_or_is_refused(design, path, section, name, alt):
    base = cs.load(path)
    where = f"{section}.{name}" if section else name
    try:
        changed = cs.Spec(**_set(base.model_dump(), section, name, alt))
        after = _plan(changed)
    except CausalSpecError as exc:
        assert exc.problems and all(p.loc for p in exc.problems), f"{where}: refused without a location: {exc}"
        return
    if (design, where, json.dumps(alt)) in {(d, w, json.dumps(a)) for d, w, a in SAME_AS_DEFAULT}:
        return
    assert after != _plan(base), f"{design}: {where} = {alt!r} is accepted and changes nothing"


def test_the_walk_covers_every_design_and_section():
    seen = {(c[0], c[2].split(".")[0]) for c in CASES}
    assert {d for d, _ in seen} == set(SPECS)
    assert {s for _, s in seen} >= {"design", "inference", "sensitivity", ""}
