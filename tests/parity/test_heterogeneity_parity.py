"""Regression terms and effect modification in OLS regression adjustment, through the spec (issue 12): the
adjustment written as R terms (``age + I(age^2)``, ``factor(educ)``), the treatment interacted with centred
modifiers, the effect at modifier values and the joint test of the interactions, against R.
Reference: tools/rparity/build_heterogeneity.R (Debian's R 4.2.2, sandwich 3.0.2, estimatr 1.0.0, car 3.1.1)."""

from __future__ import annotations

import pytest

import causalspec as cs

from ._cases import assert_close, case_data, load_case

REL = 1e-8
CONFOUNDERS = ["age", "educ", "race", "married", "nodegree", "re74", "re75"]
INFERENCE = {"HC2": {"vcov": "HC2"}, "CR2": {"vcov": "CR2", "cluster": ["age"]}, "HC1_weighted": {"vcov": "HC1"}}
KEYS = ("estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high", "df")


def _spec(variant: str | None, **extra) -> cs.Spec:
    fields = dict(
        name="lalonde_heterogeneity", treatment="treat", outcome="re78",
        dag={"edges": [f"{c} -> treat" for c in CONFOUNDERS] + [f"{c} -> re78" for c in CONFOUNDERS]
             + ["treat -> re78"]},
        design={"type": "observational", "estimator": "ols",
                "outcome_model": {"terms": ["age + I(age^2)", "factor(educ)"]}},
        inference=INFERENCE.get(variant, {"vcov": "HC2"}), sensitivity={"refutations": []})
    if variant is not None:
        fields["heterogeneity"] = {"modifiers": ["race", "married", "re74"], "at": {"re74": [0, 5000]}}
    if variant == "HC1_weighted":
        fields["weights"] = "w"
    return cs.Spec(**{**fields, **extra})


def _data(case):
    frame = case_data(case)
    frame["w"] = 1 + frame["married"] + frame["age"] / 50  # the case's weights (model.weights)
    return frame


def test_outcome_model_terms_match_lm():
    case = load_case("ols_lalonde_heterogeneity")
    result = cs.fit(cs.plan(_spec(None)), _data(case))
    exp = case["expected"]["terms_only"]
    assert result.plan.formula == ("re78 ~ treat + married + nodegree + race + re74 + re75 + age + I(age^2) + "
                                   "factor(educ)")
    got = {r.term: r for r in result.coefficients}
    assert set(exp["coef"]) <= set(got)
    for term, value in exp["coef"].items():
        assert_close(got[term].estimate, value, rel=REL, abs_=0.0, what=term)
        assert_close(got[term].std_error, exp["se_HC2"][term], rel=REL, abs_=0.0, what=f"se {term}")
    assert result.nobs == case["expected"]["nobs"]


@pytest.mark.parametrize("variant", list(INFERENCE))
def test_effect_modification_matches_r(variant):
    case = load_case("ols_lalonde_heterogeneity")
    assert case["tolerance"]["rel"] == REL
    exp = case["expected"]["variants"][variant]
    result = cs.fit(cs.plan(_spec(variant)), _data(case))
    for key in KEYS:
        assert_close(getattr(result.effect, key), exp["effect"][key], rel=REL, abs_=0.0, what=f"effect {key}")
    het = result.extras["heterogeneity"]
    assert het["interaction_terms"] == list(exp["interactions"])
    for name, value in exp["centred_at"].items():
        assert_close(het["centred_at"][name], value, rel=1e-12, abs_=0.0, what=f"mean {name}")
    got = {r.term: r for r in result.coefficients}
    for term, row in exp["interactions"].items():
        for key in KEYS:
            assert_close(getattr(got[term], key), row[key], rel=REL, abs_=0.0, what=f"{term} {key}")
    for key in ("statistic", "df1", "df2", "p_value"):
        assert_close(het["interaction_test"][key], exp["interaction_test"][key], rel=REL, abs_=0.0, what=key)
    assert len(het["conditional_effects"]) == len(exp["conditional_effects"]) == 7
    for g, e in zip(het["conditional_effects"], exp["conditional_effects"]):
        assert (g["modifier"], str(g["at"])) == (e["modifier"], str(e["at"])) or float(g["at"]) == float(e["at"])
        for key in KEYS:
            assert_close(g[key], e[key], rel=REL, abs_=0.0, what=f"{e['modifier']} = {e['at']} {key}")
