"""The propensity model with every link of glm's binomial family (issue 13): coefficients, standard errors,
deviance and iterations equal glm(family = binomial(link)); the IPW variance's Jacobian (the observed information
for a non-canonical link) equals a numerical derivative of the stacked estimating equations.
Reference: tools/rparity/build_glm_links.R (Debian's R 4.2.2)."""

from __future__ import annotations

import numpy as np
import pytest

import causalspec as cs
from causalspec.estimators._propensity import BinomialLink, fit_propensity, ipw

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


def _stacked_mean(theta, X, t, y, link, estimand):
    """The mean of the IPW estimating functions at theta = (beta, mu1, mu0)."""
    k = X.shape[1]
    beta, mu1, mu0 = theta[:k], theta[k], theta[k + 1]
    f = BinomialLink(link)
    eta = X @ beta
    e, d = f.linkinv(eta), f.mu_eta(eta)
    w1, w0 = (t / e, (1 - t) / (1 - e)) if estimand == "ATE" else (t, (1 - t) * e / (1 - e))
    return np.concatenate([X.T @ ((t - e) * d / (e * (1 - e))), [np.sum(w1 * (y - mu1)), np.sum(w0 * (y - mu0))]]) / len(t)


@pytest.mark.parametrize("link", ["probit", "cloglog", "logit"])
@pytest.mark.parametrize("estimand", ["ATE", "ATT"])
def test_ipw_m_estimation_jacobian_is_the_derivative_of_the_estimating_equations(link, estimand):
    case = load_case("glm_lalonde_links")
    frame = case_data(case)
    model = fit_propensity(FORMULA, frame, link=link)
    y = frame["re78"].to_numpy(float) / 1000
    res = ipw(y, model, estimand)
    X = model.X[:, list(model.kept)]
    t = model.treat.astype(float)
    theta = np.concatenate([model.coef[list(model.kept)], [res.mu1, res.mu0]])
    scale = np.concatenate([np.mean(np.abs(X), axis=0), [1.0, 1.0]])
    assert np.max(np.abs(_stacked_mean(theta, X, t, y, link, estimand)) / scale) < 1e-5  # a root, to glm's deviance-based stopping rule
    n, p = len(t), len(theta)
    J = np.empty((p, p))
    for j in range(p):
        h = 1e-6 * max(abs(theta[j]), 1e-3)
        up, down = theta.copy(), theta.copy()
        up[j] += h
        down[j] -= h
        J[:, j] = (_stacked_mean(up, X, t, y, link, estimand) - _stacked_mean(down, X, t, y, link, estimand)) / (2 * h)
    k = X.shape[1]
    e = model.score
    eta = model.linear_predictor
    f = BinomialLink(link)
    d = f.mu_eta(eta)
    w1, w0 = (t / e, (1 - t) / (1 - e)) if estimand == "ATE" else (t, (1 - t) * e / (1 - e))
    psi = np.column_stack([X * ((t - e) * d / (e * (1 - e)))[:, None], w1 * (y - res.mu1), w0 * (y - res.mu0)])
    A = -J
    V = np.linalg.solve(A, np.linalg.solve(A, psi.T @ psi / n).T).T / n
    c = np.zeros(p)
    c[k], c[k + 1] = 1.0, -1.0
    assert res.std_error == pytest.approx(float(np.sqrt(c @ V @ c)), rel=1e-5)


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
    with pytest.raises(cs.errors.CausalSpecError) as exc:
        cs.plan(cs.Spec(**base, estimand="ATT", design={**design, "estimator": "matching"}))
    assert exc.value.problems[0].loc == "design.propensity_model.link"
    with pytest.raises(cs.errors.CausalSpecError) as exc:
        cs.plan(cs.Spec(**base, design={**design, "propensity_model": {"terms": ["I(re78^2)"]}}))
    assert exc.value.problems[0].loc == "design.propensity_model.terms[0]"
