"""The fast paths of cs.fit (issue 14) give the numbers of the paths they skip: dense integer ids coded without
hashing equal pandas' sorted factorize; the sensemakr regressions from the Gram matrix equal R's QR fit; the
one-QR OLS equals the pivoting path; a naive contrast with FE codes reused equals the one that encodes again."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import causalspec as cs
from causalspec._data import dense_codes
from causalspec.estimators._linear import fit_ols, r_pivot
from causalspec.sensitivity._from_data import regressions_by_gram, fit_linear


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 60), min_size=1, max_size=200))
def test_dense_codes_equal_sorted_factorize(ids):
    values = np.asarray(ids, dtype=np.int64)
    codes, levels = dense_codes(values)
    want_codes, want_levels = pd.factorize(pd.Series(values), sort=True)
    np.testing.assert_array_equal(codes, want_codes)
    np.testing.assert_array_equal(levels, np.asarray(want_levels))


def test_dense_codes_decline_what_they_cannot_code():
    assert dense_codes(np.array([-1, 2, 3])) is None            # negative ids
    assert dense_codes(np.array([0, 10 ** 9])) is None          # sparse ids: factorize instead
    assert dense_codes(np.array([0.0, 1.0])) is None            # not integers
    assert dense_codes(np.array(["a", "b"], dtype=object)) is None


def _data(n=500, seed=3, scale=1.0):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 3))
    d = z @ [0.5, -0.2, 0.1] + rng.normal(size=n)
    y = 2 * d + z @ [1.0, 0.3, -0.7] + rng.normal(size=n)
    # columns on very different scales (dollars beside shares): the equilibrated condition number is unchanged
    X = pd.DataFrame({"(Intercept)": np.ones(n), "d": d / scale, "z1": z[:, 0] * scale, "z2": z[:, 1] + 5,
                      "z3": z[:, 2]})
    return y, X


@pytest.mark.parametrize("scale", [1.0, 1e3])
def test_the_gram_regressions_equal_the_qr_ones(scale):
    y, X = _data(scale=scale)
    fast = regressions_by_gram(y, X, "d")
    assert fast is not None
    slow = fit_linear(y, X), fit_linear(X["d"].to_numpy(), X.drop(columns="d"))
    for f, s in zip(fast, slow):
        assert f.names == s.names and f.dof == s.dof
        np.testing.assert_allclose(f.coef, s.coef, rtol=1e-10)
        assert f.sigma2 == pytest.approx(s.sigma2, rel=1e-12)
        assert f.r_squared == pytest.approx(s.r_squared, rel=1e-12)
        for name in f.names:
            assert f.se(name) == pytest.approx(s.se(name), rel=1e-10)


def test_an_ill_conditioned_gram_falls_back_to_qr():
    y, X = _data()
    X["z4"] = X["z1"] + 1e-9 * np.random.default_rng(0).normal(size=len(X))  # nearly collinear
    assert regressions_by_gram(y, X, "d") is None


def test_one_qr_ols_equals_the_pivoting_path():
    y, X = _data()
    fast = fit_ols(y, X.to_numpy(), list(X.columns))
    pivot, rank = r_pivot(X.to_numpy())
    assert rank == X.shape[1]
    slow = fit_ols(y, X.to_numpy(), list(X.columns), weights=np.ones(len(y)))  # weights take the old path
    np.testing.assert_allclose(fast.coef, slow.coef, rtol=1e-12)
    assert fast.r2 == pytest.approx(slow.r2, rel=1e-12)
    # an aliased column still goes through R's pivoting
    Xa = np.column_stack([X.to_numpy(), X["z1"] * 2])
    aliased = fit_ols(y, Xa, [*X.columns, "z1x2"])
    assert aliased.aliased == ("z1x2",)
    np.testing.assert_allclose(aliased.coef[:-1], fast.coef, rtol=1e-10)


def test_the_naive_contrast_with_reused_fe_codes_equals_the_encoded_one():
    rng = np.random.default_rng(5)
    n = 2000
    df = pd.DataFrame({"unit": np.repeat(np.arange(100), 20), "year": np.tile(np.arange(20), 100),
                       "x": rng.normal(size=n), "w": rng.normal(size=n)})
    df["y"] = df.x + df.w + rng.normal(size=n) + df.unit * 0.01
    spec = dict(name="t", treatment="x", outcome="y", dag={"edges": ["w -> x", "w -> y", "x -> y"]},
                design={"type": "panel", "unit": "unit", "time": "year"}, inference={"cluster": ["unit"]})
    fast = cs.fit(cs.plan(cs.Spec(**spec)), df)
    # ids as text: no dense codes, no reuse; the same numbers
    df2 = df.assign(unit=df.unit.map("u{:03d}".format))
    slow = cs.fit(cs.plan(cs.Spec(**spec)), df2)
    for a, b in ((fast.effect, slow.effect), (fast.naive, slow.naive)):
        assert a.estimate == pytest.approx(b.estimate, rel=1e-12)
        assert a.std_error == pytest.approx(b.std_error, rel=1e-10)
