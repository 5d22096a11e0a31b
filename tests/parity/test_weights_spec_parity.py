"""Observation weights in the spec (issue 12): ``weights: hours`` gives R's weighted numbers through the whole
pipeline — lm(weights =) with sandwich's variances, estimatr::lm_robust(weights =) with CR2 and stata,
fixest::feols(weights = ~hours) — zero weights are dropped and counted, bad weights are refused at ``weights``,
and estimators that do not take weights refuse them where they are written."""

from __future__ import annotations

import numpy as np
import pytest

import causalspec as cs
from causalspec.errors import DataError, UnsupportedError
from parity._cases import case_data, load_case

ROOT = __import__('pathlib').Path(__file__).resolve().parents[2]

CONFOUNDERS = ["exper", "expersq", "married", "union"]


def _ols_spec(vcov, cluster=()) -> cs.Spec:
    edges = ["educ -> lwage"] + [f"{v} -> {w}" for v in CONFOUNDERS for w in ("educ", "lwage")]
    return cs.Spec(version=1, name="weighted_wages", treatment="educ", outcome="lwage", dag={"edges": edges},
                   adjustment=CONFOUNDERS, weights="hours",
                   inference={"vcov": vcov, "cluster": list(cluster)}, sensitivity={"refutations": []})


@pytest.mark.parametrize("vcov,variant,cluster", [("iid", "iid", ()), ("HC0", "HC0", ()), ("HC1", "HC1", ()),
                                                  ("HC2", "HC2", ()), ("HC3", "HC3", ()),
                                                  ("CR0", "vcovCL_HC0", ("nr",)), ("CR1", "vcovCL_HC1", ("nr",))])
def test_weighted_ols_matches_lm_and_sandwich(vcov, variant, cluster):
    case = load_case("ols_extra_weighted_wagepan")
    want = case["expected"]["vcov_variants"][variant]
    result = cs.run(_ols_spec(vcov, cluster), data=case_data(case), refute=False)
    got = {e.term: e for e in result.coefficients}
    for term, coef in want["coef"].items():
        assert got[term].estimate == pytest.approx(coef, rel=1e-9)
        assert got[term].std_error == pytest.approx(want["se"][term], rel=1e-8)
        assert [got[term].conf_low, got[term].conf_high] == pytest.approx(want["conf_int"][term], rel=1e-8)


@pytest.mark.parametrize("vcov,variant", [("HC2", "HC2_default"), ("CR2", "CR2_nr"), ("stata", "stata_nr")])
def test_weighted_ols_matches_lm_robust(vcov, variant):
    case = load_case("ols_extra_lm_robust_weighted_cr2")
    want = case["expected"]["vcov_variants"][variant]
    result = cs.run(_ols_spec(vcov, ("nr",) if vcov != "HC2" else ()), data=case_data(case), refute=False)
    got = {e.term: e for e in result.coefficients}
    for term, se in want["se"].items():
        assert got[term].std_error == pytest.approx(se, rel=1e-8)


def _fe_spec(vcov=None) -> cs.Spec:
    spec = cs.load(str(ROOT / "specs/wagepan_fe.yaml")).model_dump()
    spec["weights"] = "hours"
    spec["sensitivity"] = {"refutations": []}
    if vcov:
        spec["inference"] = {"vcov": vcov, "cluster": ["nr"] if vcov.startswith("CR") else []}
    return cs.Spec(**spec)


@pytest.mark.parametrize("vcov,variant", [(None, "default"), ("iid", "iid"), ("HC1", "hetero")])
def test_weighted_fixed_effects_match_feols(vcov, variant):
    case = load_case("fe_wagepan_weights")
    want = case["expected"]["vcov_variants"][variant]
    result = cs.run(_fe_spec(vcov), data=case_data(case), refute=False)
    got = {e.term: e for e in result.coefficients}
    for term, coef in want["coef"].items():
        assert got[term].estimate == pytest.approx(coef, rel=1e-8)
        assert got[term].std_error == pytest.approx(want["se"][term], rel=1e-8)


def test_weighted_sensitivity_uses_the_weighted_regression():
    """sensemakr on lm(weights = w): the partial R2 of the treatment is t^2 / (t^2 + df) of the weighted fit."""
    case = load_case("ols_extra_weighted_wagepan")
    result = cs.run(_ols_spec("iid"), data=case_data(case), refute=False)
    want = case["expected"]["vcov_variants"]["iid"]
    t = want["tstat"]["educ"]
    df = want["df"]
    assert result.sensitivity.ovb.r2yd_x == pytest.approx(t * t / (t * t + df), rel=1e-9)


def test_zero_weights_are_dropped_and_counted_and_bad_ones_refused():
    case = load_case("ols_extra_weighted_wagepan")
    data = case_data(case)
    zeroed = data.copy()
    zeroed.loc[zeroed.index[:7], "hours"] = 0
    result = cs.run(_ols_spec("HC1"), data=zeroed, refute=False)
    assert ("weight 0 in 'hours'", 7) in result.dropped and result.nobs == len(data) - 7
    dropped = cs.run(_ols_spec("HC1"), data=data.iloc[7:], refute=False)
    assert result.effect.estimate == pytest.approx(dropped.effect.estimate, rel=1e-12)
    assert result.effect.std_error == pytest.approx(dropped.effect.std_error, rel=1e-12)
    negative = data.copy()
    negative.loc[negative.index[3], "hours"] = -1.0
    with pytest.raises(DataError, match=r"weights: 1 weight\(s\) in 'hours' are negative or not finite"):
        cs.run(_ols_spec("HC1"), data=negative, refute=False)
    text = data.copy()
    text["hours"] = "many"
    with pytest.raises(DataError, match=r"weights: the weights column 'hours' is not numeric"):
        cs.run(_ols_spec("HC1"), data=text, refute=False)


def test_estimators_without_weights_refuse_them_at_the_field():
    spec = cs.load(str(ROOT / "specs/feature_psm.yaml")).model_dump()
    with pytest.raises(UnsupportedError, match=r"weights: the matching estimator does not take observation weights"):
        cs.plan(cs.Spec(**{**spec, "weights": "account_age"}))
    iv = cs.load(str(ROOT / "specs/mroz_iv.yaml")).model_dump()  # 2SLS takes weights (tests/test_iv_weights.py)
    assert cs.plan(cs.Spec(**{**iv, "weights": "age"})).weights == "age"
    with pytest.raises(UnsupportedError, match=r"weights: CR2 with fixed effects"):
        cs.plan(_fe_spec("CR2"))


def test_weighted_event_study_is_feols_with_weights():
    frame = case_data(load_case("cs_mpdta_nevertreated_nocov"))
    frame["w"] = np.exp(frame["lpop"] / 10)
    spec = cs.load(str(ROOT / "specs/mpdta_event_study.yaml")).model_dump()
    spec["sensitivity"] = {"refutations": [], "enabled": False}
    unweighted = cs.run(cs.Spec(**spec), data=frame, refute=False)
    weighted = cs.run(cs.Spec(**{**spec, "weights": "w"}), data=frame, refute=False)
    assert weighted.effect.estimate != pytest.approx(unweighted.effect.estimate, rel=1e-6)
    # with constant weights the fit is the unweighted one
    frame["w"] = 3.0
    const = cs.run(cs.Spec(**{**spec, "weights": "w"}), data=frame, refute=False)
    assert const.effect.estimate == pytest.approx(unweighted.effect.estimate, rel=1e-12)
    assert const.effect.std_error == pytest.approx(unweighted.effect.std_error, rel=1e-10)
    assert any("observation weights 'w'" in n for n in const.plan.notes)
