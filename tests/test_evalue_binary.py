"""A 0/1 outcome's E-value goes through the risk-ratio route (issue 11), not the continuous-outcome formula."""

from __future__ import annotations

from pathlib import Path

import pytest

import causalspec as cs
from causalspec.sensitivity import evalue_ols, evalue_rr

SPECS = Path(__file__).resolve().parents[1] / "specs"


def test_churn_evalue_is_evalues_rr_of_the_implied_risk_ratio():
    result = cs.run(SPECS / "churn_offer.yaml", refute=False)
    data = cs.datasets.churn_offer()
    treat, outcome = result.plan.treatment, result.plan.outcome
    p0 = float(data.loc[data[treat] == 0, outcome].mean())
    e = result.effect
    want = evalue_rr((p0 + e.estimate) / p0, (p0 + e.conf_low) / p0, (p0 + e.conf_high) / p0)
    ev = result.sensitivity.evalue
    assert ev.rr_point == pytest.approx(want.rr_point, rel=1e-12)
    assert ev.evalue_point == pytest.approx(want.evalue_point, rel=1e-12)
    assert ev.evalue_ci == pytest.approx(want.evalue_ci, rel=1e-12)
    assert any("RR = (p0 + RD) / p0" in n for n in ev.notes)
    continuous = evalue_ols(e.estimate, e.std_error, sd=float(data[outcome].std()))
    assert abs(continuous.evalue_point - ev.evalue_point) > 0.05  # the wrong route gives another number


def test_a_continuous_outcome_keeps_the_ols_route():
    result = cs.run(SPECS / "feature_adoption.yaml", refute=False)
    e, ev = result.effect, result.sensitivity.evalue
    want = evalue_ols(e.estimate, e.std_error, sd=float(cs.datasets.feature_adoption()["spend"].std()))
    assert ev.evalue_point == pytest.approx(want.evalue_point, rel=1e-12)
    assert not any("p0" in n for n in ev.notes)
