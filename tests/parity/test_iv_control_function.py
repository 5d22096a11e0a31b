"""The IV control function (issue 12): first-stage residuals in the structural equation give the 2SLS
coefficients, and their test is AER's Wu-Hausman test with the design's variance (iid, HC0-HC3)."""

from __future__ import annotations

import pytest

import causalspec as cs
from parity._cases import case_data, load_case

ROOT = __import__('pathlib').Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("vcov", ["iid", "HC0", "HC1", "HC2", "HC3"])
def test_control_function_gives_2sls_and_aer_s_wu_hausman(vcov):
    case = load_case("iv_mroz_aer_diagnostics")
    spec = cs.load(str(ROOT / "specs/mroz_iv.yaml")).model_dump()
    spec = cs.Spec(**{**spec, "inference": {"vcov": vcov}, "sensitivity": {"enabled": False}})
    result = cs.run(spec, data=case_data(case), refute=False)
    cf = result.extras["control_function"]
    assert cf["coefficients"]["educ"] == pytest.approx(result.effect.estimate, rel=1e-10)
    assert cf["coefficients"]["educ"] == pytest.approx(case["expected"]["coef"]["educ"], rel=1e-9)
    want = case["expected"]["vcov_variants"][vcov]["diagnostics"]["Wu-Hausman"]
    assert cf["test"]["statistic"] == pytest.approx(want["statistic"], rel=1e-8)
    assert (cf["test"]["df1"], cf["test"]["df2"]) == (want["df1"], want["df2"])
    assert cf["test"]["p"] == pytest.approx(want["p"], rel=1e-8)
