"""Effect modification and outcome-model terms in the observational design: what the planner refuses, where,
and what a fitted Result carries (the numbers themselves are checked against R in
tests/parity/test_heterogeneity_parity.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import causalspec as cs
from causalspec.errors import CausalSpecError

EDGES = ["z -> x", "z -> y", "x -> y", "x -> med", "med -> y", "a -> x", "a -> c", "b -> c", "b -> y", "p -> y"]


def _frame(n=400, seed=3):
    rng = np.random.default_rng(seed)
    z, a, b, p = rng.normal(size=(4, n))
    g = rng.choice(["north", "south", "west"], size=n)
    x = (z + a + rng.normal(size=n) > 0).astype(float)
    med = x + rng.normal(size=n)
    c = a + b + rng.normal(size=n)
    # the effect of x is 1 in the north, 3 in the south, 2 in the west, plus 0.5 per unit of p
    effect = np.select([g == "north", g == "south"], [1.0, 3.0], 2.0) + 0.5 * p
    y = z + b + p + effect * x + med + rng.normal(size=n)
    return pd.DataFrame(dict(x=x, y=y, z=z, a=a, b=b, c=c, p=p, med=med, g=g))


def _spec(**fields):
    base = dict(name="het", treatment="x", outcome="y", dag={"edges": EDGES + ["g -> y"]},
                design={"type": "observational", "estimator": "ols"}, sensitivity={"refutations": []})
    return cs.Spec(**{**base, **fields})


def _problem(exc):
    return exc.value.problems[0]


def test_a_mediator_modifier_is_refused_with_the_path():
    with pytest.raises(CausalSpecError) as exc:
        cs.plan(_spec(heterogeneity={"modifiers": ["p", "med"]}))
    p = _problem(exc)
    assert p.loc == "heterogeneity.modifiers[1]" and "x -> med -> y" in p.message


def test_a_collider_modifier_is_refused_with_the_path_it_opens():
    with pytest.raises(CausalSpecError) as exc:  # b unmeasured: nothing blocks x <- a -> c <- b -> y once c is in
        cs.plan(_spec(heterogeneity={"modifiers": ["c"]}, dag={"edges": EDGES + ["g -> y"], "latent": ["b"]}))
    p = _problem(exc)
    assert p.loc.startswith("heterogeneity.modifiers") and "c" in p.message and p.code == "collider_adjusted"


def test_a_modifier_outside_the_adjustment_set_is_added_when_that_is_safe():
    plan = cs.plan(_spec(heterogeneity={"modifiers": ["a"]}))  # a cause of the treatment only: not in the O-set
    assert "a" in plan.formula.split("~")[1].split(" + ")
    assert any("'a' added to the outcome model" in n for n in plan.notes)


def test_the_modifiers_change_the_answer_and_recover_the_simulated_effects():
    frame = _frame(4000)
    plain = cs.fit(cs.plan(_spec()), frame)
    result = cs.fit(cs.plan(_spec(heterogeneity={"modifiers": ["g", "p"], "at": {"p": [0, 1]}})), frame)
    assert "heterogeneity" not in plain.extras
    effects = {(c["modifier"], c["at"]): c for c in result.extras["heterogeneity"]["conditional_effects"]}
    assert set(effects) == {("g", "north"), ("g", "south"), ("g", "west"), ("p", 0.0), ("p", 1.0)}
    # the truth (1, 3, 2 by region, +0.5 per unit of p, +1 through the mediator) lies inside the intervals
    for level, base in (("north", 1.0), ("south", 3.0), ("west", 2.0)):
        row = effects[("g", level)]
        mean_p = float(frame["p"].mean())
        assert row["conf_low"] < base + 1.0 + 0.5 * mean_p < row["conf_high"], level
    slope = effects[("p", 1.0)]["estimate"] - effects[("p", 0.0)]["estimate"]
    assert abs(slope - 0.5) < 0.15
    assert result.extras["heterogeneity"]["interaction_test"]["p_value"] < 1e-6
    # the average effect is the treatment coefficient of the centred model, near the sample's mean effect
    true_mean = np.mean(np.select([frame.g == "north", frame.g == "south"], [1.0, 3.0], 2.0) + 0.5 * frame.p) + 1
    assert result.effect.conf_low < true_mean < result.effect.conf_high


def test_every_default_step_runs_with_modifiers():
    spec = _spec(heterogeneity={"modifiers": ["g"]}, sensitivity={})
    result = cs.run(spec, _frame())
    assert result.extras["heterogeneity"]["interaction_terms"] == ["x:gsouth_c", "x:gwest_c"]
    assert result.sensitivity is not None
    assert "heterogeneity" in result.to_dict()["design"]


@pytest.mark.parametrize("fields, loc, code", [
    ({"design": {"type": "observational", "estimator": "ols", "outcome_model": {"terms": ["x:z"]}}},
     "design.outcome_model.terms[0]", "treatment_in_terms"),
    ({"design": {"type": "observational", "estimator": "ols", "outcome_model": {"terms": ["z", "I(med^2)"]}}},
     "design.outcome_model.terms[1]", "term_variable_not_adjusted"),
    ({"design": {"type": "observational", "estimator": "ols", "outcome_model": {"terms": ["z.__class__"]}}},
     "design.outcome_model.terms[0]", None),
    ({"design": {"type": "observational", "estimator": "matching", "outcome_model": {"terms": ["z"]}},
      "estimand": "ATT"}, "design.outcome_model", "option_not_read"),
    ({"design": {"type": "observational", "estimator": "ipw"}, "heterogeneity": {"modifiers": ["z"]}},
     "heterogeneity", "heterogeneity_unsupported"),
    ({"heterogeneity": {"modifiers": ["z"], "at": {"zz": [1]}}}, "heterogeneity.at.zz", "unknown_modifier"),
    ({"heterogeneity": {"modifiers": ["nothere"]}}, "heterogeneity.modifiers[0]", "unknown_node"),
])
def test_refusals_are_located(fields, loc, code):
    with pytest.raises(CausalSpecError) as exc:
        cs.plan(_spec(**fields))
    p = _problem(exc)
    assert p.loc == loc
    if code:
        assert p.code == code


def test_heterogeneity_in_an_experiment_is_refused_at_the_field():
    spec = cs.Spec(name="ab", treatment="x", outcome="y", design={"type": "experiment"},
                   heterogeneity={"modifiers": ["z"]}, dag={"edges": ["x -> y", "z -> y"]})
    with pytest.raises(CausalSpecError) as exc:
        cs.plan(spec)
    assert _problem(exc).loc == "heterogeneity" and "lin" in _problem(exc).fix


def test_a_value_that_is_not_a_level_is_refused_at_the_field():
    plan = cs.plan(_spec(heterogeneity={"modifiers": ["g"], "at": {"g": ["east"]}}))
    with pytest.raises(CausalSpecError) as exc:
        cs.fit(plan, _frame())
    assert _problem(exc).loc == "heterogeneity.at.g" and "north" in _problem(exc).fix
