"""The teffects kernel (issue 13): RA, IPW, IPW-RA, AIPW and AIPW-WLS as stacked M-estimators.

Known truth on simulated data (fixed seeds), exact algebraic identities (saturated models make every method the
same estimator with the same sandwich), the weights' definitions, and the analytic Jacobian against a central
finite difference of the mean estimating functions.  Stata parity: tests/parity/test_teffects_parity.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from causalspec.errors import DataError, UnsupportedError
from causalspec.estimators._glm import BinomialLink, binomial_irls
from causalspec.estimators._linear import fit_ols
from causalspec.estimators._teffects import (
    _solve,
    _stack,
    _System,
    aipw,
    aipw_wls,
    ipw,
    ipw_weights,
    ipwra,
    propensity_mle,
    ra,
    stata_table,
    teffects,
    weights_fixed_se,
)
from causalspec.inference import vcov

COMBOS = [(m, e) for m in ("RA", "IPW", "IPW-RA", "AIPW") for e in ("ATE", "ATT", "ATC")] + [
    ("IPW", "ATO"), ("AIPW-WLS", "ATE")]


def _confounded(n=4000, seed=20240613):
    """Logit propensity and arm-specific linear outcomes in x, so every method is consistent; tau(x) = 2 + x1."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    X = np.column_stack([x, np.ones(n)])
    e = 1.0 / (1.0 + np.exp(-(-0.3 + 0.8 * x[:, 0] - 0.5 * x[:, 1])))
    t = (rng.uniform(size=n) < e).astype(float)
    tau = 2.0 + x[:, 0]
    y = 1.0 + x @ [1.0, 2.0] + t * tau + rng.normal(size=n)
    return y, t, X, tau


def _saturated(n=600, seed=7):
    """A three-level covariate with dummies in both models: outcome and propensity models are saturated."""
    rng = np.random.default_rng(seed)
    g = rng.integers(0, 3, n)
    X = np.column_stack([g == 1, g == 2, np.ones(n)]).astype(float)
    t = (rng.uniform(size=n) < np.array([0.3, 0.5, 0.7])[g]).astype(float)
    y = 1.0 + g + t * (1.0 + g) + rng.normal(size=n)
    return y, t, X


@pytest.mark.parametrize("method,estimand", [c for c in COMBOS if c[1] != "ATO"])
def test_each_method_recovers_the_known_effect(method, estimand):
    y, t, X, tau = _confounded()
    target = {"ATE": np.ones_like(t, dtype=bool), "ATT": t == 1, "ATC": t == 0}[estimand]
    truth = tau[target].mean()  # the sample effect in the target population
    fit = teffects(y, t, X, X, method=method, estimand=estimand, link="logit")
    assert abs(fit.estimate - truth) < 3.0 * fit.std_error
    assert 0.02 < fit.std_error < 0.2


def test_overlap_weights_recover_the_overlap_weighted_effect():
    y, t, X, tau = _confounded()
    fit = ipw(y, t, X, estimand="ATO", link="logit")
    e = 1.0 / (1.0 + np.exp(-(X @ [0.8, -0.5, -0.3])))
    truth = np.sum(e * (1 - e) * tau) / np.sum(e * (1 - e))
    assert abs(fit.estimate - truth) < 3.0 * fit.std_error


def test_randomized_design_gives_ra_ipw_and_aipw_within_sampling_error():
    rng = np.random.default_rng(11)
    n = 3000
    x = rng.normal(size=n)
    X = np.column_stack([x, np.ones(n)])
    t = (rng.uniform(size=n) < 0.4).astype(float)
    y = 1.0 + 1.5 * x + 2.0 * t + rng.normal(size=n)
    fits = {m: teffects(y, t, X, X, method=m, link="logit") for m in ("RA", "IPW", "AIPW", "IPW-RA")}
    se = fits["RA"].std_error
    for m, fit in fits.items():
        assert abs(fit.estimate - 2.0) < 3.0 * fit.std_error, m
        assert abs(fit.estimate - fits["RA"].estimate) < 0.5 * se, m
    # x predicts y, so adjusting beats the difference in means, and IPW with an estimated score is as efficient
    diff = weights_fixed_se(y, t, np.ones(n), "HC0")
    assert fits["RA"].std_error < 0.8 * diff.std_error
    assert abs(fits["IPW"].std_error / se - 1.0) < 0.05


