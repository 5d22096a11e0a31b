"""The propensity model with every link of glm's binomial family (issue 13): coefficients, standard errors,
deviance and iterations equal glm(family = binomial(link)) (the weighting estimators' Jacobians, for every link, are
checked against finite differences in tests/test_teffects_kernel.py).
Reference: tools/rparity/build_glm_links.R (Debian's R 4.2.2)."""

from __future__ import annotations

import pytest

import causalspec as cs
from causalspec.estimators._propensity import fit_propensity

from ._cases import assert_close, case_data, load_case

FORMULA = "treat ~ married + nodegree + race + re74 + re75 + age + I(age^2) + educ"
CONFOUNDERS = ["age", "educ", "race", "married", "nodegree", "re74", "re75"]


@pytest.mark.parametrize("link", ["logit", "probit", "cloglog"])
def test_each_link_is_glm(link):
    case = load_case("glm_lalonde_links")
    exp = case["expected"][link]
    model = fit_propensity(FORMULA, case_data(case), link=link)
    table = model.coef_table()
    assert list(table) == list(exp["coef"])
    for term in exp["coef"]:
        assert_close(table[term]["estimate"], exp["coef"][term], rel=1e-8, abs_=0.0, what=f"{link} {term}")
        assert_close(table[term]["std_error"], exp["se"][term], rel=1e-8, abs_=0.0, what=f"{link} se {term}")
    assert_close(model.deviance, exp["deviance"], rel=1e-10, abs_=0.0, what="deviance")
    assert model.iterations == exp["iter"] and model.converged
    assert_close(model.score[:10], exp["fitted_head"], rel=1e-8, abs_=0.0, what="fitted")


def test_the_spec_chooses_terms_and_link_and_refuses_them_where_unread():
    case = load_case("glm_lalonde_links")
    edges = [f"{c} -> {v}" for c in CONFOUNDERS for v in ("treat", "re78")] + ["treat -> re78"]
    base = dict(name="ps", treatment="treat", outcome="re78", dag={"edges": edges}, sensitivity={"refutations": []})
    design = {"type": "observational", "estimator": "ipw",
              "propensity_model": {"terms": ["age + I(age^2)"], "link": "probit"}}
    plan = cs.plan(cs.Spec(**base, design=design))
    assert plan.settings.propensity.link == "probit"
    assert plan.settings.propensity.propensity_formula == (
        "treat ~ educ + married + nodegree + race + re74 + re75 + age + I(age^2)")
    result = cs.fit(plan, case_data(case))
    assert result.extras["propensity_model"]["I(age^2)"] != 0
    for est, field in (("ols", "design.propensity_model"),):
        with pytest.raises(cs.errors.CausalSpecError) as exc:
            cs.plan(cs.Spec(**base, design={**design, "estimator": est}))
        assert exc.value.problems[0].loc == field
    # matching reads the link where it matches on a score, and refuses it where it matches on covariates
    matching = cs.plan(cs.Spec(**base, estimand="ATT", design={**design, "estimator": "matching"}))
    assert matching.settings.propensity.link == "probit"
    with pytest.raises(cs.errors.CausalSpecError) as exc:
        cs.plan(cs.Spec(**base, estimand="ATT", design={**design, "estimator": "matching",
                                                          "matching": {"method": "cem"}}))
    assert exc.value.problems[0].loc == "design.propensity_model.link"
    with pytest.raises(cs.errors.CausalSpecError) as exc:
        cs.plan(cs.Spec(**base, design={**design, "propensity_model": {"terms": ["I(re78^2)"]}}))
    assert exc.value.problems[0].loc == "design.propensity_model.terms[0]"
