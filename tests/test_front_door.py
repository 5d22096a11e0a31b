"""The front door (issue 11): a plan that finds a front-door set estimates by Pearl's formula, not 'NOT IDENTIFIED'."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import causalspec as cs
from causalspec.errors import UnsupportedError
from causalspec.planner import Estimator, Strategy

EDGES = ["x -> m", "m -> y", "x <-> y"]


def _simulate(n: int = 4000, seed: int = 11, a: float = 0.8, b: float = 1.5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    u = rng.normal(size=n)
    x = u + rng.normal(size=n)
    m = a * x + rng.normal(size=n)
    return pd.DataFrame({"x": x, "m": m, "y": b * m + 2 * u + rng.normal(size=n)})


def test_auto_plans_the_front_door_when_no_adjustment_set_exists():
    plan = cs.plan(cs.Spec(name="fd", treatment="x", outcome="y", dag={"edges": EDGES}))
    assert plan.identified and plan.strategy is Strategy.FRONT_DOOR and plan.estimator is Estimator.FRONT_DOOR
    assert plan.settings.mediators == ("m",)
    assert "front-door criterion" in plan.explain()


def test_the_front_door_estimate_is_the_product_of_the_two_slopes_and_recovers_the_truth():
    data = _simulate()
    result = cs.run(cs.Spec(name="fd", treatment="x", outcome="y", dag={"edges": EDGES}), data=data, refute=False)
    a = np.polyfit(data.x, data.m, 1)[0]
    X = np.column_stack([np.ones(len(data)), data.m, data.x])
    b = np.linalg.lstsq(X, data.y, rcond=None)[0][1]
    assert result.effect.estimate == pytest.approx(a * b, rel=1e-10)
    assert abs(result.effect.estimate - 1.2) < 3 * result.effect.std_error  # truth 0.8 * 1.5
    assert not result.naive.conf_low < 1.2 < result.naive.conf_high  # the confounded contrast misses it
    fd = result.extras["front_door"]
    assert fd["bootstrap_draws"] == 999 and fd["percentile_ci"][0] < result.effect.estimate < fd["percentile_ci"][1]
    again = cs.run(cs.Spec(name="fd", treatment="x", outcome="y", dag={"edges": EDGES}), data=data, refute=False)
    assert again.effect.std_error == result.effect.std_error  # the bootstrap is seeded from the spec


def test_front_door_coverage_over_replications():
    specs = cs.Spec(name="fd", treatment="x", outcome="y", dag={"edges": EDGES})
    plan = cs.plan(specs)
    hits = [cs.fit(plan, _simulate(600, seed)).effect for seed in range(40)]
    cover = np.mean([e.conf_low <= 1.2 <= e.conf_high for e in hits])
    assert 0.85 <= cover <= 1.0


def test_asking_for_the_front_door_without_a_front_door_set_is_refused():
    spec = cs.Spec(name="fd", treatment="x", outcome="y", dag={"edges": ["x -> y", "x <-> y"]},
                   design={"type": "observational", "estimator": "front_door"})
    with pytest.raises(UnsupportedError, match=r"design.estimator: the DAG has no front-door set"):
        cs.plan(spec)
