"""The wild cluster bootstrap: exact against a brute-force refit loop, seeded, the right size with few clusters."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

import causalspec as cs
from causalspec.inference._wild import wild_cluster_bootstrap


def _data(G=6, m=15, beta=0.0, seed=0, hetero=1.0):
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(G), m)
    x = rng.normal(size=G * m) + rng.normal(size=G)[g]
    z = rng.normal(size=G * m)
    y = 1.0 + beta * x + 0.5 * z + rng.normal(size=G)[g] * hetero + rng.normal(size=G * m)
    return np.column_stack([np.ones(G * m), x, z]), y, g


def _cr1_t(X, y, g, k, null):
    A = np.linalg.inv(X.T @ X)
    b = A @ X.T @ y
    e = y - X @ b
    G, (n, p) = g.max() + 1, X.shape
    s = np.zeros((G, p))
    np.add.at(s, g, X * e[:, None])
    V = A @ s.T @ s @ A * G / (G - 1) * (n - 1) / (n - p)
    return (b[k] - null) / math.sqrt(V[k, k])


def test_enumerated_p_value_equals_a_brute_force_refit_of_every_sign_vector():
    X, y, g = _data(G=6, beta=0.15, seed=3)
    res = wild_cluster_bootstrap(X, y, ["(Intercept)", "x", "z"], g, "x", draws=999, seed=1)
    assert res.enumerated and res.draws == 2**6
    t = _cr1_t(X, y, g, 1, 0.0)
    Xr = X[:, [0, 2]]
    u = y - Xr @ np.linalg.lstsq(Xr, y, rcond=None)[0]
    fitted = y - u
    tstars = [_cr1_t(X, fitted + u * np.asarray(v)[g], g, 1, 0.0) for v in itertools.product([-1, 1], repeat=6)]
    assert res.t_statistic == pytest.approx(t, rel=1e-10)
    assert res.p_value == pytest.approx(np.mean(np.abs(tstars) >= abs(t) - 1e-12), abs=1e-12)


def test_ci_inverts_the_test_and_draws_are_seeded():
    X, y, g = _data(G=12, beta=0.3, seed=4)
    a = wild_cluster_bootstrap(X, y, ["(Intercept)", "x", "z"], g, "x", draws=1999, seed=7)
    b = wild_cluster_bootstrap(X, y, ["(Intercept)", "x", "z"], g, "x", draws=1999, seed=7)
    assert a == b and not a.enumerated
    for edge in (a.conf_low, a.conf_high):  # the p-value of the CI's ends is the test level
        p_in = wild_cluster_bootstrap(X, y, ["(Intercept)", "x", "z"], g, "x", draws=1999, seed=7,
                                      null=edge + (1e-4 if edge == a.conf_low else -1e-4)).p_value
        p_out = wild_cluster_bootstrap(X, y, ["(Intercept)", "x", "z"], g, "x", draws=1999, seed=7,
                                       null=edge - (1e-4 if edge == a.conf_low else -1e-4)).p_value
        assert p_in > 0.05 >= p_out
    assert a.conf_low < a.estimate < a.conf_high


@settings(max_examples=15, deadline=None)
@given(scale=st.floats(0.1, 50), shift=st.floats(-5, 5))
def test_scaling_y_scales_the_ci_and_shifting_the_null_is_the_same_test(scale, shift):
    X, y, g = _data(G=5, beta=0.2, seed=5)
    names = ["(Intercept)", "x", "z"]
    base = wild_cluster_bootstrap(X, y, names, g, "x", draws=99, seed=2)
    scaled = wild_cluster_bootstrap(X, y * scale, names, g, "x", draws=99, seed=2)
    assert scaled.p_value == pytest.approx(base.p_value, abs=1e-12)
    assert scaled.conf_low == pytest.approx(base.conf_low * scale, rel=1e-5, abs=1e-6)
    shifted = wild_cluster_bootstrap(X, y + shift * X[:, 1], names, g, "x", draws=99, seed=2, null=shift)
    assert shifted.p_value == pytest.approx(base.p_value, abs=1e-12)


def test_few_clusters_wild_bootstrap_holds_its_size_where_cr1_over_rejects():
    reject_wild = reject_cr1 = 0
    reps = 150
    for r in range(reps):
        X, y, g = _data(G=8, m=20, beta=0.0, seed=100 + r, hetero=2.0)
        res = wild_cluster_bootstrap(X, y, ["(Intercept)", "x", "z"], g, "x", draws=399, seed=r, weights="webb")
        reject_wild += res.p_value < 0.05
        t = _cr1_t(X, y, g, 1, 0.0)
        from scipy import stats

        reject_cr1 += 2 * stats.t.sf(abs(t), 7) < 0.05
    assert reject_wild / reps <= 0.09  # nominal 5%, Monte Carlo error about 1.8 points
    assert reject_cr1 > reject_wild


def test_spec_option_reports_the_bootstrap_beside_the_estimate():
    X, y, g = _data(G=10, beta=0.4, seed=9)
    data = pd.DataFrame({"x": X[:, 1], "z": X[:, 2], "y": y, "g": g})
    spec = cs.Spec(name="wild", treatment="x", outcome="y", dag={"edges": ["z -> x", "z -> y", "x -> y"]},
                   inference={"vcov": "CR1", "cluster": ["g"], "wild_bootstrap": {"draws": 999}},
                   sensitivity={"refutations": []})
    res = cs.run(spec, data=data)
    wb = res.extras["wild_bootstrap"]
    direct = wild_cluster_bootstrap(X, y, ["(Intercept)", "x", "z"], g, "x", draws=999, seed=spec.seed)
    assert wb["p_value"] == direct.p_value and wb["conf_low"] == pytest.approx(direct.conf_low)
    assert "Wild cluster bootstrap (restricted, 10 clusters, 999 rademacher draws" in res.summary()
