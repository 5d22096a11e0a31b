"""Exclusion-restriction sensitivity with two instruments against R: AER::ivreg of y - Z gamma (lmtest::coefci with
vcov(ivreg) / sandwich::vcovHC) at several direct effects, and the union of intervals over a 41 x 41 grid."""

from __future__ import annotations

import numpy as np
import pytest

from causalspec.sensitivity._plausibly_exogenous import ExclusionVariance, _interval, plausibly_exogenous
from parity._cases import assert_close, case_data, load_case, tolerance

CASE = "iv_mroz_exclusion_two_instruments"


@pytest.fixture(scope="module")
def arrays():
    case = load_case(CASE)
    d = case_data(case)
    d = d[d["inlf"] == 1].reset_index(drop=True)
    one = np.ones(len(d))
    X = np.column_stack([one, d["exper"], d["expersq"], d["educ"]])
    Zm = np.column_stack([one, d["exper"], d["expersq"], d["motheduc"], d["fatheduc"]])
    names = ("(Intercept)", "exper", "expersq", "educ")
    znames = ("(Intercept)", "exper", "expersq", "motheduc", "fatheduc")
    return case, (d["lwage"].to_numpy(float), X, names, Zm, znames, d[["motheduc", "fatheduc"]].to_numpy(float))


def test_the_interval_at_each_direct_effect_is_aer_ivreg_of_the_adjusted_outcome(arrays):
    case, a = arrays
    rel, abs_ = tolerance(case)
    assert len(a[0]) == case["expected"]["nobs"]
    for p in case["expected"]["points"]:
        got = _interval(*a, np.array(p["gamma"]), "educ", ExclusionVariance(p["vcov"]), p["level"])
        assert_close(got, p["conf_int"], rel=rel, abs_=abs_, what=f"{p['vcov']} {p['level']} gamma={p['gamma']}")


@pytest.mark.parametrize("vcov", ["iid", "HC1"])
def test_the_union_over_the_box_matches_r(arrays, vcov):
    case, a = arrays
    rel, abs_ = tolerance(case)
    exp = case["expected"]["uci"][vcov]
    ex = plausibly_exogenous(*a, "motheduc, fatheduc", "educ", vcov=vcov, level=exp["level"], bound=exp["bound"])
    assert list(ex.grid) == exp["grid"]
    assert_close([ex.uci_low, ex.uci_high], exp["uci"], rel=rel, abs_=abs_, what=f"UCI {vcov}")
