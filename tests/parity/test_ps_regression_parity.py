"""Propensity-score regression and stratification through the spec against R (issue 13).

Case ``ps_regression_nhefs`` (``tools/rparity/build_ps_regression_nhefs.R``): Hernan & Robins' chapter 15.3 on
NHEFS -- ``lm(wt82_71 ~ qsmk + ps)``, ``+ I(ps^2)`` and ``+ as.factor(ps.dec)`` after the book's logistic
propensity model, with the score fitted to all 1629 smokers (``score_rows: with_missing_outcome``, as the book) or
to the 1566 analysed, the within-stratum Welch contrasts, summary.lm's (iid) and lm_robust's HC2 SEs.
"""

from __future__ import annotations

import pytest

import causalspec as cs

from ._cases import assert_close, case_data, load_case

CASE = load_case("ps_regression_nhefs")
REL = CASE["tolerance"]["rel"]
CONFOUNDERS = ["sex", "race", "age", "education", "smokeintensity", "smokeyrs", "exercise", "active", "wt71"]
TERMS = ["age + I(age^2)", "factor(education)", "smokeintensity + I(smokeintensity^2)", "smokeyrs + I(smokeyrs^2)",
         "factor(exercise)", "factor(active)", "wt71 + I(wt71^2)"]


def _fit(variant: dict, vcov: str):
    ps = {"score": variant["score"], "score_rows": variant["score_rows"]}
    if variant["score"] == "strata":
        ps["strata"] = variant["strata"]
    spec = cs.Spec(name="nhefs_ps", treatment="qsmk", outcome="wt82_71",
                   dag={"edges": [f"{c} -> {v}" for c in CONFOUNDERS for v in ("qsmk", "wt82_71")]
                        + ["qsmk -> wt82_71"]},
                   adjustment=CONFOUNDERS, design={"type": "observational", "estimator": "ps_regression",
                                                   "propensity_model": {"terms": TERMS}, "ps_regression": ps},
                   inference={"vcov": vcov}, sensitivity={"refutations": []})
    return cs.fit(cs.plan(spec), case_data(CASE))


@pytest.mark.parametrize("name", sorted(CASE["expected"]))
@pytest.mark.parametrize("vcov", ["iid", "HC2"])
def test_ps_regression_equals_lm(name, vcov):
    want = CASE["expected"][name]
    r = _fit(want, vcov)
    suffix = vcov.lower()
    assert r.nobs == want["nobs"] and r.extras["ps_regression"]["n_scored"] == want["n_scored"]
    assert_close(r.effect.estimate, want["estimate"], rel=REL, what=f"{name} qsmk")
    assert_close(r.effect.std_error, want[f"std_error_{suffix}"], rel=REL, what=f"{name} SE {vcov}")
    assert_close(r.effect.conf_low, want[f"conf_low_{suffix}"], rel=REL, what=f"{name} CI low {vcov}")
    assert_close(r.effect.conf_high, want[f"conf_high_{suffix}"], rel=REL, what=f"{name} CI high {vcov}")
    coefs = r.extras["ps_regression"]["coefficients"]
    for term, value in want["coefficients"].items():
        ours = term.replace("as.factor(ps_stratum)", "factor(ps_stratum)")
        assert_close(coefs[ours]["estimate"], value, rel=REL, abs_=1e-9, what=f"{name} {term}")
    if want["score"] == "strata":
        assert_close(r.extras["ps_regression"]["breaks"], want["breaks"], rel=REL, what=f"{name} breaks")
        for ours, theirs in zip(r.extras["ps_regression"]["stratum_effects"], want["stratum_effects"], strict=True):
            for key in ("n_treated", "n_control"):
                assert ours[key] == theirs[key], (name, ours["stratum"], key)
            for key in ("mean_control", "mean_treated", "estimate", "std_error", "df", "conf_low", "conf_high"):
                assert_close(ours[key], theirs[key], rel=REL, abs_=1e-10, what=f"{name} stratum {theirs['stratum']} {key}")


def test_the_book_fits_the_score_to_everyone_and_that_changes_the_answer():
    """score_rows is read: the 1629-row score and the 1566-row score give R's two different numbers."""
    a = CASE["expected"]["linear_1629"]
    b = CASE["expected"]["linear_1566"]
    assert abs(a["estimate"] - b["estimate"]) > 0.05
    r = _fit(a, "iid")
    assert ("missing values in 'wt82_71' (kept for the propensity model, score_rows: with_missing_outcome)",
            63) in r.dropped
