"""Exclusion-restriction sensitivity for IV (issue 11): Conley, Hansen & Rossi (2012)'s union of confidence
intervals and its breakdown value, instead of only an unmeasured-confounder E-value."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import causalspec as cs
from causalspec.errors import AdjustmentError
from causalspec.estimators._iv import ivreg
from causalspec.sensitivity._plausibly_exogenous import _uci

SPECS = Path(__file__).resolve().parents[1] / "specs"


def _one_instrument_spec(**sensitivity) -> cs.Spec:
    spec = cs.load(SPECS / "mroz_iv.yaml").model_dump()
    spec["design"] = {**spec["design"], "instruments": ["fatheduc"]}
    spec["dag"]["edges"] = [e for e in spec["dag"]["edges"] if "motheduc" not in e]
    return cs.Spec(**{**spec, "sensitivity": sensitivity})


def test_the_uci_shifts_the_2sls_interval_by_gamma_over_the_first_stage_and_the_breakdown_reaches_zero():
    result = cs.run(_one_instrument_spec(exclusion_bound=0.01), data=SPECS / "data" / "mroz.csv", refute=False)
    ex = result.sensitivity.exclusion
    y, X, names, Zm, znames, z, instrument, term, kind = _arrays(result)
    # beta(gamma) = beta_hat - gamma * c, c the 2SLS coefficient of the instrument on the regressors (AER identity)
    c = ivreg(z, X, names, Zm, znames).fit.coef[list(names).index(term)]
    b0 = result.effect.estimate
    b1 = ivreg(y - 0.01 * z, X, names, Zm, znames).fit.coef[list(names).index(term)]
    assert b1 == pytest.approx(b0 - 0.01 * c, rel=1e-10)
    args = (y, X, names, Zm, znames, z, term, kind, 0.95)
    assert _uci(args, ex.breakdown, 41)[0] == pytest.approx(0.0, abs=1e-6)
    assert _uci(args, 0.9 * ex.breakdown, 41)[0] > 0  # just below the breakdown, zero stays outside
    assert ex.uci_low < result.effect.conf_low and ex.uci_high > result.effect.conf_high
    assert any("union of confidence intervals" in line for line in result.sensitivity.summary_lines())
    assert result.to_dict()["sensitivity"]["exclusion"]["breakdown"] == pytest.approx(ex.breakdown)


def _arrays(result):
    from causalspec.designs import fit

    return fit(result.plan, result._data).iv_arrays


def test_the_exclusion_bound_is_refused_outside_iv():
    spec = cs.load(SPECS / "feature_adoption.yaml").model_dump()
    with pytest.raises(AdjustmentError, match=r"sensitivity.exclusion_bound: .* applies to design.type iv only"):
        cs.plan(cs.Spec(**{**spec, "sensitivity": {"exclusion_bound": 0.1}}))


def test_several_instruments_say_why_not():
    result = cs.run(SPECS / "mroz_iv.yaml", refute=False)
    assert "one instrument" in result.sensitivity.exclusion.reason
