"""Variance estimators: sandwich identities, clusters, CR2, and the coefficient table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from causalspec.errors import DataError, SpecError
from causalspec.estimators._linear import fit_ols
from causalspec.inference import TIDY_COLUMNS, Vcov, coef_table, make_clusters, vcov

TERMS = ["(Intercept)", "a", "b"]


@pytest.fixture
def fit():
    rng = np.random.default_rng(21)
    n = 80
    a, b = rng.normal(size=n), rng.normal(size=n)
    y = 0.5 + a - b + rng.normal(size=n) * (1 + np.abs(a))
    return fit_ols(y, np.column_stack([np.ones(n), a, b]), TERMS)


def _hc0(fit):
    X, e = fit.X_kept, fit.residuals
    bread = np.linalg.inv(X.T @ X)
    return bread @ (X.T * e**2) @ X @ bread


def test_hc0_is_the_white_sandwich_and_hc1_rescales_it(fit):
    n, k = fit.X_kept.shape
    np.testing.assert_allclose(vcov(fit, "HC0").matrix, _hc0(fit), rtol=1e-10)
    np.testing.assert_allclose(vcov(fit, "HC1").matrix, _hc0(fit) * n / (n - k), rtol=1e-10)


def test_hc3_exceeds_hc2_exceeds_hc0_on_the_diagonal(fit):
    d0, d2, d3 = (np.diag(vcov(fit, k).matrix) for k in ("HC0", "HC2", "HC3"))
    assert np.all(d0 < d2) and np.all(d2 < d3)


def test_iid_is_sigma2_times_inverse_cross_product(fit):
    X = fit.X_kept
    np.testing.assert_allclose(vcov(fit, "iid").matrix, fit.sigma**2 * np.linalg.inv(X.T @ X), rtol=1e-10)


def test_singleton_clusters_reduce_cr0_to_hc0_times_g_over_g_minus_1(fit):
    n = fit.nobs
    V = vcov(fit, "CR0", np.arange(n))
    np.testing.assert_allclose(V.matrix, _hc0(fit) * n / (n - 1), rtol=1e-10)
    assert V.n_clusters == n and V.df == n - 3


def test_singleton_clusters_reduce_cr2_to_hc2(fit):
    V = vcov(fit, "CR2", np.arange(fit.nobs))
    np.testing.assert_allclose(V.matrix, vcov(fit, "HC2").matrix, rtol=1e-9)
    assert V.df_for().shape == (3,)


def test_stata_kind_uses_g_minus_1_degrees_of_freedom(fit):
    cl = np.repeat(np.arange(16), 5)
    V = vcov(fit, "stata", cl)
    n, k, g = fit.nobs, 3, 16
    np.testing.assert_allclose(V.matrix, vcov(fit, "CR0", cl).matrix * (n - 1) / (n - k), rtol=1e-12)
    assert V.df == g - 1


def test_several_cluster_columns_are_multiway_unless_the_interaction_is_asked_for(fit):
    """Issue 12: several columns mean multi-way clustering (sandwich, fixest); the interaction only on request."""
    rng = np.random.default_rng(2)
    c1, c2 = rng.integers(0, 4, fit.nobs), rng.integers(0, 3, fit.nobs)
    frame = pd.DataFrame({"c1": c1, "c2": c2})
    key = vcov(fit, "CR1", pd.Series([f"{x}-{y}" for x, y in zip(c1, c2)]))
    np.testing.assert_allclose(vcov(fit, "CR1", frame, multiway=False).matrix, key.matrix, rtol=1e-12)
    assert not np.allclose(vcov(fit, "CR1", frame).matrix, key.matrix, rtol=1e-6)
    with pytest.raises(SpecError, match=r"inference.cluster: CR2 takes one cluster column"):
        vcov(fit, "CR2", frame)


def test_missing_cluster_value_is_a_data_error(fit):
    cl = pd.Series(np.arange(fit.nobs) % 7, dtype=float)
    cl.iloc[3] = np.nan
    with pytest.raises(DataError, match=r"cluster variable .* is missing for 1 row"):
        vcov(fit, "CR1", cl.rename("firm"))


def test_cluster_length_mismatch_is_a_data_error():
    with pytest.raises(DataError, match="has 3 values but the model uses 5 rows"):
        make_clusters([1, 2, 3], 5)


def test_unknown_kind_and_missing_cluster_are_spec_errors(fit):
    with pytest.raises(SpecError, match=r"unknown variance estimator 'HC9'.*Use one of iid"):
        vcov(fit, "HC9")
    with pytest.raises(SpecError, match="needs a cluster variable"):
        vcov(fit, "CR2")


def test_weighted_hc0_uses_weighted_scores():
    rng = np.random.default_rng(8)
    n = 50
    X = np.column_stack([np.ones(n), rng.normal(size=n)])
    y = X @ [1.0, 2.0] + rng.normal(size=n)
    w = rng.uniform(0.2, 2.0, size=n)
    f = fit_ols(y, X, ["(Intercept)", "x"], weights=w)
    A = np.linalg.inv(X.T @ (X * w[:, None]))
    s = X * (w * f.residuals)[:, None]
    np.testing.assert_allclose(vcov(f, "HC0").matrix, A @ s.T @ s @ A, rtol=1e-10)


def test_coef_table_has_tidy_columns_and_t_inference(fit):
    V = vcov(fit, "HC1")
    tab = coef_table(fit.coef, V, 0.9)
    assert tuple(tab.columns) == TIDY_COLUMNS and list(tab.term) == TERMS
    q = stats.t.ppf(0.95, fit.df_resid)
    np.testing.assert_allclose(tab.conf_high - tab.estimate, q * tab.std_error, rtol=1e-12)
    np.testing.assert_allclose(tab.p_value, 2 * stats.t.sf(np.abs(tab.statistic), fit.df_resid), rtol=1e-12)


def test_coef_table_uses_the_normal_when_df_is_infinite():
    V = Vcov(np.diag([4.0]), ("x",), "custom", np.inf, None, "test")
    row = coef_table(np.array([3.0]), V).iloc[0]
    assert abs(row.p_value - 2 * stats.norm.sf(1.5)) < 1e-15
    assert abs(row.conf_low - (3.0 - stats.norm.ppf(0.975) * 2.0)) < 1e-12


def test_aliased_terms_get_nan_rows():
    rng = np.random.default_rng(4)
    a = rng.normal(size=30)
    X = np.column_stack([np.ones(30), a, 2 * a])
    f = fit_ols(a + rng.normal(size=30), X, ["(Intercept)", "a", "a2"])
    tab = coef_table(f.coef, vcov(f, "HC3")).set_index("term")
    assert tab.loc["a2"].isna().all() and not tab.loc["a"].isna().any()


def test_bad_level_is_refused(fit):
    with pytest.raises(SpecError, match="not between 0 and 1"):
        coef_table(fit.coef, vcov(fit), level=95)
