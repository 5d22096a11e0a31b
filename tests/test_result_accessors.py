"""Result's statsmodels-style accessors and Wald tests against statsmodels on the same data and variance
(statsmodels is a test dependency; its numbers are computed here, in the test), and the JSON round trip
(Result.from_json / from_dict) on three designs."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

import causalspec as cs
from causalspec.errors import DataError, SpecError, UnsupportedError
from causalspec.result import Result


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(11)
    n = 400
    z = rng.normal(size=n)
    w = rng.normal(size=n)
    d = 0.5 * z + rng.normal(size=n)
    y = 1.0 + 2.0 * d + 1.5 * z + 1.5 * w + rng.normal(size=n) * (1 + np.abs(d))
    return pd.DataFrame({"y": y, "d": d, "z": z, "w": w})


def fit(data, vcov):
    spec = cs.Spec(name="acc", treatment="d", outcome="y", dag={"edges": ["z -> d", "z -> y", "d -> y", "w -> y"]},
                   covariates=["w"], design={"type": "observational", "estimator": "ols"}, inference={"vcov": vcov})
    return cs.fit(cs.plan(spec), data)


def reference(data, vcov):
    X = sm.add_constant(data[["d", "z", "w"]])
    return sm.OLS(data["y"], X).fit(cov_type="nonrobust" if vcov == "iid" else vcov)


@pytest.mark.parametrize("vcov", ["iid", "HC1", "HC3"])
def test_accessors_and_wald_match_statsmodels(data, vcov):
    r = fit(data, vcov)
    ref = reference(data, vcov)
    names = {"(Intercept)": "const", "d": "d", "z": "z", "w": "w"}
    for ours, theirs in ((r.params, ref.params), (r.bse, ref.bse)):
        for term, col in names.items():
            assert ours[term] == pytest.approx(theirs[col], rel=1e-10)
    for term, col in names.items():
        assert r.tvalues[term] == pytest.approx(ref.tvalues[col], rel=1e-10)
    ci = r.conf_int(0.9)
    ref_ci = reference(data, vcov).conf_int(0.1)
    if vcov == "iid":  # statsmodels uses t for nonrobust fits, normal quantiles for robust ones: compare like
        assert ci.loc["d", "conf_low"] == pytest.approx(ref_ci.loc["d", 0], rel=1e-10)
    assert (ci["conf_high"] - ci["conf_low"] < r.conf_int()["conf_high"] - r.conf_int()["conf_low"]).all()
    w = r.wald("z = w")
    f = ref.f_test("z = w")
    assert w["statistic"] == pytest.approx(float(np.squeeze(f.fvalue)), rel=1e-9)
    assert w["p_value"] == pytest.approx(float(f.pvalue), rel=1e-7)
    joint = r.wald(["z = 0", "2*w - z = 0.5"])
    fj = ref.f_test("z = 0, 2*w - z = 0.5")
    assert joint["statistic"] == pytest.approx(float(np.squeeze(fj.fvalue)), rel=1e-9)
    assert joint["df1"] == 2 and joint["df2"] == fj.df_denom


@pytest.mark.parametrize("bad, match", [("z == w", "unexpected|operator|exactly one"), ("z * w = 0", "not linear"),
                                        ("q = 0", "not a coefficient"), ("z = w = 0", "exactly one"),
                                        ("z - z = 0", "restricts no"), ("__import__('os') = 1", "unexpected|not a")])
def test_bad_hypotheses_are_refused_with_the_reason(data, bad, match):
    with pytest.raises(SpecError, match=match):
        fit(data, "HC1").wald(bad)


def test_repr_html_pickle_and_version(data):
    r = fit(data, "HC1")
    assert repr(r) == "<causalspec Result 'acc': d -> y, ATE 1.95793 (SE 0.127), n = 400, ols>"
    html = r._repr_html_()
    assert "<table" in html and "95% CI" in html
    again = pickle.loads(pickle.dumps(r))
    assert again.params.equals(r.params) and again.to_dict() == r.to_dict()
    assert r.to_dict()["version"] == cs.__version__


def test_vcov_cov_params_and_nobs_match_statsmodels(data):
    r = fit(data, "HC1")
    ref = reference(data, "HC1")
    order = ["(Intercept)", "d", "z", "w"]
    V = r.vcov().loc[order, order].to_numpy()
    assert np.allclose(V, ref.cov_params().to_numpy(), rtol=1e-10, atol=0)
    assert r.cov_params().equals(r.vcov())
    assert r.nobs == int(ref.nobs) == 400


# ------------------------------------------------------------------------------------------ JSON round trip
@pytest.fixture(scope="module")
def three_results(data):
    """Observational OLS, panel fixed effects (specs/wagepan_fe.yaml) and an experiment (Lin)."""
    panel = cs.fit(cs.plan(cs.load("specs/wagepan_fe.yaml")), pd.read_csv("tests/parity/data/wagepan.csv"))
    rng = np.random.default_rng(4)
    exp = pd.DataFrame({"d": rng.integers(0, 2, 200), "x": rng.normal(size=200)})
    exp["y"] = exp["d"] + exp["x"] + rng.normal(size=200)
    lin = cs.Spec(name="ab", treatment="d", outcome="y", dag={"edges": ["d -> y", "x -> y"]}, covariates=["x"],
                  design={"type": "experiment", "estimator": "lin"})
    return {"observational": fit(data, "HC1"), "panel": panel, "experiment": cs.fit(cs.plan(lin), exp)}


@pytest.mark.parametrize("design", ["observational", "panel", "experiment"])
def test_a_result_round_trips_through_json(three_results, design):
    r = three_results[design]
    again = Result.from_json(r.to_json())
    assert again.to_json() == r.to_json()
    assert again.plan.design == r.plan.design and again.plan.estimator is r.plan.estimator
    for name in ("params", "bse", "tvalues", "pvalues"):
        assert getattr(again, name).equals(getattr(r, name))
    assert again.conf_int().equals(r.conf_int()) and again.conf_int(0.8).equals(r.conf_int(0.8))
    assert again.vcov().equals(r.vcov()) and again.nobs == r.nobs
    assert again.summary() == r.summary()
    hyp = f"{r.params.index[-1]} = 0"
    assert again.wald(hyp) == r.wald(hyp)
    assert Result.from_dict(pickle.loads(pickle.dumps(again)).to_dict()).to_json() == r.to_json()


def test_a_result_read_back_says_what_it_cannot_do(three_results):
    again = Result.from_json(three_results["panel"].to_json())
    for call in (again.predict, again.fixef, lambda: again.with_vcov("iid")):
        with pytest.raises(UnsupportedError, match="read back"):
            call()


@pytest.mark.parametrize("version, error, match", [
    ("99.0.0", UnsupportedError, r"written by causalspec 99\.0\.0, newer than this one"),
    (None, DataError, "is not a causalspec version"),
    ("banana", DataError, "is not a causalspec version")])
def test_json_of_a_newer_or_unknown_version_is_refused(data, version, error, match):
    d = fit(data, "HC1").to_dict()
    d["version"] = version
    with pytest.raises(error, match=match):
        Result.from_dict(d)


def test_text_that_is_not_a_results_json_is_refused(data):
    with pytest.raises(DataError, match="not a result's JSON"):
        Result.from_json("{not json")
    d = fit(data, "HC1").to_dict()
    del d["estimates"]
    with pytest.raises(DataError, match="'estimates' is missing"):
        Result.from_dict(d)
