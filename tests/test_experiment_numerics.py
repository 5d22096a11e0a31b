"""Experiment estimators: Neyman difference in means, Welch test, Lin (2013) adjustment."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from causalspec.errors import DataError, EstimationError
from causalspec.estimators._experiment import difference_in_means, lm_lin, welch_t_test


@pytest.fixture
def trial():
    rng = np.random.default_rng(13)
    n = 400
    d = rng.permutation(np.repeat([0.0, 1.0], n // 2))
    stratum = rng.choice(["north", "south", "west"], size=n)
    age = rng.normal(40, 10, size=n)
    y = 2.0 + 1.5 * d + (stratum == "south") * 3.0 + 0.1 * age + rng.normal(size=n) * (1 + d)
    return pd.DataFrame({"y": y, "d": d, "stratum": stratum, "age": age})


def test_difference_in_means_is_neyman_with_welch_df(trial):
    y, d = trial.y.to_numpy(), trial.d.to_numpy()
    r = difference_in_means(y, d, term="d")
    y1, y0 = y[d == 1], y[d == 0]
    v1, v0 = y1.var(ddof=1) / len(y1), y0.var(ddof=1) / len(y0)
    assert abs(r.estimate - (y1.mean() - y0.mean())) < 1e-12
    assert abs(r.std_error - np.sqrt(v1 + v0)) < 1e-12
    assert abs(r.df - (v1 + v0) ** 2 / (v1**2 / (len(y1) - 1) + v0**2 / (len(y0) - 1))) < 1e-9
    assert list(r.table.term) == ["d"] and r.nobs == 400


def test_welch_test_agrees_with_difference_in_means(trial):
    y, d = trial.y.to_numpy(), trial.d.to_numpy()
    w, r = welch_t_test(y[d == 1], y[d == 0]), difference_in_means(y, d)
    assert abs(w.statistic - r.statistic) < 1e-12 and abs(w.p_value - r.p_value) < 1e-15


def test_non_binary_treatment_is_refused(trial):
    with pytest.raises(DataError, match=r"treatment must be 0/1.*Recode"):
        difference_in_means(trial.y, trial.d * 2)


def test_constant_treatment_cannot_be_estimated(trial):
    with pytest.raises(EstimationError, match="does not vary"):
        difference_in_means(trial.y, np.ones(len(trial)))


def test_lin_with_stratum_dummies_equals_post_stratification(trial):
    # With a saturated set of stratum indicators, Lin's estimator is the post-stratified estimate.
    res = lm_lin(trial.y, trial.d, trial[["stratum"]], treatment="d")
    effect = dict(zip(res.table.term, res.table.estimate))["d"]
    post = sum((g.y[g.d == 1].mean() - g.y[g.d == 0].mean()) * len(g) / len(trial)
               for _, g in trial.groupby("stratum"))
    assert abs(effect - post) < 1e-10
    assert res.terms == ("(Intercept)", "d", "stratumsouth_c", "stratumwest_c", "d:stratumsouth_c",
                         "d:stratumwest_c")
    assert res.vcov.kind == "HC2" and np.all(res.table.df == len(trial) - 6)


def test_lin_drops_and_counts_rows_with_missing_covariates(trial):
    trial.loc[[1, 2, 3], "age"] = np.nan
    res = lm_lin(trial.y, trial.d, trial[["age", "stratum"]], treatment="d")
    assert res.nobs == len(trial) - 3
    assert dict(res.dropped) == {"missing values in 'age'": 3}


def test_lin_centres_covariates_so_intercept_is_control_mean_at_average(trial):
    res = lm_lin(trial.y, trial.d, trial[["age"]], treatment="d")
    means = dict(res.covariate_means)
    assert abs(means["age"] - trial.age.mean()) < 1e-12
    X = res.fit.X_kept
    assert abs(X[:, 2].mean()) < 1e-10


def test_lin_with_clusters_defaults_to_cr2(trial):
    cl = np.arange(len(trial)) // 4
    res = lm_lin(trial.y, trial.d, trial[["age"]], cluster=cl, treatment="d")
    assert res.vcov.kind == "CR2" and res.vcov.n_clusters == 100
