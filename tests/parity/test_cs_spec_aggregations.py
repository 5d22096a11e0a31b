"""Callaway & Sant'Anna options a spec can say (issue 12): all four did::aggte aggregations with SEs and CIs,
the headline aggregation, the dynamic window, ATT(g,t) intervals, uniform bands, and the fields refused where
they cannot apply.  Numbers through the spec against did 2.5.1 (the ``cs_mpdta_*`` cases)."""

from __future__ import annotations

import numpy as np
import pytest

import causalspec as cs
from causalspec.errors import CausalSpecError
from causalspec.estimators.callaway_santanna import aggte, att_gt
from parity._cases import case_data, load_case

CASES = {"cs_mpdta_nevertreated_nocov": ("never_treated", []), "cs_mpdta_notyettreated_nocov": ("not_yet_treated", []),
         "cs_mpdta_nevertreated_lpop": ("never_treated", ["lpop"]),
         "cs_mpdta_notyettreated_lpop": ("not_yet_treated", ["lpop"])}
COMPONENT = {"dynamic": "event_time", "group": "group", "calendar": "time"}


def _spec(control_group="never_treated", covariates=(), **design) -> cs.Spec:
    edges = ["countyreal -> treat", "countyreal -> lemp", "year -> lemp", "treat -> lemp"]
    edges += [e for c in covariates for e in (f"{c} -> treat", f"{c} -> lemp")]
    return cs.Spec(version=1, name="mpdta", treatment="treat", outcome="lemp", estimand="ATT", dag={"edges": edges},
                   covariates=list(covariates),
                   design={"type": "event_study", "unit": "countyreal", "time": "year", "first_treated": "first.treat",
                           "estimator": "callaway_santanna", "control_group": control_group, **design},
                   sensitivity={"refutations": []})


@pytest.mark.parametrize("case_id", sorted(CASES))
@pytest.mark.parametrize("aggregation", ["simple", "dynamic", "group", "calendar"])
def test_every_aggregation_through_the_spec_matches_did(case_id, aggregation):
    case = load_case(case_id)
    want = case["expected"]["est_method_variants"]["dr"]["aggte"][aggregation]
    control, covs = CASES[case_id]
    result = cs.run(_spec(control, covs, aggregation=aggregation), data=case_data(case), refute=False)
    assert result.effect.term == f"ATT ({aggregation})"
    assert result.effect.estimate == pytest.approx(want["overall_att"], rel=1e-8)
    assert result.effect.std_error == pytest.approx(want["overall_se"], rel=1e-8)
    assert [result.effect.conf_low, result.effect.conf_high] == pytest.approx(want["overall_conf_int"], rel=1e-8)
    got = result.extras["aggregations"][aggregation]
    if aggregation != "simple":
        key = COMPONENT[aggregation]
        comps = got["components"]
        np.testing.assert_allclose([c[key] for c in comps], want["egt"])
        np.testing.assert_allclose([c["att"] for c in comps], want["att_egt"], rtol=1e-8)
        np.testing.assert_allclose([c["se"] for c in comps], want["se_egt"], rtol=1e-8)
        assert got["crit_val"] == pytest.approx(want["crit_val_egt"], rel=1e-12)
        half = np.array([c["conf_high"] - c["att"] for c in comps])
        np.testing.assert_allclose(half, np.array(want["se_egt"]) * want["crit_val_egt"], rtol=1e-8)


def test_att_gt_rows_carry_their_intervals():
    case = load_case("cs_mpdta_nevertreated_nocov")
    want = case["expected"]["est_method_variants"]["dr"]["att_gt"]
    result = cs.run(_spec(), data=case_data(case), refute=False)
    rows = result.extras["att_gt"]
    np.testing.assert_allclose([r["att"] for r in rows], want["att"], rtol=1e-8)
    np.testing.assert_allclose([r["conf_high"] - r["att"] for r in rows], np.array(want["se"]) * want["crit_val"],
                               rtol=1e-8)


def test_the_dynamic_window_is_did_s_min_e_max_e_balance_e():
    case = load_case("cs_mpdta_nevertreated_nocov")
    frame = case_data(case)
    result = cs.run(_spec(aggregation="dynamic", min_e=-2, max_e=2, balance_e=1), data=frame, refute=False)
    ref = aggte(att_gt(frame, "lemp", "year", "countyreal", "first.treat"), "dynamic", min_e=-2, max_e=2,
                balance_e=1)
    comps = result.extras["aggregations"]["dynamic"]["components"]
    assert [c["event_time"] for c in comps] == list(ref.egt) and [c["att"] for c in comps] == list(ref.att_egt)
    assert result.effect.estimate == ref.overall_att
    assert [e["relative_time"] for e in result.extras["event_study"]] == list(ref.egt)
    # the other aggregations are did's defaults, not trimmed by the dynamic window
    full = cs.run(_spec(), data=frame, refute=False)
    assert result.extras["aggregations"]["group"] == full.extras["aggregations"]["group"]


def test_uniform_bands_are_seeded_and_wider_than_pointwise():
    frame = case_data(load_case("cs_mpdta_nevertreated_nocov"))
    a = cs.run(_spec(bands="uniform", bootstrap_iterations=500), data=frame, refute=False)
    b = cs.run(_spec(bands="uniform", bootstrap_iterations=500), data=frame, refute=False)
    assert a.extras["aggregations"] == b.extras["aggregations"]  # the spec's seed makes it reproducible
    dyn = a.extras["aggregations"]["dynamic"]
    assert dyn["crit_val"] > 1.96 and a.extras["att_gt_crit_val"] > 1.96
    assert "multiplier-bootstrap" in a.plan.vcov.r_equivalent


@pytest.mark.parametrize("field,value", [("aggregation", "group"), ("min_e", -2), ("balance_e", 1),
                                         ("bands", "uniform"), ("base_period", "universal")])
def test_callaway_santanna_options_are_refused_for_other_estimators(field, value):
    spec = _spec(**{field: value}).model_dump()
    spec["design"]["estimator"] = "sun_abraham"
    with pytest.raises(CausalSpecError, match=rf"design\.{field}: {field} is an option of Callaway"):
        cs.plan(cs.Spec(**spec))


def test_an_empty_event_window_is_refused():
    with pytest.raises(CausalSpecError, match=r"design\.min_e: min_e \(3\) is after max_e \(1\)"):
        cs.plan(_spec(min_e=3, max_e=1))
