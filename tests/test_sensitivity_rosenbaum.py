"""Rosenbaum bounds: the published lead example, identities at Gamma = 1, and a known-truth simulation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from causalspec.errors import DataError, SpecError
from causalspec.sensitivity import rosenbaum_gamma, rosenbaum_sign, rosenbaum_wilcoxon

# Morton et al. (1982) blood lead of exposed children and matched controls, as analysed in
# Rosenbaum (2002, Observational Studies, Section 4.3.3) and rbounds' psens example.
LEAD_EXPOSED = [38, 23, 41, 18, 37, 36, 23, 62, 31, 34, 24, 14, 21, 17, 16, 20, 15, 10, 45, 39, 22, 35, 49, 48,
                44, 35, 43, 39, 34, 13, 73, 25, 27]
LEAD_CONTROL = [16, 18, 18, 24, 19, 11, 10, 15, 16, 18, 18, 13, 19, 10, 16, 16, 24, 13, 9, 14, 21, 19, 7, 18,
                19, 12, 11, 22, 25, 16, 13, 11, 13]


def test_lead_example_signed_rank_statistic_is_the_published_499():
    res = rosenbaum_wilcoxon(LEAD_EXPOSED, LEAD_CONTROL, gamma=1)
    assert res.statistic == 499.0 and res.n_pairs == 32  # one pair has a zero difference


def test_gamma_one_bounds_equal_the_usual_wilcoxon_test():
    d = np.subtract(LEAD_EXPOSED, LEAD_CONTROL)
    res = rosenbaum_wilcoxon(d, gamma=1)
    p = stats.wilcoxon(d, alternative="greater", correction=False, method="approx", zero_method="wilcox").pvalue
    assert res.p_upper[0] == pytest.approx(p, rel=1e-10) and res.p_lower[0] == pytest.approx(p, rel=1e-10)


def test_upper_bound_grows_and_lower_bound_shrinks_with_gamma():
    res = rosenbaum_wilcoxon(LEAD_EXPOSED, LEAD_CONTROL, gamma=[1, 2, 3, 4, 5])
    assert np.all(np.diff(res.p_upper) > 0) and np.all(np.diff(res.p_lower) <= 0)


def test_critical_gamma_is_where_the_upper_bound_reaches_alpha():
    fn = lambda g: rosenbaum_wilcoxon(LEAD_EXPOSED, LEAD_CONTROL, gamma=g)  # noqa: E731
    g = rosenbaum_gamma(fn, alpha=0.05)
    assert 4.0 < g < 5.0  # the lead study is insensitive to biases below Gamma = 4
    assert fn(g).p_upper[0] == pytest.approx(0.05, rel=1e-8)


def test_sign_test_at_gamma_one_is_the_exact_binomial_test():
    res = rosenbaum_sign(12, 3, gamma=1)
    assert res.p_upper[0] == pytest.approx(stats.binomtest(12, 15, 0.5, alternative="greater").pvalue, rel=1e-12)


def test_critical_gamma_of_the_sign_test():
    g = rosenbaum_gamma(lambda x: rosenbaum_sign(12, 3, gamma=x))
    assert stats.binom.sf(11, 15, g / (1 + g)) == pytest.approx(0.05, rel=1e-8)


def test_insignificant_study_has_critical_gamma_one():
    assert rosenbaum_gamma(lambda g: rosenbaum_sign(5, 4, gamma=g)) == 1.0


def test_bound_is_valid_under_hidden_bias_of_size_gamma():
    # Known truth: no treatment effect, but within each pair the unit with the larger hidden u
    # (which also raises the outcome) is treated with odds Gamma0 = 2.  The Gamma = 1 test
    # rejects far too often; the Gamma0 upper bound keeps the size at or below alpha.
    rng = np.random.default_rng(4)
    gamma0, reps, pairs = 2.0, 300, 60
    reject_naive = reject_bound = 0
    for _ in range(reps):
        u = rng.normal(size=(pairs, 2))
        y = 2.0 * u + rng.normal(size=(pairs, 2))
        hi = np.argmax(u, axis=1)
        treat_hi = rng.random(pairs) < gamma0 / (1 + gamma0)
        t_idx = np.where(treat_hi, hi, 1 - hi)
        rows = np.arange(pairs)
        res = rosenbaum_wilcoxon(y[rows, t_idx], y[rows, 1 - t_idx], gamma=[1.0, gamma0])
        reject_naive += res.p_upper[0] < 0.05
        reject_bound += res.p_upper[1] < 0.05
    assert reject_naive / reps > 0.3
    assert reject_bound / reps <= 0.05 + 2 * np.sqrt(0.05 * 0.95 / reps)


@pytest.mark.parametrize("call, exc, match", [
    (lambda: rosenbaum_wilcoxon([1, 2], [1, 2]), DataError, "every pair difference is zero"),
    (lambda: rosenbaum_wilcoxon([1, 2, 3], [1, 2]), DataError, "must be paired"),
    (lambda: rosenbaum_wilcoxon([1, 2], [0, 0], gamma=0.5), SpecError, "Gamma must be numbers >= 1"),
    (lambda: rosenbaum_sign(0, 0), DataError, "no discordant pairs"),
    (lambda: rosenbaum_sign(-1, 2), SpecError, "must be a count"),
])
def test_bad_inputs_are_refused(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
