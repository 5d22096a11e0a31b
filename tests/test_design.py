"""Design matrices: R's names, factor coding, and counted missing values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from causalspec.errors import DataError, SpecError
from causalspec.formula._materialize import materialize
from causalspec.formula._parse import quote_name


@pytest.fixture
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 40
    return pd.DataFrame({
        "y": rng.normal(size=n),
        "x": rng.normal(size=n) + 3.0,
        "g": rng.choice(["b", "a", "c"], size=n),
        "h": rng.choice(["u", "v"], size=n),
        "year": rng.choice([1998, 1997, 1999], size=n),
        "married": rng.choice([True, False], size=n),
    })


def test_rows_with_missing_values_are_counted_by_first_missing_column(frame):
    frame.loc[[0, 1, 2], "y"] = np.nan
    frame.loc[[2, 3], "x"] = np.nan  # row 2 is missing both: counted once, for y
    des = materialize("y ~ x + g", frame)
    assert dict(des.dropped) == {"missing values in 'y'": 3, "missing values in 'x'": 1}
    assert des.n_input == 40 and len(des.y) == 36 and des.n_dropped == 4
    assert list(des.rows) == [i for i in range(40) if i not in (0, 1, 2, 3)]


def test_text_factor_uses_sorted_levels_and_treatment_contrasts(frame):
    des = materialize("y ~ g + x", frame)
    assert des.terms == ("(Intercept)", "gb", "gc", "x")
    np.testing.assert_array_equal(des.X[:, 1], (frame["g"] == "b").to_numpy(float))


def test_category_dtype_keeps_its_level_order(frame):
    frame["g"] = pd.Categorical(frame["g"], categories=["c", "a", "b"])
    assert materialize("y ~ g", frame).terms == ("(Intercept)", "ga", "gb")


def test_logical_column_is_a_factor_named_like_r(frame):
    assert materialize("y ~ married", frame).terms == ("(Intercept)", "marriedTRUE")


def test_numeric_factor_and_calls_get_r_names(frame):
    des = materialize("y ~ factor(year) + log(x) + I(x^2) + I(x/2)", frame)
    assert des.terms == ("(Intercept)", "factor(year)1998", "factor(year)1999", "log(x)", "I(x^2)", "I(x/2)")
    np.testing.assert_allclose(des.X[:, 4], frame["x"].to_numpy() ** 2)


def test_interaction_without_main_effects_gets_full_dummies_like_r(frame):
    des = materialize("y ~ x + g:h", frame)
    assert des.terms == ("(Intercept)", "x", "ga:hu", "gb:hu", "gc:hu", "ga:hv", "gb:hv", "gc:hv")


def test_interaction_variables_follow_formula_order(frame):
    assert materialize("y ~ x:year + g*x", frame).terms == (
        "(Intercept)", "gb", "gc", "x", "x:year", "x:gb", "x:gc")


def test_power_of_a_sum_expands_to_pairwise_interactions(frame):
    assert materialize("y ~ (x + h + year)^2", frame).terms == (
        "(Intercept)", "x", "hv", "year", "x:hv", "x:year", "hv:year")


def test_model_without_intercept_codes_first_factor_with_every_level(frame):
    assert materialize("y ~ 0 + g + h", frame).terms == ("ga", "gb", "gc", "hv")
    assert materialize("y ~ x - 1", frame).terms == ("x",)


def test_unused_levels_are_dropped_after_missing_rows(frame):
    frame.loc[frame["g"] == "c", "y"] = np.nan
    assert materialize("y ~ g", frame).terms == ("(Intercept)", "gb")


def test_transform_producing_nan_drops_rows_and_counts_them(frame):
    frame.loc[[4, 5], "x"] = -1.0
    des = materialize("y ~ log(x)", frame)
    assert dict(des.dropped) == {"missing values in 'log(x)'": 2}


def test_infinite_values_from_a_transform_are_refused(frame):
    frame.loc[4, "x"] = 0.0
    with pytest.raises(DataError, match=r"infinite values.*log1p"):
        materialize("y ~ log(x)", frame)


def test_missing_column_suggests_the_closest_name(frame):
    with pytest.raises(DataError, match=r"column 'yeer' is not in the data\. Did you mean 'year'"):
        materialize("y ~ yeer", frame)


def test_text_outcome_is_refused_with_a_fix(frame):
    with pytest.raises(DataError, match=r"outcome 'g' is not numeric.*Recode"):
        materialize("g ~ x", frame)


def test_formula_without_outcome_is_refused(frame):
    with pytest.raises(SpecError, match="has no outcome"):
        materialize("~ x", frame)


@pytest.mark.parametrize("name", ["a b", "a+b", "x`y", "ünïcode", "first.treat", "log"])
def test_any_column_name_is_taken_literally_when_quoted(frame, name):
    frame[name] = frame["x"] * 2.0
    des = materialize(f"y ~ {quote_name(name)}", frame)
    np.testing.assert_allclose(des.X[:, 1], frame["x"].to_numpy() * 2.0)
    assert des.terms[1] in (name, f"`{name}`".replace("`y", "\\`y"))


def test_design_matrix_is_float64_and_contiguous(frame):
    des = materialize("y ~ x + g", frame)
    assert des.X.dtype == np.float64 and (des.X.flags.c_contiguous or des.X.flags.f_contiguous)


def test_factor_levels_and_relevel_set_the_reference(frame):
    assert materialize("y ~ factor(g, levels = c('c', 'a', 'b'))", frame).terms == (
        "(Intercept)", 'factor(g, levels = c("c", "a", "b"))a', 'factor(g, levels = c("c", "a", "b"))b')
    assert materialize("y ~ relevel(factor(g), ref = 'c')", frame).terms == (
        "(Intercept)", 'relevel(factor(g), ref = "c")a', 'relevel(factor(g), ref = "c")b')
