"""Wrong answers with exit 0 (issue #19): each is now refused with a located error, never a confident number."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import causalspec as cs
from causalspec.errors import EstimationError, SpecError, UnsupportedError

SPECS = Path(__file__).resolve().parents[2] / "specs"
EDGES = ["z -> x", "z -> y", "x -> y"]


def _confounded(n: int = 300, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    z = rng.normal(size=n)
    x = (z + rng.normal(size=n) > 0).astype(float)
    return pd.DataFrame({"x": x, "y": x + z + rng.normal(size=n), "z": z})


def _spec(**fields) -> cs.Spec:
    return cs.Spec(**{"name": "t", "treatment": "x", "outcome": "y", "dag": {"edges": EDGES}, **fields})


def test_a_confounder_with_a_1e308_value_is_refused_not_dropped_with_a_note():
    data = _confounded()
    data.loc[0, "z"] = 1e308
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(EstimationError, match=r"adjustment: 'z' cannot be adjusted for in these data"):
            cs.fit(cs.plan(_spec()), data)


def test_a_confounder_collinear_with_the_treatment_is_refused():
    data = _confounded().assign(z=lambda d: 3.0 * d["x"])
    with pytest.raises(EstimationError, match=r"'z' cannot be adjusted for .* collinear with the treatment"):
        cs.fit(cs.plan(_spec()), data)


def test_crump_trimming_under_separation_is_refused_instead_of_trimming_nothing():
    data = _confounded().assign(x=lambda d: (d["z"] > 0).astype(float))
    spec = _spec(design={"type": "observational", "estimator": "ipw", "trim": "crump"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(EstimationError, match=r"design.trim: the propensity model separates"):
            cs.fit(cs.plan(spec), data)


def test_a_constant_outcome_gets_no_confidence_interval():
    data = _confounded().assign(y=5.0)
    with pytest.raises(EstimationError, match=r"outcome: the outcome 'y' is constant"):
        cs.fit(cs.plan(_spec()), data)


@pytest.mark.parametrize("field, value, loc", [("seed", True, "seed"), ("version", True, "version")])
def test_true_is_not_the_number_one(field, value, loc):
    with pytest.raises(SpecError, match=rf"{loc}: true is a yes/no value"):
        _spec(**{field: value})


@pytest.mark.parametrize("kd", [[-1.0], [0.0], [float("nan")], [float("inf")]])
def test_a_sensitivity_multiplier_must_be_a_positive_number(kd):
    with pytest.raises(SpecError, match=r"sensitivity.kd"):
        _spec(sensitivity={"kd": kd})


def test_cuped_on_the_treatment_or_the_outcome_is_refused():
    base = cs.load(SPECS / "ab_test.yaml").model_dump()
    for column in ("variant", "spend"):
        with pytest.raises(SpecError, match=r"design.cuped: the CUPED covariate"):
            cs.Spec(**{**base, "design": {**base["design"], "cuped": column}})


def test_a_guardrail_that_is_the_treatment_is_refused():
    base = cs.load(SPECS / "ab_test.yaml").model_dump()
    design = {**base["design"], "guardrails": [{"column": "variant", "direction": "increase"}]}
    with pytest.raises(SpecError, match=r"design.guardrails\[0\].column: the guardrail 'variant' is the treatment"):
        cs.Spec(**{**base, "design": design})


def test_a_placebo_outcome_the_dag_makes_a_cause_of_the_treatment_is_refused():
    with pytest.raises(SpecError, match=r"sensitivity.placebo_outcome: the DAG makes the placebo outcome 'z' a cause"):
        _spec(sensitivity={"placebo_outcome": "z", "refutations": ["placebo_outcome"]})


def test_an_event_study_reference_outside_the_data_is_refused_not_replaced():
    spec = cs.load(SPECS / "mpdta_event_study.yaml")
    spec = cs.Spec(**{**spec.model_dump(), "design": {**spec.model_dump()["design"], "reference": -40}})
    with pytest.raises(EstimationError, match=r"design.reference: the reference period -40 does not occur"):
        cs.run(spec, data=SPECS / "data" / "mpdta.csv", refute=False)


def test_a_window_on_sun_abraham_is_refused_not_ignored():
    spec = cs.load(SPECS / "mpdta_sun_abraham.yaml").model_dump()
    with pytest.raises(UnsupportedError, match=r"design.window: window trims the relative periods"):
        cs.plan(cs.Spec(**{**spec, "design": {**spec["design"], "window": [-2, 2]}}))

