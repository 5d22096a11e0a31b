"""Demeaning, FE coding and singleton removal: exact projections, weights, interactions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from causalspec.errors import DataError
from causalspec.estimators.fixest import demean, interact
from causalspec.estimators.fixest._demean import encode_fixed_effects, singleton_mask


def _dummies(codes_list):
    cols = [np.eye(int(c.max()) + 1)[c] for c in codes_list]
    return np.column_stack(cols)


def _projection_residual(x, codes_list, w=None):
    D = _dummies(codes_list)
    sw = np.ones(len(x)) if w is None else np.sqrt(w)
    beta = np.linalg.lstsq(D * sw[:, None], x * sw, rcond=None)[0]
    return x - D @ beta


@pytest.fixture
def unbalanced():
    rng = np.random.default_rng(7)
    n = 600
    a = rng.integers(0, 60, n)
    b = rng.integers(0, 12, n)
    c = rng.integers(0, 5, n)
    x = rng.normal(size=(n, 2)) + a[:, None] * 0.05 - b[:, None] * 0.1
    return a, b, c, x


def test_one_fixed_effect_subtracts_group_means_exactly():
    fe, _ = encode_fixed_effects({"g": np.array(["a", "a", "b", "b", "b"])}, 5)
    out, it = demean(np.array([1.0, 3.0, 2.0, 4.0, 9.0]), fe)
    assert np.allclose(out, [-1, 1, -3, -1, 4], atol=1e-15)
    assert it.tolist() == [0]


@pytest.mark.parametrize("n_fe", [2, 3])
def test_demeaning_equals_the_least_squares_projection(unbalanced, n_fe):
    a, b, c, x = unbalanced
    codes = [a, b, c][:n_fe]
    fe, _ = encode_fixed_effects({f"f{i}": v for i, v in enumerate(codes)}, len(a))
    out, _ = demean(x, fe, tol=1e-12)
    expected = np.column_stack([_projection_residual(x[:, j], codes) for j in range(2)])
    assert np.max(np.abs(out - expected)) < 1e-9


def test_weighted_demeaning_equals_the_weighted_projection(unbalanced):
    a, b, _, x = unbalanced
    w = np.random.default_rng(3).uniform(0.5, 3.0, len(a))
    fe, _ = encode_fixed_effects({"a": a, "b": b}, len(a))
    out, _ = demean(x[:, 0], fe, w, tol=1e-12)
    assert np.max(np.abs(out - _projection_residual(x[:, 0], [a, b], w))) < 1e-9


def test_default_tolerance_is_close_to_the_exact_projection(unbalanced):
    a, b, c, x = unbalanced
    fe, _ = encode_fixed_effects({"a": a, "b": b, "c": c}, len(a))
    out, it = demean(x[:, 1], fe)
    assert np.max(np.abs(out - _projection_residual(x[:, 1], [a, b, c]))) < 1e-5
    assert it[0] > 0


def test_interacted_fixed_effect_has_one_level_per_observed_pair():
    codes = interact(np.array([1, 1, 2, 2, 1]), np.array(["x", "y", "x", "x", "x"]))
    assert len(np.unique(codes)) == 3
    assert codes[0] == codes[4] and codes[2] == codes[3]


def test_missing_fe_ids_are_flagged_and_misaligned_fe_is_refused():
    _, missing = encode_fixed_effects(pd.DataFrame({"g": [1.0, np.nan, 2.0]}), 3)
    assert missing.tolist() == [False, True, False]
    with pytest.raises(DataError, match=r"fe\['g'\] has 2 rows but y has 3"):
        encode_fixed_effects({"g": [1, 2]}, 3)


def test_singleton_removal_repeats_until_no_singleton_is_left():
    # Dropping row 3 (the only 'c' in f1) leaves row 2 alone in f2's level 'v': it must go too.
    f1 = ["a", "a", "b", "c", "b"]
    f2 = ["u", "u", "v", "v", "w"]
    fe, _ = encode_fixed_effects({"f1": f1, "f2": f2}, 5)
    keep = singleton_mask(fe, np.ones(5, dtype=bool))
    assert keep.tolist() == [True, True, False, False, False]
