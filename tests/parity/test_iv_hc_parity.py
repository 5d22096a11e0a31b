"""IV without fixed effects with every documented variance, from a spec (issue 12): HC0 used to fail at fit with an
unrelated cluster error and HC2 / HC3 were refused at fit time.  Reference: AER::ivreg + sandwich::vcovHC,
computed by tools/rparity/build_iv_hc23.R (Debian's R 4.2.2, AER 1.2.10, sandwich 3.0.2)."""

from __future__ import annotations

from pathlib import Path

import pytest

import causalspec as cs

from ._cases import assert_close, case_data, load_case

SPECS = Path(__file__).resolve().parents[2] / "specs"


@pytest.mark.parametrize("kind", ["HC0", "HC1", "HC2", "HC3"])
def test_iv_spec_matches_sandwich_vcovhc_on_ivreg(kind):
    case = load_case("iv_mroz_aer_ivreg_hc23")
    spec = cs.load(SPECS / "mroz_iv.yaml").model_dump()
    result = cs.fit(cs.plan(cs.Spec(**{**spec, "inference": {"vcov": kind}})), case_data(case))
    assert result.plan.vcov.r_equivalent == f'AER::ivreg(); sandwich::vcovHC(type = "{kind}")'
    exp = case["expected"]["vcov_variants"][kind]
    got = {e.term: e for e in result.coefficients}
    for term in exp["se"]:
        e = got[term]
        assert_close([e.estimate, e.std_error, e.statistic, e.p_value, e.conf_low, e.conf_high],
                     [exp["coef"][term], exp["se"][term], exp["tstat"][term], exp["pvalue"][term],
                      *exp["conf_int"][term]], rel=1e-8, what=f"{kind} {term}")
