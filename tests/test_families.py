"""The family records drive planning, fitting and re-planning the variance (docs/architecture.md)."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

import causalspec as cs
from causalspec.designs import FAMILIES, family_for
from causalspec.errors import UnsupportedError
from causalspec.planner._settings import Settings

SPECS = Path(__file__).resolve().parents[1] / "specs"
BUNDLED = sorted(p for p in SPECS.glob("*.yaml"))


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.stem)
def test_every_bundled_plan_is_hashable_typed_and_deterministic(path):
    spec = cs.load(path)
    a, b = cs.plan(spec), cs.plan(spec)
    assert a == b and hash(a) == hash(b)
    assert isinstance(a.settings, Settings)
    assert a.to_json() == b.to_json()
    assert a.estimator in family_for(a.design).fitters


def test_with_vcov_on_fixed_effects_names_fixest_and_refuses_what_fixest_does_not_offer():
    result = cs.run(SPECS / "wagepan_fe.yaml", refute=False)
    hetero = result.with_vcov("HC1")
    assert hetero.plan.vcov.r_equivalent == 'fixest::feols(vcov = "hetero")'
    assert hetero.effect.std_error != result.effect.std_error
    assert result.plan.vcov.kind != "HC1"  # the first result is unchanged
    with pytest.raises(UnsupportedError, match=r"inference.vcov: HC2 is not available with fixed effects.*"
                                               r"fixed-effects designs support iid, HC1, CR1"):
        result.with_vcov("HC2")


def test_with_vcov_on_matching_and_weighting_is_refused_at_inference_vcov():
    matched = cs.run(SPECS / "feature_psm.yaml", refute=False)
    with pytest.raises(UnsupportedError, match=r"inference.vcov: HC0 is not available for matching; it supports "
                                               r"only MatchIt's recommended variance"):
        matched.with_vcov("HC0")
    spec = cs.load(SPECS / "feature_adoption.yaml")
    weighted = cs.run(cs.Spec(**{**spec.model_dump(), "design": {"type": "observational", "estimator": "ipw"},
                                 "inference": {}}), data=cs.datasets.feature_adoption(), refute=False)
    # IPW takes HC0-HC3 as the weights-fixed SE (lm_robust(y ~ t, weights = w)), changing the SE, not the estimate
    fixed = weighted.with_vcov("HC0")
    assert fixed.effect.estimate == pytest.approx(weighted.effect.estimate, rel=1e-12)
    assert fixed.effect.std_error != pytest.approx(weighted.effect.std_error, rel=1e-6)
    assert "held fixed" in fixed.plan.vcov.r_equivalent
    with pytest.raises(UnsupportedError, match=r"inference.vcov: CR1 is not available for ipw"):
        weighted.with_vcov("CR1", cluster="activity")


def test_with_vcov_on_ols_gives_the_same_numbers_as_planning_that_variance():
    spec = cs.load(SPECS / "feature_adoption.yaml")
    data = cs.datasets.feature_adoption()
    via_result = cs.fit(cs.plan(spec), data).with_vcov("HC3")
    planned = cs.fit(cs.plan(cs.Spec(**{**spec.model_dump(), "inference": {"vcov": "HC3"}})), data)
    assert via_result.plan.vcov == planned.plan.vcov
    assert via_result.effect == planned.effect
    assert via_result.sensitivity.evalue.to_dict() == planned.sensitivity.evalue.to_dict()


def test_a_result_pickles_and_still_changes_its_variance():
    result = cs.fit(cs.plan(cs.load(SPECS / "feature_adoption.yaml")), cs.datasets.feature_adoption())
    back = pickle.loads(pickle.dumps(result))
    assert back.to_json() == result.to_json()
    assert back.with_vcov("HC1").effect == result.with_vcov("HC1").effect


def test_each_family_offers_a_fitter_for_every_estimator_its_planner_can_choose():
    for family in FAMILIES:
        assert family.fitters, family.type
        assert callable(family.plan) and callable(family.vcov)


@pytest.mark.parametrize("name, estimand", [("injury_did.yaml", "ATT"), ("mpdta_event_study.yaml", "ATT"),
                                            ("mpdta_sun_abraham.yaml", "ATT"), ("mpdta_callaway_santanna.yaml", "ATT"),
                                            ("mroz_iv.yaml", "LATE"), ("wagepan_fe.yaml", "ATE"),
                                            ("feature_adoption.yaml", "ATE"), ("feature_psm.yaml", "ATT")])
def test_each_design_names_the_estimand_it_estimates(name, estimand):
    plan = cs.plan(cs.load(SPECS / name))
    assert plan.estimand == estimand
    assert f"({estimand}, " in plan.explain()


def test_an_estimand_the_design_does_not_estimate_is_refused():
    spec = cs.load(SPECS / "mroz_iv.yaml").model_dump()
    with pytest.raises(UnsupportedError, match=r"estimand: the two-stage least squares .* estimates the LATE, not "
                                               r"the ATT"):
        cs.plan(cs.Spec(**{**spec, "estimand": "ATT"}))
    did = cs.load(SPECS / "injury_did.yaml").model_dump()
    with pytest.raises(UnsupportedError, match=r"estimand: the difference in differences estimates the ATT, not "
                                               r"the ATC"):
        cs.plan(cs.Spec(**{**did, "estimand": "ATC"}))


def test_cr0_means_one_thing_everywhere_and_estimatrs_cr0_has_its_own_name():
    """Issue 12: CR0 was sandwich's vcovCL(type = "HC0") for OLS but estimatr's CR0 with fixed effects / Lin."""
    fe = cs.load(SPECS / "wagepan_fe.yaml").model_dump()
    with pytest.raises(UnsupportedError, match=r"inference.vcov: CR0 is sandwich::vcovCL\(type = \"HC0\"\) .* "
                                               r"estimatr's CR0 .* is vcov: CR0_estimatr"):
        cs.plan(cs.Spec(**{**fe, "inference": {"vcov": "CR0", "cluster": ["nr"]}}))
    plan = cs.plan(cs.Spec(**{**fe, "inference": {"vcov": "CR0_estimatr", "cluster": ["nr"]}}))
    assert plan.vcov.r_equivalent.endswith('se_type = "CR0")')
    ab = cs.load(SPECS / "ab_test.yaml").model_dump()
    for kind, other in (("CR0", "CR0_estimatr"), ("CR1", "stata")):
        with pytest.raises(UnsupportedError, match=rf"inference.vcov: {kind} is sandwich::vcovCL.* vcov: {other}"):
            cs.plan(cs.Spec(**{**ab, "inference": {"vcov": kind, "cluster": ["country"]}}))
    ols = cs.load(SPECS / "feature_adoption.yaml").model_dump()
    for kind, call in (("CR0", 'sandwich::vcovCL(cluster = ~region_index, type = "HC0")'),
                       ("CR0_estimatr", 'estimatr::lm_robust(clusters = region_index, se_type = "CR0")')):
        plan = cs.plan(cs.Spec(**{**ols, "inference": {"vcov": kind, "cluster": ["region_index"]}}))
        assert plan.vcov.r_equivalent == call
