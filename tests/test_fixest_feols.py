"""feols and fixest_vcov: known truth, equivalence with dummy-variable OLS, and error wording."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from causalspec.errors import DataError, EstimationError, SpecError, UnsupportedError
from causalspec.estimators.fixest import feols, fit_stats, interact
from causalspec.inference._fixest import SSC, coeftable, fixest_vcov


@pytest.fixture(scope="module")
def panel():
    rng = np.random.default_rng(2024)
    units, periods = 80, 6
    unit = np.repeat(np.arange(units), periods)
    time = np.tile(np.arange(periods), units)
    state = unit // 10
    x1 = rng.normal(size=unit.size) + 0.3 * (unit % 7)
    x2 = rng.normal(size=unit.size)
    y = 1.5 * x1 - 0.7 * x2 + 0.2 * unit + 0.5 * time + rng.normal(size=unit.size)
    return pd.DataFrame({"y": y, "x1": x1, "x2": x2, "unit": unit, "time": time, "state": state})


def test_feols_recovers_the_true_slopes(panel):
    fit = feols(panel["y"], panel[["x1", "x2"]], ["x1", "x2"], panel[["unit", "time"]])
    est = fit.coef_dict()
    assert abs(est["x1"] - 1.5) < 0.1 and abs(est["x2"] + 0.7) < 0.1


def test_feols_equals_least_squares_with_dummies_and_iid_ses(panel):
    fit = feols(panel["y"], panel[["x1", "x2"]], ["x1", "x2"], panel[["unit", "time"]], tol=1e-12)
    D = pd.get_dummies(panel[["unit", "time"]].astype(str), drop_first=True).to_numpy(float)
    X = np.column_stack([panel[["x1", "x2"]].to_numpy(), np.ones(len(panel)), D])
    ols = sm.OLS(panel["y"].to_numpy(), X).fit()
    assert np.allclose(fit.coef, ols.params[:2], rtol=1e-9)
    v = fixest_vcov(fit, "iid")
    assert np.allclose(v.se, ols.bse[:2], rtol=1e-8)
    assert fit.nparams == X.shape[1] and v.df_t == ols.df_resid


def test_without_fixed_effects_hetero_is_hc1_and_cluster_matches_statsmodels(panel):
    X = np.column_stack([np.ones(len(panel)), panel[["x1", "x2"]]])
    fit = feols(panel["y"], X, ["(Intercept)", "x1", "x2"])
    ols = sm.OLS(panel["y"].to_numpy(), X)
    assert np.allclose(fixest_vcov(fit).se, ols.fit().bse, rtol=1e-10)
    assert np.allclose(fixest_vcov(fit, "hetero").matrix, ols.fit(cov_type="HC1").cov_params(), rtol=1e-10)
    v = fixest_vcov(fit, "cluster", panel[["state"]])
    sm_cl = ols.fit(cov_type="cluster", cov_kwds={"groups": panel["state"].to_numpy()})
    assert np.allclose(v.matrix, sm_cl.cov_params(), rtol=1e-10)
    assert v.df_t == panel["state"].nunique() - 1 and v.label == "Clustered (state)"


def test_fixed_effects_nested_in_the_cluster_leave_the_small_sample_count(panel):
    fit = feols(panel["y"], panel[["x1"]], ["x1"], {"unit": panel["unit"], "time": panel["time"]})
    by_state = fixest_vcov(fit, "cluster", panel[["state"]])
    # unit is nested in state, time is not: K = 1 coefficient + (6 - 1) time levels + 1.
    assert by_state.df_k == 1 + 5 + 1
    full = fixest_vcov(fit, "cluster", panel[["state"]], ssc=SSC(fixef_k="full"))
    assert full.df_k == fit.nparams
    ratio = (full.se / by_state.se) ** 2
    n = fit.nobs
    assert np.allclose(ratio, ((n - 1) / (n - full.df_k)) / ((n - 1) / (n - by_state.df_k)))


def test_interacted_fixed_effect_absorbs_unit_by_period_cells(panel):
    cell = interact(panel["state"], panel["time"])
    fit = feols(panel["y"], panel[["x1"]], ["x1"], pd.DataFrame({"state^time": cell}))
    assert fit.fixef_sizes == {"state^time": 8 * 6}
    assert fixest_vcov(fit, "cluster", panel[["state"]]).df_k == 2  # nested: the FE counts as one intercept


def test_missing_values_are_dropped_and_counted(panel):
    y = panel["y"].to_numpy().copy()
    y[[0, 5, 9]] = np.nan
    fit = feols(y, panel[["x1"]], ["x1"], panel[["unit"]])
    assert fit.nobs == len(panel) - 3 and fit.sample.n_na_removed == 3
    assert "3 observations removed because of NA values." in fit.notes


def test_weights_give_weighted_least_squares(panel):
    w = np.random.default_rng(1).uniform(0.5, 2, len(panel))
    X = np.column_stack([np.ones(len(panel)), panel[["x1", "x2"]]])
    fit = feols(panel["y"], X, ["(Intercept)", "x1", "x2"], weights=w)
    wls = sm.WLS(panel["y"].to_numpy(), X, weights=w).fit()
    assert np.allclose(fit.coef, wls.params, rtol=1e-10)
    assert np.allclose(fixest_vcov(fit).se, wls.bse, rtol=1e-10)
    assert np.isclose(fit_stats(fit)["r2"], wls.rsquared, rtol=1e-10)


def test_coeftable_has_the_tidy_columns(panel):
    fit = feols(panel["y"], panel[["x1"]], ["x1"], panel[["unit"]])
    tab = coeftable(fit, fixest_vcov(fit))
    assert list(tab.columns) == ["term", "estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high"]


def test_bad_inputs_are_refused_with_a_located_message(panel):
    with pytest.raises(DataError, match="names has 1 entries but X has 2 columns"):
        feols(panel["y"], panel[["x1", "x2"]], ["x1"])
    with pytest.raises(DataError, match="X is not numeric"):
        feols(panel["y"], np.array([["a"]] * len(panel)), ["x"])
    with pytest.raises(DataError, match="weights: some weights are negative"):
        feols(panel["y"], panel[["x1"]], ["x1"], weights=-np.ones(len(panel)))
    with pytest.raises(DataError, match="fixef_rm = 'all' is not supported"):
        feols(panel["y"], panel[["x1"]], ["x1"], panel[["unit"]], fixef_rm="all")
    with pytest.raises(UnsupportedError, match="fixed effects only"):
        feols(panel["y"], np.empty((len(panel), 0)), [], panel[["unit"]])
    with pytest.raises(EstimationError, match="collinear with the fixed effects"):
        feols(panel["y"], panel[["state"]].astype(float), ["state"], panel[["unit"]])


def test_bad_cluster_requests_are_refused(panel):
    fit = feols(panel["y"], panel[["x1"]], ["x1"], panel[["unit"]])
    with pytest.raises(SpecError, match="cluster 'firm' is not a fixed effect of the fit"):
        fixest_vcov(fit, "cluster", ["firm"])
    with pytest.raises(DataError, match="cluster 'state' has 3 rows"):
        fixest_vcov(fit, "cluster", pd.DataFrame({"state": [1, 2, 3]}))
    with pytest.raises(SpecError, match="vcov 'HC9' is not one of"):
        fixest_vcov(fit, "HC9")


def test_a_single_fixed_effect_can_be_given_as_a_series(panel):
    fit = feols(panel["y"], panel[["x1"]], ["x1"], panel["unit"])
    assert fit.fixef_sizes == {"unit": 80}
    assert fixest_vcov(fit).label == "Clustered (unit)"


def test_weighted_two_way_clustering_equals_the_inclusion_exclusion_sum(panel):
    w = np.random.default_rng(9).uniform(0.5, 2, len(panel))
    fit = feols(panel["y"], panel[["x1", "x2"]], ["x1", "x2"], panel[["unit"]], weights=w)
    raw = SSC(adj=False, cluster_adj=False)
    two = fixest_vcov(fit, "cluster", panel[["state", "time"]], ssc=raw).matrix
    a = fixest_vcov(fit, "cluster", panel[["state"]], ssc=raw).matrix
    b = fixest_vcov(fit, "cluster", panel[["time"]], ssc=raw).matrix
    cell = pd.DataFrame({"cell": panel["state"].astype(str) + "_" + panel["time"].astype(str)})
    ab = fixest_vcov(fit, "cluster", cell, ssc=raw).matrix
    assert np.allclose(two, a + b - ab, rtol=1e-10)


def test_clustering_by_a_single_group_is_refused(panel):
    fit = feols(panel["y"], panel[["x1"]], ["x1"], panel[["unit"]])
    with pytest.raises(EstimationError, match="has a single cluster in the sample"):
        fixest_vcov(fit, "cluster", pd.DataFrame({"one": np.zeros(len(panel))}))
