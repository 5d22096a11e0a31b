"""Cinelli-Hazlett OVB statistics: identities, edge cases, errors and the plain-language reading."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import causalspec.sensitivity as sens
from causalspec.errors import DataError, EstimationError, SpecError
from causalspec.sensitivity import (
    Benchmark,
    adjusted_estimate,
    adjusted_se,
    adjusted_t,
    extreme_robustness_value,
    group_partial_r2,
    partial_r2,
    robustness_value,
    sensemakr,
    sensemakr_from_data,
)

EST, SE, DOF = 0.09731582, 0.02325654, 783  # Darfur, Cinelli & Hazlett (2020) Table 1


def test_public_namespace_exports_only_public_names():
    assert all(not name.startswith("_") for name in sens.__all__)
    assert all(hasattr(sens, name) for name in sens.__all__)


def test_darfur_summary_statistics_reproduce_the_published_table():
    # Cinelli & Hazlett (2020), Table 1: R2 2.2%, RV 13.9%, RV_alpha 7.6%
    t = EST / SE
    assert round(partial_r2(t, DOF), 3) == 0.022
    assert round(robustness_value(t, DOF), 3) == 0.139
    assert round(robustness_value(t, DOF, alpha=0.05), 3) == 0.076


@pytest.mark.parametrize("q", [0.25, 0.5, 1.0, 2.0])
def test_confounder_at_the_robustness_value_moves_the_estimate_exactly_by_q(q):
    rv = robustness_value(EST / SE, DOF, q=q)
    assert abs(adjusted_estimate(EST, SE, DOF, rv, rv) - EST * (1 - q)) < 1e-12


def test_confounder_at_rv_alpha_makes_the_adjusted_t_equal_the_critical_value():
    rv = robustness_value(EST / SE, DOF, q=1, alpha=0.05)
    crit = stats.t.ppf(0.975, DOF - 1)
    # sensemakr's adjusted t uses the confounder-adjusted dof (dof - 1) in the se factor
    assert abs(adjusted_t(EST, SE, DOF, rv, rv) - crit) < 1e-9


def test_robustness_value_is_zero_when_already_insignificant():
    assert robustness_value(1.0, 100, alpha=0.05) == 0.0


def test_robustness_value_uses_extreme_value_when_the_outcome_constraint_binds():
    # f_q > 1 / f_crit: a confounder explaining all outcome variance is cheapest
    t, dof = 60.0, 100
    assert robustness_value(t, dof, alpha=0.05) == pytest.approx(extreme_robustness_value(t, dof, alpha=0.05))


def test_extreme_robustness_value_without_alpha_is_the_partial_r2():
    assert extreme_robustness_value(4.2, 783, alpha=1) == pytest.approx(partial_r2(4.2, 783), rel=1e-14)


def test_vectorised_inputs_return_arrays_and_scalars_return_floats():
    assert isinstance(partial_r2(2.0, 10), float)
    out = adjusted_estimate(EST, SE, DOF, np.array([0.0, 0.1]), 0.1)
    assert out.shape == (2,) and out[0] == pytest.approx(EST)


def test_increasing_bias_pushes_the_estimate_away_from_zero():
    assert adjusted_estimate(-EST, SE, DOF, 0.1, 0.1, reduce=False) < -EST


def test_adjusted_se_carries_the_dof_over_dof_minus_one_factor():
    assert adjusted_se(SE, DOF, 0.0, 0.0) == pytest.approx(SE * math.sqrt(DOF / (DOF - 1)), rel=1e-14)


def test_group_partial_r2_of_one_coefficient_equals_its_partial_r2():
    t = 2.7
    assert group_partial_r2(t ** 2, 1, 500) == pytest.approx(partial_r2(t, 500), rel=1e-14)


@pytest.mark.parametrize("kwargs, match", [
    ({"r2dz_x": 1.2, "r2yz_dx": 0.1}, r"r2dz_x must be partial R² values in \[0, 1\]"),
    ({"r2dz_x": 0.1, "r2yz_dx": -0.1}, r"r2yz_dx must be partial R² values"),
])
def test_out_of_range_partial_r2_is_refused(kwargs, match):
    with pytest.raises(SpecError, match=match):
        adjusted_estimate(EST, SE, DOF, **kwargs)


@pytest.mark.parametrize("call, match", [
    (lambda: robustness_value(2.0, 100, q=-1), r"q must be a finite number >= 0"),
    (lambda: robustness_value(2.0, 100, alpha=1.5), r"alpha must lie in \[0, 1\]"),
    (lambda: partial_r2(2.0, 0), r"residual degrees of freedom must be finite and > 0"),
    (lambda: adjusted_se(-1.0, 100, 0.1, 0.1), r"standard error must be finite and >= 0"),
    (lambda: adjusted_estimate("big", SE, DOF, 0.1, 0.1), r"estimate must be a single number"),
    (lambda: sens.adjusted_ci(EST, SE, DOF, 0.1, 0.1, which="mid"), r"which must be 'lwr' or 'upr'"),
])
def test_bad_arguments_name_the_argument_and_the_fix(call, match):
    with pytest.raises(SpecError, match=match):
        call()


def test_impossible_kd_is_refused_with_a_fix():
    with pytest.raises(SpecError, match=r"implies R²_\{D~Z\|X\} >= 1.*Use a smaller kd"):
        sens.ovb_partial_r2_bound(Benchmark("x", 0.5, 0.1), kd=2)


def test_implied_outcome_r2_above_one_is_capped_with_a_warning():
    with pytest.warns(UserWarning, match="greater than 1"):
        (b,) = sens.ovb_partial_r2_bound(Benchmark("x", 0.05, 0.6), kd=1, ky=3)
    assert b.r2yz_dx == 1.0


def test_mismatched_multipliers_are_refused():
    with pytest.raises(SpecError, match="kd has 3 values but ky has 2"):
        sens.ovb_partial_r2_bound(Benchmark("x", 0.01, 0.1), kd=[1, 2, 3], ky=[1, 2])


def test_bound_labels_follow_sensemakr():
    bounds = sens.ovb_partial_r2_bound(Benchmark("age", 0.01, 0.1), kd=[1, 1.5], ky=[1, 3])
    assert [b.label for b in bounds] == ["1x age", "1.5/3x age"]


def test_manual_bounds_come_first_and_default_ry_to_rd():
    res = sensemakr(EST, SE, DOF, r2dz_x=[0.05], benchmarks=[Benchmark("female", 0.00908, 0.109)])
    assert [b.label for b in res.bounds] == ["manual_bound", "1x female"]
    assert res.bounds[0].r2yz_dx == 0.05
    assert res.bounds[0].adjusted_estimate == pytest.approx(adjusted_estimate(EST, SE, DOF, 0.05, 0.05))


def test_t_statistic_tests_h0_as_sensemakr_does():
    res = sensemakr(EST, SE, DOF, q=0.5, reduce=False)
    assert res.h0 == pytest.approx(1.5 * EST)
    assert res.t_statistic == pytest.approx((EST - 1.5 * EST) / SE)


def test_interpretation_states_the_robustness_value_in_words():
    res = sensemakr(EST, SE, DOF, benchmarks=[Benchmark("female", 0.00908, 0.109)], kd=[1, 3])
    text = res.interpretation()
    assert "would have to explain at least 13.88% of the residual variance of both the treatment and the outcome" in text
    assert "to bring the estimate to zero" in text
    assert "3x female" in text and "would leave the 95% interval covering 0" in text


def test_minimal_reporting_without_bounds_and_unknown_format():
    res = sensemakr(EST, SE, DOF)
    assert res.minimal_reporting("latex").endswith("\\multicolumn{5}{r}{ }\\end{tabular}\n\\end{table}")
    with pytest.raises(SpecError, match="format='latex' or format='pure_html'"):
        res.minimal_reporting("markdown")


def test_result_is_frozen_and_serialisable():
    res = sensemakr(EST, SE, DOF, benchmarks=[Benchmark("female", 0.00908, 0.109)])
    with pytest.raises(AttributeError):
        res.estimate = 1.0
    d = res.to_dict()
    assert d["bounds"][0]["label"] == "1x female"
    assert list(res.bounds_table().columns)[:3] == ["label", "r2dz_x", "r2yz_dx"]


# --- from data -------------------------------------------------------------------------------

def _simulated(seed=7, n=400):
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    group = rng.choice(["a", "b", "c"], size=n)
    d = 0.5 * x1 + 0.3 * x2 + (group == "b") + rng.normal(size=n)
    y = 0.4 * d + x1 - 0.5 * x2 + 0.3 * (group == "c") + rng.normal(size=n)
    return pd.DataFrame({"y": y, "d": d, "x1": x1, "x2": x2, "g": group})


def test_from_data_agrees_with_statsmodels_ols():
    import statsmodels.api as sm

    df = _simulated()
    res = sensemakr_from_data(df, "y", "d", ["x1", "x2", "g"], benchmark="x2")
    X = sm.add_constant(pd.get_dummies(df[["d", "x1", "x2", "g"]], drop_first=True, dtype=float))
    fit = sm.OLS(df["y"], X).fit()
    assert res.estimate == pytest.approx(fit.params["d"], rel=1e-10)
    assert res.se == pytest.approx(fit.bse["d"], rel=1e-10)
    assert res.dof == fit.df_resid
    assert res.benchmarks[0].r2yxj_dx == pytest.approx(partial_r2(fit.tvalues["x2"], fit.df_resid), rel=1e-10)


def test_factor_levels_are_named_like_r_and_can_be_grouped():
    df = _simulated()
    res = sensemakr_from_data(df, "y", "d", ["x1", "x2", "g"], benchmark={"g": ["gb", "gc"]}, kd=[1, 2])
    assert [b.label for b in res.bounds] == ["1x g", "2x g"]
    assert res.benchmarks[0].covariates == ("gb", "gc")


def test_a_factor_variable_name_as_benchmark_points_to_its_levels():
    with pytest.raises(SpecError, match=r"'g' is a factor: name a level such as \['gb', 'gc'\]"):
        sensemakr_from_data(_simulated(), "y", "d", ["x1", "g"], benchmark="g")


def test_aliased_covariates_are_dropped_like_r():
    df = _simulated()
    df["x1_copy"] = 2 * df["x1"]
    full = sensemakr_from_data(df, "y", "d", ["x1", "x2", "x1_copy"])
    base = sensemakr_from_data(df, "y", "d", ["x1", "x2"])
    assert full.estimate == pytest.approx(base.estimate, rel=1e-12) and full.dof == base.dof


def test_missing_values_drop_rows_like_na_omit():
    df = _simulated()
    df.loc[:9, "x2"] = np.nan
    res = sensemakr_from_data(df, "y", "d", ["x1", "x2"])
    assert res.nobs == len(df) - 10


def test_constant_treatment_is_an_estimation_error():
    df = _simulated().assign(d=1.0)
    with pytest.raises(EstimationError, match="treatment is collinear with the covariates \\(or constant\\)"):
        sensemakr_from_data(df, "y", "d", ["x1"])


def test_missing_columns_are_a_data_error():
    with pytest.raises(DataError, match=r"column\(s\) \['nope'\] are missing"):
        sensemakr_from_data(_simulated(), "y", "d", ["nope"])


def test_formula_interface_equals_precomputed_columns():
    df = _simulated().assign(z=lambda d: np.exp(d.x2 / 3))
    via_formula = sens.sensemakr_from_formula(df, "y ~ d + x1 + I(x1^2) + log(z) + g", "d",
                                              benchmark=["I(x1^2)", "gb"], kd=[1, 2])
    pre = df.assign(x1sq=df.x1 ** 2, logz=np.log(df.z))
    via_columns = sensemakr_from_data(pre, "y", "d", ["x1", "x1sq", "logz", "g"], benchmark=["x1sq", "gb"], kd=[1, 2])
    assert via_formula.outcome == "y"
    assert via_formula.estimate == pytest.approx(via_columns.estimate, rel=1e-12)
    assert [b.adjusted_t for b in via_formula.bounds] == pytest.approx([b.adjusted_t for b in via_columns.bounds],
                                                                       rel=1e-10)
    assert [b.label for b in via_formula.bounds][0] == "1x I(x1^2)"


@pytest.mark.parametrize("value, text", [(100000, "1e+05"), (123456, "123456"), (0.0001, "1e-04"),
                                         (0.00012, "0.00012"), (0.1 + 0.2, "0.3"), (-0.006, "-0.006"), (783, "783")])
def test_numbers_in_tables_print_like_r_paste(value, text):
    from causalspec.sensitivity._reporting import r_num

    assert r_num(value) == text


def test_non_binding_robustness_value_reaches_the_critical_t_as_in_sensemakr_tests():
    # sensemakr's own test (test-10-rv-xrv.R): dof = 7, estimate 1, se 0.3
    dof, est, se = 7, 1.0, 0.3
    tcrit = stats.t.ppf(0.975, dof - 1)
    fs = tcrit / math.sqrt(dof - 1)
    rv = robustness_value(est / se, dof, alpha=0.05)
    assert adjusted_t(est, se, dof, rv, rv / (fs ** 2 + rv)) == pytest.approx(tcrit, rel=1e-12)
    grid = np.linspace(1e-4, rv, 40)
    assert np.all(adjusted_t(est, se, dof, grid[:, None], (rv / (fs ** 2 + rv)) * grid[None, :] / rv) > tcrit - 1e-9)


def test_robustness_value_printed_in_sensemakr_tests():
    assert round(robustness_value(2, 100), 7) == 0.1809975
