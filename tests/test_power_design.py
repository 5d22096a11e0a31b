"""Power and sample size: round trips, monotonicity, cluster designs, R's root finder, errors."""

from __future__ import annotations

import math

import pytest

from causalspec.errors import EstimationError, SpecError
from causalspec.power._power import (
    cluster_design,
    cluster_power,
    design_effect,
    power_prop_test,
    power_t_test,
    uniroot,
)


def test_solved_sample_size_gives_back_the_target_power():
    res = power_t_test(delta=0.4, sd=1.3, power=0.85, tol=1e-12)
    assert power_t_test(n=res.n, delta=0.4, sd=1.3).power == pytest.approx(0.85, abs=1e-9)
    prop = power_prop_test(p1=0.3, p2=0.36, power=0.9, alternative="one.sided", tol=1e-12)
    assert power_prop_test(n=prop.n, p1=0.3, p2=0.36, alternative="one.sided").power == pytest.approx(0.9, abs=1e-9)


@pytest.mark.parametrize("solve", ["sd", "delta", "sig_level"])
def test_every_quantity_of_the_t_test_can_be_solved_for(solve):
    given = {"n": 40.0, "delta": 0.7, "sd": 1.1, "sig_level": 0.05}
    target = power_t_test(**given).power
    args = dict(given, power=target, tol=1e-12)
    args[solve] = None
    res = power_t_test(**args)
    assert res.solved_for == solve
    assert getattr(res, solve) == pytest.approx(given[solve], rel=1e-8)


def test_p1_and_sig_level_of_the_proportion_test_can_be_solved_for():
    target = power_prop_test(n=800, p1=0.25, p2=0.31).power
    assert power_prop_test(n=800, p2=0.31, power=target, tol=1e-12).p1 == pytest.approx(0.25, rel=1e-8)
    assert power_prop_test(n=800, p1=0.25, p2=0.31, power=target, sig_level=None, tol=1e-12).sig_level == \
        pytest.approx(0.05, rel=1e-7)


def test_power_grows_with_sample_size_and_one_sided_tests_are_stronger():
    powers = [power_t_test(n=n, delta=0.3).power for n in (10, 50, 200, 800)]
    assert powers == sorted(powers) and powers[-1] > 0.99
    assert power_t_test(n=50, delta=0.3, alternative="one.sided").power > powers[1]
    paired = power_t_test(n=30, delta=0.5, type="paired")
    assert paired.note.startswith("n is number of *pairs*") and paired.method == "Paired t test power calculation"


def test_design_effect_inflates_the_individual_sample_size():
    assert design_effect(20, 0.05) == pytest.approx(1.95)
    assert design_effect(20, 0.0) == 1.0
    base = power_t_test(delta=0.25, power=0.8, tol=1e-12)
    cd = cluster_design(base, cluster_size=25, icc=0.02)
    assert cd.design_effect == pytest.approx(1.48)
    assert cd.n_per_arm == pytest.approx(base.n * 1.48)
    assert cd.clusters_per_arm == math.ceil(base.n * 1.48 / 25)
    with pytest.raises(SpecError, match="cluster_size"):
        design_effect(0, 0.1)
    with pytest.raises(SpecError, match="icc = 1.5 is not a probability"):
        design_effect(10, 1.5)


def test_cluster_power_uses_the_effective_sample_size():
    res = cluster_power(clusters_per_arm=20, cluster_size=10, icc=0.1, delta=0.3)
    assert res.n == pytest.approx(200 / 1.9)
    assert res.power == pytest.approx(power_t_test(n=200 / 1.9, delta=0.3).power)
    assert cluster_power(20, 10, 0.0, 0.3).power > res.power
    with pytest.raises(SpecError, match="at least 2 clusters"):
        cluster_power(1, 10, 0.1, 0.3)


def test_uniroot_finds_roots_and_extends_the_interval_like_r():
    r = uniroot(lambda x: x**3 - 2.0, 0.0, 2.0, tol=1e-14)
    assert r.root == pytest.approx(2 ** (1 / 3), rel=1e-13)
    ext = uniroot(lambda x: x - 50.0, 1.0, 2.0, extend_int="upX", tol=1e-12)
    assert ext.root == pytest.approx(50.0) and ext.init_iterations > 0
    with pytest.raises(EstimationError, match="no solution"):
        uniroot(lambda x: x * x + 1.0, -1.0, 1.0)


def test_power_inputs_are_validated():
    with pytest.raises(SpecError, match="exactly one of"):
        power_t_test(delta=0.5)
    with pytest.raises(SpecError, match="sig_level = 1.2 is not a probability"):
        power_t_test(n=10, delta=0.5, sig_level=1.2)
    with pytest.raises(SpecError, match="unknown type"):
        power_t_test(n=10, delta=0.5, type="three.sample")  # type: ignore[arg-type]
    with pytest.raises(EstimationError):
        power_prop_test(n=10, p1=0.5, power=0.999999, tol=1e-12)
