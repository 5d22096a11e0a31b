"""DiD and event-study parity: the 2x2 lm DiD, TWFE with fixest, and i(rel_time, treat, ref = -1).

Cases: ``did_injury_2x2`` (lm + sandwich HC1), ``did_mpdta_twfe`` and
``event_study_mpdta`` (fixest::feols, clustered by county, with the pre-trend
Wald test).
"""

from __future__ import annotations

import numpy as np
import pytest

from causalspec.estimators.fixest import feols, i_dummies
from causalspec.inference._fixest import SSC, coeftable, fixest_vcov, wald_test
from parity._cases import assert_close, assert_named_close, case_data, case_ids, load_case, tolerance
from parity.test_fe_parity import check_fixest_block


def test_did_injury_2x2_matches_lm_and_sandwich_hc1():
    case = load_case("did_injury_2x2")
    rel, abs_ = tolerance(case)
    exp = case["expected"]
    d = case_data(case)
    d = d[d["ky"] == 1]
    a, h = d["afchnge"].to_numpy(float), d["highearn"].to_numpy(float)
    X = np.column_stack([np.ones(len(d)), a, h, a * h])
    fit = feols(d["ldurat"], X, ["(Intercept)", "afchnge", "highearn", "afchnge:highearn"])
    assert fit.nobs == exp["nobs"]
    assert fit.nobs - fit.nparams == exp["df_residual"]
    assert_named_close(fit.coef_dict(), exp["coef"], rel=rel, abs_=abs_, what="coef")
    # lm's iid vcov and sandwich's HC1 are fixest's iid and hetero when there is no fixed effect.
    for name, kind in (("iid", "iid"), ("HC1", "hetero")):
        block = exp["vcov_variants"][name]
        v = fixest_vcov(fit, kind, ssc=SSC(t_df="conventional"))
        assert v.df_t == block["df"]
        tab = coeftable(fit, v).set_index("term")
        for col, key in (("std_error", "se"), ("statistic", "tstat"), ("p_value", "pvalue")):
            assert_named_close(tab[col].to_dict(), block[key], rel=rel, abs_=abs_, what=f"{name} {key}")
        for term, (lo, hi) in block["conf_int"].items():
            assert_close([tab.loc[term, "conf_low"], tab.loc[term, "conf_high"]], [lo, hi], rel=rel, abs_=abs_,
                         what=f"{name} ci {term}")
        assert_close(v.matrix, block["vcov"]["matrix"], rel=rel, abs_=abs_, what=f"{name} vcov")


def test_did_mpdta_twfe_matches_fixest():
    case = load_case("did_mpdta_twfe")
    rel, abs_ = tolerance(case)
    d = case_data(case)
    treated_post = ((d["first.treat"] > 0) & (d["year"] >= d["first.treat"])).to_numpy(float)
    assert treated_post.sum() == case["expected"]["n_treated_post"]
    fit = feols(d["lemp"], treated_post[:, None], ["treated_post"], d[["countyreal", "year"]])
    req = {"cluster_countyreal": ["countyreal"], "iid": "iid", "hetero": "hetero"}
    check_fixest_block(fit, case["expected"], req, d, rel, abs_, case["id"])


def _event_study_fit(case):
    d = case_data(case)
    rel_time = np.where(d["first.treat"] > 0, d["year"] - d["first.treat"], 0)
    X, names = i_dummies(rel_time, d["treat"], ref=[-1], var_name="rel_time", treat_name="treat")
    return d, feols(d["lemp"], X, names, d[["countyreal", "year"]])


@pytest.mark.parametrize("case_id", case_ids("event_study_"))
def test_event_study_relative_time_dummies_match_fixest(case_id):
    case = load_case(case_id)
    rel, abs_ = tolerance(case)
    d, fit = _event_study_fit(case)
    exp = case["expected"]
    req = {"cluster_countyreal": ["countyreal"], "iid": "iid", "hetero": "hetero"}
    check_fixest_block(fit, exp, req, d, rel, abs_, case_id)
    pre = [t for t in fit.names if t in exp["pretrend_terms"]]
    assert pre == exp["pretrend_terms"]
    idx = [fit.names.index(t) for t in pre]
    for name, block in exp["pretrend_wald"].items():
        kind = "cluster" if name.startswith("cluster") else name
        v = fixest_vcov(fit, kind, d[["countyreal"]] if kind == "cluster" else None)
        w = wald_test(fit.coef[idx], v.matrix[np.ix_(idx, idx)], fit.nobs - fit.nparams)
        assert v.label == block["vcov"]
        assert (w["df1"], w["df2"]) == (block["df1"], block["df2"])
        assert_close([w["stat"], w["p"]], [block["stat"], block["p"]], rel=rel, abs_=abs_, what=f"wald {name}")
    assert exp["reference"] not in fit.names
