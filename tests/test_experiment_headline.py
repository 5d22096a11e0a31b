"""Experiments headline the estimator the spec asked for (issue 18): CUPED when design.cuped is given, Lin with
covariates, else the difference in means; the summary shows the arms, the relative lift with its delta-method
interval, the proportion test of a 0/1 outcome and the sample-ratio check."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

import causalspec as cs
from causalspec.power import cuped as cuped_kernel
from causalspec.report import _text

SPECS = Path(__file__).resolve().parents[1] / "specs"


@pytest.fixture(scope="module")
def ab():
    return cs.datasets.ab_test()


def _spec(covariates=(), inference=None, **design):
    return cs.Spec(name="ab", treatment="variant", outcome="spend", covariates=list(covariates),
                   design={"type": "experiment", **design}, inference=inference or {})


def _run(spec, data):
    return cs.fit(cs.plan(spec), data)


def _welch(y, t):
    y1, y0 = y[t == 1], y[t == 0]
    v1, v0 = y1.var(ddof=1) / len(y1), y0.var(ddof=1) / len(y0)
    df = (v1 + v0) ** 2 / (v1**2 / (len(y1) - 1) + v0**2 / (len(y0) - 1))
    return y1.mean() - y0.mean(), np.sqrt(v1 + v0), df


def _delta_ratio(y, t, level=0.95):
    """Relative lift mean_t / mean_c - 1 by the textbook delta method for independent arms."""
    y1, y0 = y[t == 1], y[t == 0]
    m1, m0 = y1.mean(), y0.mean()
    var = y1.var(ddof=1) / len(y1) / m0**2 + m1**2 * y0.var(ddof=1) / len(y0) / m0**4
    r, z = (m1 - m0) / m0, stats.norm.ppf(0.5 + level / 2)
    return r, np.sqrt(var), r - z * np.sqrt(var), r + z * np.sqrt(var)


# ------------------------------------------------------------------ CUPED is the effect when it is asked for
def test_cuped_is_the_effect_and_equals_the_hand_computation(ab):
    result = _run(_spec(cuped="pre_spend"), ab)
    y, x, t = ab["spend"].to_numpy(float), ab["pre_spend"].to_numpy(float), ab["variant"].to_numpy(float)
    theta = np.cov(y, x, ddof=1)[0, 1] / np.var(x, ddof=1)
    est, se, df = _welch(y - theta * (x - x.mean()), t)
    q = stats.t.ppf(0.975, df)
    e = result.effect
    assert [e.estimate, e.std_error, e.df, e.conf_low, e.conf_high] == pytest.approx(
        [est, se, df, est - q * se, est + q * se], rel=1e-10)
    assert e.estimate == pytest.approx(2.016565, abs=1e-6)  # the number issue 18 found hidden in a note
    raw, raw_se, _ = _welch(y, t)
    assert [result.naive.estimate, result.naive.std_error] == pytest.approx([raw, raw_se], rel=1e-10)
    kernel = cuped_kernel(y, x, t)  # the Python API's CUPED gives the same numbers
    assert [kernel.theta, kernel.estimate, kernel.std_error] == pytest.approx(
        [result.extras["cuped"]["theta"], e.estimate, e.std_error], rel=1e-10)
    assert [r.estimate for r in result.coefficients] == [e.estimate]
    as_json = result.to_dict()
    assert as_json["effect"]["estimate"] == e.estimate and as_json["naive"]["estimate"] == result.naive.estimate
    assert as_json["design"]["effects"][0]["method"].startswith("CUPED on 'pre_spend'")
    assert [r["role"] for r in as_json["design"]["effects"]] == ["effect", "unadjusted", "welch_t_test", "cuped"]


def test_the_headline_and_the_table_name_cuped(ab):
    result = _run(_spec(cuped="pre_spend"), ab)
    line = _text.headline(result)
    assert line.startswith("Estimated effect of variant on spend (CUPED on pre_spend): +2.017 (95% CI 1.762 to "
                           "2.271). Unadjusted difference in means: +2.502; CUPED moved it by -0.4852")
    text = result.summary()
    assert "difference_in_means, CUPED on pre_spend (the effect)" in text
    table = text.split("Naive vs adjusted:")[1].split("\n\n")[0]
    assert "naive (unadjusted)    2.5017" in table and "CUPED (pre_spend)     2.0166" in table
    assert "CUPED on 'pre_spend': theta = 0.8065, variance reduction 74.9%" in text
    assert _text.answer_lines(result)[0] == line


def test_cuped_wins_over_lin_and_lin_is_shown_beside_it(ab):
    result = _run(_spec(covariates=["pre_spend", "country"], estimator="lin", cuped="pre_spend"), ab)
    lin = next(r for r in result.coefficients if r.term == "variant")
    assert result.effect.estimate == pytest.approx(result.extras["cuped"]["estimate"], rel=1e-12)
    assert lin.estimate == pytest.approx(1.978405, abs=1e-6) and result.effect.estimate != lin.estimate
    table = result.summary().split("Naive vs adjusted:")[1].split("\n\n")[0].splitlines()
    assert [row.split()[0] for row in table[2:]] == ["naive", "lin", "CUPED"]
    lin_row = next(r for r in result.extras["effects"] if r["role"] == "lin")
    assert lin_row["estimate"] == lin.estimate and lin_row["std_error"] == lin.std_error


def test_ab_test_spec_headlines_lin_as_it_asks(ab):
    spec = cs.load(SPECS / "ab_test.yaml")  # design.estimator: lin, covariates pre_spend and country, no cuped
    result = _run(spec, ab)
    lin = next(r for r in result.coefficients if r.term == "variant")
    assert result.effect == lin and "cuped" not in result.extras
    assert _text.headline(result).startswith(
        "Estimated effect of variant on spend (Lin (2013) covariate adjustment for pre_spend, country): +1.978 "
        "(95% CI 1.743 to 2.214). Unadjusted difference in means: +2.502")


def test_the_decision_reads_the_headlined_cuped_estimate(ab):
    result = _run(_spec(cuped="pre_spend", decision={"goal": "increase", "min_effect": 0.5}), ab)
    d = result.extras["decision"]
    assert d["basis"] == "CUPED on 'pre_spend'" and d["verdict"] == "ship"
    assert f"{result.effect.estimate:+.4g}" in d["reasons"][0]


# ------------------------------------------------------------------ arms and the relative lift
def test_arms_report_n_mean_and_the_neyman_se(ab):
    arms = _run(_spec(), ab).extras["arms"]
    y, t = ab["spend"].to_numpy(float), ab["variant"].to_numpy()
    for name, v in (("control", 0), ("treatment", 1)):
        a = y[t == v]
        assert arms[name]["n"] == len(a)
        assert [arms[name]["mean"], arms[name]["std_error"]] == pytest.approx(
            [a.mean(), a.std(ddof=1) / np.sqrt(len(a))], rel=1e-10)
    assert arms["binary"] is False


def test_relative_lift_of_the_difference_in_means_is_the_textbook_delta_method(ab):
    lift = _run(_spec(), ab).extras["relative_lift"]
    want = _delta_ratio(ab["spend"].to_numpy(float), ab["variant"].to_numpy())
    assert [lift["estimate"], lift["std_error"], lift["conf_low"], lift["conf_high"]] == pytest.approx(want, rel=1e-9)


def test_relative_lift_of_cuped_is_on_the_adjusted_scale(ab):
    result = _run(_spec(cuped="pre_spend"), ab)
    y, x, t = ab["spend"].to_numpy(float), ab["pre_spend"].to_numpy(float), ab["variant"].to_numpy()
    theta = np.cov(y, x, ddof=1)[0, 1] / np.var(x, ddof=1)
    want = _delta_ratio(y - theta * (x - x.mean()), t)
    lift = result.extras["relative_lift"]
    assert [lift["estimate"], lift["std_error"], lift["conf_low"], lift["conf_high"]] == pytest.approx(want, rel=1e-9)
    assert lift["effect"] == pytest.approx(result.effect.estimate, rel=1e-12)
    assert "Relative lift: +8.13% (95% CI +7.06% to +9.20%)" in result.summary()


def test_relative_lift_of_lin_uses_its_intercept_and_hc2_covariance(ab):
    result = _run(cs.load(SPECS / "ab_test.yaml"), ab)
    # Lin's design by hand: centred covariates (country dummies, BR the reference) and their interactions
    t = ab["variant"].to_numpy(float)
    Z = pd.get_dummies(ab[["pre_spend", "country"]], columns=["country"], drop_first=True, dtype=float)
    Zc = (Z - Z.mean()).to_numpy()
    X = np.column_stack([np.ones(len(t)), t, Zc, t[:, None] * Zc])
    fit = sm.OLS(ab["spend"].to_numpy(float), X).fit(cov_type="HC2")
    a, b = fit.params[:2]
    V = fit.cov_params()[:2, :2]
    g = np.array([-b / a**2, 1 / a])
    se = np.sqrt(g @ V @ g)
    lift = result.extras["relative_lift"]
    assert [lift["control_mean"], lift["estimate"], lift["std_error"]] == pytest.approx([a, b / a, se], rel=1e-8)
    assert lift["conf_low"] == pytest.approx(b / a - stats.norm.ppf(0.975) * se, rel=1e-8)


def test_clustered_arm_se_is_the_cluster_robust_se_of_each_mean():
    rng = np.random.default_rng(3)
    g = np.repeat(np.arange(40), 12)
    arm = rng.permutation(np.repeat([0, 1], 20))[g]
    y = 1.0 + 0.5 * arm + rng.normal(0, 1, 40)[g] + rng.normal(size=len(g))
    data = pd.DataFrame({"room": g, "variant": arm, "spend": y})
    result = _run(_spec(inference={"cluster": ["room"], "vcov": "stata"}), data)
    arms, n, G = result.extras["arms"], len(y), 40
    c = G / (G - 1) * (n - 1) / (n - 2)  # lm_robust(se_type = "stata") for y ~ 1 + d
    for name, v in (("control", 0), ("treatment", 1)):
        keep = arm == v
        e = pd.Series(y[keep] - y[keep].mean()).groupby(g[keep]).sum()
        assert arms[name]["std_error"] == pytest.approx(np.sqrt(c * (e**2).sum()) / keep.sum(), rel=1e-10)
        assert arms[name]["clusters"] == 20
    assert "clusters" in result.summary().split("Arms (spend)")[1].splitlines()[0]


# ------------------------------------------------------------------ a 0/1 outcome: rates and the proportion test
def test_a_binary_outcome_gets_rates_and_the_uncorrected_proportion_test():
    rng = np.random.default_rng(11)
    t = rng.integers(0, 2, 4000)
    converted = (rng.random(4000) < np.where(t == 1, 0.12, 0.10)).astype(float)
    data = pd.DataFrame({"variant": t, "spend": converted})
    result = _run(_spec(), data)
    p = result.extras["proportion_test"]
    table = [[((t == v) & (converted == 1)).sum(), ((t == v) & (converted == 0)).sum()] for v in (1, 0)]
    chi2, pval, _, _ = stats.chi2_contingency(table, correction=False)
    assert [p["chi_square"], p["p_value"]] == pytest.approx([chi2, pval], rel=1e-10)
    assert "correct = FALSE" in p["r_equivalent"]
    arms = result.extras["arms"]
    assert arms["binary"] is True
    assert arms["treatment"]["mean"] == pytest.approx(converted[t == 1].mean(), rel=1e-12)
    text = result.summary()
    assert "Arms (spend)      n     rate  std. error" in text
    assert f"Proportion test (stats::prop.test, correct = FALSE): X-squared = {chi2:.4g} on 1 df" in text
    assert [r["role"] for r in result.extras["effects"]] == ["effect", "welch_t_test", "proportion_test"]


# ------------------------------------------------------------------ the sample-ratio check and the verdict
def test_the_sample_ratio_check_is_in_the_summary_and_the_verdict(ab):
    result = _run(_spec(), ab)
    n1, n0 = int(ab["variant"].sum()), int((ab["variant"] == 0).sum())
    chi2, p = stats.chisquare([n0, n1])
    text = result.summary()
    assert f"Sample ratio: {n1:,} treated and {n0:,} control units (50.0% treated, 50% planned): chi-square " \
           f"{chi2:.4g} on 1 df, p = {p:.3g}; as planned" in text.replace("\n  ", " ")
    assert _text.verdict(result) == f"Verdict: holds up: sample ratio as planned (p = {p:.2g})."


def test_a_broken_sample_ratio_makes_the_verdict_say_so():
    result = _run(cs.load(SPECS / "ab_test_srm.yaml"), cs.datasets.ab_test_srm())
    v = _text.verdict(result)
    assert v.startswith("Verdict: BROKEN TEST: sample ratio MISMATCH (p = 8.6e-15)") and "NO DECISION" in v
    assert "MISMATCH (alpha 0.001)" in result.summary().replace("\n  ", " ")


def test_other_designs_keep_their_headline():
    result = cs.run(SPECS / "feature_adoption.yaml", refute=False)
    line = _text.headline(result)
    assert line.startswith("Estimated effect of feature_usage on spend: ") and " Naive contrast: " in line
    assert "Arms (" not in result.summary() and "Relative lift" not in result.summary()
