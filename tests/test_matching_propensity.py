"""Propensity model, overlap, Crump trimming, and the IPW / AIPW of the teffects kernel: known truth with fixed
seeds (the kernel's Stata parity is in tests/parity/test_teffects_parity.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from causalspec.errors import DataError, SpecError, UnsupportedError
from causalspec.estimators._propensity import crump_trim, fit_propensity, logistic_irls, overlap
from causalspec.estimators._teffects import aipw as _aipw, ipw as _ipw


def _x(d: pd.DataFrame) -> np.ndarray:
    return np.column_stack([np.ones(len(d)), d["x1"], d["x2"]])


def ipw(d: pd.DataFrame, estimand: str = "ATE"):
    return _ipw(d["y"].to_numpy(float), d["t"].to_numpy(float), _x(d), estimand=estimand, link="logit")


def aipw(d: pd.DataFrame):
    return _aipw(d["y"].to_numpy(float), d["t"].to_numpy(float), _x(d), _x(d), link="logit")


def _ci(fit):
    return fit.estimate - 1.959963984540054 * fit.std_error, fit.estimate + 1.959963984540054 * fit.std_error


def _simulate(n: int, rng: np.random.Generator, effect_modifier: float = 0.0) -> pd.DataFrame:
    x1 = rng.normal(size=n)
    x2 = rng.normal(size=n)
    e = 1.0 / (1.0 + np.exp(-(-0.3 + 0.8 * x1 - 0.5 * x2)))
    t = (rng.uniform(size=n) < e).astype(int)
    y = 1.0 + t * (2.0 + effect_modifier * x1) + x1 + 0.5 * x2 + rng.normal(size=n)
    return pd.DataFrame({"t": t, "x1": x1, "x2": x2, "y": y})


def test_logistic_irls_reaches_the_maximum_likelihood_score_equations():
    rng = np.random.default_rng(1)
    d = _simulate(800, rng)
    m = fit_propensity("t ~ x1 + x2", d)
    score = m.X.T @ (m.treat - m.score)
    assert m.converged
    assert np.max(np.abs(score)) < 1e-6
    assert m.terms == ("(Intercept)", "x1", "x2")


def test_collinear_propensity_column_is_dropped_with_a_note():
    rng = np.random.default_rng(2)
    d = _simulate(300, rng)
    d["x3"] = 2 * d["x1"]
    m = fit_propensity("t ~ x1 + x3 + x2", d)
    assert np.isnan(m.coef_dict()["x3"])
    assert any("x3" in note for note in m.notes)


def test_propensity_drops_and_counts_missing_rows_but_refuses_non_binary_treatment():
    d = pd.DataFrame({"t": [0, 1, 0, 1, 0, 1], "x": [1.0, np.nan, 2.0, 3.0, 2.5, 1.5]})
    m = fit_propensity("t ~ x", d)
    assert m.dropped == {"missing values in 'x'": 1}
    assert list(m.index) == [0, 2, 3, 4, 5]
    d2 = pd.DataFrame({"t": [0, 1, 2, 1], "x": [1.0, 2.0, 2.0, 3.0]})
    with pytest.raises(DataError, match="coded 0/1"):
        fit_propensity("t ~ x", d2)
    with pytest.raises(SpecError, match="has no '~'"):
        fit_propensity("t + x", d2)


def test_ipw_and_aipw_recover_a_known_ate():
    rng = np.random.default_rng(20240601)
    d = _simulate(4000, rng)
    for est in (ipw(d, "ATE"), aipw(d)):
        assert abs(est.estimate - 2.0) < 4 * est.std_error
        assert est.std_error < 0.15


def test_ipw_att_targets_the_effect_on_the_treated():
    rng = np.random.default_rng(7)
    d = _simulate(6000, rng, effect_modifier=1.0)
    sample_att = 2.0 + d.loc[d["t"] == 1, "x1"].mean()
    att = ipw(d, "ATT")
    ate = ipw(d, "ATE")
    assert abs(att.estimate - sample_att) < 4 * att.std_error
    assert abs(ate.estimate - 2.0) < 4 * ate.std_error
    assert abs(att.estimate - ate.estimate) > 0.2  # the two estimands really differ here


def test_ipw_variance_matches_monte_carlo_spread():
    rng = np.random.default_rng(99)
    est, se, covered = [], [], []
    for _ in range(120):
        d = _simulate(400, rng)
        r = ipw(d, "ATE")
        est.append(r.estimate)
        se.append(r.std_error)
        lo, hi = _ci(r)
        covered.append(lo <= 2.0 <= hi)
    ratio = np.mean(se) / np.std(est, ddof=1)
    assert abs(ratio - 1.0) < 0.2
    assert 0.88 <= np.mean(covered) <= 0.995
    assert abs(np.mean(est) - 2.0) < 3 * np.std(est, ddof=1) / np.sqrt(len(est))


def test_ipw_refuses_an_unknown_estimand_and_a_wrong_outcome_length():
    rng = np.random.default_rng(3)
    d = _simulate(200, rng)
    with pytest.raises(UnsupportedError, match="ATX"):
        ipw(d, "ATX")
    with pytest.raises(DataError, match="one value per unit"):
        _ipw(d["y"].to_numpy(float)[:10], d["t"].to_numpy(float), _x(d), link="logit")


def test_overlap_reports_group_summaries_and_support():
    score = np.array([0.1, 0.2, 0.3, 0.6, 0.4, 0.9])
    treat = np.array([0, 0, 0, 1, 1, 1])
    ov = overlap(score, treat)
    assert (ov.support_low, ov.support_high) == (0.4, 0.3)  # no common support at all
    assert ov.treated["Min."] == 0.4 and ov.control["Max."] == 0.3
    assert ov.outside_support == {"treated": 3, "control": 3}


def test_crump_rule_trims_extreme_scores_and_counts_them():
    rng = np.random.default_rng(11)
    e = np.concatenate([rng.uniform(0.2, 0.8, 900), rng.uniform(0.001, 0.02, 50), rng.uniform(0.98, 0.999, 50)])
    t = (rng.uniform(size=e.size) < e).astype(int)
    tr = crump_trim(e, t)
    assert tr.rule == "crump2009"
    assert 0.02 < tr.alpha < 0.2
    assert tr.keep.sum() == int(((e >= tr.alpha) & (e <= 1 - tr.alpha)).sum())
    assert tr.dropped["treated"] + tr.dropped["control"] == e.size - tr.keep.sum() >= 100
    # the threshold solves 1/(a(1-a)) = 2 E[g | g <= 1/(a(1-a))]
    g = 1 / (e * (1 - e))
    gamma = 1 / (tr.alpha * (1 - tr.alpha))
    assert gamma == pytest.approx(2 * g[g <= gamma].mean(), rel=1e-12)


def test_crump_rule_keeps_everyone_when_scores_are_moderate():
    e = np.linspace(0.3, 0.7, 50)
    tr = crump_trim(e, np.arange(50) % 2)
    assert tr.alpha == 0.0 and tr.keep.all()
    fixed = crump_trim(e, np.arange(50) % 2, alpha=0.35)
    assert fixed.rule == "fixed" and fixed.keep.sum() < 50
    with pytest.raises(SpecError, match=r"must lie in \[0, 0.5\)"):
        crump_trim(e, np.arange(50) % 2, alpha=0.6)


def test_logistic_irls_matches_a_textbook_fit():
    # Dobson (1990) style toy data: fitted by Newton's method independently below.
    X = np.column_stack([np.ones(8), np.arange(8.0)])
    y = np.array([0, 0, 1, 0, 1, 0, 1, 1.0])
    fit = logistic_irls(y, X, epsilon=1e-14)
    beta = np.zeros(2)
    for _ in range(50):
        p = 1 / (1 + np.exp(-X @ beta))
        beta = beta + np.linalg.solve((X * (p * (1 - p))[:, None]).T @ X, X.T @ (y - p))
    np.testing.assert_allclose(fit.coef, beta, rtol=1e-10)


def test_identical_covariate_rows_get_bit_identical_scores_wherever_they_sit():
    """MatchIt's ties (eCDF of the distance, nearest-neighbour order) need exact ties: identical inputs must give
    identical scores whatever BLAS kernel multiplies X by beta (issue 11)."""
    rng = np.random.default_rng(3)
    base = pd.DataFrame({"x1": rng.normal(size=40), "x2": rng.integers(0, 3, 40).astype(float)})
    rows = base.iloc[rng.integers(0, 40, 997)].reset_index(drop=True)  # many repeats, odd length: remainder blocks
    rows["t"] = (rows.x1 + rng.normal(size=len(rows)) > 0).astype(float)
    model = fit_propensity("t ~ x1 + x2 + I(x1 * x2)", rows)
    key = rows[["x1", "x2"]].apply(tuple, axis=1)
    for _, score in pd.Series(model.score).groupby(key.to_numpy()):
        assert score.nunique() == 1
    shuffled = rows.sample(frac=1.0, random_state=1)  # the same rows elsewhere in the matrix
    again = fit_propensity("t ~ x1 + x2 + I(x1 * x2)", shuffled)
    scores = pd.Series(again.score, index=shuffled.index).groupby(key.loc[shuffled.index].to_numpy())
    assert (scores.nunique() == 1).all()
