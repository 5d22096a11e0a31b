"""The teffects estimators through the spec (issue 13): a reviewer's spec -- the DAG, an explicit adjustment set,
the outcome model's extra term, the propensity model's terms and probit link -- reproduces Stata's ``teffects ra /
ipw / ipwra / aipw [, wnls]`` on Cattaneo's birth-weight data (the output statsmodels ships; see
tests/parity/test_teffects_parity.py for the kernel and tools/reference/build_teffects_cases.py)."""

from __future__ import annotations

import pytest

import causalspec as cs
from causalspec.errors import CausalSpecError

from ._cases import assert_close, case_data, load_case

CONFOUNDERS = ["mmarried_", "mage", "fbaby_"]
EDGES = ([f"{c} -> {v}" for c in CONFOUNDERS for v in ("mbsmoke_", "bweight")]
         + ["mbsmoke_ -> bweight", "prenatal1_ -> bweight", "medu -> mbsmoke_"])
# Stata: (bweight prenatal1 mmarried mage fbaby) (mbsmoke mmarried c.mage##c.mage fbaby medu, probit)
OUTCOME = {"terms": ["prenatal1_"]}
PROPENSITY = {"terms": ["mage + I(mage^2)", "medu"], "link": "probit"}
CASES = [("ra", "ra", "ATE"), ("ra", "ra", "ATET"), ("ipw", "ipw", "ATE"), ("ipw", "ipw", "ATET"),
         ("ipwra", "ipw_ra", "ATE"), ("ipwra", "ipw_ra", "ATET"), ("aipw", "aipw", "ATE"),
         ("aipw_wls", "aipw_wls", "ATE")]


def _spec(estimator, estimand, **extra):
    design = {"type": "observational", "estimator": estimator}
    if estimator != "ipw":
        design["outcome_model"] = OUTCOME
    if estimator != "ra":
        design["propensity_model"] = PROPENSITY
    return cs.Spec(name="cattaneo", treatment="mbsmoke_", outcome="bweight", dag={"edges": EDGES},
                   adjustment=CONFOUNDERS, estimand={"ATET": "ATT"}.get(estimand, estimand), design=design,
                   sensitivity={"refutations": []}, **extra)


@pytest.mark.parametrize("case_id,estimator,estimand", CASES)
def test_the_spec_reproduces_stata_teffects(case_id, estimator, estimand):
    case = load_case(f"teffects_cattaneo2_{case_id}")
    effect_row, pomean_row = case["expected"][estimand]["rows"][:2]
    result = cs.fit(cs.plan(_spec(estimator, estimand)), case_data(case))
    got = {r.term: r for r in result.coefficients}
    assert_close([result.effect.estimate, result.effect.std_error, got["POmean:0"].estimate,
                  got["POmean:0"].std_error],
                 [effect_row["b"], effect_row["se"], pomean_row["b"], pomean_row["se"]], rel=1e-8, abs_=0.0,
                 what=f"{case_id} {estimand}")
    assert result.nobs == case["data"]["rows"]
    te = result.extras["teffects"]
    assert te["method"] in ("RA", "IPW", "IPW-RA", "AIPW", "AIPW-WLS") and "Stata" in result.plan.vcov.r_equivalent
    if estimator != "ra":
        w = result.extras["ipw_weights"]
        assert len(w["normalized"]) == len(w["rows"]) == result.nobs


def test_ipw_weights_fixed_se_is_lm_robust_and_differs_from_m_estimation():
    case = load_case("teffects_cattaneo2_ipw")
    data = case_data(case)
    m_est = cs.fit(cs.plan(_spec("ipw", "ATE")), data)
    fixed = cs.fit(cs.plan(_spec("ipw", "ATE", inference={"vcov": "HC2"})), data)
    assert fixed.effect.estimate == pytest.approx(m_est.effect.estimate, rel=1e-12)
    assert fixed.effect.std_error != pytest.approx(m_est.effect.std_error, rel=1e-3)
    assert "lm_robust" in fixed.plan.vcov.r_equivalent and "held fixed" in fixed.plan.vcov.r_equivalent
    # the weights-fixed SE of the normalised weights: lm(y ~ t, weights = w) with HC2
    import numpy as np
    from causalspec.estimators._linear import fit_ols
    from causalspec.inference import vcov
    w = np.asarray(m_est.extras["ipw_weights"]["normalized"])
    t = data["mbsmoke_"].to_numpy(float)
    X = np.column_stack([np.ones(len(t)), t])
    lm = fit_ols(data["bweight"].to_numpy(float), X, ["(Intercept)", "t"], weights=w)
    assert fixed.effect.std_error == pytest.approx(float(np.sqrt(vcov(lm, "HC2").matrix[1, 1])), rel=1e-10)


@pytest.mark.parametrize("fields,loc", [
    ({"estimator": "aipw_wls", "estimand": "ATT"}, "estimand"),
    ({"estimator": "ra", "vcov": "HC1"}, "inference.vcov"),
    ({"estimator": "ra", "propensity": True}, "design.propensity_model"),
    ({"estimator": "ipw", "outcome": True}, "design.outcome_model"),
    ({"estimator": "aipw", "bad_term": "I(bweight^2)"}, "design.outcome_model.terms[0]"),
])
def test_options_the_estimator_does_not_read_are_refused_where_written(fields, loc):
    design = {"type": "observational", "estimator": fields["estimator"]}
    if fields.get("propensity"):
        design["propensity_model"] = PROPENSITY
    if fields.get("outcome"):
        design["outcome_model"] = OUTCOME
    if fields.get("bad_term"):
        design["outcome_model"] = {"terms": [fields["bad_term"]]}
    spec = cs.Spec(name="cattaneo", treatment="mbsmoke_", outcome="bweight", dag={"edges": EDGES},
                   adjustment=CONFOUNDERS, estimand=fields.get("estimand", "ATE"), design=design,
                   inference={"vcov": fields["vcov"]} if "vcov" in fields else {}, sensitivity={"refutations": []})
    with pytest.raises(CausalSpecError) as exc:
        cs.plan(spec)
    assert exc.value.problems[0].loc == loc
