"""Sensitivity as part of every observational plan and result (issue 4): defaults, switches, errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import causalspec as cs
from causalspec.errors import AdjustmentError, SpecError
from causalspec.result import NotComputed
from causalspec.sensitivity import sensemakr_from_data

EDGES = ["z -> x", "z -> y", "w -> x", "w -> y", "x -> y"]


def _data(n=800, seed=3):
    rng = np.random.default_rng(seed)
    z, w = rng.normal(size=n), rng.normal(size=n)
    x = (0.8 * z + 0.3 * w + rng.normal(size=n) > 0).astype(float)
    y = 2.0 * x + 1.5 * z + 0.5 * w + rng.normal(size=n)
    return pd.DataFrame({"x": x, "y": y, "z": z, "w": w})


def _spec(**kw):
    base = dict(name="s", treatment="x", outcome="y", dag={"edges": EDGES})
    return cs.Spec(**{**base, **kw})


def test_observational_plans_turn_sensitivity_on_and_say_so():
    plan = cs.plan(_spec())
    assert plan.sensitivity.enabled
    assert "largest partial R²" in plan.sensitivity.benchmark_rule
    assert "Sensitivity on" in plan.explain() and "benchmark" in plan.explain()


def test_the_result_matches_sensemakr_on_the_same_model_and_uses_the_strongest_confounder():
    data = _data()
    result = cs.run(_spec(sensitivity={"refutations": []}), data=data)
    direct = sensemakr_from_data(data, "y", "x", ["w", "z"], benchmark=["z"], kd=[1, 2, 3])
    ovb = result.sensitivity.ovb
    assert ovb.rv_q == pytest.approx(direct.rv_q, rel=1e-10)
    assert [b.adjusted_estimate for b in ovb.bounds] == pytest.approx([b.adjusted_estimate for b in direct.bounds],
                                                                      rel=1e-10)
    assert result.sensitivity.benchmark.startswith("z")  # z drives x far more than w does
    data_json = json.loads(result.to_json())["sensitivity"]
    assert data_json["ovb"]["rv_q"] == pytest.approx(direct.rv_q, rel=1e-10)
    assert data_json["evalue"]["evalue_point"] > 1


def test_named_benchmark_is_used_and_must_be_in_the_model():
    result = cs.run(_spec(sensitivity={"benchmarks": ["w"], "kd": [1], "refutations": []}), data=_data())
    assert [b.label for b in result.sensitivity.ovb.bounds] == ["1x w"]
    with pytest.raises(AdjustmentError, match=r"sensitivity.benchmarks\[0\]: 'v' is not in the model"):
        cs.plan(_spec(dag={"edges": EDGES + ["v -> x"]}, sensitivity={"benchmarks": ["v"]}))


def test_sensitivity_can_be_turned_off_and_experiments_explain_why_it_is_off():
    result = cs.run(_spec(sensitivity={"enabled": False}), data=_data())
    assert isinstance(result.sensitivity, NotComputed) and "turned off" in result.sensitivity.reason
    exp = cs.plan(cs.Spec(name="e", treatment="x", outcome="y", design={"type": "experiment"}))
    assert not exp.sensitivity.enabled and "randomization" in exp.sensitivity.reason


def test_bad_sensitivity_settings_are_located():
    with pytest.raises(SpecError, match=r"sensitivity.q"):
        _spec(sensitivity={"q": 0})
    with pytest.raises(AdjustmentError, match=r"sensitivity.refutations: placebo_outcome is listed"):
        cs.plan(_spec(sensitivity={"refutations": ["placebo_outcome"]}))
    with pytest.raises(SpecError, match=r"sensitivity.refutations\[0\]"):
        _spec(sensitivity={"refutations": ["bogus"]})
