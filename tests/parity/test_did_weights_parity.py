"""Observation weights in the 2x2 DiD design, through the spec (issue 12): lm(ldurat ~ afchnge * highearn,
weights = w) with vcov, sandwich::vcovHC HC0-HC3 and vcovCL(~ injtype, "HC1"); and the two-way fixed-effects DiD
with weights is fixest::feols(weights = ~w), the fit the panel design (checked against fixest in
test_weights_spec_parity.py) gives. Reference: tools/rparity/build_did_weights.R (Debian's R 4.2.2, sandwich
3.0.2, lmtest 0.9.40)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import causalspec as cs

from ._cases import assert_close, case_data, load_case

ROOT = Path(__file__).resolve().parents[2]
REL = 1e-8
INFERENCE = {"iid": {"vcov": "iid"}, "HC0": {"vcov": "HC0"}, "HC1": {"vcov": "HC1"}, "HC2": {"vcov": "HC2"},
             "HC3": {"vcov": "HC3"}, "CR1": {"vcov": "CR1", "cluster": ["injtype"]}}


@pytest.mark.parametrize("variant", list(INFERENCE))
def test_weighted_2x2_did_matches_lm(variant):
    case = load_case("did_injury_2x2_weights")
    assert case["tolerance"]["rel"] == REL
    frame = case_data(case)
    frame = frame[frame["ky"] == 1].copy()
    frame["w"] = frame["prewage"] / 100
    spec = cs.load(ROOT / "specs/injury_did.yaml").model_dump()
    spec.update(weights="w", inference=INFERENCE[variant], sensitivity={"refutations": []})
    result = cs.fit(cs.plan(cs.Spec(**spec)), frame)
    exp = case["expected"]["vcov_variants"][variant]
    got = {r.term: r for r in result.coefficients}
    assert set(got) == set(exp["coef"])
    for term in exp["coef"]:
        lo, hi = exp["conf_int"][term]
        assert_close([got[term].estimate, got[term].std_error, got[term].statistic, got[term].p_value,
                      got[term].conf_low, got[term].conf_high],
                     [exp["coef"][term], exp["se"][term], exp["tstat"][term], exp["pvalue"][term], lo, hi],
                     rel=REL, abs_=0.0, what=f"{variant} {term}")
    assert result.effect.term == "afchnge:highearn"
    assert result.nobs == case["expected"]["nobs"]


def test_weighted_twfe_did_is_the_weighted_fixed_effects_fit():
    frame = case_data(load_case("cs_mpdta_nevertreated_nocov"))
    frame["treated_now"] = ((frame["first.treat"] > 0) & (frame["year"] >= frame["first.treat"])).astype(float)
    frame["w"] = np.exp(frame["lpop"] / 10)
    common = dict(name="mpdta_twfe", treatment="treated_now", outcome="lemp",
                  dag={"edges": ["treated_now -> lemp", "countyreal -> treated_now", "countyreal -> lemp",
                                 "year -> treated_now", "year -> lemp"]},
                  inference={"vcov": "CR1", "cluster": ["countyreal"]}, sensitivity={"refutations": []})
    twfe = {"type": "did", "unit": "countyreal", "time": "year", "estimator": "twfe"}
    did = cs.fit(cs.plan(cs.Spec(**common, weights="w", design=twfe)), frame)
    panel = cs.fit(cs.plan(cs.Spec(**common, weights="w", design={"type": "panel", "unit": "countyreal",
                                                                  "time": "year"})), frame)
    unweighted = cs.fit(cs.plan(cs.Spec(**common, design=twfe)), frame)
    assert did.effect.estimate == pytest.approx(panel.effect.estimate, rel=1e-12)
    assert did.effect.std_error == pytest.approx(panel.effect.std_error, rel=1e-12)
    assert abs(did.effect.estimate - unweighted.effect.estimate) > 1e-4
