"""Oster (2019) delta and beta*: known-truth simulations with fixed seeds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from causalspec.errors import SpecError
from causalspec.sensitivity import OsterInputs, oster_beta, oster_beta_approx, oster_delta, oster_from_data
from causalspec.sensitivity._from_data import design_matrix, fit_linear

BETA = 1.0


def _world(selection: float, seed: int = 20190101, n: int = 100_000):
    """y = beta x + w1 + w2 + e with x = w1 + selection * w2 + u; w1 observed, w2 not, independent.

    Oster's proportional-selection delta is then exactly ``selection`` (Cov(w2, x)/Var(w2) over
    Cov(w1, x)/Var(w1)), and R_max is the R² of the regression that also controls for w2.
    """
    rng = np.random.default_rng(seed)
    w1, w2, u, e = rng.normal(size=(4, n))
    x = w1 + selection * w2 + u
    y = BETA * x + w1 + w2 + e
    df = pd.DataFrame({"y": y, "x": x, "w1": w1, "w2": w2})
    r_max = fit_linear(y, design_matrix(df, ["x", "w1", "w2"])).r_squared
    return oster_from_data(df, "y", "x", ["w1"]), r_max


@pytest.fixture(scope="module")
def equal_selection():
    return _world(1.0)


@pytest.fixture(scope="module")
def half_selection():
    return _world(0.5)


def test_beta_star_recovers_the_true_effect_with_equal_selection(equal_selection):
    inputs, r_max = equal_selection
    assert abs(inputs.beta_controlled - BETA) > 0.4  # the controlled estimate is badly biased
    assert abs(oster_beta(inputs, r_max, delta=1.0).beta - BETA) < 0.02


def test_beta_star_recovers_the_true_effect_with_cubic_solution(half_selection):
    inputs, r_max = half_selection
    assert abs(oster_beta(inputs, r_max, delta=0.5).beta - BETA) < 0.02


@pytest.mark.parametrize("world, truth", [("equal_selection", 1.0), ("half_selection", 0.5)])
def test_delta_for_the_true_effect_recovers_the_true_selection_ratio(world, truth, request):
    inputs, r_max = request.getfixturevalue(world)
    assert abs(oster_delta(inputs, r_max, beta=BETA) - truth) < 0.02


def test_strong_selection_keeps_the_truth_among_the_roots():
    inputs, r_max = _world(2.0, n=50_000)
    res = oster_beta(inputs, r_max, delta=2.0)
    assert min(abs(b - BETA) for b in (res.beta, *res.alternatives)) < 0.03
    assert abs(oster_delta(inputs, r_max, beta=BETA) - 2.0) < 0.05


def test_delta_and_beta_star_are_inverse_of_each_other(half_selection):
    inputs, r_max = half_selection
    b = oster_beta(inputs, r_max, delta=0.7).beta
    assert oster_delta(inputs, r_max, beta=b) == pytest.approx(0.7, rel=1e-8)


def test_approximation_is_oster_equation_three(equal_selection):
    inputs, r_max = equal_selection
    s = inputs
    expected = s.beta_controlled - (s.beta_uncontrolled - s.beta_controlled) * (r_max - s.r2_controlled) / (
        s.r2_controlled - s.r2_uncontrolled)
    assert oster_beta_approx(inputs, r_max) == pytest.approx(expected, rel=1e-14)


def test_r_max_below_the_controlled_r2_is_refused():
    inputs = OsterInputs(1.0, 0.1, 0.8, 0.3, 1.0, 1.0, 0.8)
    with pytest.raises(SpecError, match=r"R_max must lie in \(R² with controls = 0.3, 1\].*1.3 x R²"):
        oster_delta(inputs, 0.2)


def test_non_positive_variance_is_refused():
    with pytest.raises(SpecError, match="variances must be positive"):
        oster_beta(OsterInputs(1.0, 0.1, 0.8, 0.3, 1.0, 0.0, 0.8), 0.5)
