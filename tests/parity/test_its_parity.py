"""The interrupted time series design against R on the Seatbelts data (issue 16), through the spec: segmented
regression coefficients with sandwich::NeweyWest / vcovPL / vcovHC / iid, or nlme::gls with AR(1) errors; the
automatic Newey-West lag; the average, cumulative and relative post-period effects and the counterfactual band
(delta method); lmtest::bgtest; the placebo refits; the naive contrast.
Reference: tools/rparity/build_its_cases.R (Debian's R 4.2.2, sandwich 3.0.2, lmtest 0.9.40, nlme 3.1.162)."""

from __future__ import annotations

import pytest

import causalspec as cs

from ._cases import assert_close, case_data, case_ids, load_case

CASES = case_ids("its_")
TABLE = (("coef", "estimate"), ("se", "std_error"), ("tstat", "statistic"), ("pvalue", "p_value"),
         ("conf_low", "conf_low"), ("conf_high", "conf_high"))
EFFECT_KEYS = ("estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high")


def _spec(case) -> cs.Spec:
    sp = case["spec"]
    body = {"name": case["id"], "treatment": "law", "outcome": sp["outcome"], "design": sp["causalspec"]}
    if sp.get("covariates"):
        body["covariates"] = sp["covariates"]
        body["dag"] = {"edges": ["law -> " + sp["outcome"]] + [f"{c} -> {sp['outcome']}" for c in sp["covariates"]]}
    return cs.Spec(**body)


def _fit(case):
    return cs.fit(cs.plan(_spec(case)), case_data(case))


def _tol(case):
    return case["tolerance"]["rel"], case["tolerance"]["abs"]


def _coefficients(rows, exp, rel, abs_, what):
    got = {r.term: r for r in rows}
    assert list(got) == list(exp["coef"]), what
    for key, attr in TABLE:
        assert_close([getattr(got[t], attr) for t in exp["coef"]], list(exp[key].values()), rel=rel, abs_=abs_,
                     what=f"{what} {key}")


def test_the_its_cases_are_all_found():
    assert len(CASES) == 7
    for cid in CASES:
        assert load_case(cid)["tolerance"]["rel"] == 1e-8


@pytest.mark.parametrize("case_id", CASES)
def test_its_coefficients_and_variance_match_r(case_id):
    case = load_case(case_id)
    rel, abs_ = _tol(case)
    exp = case["expected"]
    result = _fit(case)
    its = result.extras["interrupted_time_series"]
    assert result.nobs == exp["nobs"]
    assert its["model"]["terms"] == exp["terms"]
    assert its["model"]["effect_terms"] == exp["effect_terms"]
    assert its["variance"]["df"] == exp["df"]
    _coefficients(result.coefficients, exp["coefficients"], rel, abs_, case_id)
    assert result.effect.term == exp["effect_terms"][0]
    if "lag" in exp:
        assert its["variance"]["lag"] == exp["lag"]
    if "bandwidth" in exp:
        assert_close(its["variance"]["bandwidth"], exp["bandwidth"], rel=rel, what="bwNeweyWest")
    if "gls" in exp:
        for key in ("phi", "sigma", "loglik"):
            assert_close(its["variance"][key], exp["gls"][key], rel=rel, what=f"gls {key}")


@pytest.mark.parametrize("case_id", CASES)
def test_its_effects_and_counterfactual_band_match_r(case_id):
    case = load_case(case_id)
    rel, abs_ = _tol(case)
    exp = case["expected"]["effects"]
    its = _fit(case).extras["interrupted_time_series"]
    effects = {e["term"]: e for e in its["effects"]}
    for name in ("average_effect", "cumulative_effect", "relative_effect"):
        assert_close([effects[name][k] for k in EFFECT_KEYS], [exp[name][k] for k in EFFECT_KEYS], rel=rel,
                     abs_=abs_, what=f"{case_id} {name}")
    band = [r for r in its["series"] if "counterfactual" in r]
    assert len(band) == exp["post_periods"] == its["periods"]["post"]
    assert_close([r["counterfactual"] for r in band], exp["counterfactual"], rel=rel, abs_=abs_, what="counterfactual")
    assert_close([r["counterfactual_se"] for r in band], exp["counterfactual_se"], rel=rel, abs_=abs_,
                 what="counterfactual se")


@pytest.mark.parametrize("case_id", CASES)
def test_its_falsification_checks_match_r(case_id):
    case = load_case(case_id)
    rel, abs_ = _tol(case)
    exp = case["expected"]
    result = _fit(case)
    its = result.extras["interrupted_time_series"]
    bg = {b["series"] or "all": b for b in its["falsification"]["breusch_godfrey"]}
    assert set(bg) == set(exp["breusch_godfrey"])
    for name, e in exp["breusch_godfrey"].items():
        g = bg[name]
        assert (g["order"], g["df"], g["df1"], g["df2"]) == (e["order"], e["df"], e["df1"], e["df2"])
        assert_close([g[k] for k in ("statistic", "p_value", "f_statistic", "f_p_value")],
                     [e[k] for k in ("statistic", "p_value", "f_statistic", "f_p_value")], rel=rel, abs_=abs_,
                     what=f"{case_id} bgtest {name}")
    placebo = its["falsification"]["placebo"]
    assert [p["period"] for p in placebo] == [p["period"] for p in exp["placebo"]]
    for got, want in zip(placebo, exp["placebo"]):
        if "lag" in want:
            assert got["lag"] == want["lag"]
        for part in ("level_change", "slope_change"):
            keys = ("estimate", "std_error", "p_value", "conf_low", "conf_high")
            assert_close([got[part][k] for k in keys], [want[part][k] for k in keys], rel=rel, abs_=abs_,
                         what=f"{case_id} placebo {want['period']} {part}")
    assert_close([result.naive.estimate, result.naive.std_error],
                 [exp["naive"]["estimate"], exp["naive"]["std_error"]], rel=rel, abs_=abs_, what="naive")


@pytest.mark.parametrize("case_id", [c for c in CASES if "gls" in c])
def test_nlme_gls_default_optimum_is_within_its_own_optimiser_tolerance(case_id):
    """gls() stops nlminb within ~1e-7 of the optimum in phi; causalspec solves the score exactly, so its values
    match gls evaluated at the exact optimum at 1e-8 (above) and the default gls() output at 1e-6."""
    case = load_case(case_id)
    d = case["expected"]["gls_default"]
    rel = case["tolerance"]["gls_default_rel"]
    result = _fit(case)
    its = result.extras["interrupted_time_series"]
    assert_close(its["variance"]["phi"], d["phi"], rel=rel, what="default gls phi")
    got = {r.term: r for r in result.coefficients}
    assert_close([got[t].estimate for t in d["coef"]], list(d["coef"].values()), rel=rel, what="default gls coef")
    assert_close([got[t].std_error for t in d["se"]], list(d["se"].values()), rel=rel, what="default gls se")


@pytest.mark.parametrize("kind", ["HC1", "HC3"])
def test_its_ols_with_vcov_matches_sandwich_vcovhc(kind):
    case = load_case("its_seatbelts_ols")
    rel, abs_ = _tol(case)
    result = _fit(case).with_vcov(kind)
    assert result.plan.vcov.r_equivalent == f'sandwich::vcovHC(type = "{kind}")'
    _coefficients(result.coefficients, case["expected"]["vcov_variants"][kind], rel, abs_, kind)
