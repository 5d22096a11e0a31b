"""The bundled simulated studies: deterministic, and the truth is recovered (the naive answer is not)."""

from __future__ import annotations

import hashlib

import pytest

import causalspec as cs
from causalspec.datasets import AB_TRUE_EFFECT, TRUE_EFFECT, ab_test, feature_adoption


def test_simulators_are_deterministic():
    a = feature_adoption().to_csv(index=False).encode()
    b = feature_adoption().to_csv(index=False).encode()
    assert hashlib.sha256(a).hexdigest() == hashlib.sha256(b).hexdigest()
    assert not feature_adoption(seed=1).equals(feature_adoption(seed=2))
    assert ab_test().equals(ab_test())


def test_feature_adoption_adjusted_ci_covers_truth_and_naive_does_not():
    result = cs.run("specs/feature_adoption.yaml")
    assert result.naive.estimate == pytest.approx(14.5, abs=0.25)
    assert not result.naive.conf_low <= TRUE_EFFECT <= result.naive.conf_high
    assert result.effect.conf_low <= TRUE_EFFECT <= result.effect.conf_high
    assert abs(result.effect.estimate - TRUE_EFFECT) < 0.5


def test_ab_test_lin_and_difference_in_means_cover_the_truth():
    lin = cs.run("specs/ab_test.yaml")
    assert lin.effect.conf_low <= AB_TRUE_EFFECT <= lin.effect.conf_high
    # Lin's covariate adjustment roughly halves the standard error of the difference in means here
    assert lin.effect.std_error < 0.6 * lin.naive.std_error


def test_truth_is_recovered_across_seeds():
    # a small coverage check: 20 independent replications, the adjusted 95% CI covers 10 in at least 16
    spec = cs.load("specs/feature_adoption.yaml")
    plan = cs.plan(spec)
    covered = naive_covered = 0
    for seed in range(20):
        r = cs.fit(plan, feature_adoption(n=2000, seed=1000 + seed))
        covered += r.effect.conf_low <= TRUE_EFFECT <= r.effect.conf_high
        naive_covered += r.naive.conf_low <= TRUE_EFFECT <= r.naive.conf_high
    assert covered >= 16
    assert naive_covered == 0
