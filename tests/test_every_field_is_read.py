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
         "event_study": str(ROOT / "specs/mpdta_event_study.yaml"),
         "regression_discontinuity": str(ROOT / "specs/rd_senate.yaml"),
         # design.matching.*: each option read by some MatchIt methods and refused where written for the others
         "observational_matching": str(ROOT / "specs/feature_psm.yaml"),
         "interrupted_time_series": str(ROOT / "specs/its_seatbelts.yaml"),
         # a small panel: every Synth fit here runs its 8 placebos (the bundled Basque spec takes a minute)
         "synthetic_control": str(ROOT / "tests/specs/synthetic_control/small_synth.yaml"),
         # heterogeneity.* with a CATE learner (the bundled churn_uplift spec's section, on 1200 rows)
         "observational_cate": str(ROOT / "tests/specs/cate/small_cate.yaml")}
NOT_OPTIONS = {"design", "inference", "sensitivity", "dag", "version", "name", "description", "data", "treatment",
               "outcome", "model", "type"}
# the value written is the one the default already resolves to for this spec: the same plan is right
SAME_AS_DEFAULT = {("panel", "design.estimator", "feols"), ("iv", "design.estimator", "2sls"),
                   ("did", "design.estimator", "2x2"), ("iv", "inference.vcov", "iid"),
                   ("did", "estimand", "ATT"), ("event_study", "estimand", "ATT"),
                   ("observational", "design.estimator", "ols"), ("experiment", "design.estimator", "auto"),
                   ("regression_discontinuity", "design.estimator", "rdrobust"),
                   ("interrupted_time_series", "design.estimator", "segmented"),
                   ("interrupted_time_series", "design.prewhite", True),  # left out: NeweyWest's prewhite = TRUE
                   ("interrupted_time_series", "estimand", "ATT"),
                   ("synthetic_control", "design.estimator", "auto"),
                   ("synthetic_control", "design.estimator", "synth"),  # auto with predictors: synth
                   ("synthetic_control", "design.placebos", True)}  # left out: true


# Fields that choose how the plan is executed, not what it says: the plan must stay the same (or the value be
# refused, located) -- the planner is unchanged on every engine, only fitting changes; that the numbers are the
# in-memory ones is tests/test_engines_spec.py's, and what an engine cannot compute is refused at plan time.
SAME_PLAN_BY_DESIGN = {"engine": "the fit runs on DuckDB / Spark with the in-memory numbers (docs/scale.md)"}


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
        if spec.heterogeneity is not None and spec.heterogeneity.learner != "linear":
            h = spec.heterogeneity
            sections = [("heterogeneity", h), ("heterogeneity.policy", h.policy),
                        ("heterogeneity.outcome_model", h.outcome_model), ("heterogeneity.final_model", h.final_model)]
        for section, model in sections:
            for name, field in type(model).model_fields.items():
                if name in NOT_OPTIONS:
                    continue
                for alt in _alternatives(field, getattr(model, name)):
                    yield design, path, section, name, alt
        if design == "observational_cate":  # the other sections are walked on feature_adoption
            yield design, path, "heterogeneity", "holdout", {"share": 0.3}
            yield design, path, "heterogeneity", "segments", [{"name": "q", "cate_quantiles": 3}]
            yield design, path, "heterogeneity.policy", "budget", {"share": 0.2}
            yield design, path, "heterogeneity", "propensity_model", {"name": "logistic", "C": 0.5}
            yield design, path, "heterogeneity", "outcome_model", {"name": "ridge", "alpha": 2.0}
            continue
        # option groups that are left out (None) by default: a minimal value of each
        node = next(n for n in spec.graph.nodes if n not in (spec.treatment, spec.outcome, *spec.graph.latent))
        yield design, path, "", "heterogeneity", {"modifiers": [node]}
        yield design, path, "design", "outcome_model", {"terms": [f"I({node}^2)"]}
        yield design, path, "design", "propensity_model", {"link": "probit"}
        if design.startswith("observational"):  # refused unless the estimator reads them (tests/test_ipw_ht_ato.py)
            yield design, path, "design", "ipw", {"weights": "horvitz_thompson"}
            yield design, path, "design", "ps_regression", {"score": "quadratic"}
        if "matching" in body["design"]:  # list- and map-valued matching options the annotation walk cannot guess
            yield design, path, "design.matching", "exact", [node]
            yield design, path, "design.matching", "cutpoints", {node: 3}


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
    if where in SAME_PLAN_BY_DESIGN:
        assert after == _plan(base), f"{design}: {where} = {alt!r} changed the plan; the planner is engine-free"
        return
    assert after != _plan(base), f"{design}: {where} = {alt!r} is accepted and changes nothing"


