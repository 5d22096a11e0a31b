"""Experiment checks run from specs: R parity (chisq.test, prop.test, difference_in_means), known truth, verdicts."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import causalspec as cs
from causalspec.datasets import AB_TRUE_EFFECT
from causalspec.errors import DataError, SpecError
from parity._cases import assert_close, case_data, load_case, tolerance

SPECS = Path(__file__).resolve().parents[1] / "specs"


def _run(spec, data):
    return cs.fit(cs.plan(spec), data)


def _star():
    case = load_case("experiment_star_kindergarten")
    d = case_data(case)
    k = d[d["stark"].isin(["small", "regular"])].copy()
    k["small"] = (k["stark"] == "small").astype(float)
    k["score"] = k["readk"] + k["mathk"]
    return case, k


def _ab_spec(**design):
    spec = cs.load(SPECS / "ab_test.yaml")
    return cs.Spec(**{**spec.model_dump(), "design": {**spec.model_dump()["design"], **design}})


# ------------------------------------------------------------------ R parity through a spec
def test_sample_ratio_check_through_a_spec_matches_chisq_test():
    case, k = _star()
    rel, abs_ = tolerance(case)
    # teacher experience has no missing values, so every assigned student is analysed, as R counted them
    spec = cs.Spec(name="star", treatment="small", outcome="experiencek", design={"type": "experiment"})
    result = _run(spec, k)
    exp = case["expected"]["srm_chisq_50_50"]
    srm = result.extras["sample_ratio"]
    assert [srm["treatment"], srm["control"]] == [case["expected"]["n_assigned"]["small"],
                                                  case["expected"]["n_assigned"]["regular"]]
    assert_close([srm["chi_square"], srm["p_value"]], [exp["statistic"], exp["p_value"]], rel=rel, abs_=abs_,
                 what="srm")
    # STAR's small classes hold fewer pupils by design, so a 50/50 split of students was never the plan
    assert result.warnings[0].startswith("SAMPLE RATIO MISMATCH")


def test_guardrail_difference_matches_estimatr_difference_in_means():
    case, k = _star()
    rel, abs_ = tolerance(case)
    a = k[k["score"].notna()]
    spec = cs.Spec(name="star", treatment="small", outcome="experiencek",
                   design={"type": "experiment", "planned_split": None,
                           "guardrails": [{"column": "score", "direction": "decrease", "threshold": 0}]})
    result = _run(spec, a)
    g = result.extras["guardrails"][0]
    exp = case["expected"]["difference_in_means"]
    assert_close([g["estimate"], g["std_error"], g["p_value"], g["df"], *g["conf_int"]],
                 [exp["coef"]["small"], exp["se"]["small"], exp["pvalue"]["small"], exp["df"]["small"],
                  *exp["conf_int"]["small"]], rel=rel, abs_=abs_, what="guardrail")
    assert g["verdict"] == "pass"  # scores rose: the whole interval is on the harmless side of 0


def test_proportion_metric_matches_prop_test():
    case = load_case("experiment_resume_callback")
    rel, abs_ = tolerance(case)
    d = case_data(case)
    d = d.assign(afam=(d["ethnicity"] == "afam").astype(float), callback=(d["call"] == "yes").astype(float))
    spec = cs.Spec(name="resumes", treatment="afam", outcome="callback",
                   design={"type": "experiment", "metric": {"type": "proportion", "continuity_correction": False}})
    result = _run(spec, d)
    got, exp = result.extras["proportion_test"], case["expected"]["prop_test"]
    assert got["method"] == exp["method"]
    assert_close([got["chi_square"], got["p_value"], got["proportion_treatment"], got["proportion_control"],
                  *got["conf_int"]],
                 [exp["statistic"], exp["p_value"], *exp["estimate"].values(), *exp["conf_int"]],
                 rel=rel, abs_=abs_, what="prop.test")
    dim = case["expected"]["difference_in_means"]
    assert_close([result.effect.estimate, result.effect.std_error], [dim["coef"]["afam"], dim["se"]["afam"]],
                 rel=rel, abs_=abs_, what="effect")


def test_proportion_metric_on_a_non_binary_outcome_is_located():
    spec = _ab_spec(metric={"type": "proportion"})
    with pytest.raises(DataError, match=r"design.metric.type: a proportion metric needs a 0/1 outcome"):
        _run(spec, cs.datasets.ab_test())


# ------------------------------------------------------------------ known truth
def test_cuped_covers_the_truth_with_less_variance():
    result = _run(_ab_spec(cuped="pre_spend"), cs.datasets.ab_test())
    c = result.extras["cuped"]
    assert c["conf_int"][0] < AB_TRUE_EFFECT < c["conf_int"][1]
    assert abs(c["estimate"] - AB_TRUE_EFFECT) < 0.3
    assert c["variance_reduction"] > 0.5 and c["std_error"] < c["unadjusted_std_error"]


def _clicks(n=20000, seed=3):
    rng = np.random.default_rng(seed)
    t = rng.binomial(1, 0.5, n)
    sessions = rng.poisson(5, n) + 1
    clicks = rng.binomial(sessions, np.where(t == 1, 0.12, 0.10))
    import pandas as pd

    return pd.DataFrame({"variant": t, "sessions": sessions, "clicks": clicks,
                         "clicks_per_user": clicks.astype(float)})


def test_ratio_metric_by_the_delta_method_covers_the_truth_and_drives_the_decision():
    spec = cs.Spec(name="ctr", treatment="variant", outcome="clicks_per_user",
                   design={"type": "experiment",
                           "metric": {"type": "ratio", "numerator": "clicks", "denominator": "sessions"},
                           "decision": {"goal": "increase", "min_effect": 0.005}})
    result = _run(spec, _clicks())
    r = result.extras["ratio_metric"]
    assert r["conf_int"][0] < 0.02 < r["conf_int"][1]
    assert abs(r["estimate"] - 0.02) < 0.005
    d = result.extras["decision"]
    assert d["basis"].startswith("ratio metric") and d["verdict"] == "ship"


# ------------------------------------------------------------------ guardrails and the decision rule
def test_failed_guardrail_is_a_warning_and_blocks_shipping():
    data = cs.datasets.ab_test()
    rng = np.random.default_rng(5)
    data = data.assign(errors=rng.normal(1.0, 1.0, len(data)) + 0.3 * data["variant"])
    spec = _ab_spec(guardrails=[{"column": "errors", "direction": "increase", "threshold": 0.1}],
                    decision={"goal": "increase", "min_effect": 0.5})
    result = _run(spec, data)
    assert result.extras["guardrails"][0]["verdict"] == "fail"
    assert any(w.startswith("GUARDRAIL FAILED: guardrail 'errors'") for w in result.warnings)
    assert result.extras["decision"]["verdict"] == "do not ship"
    assert "guardrails failed: errors" in result.extras["decision"]["reasons"]


def test_decision_ships_when_the_effect_clears_the_bar_and_guardrails_pass():
    spec = _ab_spec(guardrails=[{"column": "pre_spend", "direction": "increase", "threshold": 2}],
                    decision={"goal": "increase", "min_effect": 0.5})
    result = _run(spec, cs.datasets.ab_test())
    assert result.extras["guardrails"][0]["verdict"] == "pass"
    assert result.extras["decision"]["verdict"] == "ship"
    assert "DECISION (design.decision): SHIP" in result.summary()
    too_high = _run(_ab_spec(decision={"goal": "increase", "min_effect": 5}), cs.datasets.ab_test())
    assert too_high.extras["decision"]["verdict"] == "do not ship"


def test_no_decision_while_the_sample_ratio_is_broken():
    spec = cs.load(SPECS / "ab_test_srm.yaml")
    result = _run(spec, cs.datasets.ab_test_srm())
    assert result.warnings[0].startswith("SAMPLE RATIO MISMATCH")
    assert result.extras["sample_ratio"]["p_value"] < 1e-6
    assert result.extras["decision"]["verdict"] == "no decision"
    fine = _run(_ab_spec(decision={"goal": "increase"}), cs.datasets.ab_test())
    assert fine.extras["sample_ratio"]["p_value"] > 0.01
    assert fine.extras["decision"]["verdict"] == "ship"


# ------------------------------------------------------------------ located spec errors
@pytest.mark.parametrize("design, where", [
    ({"metric": {"type": "ratio", "numerator": "clicks"}}, r"design.metric.denominator: a ratio metric needs"),
    ({"metric": {"type": "mean", "numerator": "clicks"}}, r"design.metric.numerator: numerator is used only"),
    ({"cuped": "pre_spend", "metric": {"type": "ratio", "numerator": "a", "denominator": "b"}}, r"design.cuped"),
    ({"guardrails": [{"column": "x", "direction": "increase", "threshold": -1}]}, r"design.guardrails\[0\].threshold"),
    ({"guardrails": [{"column": "x", "direction": "up"}]}, r"design.guardrails\[0\].direction"),
    ({"guardrails": [{"column": "x", "direction": "increase"}, {"column": "x", "direction": "decrease"}]},
     r"design.guardrails\[1\].column: 'x' is listed twice"),
    ({"decision": {"goal": "increase", "min_effect": -1}}, r"design.decision.min_effect"),
])
def test_bad_experiment_options_are_located(design, where):
    with pytest.raises(SpecError, match=where):
        _ab_spec(**design)


def test_missing_guardrail_column_is_located():
    spec = _ab_spec(guardrails=[{"column": "latency", "direction": "increase", "threshold": 1}])
    with pytest.raises(DataError, match=r"design.guardrails\[0\].column"):
        _run(spec, cs.datasets.ab_test())


def test_planner_records_the_experiment_options():
    spec = _ab_spec(guardrails=[{"column": "pre_spend", "direction": "increase", "threshold": 2}],
                    decision={"goal": "increase"})
    plan = cs.plan(spec)
    assert plan.settings.guardrails[0].column == "pre_spend"
    assert ("pre_spend", "covariates[0]") in plan.column_fields
