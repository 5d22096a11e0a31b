"""Experiment checks run from specs: R parity (chisq.test, prop.test, difference_in_means), known truth, verdicts."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import causalspec as cs
from causalspec.datasets import AB_TRUE_EFFECT
from causalspec.errors import DataError, SpecError, UnsupportedError
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


# ------------------------------------------------------------------ clustered assignment (issue 13)
def _classrooms(n_clusters=60, seed=11):
    """Whole classrooms randomized (30 of 60 treated), pupils within them correlated; true effect +1."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    sizes = rng.integers(5, 30, n_clusters)
    arm = rng.permutation(np.repeat([0, 1], n_clusters // 2))
    g = np.repeat(np.arange(n_clusters), sizes)
    t = arm[g]
    u = rng.normal(0, 2, n_clusters)[g]
    pre = u + rng.normal(0, 1, len(g))
    sessions = rng.poisson(4, len(g)) + 1
    return pd.DataFrame({"room": g, "small": t, "pre": pre, "score": 1.0 * t + u + rng.normal(0, 1, len(g)),
                         "passed": (rng.random(len(g)) < 0.4 + 0.1 * t).astype(float), "sessions": sessions,
                         "clicks": rng.binomial(sessions, 0.1 + 0.02 * t)})


def _clustered_spec(covariates=(), vcov=None, **design):
    inference = {"cluster": ["room"], **({"vcov": vcov} if vcov else {})}
    return cs.Spec(name="rooms", treatment="small", outcome="score", covariates=list(covariates),
                   design={"type": "experiment", **design}, inference=inference)


@pytest.mark.parametrize("estimator", ["auto", "difference_in_means"])
def test_a_cluster_without_covariates_plans_the_clustered_difference_in_means(estimator):
    plan = cs.plan(_clustered_spec(estimator=estimator))  # it used to refuse, pointing at lin, which refused back
    assert plan.estimator.value == "difference_in_means" and plan.vcov.kind == "CR2"
    assert plan.vcov.r_equivalent.startswith("estimatr::difference_in_means(clusters = room)")
    result = _run(_clustered_spec(estimator=estimator), _classrooms())
    assert dict(result.fit_stats)["n_clusters"] == 60
    assert result.effect.conf_low < 1.0 < result.effect.conf_high


def test_lin_without_covariates_points_at_a_difference_in_means_that_accepts_the_cluster():
    with pytest.raises(UnsupportedError, match="use design.estimator difference_in_means") as info:
        cs.plan(_clustered_spec(estimator="lin"))
    assert info.value.problems[0].code == "lin_without_covariates"
    cs.plan(_clustered_spec(estimator="difference_in_means"))  # ... and the fix it names plans


@pytest.mark.parametrize("vcov, code, where", [
    ("CR1", "ambiguous_vcov", "inference.vcov: CR1 is sandwich::vcovCL"),
    ("CR0", "ambiguous_vcov", "inference.vcov: CR0 is sandwich::vcovCL"),
])
def test_sandwich_cluster_variances_are_refused_for_the_difference_in_means(vcov, code, where):
    with pytest.raises(UnsupportedError, match=where) as info:
        cs.plan(_clustered_spec(vcov=vcov))
    assert info.value.problems[0].code == code


@pytest.mark.parametrize("vcov, r_call", [
    ("CR2", 'lm_robust(y ~ d, clusters = room, se_type = "CR2")'),
    ("stata", 'estimatr::lm_robust(y ~ d, clusters = room, se_type = "stata"), G - 1 df'),
    ("CR0_estimatr", 'estimatr::lm_robust(y ~ d, clusters = room, se_type = "CR0"), G - 1 df'),
])
def test_each_estimatr_cluster_variance_names_its_r_call(vcov, r_call):
    plan = cs.plan(_clustered_spec(vcov=vcov))
    assert plan.vcov.kind == vcov and r_call in plan.vcov.r_equivalent
    result = _run(_clustered_spec(vcov=vcov), _classrooms())
    if vcov != "CR2":
        assert result.effect.df == 59  # G - 1


def test_a_variance_without_a_cluster_is_refused_without_pointing_back_at_lin():
    spec = cs.Spec(name="ab", treatment="small", outcome="score", design={"type": "experiment"},
                   inference={"vcov": "HC1"})
    with pytest.raises(UnsupportedError, match=r"inference.vcov: .*Neyman.*add inference.cluster") as info:
        cs.plan(spec)
    assert info.value.problems[0].code == "unsupported_vcov"


def test_several_cluster_columns_are_refused_at_the_field():
    spec = cs.Spec(name="rooms", treatment="small", outcome="score", design={"type": "experiment"},
                   inference={"cluster": ["room", "pre"], "vcov": "CR2"})
    with pytest.raises(UnsupportedError, match=r"inference.cluster: estimatr clusters an experiment on one column"):
        cs.plan(spec)


def test_clusters_that_split_the_arms_are_refused_for_the_difference_in_means_but_not_for_lin():
    data = _classrooms()
    data["room"] = data.index % 7  # pupils, not rooms, were assigned: every "room" has both arms
    with pytest.raises(DataError, match=r"inference.cluster: All units within a cluster must have the same "
                                        r"treatment condition") as info:
        _run(_clustered_spec(), data)
    assert info.value.problems[0].code == "arms_not_nested"
    result = _run(_clustered_spec(covariates=["pre"], planned_split=0.5), data)
    assert result.plan.vcov.kind == "CR2" and result.extras["sample_ratio"]["counted"] == "units"
    assert any("counted units, not the clusters of room" in n for n in result.notes)


def test_sample_ratio_check_counts_clusters_and_reports_df_and_expected_counts():
    data = _classrooms()
    result = _run(_clustered_spec(planned_split=0.5), data)
    srm = result.extras["sample_ratio"]
    assert srm["counted"] == "clusters" and srm["observed"] == {"control": 30, "treatment": 30}
    assert srm["expected"] == {"control": 30.0, "treatment": 30.0} and srm["df"] == 1 and srm["chi_square"] == 0
    assert sum(srm["units"].values()) == len(data)
    assert any(n.startswith("sample-ratio check: counted the 60 clusters of room") for n in result.notes)
    # the same pupils counted one by one would test a different (and wrong) null
    units = _run(cs.Spec(name="rooms", treatment="small", outcome="score",
                         design={"type": "experiment", "planned_split": 0.5}), data).extras["sample_ratio"]
    assert units["counted"] == "units" and units["observed"] == srm["units"]


def test_sample_ratio_mismatch_over_clusters_is_a_warning_that_names_clusters():
    data = _classrooms()
    result = _run(_clustered_spec(planned_split=0.2, srm_alpha=0.01), data)  # 30 of 60 treated, 20% planned
    assert result.warnings[0].startswith("SAMPLE RATIO MISMATCH: 30 treated and 30 control clusters of room")
    assert "on 1 df" in result.warnings[0]


def test_prop_test_is_not_computed_with_clusters_and_says_why():
    spec = cs.Spec(name="rooms", treatment="small", outcome="passed",
                   design={"type": "experiment", "metric": {"type": "proportion"}}, inference={"cluster": ["room"]})
    result = _run(spec, _classrooms())
    p = result.extras["proportion_test"]
    assert p["computed"] is False and "independent draws" in p["reason"]
    assert [r["role"] for r in result.extras["effects"]] == ["effect"]


def test_ratio_metric_under_clustered_assignment_is_the_delta_method_over_cluster_totals():
    from causalspec.power import ratio_metric

    data = _classrooms()
    spec = _clustered_spec(metric={"type": "ratio", "numerator": "clicks", "denominator": "sessions"})
    r = _run(spec, data).extras["ratio_metric"]
    totals = data.groupby("room").agg(clicks=("clicks", "sum"), sessions=("sessions", "sum"), small=("small", "first"))
    want = ratio_metric(totals["clicks"], totals["sessions"], totals["small"])
    assert r["estimate"] == pytest.approx(want.estimate, rel=1e-12)
    assert r["std_error"] == pytest.approx(want.std_error, rel=1e-12)
    assert "60 clusters' totals" in r["variance"]


def test_every_row_of_the_effect_table_carries_its_method():
    result = _run(_ab_spec(cuped="pre_spend", guardrails=[{"column": "pre_spend", "direction": "increase",
                                                             "threshold": 2}]), cs.datasets.ab_test())
    rows = {r["role"]: r for r in result.to_dict()["design"]["effects"]}
    # design.cuped makes CUPED the effect; Lin's estimate (the covariates) is reported beside it
    assert list(rows) == ["effect", "unadjusted", "lin", "welch_t_test", "cuped", "guardrail"]
    assert rows["effect"]["method"].startswith("CUPED on 'pre_spend'")
    assert rows["effect"]["estimate"] == result.effect.estimate == rows["cuped"]["estimate"]
    assert rows["lin"]["method"] == "Lin (2013) (HC2 SE, n - k df)"
    lin = next(e for e in result.coefficients if e.term == "variant")
    assert rows["lin"]["estimate"] == lin.estimate != result.effect.estimate
    assert rows["unadjusted"]["estimate"] == result.naive.estimate
    assert rows["unadjusted"]["method"] == "difference in means (Neyman SE, Welch df)"
    assert rows["welch_t_test"]["method"] == "Welch t-test"
    assert rows["welch_t_test"]["std_error"] == pytest.approx(result.naive.std_error, rel=1e-12)
    assert rows["cuped"]["method"].startswith("CUPED on 'pre_spend'")
    assert rows["guardrail"]["method"] == result.extras["guardrails"][0]["method"]
    for r in rows.values():
        assert {"term", "estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high", "df", "method",
                "r_equivalent", "role", "metric"} == set(r)


def test_clustered_rows_say_so_and_drop_the_unit_level_welch_test():
    result = _run(_clustered_spec(covariates=["pre"], cuped="pre",
                                  guardrails=[{"column": "pre", "direction": "increase", "threshold": 5}]),
                  _classrooms())
    rows = {r["role"]: r for r in result.extras["effects"]}
    assert "welch_t_test" not in rows
    assert rows["lin"]["method"] == "Lin (2013) (CR2 SE, Bell-McCaffrey df)"
    cr2 = "difference in means (cluster-robust CR2 SE, Bell-McCaffrey df)"
    assert rows["unadjusted"]["method"] == cr2 and rows["guardrail"]["method"] == cr2
    assert cr2 in rows["cuped"]["method"] and cr2 in rows["effect"]["method"]


def test_blocks_are_not_accepted_anywhere():
    # blocked designs (estimatr::difference_in_means(blocks = )) are not implemented: nothing may accept them
    with pytest.raises(SpecError, match="blocks"):
        _ab_spec(blocks="country")
