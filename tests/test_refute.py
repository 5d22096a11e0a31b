"""Refutation tests: deterministic, the fast OLS path equals the general one, and verdicts that can fail."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import causalspec as cs
from causalspec.robustness import refute
from causalspec.robustness._refit import Engine as _Engine, with_column as _with_column

SPECS = Path(__file__).resolve().parents[1] / "specs"


def _spec(edges, seed=1, **sens):
    return cs.Spec(name="r", treatment="x", outcome="y", dag={"edges": edges}, seed=seed,
                   sensitivity={"refutations": ["placebo_treatment", "random_common_cause", "data_subsets"],
                                **sens})


def _confounded(n=1000, effect=2.0, seed=0):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=n)
    u = rng.normal(size=n)  # never observed
    x = (z + u + rng.normal(size=n) > 0).astype(float)
    y = effect * x + z + 2 * u + rng.normal(size=n)
    return pd.DataFrame({"x": x, "y": y, "z": z, "p": rng.normal(size=n)})


EDGES = ["z -> x", "z -> y", "x -> y"]


def test_same_seed_same_numbers_other_seed_other_numbers():
    data = _confounded()
    a = cs.run(_spec(EDGES, seed=11), data=data).refutations
    b = cs.run(_spec(EDGES, seed=11), data=data).refutations
    c = cs.run(_spec(EDGES, seed=12), data=data).refutations
    assert a.to_dict() == b.to_dict()
    assert a.to_dict()["tests"][0]["numbers"]["placebo_mean"] != c.to_dict()["tests"][0]["numbers"]["placebo_mean"]


@pytest.mark.parametrize("weighted", [False, True])
def test_fast_ols_path_gives_the_same_estimates_as_fit(weighted):
    data = _confounded(n=300)
    spec = _spec(EDGES)
    if weighted:  # the fast path must weight its rows as fit does (it once refitted weighted plans unweighted)
        data["w"] = np.random.default_rng(9).uniform(0.2, 5.0, len(data))
        spec = spec.model_copy(update={"weights": "w"})
    result = cs.run(spec, data=data, refute=False)
    engine = _Engine(result, data)
    engine.prepare_subsets()
    assert engine.fast and engine.q is not None and engine.subsets is not None
    perm = np.random.default_rng(5).permutation(len(engine.frame))
    permuted = engine.frame.assign(x=engine.frame["x"].to_numpy()[perm])
    slow = cs.fit(result.plan, permuted).effect.estimate
    assert engine.estimate(treatment=engine.treatment_values()[perm]) == pytest.approx(slow, rel=1e-9)
    left_out = np.arange(1, 300, 2)
    kept = cs.fit(result.plan, engine.frame.iloc[::2]).effect.estimate
    assert engine.estimate(left_out=left_out) == pytest.approx(kept, rel=1e-9)
    extra = np.random.default_rng(6).standard_normal(len(engine.frame))
    augmented = cs.fit(*_with_column(engine.frame, engine.plan, extra)[::-1]).effect.estimate
    assert engine.estimate(extra=extra) == pytest.approx(augmented, rel=1e-9)
    engine.fast = False  # the general path must agree too
    assert engine.estimate(treatment=engine.treatment_values()[perm]) == pytest.approx(slow, rel=1e-9)
    assert engine.estimate(extra=extra) == pytest.approx(augmented, rel=1e-9)
    assert engine.estimate(left_out=left_out) == pytest.approx(kept, rel=1e-9)


def test_a_subset_that_loses_a_regressor_falls_back_to_least_squares_as_fit_does():
    data = _confounded(n=200)
    data["g"] = (np.arange(200) < 5).astype(float)  # a rare dummy: leaving out its five rows aliases it
    result = cs.run(_spec([*EDGES, "g -> y"]), data=data, refute=False)
    engine = _Engine(result, data)
    engine.prepare_subsets()
    left_out = np.r_[0:5, 100:140]
    assert engine._subset(left_out) is None  # the shortcut sees the lost column ...
    rows = np.setdiff1d(np.arange(200), left_out)  # ... and the least-squares answer is fit's, with g dropped as aliased
    assert engine.estimate(left_out=left_out) == pytest.approx(
        cs.fit(result.plan, data.iloc[rows]).effect.estimate, rel=1e-9)


def test_threads_do_not_change_the_numbers():
    data = _confounded(n=400)
    result = cs.run(_spec(EDGES, seed=3, simulations=30), data=data, refute=False)
    one = refute(result, data).to_dict()
    assert refute(result, data, n_jobs=2).to_dict() == one
    assert refute(result, data, n_jobs=-1).to_dict() == one
    with pytest.raises(cs.CausalSpecError, match="n_jobs"):
        refute(result, data, n_jobs=0)


def test_refutations_of_a_non_ols_estimator_refit_on_data_with_the_dags_other_nodes():
    # matching on the feature study: the DAG names columns the plan does not use (support_tickets), which the
    # refits once lost, so every test came back "not run"
    result = cs.run(SPECS / "feature_psm.yaml", refute=False)
    report = refute(result, cs.datasets.feature_adoption(), tests=("placebo_treatment",))
    (placebo,) = report.tests
    assert placebo.verdict == "pass", placebo.reason
    assert abs(placebo.numbers["placebo_mean"]) < 3 * placebo.numbers["placebo_sd"] / np.sqrt(20) + 1e-12


def test_refutations_pass_under_an_omitted_confounder_they_do_not_detect_confounding():
    result = cs.run(_spec(EDGES), data=_confounded())
    assert result.effect.estimate > 2.5  # biased upward by u
    assert [t.verdict for t in result.refutations.tests] == ["pass", "pass", "pass"]


def test_placebo_treatment_warns_when_the_estimate_does_not_stand_out_from_random_treatments():
    result = cs.run(_spec(EDGES), data=_confounded(n=200, effect=0.0, seed=4).assign(
        x=lambda d: np.random.default_rng(9).integers(0, 2, len(d)).astype(float)))
    placebo = result.refutations.tests[0]
    assert placebo.name == "placebo_treatment"
    assert placebo.numbers["p_value"] > 0.05 and placebo.verdict == "warn"


def test_data_subsets_warn_when_the_standard_error_understates_row_level_variability():
    # iid standard errors, but the rare treated group is ten times noisier: the iid SE is about 3x too small,
    # and re-estimating on subsets shows it (HC2, the default, gets it right and passes)
    rng = np.random.default_rng(2)
    n = 2000
    z = rng.normal(size=n)
    x = (z + rng.normal(size=n) > 2.0).astype(float)
    y = x + z + rng.normal(size=n) * np.where(x == 1, 10.0, 1.0)
    data = pd.DataFrame({"x": x, "y": y, "z": z})
    iid = cs.run(_spec(EDGES, seed=3).model_copy(update={"inference": cs.spec.Inference(vcov="iid")}), data=data)
    subsets = {t.name: t for t in iid.refutations.tests}["data_subsets"]
    assert subsets.numbers["sd_ratio"] > 1.5 and subsets.verdict == "warn"
    hc2 = {t.name: t for t in cs.run(_spec(EDGES, seed=3), data=data).refutations.tests}["data_subsets"]
    assert hc2.verdict == "pass"


def test_placebo_outcome_passes_for_an_unaffected_column_and_warns_for_an_affected_one():
    data = _confounded()
    edges = EDGES + ["z -> p"]
    ok = cs.run(cs.Spec(name="r", treatment="x", outcome="y", dag={"edges": edges},
                        sensitivity={"refutations": ["placebo_outcome"], "placebo_outcome": "p"}), data=data)
    assert ok.refutations.tests[0].verdict == "pass"
    bad = cs.run(cs.Spec(name="r", treatment="x", outcome="y", dag={"edges": edges},
                         sensitivity={"refutations": ["placebo_outcome"], "placebo_outcome": "p"}),
                 data=data.assign(p=data["y"] * 0.5))
    assert bad.refutations.tests[0].verdict == "warn"
    assert bad.refutations.tests[0].numbers["estimate"] == pytest.approx(0.5 * ok.effect.estimate, rel=1e-9)


def test_results_carry_refutations_in_json_and_the_summary():
    result = cs.run(_spec(EDGES), data=_confounded())
    data = result.to_dict()["refutations"]
    assert [t["name"] for t in data["tests"]] == ["placebo_treatment", "random_common_cause", "data_subsets"]
    assert "Refutation tests" in result.summary()
    assert cs.run(_spec(EDGES), data=_confounded(), refute=False).to_dict()["refutations"]["computed"] is False


def test_placebo_date_on_an_event_study_finds_nothing_before_adoption():
    spec = cs.load("specs/mpdta_event_study.yaml")
    spec = cs.Spec(**{**spec.model_dump(), "sensitivity": {"refutations": ["placebo_date"]}})
    spec._origin = cs.load("specs/mpdta_event_study.yaml").origin
    test = cs.run(spec).refutations.tests[0]
    assert test.name == "placebo_date" and test.verdict == "pass"
    assert test.numbers["conf_low"] < 0 < test.numbers["conf_high"]


def test_placebo_date_warns_when_treated_units_trend_apart_before_adoption():
    rng = np.random.default_rng(5)
    units, periods = 200, 8
    unit = np.repeat(np.arange(units), periods)
    time = np.tile(np.arange(1, periods + 1), units)
    first = np.where(unit < 100, 6, 0)[:, None].repeat(1, 1).ravel()
    treated = (first > 0)
    # treated units drift upward from period 1 on: parallel trends fails, long before adoption
    y = 0.5 * treated * time + rng.normal(size=units * periods) + unit * 0.01
    data = pd.DataFrame({"unit": unit, "time": time, "first": first, "treat": treated.astype(float), "y": y})
    spec = cs.Spec(name="trend", treatment="treat", outcome="y", dag={"edges": ["unit -> treat", "unit -> y",
                                                                                "treat -> y"]},
                   design={"type": "event_study", "unit": "unit", "time": "time", "first_treated": "first",
                           "estimator": "twfe"}, sensitivity={"refutations": ["placebo_date"]})
    test = cs.run(spec, data=data).refutations.tests[0]
    assert test.verdict == "warn" and test.numbers["estimate"] > 0


def test_placebo_date_is_not_run_for_a_2x2_design_and_says_why():
    spec = cs.load("specs/injury_did.yaml")
    spec = cs.Spec(**{**spec.model_dump(), "sensitivity": {"refutations": ["placebo_date"]}})
    spec._origin = cs.load("specs/injury_did.yaml").origin
    test = cs.run(spec).refutations.tests[0]
    assert test.verdict == "not run" and "one period before" in test.reason


def test_placebo_date_reruns_the_chosen_event_study_estimator():
    """Issue 11: the placebo date used to refit TWFE whatever the estimator (one number for all three specs)."""
    numbers, reasons = {}, {}
    for name in ("mpdta_event_study", "mpdta_sun_abraham", "mpdta_callaway_santanna"):
        spec = cs.load(SPECS / f"{name}.yaml")
        spec = cs.Spec(**{**spec.model_dump(), "sensitivity": {"refutations": ["placebo_date"]}})
        test = cs.run(spec, data=SPECS / "data" / "mpdta.csv").refutations.tests[0]
        numbers[name], reasons[name] = test.numbers.get("estimate"), test.reason
        if test.verdict != "not run":
            assert f"plan's own estimator ({cs.plan(spec).estimator.value})" in test.description
    assert numbers["mpdta_event_study"] != pytest.approx(numbers["mpdta_sun_abraham"], rel=1e-6)
    # did's att_gt needs a balanced panel, which the pre-adoption periods are not: said, not replaced by TWFE
    assert reasons["mpdta_callaway_santanna"].startswith("the callaway_santanna estimator cannot be fitted")