@pytest.mark.parametrize("estimand", ["ATE", "ATT", "ATC"])
@pytest.mark.parametrize("link", ["logit", "probit", "cloglog"])
def test_saturated_models_make_every_method_the_same_estimator_and_variance(estimand, link):
    y, t, X = _saturated()
    methods = ["RA", "IPW", "IPW-RA", "AIPW"] + (["AIPW-WLS"] if estimand == "ATE" else [])
    fits = [teffects(y, t, X, X, method=m, estimand=estimand, link=link) for m in methods]
    ref = fits[0]
    for fit in fits[1:]:
        np.testing.assert_allclose([fit.estimate, fit.po_means[0], fit.po_means[1]],
                                   [ref.estimate, ref.po_means[0], ref.po_means[1]], rtol=1e-12, err_msg=fit.method)
        np.testing.assert_allclose([fit.std_error, fit.po_std_errors[0], fit.po_std_errors[1]],
                                   [ref.std_error, ref.po_std_errors[0], ref.po_std_errors[1]], rtol=1e-10,
                                   err_msg=fit.method)


@pytest.mark.parametrize("method,estimand", COMBOS)
@pytest.mark.parametrize("link", ["logit", "probit", "cloglog"])
def test_analytic_jacobian_equals_a_finite_difference(method, estimand, link):
    y, t, X, _ = _confounded(n=500, seed=3)
    s = _System(method, estimand, y, t, None if method == "IPW" else X, None if method == "RA" else X,
                BinomialLink(link), 0 if method == "IPW" else 3, 0 if method == "RA" else 3)
    theta = _solve(s, None if method == "RA" else propensity_mle(t, X, link).coef)
    psi, J = _stack(s, theta)
    assert np.max(np.abs(psi.mean(axis=0))) < 1e-12  # theta is the root
    num = np.empty_like(J)
    for j in range(len(theta)):
        h = 1e-6 * max(1.0, abs(theta[j]))
        up, down = theta.copy(), theta.copy()
        up[j] += h
        down[j] -= h
        num[:, j] = (_stack(s, up)[0].mean(axis=0) - _stack(s, down)[0].mean(axis=0)) / (2 * h)
    assert np.max(np.abs(num - J)) < 1e-8 * np.max(np.abs(J))


def test_sandwich_is_a_inverse_b_a_inverse_transposed_over_n_without_df_correction():
    y, t, X, _ = _confounded(n=800, seed=5)
    fit = aipw(y, t, X, X, link="probit")
    s = _System("AIPW", "ATE", y, t, X, X, BinomialLink("probit"), 3, 3)
    theta = _solve(s, fit.propensity.coef)
    psi, J = _stack(s, theta)
    Ainv = np.linalg.inv(J)
    V = Ainv @ (psi.T @ psi / len(y)) @ Ainv.T / len(y)
    assert np.isclose(fit.po_std_errors[0], np.sqrt(V[0, 0]), rtol=1e-10)
    assert np.isclose(fit.po_std_errors[1], np.sqrt(V[1, 1]), rtol=1e-10)
    assert np.isclose(fit.std_error, np.sqrt(V[0, 0] + V[1, 1] - 2 * V[0, 1]), rtol=1e-10)


def test_parameters_are_in_statas_order_and_po_mean_one_is_effect_plus_po_mean_zero():
    y, t, X, _ = _confounded(n=800, seed=5)
    fit = ipwra(y, t, X, X, estimand="ATT", outcome_names=["x1", "x2", "_cons"],
                propensity_names=["x1", "x2", "_cons"])
    assert fit.names == ("ATT", "POmean:0", "OME0:x1", "OME0:x2", "OME0:_cons", "OME1:x1", "OME1:x2",
                         "OME1:_cons", "TME1:x1", "TME1:x2", "TME1:_cons")
    assert fit.params[0] == pytest.approx(fit.po_means[1] - fit.po_means[0], rel=1e-12)
    c = np.zeros(len(fit.params))
    c[:2] = 1.0
    assert np.sqrt(c @ fit.vcov @ c) == pytest.approx(fit.po_std_errors[1], rel=1e-10)
    table = stata_table(fit)
    assert table["ATT"]["z"] == pytest.approx(fit.statistic) and table["ATT"]["pvalue"] == pytest.approx(fit.p_value)
    assert table["ATT"]["ll"] == pytest.approx(fit.estimate - 1.959963984540054 * fit.std_error)


def test_att_potential_outcome_of_the_treated_is_their_mean_outcome():
    y, t, X, _ = _confounded(n=800, seed=5)
    for fit in (ra(y, t, X, estimand="ATT"), ipw(y, t, X, estimand="ATT"), aipw(y, t, X, X, estimand="ATT")):
        assert fit.po_means[1] == pytest.approx(y[t == 1].mean(), rel=1e-12), fit.method


