"""Propensity-score estimators and experiment checks run from specs: R parity, known truth, located errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import causalspec as cs
from causalspec.datasets import TRUE_EFFECT
from causalspec.errors import DataError, SpecError, UnsupportedError
from causalspec.planner import Estimator
from parity._cases import assert_close, case_data, load_case, tolerance

SPECS = Path(__file__).resolve().parents[1] / "specs"
CONFOUNDERS = ["age", "educ", "race", "married", "nodegree", "re74", "re75"]


def _lalonde_spec(**design):
    edges = ["treat -> re78"] + [f"{c} -> {v}" for c in CONFOUNDERS for v in ("treat", "re78")]
    return cs.Spec(name="lalonde", treatment="treat", outcome="re78", estimand="ATT", dag={"edges": edges},
                   adjustment=CONFOUNDERS, design={"type": "observational", "estimator": "matching", **design},
                   sensitivity={"refutations": []})


@pytest.mark.parametrize("case_id, design, variant", [
    ("matching_lalonde_nn", {}, "vcovCL_subclass"),
    ("matching_lalonde_nn_replace", {"matching": {"replace": True}}, "HC3"),
])
def test_matching_spec_reproduces_matchit_and_the_recommended_variance(case_id, design, variant):
    case = load_case(case_id)
    rel, abs_ = tolerance(case)
    data = case_data(case)
    result = cs.run(_lalonde_spec(**design), data=data)
    exp = case["expected"]["effect"][variant]
    e = result.effect
    assert result.nobs == exp["nobs"]
    assert_close([e.estimate, e.std_error, e.statistic, e.p_value, e.conf_low, e.conf_high],
                 [exp["coef"]["treat"], exp["se"]["treat"], exp["tstat"]["treat"], exp["pvalue"]["treat"],
                  *exp["conf_int"]["treat"]], rel=rel, abs_=abs_, what=case_id)
    assert result.extras["balance_after"] is not None


def test_psm_spec_recovers_the_truth_where_the_naive_contrast_does_not():
    result = cs.run(SPECS / "feature_psm.yaml", refute=False)
    assert result.plan.estimator is Estimator.MATCHING
    assert result.effect.conf_low < TRUE_EFFECT < result.effect.conf_high
    assert not result.naive.conf_low < TRUE_EFFECT < result.naive.conf_high
    assert result.naive.estimate == pytest.approx(14.48, abs=0.01)
    assert result.extras["rosenbaum"]["gamma"] > 1


@pytest.mark.parametrize("estimator, estimand", [("ipw", "ATE"), ("aipw", "ATE"), ("ipw", "ATT")])
def test_weighting_estimators_cover_the_truth_on_the_feature_study(estimator, estimand):
    spec = cs.load(SPECS / "feature_adoption.yaml")
    spec = cs.Spec(**{**spec.model_dump(), "estimand": estimand,
                      "design": {"type": "observational", "estimator": estimator},
                      "inference": {}})  # the weighting estimators have their own variance
    result = cs.run(spec, data=cs.datasets.feature_adoption(), refute=False)
    assert result.effect.conf_low < TRUE_EFFECT < result.effect.conf_high
    assert result.plan.vcov.kind in ("m_estimation", "influence_function")
    assert result.warnings  # the feature study has scores near 1: the report says so first
    assert hasattr(result.sensitivity.evalue, "evalue_point")


def test_crump_trimming_counts_the_dropped_units():
    spec = cs.load(SPECS / "feature_adoption.yaml")
    spec = cs.Spec(**{**spec.model_dump(), "design": {"type": "observational", "estimator": "ipw",
                                                       "trim": "crump"}, "inference": {}})
    result = cs.run(spec, data=cs.datasets.feature_adoption(), refute=False)
    trimmed = [n for reason, n in result.dropped if "Crump" in reason]
    assert trimmed and trimmed[0] == sum(result.extras["trimming"]["dropped"].values())
    assert result.nobs == 5000 - trimmed[0]


def test_propensity_errors_are_located():
    data = cs.datasets.feature_adoption().assign(feature_usage=lambda d: d["feature_usage"] * 2.0)
    spec = cs.load(SPECS / "feature_psm.yaml")
    with pytest.raises(DataError, match=r"treatment: matching needs a binary 0/1 treatment"):
        cs.run(spec, data=data, refute=False)
    with pytest.raises(SpecError, match=r"design.matching.caliper"):
        cs.Spec(**{**spec.model_dump(), "design": {"type": "observational", "estimator": "matching",
                                                    "matching": {"caliper": 0}}})
    with pytest.raises(UnsupportedError, match=r"estimand: the aipw_wls estimator targets ATE, not ATT"):
        cs.plan(cs.Spec(**{**spec.model_dump(), "design": {"type": "observational", "estimator": "aipw_wls"}}))


def test_sample_ratio_mismatch_is_flagged_before_the_effect():
    broken = cs.run(SPECS / "ab_test_srm.yaml")
    srm = broken.extras["sample_ratio"]
    assert srm["p_value"] < 1e-6
    assert broken.warnings[0].startswith("SAMPLE RATIO MISMATCH")
    text = broken.summary()
    assert text.index("SAMPLE RATIO MISMATCH") < text.index("Estimated effect")
    fine = cs.run(SPECS / "ab_test.yaml")
    assert fine.extras["sample_ratio"]["p_value"] > 0.01 and not fine.warnings
    # the chi-square is stats::chisq.test(counts, p = c(.5, .5)): check by hand
    c = np.array([srm["control"], srm["treatment"]], dtype=float)
    assert srm["chi_square"] == pytest.approx(((c - c.sum() / 2) ** 2 / (c.sum() / 2)).sum(), rel=1e-12)


def test_experiment_balance_table_is_reported():
    result = cs.run(SPECS / "ab_test.yaml")
    rows = {r["covariate"]: r for r in result.extras["balance"]}
    assert abs(rows["pre_spend"]["smd"]) < 0.1


def test_bad_matching_options_and_treatments_are_located():
    spec = cs.load(SPECS / "feature_psm.yaml")
    base = spec.model_dump()
    with pytest.raises(SpecError, match=r"design.matching.ratio"):
        cs.Spec(**{**base, "design": {"type": "observational", "estimator": "matching", "matching": {"ratio": 0}}})
    with pytest.raises(SpecError, match=r"design.matching.distance"):
        cs.Spec(**{**base, "design": {"type": "observational", "estimator": "matching",
                                      "matching": {"distance": "euclidean"}}})  # mahalanobis is read now
    ipw = cs.Spec(**{**base, "estimand": "ATE", "design": {"type": "observational", "estimator": "ipw"}})
    three = cs.datasets.feature_adoption().assign(feature_usage=lambda d: d["feature_usage"] + (d.index % 3 == 0))
    with pytest.raises(DataError, match=r"treatment: ipw needs a binary 0/1 treatment"):
        cs.run(ipw, data=three, refute=False)


def test_matching_accounts_for_every_unit_left_out_and_reports_json_balance():
    result = cs.run(SPECS / "feature_psm.yaml", refute=False)
    reasons = dict(result.dropped)
    assert result.nobs + sum(reasons.values()) == result.n_input == 5000
    assert any("no control within the caliper" in r for r in reasons)
    import json

    design = json.loads(result.to_json())["design"]
    after = {r["covariate"]: r for r in design["balance_after"]}
    assert {"distance", "account_age", "activity"} <= set(after)
    assert all(abs(after[c]["smd"]) < 0.1 for c in ("account_age", "activity"))
    assert sum(design["propensity_histogram"]["treated"]) == 1789


def test_matching_on_the_logit_of_the_score():
    from dataclasses import replace

    from causalspec.estimators._matching import match_nearest

    spec = cs.load(SPECS / "feature_psm.yaml")
    data = cs.datasets.feature_adoption()
    plan = cs.plan(spec)
    plan = replace(plan, settings=replace(plan.settings, matching=replace(plan.settings.matching, distance="logit")))
    result = cs.fit(plan, data)
    assert result.extras["matching"]["distance"] == "linear.logit"
    m = match_nearest(plan.settings.propensity.propensity_formula, data, caliper=0.2, algorithm="exact",
                      distance="linear.logit")
    assert result.nobs == int((m.weights > 0).sum())
    assert result.effect.conf_low < TRUE_EFFECT < result.effect.conf_high


def test_overlap_and_love_plots_are_drawn_from_the_result():
    from causalspec.report._propensity_plots import love_plot, overlap_plot

    matched = cs.run(SPECS / "feature_psm.yaml", refute=False)
    assert len(overlap_plot(matched)) == 2  # before and after matching
    assert len(love_plot(matched).collections) == 2
    spec = cs.load(SPECS / "feature_adoption.yaml")
    weighted = cs.run(cs.Spec(**{**spec.model_dump(), "design": {"type": "observational", "estimator": "ipw"},
                                 "inference": {}}),
                      data=cs.datasets.feature_adoption(), refute=False)
    assert len(overlap_plot(weighted).figure.axes) == 1
    # IPW reports balance before and after weighting (cobalt::bal.tab), so its love plot is drawn too
    assert weighted.extras["balance_after"] and len(love_plot(weighted).collections) == 2
    ra = cs.run(cs.Spec(**{**spec.model_dump(), "design": {"type": "observational", "estimator": "ra"},
                           "inference": {}}), data=cs.datasets.feature_adoption(), refute=False)
    with pytest.raises(UnsupportedError, match=r"design.estimator: the love plot needs a fit by matching or ipw"):
        love_plot(ra)  # regression adjustment weights no one


@pytest.mark.parametrize("estimator", ["ra", "aipw", "ipw_ra", "matching"])
def test_a_variance_the_propensity_estimators_do_not_use_is_refused_not_ignored(estimator):
    # (ipw takes HC0-HC3: the weights-fixed SE, tests/parity/test_teffects_spec_parity.py)
    spec = cs.load(SPECS / "feature_adoption.yaml")  # inference: {vcov: HC2}
    spec = cs.Spec(**{**spec.model_dump(), "estimand": "ATT" if estimator == "matching" else "ATE",
                      "design": {"type": "observational", "estimator": estimator}})
    with pytest.raises(UnsupportedError, match=r"inference.vcov: HC2 is not available for"):
        cs.plan(spec)


@pytest.mark.parametrize("estimand", ["ATT", "ATC"])
def test_the_default_att_and_atc_estimator_matches_with_replacement_and_covers_the_truth(estimand):
    """Issue 11: auto used to pick 1:1 matching without replacement: ATT +12.51, ATC +16.83 (truth +10)."""
    spec = cs.load(SPECS / "feature_adoption.yaml")
    spec = cs.Spec(**{**spec.model_dump(), "estimand": estimand, "inference": {}})
    result = cs.run(spec, data=cs.datasets.feature_adoption(), refute=False)
    assert result.plan.estimator is Estimator.MATCHING and result.plan.settings.matching.replace is True
    assert "with replacement" in result.plan.estimator_reason
    assert result.effect.conf_low < TRUE_EFFECT < result.effect.conf_high
    assert not result.warnings


def test_atc_notes_and_drops_speak_in_the_datas_own_arms():
    spec = cs.load(SPECS / "feature_adoption.yaml")
    spec = cs.Spec(**{**spec.model_dump(), "estimand": "ATC", "inference": {},
                      "design": {"type": "observational", "estimator": "matching"}})
    result = cs.run(spec, data=cs.datasets.feature_adoption(), refute=False)
    treated = int(cs.datasets.feature_adoption()["feature_usage"].sum())
    assert any(f"only {treated} treated units for" in n for n in result.notes), result.notes
    assert not any("caliper" in n for n in result.notes)
    assert any(r.startswith("control units unmatched (no treated unit left to match)") for r, _ in result.dropped)


def test_a_badly_imbalanced_match_is_not_headlined():
    spec = cs.load(SPECS / "feature_adoption.yaml")
    spec = cs.Spec(**{**spec.model_dump(), "estimand": "ATT", "inference": {},
                      "design": {"type": "observational", "estimator": "matching"}})  # without replacement
    result = cs.run(spec, data=cs.datasets.feature_adoption(), refute=False)
    assert result.warnings[0].startswith("NO ESTIMATE HEADLINED: the matched sample is badly imbalanced")
    assert "No estimate of the effect of feature_usage on spend is headlined" in result.summary()
    assert "Estimated effect of" not in result.summary()
    assert result.to_dict()["design"]["headline_withheld"].startswith("the matched sample is badly imbalanced")
