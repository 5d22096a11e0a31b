"""fixest::feols parity: every ``fe_*`` case (coefficients, SEs, t, p, CIs, vcov, df, fit statistics).

Each case's R call is translated into the arrays ``feols`` takes; the numbers
are compared at the case's tolerance.  ``check_fixest_block`` is shared by the
DiD, event-study and IV parity files.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from causalspec.estimators.fixest import feols, fit_stats
from causalspec.inference._fixest import coeftable, fixest_vcov
from parity._cases import assert_close, assert_named_close, case_data, case_ids, load_case, tolerance


def vcov_request(spec, data: pd.DataFrame):
    """Translate a case's vcov argument (None, "iid", "hetero", list of cluster vars) into fixest_vcov args."""
    if spec is None:
        return None, None
    if spec in ("iid", "hetero"):
        return spec, None
    return "cluster", data[list(spec)]


def check_fixest_block(fit, exp: dict, requests: dict, data: pd.DataFrame, rel: float, abs_: float,
                       what: str, *, stats_expected: bool = True) -> None:
    """Compare one fixest fit to fe_out()'s output: sample, fit statistics and every vcov variant."""
    assert fit.nobs == exp["nobs"], f"{what}: nobs"
    if "nobs_origin" in exp:
        assert fit.nobs_origin == exp["nobs_origin"], f"{what}: nobs_origin"
    if exp.get("fixef_sizes") is not None:
        assert fit.fixef_sizes == exp["fixef_sizes"], f"{what}: fixef_sizes"
    if "collin_var" in exp:
        assert sorted(fit.collinear) == sorted(exp["collin_var"]), f"{what}: collin_var"
    if stats_expected:
        st = fit_stats(fit)
        r2 = {k: v for k, v in st.items() if k in exp["r2"]}
        assert_named_close(r2, exp["r2"], rel=rel, abs_=abs_, what=f"{what} r2")
        for key in ("rmse", "sigma", "ssr"):
            if key in exp:
                assert_close(st[key], exp[key], rel=rel, abs_=abs_, what=f"{what} {key}")
    if "coef" in exp:
        assert_named_close(fit.coef_dict(), exp["coef"], rel=rel, abs_=abs_, what=f"{what} coef")
    for name, block in exp["vcov_variants"].items():
        kind, cluster = vcov_request(requests[name], data)
        v = fixest_vcov(fit, kind, cluster)
        tab = coeftable(fit, v).set_index("term")
        w = f"{what} [{name}]"
        assert v.label == block["vcov_type"], f"{w}: vcov type {v.label!r}"
        assert v.df_t == block["df_t"], f"{w}: df_t {v.df_t}"
        assert v.df_k == block["df_k"], f"{w}: df_k {v.df_k}"
        for col, key in (("estimate", "coef"), ("std_error", "se"), ("statistic", "tstat"), ("p_value", "pvalue")):
            assert_named_close(tab[col].to_dict(), block[key], rel=rel, abs_=abs_, what=f"{w} {key}")
        for term, (lo, hi) in block["conf_int"].items():
            assert_close([tab.loc[term, "conf_low"], tab.loc[term, "conf_high"]], [lo, hi], rel=rel, abs_=abs_,
                         what=f"{w} conf_int {term}")
        order = [v.names.index(t) for t in block["vcov"]["terms"]]
        assert_close(v.matrix[np.ix_(order, order)], block["vcov"]["matrix"], rel=rel, abs_=abs_,
                     what=f"{w} vcov")


def _fe_mroz_age_singleton(case, data):
    rel, abs_ = tolerance(case)
    X = data[["educ", "exper", "expersq"]].to_numpy()
    req = {"default": None, "iid": "iid", "hetero": "hetero"}
    for variant, rm in (("fixef_rm_none", "none"), ("fixef_rm_singleton", "singleton")):
        exp = case["expected"][variant]
        fit = feols(data["lwage"], X, ["educ", "exper", "expersq"], data[["age"]], fixef_rm=rm)
        assert fit.sample.n_na_removed == exp["n_na_removed"]
        assert fit.sample.n_singletons == exp["n_singletons_removed"]
        if "fixef_removed" in exp:
            assert {k: list(v) for k, v in fit.sample.fixef_removed.items()} == exp["fixef_removed"]
        check_fixest_block(fit, exp, req, data, rel, abs_, f"{case['id']}/{variant}")


def _fe_trade_gravity(case, data):
    rel, abs_ = tolerance(case)
    fit = feols(np.log(data["Euros"]), np.log(data[["dist_km"]].to_numpy()), ["log(dist_km)"],
                data[["Origin", "Destination", "Product", "Year"]])
    req = {"default": None, "iid": "iid", "hetero": "hetero", "twoway_origin_destination": ["Origin", "Destination"]}
    check_fixest_block(fit, case["expected"], req, data, rel, abs_, case["id"])


def _wagepan(case, data, xs, weights=None, req=None):
    rel, abs_ = tolerance(case)
    fit = feols(data["lwage"], data[xs].to_numpy(), xs, data[["nr", "year"]],
                weights=None if weights is None else data[weights])
    check_fixest_block(fit, case["expected"], req, data, rel, abs_, case["id"])


BUILDERS = {
    "fe_mroz_age_singleton": _fe_mroz_age_singleton,
    "fe_trade_gravity": _fe_trade_gravity,
    "fe_wagepan_collinear_exper": lambda c, d: _wagepan(c, d, ["exper", "expersq", "married", "union"],
                                                        req={"default": None, "hetero": "hetero"}),
    "fe_wagepan_feols_vcov": lambda c, d: _wagepan(
        c, d, ["expersq", "married", "union"],
        req={"default": None, "iid": "iid", "hetero": "hetero", "cluster_nr": ["nr"], "twoway_nr_year": ["nr", "year"]}),
    "fe_wagepan_weights": lambda c, d: _wagepan(c, d, ["expersq", "married", "union"], weights="hours",
                                                req={"default": None, "iid": "iid", "hetero": "hetero"}),
}


@pytest.mark.parametrize("case_id", case_ids("fe_"))
def test_feols_matches_fixest(case_id):
    case = load_case(case_id)
    assert case_id in BUILDERS, f"no translation of {case_id}'s R call"
    BUILDERS[case_id](case, case_data(case))


def test_collinear_regressor_is_reported_and_dropped_like_fixest():
    case = load_case("fe_wagepan_collinear_exper")
    data = case_data(case)
    fit = feols(data["lwage"], data[["exper", "expersq", "married", "union"]].to_numpy(),
                ["exper", "expersq", "married", "union"], data[["nr", "year"]])
    assert fit.collinear == ("exper",)
    assert any("exper" in note and "collinearity" in note for note in fit.notes)
