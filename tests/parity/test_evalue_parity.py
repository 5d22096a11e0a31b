"""EValue 4.1.3 parity: every ``evalue_*`` case."""

from __future__ import annotations

import pytest

from causalspec.sensitivity import evalue_hr, evalue_md, evalue_ols, evalue_or, evalue_rd, evalue_rr
from parity._cases import assert_close, case_ids, load_case, tolerance

CASES = case_ids("evalue_", family="evalue")
FUNCTIONS = {"evalues.RR": evalue_rr, "evalues.OR": evalue_or, "evalues.HR": evalue_hr,
             "evalues.MD": evalue_md, "evalues.OLS": evalue_ols}


def test_all_evalue_cases_are_covered():
    assert len(CASES) == 11
    assert {load_case(c)["input"]["function"] for c in CASES} == set(FUNCTIONS) | {"evalues.RD"}


@pytest.mark.parametrize("case_id", [c for c in CASES if load_case(c)["input"]["function"] != "evalues.RD"])
def test_evalues_match_r(case_id):
    case = load_case(case_id)
    rel, abs_ = tolerance(case)
    args = dict(case["input"]["args"])
    res = FUNCTIONS[case["input"]["function"]](**args)
    exp = case["expected"]
    assert_close([res.rr_point, res.rr_lower, res.rr_upper],
                 [exp["RR"]["point"], exp["RR"]["lower"], exp["RR"]["upper"]], rel=rel, abs_=abs_, what="RR row")
    assert_close([res.evalue_point, res.evalue_lower, res.evalue_upper],
                 [exp["E-values"]["point"], exp["E-values"]["lower"], exp["E-values"]["upper"]],
                 rel=rel, abs_=abs_, what="E-values row")
    assert list(res.notes) == exp["messages"]


@pytest.mark.parametrize("case_id", [c for c in CASES if load_case(c)["input"]["function"] == "evalues.RD"])
def test_risk_difference_evalues_match_r_grid_search(case_id):
    case = load_case(case_id)
    rel, abs_ = tolerance(case)
    res = evalue_rd(**case["input"]["args"])
    exp = case["expected"]
    assert_close([res.est_evalue], [exp["est.Evalue"]], rel=rel, abs_=abs_, what="est.Evalue")
    # R's lower.Evalue comes from the same seq(1, est.BF, grid) search, so it is reproduced exactly
    assert_close([res.lower_evalue], [exp["lower.Evalue"]], rel=rel, abs_=abs_, what="lower.Evalue")
