"""MatchIt's other matching methods through the spec: Mahalanobis nearest neighbour, nearest neighbour within exact
strata, exact matching, coarsened exact matching and subclassification (ATT and ATE).

Each case (``tools/rparity/build_matching_methods.R``, MatchIt 4.5.1 from Debian) is run as a user runs it -- a
spec planned and fitted on lalonde with its row names as the unit labels -- and the Result's ``design`` section
must hold MatchIt's matched sample exactly (match matrix, matched ids, subclasses; weights to 1e-12), and
``summary(m)``, the propensity model, the distance summary and the effect (``lm(re78 ~ treat, weights)`` with
the vignette's variance) at the case's relative tolerance (1e-8).
"""

from __future__ import annotations

import json
import math

import pytest

from ._cases import assert_close, assert_named_close, case_data, case_ids, load_case, tolerance

import causalspec as cs

CASES = case_ids("matching_lalonde_", family="matching_methods")


def _spec(case: dict) -> cs.Spec:
    s = case["spec"]
    return cs.Spec(name=case["id"], treatment=s["treatment"], outcome=s["outcome"], estimand=s["estimand"],
                   dag={"edges": s["edges"]}, adjustment=s["adjustment"], design=s["design"],
                   sensitivity={"refutations": []})


@pytest.fixture(scope="module", params=CASES)
def fitted(request):
    case = load_case(request.param)
    data = case_data(case).set_index("id")  # R's row names: MatchIt labels units by them
    result = cs.run(_spec(case), data=data, refute=False)
    return case, json.loads(result.to_json())


def test_the_cases_cover_every_method_and_estimand():
    seen = {(load_case(c)["spec"]["design"]["matching"].get("method", "nearest"), load_case(c)["spec"]["estimand"])
            for c in CASES}
    assert {("nearest", "ATT"), ("nearest", "ATC"), ("exact", "ATT"), ("cem", "ATT"), ("cem", "ATE"), ("subclass", "ATT"),
            ("subclass", "ATE")} <= seen
    distances = {load_case(c)["spec"]["design"]["matching"].get("distance") for c in CASES}
    assert "mahalanobis" in distances


def test_matched_units_are_identical(fitted):
    case, out = fitted
    exp, got = case["expected"], out["design"]["matched_sample"]
    assert got["match_matrix"] == exp["match_matrix"]
    assert sorted(got["weights"], key=str.encode) == exp["matched_ids_sorted"]
    assert got["n_matched"] == {"treated": exp["n_matched_treated"], "control": exp["n_matched_control"]}
    assert got["subclass"] == exp["subclass"]
    assert_named_close(got["weights"], exp["weights"], rel=1e-12, abs_=1e-12, what="weights")


def test_sample_sizes_match_summary_nn(fitted):
    case, out = fitted
    rel, abs_ = tolerance(case)
    for row, vals in case["expected"]["nn"].items():
        got = {g: out["design"]["sample_sizes"][row][g] for g in vals}
        assert_named_close(got, vals, rel=rel, abs_=abs_, what=f"nn.{row}")


@pytest.mark.parametrize("when, key", [("before", "balance_all"), ("after", "balance_matched")])
def test_balance_matches_summary_matchit(fitted, when, key):
    case, out = fitted
    rel, abs_ = tolerance(case)
    names = {"Means Treated": "mean_treated", "Means Control": "mean_control", "Std. Mean Diff.": "smd",
             "Var. Ratio": "var_ratio", "eCDF Mean": "ecdf_mean", "eCDF Max": "ecdf_max",
             "Std. Pair Dist.": "std_pair_dist"}
    rows = {r["covariate"]: r for r in out["design"][f"balance_{when}"]}
    exp = case["expected"][key]
    assert list(rows) == list(exp)
    for cov, vals in exp.items():
        got = {col: rows[cov][names[col]] for col in vals}
        assert_named_close(got, vals, rel=rel, abs_=abs_, what=f"{key}.{cov}")


def test_propensity_model_and_distance_summary(fitted):
    case, out = fitted
    rel, abs_ = tolerance(case)
    design, exp = out["design"], case["expected"]
    if "ps_model_coef" in exp:
        assert design["propensity_used_for_matching"] is True
        assert_named_close(design["propensity_model"], exp["ps_model_coef"], rel=rel, abs_=abs_, what="ps coef")
        assert list(design["propensity_table"]) == list(exp["ps_model_table"])  # R's names, R's order
        for term, vals in exp["ps_model_table"].items():  # quasibinomial, as MatchIt's distance2glm fits it
            assert_named_close(design["propensity_table"][term], vals, rel=rel, abs_=abs_, what=f"ps table {term}")
    else:  # MatchIt fits no propensity model: causalspec's is a diagnostic only
        assert design["propensity_used_for_matching"] is False
    if "distance_summary" in exp:
        for group, vals in exp["distance_summary"].items():
            assert_named_close(design["distance_summary"][group], vals, rel=rel, abs_=abs_, what=f"distance {group}")
    else:
        assert "not on a scalar distance" in design["distance_summary"]["not_applicable"]
    if "q_cut" in exp:
        assert_close(design["matched_sample"]["q_cut"], exp["q_cut"], rel=rel, abs_=abs_, what="q.cut")


def test_effect_and_outcome_model_match_lm_with_the_vignettes_variance(fitted):
    case, out = fitted
    rel, abs_ = tolerance(case)
    (vname, exp), = case["expected"]["effect"].items()
    assert out["plan"]["vcov"]["kind"] == {"vcovCL_subclass": "CR1", "HC3": "HC3"}[vname]
    table = {r["term"]: r for r in out["design"]["outcome_model"]["coefficients"]}
    for col, key in (("estimate", "coef"), ("std_error", "se"), ("statistic", "tstat"), ("p_value", "pvalue")):
        assert_named_close({t: table[t][col] for t in exp[key]}, exp[key], rel=rel, abs_=abs_, what=f"{vname}.{key}")
    for term, (lo, hi) in exp["conf_int"].items():
        assert_close([table[term]["conf_low"], table[term]["conf_high"]], [lo, hi], rel=rel, abs_=abs_,
                     what=f"{vname}.conf_int.{term}")
    e = out["effect"]
    assert_close([e["estimate"], e["std_error"], e["conf_low"], e["conf_high"]],
                 [exp["coef"]["treat"], exp["se"]["treat"], *exp["conf_int"]["treat"]], rel=rel, abs_=abs_,
                 what="effect")
    assert out["nobs"] == exp["nobs"] and math.isclose(out["design"]["outcome_model"]["df_residual"], exp["df"])
