"""2SLS: known truth in simulation, agreement of the fixest and AER front ends, and refusals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from causalspec.errors import DataError
from causalspec.estimators._iv import iv2sls, iv_fitstat, ivreg
from causalspec.estimators.fixest import feols


@pytest.fixture(scope="module")
def sim():
    rng = np.random.default_rng(11)
    n = 4000
    g = rng.integers(0, 40, n)
    z1, z2, w, u = rng.normal(size=(4, n))
    x = 0.8 * z1 + 0.5 * z2 + 0.3 * w + 0.1 * g + 0.8 * u + rng.normal(size=n)
    y = 2.0 * x - 1.0 * w + 0.05 * g + u + rng.normal(size=n)
    return pd.DataFrame({"y": y, "x": x, "w": w, "z1": z1, "z2": z2, "g": g})


def test_2sls_recovers_the_causal_slope_that_ols_misses(sim):
    iv = iv2sls(sim["y"], sim[["w"]], ["w"], sim["x"], ["x"], sim[["z1", "z2"]], ["z1", "z2"], sim[["g"]])
    ols = feols(sim["y"], sim[["x", "w"]], ["x", "w"], sim[["g"]])
    assert abs(iv.second.coef_dict()["fit_x"] - 2.0) < 0.05
    assert abs(ols.coef_dict()["x"] - 2.0) > 0.15


def test_fixest_and_aer_front_ends_agree_without_fixed_effects(sim):
    one = np.ones(len(sim))
    iv = iv2sls(sim["y"], np.column_stack([one, sim["w"]]), ["(Intercept)", "w"], sim["x"], ["x"],
                sim[["z1", "z2"]], ["z1", "z2"])
    aer = ivreg(sim["y"], np.column_stack([one, sim["x"], sim["w"]]), ["(Intercept)", "x", "w"],
                np.column_stack([one, sim["w"], sim["z1"], sim["z2"]]), ["(Intercept)", "w", "z1", "z2"])
    a = aer.fit.coef_dict()
    b = iv.second.coef_dict()
    assert np.allclose([b["(Intercept)"], b["fit_x"], b["w"]], [a["(Intercept)"], a["x"], a["w"]], rtol=1e-10)


def test_strong_instruments_give_a_large_first_stage_f_and_endogeneity_is_detected(sim):
    iv = iv2sls(sim["y"], sim[["w"]], ["w"], sim["x"], ["x"], sim[["z1", "z2"]], ["z1", "z2"], sim[["g"]])
    fs = iv_fitstat(iv, "iid")
    assert fs["ivf1::x"]["stat"] > 500 and fs["ivf1::x"]["df1"] == 2
    assert fs["wh"]["p"] < 1e-6
    assert fs["sargan"]["df"] == 1 and fs["sargan"]["p"] > 0.001


def test_just_identified_model_has_no_sargan_test(sim):
    iv = iv2sls(sim["y"], sim[["w"]], ["w"], sim["x"], ["x"], sim[["z1"]], ["z1"], sim[["g"]])
    assert iv.sargan is None and "sargan" not in iv_fitstat(iv)


def test_fewer_instruments_than_endogenous_regressors_is_refused(sim):
    with pytest.raises(DataError, match=r"1 instrument\(s\) for 2 endogenous regressor\(s\)"):
        iv2sls(sim["y"], None, [], sim[["x", "w"]], ["x", "w"], sim[["z1"]], ["z1"], sim[["g"]])
