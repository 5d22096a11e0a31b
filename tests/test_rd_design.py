"""The regression discontinuity design (issue 16): the bundled spec runs, the plan says what identifies the effect,
bad input and options rdrobust would not read are refused where they are written."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import causalspec as cs
from causalspec.cli import main
from causalspec.errors import AdjustmentError, CausalSpecError, DataError, EstimationError, SpecError, UnsupportedError
from causalspec.report._rd_plots import rd_bandwidth_plot, rd_plot

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "specs" / "rd_senate.yaml"
DATA = ROOT / "specs" / "data" / "rdrobust_senate.csv"
# the design union's tag appears in pydantic's locations for some families ("design.regression_discontinuity.q")
DESIGN = r"design\.(regression_discontinuity\.)?"


@pytest.fixture(scope="module")
def senate() -> pd.DataFrame:
    return pd.read_csv(DATA)


@pytest.fixture(scope="module")
def result():
    return cs.run(SPEC)


def _spec(**changes) -> cs.Spec:
    body = cs.load(SPEC).model_dump()
    for key, value in changes.items():
        body[key] = {**body[key], **value} if isinstance(value, dict) and isinstance(body.get(key), dict) else value
    return cs.Spec(**body)


def _quick(**design) -> cs.Spec:
    return _spec(design={"falsification": {"enabled": False}, **design})


def test_the_bundled_spec_reproduces_rdrobusts_senate_estimate_and_says_what_ran(result):
    assert result.coefficients[0].term == "Conventional"
    assert abs(result.coefficients[0].estimate - 7.4141) < 1e-4  # rdrobust(vote, margin): 7.414, SE 1.459
    assert abs(result.effect.conf_low - 4.0937) < 1e-4 and abs(result.effect.conf_high - 10.9193) < 1e-4
    assert result.dropped == (("missing values in 'vote'", 93),) and result.nobs == 1297
    f = result.extras["falsification"]
    assert f["ran"] == ["density", "balance", "placebo_cutoffs", "donut", "bandwidths"]
    assert set(f["balance"]) == {"class", "population", "year"}
    assert len(f["placebo_cutoffs"]) == 6 and len(f["donut"]) == 3 and len(f["bandwidths"]) == 5
    assert any(n.startswith("falsification tests run: density") for n in result.notes)
    assert "density test (rddensity)" in result.summary()
    json.dumps(result.to_dict(), allow_nan=False)


def test_the_cli_runs_the_bundled_spec(capsys):
    assert main(["run", str(SPEC), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["plan"]["estimator"] == "rdrobust" and out["estimates"][2]["term"] == "Robust"


def test_explain_states_the_identifying_assumptions_and_the_strategy():
    text = cs.plan(cs.load(SPEC)).explain()
    assert "Strategy   regression discontinuity (continuity at the cutoff)" in text
    assert "Continuity: the average potential outcomes" in text and "No manipulation" in text
    assert "margin        adjust  running variable" in text
    assert "Sensitivity off: omitted-variable-bias bounds" in text and "falsification tests" in text
    fuzzy = cs.plan(_quick(fuzzy=True)).explain()
    assert "monotonicity" in fuzzy and "exclusion" in fuzzy and "(LATE, " in fuzzy


def test_each_option_is_recorded_in_the_plans_rdrobust_call():
    plan = cs.plan(_quick(kernel="uniform", p=2, q=4, bwselect="cerrd", rho=0.8, nnmatch=4))
    assert plan.formula == ('rdrobust(y = vote, x = margin, c = 0, p = 2, q = 4, kernel = "uniform", bwselect = '
                            '"cerrd", rho = 0.8, vce = "nn", nnmatch = 4, level = 95)')
    fixed = cs.plan(_quick(h=[12, 15], b=[18, 20]))
    assert 'h = c(12, 15), b = c(18, 20)' in fixed.formula and "bwselect" not in fixed.formula


@pytest.mark.parametrize("design, loc, message", [
    ({"p": 2, "q": 2}, "q", "q = 2 is not greater than p = 2"),
    ({"b": 20}, "b", "b is read only with a fixed h"),
    ({"h": 10, "b": 20, "rho": 2}, "rho", "rho sets b = h / rho"),
    ({"h": 10, "bwselect": "msetwo"}, "bwselect", "bwselect is not read when h is given"),
    ({"h": -1}, "h", "greater than 0"),
])
def test_inconsistent_bandwidth_and_order_options_are_refused_at_the_field(design, loc, message):
    with pytest.raises(SpecError, match=rf"{DESIGN}{loc}.*{message}"):
        _quick(**design)


@pytest.mark.parametrize("inference, loc, message", [
    ({"vcov": "iid"}, "inference.vcov", "iid is not available for a regression discontinuity"),
    ({"vcov": "CR0", "cluster": ["state"]}, "inference.vcov", "CR0 is not available"),
    ({"vcov": "CR1", "cluster": ["state", "year"]}, "inference.cluster", "rdrobust takes one cluster column"),
])
def test_variances_rdrobust_does_not_offer_are_refused(inference, loc, message):
    with pytest.raises(UnsupportedError, match=rf"{loc}: {message}"):
        cs.plan(_spec(inference=inference))


def test_nnmatch_with_a_plug_in_variance_is_refused():
    with pytest.raises(UnsupportedError, match=r"design.nnmatch: nnmatch is read by the nearest-neighbour"):
        cs.plan(_spec(design={"nnmatch": 5}, inference={"vcov": "HC1"}))


def test_a_cluster_means_cr1_and_with_vcov_re_plans_rdrobusts_vce(senate):
    plan = cs.plan(_spec(design={"falsification": {"enabled": False}}, inference={"cluster": ["state"]}))
    assert plan.vcov.kind == "CR1" and plan.vcov.r_equivalent == 'rdrobust::rdrobust(vce = "cr1", cluster = state)'
    r = cs.fit(cs.plan(_quick()), senate)
    hc1 = r.with_vcov("HC1")
    assert hc1.plan.vcov.r_equivalent == 'rdrobust::rdrobust(vce = "hc1")'
    assert hc1.effect.std_error != r.effect.std_error and r.plan.vcov.kind == "nn"
    with pytest.raises(UnsupportedError, match="inference.vcov: stata is not available"):
        r.with_vcov("stata", cluster="state")


@pytest.mark.parametrize("changes, error, loc, message", [
    ({"adjustment": ["margin"]}, AdjustmentError, "adjustment", "adjusts for no set"),
    ({"estimand": "ATT"}, UnsupportedError, "estimand", "estimates the ATE, not the ATT"),
    ({"dag": {"edges": ["democrat_won -> margin", "democrat_won -> vote"]}}, AdjustmentError, "design.running",
     "affects the running variable"),
    ({"dag": None, "covariates": ["margin"]}, AdjustmentError, r"covariates\[0\]", "is the running variable"),
    ({"design": {"falsification": {"balance": ["vote"]}}}, AdjustmentError, r"design.falsification.balance\[0\]",
     "is the outcome"),
    ({"design": {"falsification": {"placebo_cutoffs": [0]}}}, AdjustmentError,
     r"design.falsification.placebo_cutoffs\[0\]", "is the cutoff itself"),
    ({"design": {"falsification": {"enabled": False, "donut": [1.0]}}}, UnsupportedError,
     "design.falsification.donut", "not read: the falsification tests are turned off"),
    ({"sensitivity": {"kd": [1, 2]}}, CausalSpecError, "sensitivity.kd", "would change nothing"),
])
def test_options_that_would_answer_another_question_are_refused(changes, error, loc, message):
    with pytest.raises(error, match=rf"{loc}: .*{message}"):
        cs.plan(_spec(**changes))


def test_a_cutoff_outside_the_running_variable_is_refused_with_its_range(senate):
    data = senate.assign(democrat_won=(senate.margin >= 0).astype(int))
    with pytest.raises(DataError, match=r"design.cutoff: the cutoff 150 is outside the range of 'margin' "
                                        r"\(-100 to 100\).*Set design.cutoff between -100 and 100"):
        cs.fit(cs.plan(_quick(cutoff=150)), data)


def test_too_few_points_on_one_side_are_refused(senate):
    above = senate[(senate.margin >= 0) & senate.vote.notna()].index[:2]
    data = senate[(senate.margin < 0) | senate.index.isin(above)]
    with pytest.raises(EstimationError, match=r"design.cutoff: only 2 observation\(s\) with 2 distinct value\(s\) "
                                              r"of 'margin' lie at or above the cutoff 0.*lower design.p"):
        cs.fit(cs.plan(_quick()), data)


def test_missing_values_are_dropped_and_counted(senate):
    data = senate.copy()
    data.loc[data.index[:7], "margin"] = np.nan
    r = cs.fit(cs.plan(_quick()), data)
    only_margin = int(data.loc[data.index[:7], "vote"].notna().sum())  # rows missing both count under vote
    assert dict(r.dropped) == {"missing values in 'vote'": 93, "missing values in 'margin'": only_margin}
    assert r.nobs == len(data.dropna(subset=["vote", "margin"]))


def test_a_non_numeric_running_variable_is_refused(senate):
    data = senate.assign(margin=senate.margin.astype(str) + "%")
    with pytest.raises(DataError, match=r"design.running: the column 'margin' is not numeric"):
        cs.fit(cs.plan(_quick()), data)


def test_a_sharp_treatment_that_is_not_running_above_the_cutoff_is_refused(senate):
    data = senate.assign(democrat_won=(senate.margin >= 2).astype(int))
    with pytest.raises(DataError, match=r"treatment: in a sharp design the treatment 'democrat_won' must be 1 "
                                        r"exactly when margin >= 0; \d+ row\(s\) differ.*set design.fuzzy: true"):
        cs.fit(cs.plan(_quick()), data)


def test_a_fuzzy_design_estimates_the_ratio_of_jumps(senate):
    takeup = ((senate.margin >= 0) & ~((senate["class"] == 1) & (senate.margin < 1))).astype(float)
    r = cs.fit(cs.plan(_quick(fuzzy=True)), senate.assign(democrat_won=takeup))
    first = r.extras["rdrobust"]["first_stage"]["Conventional"]["coef"]
    assert 0.5 < first < 1 and r.plan.estimand == "LATE"
    assert any(n.startswith("first stage: the take-up jumps") for n in r.notes)


def test_a_fixed_bandwidth_too_narrow_to_fit_is_refused_at_h(senate):
    with pytest.raises(EstimationError, match=r"design.h: rdrobust cannot fit these data: not enough distinct"):
        cs.fit(cs.plan(_quick(h=0.01)), senate)


def test_an_explicit_placebo_cutoff_outside_its_side_is_refused(senate):
    spec = _spec(design={"falsification": {"placebo_cutoffs": [-150]}})
    with pytest.raises(DataError, match=r"design.falsification.placebo_cutoffs\[0\]: the placebo cutoff -150 is "
                                        "outside the range"):
        cs.fit(cs.plan(spec), senate)


def test_falsification_turned_off_says_so(senate):
    r = cs.fit(cs.plan(_quick()), senate)
    assert r.extras["falsification"] == {"ran": [], "not_run": {
        "all": "turned off in the spec (design.falsification.enabled: false)"}}


def test_the_plots_draw_from_the_result_and_refuse_other_designs(result):
    assert rd_plot(result).axes and rd_bandwidth_plot(result).axes
    other = cs.fit(cs.plan(cs.load(ROOT / "specs" / "feature_adoption.yaml")), cs.datasets.feature_adoption())
    with pytest.raises(UnsupportedError, match="needs a regression discontinuity fit"):
        rd_plot(other)
