"""Experiment checks: prop.test variants, SRM, CUPED, delta-method ratio metrics, seeded randomisation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from causalspec.errors import DataError, SpecError
from causalspec.power._abtest import cuped, prop_test, randomize, ratio_metric, srm_check


def test_continuity_corrected_statistic_follows_yates():
    x, n = np.array([30.0, 45.0]), np.array([200.0, 210.0])
    res = prop_test(x, n, correct=True)
    p = x.sum() / n.sum()
    obs = np.column_stack([x, n - x])
    E = np.column_stack([n * p, n * (1 - p)])
    assert res.statistic == pytest.approx(np.sum((np.abs(obs - E) - 0.5) ** 2 / E), rel=1e-14)
    assert res.method == "2-sample test for equality of proportions with continuity correction"
    d = x[0] / n[0] - x[1] / n[1]
    width = stats.norm.ppf(0.975) * math.sqrt(np.sum((x / n) * (1 - x / n) / n)) + 0.5 * np.sum(1 / n)
    assert res.conf_int == pytest.approx((d - width, d + width), rel=1e-14)


def test_one_sided_p_values_halve_the_two_sided_one_in_the_observed_direction():
    x, n = [40, 60], [500, 500]
    two = prop_test(x, n, correct=False).p_value
    assert prop_test(x, n, correct=False, alternative="less").p_value == pytest.approx(two / 2, rel=1e-10)
    assert prop_test(x, n, correct=False, alternative="greater").p_value == pytest.approx(1 - two / 2, rel=1e-10)
    assert prop_test(x, n, correct=False, alternative="less").conf_int[0] == -1.0


def test_three_groups_give_a_two_df_test_without_interval():
    res = prop_test([10, 20, 30], [100, 100, 100])
    assert res.df == 2 and res.conf_int is None
    assert res.method == "3-sample test for equality of proportions without continuity correction"


def test_prop_test_refuses_impossible_counts():
    with pytest.raises(DataError, match="0 <= successes <= trials"):
        prop_test([5, 12], [10, 11])
    with pytest.raises(SpecError, match="one-sided alternatives need exactly two groups"):
        prop_test([1, 2, 3], [10, 10, 10], alternative="less")


def test_srm_flags_a_skewed_split_and_accepts_a_planned_unequal_one():
    assert srm_check([1900, 2194]).p_value < 1e-5
    assert srm_check([2000, 1000], [2 / 3, 1 / 3]).p_value == pytest.approx(1.0)
    with pytest.raises(SpecError, match="sum to 1"):
        srm_check([10, 10], [0.6, 0.6])
    assert srm_check([3, 2]).warnings == ("Chi-squared approximation may be incorrect",)


def test_cuped_is_unbiased_and_removes_the_explained_variance():
    rng = np.random.default_rng(42)
    n = 20000
    x = rng.normal(10, 2, n)
    t = rng.integers(0, 2, n)
    y = 3 + 0.9 * x + 0.5 * t + rng.normal(0, 1, n)
    res = cuped(y, x, t)
    assert abs(res.estimate - 0.5) < 4 * res.std_error
    assert res.theta == pytest.approx(0.9, abs=0.02)
    rho2 = np.corrcoef(y, x)[0, 1] ** 2
    assert res.variance_reduction == pytest.approx(rho2, abs=0.02)
    assert res.std_error < res.unadjusted_std_error
    with pytest.raises(DataError, match="covariate is constant"):
        cuped(y, np.ones(n), t)


def test_ratio_metric_delta_method_matches_monte_carlo():
    rng = np.random.default_rng(8)
    ests, ses = [], []
    for _ in range(300):
        n = 400
        t = np.repeat([0, 1], n // 2)
        sessions = rng.poisson(5, n) + 1
        clicks = rng.binomial(sessions, np.where(t == 1, 0.22, 0.20))
        r = ratio_metric(clicks, sessions, t)
        ests.append(r.estimate)
        ses.append(r.std_error)
    assert np.mean(ses) / np.std(ests, ddof=1) == pytest.approx(1.0, abs=0.12)
    assert abs(np.mean(ests) - 0.02) < 4 * np.std(ests, ddof=1) / math.sqrt(len(ests))


def test_randomisation_is_reproducible_from_its_recorded_seed():
    a = randomize(101, seed=2024)
    b = randomize(101, seed=2024)
    c = randomize(101, seed=2025)
    assert a.seed == 2024 and a.bit_generator == "PCG64"
    assert (a.treat == b.treat).all() and not (a.treat == c.treat).all()
    assert sorted(a.counts.values()) == [50, 51]


def test_stratified_and_cluster_randomisation_respect_their_structure():
    blocks = ["a"] * 10 + ["b"] * 7 + ["c"] * 4
    s = randomize(seed=1, method="stratified", blocks=blocks)
    for name in "abc":
        arms = s.treat[np.array(blocks) == name]
        assert abs(arms.sum() - len(arms) / 2) <= 0.5
    clusters = np.repeat(["k1", "k2", "k3", "k4", "k5", "k6"], 5)
    cl = randomize(seed=3, method="cluster", clusters=clusters)
    for k in np.unique(clusters):
        assert len(set(cl.treat[clusters == k])) == 1
    assert cl.treat.sum() == 15
    simple = randomize(1000, seed=9, method="simple", shares=(0.2, 0.8))
    assert 150 < simple.counts["control"] < 250


def test_randomisation_inputs_are_validated():
    with pytest.raises(SpecError, match="sum to 1"):
        randomize(10, seed=1, shares=(0.5, 0.6))
    with pytest.raises(SpecError, match="seed must be a non-negative integer"):
        randomize(10, seed=-1)
    with pytest.raises(SpecError, match="needs blocks"):
        randomize(seed=1, method="stratified")
