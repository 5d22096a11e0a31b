"""E-values: published worked examples, symmetry, conversions and input errors."""

from __future__ import annotations

import math

import pytest

from causalspec.errors import SpecError
from causalspec.sensitivity import evalue, evalue_hr, evalue_md, evalue_ols, evalue_or, evalue_rd, evalue_rr


def test_vanderweele_ding_smoking_example():
    # VanderWeele & Ding (2017): RR 3.9 (1.8, 8.7) has E-values 7.26 and 3.02 -> our 3.0 for lo = 1.8 exactly
    res = evalue_rr(3.9, 1.8, 8.7)
    assert round(res.evalue_point, 2) == 7.26
    assert res.evalue_lower == pytest.approx(3.0)
    assert res.evalue_upper is None and res.evalue_ci == res.evalue_lower


def test_leukemia_example_is_protective_and_reports_the_upper_limit():
    # EValue's documented example evalues.RR(0.80, 0.71, 0.91): E = 1.81 for the point estimate
    res = evalue_rr(0.80, 0.71, 0.91)
    assert round(res.evalue_point, 2) == 1.81
    assert res.evalue_lower is None and res.evalue_upper == pytest.approx(evalue(0.91))


def test_evalue_is_symmetric_in_the_ratio():
    assert evalue(0.8) == pytest.approx(evalue(1 / 0.8), rel=1e-14)


def test_evalue_formula_rr_plus_sqrt_rr_times_rr_minus_one():
    rr = 2.5
    assert evalue(rr) == pytest.approx(rr + math.sqrt(rr * (rr - 1)), rel=1e-15)


def test_ci_crossing_the_true_value_has_evalue_one_and_a_note():
    res = evalue_rr(1.2, 0.9, 1.6)
    assert res.evalue_lower == 1.0
    assert "crosses the true value" in res.notes[0]
    assert "includes the true value" in res.interpretation()


def test_estimate_equal_to_true_value():
    res = evalue_rr(1.0, 0.8, 1.25)
    assert res.evalue_point == 1.0 and res.evalue_lower == 1.0 and res.evalue_upper is None


def test_point_estimate_only():
    res = evalue_rr(2.0)
    assert res.rr_lower is None and res.evalue_lower is None and res.evalue_upper is None


def test_rare_outcome_odds_ratio_is_treated_as_a_risk_ratio():
    assert evalue_or(2.0, rare=True).evalue_point == pytest.approx(evalue_rr(2.0).evalue_point)
    assert evalue_or(4.0, rare=False).rr_point == pytest.approx(2.0)


def test_common_outcome_hazard_ratio_conversion():
    hr = 2.0
    rr = (1 - 0.5 ** math.sqrt(hr)) / (1 - 0.5 ** math.sqrt(1 / hr))
    assert evalue_hr(hr, rare=False).rr_point == pytest.approx(rr, rel=1e-15)


def test_ols_equals_md_on_the_standardized_scale():
    assert evalue_ols(2.0, 0.5, sd=4.0).evalue_point == pytest.approx(evalue_md(0.5, 0.125).evalue_point)


def test_negative_delta_is_recoded_with_a_note():
    res = evalue_ols(2.0, 0.5, sd=4.0, delta=-1)
    assert res.notes[0] == "Recoding delta to be positive"
    assert res.evalue_point == pytest.approx(evalue_ols(2.0, 0.5, sd=4.0).evalue_point)


def test_risk_difference_ci_including_the_null_has_evalue_one():
    res = evalue_rd(12, 88, 10, 90)
    assert res.lower_evalue == 1.0 and res.est_evalue > 1


@pytest.mark.parametrize("call, match", [
    (lambda: evalue_rr(-1.0), "a risk ratio cannot be negative"),
    (lambda: evalue_rr(2.0, 2.5, 3.0), "outside its interval"),
    (lambda: evalue_rr(2.0, 3.0, 1.0), "exceeds the upper limit"),
    (lambda: evalue_or(2.0), "rare=True or rare=False"),
    (lambda: evalue_hr(2.0, rare="yes"), "say whether the outcome is rare"),
    (lambda: evalue_md(0.5, -0.1), "standard error cannot be negative"),
    (lambda: evalue_ols(1.0, 0.2, sd=0), "standard deviation must be > 0"),
    (lambda: evalue_rd(5, 95, 10, 90), "Relabel the exposure"),
    (lambda: evalue_rd(-1, 95, 10, 90), "negative cell counts"),
])
def test_bad_inputs_are_refused_with_a_fix(call, match):
    with pytest.raises(SpecError, match=match):
        call()