def test_the_walk_covers_every_design_and_section():
    seen = {(c[0], c[2].split(".")[0]) for c in CASES}
    assert {d for d, _ in seen} == set(SPECS)
    assert {s for d, s in seen if d != "observational_cate"} >= {"design", "inference", "sensitivity", ""}


# A field can change the plan (its value is echoed in the settings) and still change nothing the fitter computes:
# the fit-level walk fits the bundled spec's data with and without the alternative value (sensitivity off, which
# the sensitivity section's own cases cover) and requires the results to differ.
UNCHANGED_ON_THIS_DATA = {
    ("panel", "design.singletons"): "wagepan has no fixed-effect singletons: dropping them drops nothing",
    ("observational", "seed"): "no random step runs with sensitivity off",
    ("experiment", "seed"): "no random step runs with sensitivity off",
    ("panel", "seed"): "no random step runs with sensitivity off",
    ("iv", "seed"): "no random step runs with sensitivity off",
    ("did", "seed"): "no random step runs with sensitivity off",
    ("event_study", "seed"): "no random step runs with sensitivity off",
    ("regression_discontinuity", "seed"): "no random step runs with sensitivity off",
    ("interrupted_time_series", "seed"): "no random step runs with sensitivity off",
    ("observational_matching", "seed"): "no random step runs with sensitivity off",
    ("observational_cate", "heterogeneity.clip"): "no propensity score here is below 0.01: clipping at 0.009 clips "
                                                  "none either (the count of clipped scores is in the notes)",
    ("observational_cate", "heterogeneity.policy.can_hurt"): "with a positive cost the rule never treats a negative "
                                                             "CATE anyway, and no segment here is harmful with "
                                                             "confidence at 1200 rows (tests/test_cate_spec.py)",
    ("synthetic_control", "seed"): "Synth has no random step (synthdid's placebo draws are seeded: "
                                   "tests/test_sc_design.py)",
}
FIT_CASES = [c for c in CASES if c[2].split(".")[0] != "sensitivity"]


def _fitted(spec) -> str:
    body = spec.model_dump()
    body["sensitivity"] = {"enabled": False}
    fitted = cs.Spec(**body)
    fitted._origin = spec._origin
    out = cs.run(fitted, refute=False).to_dict()
    out.pop("plan", None)
    return json.dumps(out, sort_keys=True, default=str)


_BASE_FITS: dict = {}


@pytest.mark.parametrize("design,path,section,name,alt", FIT_CASES,
                         ids=[f"{c[0]}:{c[2] + '.' if c[2] else ''}{c[3]}={c[4]}" for c in FIT_CASES])
def test_a_planned_field_changes_the_fit(design, path, section, name, alt):
    base = cs.load(path)
    where = f"{section}.{name}" if section else name
    try:
        changed = cs.Spec(**_set(base.model_dump(), section, name, alt))
        changed._origin = base._origin
        cs.plan(changed)
    except CausalSpecError:
        return  # refused where it is written (the plan-level walk checks the location)
    if (design, where, json.dumps(alt)) in {(d, w, json.dumps(a)) for d, w, a in SAME_AS_DEFAULT} or \
            (design, where) in UNCHANGED_ON_THIS_DATA or _plan(changed) == _plan(base):
        return
    if path not in _BASE_FITS:
        _BASE_FITS[path] = _fitted(base)
    try:
        after = _fitted(changed)
    except CausalSpecError as exc:
        assert exc.problems and all(p.loc for p in exc.problems), f"{where}: refused at fit without a location"
        return
    assert after != _BASE_FITS[path], f"{design}: {where} = {alt!r} is planned and changes nothing in the fit"
