"""Result.predict and Result.fixef: fixed-effect values and predictions against pyfixest (reference values in
tests/parity/cases/pyfixest_fixef_predict_*.json, made by tools/reference/fixef_predict_pyfixest.py with their
provenance), the kernel against an exact dense least-squares solve, OLS predictions against statsmodels (computed
here), and the refusals."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

import causalspec as cs
from causalspec.errors import DataError, UnsupportedError
from causalspec.estimators.fixest._demean import encode_fixed_effects
from causalspec.estimators.fixest._fixef import fixef_values
from causalspec.result import Result
from causalspec.result._predict import _new_matrix
from parity._cases import assert_close, case_data, load_case

# ------------------------------------------------------------------------------------------ pyfixest parity
FE_EDGES = {
    "wagepan": None,  # specs/wagepan_fe.yaml
    "trade": ["Origin -> ldist", "Origin -> leuros", "Destination -> ldist", "Destination -> leuros",
              "ldist -> leuros"],
}


def _fit_case(name: str):
    case = load_case(f"pyfixest_fixef_predict_{name}")
    frame = case_data(case)
    if name == "wagepan":
        spec = cs.load("specs/wagepan_fe.yaml")
    else:  # the case's call.prepare
        frame["leuros"] = np.log(frame["Euros"])
        frame["ldist"] = np.log(frame["dist_km"])
        spec = cs.Spec(name="gravity", treatment="ldist", outcome="leuros", dag={"edges": FE_EDGES[name]},
                       design=case["causalspec"]["design"])
    return case, frame, cs.fit(cs.plan(spec), frame)


@pytest.fixture(scope="module", params=["wagepan", "trade"])
def fe_case(request):
    return _fit_case(request.param)


def test_fixef_values_match_pyfixest_in_fixests_normalisation(fe_case):
    case, frame, result = fe_case
    e, tol = case["expected"], case["tolerance"]
    first, second = list(e["fixef"])
    ours = result.fixef()
    assert list(ours) == [first, second]
    # fixest's rule: the second fixed effect's level of the first estimation row is the reference (0)
    ref = frame[second].iloc[0]
    assert ours[second][ref] == 0.0
    pf_ref = e["fixef_references"][second]
    assert len(pf_ref) == 1  # one connected component: pyfixest drops the first sorted level
    if case["id"].endswith("trade"):
        assert (ref, pf_ref[0]) == ("LU", "AT")  # the two normalisations differ here: the test moves pyfixest's
    pf_second = {str(k): 0.0 for k in pf_ref} | e["fixef"][second]
    shift = pf_second[str(ref)]  # one shift per component leaves every alpha_g + gamma_h unchanged
    want_first = [e["fixef"][first][str(k)] + shift for k in ours[first].index]
    want_second = [pf_second[str(k)] - shift for k in ours[second].index]
    assert_close(ours[first].to_numpy(), want_first, rel=tol["fixef_rel"], abs_=tol["abs"], what=first)
    assert_close(ours[second].to_numpy(), want_second, rel=tol["fixef_rel"], abs_=tol["abs"], what=second)
    assert_close(result.params[list(e["coef"])].to_numpy(), list(e["coef"].values()), rel=tol["coef_rel"],
                 what="coef")


def test_fitted_values_match_pyfixest(fe_case):
    case, frame, result = fe_case
    e, tol = case["expected"], case["tolerance"]
    fitted = result.predict()
    assert len(fitted) == e["nobs"] and fitted.index.equals(frame.index)
    assert_close(fitted.to_numpy()[e["fitted"]["rows"]], e["fitted"]["values"], rel=tol["fitted_rel"],
                 what="fitted")
    assert fitted.sum() == pytest.approx(e["fitted"]["sum"], rel=tol["fitted_rel"])


def test_predictions_for_new_rows_match_pyfixest_and_unseen_levels_are_nan(fe_case):
    case, frame, result = fe_case
    e, tol = case["expected"], case["tolerance"]
    new = pd.DataFrame(e["newdata"]["rows"]).astype({c: frame[c].dtype for c in e["newdata"]["rows"][0]})
    with pytest.warns(UserWarning, match="did not estimate"):
        got = result.predict(new)
    assert got.index.equals(new.index)
    assert_close(got.to_numpy(), e["newdata"]["predict"], rel=tol["fitted_rel"], what="predict(newdata)")


def test_fe_prediction_of_an_estimation_row_is_its_fitted_value():
    _, frame, result = _fit_case("wagepan")
    rows = frame.iloc[[3, 500, 4000]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every level is known: no warning
        got = result.predict(rows)
    assert np.allclose(got.to_numpy(), result.predict().loc[rows.index].to_numpy(), rtol=1e-13)
    missing = rows.assign(expersq=[np.nan, 4.0, 9.0])
    assert np.isnan(result.predict(missing).iloc[0])


# ------------------------------------------------------------------------------------------ the kernel
def _dense_projection(u, codes, w):
    D = np.column_stack([np.eye(c.max() + 1)[c] for c in codes])
    root = np.sqrt(w)
    coef, *_ = np.linalg.lstsq(D * root[:, None], u * root, rcond=None)
    return D @ coef


def test_kernel_sum_of_fixed_effects_is_the_exact_weighted_projection():
    rng = np.random.default_rng(5)
    n = 600
    codes = {"a": rng.integers(0, 40, n), "b": rng.integers(0, 7, n), "c": rng.integers(0, 5, n)}
    u = rng.normal(size=n) + codes["a"] * 0.1 - codes["b"] * 0.3
    w = rng.uniform(0.5, 2.0, n)
    for names in (("a",), ("a", "b"), ("a", "b", "c")):
        fe, _ = encode_fixed_effects({k: codes[k] for k in names}, n)
        v = fixef_values(u, fe, w)
        exact = _dense_projection(u, list(fe.codes), w)
        assert np.max(np.abs(v.sum_fe - exact)) < 1e-10
        again = sum(np.take(x, c) for x, c in zip(v.values, fe.codes))
        assert np.max(np.abs(again - exact)) < 1e-10
        assert v.references == (0,) + (1,) * (len(names) - 1) and v.regular and not v.notes
        first = [c[0] for c in fe.codes]
        assert all(v.values[q][first[q]] == 0.0 for q in range(1, len(names)))  # the first row's levels


def test_kernel_sets_one_reference_per_connected_component():
    # two separate groups of levels: workers 0-2 only at firms 0-1, workers 3-4 only at firms 2-3
    a = np.array([0, 0, 1, 1, 2, 3, 3, 4, 4])
    b = np.array([0, 1, 0, 1, 1, 2, 3, 2, 3])
    u = np.array([1.0, 2.0, 1.5, 2.5, 2.2, 5.0, 7.0, 6.0, 8.0])
    fe, _ = encode_fixed_effects({"worker": a, "firm": b}, len(u))
    v = fixef_values(u, fe)
    assert v.references == (0, 2) and not v.regular and "not regular" in v.notes[0]
    assert v.values[1][0] == 0.0 and v.values[1][2] == 0.0  # each component's first row's firm
    exact = _dense_projection(u, [a, b], np.ones(len(u)))
    assert np.max(np.abs(v.sum_fe - exact)) < 1e-12


# ------------------------------------------------------------------------------------------ OLS vs statsmodels
@pytest.fixture(scope="module")
def ols():
    rng = np.random.default_rng(3)
    n = 300
    g = rng.choice(["a", "b", "c"], n)
    z = rng.normal(size=n)
    d = 0.4 * z + rng.normal(size=n)
    y = 1.0 + 2.0 * d + z + (g == "b") * 0.7 - (g == "c") * 0.4 + rng.normal(size=n)
    data = pd.DataFrame({"y": y, "d": d, "z": z, "g": g})
    data.loc[5, "z"] = np.nan  # one row the fit drops
    spec = cs.Spec(name="ols", treatment="d", outcome="y", covariates=["g"],
                   dag={"edges": ["z -> d", "z -> y", "d -> y", "g -> y"]},
                   design={"type": "observational", "estimator": "ols"})
    ref = smf.ols("y ~ d + z + g", data=data).fit()
    return data, cs.fit(cs.plan(spec), data), ref


def test_ols_fitted_values_and_predictions_match_statsmodels(ols):
    data, result, ref = ols
    fitted = result.predict()
    assert fitted.index.equals(ref.fittedvalues.index)
    assert np.allclose(fitted.to_numpy(), ref.fittedvalues.to_numpy(), rtol=1e-12, atol=0)
    # new rows, among them none of the reference level 'a' (the fit's coding must still be used)
    new = pd.DataFrame({"d": [0.0, 1.5, -2.0], "z": [0.3, np.nan, 1.0], "g": ["b", "c", "c"]}, index=[10, 11, 12])
    got = result.predict(new)
    want = ref.predict(new.dropna())
    assert got.index.equals(new.index) and np.isnan(got[11])
    assert np.allclose(got.loc[want.index].to_numpy(), want.to_numpy(), rtol=1e-12, atol=0)


def test_an_unseen_factor_level_is_refused_with_its_column_and_level(ols):
    _, result, _ = ols
    new = pd.DataFrame({"d": [0.0, 1.0], "z": [0.0, 0.0], "g": ["b", "zz"]})
    with pytest.raises(DataError, match=r"level 'zz' of 'g'.*does not have") as info:
        result.predict(new)
    assert info.value.problems[0].loc == "newdata.g" and info.value.problems[0].code == "unseen_level"
    with pytest.raises(DataError, match="no column 'z'"):
        result.predict(new.drop(columns="z"))


# ------------------------------------------------------------------------------------------ refusals
def test_predict_and_fixef_are_refused_where_they_do_not_apply(ols):
    _, result, _ = ols
    with pytest.raises(UnsupportedError, match="no fixed effects"):
        result.fixef()
    rng = np.random.default_rng(0)
    exp = pd.DataFrame({"d": rng.integers(0, 2, 100), "y": rng.normal(size=100)})
    spec = cs.Spec(name="ab", treatment="d", outcome="y", dag={"edges": ["d -> y"]},
                   design={"type": "experiment", "estimator": "difference_in_means"})
    with pytest.raises(UnsupportedError, match="difference_in_means estimator .*difference in means"):
        cs.fit(cs.plan(spec), exp).predict()
    rd = cs.run("specs/rd_senate.yaml", refute=False)
    with pytest.raises(UnsupportedError, match="rdrobust .*jump at the cutoff"):
        rd.predict()
    again = Result.from_json(result.to_json())
    with pytest.raises(UnsupportedError, match="read back from JSON"):
        again.predict()
    with pytest.raises(UnsupportedError, match="scale\\(\\), center\\(\\) or poly\\(\\)"):
        _new_matrix("d + scale(z)", True, ols[0], ols[0], [])
