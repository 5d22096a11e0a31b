"""IV parity: fixest 2SLS with and without fixed effects (both stages, fitstat diagnostics) and AER::ivreg."""

from __future__ import annotations

import numpy as np
import pytest

from causalspec.estimators._iv import iv2sls, iv_fitstat, ivreg, ivreg_diagnostics, ivreg_vcov
from causalspec.inference._fixest import coeftable, wald_test
from parity._cases import assert_close, assert_named_close, case_data, load_case, tolerance
from parity.test_fe_parity import check_fixest_block


def _mroz_workers(case):
    d = case_data(case)
    return d[d["inlf"] == 1].reset_index(drop=True)


def _fixest_iv(case_id):
    case = load_case(case_id)
    d = _mroz_workers(case)
    inst = d[["motheduc", "fatheduc"]]
    if case_id == "iv_mroz_fe_age":
        iv = iv2sls(d["lwage"], d[["exper", "expersq"]], ["exper", "expersq"], d["educ"], ["educ"], inst,
                    ["motheduc", "fatheduc"], d[["age"]])
    else:
        X = np.column_stack([np.ones(len(d)), d["exper"], d["expersq"]])
        iv = iv2sls(d["lwage"], X, ["(Intercept)", "exper", "expersq"], d["educ"], ["educ"], inst,
                    ["motheduc", "fatheduc"])
    return case, d, iv


def _compare_stats(got: dict, exp: dict, rel, abs_, what):
    for key, e in exp.items():
        g = got[key]
        if not isinstance(e, dict):
            assert_close(g["stat"], e, rel=rel, abs_=abs_, what=f"{what} {key}")
            continue
        for field, val in e.items():
            if field == "vcov" or isinstance(val, int) and field.startswith("df"):
                assert g[field] == val, f"{what} {key}.{field}: {g[field]!r} != {val!r}"
            else:
                assert_close(g[field], val, rel=rel, abs_=abs_, what=f"{what} {key}.{field}")


@pytest.mark.parametrize("case_id", ["iv_mroz_fixest", "iv_mroz_fe_age"])
def test_fixest_iv_matches_both_stages_and_fitstat(case_id):
    case, d, iv = _fixest_iv(case_id)
    rel, abs_ = tolerance(case)
    exp = case["expected"]
    requests = {name: (None if name == "default" else name) for name in exp["vcov_variants"]}
    check_fixest_block(iv.second, exp, requests, d, rel, abs_, f"{case_id} second stage")
    for endo, block in exp["first_stage"].items():
        check_fixest_block(iv.first[endo], block, requests, d, rel, abs_, f"{case_id} first stage {endo}")
    _compare_stats(iv_fitstat(iv), exp["fitstat"], rel, abs_, f"{case_id} fitstat")
    for name, block in exp["fitstat_by_vcov"].items():
        _compare_stats(iv_fitstat(iv, requests[name]), block, rel, abs_, f"{case_id} fitstat[{name}]")


def test_first_stage_f_of_the_fixest_iv_names_the_endogenous_regressor():
    _, _, iv = _fixest_iv("iv_mroz_fixest")
    assert iv.second.names == ("(Intercept)", "fit_educ", "exper", "expersq")
    assert set(iv_fitstat(iv)) >= {"ivf1::educ", "ivwald1::educ", "ivf2", "ivwald2", "wh", "sargan", "cd"}


def test_aer_ivreg_matches_coefficients_sandwich_ses_and_diagnostics():
    case = load_case("iv_mroz_aer_ivreg")
    rel, abs_ = tolerance(case)
    exp = case["expected"]
    d = _mroz_workers(case)
    one = np.ones(len(d))
    X = np.column_stack([one, d["educ"], d["exper"], d["expersq"]])
    Z = np.column_stack([one, d["exper"], d["expersq"], d["motheduc"], d["fatheduc"]])
    fit = ivreg(d["lwage"], X, ["(Intercept)", "educ", "exper", "expersq"], Z,
                ["(Intercept)", "exper", "expersq", "motheduc", "fatheduc"])
    assert fit.fit.nobs == exp["nobs"] and fit.df_residual == exp["df_residual"]
    assert_close([fit.r2, fit.adj_r2, fit.sigma], [exp["r2"], exp["adj_r2"], exp["sigma"]], rel=rel, abs_=abs_,
                 what="r2/adj_r2/sigma")
    assert_named_close(fit.fit.coef_dict(), exp["coef"], rel=rel, abs_=abs_, what="coef")
    v_iid = ivreg_vcov(fit.fit, "iid")
    wt = wald_test(fit.coef[1:], v_iid.matrix[1:, 1:], fit.df_residual)
    assert (wt["df1"], wt["df2"]) == (exp["wald"]["df1"], exp["wald"]["df2"])
    assert_close([wt["stat"], wt["p"]], [exp["wald"]["stat"], exp["wald"]["pvalue"]], rel=rel, abs_=abs_, what="wald")
    for name, block in exp["vcov_variants"].items():
        v = ivreg_vcov(fit.fit, name)
        assert v.df_t == block["df"]
        tab = coeftable(fit.fit, v).set_index("term")
        for col, key in (("std_error", "se"), ("statistic", "tstat"), ("p_value", "pvalue")):
            assert_named_close(tab[col].to_dict(), block[key], rel=rel, abs_=abs_, what=f"{name} {key}")
        for term, (lo, hi) in block["conf_int"].items():
            assert_close([tab.loc[term, "conf_low"], tab.loc[term, "conf_high"]], [lo, hi], rel=rel, abs_=abs_,
                         what=f"{name} ci {term}")
        assert_close(v.matrix, block["vcov"]["matrix"], rel=rel, abs_=abs_, what=f"{name} vcov")
        diag = ivreg_diagnostics(fit, name)
        for test, e in block["diagnostics"].items():
            g = diag[test]
            assert g["df1"] == e["df1"] and g["df2"] == e["df2"], f"{name} {test} df"
            assert_close([g["stat"], g["p"]], [e["statistic"], e["pvalue"]], rel=rel, abs_=abs_,
                         what=f"{name} {test}")
