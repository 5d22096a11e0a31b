"""OLS / WLS: R's aliasing rule (dqrdc2), notes for collinear columns, summary.lm statistics."""

from __future__ import annotations

import numpy as np
import pytest

from causalspec.errors import DataError
from causalspec.estimators._linear import fit_ols, r_pivot


@pytest.fixture
def data():
    rng = np.random.default_rng(11)
    n = 60
    a, b = rng.normal(size=n), rng.normal(size=n)
    y = 1.0 + 2.0 * a - 0.5 * b + rng.normal(scale=0.3, size=n)
    return y, a, b


def test_collinear_column_to_the_right_is_aliased_with_a_note(data):
    y, a, b = data
    X = np.column_stack([np.ones_like(a), a, b, a + b])
    fit = fit_ols(y, X, ["(Intercept)", "a", "b", "ab"])
    assert fit.aliased == ("ab",) and fit.rank == 3 and fit.df_resid == len(y) - 3
    assert np.isnan(fit.coef[3]) and not np.isnan(fit.coef[:3]).any()
    assert fit.notes == ("dropped 'ab': collinear with 'a', 'b' (coefficient NA, as R's lm reports). "
                         "Remove one of them from the model to silence this note.",)


def test_aliasing_follows_column_order_like_lm(data):
    y, a, b = data
    X = np.column_stack([np.ones_like(a), a + b, a, b])
    assert fit_ols(y, X, ["(Intercept)", "ab", "a", "b"]).aliased == ("b",)


def test_zero_and_duplicate_columns_are_aliased_in_r_pivot_order(data):
    _, a, b = data
    X = np.column_stack([np.ones_like(a), np.zeros_like(a), a, a, b])
    pivot, rank = r_pivot(X)
    assert rank == 3 and list(pivot) == [0, 2, 4, 1, 3]


def test_tolerance_matches_r_1e7_relative_norm(data):
    _, a, b = data
    rng = np.random.default_rng(3)
    noise = rng.normal(size=a.size)
    noise -= np.polyval(np.polyfit(a, noise, 1), a)  # orthogonal to [1, a]
    noise /= np.linalg.norm(noise)
    base = np.column_stack([np.ones_like(a), a])
    near = a * 3.0
    scale = np.linalg.norm(near)
    assert r_pivot(np.column_stack([base, near + 1e-9 * scale * noise]))[1] == 2
    assert r_pivot(np.column_stack([base, near + 1e-5 * scale * noise]))[1] == 3


def test_coefficients_and_r2_match_numpy_least_squares(data):
    y, a, b = data
    X = np.column_stack([np.ones_like(a), a, b])
    fit = fit_ols(y, X, ["(Intercept)", "a", "b"])
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    np.testing.assert_allclose(fit.coef, beta, rtol=1e-12)
    r2 = 1 - np.sum(fit.residuals**2) / np.sum((y - y.mean()) ** 2)
    assert abs(fit.r2 - r2) < 1e-12
    assert abs(fit.adj_r2 - (1 - (1 - r2) * (len(y) - 1) / (len(y) - 3))) < 1e-12
    assert fit.fstat is not None and fit.fstat.numdf == 2 and fit.fstat.dendf == len(y) - 3


def test_weighted_fit_equals_ols_on_rescaled_rows(data):
    y, a, b = data
    w = np.random.default_rng(5).uniform(0.5, 3.0, size=y.size)
    X = np.column_stack([np.ones_like(a), a, b])
    fit = fit_ols(y, X, ["(Intercept)", "a", "b"], weights=w)
    beta, *_ = np.linalg.lstsq(X * np.sqrt(w)[:, None], y * np.sqrt(w), rcond=None)
    np.testing.assert_allclose(fit.coef, beta, rtol=1e-12)
    np.testing.assert_allclose(fit.residuals, y - X @ beta, rtol=1e-10)  # unweighted, like residuals(lm)
    assert abs(fit.sigma**2 - np.sum(w * fit.residuals**2) / (len(y) - 3)) < 1e-12


def test_zero_weights_do_not_count_as_observations(data):
    y, a, b = data
    w = np.ones_like(y)
    w[:10] = 0.0
    X = np.column_stack([np.ones_like(a), a, b])
    fit = fit_ols(y, X, ["(Intercept)", "a", "b"], weights=w)
    assert fit.nobs == len(y) - 10 and fit.df_resid == len(y) - 13
    ref = fit_ols(y[10:], X[10:], ["(Intercept)", "a", "b"])
    np.testing.assert_allclose(fit.coef, ref.coef, rtol=1e-12)


def test_model_without_intercept_uses_uncentred_r2(data):
    y, a, b = data
    X = np.column_stack([a, b])
    fit = fit_ols(y, X, ["a", "b"])
    assert abs(fit.r2 - np.sum(fit.fitted**2) / (np.sum(fit.fitted**2) + np.sum(fit.residuals**2))) < 1e-12
    assert fit.fstat.numdf == 2


def test_non_finite_input_is_a_data_error(data):
    y, a, b = data
    y = y.copy()
    y[0] = np.inf
    with pytest.raises(DataError, match="NaN or infinite"):
        fit_ols(y, np.column_stack([np.ones_like(a), a]), ["(Intercept)", "a"])


def test_negative_weights_are_refused(data):
    y, a, _ = data
    with pytest.raises(DataError, match="non-negative"):
        fit_ols(y, np.column_stack([np.ones_like(a), a]), ["(Intercept)", "a"], weights=-np.ones_like(y))
