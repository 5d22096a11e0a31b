"""More fast paths: the allocation-free paths of the OLS fit (issue #14) against the straightforward computations they replace.

Each fast path must give the numbers of the plain one on the same inputs: the blocked QR the one-shot QR's R,
the blocked meats the n x k score matrix's, the sensitivity regressions from the fit's factor a fresh least
squares fit, dense cluster codes pandas' factorize.  Blocks are made tiny so that many of them are used."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import causalspec as cs
from causalspec._arrays import all_finite
from causalspec._data import is_constant
from causalspec.estimators import _linear
from causalspec.estimators._linear import fit_ols
from causalspec.inference import _clusters
from causalspec.inference._clusters import (cluster_sums, make_clusters, scaled_cluster_sums, scaled_meat,
                                            score_meat)
from causalspec.sensitivity._factor import regressions_from_factor
from causalspec.sensitivity._from_data import regressions_by_gram


def _data(n=3000, seed=5):
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.ones(n), rng.normal(size=(n, 3))])
    X[:, 1] += 0.6 * X[:, 2]
    y = X @ np.array([1.0, 2.0, -1.0, 0.5]) + rng.normal(size=n)
    return X, y, rng


def test_blocked_r_factor_equals_one_qr(monkeypatch):
    X, y, _ = _data()
    one = _linear._blocked_r_factor(X, y)  # n <= 2 blocks: the one-shot factor
    monkeypatch.setattr(_linear, "_QR_BLOCK", 64)
    blocked = _linear._blocked_r_factor(X, y)
    signs = np.sign(np.diag(one)) * np.sign(np.diag(blocked))
    assert np.allclose(blocked * signs[:, None], one, rtol=0, atol=1e-11 * np.abs(one).max())


def test_blocked_fit_equals_lstsq(monkeypatch):
    X, y, _ = _data()
    monkeypatch.setattr(_linear, "_QR_BLOCK", 100)
    fit = fit_ols(y, X, ["(Intercept)", "d", "a", "b"])
    ref = np.linalg.lstsq(X, y, rcond=None)[0]
    assert np.allclose(fit.coef, ref, rtol=1e-12)
    gram_inv = np.linalg.inv(X.T @ X)
    assert np.allclose(fit.xtwx_inv(), gram_inv, rtol=1e-10)


def test_blocked_meats_equal_score_matrix(monkeypatch):
    X, y, rng = _data()
    u = rng.normal(size=len(y))
    monkeypatch.setattr(_clusters, "_BLOCK", 128)
    assert np.allclose(scaled_meat(X, u), score_meat(X * u[:, None]), rtol=1e-12)
    cl = make_clusters(rng.integers(0, 40, len(y)), len(y))
    assert np.allclose(scaled_cluster_sums(X, u, cl), cluster_sums(X * u[:, None], cl), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("ids", [np.array([7, 3, 3, 9, 7, 0]), np.array([100000, 5, 5]), np.array([2, -1, 2])])
def test_cluster_codes_equal_factorize(ids):
    codes, uniques = pd.factorize(pd.Series(ids), sort=True)
    cl = make_clusters(pd.Series(ids), len(ids))
    assert cl.codes.tolist() == codes.tolist() and cl.n_groups == len(uniques)


@pytest.mark.parametrize("weighted", [False, True])
def test_regressions_from_factor_equal_fresh_fits(weighted):
    X, y, rng = _data()
    w = rng.uniform(0.5, 2.0, len(y)) if weighted else None
    names = ["(Intercept)", "d", "a", "b"]
    fit = fit_ols(y, X, names, weights=w)
    fast = regressions_from_factor(names, fit.R_kept, fit.coef, y, fit.residuals, X[:, 1], "y", "d", w)
    root = np.ones(len(y)) if w is None else np.sqrt(w)
    out, dfit = regressions_by_gram(y * root, pd.DataFrame(X * root[:, None], columns=names), "d")
    for a, b in ((fast.fit, out), (fast.dfit, dfit)):
        assert a.names == b.names and a.dof == b.dof and a.nobs == b.nobs
        assert np.allclose(a.coef, b.coef, rtol=1e-11)
        assert a.sigma2 == pytest.approx(b.sigma2, rel=1e-11)
        assert a.r_squared == pytest.approx(b.r_squared, rel=1e-11)
        for name in a.names:
            assert a.se(name) == pytest.approx(b.se(name), rel=1e-10)


def test_fit_uses_the_fast_paths_with_the_same_sensitivity_numbers():
    """cs.fit's bounds (factor path) equal sensemakr_from_data's (fresh regressions) on the same rows."""
    X, y, rng = _data(2000, seed=11)
    df = pd.DataFrame({"d": X[:, 1], "a": X[:, 2], "b": X[:, 3], "y": y})
    spec = cs.Spec(name="fast", treatment="d", outcome="y", dag={"edges": ["a -> d", "b -> d", "a -> y", "b -> y",
                                                                             "d -> y"]},
                   design={"type": "observational", "estimator": "ols"}, inference={"vcov": "HC1"})
    result = cs.fit(cs.plan(spec), df)
    s = result.sensitivity.ovb
    ref = cs.sensitivity.sensemakr_from_data(df, "y", "d", ["a", "b"], benchmark=s.benchmarks[0].name)
    for field in ("estimate", "se", "t_statistic", "r2yd_x", "rv_q", "rv_qa", "xrv_q"):
        assert getattr(s, field) == pytest.approx(getattr(ref, field), rel=1e-10), field
    assert s.benchmarks[0].r2dxj_x == pytest.approx(ref.benchmarks[0].r2dxj_x, rel=1e-10)
    assert s.bounds[0].adjusted_estimate == pytest.approx(ref.bounds[0].adjusted_estimate, rel=1e-10)
    naive = np.polyfit(df["d"], df["y"], 1)[0]
    assert result.naive.estimate == pytest.approx(naive, rel=1e-10)


@pytest.mark.parametrize("values, constant", [
    ([np.nan, 1.0, 1.0], True), ([np.nan, np.nan], True), ([1.0, 2.0], False), ([3, 3], True),
    ([1, 2], False), (pd.array([1, None], dtype="Int64"), True), (pd.array([1, 2, None], dtype="Int64"), False),
    ([np.inf, np.inf], True), ([-np.inf, np.inf], False)])
def test_is_constant(values, constant):
    assert is_constant(pd.Series(values)) is constant


def test_all_finite():
    a = np.ones((5, 3), order="F")
    assert all_finite(a) and all_finite(np.zeros(0))
    for bad in (np.nan, np.inf, -np.inf):
        b = a.copy()
        b[3, 2] = bad
        assert not all_finite(b)
