"""The synthetic control design (issue 16): planning, Synth and synthdid on data with a known effect, the
placebo inference, bad input refused or reported where it is written.  R / pysyncon parity is in
tests/parity/test_sc_parity.py."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import causalspec as cs
from causalspec.designs.synthetic_control.checks import placebo_check
from causalspec.designs.synthetic_control.fit import fit_synth
from causalspec.errors import CausalSpecError, DataError, EstimationError, SpecError, UnsupportedError
from causalspec.estimators.synth import simplex_least_squares, synth
from causalspec.planner import Strategy



def panel(n_donors=8, periods=12, start=9, effect=-3.0, treated=("T",), seed=1) -> pd.DataFrame:
    """A factor model: the treated units are convex combinations of donors plus noise; effect from ``start``."""
    rng = np.random.default_rng(seed)
    f = np.cumsum(rng.normal(size=(periods, 2)), axis=0)
    load = rng.normal(size=(n_donors, 2))
    rows = []
    for i in range(n_donors):
        y = 10 + f @ load[i] + rng.normal(scale=0.1, size=periods)
        rows += [{"unit": f"d{i}", "year": 2000 + t, "y": y[t], "x": load[i, 0] + rng.normal(scale=0.05),
                  "d": 0} for t in range(periods)]
    for k, name in enumerate(treated):
        w = np.zeros(n_donors)
        w[k % n_donors], w[(k + 1) % n_donors] = 0.6, 0.4
        y = 10 + f @ (w @ load) + rng.normal(scale=0.1, size=periods)
        for t in range(periods):
            on = int(2000 + t >= 2000 + start - 1)
            rows.append({"unit": name, "year": 2000 + t, "y": y[t] + effect * on, "x": w @ load[:, 0], "d": on})
    return pd.DataFrame(rows)


def spec(**design) -> cs.Spec:
    d = {"type": "synthetic_control", "unit": "unit", "time": "year", **design}
    return cs.Spec(name="sc", treatment="d", outcome="y", design=d)


# ------------------------------------------------------------------------------------------------ planning
def test_the_plan_states_the_identifying_assumptions_and_why_sensitivity_is_off():
    plan = cs.plan(spec(estimator="synth"))
    text = plan.explain()
    assert plan.strategy is Strategy.SYNTHETIC_CONTROL and plan.estimand == "ATT"
    assert "reproduces the treated unit's path" in text and "no spillovers" in text and "No anticipation" in text
    assert not plan.sensitivity.enabled and "no adjustment set" in plan.sensitivity.reason
    assert plan.sensitivity.refutations == ()


def test_auto_chooses_synth_with_predictors_and_synthdid_without():
    assert cs.plan(spec()).estimator.value == "synthdid"
    assert cs.plan(spec(predictors=[{"column": "x", "window": [2000, 2005]}])).estimator.value == "synth"


@pytest.mark.parametrize("design, where", [
    ({"estimator": "synthdid", "predictors": [{"column": "x", "window": [2000, 2003]}]}, "design.predictors"),
    ({"estimator": "synthdid", "placebos": False}, "design.placebos"),
    ({"estimator": "synth", "se_method": "jackknife"}, "design.se_method"),
    ({"estimator": "synth", "replications": 50}, "design.replications"),
])
def test_an_option_of_the_other_estimator_is_refused_where_it_is_written(design, where):
    with pytest.raises(UnsupportedError, match=rf"{where}: .* is read by the"):
        cs.plan(spec(**design))


def test_a_regression_variance_covariates_and_other_estimands_are_refused():
    base = spec().model_dump()
    with pytest.raises(UnsupportedError, match=r"inference.vcov: a synthetic control has no regression variance"):
        cs.plan(cs.Spec(**{**base, "inference": {"vcov": "HC1"}}))
    with pytest.raises(CausalSpecError, match=r"covariates"):
        cs.plan(cs.Spec(**{**base, "covariates": ["x"], "dag": {"edges": ["d -> y", "x -> y"]}}))
    with pytest.raises(UnsupportedError, match=r"estimand: .*ATT\), not the ATC"):
        cs.plan(cs.Spec(**{**base, "estimand": "ATC"}))


@pytest.mark.parametrize("design, match", [
    ({"treatment_time": 2005, "fit_periods": [2000, 2006]}, r"fit_periods: the fit periods end in 2006"),
    ({"treatment_time": 2005, "predictors": [{"column": "x", "window": [2000, 2005]}]}, r"predictors\[0\]"),
    ({"predictors": [{"column": "x"}]}, r"either a window"),
    ({"treated_units": ["T"], "donors": ["T", "d1"]}, r"both treated and donors"),
    ({"treatment_time": 2005, "placebo_time": 2007}, r"placebo_time"),
])
def test_inconsistent_periods_are_refused_in_the_spec(design, match):
    with pytest.raises(SpecError, match=match):
        spec(**design)


# ---------------------------------------------------------------------------------------------- the kernel
def test_the_simplex_solver_reaches_the_minimum_a_dense_search_finds():
    rng = np.random.default_rng(0)
    B, a = rng.normal(size=(5, 7)), rng.normal(size=5)
    w = simplex_least_squares(B, a)
    assert abs(w.sum() - 1) < 1e-12 and w.min() >= 0
    best = min(np.sum((a - B @ v) ** 2) for v in rng.dirichlet(np.ones(7) * 0.3, size=20000))
    assert np.sum((a - B @ w) ** 2) <= best + 1e-12


def test_synth_recovers_a_donor_mixture_exactly_reproducible():
    rng = np.random.default_rng(3)
    X0, Z0 = rng.normal(size=(4, 6)), rng.normal(size=(8, 6))
    w_true = np.array([0.7, 0.3, 0, 0, 0, 0])
    fit = synth(X0 @ w_true, X0, Z0 @ w_true, Z0)
    assert np.abs(fit.weights - w_true).max() < 1e-6 and fit.loss_v < 1e-12
    assert synth(X0 @ w_true, X0, Z0 @ w_true, Z0).weights.tolist() == fit.weights.tolist()


# ------------------------------------------------------------------------------------------- fitting: synth
def test_synth_finds_the_effect_and_runs_the_placebo_inference():
    data = panel(effect=-3.0)
    result = cs.fit(cs.plan(spec(estimator="synth", placebo_time=2004)), data)
    assert abs(result.effect.estimate - (-3.0)) < 0.3
    e = result.extras["synthetic_control"]
    assert abs(sum(d["weight"] for d in e["donors"]) - 1) < 1e-12 and e["treatment_time"] == 2008
    pl = result.extras["placebos"]
    assert len(pl["in_space"]["placebos"]) == 8 and pl["in_space"]["rank"] == 1
    assert result.effect.p_value == pytest.approx(1 / 9)
    assert pl["leave_one_out"] and pl["in_time"]["computed"] and pl["in_time"]["placebo_time"] == 2004
    assert abs(pl["in_time"]["effect_before_treatment"]) < 1.0
    json.dumps(result.to_dict(), allow_nan=False)
    # the p-value is the placebo rank, and the text says so (not "Pr(>|z|)"), with no interval promised
    text = result.summary()
    assert "p (permutation)" in text and "Pr(>|z|)" not in text
    assert "no confidence interval" in cs.plan(spec(estimator="synth")).explain()


def test_placebos_can_be_turned_off():
    result = cs.fit(cs.plan(spec(estimator="synth", placebos=False)), panel())
    assert result.extras["placebos"] == {"computed": False, "reason": "turned off (design.placebos: false)"}
    assert np.isnan(result.effect.p_value)


def test_synth_with_predictors_matches_on_them():
    data = panel()
    data.loc[data.year == 2001, "x"] = np.nan  # a missing predictor value is left out of its window's mean
    plan = cs.plan(spec(estimator="synth", predictors=[{"column": "x", "window": [2000, 2004]},
                                                       {"column": "y", "periods": [2003, 2006]}]))
    fit = placebo_check(plan, data, fit_synth(plan, data))
    rows = fit.extras["synthetic_control"]["predictors"]
    assert [r["predictor"] for r in rows] == ["mean(x, 2000-2004)", "mean(y, 2003, 2006)"]
    assert abs(sum(r["v"] for r in rows) - 1) < 1e-12 and fit.extras["placebos"]["in_space"]["units"] == 9
    # causalspec.fit carries the predictor columns past the complete-case step (a missing x drops no row)
    result = cs.fit(plan, data)
    assert result.effect.estimate == pytest.approx(fit.effect.estimate, rel=1e-12) and result.dropped == ()


# ---------------------------------------------------------------------------------------- fitting: synthdid
def test_synthdid_with_several_treated_units_reports_sc_and_did_beside_it():
    data = panel(n_donors=12, treated=("T1", "T2", "T3"), effect=-2.0)
    s = spec(estimator="synthdid", se_method="jackknife")
    result = cs.fit(cs.plan(s), data)
    table = {r["estimator"]: r for r in result.extras["synthdid"]["estimates"]}
    assert set(table) == {"SDID", "SC", "DiD"} and abs(table["SDID"]["estimate"] + 2.0) < 0.5
    assert result.effect.std_error > 0 and result.effect.conf_low < result.effect.estimate < result.effect.conf_high
    assert result.extras["synthdid"]["N1"] == 3 and len(result.extras["synthdid"]["time_weights"]) == 8
    json.dumps(result.to_dict(), allow_nan=False)


def test_the_synthdid_placebo_se_is_seeded_by_the_spec():
    data = panel(n_donors=10)
    a = cs.fit(cs.plan(spec(estimator="synthdid", replications=20)), data)
    b = cs.fit(cs.plan(spec(estimator="synthdid", replications=20)), data)
    assert a.effect.std_error == b.effect.std_error > 0
    c = cs.fit(cs.plan(cs.Spec(**{**spec(estimator="synthdid", replications=20).model_dump(), "seed": 7})), data)
    assert c.effect.std_error != a.effect.std_error


def test_the_jackknife_and_bootstrap_say_why_they_need_several_treated_units():
    result = cs.fit(cs.plan(spec(estimator="synthdid", se_method="jackknife")), panel())
    assert np.isnan(result.effect.std_error)
    assert any("more than one treated unit" in w for w in result.warnings)


# ------------------------------------------------------------------------------------------------ bad input
def test_a_donor_with_missing_years_is_dropped_and_reported():
    data = panel()
    data = data[~((data.unit == "d3") & (data.year.isin([2002, 2003])))]
    result = cs.fit(cs.plan(spec(estimator="synth", placebos=False)), data)
    reasons = dict(result.dropped)
    assert reasons["donor 'd3': 'y' missing in 2 of 12 periods (2002, 2003)"] == 10
    assert "d3" not in [d["unit"] for d in result.extras["synthetic_control"]["donors"]]


def test_a_missing_outcome_value_drops_the_row_then_the_donor():
    data = panel()
    data.loc[(data.unit == "d5") & (data.year == 2004), "y"] = np.nan
    result = cs.fit(cs.plan(spec(estimator="synthdid", replications=5)), data)
    assert ("missing values in 'y'", 1) in result.dropped
    assert any(r.startswith("donor 'd5'") for r, _ in result.dropped)


@pytest.mark.parametrize("design, data_change, error, match", [
    ({"treated_units": ["Nowhere"]}, None, DataError, r"design.treated_units\[0\]: the treated unit 'Nowhere' is not"),
    ({"treated_units": ["d1"]}, None, DataError, r"design.treated_units: the treated units \['d1'\] disagree"),
    ({"treatment_time": 2005}, None, DataError, r"design.treatment_time: treatment_time is 2005, but 'd' first "
                                                r"becomes 1 in 2008"),
    ({"donors": ["d1", "Nowhere"]}, None, DataError, r"design.donors\[1\]"),
    ({"estimator": "synth", "predictors": [{"column": "x", "window": [2000, 2008]}]}, None, DataError,
     r"design.predictors\[0\]: the predictor 'x' reads period 2008, at or after the treatment time 2008"),
    ({"estimator": "synth", "fit_periods": [2000, 2009]}, None, DataError,
     r"design.fit_periods: the fit periods end in 2009, at or after the treatment time 2008"),
    ({}, "first", EstimationError, r"treatment starts in the first period"),
    ({}, "second", EstimationError, r"only one period \(2000\) comes before"),
    ({"estimator": "synth"}, "two", UnsupportedError, r"Synth fits one treated unit"),
    ({}, "treated_gap", DataError, r"the treated unit 'T' has no 'y' in 1 period"),
    ({}, "text", DataError, r"outcome: the outcome column 'y' is not numeric"),
    ({}, "dose", DataError, r"must be 1 in the treated unit-periods and 0"),
])
def test_bad_panels_are_refused_with_the_field_to_fix(design, data_change, error, match):
    data = panel(treated=("T", "U") if data_change == "two" else ("T",))
    if data_change == "first":
        data.loc[data.unit == "T", "d"] = 1
    elif data_change == "second":
        data.loc[(data.unit == "T") & (data.year >= 2001), "d"] = 1
    elif data_change == "treated_gap":
        data = data[~((data.unit == "T") & (data.year == 2003))]
    elif data_change == "text":
        data["y"] = data["y"].map(lambda v: f"{v:.2f}")
    elif data_change == "dose":
        data.loc[(data.unit == "T") & (data.d == 1), "d"] = 2
    with pytest.raises(error, match=match):
        cs.fit(cs.plan(spec(**design)), data)


def test_staggered_adoption_is_refused():
    data = panel(treated=("T1", "T2"))
    data.loc[(data.unit == "T2") & (data.year == 2008), "d"] = 0
    with pytest.raises(UnsupportedError, match=r"start in different periods"):
        cs.fit(cs.plan(spec(estimator="synthdid")), data)


# ------------------------------------------------------------------------------------------ bundled specs
def test_the_bundled_prop99_spec_plans_and_its_data_has_provenance():
    plan = cs.plan(cs.load("specs/sdid_prop99.yaml"))
    assert plan.estimator.value == "synthdid" and plan.vcov.kind == "placebo"
    assert "synthdid" in open("specs/data/california_prop99.md").read()


def test_the_bundled_basque_spec_runs():
    # the placebo runs (16 refits) are checked against pysyncon in tests/parity/test_sc_parity.py
    s = cs.load("specs/synthetic_control_basque.yaml").model_dump()
    s["design"] = {**s["design"], "placebos": False, "placebo_time": None}
    result = cs.fit(cs.plan(cs.Spec(**s)), pd.read_csv("specs/data/basque.csv"))
    weights = {d["unit"]: d["weight"] for d in result.extras["synthetic_control"]["donors"]}
    assert weights["Cataluna"] == pytest.approx(0.8508, abs=1e-3)


def test_the_plots_draw_from_a_result():
    from causalspec.report._sc_plots import sc_gaps_plot, sc_path_plot, sc_weights_plot, sdid_trends_plot

    synth_result = cs.fit(cs.plan(spec(estimator="synth")), panel())
    sdid_result = cs.fit(cs.plan(spec(estimator="synthdid", replications=5)), panel(n_donors=10))
    for fig in (sc_path_plot(synth_result), sc_gaps_plot(synth_result), sc_weights_plot(synth_result),
                sc_weights_plot(sdid_result), sdid_trends_plot(sdid_result)):
        assert fig.axes
    with pytest.raises(UnsupportedError, match="synthetic DiD trends"):
        sdid_trends_plot(synth_result)
