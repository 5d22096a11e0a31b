"""IV without fixed effects, through the spec (issue 12): the second stage's fit statistics and overall Wald test,
the first-stage coefficient tables and the weak-instrument / Wu-Hausman / Sargan diagnostics follow the design's
variance as AER's summary(fit, vcov. = f, diagnostics = TRUE) and lmtest::coeftest on the first-stage lm report them.
Reference: tools/rparity/build_iv_diagnostics.R (Debian's R 4.2.2, AER 1.2.10, sandwich 3.0.2, lmtest 0.9.40)."""

from __future__ import annotations

from pathlib import Path

import pytest

import causalspec as cs

from ._cases import assert_close, case_data, load_case

SPECS = Path(__file__).resolve().parents[2] / "specs"
REL = 1e-8


def _fit(case, inference):
    spec = cs.load(SPECS / "mroz_iv.yaml").model_dump()
    return cs.fit(cs.plan(cs.Spec(**{**spec, "inference": inference})), case_data(case))


def _first_stage(got, exp, what):
    assert got["terms"] == list(exp["coef"])
    for i, term in enumerate(got["terms"]):
        assert_close([got["estimate"][i], got["std_error"][i], got["statistic"][i], got["p_value"][i]],
                     [exp["coef"][term], exp["se"][term], exp["tstat"][term], exp["pvalue"][term]], rel=REL, abs_=0.0,
                     what=f"{what} {term}")


@pytest.mark.parametrize("kind", ["iid", "HC0", "HC1", "HC2", "HC3"])
def test_iv_fit_statistics_first_stage_and_diagnostics_follow_the_variance(kind):
    case = load_case("iv_mroz_aer_diagnostics")
    assert case["tolerance"]["rel"] == REL
    result = _fit(case, {"vcov": kind})
    exp = case["expected"]["vcov_variants"][kind]

    ss, ess = result.extras["second_stage"], exp["second_stage"]
    for key in ("r2", "adj_r2", "sigma", "df_residual", "ssr", "rmse"):
        assert_close(ss[key], ess[key], rel=REL, abs_=0.0, what=f"{kind} {key}")
    for key in ("statistic", "df1", "df2", "p"):
        assert_close(ss["wald"][key], ess["wald"][key], rel=REL, abs_=0.0, what=f"{kind} wald {key}")
    stats = dict(result.fit_stats)
    for key in ("r2", "adj_r2", "sigma", "df_residual", "ssr", "rmse"):
        assert_close(stats[key], ess[key], rel=REL, abs_=0.0, what=f"{kind} fit_stats {key}")
    for key in ("statistic", "df1", "df2", "p"):
        assert_close(stats[f"wald_{key}"], ess["wald"][key], rel=REL, abs_=0.0, what=f"{kind} fit_stats wald_{key}")
    assert "AER::ivreg" in ss["wald"]["r_call"]

    _first_stage(result.extras["first_stage_table"]["educ"], exp["first_stage"]["educ"], f"{kind} first stage")
    assert result.extras["first_stage"]["educ"]  # the coefficient dict stays

    diag = result.extras["diagnostics"]
    assert "diagnostics = TRUE" in diag["r_call"]
    for name, e in exp["diagnostics"].items():
        g = diag[name]
        assert g["df1"] == e["df1"] and g["df2"] == e["df2"], (kind, name)
        assert_close([g["statistic"], g["p"]], [e["statistic"], e["p"]], rel=REL, abs_=0.0, what=f"{kind} {name}")


def test_robust_diagnostics_differ_from_classical_but_sargan_does_not():
    case = load_case("iv_mroz_aer_diagnostics")
    v = case["expected"]["vcov_variants"]
    assert v["HC1"]["diagnostics"]["Weak instruments"]["statistic"] != v["iid"]["diagnostics"]["Weak instruments"]["statistic"]
    assert v["HC1"]["diagnostics"]["Sargan"]["statistic"] == v["iid"]["diagnostics"]["Sargan"]["statistic"]


def test_clustered_iv_reports_the_first_stage_and_wald_test_with_vcovcl():
    case = load_case("iv_mroz_aer_diagnostics")
    result = _fit(case, {"vcov": "CR1", "cluster": ["age"]})
    _first_stage(result.extras["first_stage_table"]["educ"], case["expected"]["first_stage_cr1_age"]["educ"],
                 "CR1 first stage")
    wald, exp = result.extras["second_stage"]["wald"], case["expected"]["wald_cr1_age"]
    for key in ("statistic", "df1", "df2", "p"):
        assert_close(wald[key], exp[key], rel=REL, abs_=0.0, what=f"CR1 wald {key}")
    # AER's diagnostics with vcovCL(cluster = d$age): checked against R in tests/test_iv_weights.py
    # (iv_mroz_aer_cr1_diagnostics)
    assert "vcovCL(x, cluster = d$age" in result.extras["diagnostics"]["r_call"]
