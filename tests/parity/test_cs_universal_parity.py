"""Callaway & Sant'Anna with ``design.base_period: universal`` through the spec (issue 12).

Three kinds of reference, each a ``cs_mpdta_universal*`` case that says where its numbers come from:

- ``cs_mpdta_universal_nevertreated_nocov_attgt``: R did 2.5.0's own ATT(g,t) and SEs (never-treated, no
  covariates, est_method reg) as printed by ``write.csv`` (15 significant digits) in the csdid repository's R
  reference files; compared at 1e-12 relative (the case's note says why that, and not half a unit of the 15th
  digit), base cells at exactly 0 with a missing SE.  Without covariates did documents dr, ipw and reg as the same
  estimator, so all three are checked.
- ``cs_mpdta_universal_post_treatment``: did documents that both base periods give the same post-treatment
  ATT(g,t); so the post-treatment cells and every aggregation built only from them (simple, group, calendar,
  dynamic at e >= 0 and its overall ATT) must be did 2.5.1's numbers of the varying-base cases, for both control
  groups, with and without lpop (rel 1e-8, as tests/parity/test_cs_spec_aggregations.py).
- ``cs_mpdta_universal_csdid_*``: the pre-treatment event times of the dynamic aggregation with a universal base
  appear in no published R output, so they, and everything else, are compared with the csdid port (documented
  R parity, checked in the case), at the tolerance each case states.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import pytest

import causalspec as cs
from parity._cases import assert_close, case_data, case_ids, load_case

AGGREGATIONS = ("simple", "dynamic", "group", "calendar")
COMPONENT = {"dynamic": "event_time", "group": "group", "calendar": "time"}
CONTROL = {"nevertreated": "never_treated", "notyettreated": "not_yet_treated"}
CSDID = case_ids("cs_mpdta_universal_csdid_", family="staggered_did_universal")


def _spec(control: str, covariates: tuple[str, ...], est_method: str) -> cs.Spec:
    edges = ["countyreal -> treat", "countyreal -> lemp", "year -> lemp", "treat -> lemp"]
    edges += [e for c in covariates for e in (f"{c} -> treat", f"{c} -> lemp")]
    return cs.Spec(version=1, name="mpdta_universal", treatment="treat", outcome="lemp", estimand="ATT",
                   dag={"edges": edges}, covariates=list(covariates),
                   design={"type": "event_study", "unit": "countyreal", "time": "year", "first_treated": "first.treat",
                           "estimator": "callaway_santanna", "control_group": CONTROL[control],
                           "est_method": est_method, "base_period": "universal", "aggregation": "dynamic"},
                   sensitivity={"refutations": []})


@lru_cache(maxsize=None)
def _run(control: str, covariates: tuple[str, ...], est_method: str = "dr"):
    frame = case_data(load_case("cs_mpdta_universal_post_treatment"))
    return cs.run(_spec(control, covariates, est_method), data=frame, refute=False)


def _covs(xformla: str) -> tuple[str, ...]:
    return () if xformla.replace(" ", "") == "~1" else ("lpop",)


def _nan(values) -> list[float]:
    return [math.nan if v is None else v for v in values]


def _cells(result) -> dict[tuple[int, int], dict]:
    return {(int(r["group"]), int(r["time"])): r for r in result.extras["att_gt"]}


def test_every_universal_case_is_covered():
    assert case_ids("cs_mpdta_universal", family="staggered_did_universal") == sorted(
        ["cs_mpdta_universal_nevertreated_nocov_attgt", "cs_mpdta_universal_post_treatment", *CSDID])
    assert len(CSDID) == 4


def test_the_spec_says_the_base_period_it_used():
    plan = _run("nevertreated", ()).plan
    assert "base_period = universal" in plan.explain()


@pytest.mark.parametrize("est_method", ["reg", "dr", "ipw"])
def test_att_gt_equals_r_as_printed(est_method):
    case = load_case("cs_mpdta_universal_nevertreated_nocov_attgt")
    exp = case["expected"]["att_gt"]
    rel = case["tolerance"]["rel"]
    rows = _run("nevertreated", (), est_method).extras["att_gt"]
    assert [(int(r["group"]), int(r["time"])) for r in rows] == list(zip(exp["group"], exp["t"]))
    att, se = np.array([r["att"] for r in rows]), np.array([r["se"] for r in rows])
    want_att, want_se = np.array(exp["att"], dtype=float), np.array(_nan(exp["se"]), dtype=float)
    base = np.isnan(want_se)
    assert base.sum() == 3 and np.all(want_att[base] == 0)
    assert np.all(att[base] == 0) and np.all(np.isnan(se[base]))
    assert_close(att[~base], want_att[~base], rel=rel, abs_=0, what=f"ATT(g,t) {est_method}")
    assert_close(se[~base], want_se[~base], rel=rel, abs_=0, what=f"SE {est_method}")


VARIANTS = sorted(load_case("cs_mpdta_universal_post_treatment")["expected"]["variants"])


@pytest.mark.parametrize("variant", VARIANTS)
def test_post_treatment_numbers_are_did_s_for_either_base_period(variant):
    case = load_case("cs_mpdta_universal_post_treatment")
    rel = case["tolerance"]["rel"]
    v = case["expected"]["variants"][variant]
    result = _run(v["control_group"], _covs(v["xformla"]))
    what = f"{variant} (from {v['source_case']})"

    cells = _cells(result)
    post = v["att_gt_post"]
    got = [cells[(g, t)] for g, t in zip(post["group"], post["t"])]
    assert_close([c["att"] for c in got], post["att"], rel=rel, what=f"{what} post-treatment ATT(g,t)")
    assert_close([c["se"] for c in got], post["se"], rel=rel, what=f"{what} post-treatment SE")
    for zero in v["normalised"]["att_gt"]:
        assert cells[(zero["group"], zero["t"])]["att"] == 0

    aggs = result.extras["aggregations"]
    for agg in AGGREGATIONS:
        want, have = v[agg], aggs[agg]
        assert_close(have["overall"]["att"], want["overall_att"], rel=rel, what=f"{what} {agg} ATT")
        assert_close(have["overall"]["se"], want["overall_se"], rel=rel, what=f"{what} {agg} SE")
        if "overall_conf_int" in want:
            assert_close([have["overall"]["conf_low"], have["overall"]["conf_high"]], want["overall_conf_int"],
                         rel=rel, what=f"{what} {agg} interval")
        if agg == "simple":
            continue
        comps = {c[COMPONENT[agg]]: c for c in have["components"]}
        assert set(want["egt"]) <= set(comps)
        assert_close([comps[e]["att"] for e in want["egt"]], want["att_egt"], rel=rel, what=f"{what} {agg} att_egt")
        assert_close([comps[e]["se"] for e in want["egt"]], want["se_egt"], rel=rel, what=f"{what} {agg} se_egt")
        assert have["crit_val"] == pytest.approx(want["crit_val_egt"], rel=1e-12)
    assert {c["event_time"]: c for c in aggs["dynamic"]["components"]}[-1]["att"] == 0
    assert result.effect.estimate == aggs["dynamic"]["overall"]["att"]


@pytest.mark.parametrize("case_id", CSDID)
def test_every_aggregation_equals_the_csdid_port(case_id):
    case = load_case(case_id)
    tol = case["tolerance"]
    rel, abs_ = tol["rel"], tol["abs"]
    exp = case["expected"]
    model = case["model"]
    result = _run(model["control_group"], _covs(model["xformla"]))

    rows = result.extras["att_gt"]
    a = exp["att_gt"]
    assert [(int(r["group"]), int(r["time"])) for r in rows] == list(zip(a["group"], a["t"]))
    assert_close([r["att"] for r in rows], a["att"], rel=rel, abs_=abs_, what=f"{case_id} ATT(g,t)")
    assert_close([r["se"] for r in rows], a["se"], rel=rel, abs_=abs_, what=f"{case_id} SE")

    aggs = result.extras["aggregations"]
    for agg in AGGREGATIONS:
        want, have = exp[agg], aggs[agg]
        assert_close(have["overall"]["att"], want["overall_att"], rel=rel, abs_=abs_, what=f"{case_id} {agg} ATT")
        assert_close(have["overall"]["se"], want["overall_se"], rel=rel, abs_=abs_, what=f"{case_id} {agg} SE")
        if agg == "simple":
            continue
        comps = have["components"]
        assert [c[COMPONENT[agg]] for c in comps] == want["egt"]
        assert_close([c["att"] for c in comps], want["att_egt"], rel=rel, abs_=abs_, what=f"{case_id} {agg} att_egt")
        assert_close([c["se"] for c in comps], want["se_egt"], rel=rel, abs_=abs_, what=f"{case_id} {agg} se_egt")
        assert have["crit_val"] == pytest.approx(want["crit_val_egt"], rel=1e-12)