@pytest.mark.parametrize("estimand,w1,w0", [
    ("ATE", lambda e: 1 / e, lambda e: 1 / (1 - e)),
    ("ATT", lambda e: np.ones_like(e), lambda e: e / (1 - e)),
    ("ATC", lambda e: (1 - e) / e, lambda e: np.ones_like(e)),
    ("ATO", lambda e: 1 - e, lambda e: e),
])
def test_ipw_weights_are_the_documented_functions_of_the_score(estimand, w1, w0):
    y, t, X, _ = _confounded(n=800, seed=5)
    fit = ipw(y, t, X, estimand=estimand, link="logit")
    e = fit.propensity.score
    w = ipw_weights(t, e, estimand)
    ht = np.where(t == 1, w1(e), w0(e))
    np.testing.assert_allclose(w.unnormalized, ht, rtol=1e-14)
    for arm in (0, 1):
        sel = t == arm
        assert w.normalized[sel].sum() == pytest.approx(1.0, rel=1e-13)
        np.testing.assert_allclose(w.stabilized[sel], ht[sel] * sel.mean(), rtol=1e-14)
        # the normalised (Hajek) weighted mean is the IPW potential-outcome mean
        assert np.sum(w.normalized[sel] * y[sel]) == pytest.approx(fit.po_means[arm], rel=1e-12)
    np.testing.assert_allclose(fit.weights.normalized, w.normalized, rtol=1e-14)


def test_ate_stabilised_weights_are_robins_hernan_brumback():
    t = np.array([1.0, 1.0, 0.0, 0.0, 0.0])
    e = np.array([0.5, 0.8, 0.2, 0.5, 0.4])
    w = ipw_weights(t, e, "ATE")
    np.testing.assert_allclose(w.stabilized, [0.4 / 0.5, 0.4 / 0.8, 0.6 / 0.8, 0.6 / 0.5, 0.6 / 0.6])


@pytest.mark.parametrize("se_type", ["HC0", "HC1", "HC2", "HC3"])
def test_fixed_weights_se_is_weighted_least_squares_with_robust_variance(se_type):
    y, t, X, _ = _confounded(n=800, seed=5)
    fit = ipw(y, t, X, link="logit")
    w = fit.weights.unnormalized
    fixed = weights_fixed_se(y, t, w, se_type)
    ols = fit_ols(y, np.column_stack([np.ones(len(t)), t]), ["(Intercept)", "t"], weights=w)
    assert fixed.estimate == pytest.approx(fit.estimate, rel=1e-10)
    assert fixed.std_error == pytest.approx(float(vcov(ols, se_type).se[1]), rel=1e-12)
    # rescaling either arm's weights changes nothing (the model y ~ t is saturated in the arms)
    again = weights_fixed_se(y, t, np.where(t == 1, 3.0 * w, 0.5 * w), se_type)
    assert again.std_error == pytest.approx(fixed.std_error, rel=1e-10)
    if se_type == "HC0":  # sum over arms of sum w^2 r^2 / (sum w)^2
        var = sum(np.sum((w * (y - fit.po_means[a])) ** 2 * (t == a)) / np.sum(w * (t == a)) ** 2 for a in (0, 1))
        assert fixed.std_error == pytest.approx(np.sqrt(var), rel=1e-10)
        assert abs(fixed.std_error / fit.std_error - 1.0) > 1e-3  # the M-estimation SE accounts for e-hat


@pytest.mark.parametrize("link", ["logit", "probit", "cloglog"])
def test_propensity_mle_is_glm_solved_to_full_convergence(link):
    _, t, X, _ = _confounded(n=800, seed=5)
    ps = propensity_mle(t, X, link)
    assert ps.converged and ps.max_gradient < 1e-10
    # glm stops on the relative change of the deviance (1e-8), which leaves the score visibly non-zero for a
    # non-canonical link (Fisher scoring converges linearly): same maximum, glm's coefficients to ~1e-5
    glm = binomial_irls(t, X, link=link)
    np.testing.assert_allclose(ps.coef, glm.coef, rtol=1e-4)


def test_aipw_wls_for_att_is_refused():
    y, t, X, _ = _confounded(n=200, seed=1)
    with pytest.raises(UnsupportedError, match="estimand 'ATT' is not available for AIPW-WLS"):
        aipw_wls(y, t, X, X, estimand="ATT")
    with pytest.raises(UnsupportedError, match="not available for RA"):
        ra(y, t, X, estimand="ATO")


def test_a_treatment_not_coded_zero_one_is_refused():
    y, t, X, _ = _confounded(n=200, seed=1)
    with pytest.raises(DataError, match="t must be coded 0/1"):
        teffects(y, 2.0 * t, X, X, method="AIPW")
    with pytest.raises(DataError, match="Xo must be a finite"):
        teffects(y, t, X[:-1], X, method="RA")
