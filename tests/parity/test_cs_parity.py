"""Callaway & Sant'Anna group-time ATTs and their aggregations against did::att_gt / did::aggte.

Each ``cs_*`` case holds dr, ipw and reg fits; att_gt vectors are aligned by
position and every aggregation carries R's analytical standard errors.
"""

from __future__ import annotations

import pytest

from causalspec.estimators.callaway_santanna import aggte, att_gt
from parity._cases import assert_close, case_data, case_ids, load_case, tolerance

CASES = [c for c in case_ids("cs_", family="staggered_did")]
PARAMS = [(cid, em) for cid in CASES for em in load_case(cid)["expected"]["est_method_variants"]]


def _fit(case, est_method):
    model = case["model"]
    xformla = model["xformla"]
    layout = dict(yname="lemp", tname="year", idname="countyreal", gname="first.treat")
    return att_gt(case_data(case), **layout, xformla=None if xformla.replace(" ", "") == "~1" else xformla,
                  control_group=model["control_group"], est_method=est_method)


@pytest.fixture(scope="module")
def fits():
    cache = {}

    def get(cid, em):
        if (cid, em) not in cache:
            cache[(cid, em)] = _fit(load_case(cid), em)
        return cache[(cid, em)]
    return get


def test_every_staggered_case_is_covered():
    assert len(CASES) == 4 and len(PARAMS) == 12


@pytest.mark.parametrize("case_id,est_method", PARAMS)
def test_att_gt_matches_did(case_id, est_method, fits):
    case = load_case(case_id)
    rel, abs_ = tolerance(case)
    exp = case["expected"]["est_method_variants"][est_method]["att_gt"]
    res = fits(case_id, est_method)
    what = f"{case_id}/{est_method}"
    assert_close(res.group, exp["group"], rel=0, abs_=0, what=f"{what} group")
    assert_close(res.time, exp["t"], rel=0, abs_=0, what=f"{what} t")
    assert_close(res.att, exp["att"], rel=rel, abs_=abs_, what=f"{what} att")
    assert_close(res.se, exp["se"], rel=rel, abs_=abs_, what=f"{what} se")
    assert_close(res.crit_val, exp["crit_val"], rel=rel, abs_=abs_, what=f"{what} crit_val")
    assert res.n_units == exp["n_units"]
    assert_close(res.pretest_W, exp["pretest_W"], rel=rel, abs_=abs_, what=f"{what} pretest_W")
    # did itself rounds the p-value to 5 decimals, so it is compared as R printed it.
    assert res.pretest_Wpval == pytest.approx(exp["pretest_Wpval"], abs=1e-12)


@pytest.mark.parametrize("case_id,est_method", PARAMS)
@pytest.mark.parametrize("agg_type", ["simple", "dynamic", "group", "calendar"])
def test_aggte_matches_did(case_id, est_method, agg_type, fits):
    case = load_case(case_id)
    rel, abs_ = tolerance(case)
    exp = case["expected"]["est_method_variants"][est_method]["aggte"][agg_type]
    agg = aggte(fits(case_id, est_method), type=agg_type)
    what = f"{case_id}/{est_method}/{agg_type}"
    assert_close(agg.overall_att, exp["overall_att"], rel=rel, abs_=abs_, what=f"{what} overall_att")
    assert_close(agg.overall_se, exp["overall_se"], rel=rel, abs_=abs_, what=f"{what} overall_se")
    assert_close(agg.overall_conf_int, exp["overall_conf_int"], rel=rel, abs_=abs_, what=f"{what} conf_int")
    if "egt" in exp:
        assert_close(agg.egt, exp["egt"], rel=0, abs_=0, what=f"{what} egt")
        assert_close(agg.att_egt, exp["att_egt"], rel=rel, abs_=abs_, what=f"{what} att_egt")
        assert_close(agg.se_egt, exp["se_egt"], rel=rel, abs_=abs_, what=f"{what} se_egt")
        assert_close(agg.crit_val_egt, exp["crit_val_egt"], rel=rel, abs_=abs_, what=f"{what} crit_val_egt")
    else:
        assert agg.egt.size == 0


def test_the_parallel_trends_pretest_is_a_structured_field_of_the_result():
    """Issue 12: did's pre-test (W, df, p) was only inside a note; now it is design.pretest in the result."""
    import causalspec as cs
    from pathlib import Path

    result = cs.run(Path(__file__).resolve().parents[2] / "specs" / "mpdta_callaway_santanna.yaml", refute=False)
    exp = load_case("cs_mpdta_nevertreated_lpop")["expected"]["est_method_variants"]["dr"]["att_gt"]
    pretest = result.to_dict()["design"]["pretest"]
    assert pretest["statistic"] == pytest.approx(exp["pretest_W"], rel=1e-10)
    assert pretest["p_value"] == pytest.approx(exp["pretest_Wpval"], abs=1e-12)
    assert pretest["df"] == 5  # the pre-treatment ATT(g,t) of the 2006 and 2007 cohorts
