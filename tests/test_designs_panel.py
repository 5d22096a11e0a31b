"""Panel, IV, DiD and event-study designs from spec files reproduce the R reference cases.

Each spec in specs/ runs through the whole spine (load -> plan -> fit) on the real data it names; the
numbers are compared with the matching case in tests/parity/cases at the case's tolerance.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import causalspec as cs
from causalspec.errors import AdjustmentError, UnsupportedError
from causalspec.planner import Estimator, Strategy
from parity._cases import assert_close, load_case, tolerance

SPECS = Path(__file__).resolve().parents[1] / "specs"


def _run(name, **changes):
    spec = cs.load(SPECS / name)
    if changes:
        spec = cs.Spec(**{**spec.model_dump(), **changes})
        spec._origin = SPECS
    return cs.run(spec, refute=False)


def _check(result, block, term_ours, term_r, rel, abs_):
    row = {r.term: r for r in result.coefficients}[term_ours]
    assert_close([row.estimate, row.std_error, row.statistic, row.p_value],
                 [block["coef"][term_r], block["se"][term_r], block["tstat"][term_r], block["pvalue"][term_r]],
                 rel=rel, abs_=abs_, what=term_r)
    if "conf_int" in block:
        assert_close([row.conf_low, row.conf_high], block["conf_int"][term_r], rel=rel, abs_=abs_, what=term_r)


@pytest.mark.parametrize("variant, inference", [
    ("default", None),
    ("iid", {"vcov": "iid"}),
    ("hetero", {"vcov": "HC1"}),
    ("twoway_nr_year", {"vcov": "CR1", "cluster": ["nr", "year"]}),
])
def test_panel_spec_matches_fixest_feols(variant, inference):
    case = load_case("fe_wagepan_feols_vcov")
    rel, abs_ = tolerance(case)
    result = _run("wagepan_fe.yaml", **({"inference": inference} if inference else {}))
    assert result.plan.estimator is Estimator.FEOLS and result.plan.strategy is Strategy.FIXED_EFFECTS
    assert result.nobs == case["expected"]["nobs"]
    block = case["expected"]["vcov_variants"][variant]
    for term in ("union", "married", "expersq"):
        _check(result, block, term, term, rel, abs_)
    assert result.effect.term == "union"


def test_panel_plan_absorbs_the_unit_node_and_states_strict_exogeneity():
    plan = cs.plan(cs.load(SPECS / "wagepan_fe.yaml"))
    assert plan.formula == "lwage ~ union + expersq + married | nr + year"
    assert any("Strict exogeneity" in a for a in plan.assumptions)
    assert plan.vcov.cluster == ("nr",)


def test_panel_sensitivity_uses_fixest_residual_degrees_of_freedom():
    result = _run("wagepan_fe.yaml", inference={"vcov": "iid"})
    case = load_case("fe_wagepan_feols_vcov")["expected"]
    ovb = result.sensitivity.ovb
    # sensemakr on a fixest model: t from the iid SE, dof = nobs - nparams
    assert ovb.dof == case["vcov_variants"]["iid"]["df_t"]
    assert ovb.estimate == pytest.approx(case["coef"]["union"], rel=1e-9)
    assert ovb.se == pytest.approx(case["vcov_variants"]["iid"]["se"]["union"], rel=1e-6)


@pytest.mark.parametrize("variant", ["iid", "HC1"])
def test_iv_spec_matches_aer_ivreg(variant):
    case = load_case("iv_mroz_aer_ivreg")
    rel, abs_ = tolerance(case)
    result = _run("mroz_iv.yaml", **({"inference": {"vcov": variant}} if variant != "iid" else {}))
    assert result.nobs == case["expected"]["nobs"]
    assert sum(n for _, n in result.dropped) == 753 - 428  # women with no wage, counted
    block = case["expected"]["vcov_variants"][variant]
    for term in ("educ", "exper", "expersq", "(Intercept)"):
        _check(result, block, term, term, rel, abs_)
    assert result.extras["first_stage"]["educ"]


def test_iv_planner_refuses_an_instrument_with_a_path_to_the_outcome():
    spec = cs.load(SPECS / "mroz_iv.yaml")
    edges = list(spec.dag.edges) + ["motheduc -> lwage"]
    bad = cs.Spec(**{**spec.model_dump(), "dag": {"edges": edges}})
    with pytest.raises(AdjustmentError, match=r"design.instruments\[0\]: 'motheduc' is not a valid instrument: the "
                                              r"path motheduc -> lwage reaches the outcome"):
        cs.plan(bad)
    irrelevant = cs.Spec(**{**spec.model_dump(), "dag": {"edges": edges[:-1] + ["sibs -> lwage"]},
                            "design": {"type": "iv", "instruments": ["sibs"]}})
    with pytest.raises(AdjustmentError, match="no directed path into the treatment"):
        cs.plan(irrelevant)


@pytest.mark.parametrize("variant", ["iid", "HC1"])
def test_did_2x2_spec_matches_lm(variant):
    case = load_case("did_injury_2x2")
    rel, abs_ = tolerance(case)
    result = _run("injury_did.yaml", inference={"vcov": variant})
    block = case["expected"]["vcov_variants"][variant]
    assert result.effect.term == case["expected"]["did_term"]
    for term in block["coef"]:
        _check(result, block, term, term, rel, abs_)
    assert any("Parallel trends" in a for a in result.plan.assumptions)


def test_event_study_spec_matches_fixest_i():
    case = load_case("event_study_mpdta")
    rel, abs_ = tolerance(case)
    result = _run("mpdta_event_study.yaml")
    block = case["expected"]["vcov_variants"]["cluster_countyreal"]
    for term in block["coef"]:
        _check(result, block, term, term, rel, abs_)
    table = result.extras["event_study"]
    assert [r["relative_time"] for r in table] == [-4, -3, -2, 0, 1, 2, 3]


def test_sun_abraham_spec_matches_fixest_sunab():
    case = load_case("sunab_mpdta")
    rel, abs_ = tolerance(case)
    result = _run("mpdta_sun_abraham.yaml")
    block = case["expected"]["vcov_variants"]["cluster_countyreal"]
    assert_close([result.effect.estimate, result.effect.std_error], [block["att"]["coef"]["ATT"],
                 block["att"]["se"]["ATT"]], rel=rel, abs_=abs_, what="ATT")
    for term, value in block["period"]["coef"].items():
        assert_close({r.term: r.estimate for r in result.coefficients}[term], value, rel=rel, abs_=abs_, what=term)


@pytest.mark.parametrize("control, case_id", [("never_treated", "cs_mpdta_nevertreated_lpop"),
                                              ("not_yet_treated", "cs_mpdta_notyettreated_lpop")])
@pytest.mark.parametrize("est_method", ["dr", "ipw", "reg"])
def test_callaway_santanna_spec_matches_did(control, case_id, est_method):
    case = load_case(case_id)
    rel, abs_ = tolerance(case)
    spec = cs.load(SPECS / "mpdta_callaway_santanna.yaml")
    spec = cs.Spec(**{**spec.model_dump(), "design": {**spec.design.model_dump(), "control_group": control,
                                                      "est_method": est_method}})
    spec._origin = SPECS
    result = cs.run(spec, refute=False)
    agg = case["expected"]["est_method_variants"][est_method]["aggte"]
    assert_close([result.effect.estimate, result.effect.std_error],
                 [agg["simple"]["overall_att"], agg["simple"]["overall_se"]], rel=rel, abs_=abs_, what="simple")
    event = [r for r in result.coefficients if r.term.startswith("event::")]
    assert_close([r.estimate for r in event], agg["dynamic"]["att_egt"], rel=rel, abs_=abs_, what="dynamic")
    assert_close([r.std_error for r in event], agg["dynamic"]["se_egt"], rel=rel, abs_=abs_, what="dynamic se")


def test_unsupported_parts_say_so_at_the_field():
    spec = cs.load(SPECS / "mpdta_sun_abraham.yaml")
    with pytest.raises(cs.errors.SpecError, match=r"model.formula: cannot read 'log\(treat\)'"):
        cs.plan(cs.Spec(**{**spec.model_dump(), "model": {"formula": "lemp ~ log(treat) | countyreal + year"}}))
    with pytest.raises(UnsupportedError, match="inference.vcov: HC3 is not available with fixed effects"):
        cs.plan(cs.Spec(**{**cs.load(SPECS / "wagepan_fe.yaml").model_dump(), "inference": {"vcov": "HC3"}}))


def test_event_study_plot_renders(tmp_path):
    from causalspec.report import event_study_plot

    ax = event_study_plot(_run("mpdta_event_study.yaml"))
    fig = ax.figure
    assert ax.get_xlabel() == "periods relative to treatment"
    assert list(ax.lines[-1].get_xdata()) == [-1] and list(ax.lines[-1].get_ydata()) == [0.0]  # the reference
    fig.savefig(tmp_path / "es.png")
    assert (tmp_path / "es.png").stat().st_size > 5000


def _with_formula(name, formula):
    spec = cs.load(SPECS / name)
    out = cs.Spec(**{**spec.model_dump(), "model": {"formula": formula}})
    out._origin = SPECS
    return out


def test_fixest_formula_panel_matches_feols_and_is_checked_against_the_dag():
    case = load_case("fe_wagepan_feols_vcov")
    rel, abs_ = tolerance(case)
    result = cs.run(_with_formula("wagepan_fe.yaml", "lwage ~ expersq + married + union | nr + year"), refute=False)
    _check(result, case["expected"]["vcov_variants"]["default"], "union", "union", rel, abs_)
    assert result.plan.formula == "lwage ~ expersq + married + union | nr + year"
    with pytest.raises(AdjustmentError, match=r"model.formula: the backdoor path union <- expersq -> lwage stays "
                                              r"open.*Add 'expersq' to the formula's regressors"):
        cs.plan(_with_formula("wagepan_fe.yaml", "lwage ~ union + married | nr + year"))


def test_fixest_formula_iv_with_fixed_effects_matches_feols():
    case = load_case("iv_mroz_fe_age")
    rel, abs_ = tolerance(case)
    result = cs.run(_with_formula("mroz_iv.yaml", "lwage ~ exper + expersq | age | educ ~ motheduc + fatheduc"),
                    refute=False)
    block = case["expected"]["vcov_variants"]["default"]
    _check(result, block, "fit_educ", "fit_educ", rel, abs_)


def test_fixest_formula_sunab_matches_fixest():
    case = load_case("sunab_mpdta")
    rel, abs_ = tolerance(case)
    result = cs.run(_with_formula("mpdta_sun_abraham.yaml", "lemp ~ sunab(`first.treat`, year) | countyreal + year"),
                    refute=False)
    att = case["expected"]["vcov_variants"]["cluster_countyreal"]["att"]
    assert_close([result.effect.estimate, result.effect.std_error], [att["coef"]["ATT"], att["se"]["ATT"]],
                 rel=rel, abs_=abs_, what="ATT")


def test_iv_summary_reports_the_first_stage_and_diagnostics():
    case = load_case("iv_mroz_fixest")
    rel, abs_ = tolerance(case)
    result = _run("mroz_iv.yaml")
    fs = result.extras["fitstat"]
    assert_close(fs["ivf1::educ"]["stat"], case["expected"]["fitstat"]["ivf1::educ"]["stat"], rel=rel, abs_=abs_,
                 what="first-stage F")
    assert "IV diagnostics (fixest::fitstat): first-stage F (educ) = 55.4" in result.summary()
