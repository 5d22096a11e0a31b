"""prop.test and the sample-ratio chisq.test of the experiment cases (the other parts belong to _experiment)."""

from __future__ import annotations

import numpy as np
import pytest

from parity._cases import assert_close, case_data, load_case, tolerance

from causalspec.power._abtest import prop_test, srm_check


def _resume_counts(case):
    """As the r_call: callbacks and resumes by afam (1 = African-American name), afam first."""
    d = case_data(case)
    afam = (d["ethnicity"] == "afam").to_numpy()
    cb = (d["call"] == "yes").to_numpy()
    return {"afam": int(cb[afam].sum()), "cauc": int(cb[~afam].sum())}, {"afam": int(afam.sum()), "cauc": int((~afam).sum())}


def _star_assigned(case):
    """Kindergarten students in small or regular classes: (small, regular) counts."""
    d = case_data(case)
    k = d[d["stark"].isin(["small", "regular"])]
    return {"small": int((k["stark"] == "small").sum()), "regular": int((k["stark"] == "regular").sum())}


def _check_htest(got, exp, rel, abs_, what):
    assert got.method == exp["method"]
    assert_close([got.statistic], [exp["statistic"]], rel=rel, abs_=abs_, what=f"{what}.statistic")
    assert_close([got.df], [exp["parameter"]["df"]], rel=rel, abs_=abs_, what=f"{what}.df")
    assert_close([got.p_value], [exp["p_value"]], rel=rel, abs_=abs_, what=f"{what}.p_value")
    if "estimate" in exp:
        assert_close(list(got.estimate), list(exp["estimate"].values()), rel=rel, abs_=abs_, what=f"{what}.estimate")
    if "conf_int" in exp:
        assert_close(list(got.conf_int), exp["conf_int"], rel=rel, abs_=abs_, what=f"{what}.conf_int")
    if "expected_counts" in exp:
        assert_close(list(got.expected), exp["expected_counts"], rel=rel, abs_=abs_, what=f"{what}.expected")


def test_two_proportion_test_matches_prop_test_without_correction():
    case = load_case("experiment_resume_callback")
    rel, abs_ = tolerance(case)
    x, n = _resume_counts(case)
    assert x == case["expected"]["calls"] and n == case["expected"]["n"]
    res = prop_test(list(x.values()), list(n.values()), correct=False)
    _check_htest(res, case["expected"]["prop_test"], rel, abs_, "prop_test")


@pytest.mark.parametrize("case_id", ["experiment_resume_callback", "experiment_star_kindergarten"])
def test_sample_ratio_check_matches_chisq_test(case_id):
    case = load_case(case_id)
    rel, abs_ = tolerance(case)
    counts = _resume_counts(case)[1] if case_id == "experiment_resume_callback" else _star_assigned(case)
    if "n_assigned" in case["expected"]:
        assert counts == case["expected"]["n_assigned"]
    res = srm_check(list(counts.values()), [0.5, 0.5])
    _check_htest(res, case["expected"]["srm_chisq_50_50"], rel, abs_, "srm")
    assert np.isfinite(res.p_value)
