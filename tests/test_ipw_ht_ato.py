"""IPW with Horvitz-Thompson weights and the ATO with overlap weights (issue 13).

* Through the spec against R (case ``ipw_lalonde_ht_ato``, ``tools/rparity/build_ipw_ht_ato.R``): estimates,
  potential-outcome means, M-estimation SEs (R: a Richardson numerical Jacobian of the stacked equations) and the
  weights-fixed lm_robust SEs for HC0-HC3.
* The analytic Jacobians of the stacked equations against central differences, for each link.
* The spec's choices change the answer (weights: normalized vs horvitz_thompson) and are refused where not read.
"""

from __future__ import annotations

import numpy as np
import pytest

import causalspec as cs
from causalspec.errors import CausalSpecError
from causalspec.estimators._glm import BinomialLink
from causalspec.estimators._ipw_ht import ht_stack, ipw_horvitz_thompson
from causalspec.estimators._teffects import _stack, _System, teffects

from parity._cases import assert_close, case_data, load_case

CASE = load_case("ipw_lalonde_ht_ato")
ADJ = CASE["spec"]["adjustment"]


def _spec(estimand="ATE", design=None, inference=None):
    return cs.Spec(name="lalonde_ipw", treatment="treat", outcome="re78",
                   dag={"edges": [f"{c} -> {v}" for c in ADJ for v in ("treat", "re78")] + ["treat -> re78"]},
                   adjustment=ADJ, estimand=estimand,
                   design={"type": "observational", "estimator": "ipw", **(design or {})},
                   inference=inference or {}, sensitivity={"refutations": []})


def _fit(spec):
    frame = case_data(CASE).set_index("id")
    return cs.fit(cs.plan(spec), frame)


def _po(result, term):
    return next(c for c in result.coefficients if c.term == term)


@pytest.mark.parametrize("key", sorted(CASE["expected"]))
def test_ht_and_ato_equal_r(key):
    want = CASE["expected"][key]
    design = {"ipw": {"weights": want["weights"]}}
    r = _fit(_spec(want["estimand"], design))
    assert_close(r.effect.estimate, want["estimate"], rel=1e-8, what=f"{key} estimate")
    assert_close(r.effect.std_error, want["std_error"], rel=1e-9, what=f"{key} M-estimation SE")
    for arm in ("0", "1"):
        row = _po(r, f"POmean:{arm}")
        assert_close(row.estimate, want["po_means"][arm], rel=1e-8, what=f"{key} POmean:{arm}")
        assert_close(row.std_error, want["po_std_errors"][arm], rel=1e-9, what=f"{key} POmean:{arm} SE")
    assert r.extras["teffects"]["weights"] == want["weights"]
    for se_type, se in want.get("weights_fixed", {}).items():
        fixed = _fit(_spec(want["estimand"], design, {"vcov": se_type}))
        assert_close(fixed.effect.estimate, want["estimate"], rel=1e-8, what=f"{key} {se_type} estimate")
        assert_close(fixed.effect.std_error, se, rel=1e-8, what=f"{key} weights-fixed {se_type}")
        for arm in ("0", "1"):  # the potential-outcome means under the same weights-fixed rule
            row = _po(fixed, f"POmean:{arm}")
            assert_close(row.estimate, want["po_means"][arm], rel=1e-8, what=f"{key} {se_type} POmean:{arm}")
            assert_close(row.std_error, want["weights_fixed_po"][se_type][arm], rel=1e-8,
                         what=f"{key} weights-fixed {se_type} POmean:{arm} SE")


def test_ato_overlap_weights_are_one_minus_e_and_e():
    r = _fit(_spec("ATO"))
    w = np.asarray(r.extras["ipw_weights"]["unnormalized"])
    assert_close(w[:10], CASE["expected"]["ato"]["overlap_weights_head"], rel=1e-9)
    assert_close(r.effect.estimate, CASE["expected"]["ato"]["lm_robust_estimate"], rel=1e-8)


def test_horvitz_thompson_changes_the_answer_and_differs_from_hajek():
    hajek = _fit(_spec("ATE"))
    ht = _fit(_spec("ATE", {"ipw": {"weights": "horvitz_thompson"}}))
    assert abs(hajek.effect.estimate - ht.effect.estimate) > 100  # lalonde: -450 (HT) vs Hajek's estimate
    assert "horvitz_thompson" in str(cs.plan(_spec("ATE", {"ipw": {"weights": "horvitz_thompson"}})).settings.to_dict())


