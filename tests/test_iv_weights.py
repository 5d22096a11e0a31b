"""Observation weights in the IV design (issue 12): ``weights: w`` gives AER::ivreg(weights = w) without fixed
effects and fixest::feols(y ~ x | fe | d ~ z, weights = ~w) with them, and every number the result reports beside
the estimate is weighted as R weights it: summary.ivreg's fit statistics and Wald test, the weighted first stages,
AER's diagnostics (CR1 included), the naive contrast, the control function and the exclusion-restriction refits.

References: tools/rparity/build_iv_weights.R (Debian's R 4.2.2, AER 1.2.10, sandwich 3.0.2, lmtest 0.9.40), which
writes iv_mroz_weights.json, iv_mroz_weights_zero.json, iv_mroz_weights_fe.json and iv_mroz_aer_cr1_diagnostics.json.
The weights are w = 1 + kidslt6 + age / 50 and w0 = w, 0 when kidsge6 >= 4, computed here as R computes them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import causalspec as cs
from causalspec.designs import WEIGHTED, fit as fit_design
from causalspec.errors import DataError
from causalspec.planner import Estimator
from causalspec.sensitivity._plausibly_exogenous import _interval
from parity._cases import assert_close, case_data, load_case

SPECS = Path(__file__).resolve().parents[1] / "specs"
REL = 1e-8
KINDS = ["iid", "HC0", "HC1", "HC2", "HC3", "CR1"]


def _data(case) -> pd.DataFrame:
    d = case_data(case)
    d["w"] = 1 + d["kidslt6"] + d["age"] / 50  # the R script's d$w <- 1 + d$kidslt6 + d$age / 50
    d["w0"] = np.where(d["kidsge6"] >= 4, 0.0, d["w"])
    return d


def _inference(kind: str, cluster: str = "age") -> dict:
    return {"vcov": kind, "cluster": [cluster]} if kind == "CR1" else {"vcov": kind}


def _spec(inference: dict, weights: str | None = "w", fixed_effects=(), sensitivity=None) -> cs.Spec:
    spec = cs.load(SPECS / "mroz_iv.yaml").model_dump()
    if fixed_effects:
        spec["design"] = {**spec["design"], "fixed_effects": list(fixed_effects)}
    return cs.Spec(**{**spec, "weights": weights, "inference": inference,
                      "sensitivity": sensitivity or {"enabled": False}})


def _row(result, term):
    rows = {r.term: r for r in result.coefficients}
    return rows.get(term) or rows[f"fit_{term}"]


def _check_rows(got_rows, exp, what, terms=None):
    for term in terms or exp["coef"]:
        r = got_rows(term)
        assert_close([r.estimate, r.std_error, r.statistic, r.p_value, r.conf_low, r.conf_high],
                     [exp["coef"][term], exp["se"][term], exp["tstat"][term], exp["pvalue"][term],
                      *exp["conf_int"][term]], rel=REL, abs_=0.0, what=f"{what} {term}")


def _check_table(got, exp, what):
    assert sorted(got["terms"]) == sorted(exp["coef"])
    for i, term in enumerate(got["terms"]):
        assert_close([got["estimate"][i], got["std_error"][i], got["statistic"][i], got["p_value"][i]],
                     [exp["coef"][term], exp["se"][term], exp["tstat"][term], exp["pvalue"][term]], rel=REL,
                     abs_=0.0, what=f"{what} {term}")


def _check_test(got, exp, what, stat="statistic"):
    assert (got["df1"], got["df2"]) == (exp["df1"], exp["df2"]), what
    assert_close([got[stat], got["p"]], [exp["statistic"], exp["p"]], rel=REL, abs_=0.0, what=what)


def _check_aer_variant(result, exp, kind):
    """Every number of a weighted IV fit without fixed effects against AER::ivreg(weights = w) with ``kind``."""
    _check_rows(lambda t: _row(result, t), exp["coefficients"], f"{kind} coefficients")
    assert result.effect.df == exp["t_df"]
    ss, ess = result.extras["second_stage"], exp["second_stage"]
    stats_ = dict(result.fit_stats)
    for key in ("r2", "adj_r2", "sigma", "df_residual", "ssr", "rmse"):
        assert_close([ss[key], stats_[key]], [ess[key]] * 2, rel=REL, abs_=0.0, what=f"{kind} {key}")
    _check_test(ss["wald"], ess["wald"], f"{kind} wald")
    assert "weights = w" in ss["wald"]["r_call"]
    _check_table(result.extras["first_stage_table"]["educ"], exp["first_stage"]["educ"], f"{kind} first stage")
    diag = result.extras["diagnostics"]
    for name, e in exp["diagnostics"].items():
        _check_test(diag[name], e, f"{kind} {name}")
    naive = result.naive
    n = exp["naive"]
    assert_close([naive.estimate, naive.std_error, naive.statistic, naive.p_value, naive.conf_low, naive.conf_high],
                 [n["coef"]["educ"], n["se"]["educ"], n["tstat"]["educ"], n["pvalue"]["educ"], *n["conf_int"]["educ"]],
                 rel=REL, abs_=0.0, what=f"{kind} naive")
    cf, ecf = result.extras["control_function"], exp["control_function"]
    got_cf = [cf["coefficients"][t] for t in ("(Intercept)", "educ", "exper", "expersq",
                                               "first_stage_residual_educ")]
    assert_close(got_cf, [ecf["coefficients"][t] for t in ("(Intercept)", "educ", "exper", "expersq", "v_educ")],
                 rel=REL, abs_=0.0, what=f"{kind} control function")
    _check_test(cf["test"], ecf["test"], f"{kind} control-function test")


# --- planning ----------------------------------------------------------------------------------------------------

def test_iv_takes_weights_and_the_plan_names_the_r_calls():
    assert "AER::ivreg(weights = w)" in WEIGHTED[Estimator.IV_2SLS]
    assert "weights = ~w" in WEIGHTED[Estimator.IV_2SLS]
    plan = cs.plan(_spec({"vcov": "HC1"}))
    assert plan.weights == "w"
    assert any("observation weights 'w' (AER::ivreg(weights = w)" in n for n in plan.notes)


# --- without fixed effects: AER::ivreg(weights = w) --------------------------------------------------------------

@pytest.fixture(scope="module")
def weighted():
    case = load_case("iv_mroz_weights")
    assert case["tolerance"]["rel"] == REL
    d = _data(case)
    assert d.loc[d["inlf"] == 1, "w"].sum() == pytest.approx(case["expected"]["sum_w"], rel=1e-15)
    return case, d


@pytest.mark.parametrize("kind", KINDS)
def test_weighted_iv_reports_every_number_as_aer_ivreg_with_weights(weighted, kind):
    case, d = weighted
    result = cs.fit(cs.plan(_spec(_inference(kind))), d)
    assert result.nobs == case["expected"]["nobs"]
    _check_aer_variant(result, case["expected"]["vcov_variants"][kind], kind)


def test_weighted_cr1_diagnostics_name_the_cluster_vector_aer_can_evaluate(weighted):
    case, d = weighted
    result = cs.fit(cs.plan(_spec(_inference("CR1"))), d)
    diag = result.extras["diagnostics"]
    assert "vcovCL(x, cluster = d$age" in diag["r_call"] and "weights = w" in diag["r_call"]
    assert diag["Weak instruments"]["robust"] and not diag["Sargan"]["robust"]


def test_multiway_cr1_diagnostics_say_why_they_are_not_computed(weighted):
    _, d = weighted
    result = cs.fit(cs.plan(_spec({"vcov": "CR1", "cluster": ["age", "city"]})), d)
    diag = result.extras["diagnostics"]
    assert diag["computed"] is False and "one column" in diag["reason"]
    assert "control_function" not in result.extras


def test_unweighted_cr1_diagnostics_match_aer_with_vcovcl():
    case = load_case("iv_mroz_aer_cr1_diagnostics")
    result = cs.fit(cs.plan(_spec(_inference("CR1"), weights=None)), case_data(case))
    exp = case["expected"]
    for name, e in exp["diagnostics"].items():
        _check_test(result.extras["diagnostics"][name], e, f"CR1 {name}")
    _check_test(result.extras["second_stage"]["wald"], exp["wald"], "CR1 wald")
    _check_test(result.extras["control_function"]["test"], exp["control_function"]["test"], "CR1 control function")


# --- zero and negative weights -------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
def test_zero_weights_are_dropped_counted_and_the_rest_matches_r_on_the_positive_rows(kind):
    case = load_case("iv_mroz_weights_zero")
    exp = case["expected"]
    result = cs.fit(cs.plan(_spec(_inference(kind), weights="w0")), _data(case))
    assert ("weight 0 in 'w0'", exp["n_zero_weight"]) in result.dropped
    assert result.nobs == exp["nobs"] == 403
    _check_aer_variant(result, exp["vcov_variants"][kind], f"w0 {kind}")


def test_with_zero_weights_the_numbers_r_defines_without_dropping_agree_too():
    """lm.wfit and AER::ivreg keep zero-weight rows out of the coefficients, vcov, sigma, R2 and the F tests, so
    those R numbers, computed with the rows kept, equal the dropped-row fit (sandwich's HC variances, the adjusted
    R2 and Sargan count the rows in n: the case records them, and the rows are dropped as fixest drops them)."""
    case = load_case("iv_mroz_weights_zero")
    same = case["expected"]["r_zero_rows_kept"]["same"]
    result = cs.fit(cs.plan(_spec({"vcov": "iid"}, weights="w0")), _data(case))
    for term, value in same["coef"].items():
        assert_close([_row(result, term).estimate, _row(result, term).std_error], [value, same["se_iid"][term]],
                     rel=REL, abs_=0.0, what=term)
    ss = result.extras["second_stage"]
    assert_close([ss["sigma"], ss["r2"], ss["df_residual"]], [same["sigma"], same["r2"], same["df_residual"]],
                 rel=REL, abs_=0.0, what="second stage")
    for name, e in same["diagnostics_iid"].items():
        _check_test(result.extras["diagnostics"][name], e, name)
    # sandwich counts the zero-weight rows in n: its HC1 SE with the rows kept is not the dropped-row one we report
    differ = case["expected"]["r_zero_rows_kept"]["differ"]["se_hc1"]["educ"]
    hc1 = case["expected"]["vcov_variants"]["HC1"]["coefficients"]["se"]["educ"]
    assert abs(differ / hc1 - 1) > 0.05


def test_a_negative_weight_is_refused_at_weights():
    case = load_case("iv_mroz_weights")
    d = _data(case)
    d.loc[d.index[3], "w"] = -0.5
    with pytest.raises(DataError, match=r"weights: 1 weight\(s\) in 'w' are negative") as info:
        cs.fit(cs.plan(_spec({"vcov": "HC1"})), d)
    problem = info.value.problems[0]
    assert problem.loc == "weights" and problem.code == "weights_invalid" and ">= 0" in problem.fix


# --- with fixed effects: fixest::feols(weights = ~w), checked against AER::ivreg with factor dummies ----------------

@pytest.mark.parametrize("kind,cluster", [("iid", None), ("HC1", None), ("CR1", "huseduc")])
def test_weighted_fe_iv_matches_fixest_through_the_dummy_regression(kind, cluster):
    case = load_case("iv_mroz_weights_fe")
    exp = case["expected"]
    inference = {"vcov": kind, "cluster": [cluster]} if cluster else {"vcov": kind}
    result = cs.fit(cs.plan(_spec(inference, fixed_effects=["age"])), _data(case))
    assert result.nobs == exp["nobs"]
    e = exp["vcov_variants"][kind]
    _check_rows(lambda t: _row(result, t), e["coefficients"], f"FE {kind}")
    assert result.effect.term == "fit_educ" and result.effect.df == e["t_df"]
    table = result.extras["first_stage_table"]["educ"]
    assert table["terms"] == ["motheduc", "fatheduc", "exper", "expersq"]  # fixest's first-stage order
    assert table["df"] == e["first_stage_t_df"] and "stage = 1" in table["r_call"] and "weights = ~w" in table["r_call"]
    _check_table(table, e["first_stage"]["educ"], f"FE {kind} first stage")
    naive, n = result.naive, e["naive"]
    assert_close([naive.estimate, naive.std_error, naive.p_value, naive.conf_low, naive.conf_high],
                 [n["coef"]["educ"], n["se"]["educ"], n["pvalue"]["educ"], *n["conf_int"]["educ"]],
                 rel=REL, abs_=0.0, what=f"FE {kind} naive")
    fit_stats = dict(result.fit_stats)
    for key, value in exp["fit_stats"].items():
        assert_close(fit_stats[key], value, rel=REL, abs_=0.0, what=f"FE {kind} {key}")


@pytest.mark.parametrize("variant,inference", [("default", None), ("iid", {"vcov": "iid"}),
                                               ("hetero", {"vcov": "HC1"})])
def test_the_fe_first_stage_table_is_fixest_s_first_stage_with_the_same_variance(variant, inference):
    """Without weights, against real fixest output: coeftable(fit$iv_first_stage$educ, vcov = v) in
    iv_mroz_fe_age (fixest::feols(lwage ~ exper + expersq | age | educ ~ motheduc + fatheduc))."""
    case = load_case("iv_mroz_fe_age")
    spec = cs.load(SPECS / "mroz_iv.yaml").model_dump()
    spec["design"] = {**spec["design"], "fixed_effects": ["age"]}
    spec = cs.Spec(**{**spec, "sensitivity": {"enabled": False}, **({"inference": inference} if inference else {})})
    result = cs.fit(cs.plan(spec), case_data(case))
    exp = case["expected"]["first_stage"]["educ"]["vcov_variants"][variant]
    table = result.extras["first_stage_table"]["educ"]
    assert table["terms"] == list(exp["coef"]) and table["df"] == exp["df_t"]
    assert "weights" not in table["r_call"] and "stage = 1" in table["r_call"]
    _check_table(table, exp, f"fixest first stage {variant}")


# --- the exclusion restriction (Conley, Hansen & Rossi) refitted with the weights -----------------------------------

def _inputs(result):
    return fit_design(result.plan, result._data).iv_arrays


@pytest.mark.parametrize("kind", ["iid", "HC1", "HC3", "CR1"])
def test_weighted_exclusion_intervals_and_union_match_r(weighted, kind):
    case, d = weighted
    exp = case["expected"]["exclusion"]
    result = cs.fit(cs.plan(_spec(_inference(kind), sensitivity={"exclusion_bound": exp["uci"][kind]["bound"]})), d)
    y, X, names, Zm, znames, z, instrument, term, variance = _inputs(result)
    assert variance.weights is not None and "weights" in variance.label
    for p in (p for p in exp["points"] if p["vcov"] == kind):
        got = _interval(y, X, names, Zm, znames, z, np.array(p["gamma"]), term, variance, p["level"])
        assert_close(got, p["conf_int"], rel=REL, abs_=0.0, what=f"{kind} gamma={p['gamma']}")
    ex = result.sensitivity.exclusion
    assert list(ex.grid) == exp["uci"][kind]["grid"] and "weights" in ex.estimator
    assert_close([ex.uci_low, ex.uci_high], exp["uci"][kind]["uci"], rel=REL, abs_=0.0, what=f"UCI {kind}")


def _hand_wls_2sls(y, X, Z, w, kind, level):
    """Weighted 2SLS by hand: OLS 2SLS on rows scaled by sqrt(w) (the intercept column scaled too, so no separate
    intercept is added), classical or HC1 variance; the interval of the last regressor (the treatment)."""
    r = np.sqrt(w)
    Xs, Zs, ys = X * r[:, None], Z * r[:, None], y * r
    Xh = Zs @ np.linalg.lstsq(Zs, Xs, rcond=None)[0]
    b = np.linalg.solve(Xh.T @ Xh, Xh.T @ ys)
    e = ys - Xs @ b  # sqrt(w) times the structural residuals
    n, k = X.shape
    A = np.linalg.inv(Xh.T @ Xh)
    V = A * (e @ e) / (n - k) if kind == "iid" else n / (n - k) * A @ (Xh.T * e ** 2) @ Xh @ A
    se = np.sqrt(V[-1, -1])
    q = stats.t.ppf(0.5 + level / 2, n - k)
    return b[-1] - q * se, b[-1] + q * se


@pytest.mark.parametrize("kind", ["iid", "HC1"])
def test_a_weighted_exclusion_interval_is_2sls_on_sqrt_w_scaled_rows(weighted, kind):
    _, d = weighted
    result = cs.fit(cs.plan(_spec(_inference(kind))), d)
    y, X, names, Zm, znames, z, instrument, term, variance = _inputs(result)
    rows = d[d["inlf"] == 1]
    w = rows["w"].to_numpy(float)
    assert names[-1] == term == "educ" and np.array_equal(variance.weights, w)
    for gamma in ([0.0, 0.0], [0.01, -0.01], [-0.02, 0.003]):
        g = np.array(gamma)
        hand = _hand_wls_2sls(y - z @ g, X, Zm, w, kind, 0.95)
        assert _interval(y, X, names, Zm, znames, z, g, term, variance, 0.95) == pytest.approx(hand, rel=1e-10)
    unweighted = _hand_wls_2sls(y, X, Zm, np.ones(len(y)), kind, 0.95)
    assert abs(result.effect.conf_low - unweighted[0]) > 1e-3  # the weights matter here


def _adjusted(frame, gamma):
    out = frame.copy()
    out["lwage_g"] = out["lwage"] - gamma[0] * out["motheduc"] - gamma[1] * out["fatheduc"]
    return out


def test_with_fixed_effects_the_weighted_uci_is_the_union_of_the_designs_own_weighted_fits(weighted):
    _, d = weighted
    spec = _spec({"vcov": "HC1"}, fixed_effects=["age"], sensitivity={"exclusion_bound": 0.004})
    result = cs.fit(cs.plan(spec), d)
    ex = result.sensitivity.exclusion
    assert "| age" in ex.estimator and "weights = ~w" in ex.estimator
    raw = spec.model_dump()
    raw["dag"]["edges"] = [e.replace("lwage", "lwage_g") for e in raw["dag"]["edges"]]
    adjusted = cs.plan(cs.Spec(**{**raw, "outcome": "lwage_g", "sensitivity": {"enabled": False}}))
    corners = [cs.fit(adjusted, _adjusted(d, (a, b))).effect for a in (-0.004, 0.004) for b in (-0.004, 0.004)]
    lo, hi = min(c.conf_low for c in corners), max(c.conf_high for c in corners)
    assert (ex.uci_low, ex.uci_high) == pytest.approx((lo, hi), rel=1e-9)


# --- what the result carries beside the numbers ---------------------------------------------------------------------

def test_changing_the_variance_of_a_weighted_result_keeps_the_weights(weighted):
    case, d = weighted
    result = cs.fit(cs.plan(_spec({"vcov": "iid"})), d)
    for kind, new in (("HC3", result.with_vcov("HC3")), ("CR1", result.with_vcov("CR1", cluster="age"))):
        _check_aer_variant(new, case["expected"]["vcov_variants"][kind], f"with_vcov {kind}")


def test_fixest_s_weighted_sargan_is_kept_but_not_reported_as_a_test(weighted):
    """fixest divides the weighted SSR of the Sargan regression by an unweighted total sum of squares, which gives a
    negative statistic here; the weighted Sargan test reported is AER's."""
    case, d = weighted
    result = cs.fit(cs.plan(_spec({"vcov": "iid"})), d)
    sargan = result.extras["fitstat"]["sargan"]
    assert sargan["stat"] is None and sargan["fixest_stat"] < 0 and "unweighted" in sargan["note"]
    assert "Sargan" not in next(line for line in result.summary().splitlines() if line.startswith("IV diagnostics"))
    assert result.extras["diagnostics"]["Sargan"]["statistic"] == pytest.approx(
        case["expected"]["vcov_variants"]["iid"]["diagnostics"]["Sargan"]["statistic"], rel=REL)
    unweighted = cs.fit(cs.plan(_spec({"vcov": "iid"}, weights=None)), d)
    assert unweighted.extras["fitstat"]["sargan"]["stat"] > 0