@pytest.mark.parametrize("where,spec", [
    ("design.ipw.weights", lambda: _spec("ATO", {"ipw": {"weights": "horvitz_thompson"}})),
    ("inference.vcov", lambda: _spec("ATT", {"ipw": {"weights": "horvitz_thompson"}}, {"vcov": "HC1"})),
    ("design.ipw", lambda: cs.Spec.model_validate({**_spec().model_dump(exclude_none=True), "design": {
        "type": "observational", "estimator": "aipw", "ipw": {}}})),
    ("design.ps_regression", lambda: _spec("ATE", {"ps_regression": {}})),
    ("estimand", lambda: _spec("ATO", {"estimator": "aipw"})),
    ("estimand", lambda: _spec("ATO", {"estimator": "auto"})),
])
def test_refused_where_written(where, spec):
    with pytest.raises(CausalSpecError) as info:
        cs.plan(spec())
    assert info.value.problems[0].loc == where


# ------------------------------------------------------------------ analytic Jacobians against differences
def _data(seed=5, n=600):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    Xp = np.column_stack([np.ones(n), x])
    t = (rng.uniform(size=n) < 1 / (1 + np.exp(-(0.3 + x @ [0.8, -0.5])))).astype(float)
    y = 1 + 2 * t + x @ [1.0, 0.5] + rng.normal(size=n)
    return y, t, Xp


def _numeric_jacobian(f, theta, h=1e-6):
    cols = []
    for j in range(len(theta)):
        step = np.zeros_like(theta)
        step[j] = h * max(1.0, abs(theta[j]))
        cols.append((f(theta + step) - f(theta - step)) / (2 * step[j]))
    return np.column_stack(cols)


@pytest.mark.parametrize("link", ["logit", "probit", "cloglog"])
@pytest.mark.parametrize("estimand", ["ATE", "ATT", "ATC"])
def test_horvitz_thompson_jacobian_is_the_derivative_of_its_equations(link, estimand):
    y, t, Xp = _data()
    fit = ipw_horvitz_thompson(y, t, Xp, estimand=estimand, link=link)
    theta = np.concatenate([[fit.po_means[0], fit.po_means[1]], fit.propensity.coef])
    f = BinomialLink(link)
    psi, J = ht_stack(y, t, Xp, f, estimand, theta)
    assert np.abs(psi.mean(axis=0)).max() < 1e-9  # the root
    num = _numeric_jacobian(lambda th: ht_stack(y, t, Xp, f, estimand, th)[0].mean(axis=0), theta)
    assert np.allclose(J, num, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("link", ["logit", "probit", "cloglog"])
def test_ato_jacobian_is_the_derivative_of_its_equations(link):
    y, t, Xp = _data(7)
    fit = teffects(y, t, None, Xp, method="IPW", estimand="ATO", link=link)
    s = _System("IPW", "ATO", y, t, None, Xp, BinomialLink(link), 0, Xp.shape[1])
    theta = np.concatenate([[fit.po_means[0], fit.po_means[1]], fit.propensity.coef])
    psi, J = _stack(s, theta)
    assert np.abs(psi.mean(axis=0)).max() < 1e-9
    num = _numeric_jacobian(lambda th: _stack(s, th)[0].mean(axis=0), theta)
    assert np.allclose(J, num, rtol=1e-6, atol=1e-7)


def test_horvitz_thompson_is_unbiased_in_simulation():
    """Known truth: the ATE is 2; the HT estimate over 200 seeded draws centres on it, and its M-estimation SE
    matches the draws' spread."""
    est, ses = [], []
    for seed in range(200):
        y, t, Xp = _data(seed, 800)
        fit = ipw_horvitz_thompson(y, t, Xp)
        est.append(fit.estimate)
        ses.append(fit.std_error)
    est = np.asarray(est)
    assert abs(est.mean() - 2.0) < 3 * est.std(ddof=1) / np.sqrt(len(est))
    assert 0.85 < np.mean(ses) / est.std(ddof=1) < 1.15
