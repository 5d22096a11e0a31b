"""Parallel-trends sensitivity in the pipeline (issue 11): event studies report Rambachan-Roth bounds, from a
spec, equal to HonestDiD's documented examples; designs without pre-treatment coefficients say why not, and
options that cannot apply are refused where they are written."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pandas as pd
import pytest

import causalspec as cs
from causalspec.errors import AdjustmentError, CausalSpecError, SpecError
from parity._cases import case_data, load_case

ROOT = __import__('pathlib').Path(__file__).resolve().parents[1]

GRID_TOL = 1e-12


def _rel(a, b):
    return abs(a - b) / abs(b)


def _ehec_spec(**overrides) -> cs.Spec:
    body = {
        "version": 1, "name": "medicaid_expansion",
        "dag": {"edges": ["stfips -> treated", "stfips -> dins", "year -> dins", "treated -> dins"]},
        "treatment": "treated", "outcome": "dins",
        "design": {"type": "event_study", "unit": "stfips", "time": "year", "first_treated": "first_treated",
                   "estimator": "twfe", "reference": -1},
        "inference": {"vcov": "CR1", "cluster": ["stfips"]},
        "sensitivity": {"refutations": []},
    }
    for key, value in overrides.items():
        body[key] = {**body[key], **value} if isinstance(value, dict) and isinstance(body.get(key), dict) else value
    return cs.Spec(**body)


@pytest.fixture(scope="module")
def ehec() -> pd.DataFrame:
    return case_data(load_case("honestdid_ehec_twfe"))


@pytest.fixture(scope="module")
def ehec_twfe_frame(ehec) -> pd.DataFrame:
    """The README's sample: years before 2016 and without the 2015 cohort; the 2014 cohort is treated."""
    d = ehec[(ehec.year < 2016) & (ehec.yexp2.isna() | (ehec.yexp2 != 2015))].copy()
    d["first_treated"] = np.where(d.yexp2 == 2014, 2014, 0)
    d["treated"] = ((d.first_treated > 0) & (d.year >= d.first_treated)).astype(int)
    return d


def test_twfe_event_study_spec_gives_honestdid_readme_numbers(ehec_twfe_frame):
    ref = load_case("honestdid_ehec_twfe")
    spec = _ehec_spec(sensitivity={"refutations": [], "parallel_trends": {
        "mbar": [0.5, 1.0, 1.5, 2.0], "m": [0.01, 0.02, 0.03, 0.04, 0.05]}})
    result = cs.run(spec, data=ehec_twfe_frame, refute=False)
    pt = result.sensitivity.parallel_trends
    assert pt.pre_periods == (-6, -5, -4, -3, -2) and pt.post_periods == (0, 1)
    rm, sd = pt.analyses
    for row, r in zip(rm.rows, ref["relative_magnitudes"]["first_centred"]["rows"], strict=True):
        assert _rel(row.lower, r["lb"]) < GRID_TOL and _rel(row.upper, r["ub"]) < GRID_TOL
    for row, r in zip(sd.rows, ref["smoothness"]["rows"][1:], strict=True):
        assert _rel(row.lower, r["lb"]) < 1e-8 and _rel(row.upper, r["ub"]) < 1e-8
    assert rm.breakdown == 1.5  # README: "the breakdown value for a significant effect is Mbar = 2" (at 3 digits)
    text = "\n".join(result.sensitivity.summary_lines())
    assert "relative magnitudes" in text and "Mbar = 1.5: [0.008587, 0.0796]" in text
    out = json.loads(json.dumps(result.to_dict()))["sensitivity"]["parallel_trends"]
    assert out["analyses"][0]["breakdown"] == 1.5 and out["analyses"][1]["method"] == "FLCI"
    assert pickle.loads(pickle.dumps(result.sensitivity)).parallel_trends.analyses[0].rows == rm.rows


def test_average_target_and_symmetric_grid_are_honestdid_s(ehec_twfe_frame):
    ref = load_case("honestdid_ehec_twfe")["relative_magnitudes"]
    avg = cs.run(_ehec_spec(sensitivity={"refutations": [], "parallel_trends": {
        "restrictions": ["relative_magnitudes"], "mbar": [0, 0.5, 1, 1.5, 2], "target": "average"}}),
        data=ehec_twfe_frame, refute=False).sensitivity.parallel_trends.analyses[0]
    for row, r in zip(avg.rows, ref["average_centred"]["rows"], strict=True):
        assert _rel(row.lower, r["lb"]) < GRID_TOL and _rel(row.upper, r["ub"]) < GRID_TOL
    sym = cs.run(_ehec_spec(sensitivity={"refutations": [], "parallel_trends": {
        "restrictions": ["relative_magnitudes"], "mbar": [0, 0.5, 1, 1.5, 2], "grid": "symmetric"}}),
        data=ehec_twfe_frame, refute=False).sensitivity.parallel_trends.analyses[0]
    for row, r in zip(sym.rows, ref["first_symmetric"]["rows"], strict=True):
        assert _rel(row.lower, r["lb"]) < GRID_TOL and _rel(row.upper, r["ub"]) < GRID_TOL


def test_callaway_santanna_with_a_universal_base_period(ehec):
    ref = load_case("honestdid_ehec_callaway_santanna")["relative_magnitudes"]["centred"]
    d = ehec.copy()
    d["first_treated"] = d.yexp2.fillna(0)
    d["treated"] = ((d.first_treated > 0) & (d.year >= d.first_treated)).astype(int)
    spec = _ehec_spec(design={"estimator": "callaway_santanna", "control_group": "not_yet_treated",
                              "base_period": "universal"}, inference={},
                      sensitivity={"refutations": [], "parallel_trends": {
                          "restrictions": ["relative_magnitudes"], "grid_points": 100}})
    result = cs.run(spec, data=d, refute=False)
    pt = result.sensitivity.parallel_trends
    # the README trims the dynamic aggregation to e in [-5, 5]; causalspec keeps every event time, so the
    # pre- and post-periods differ and the check is the event-study coefficients the README used
    es = load_case("honestdid_ehec_callaway_santanna")
    got = {r["relative_time"]: r["estimate"] for r in result.extras["event_study"]}
    for e, att in zip(es["egt"], es["att_egt"]):
        assert got[e] == pytest.approx(att, rel=1e-10, abs=1e-15)
    assert pt.pre_periods[-1] == -2 and pt.post_periods[0] == 0 and len(pt.analyses[0].rows) == len(ref["rows"])


def test_callaway_santanna_varying_base_says_why_and_refuses_the_field(ehec):
    d = ehec.copy()
    d["first_treated"] = d.yexp2.fillna(0)
    d["treated"] = ((d.first_treated > 0) & (d.year >= d.first_treated)).astype(int)
    spec = _ehec_spec(design={"estimator": "callaway_santanna"}, inference={})
    pt = cs.run(spec, data=d, refute=False).sensitivity.parallel_trends
    assert "universal" in pt.reason and not hasattr(pt, "analyses")
    with pytest.raises(AdjustmentError, match=r"design\.base_period: parallel-trends sensitivity needs a universal"):
        cs.plan(_ehec_spec(design={"estimator": "callaway_santanna"}, inference={},
                           sensitivity={"parallel_trends": {}}))


def test_fields_that_cannot_apply_are_refused_where_they_are_written():
    did = cs.load(str(ROOT / "specs/injury_did.yaml")).model_dump()
    with pytest.raises(AdjustmentError, match=r"sensitivity\.parallel_trends: .*design\.type did has none"):
        cs.plan(cs.Spec(**{**did, "sensitivity": {"parallel_trends": {}}}))
    with pytest.raises(CausalSpecError, match=r"design\.base_period"):
        cs.plan(_ehec_spec(design={"base_period": "universal"}))
    with pytest.raises(SpecError, match=r"mbar is read by the relative_magnitudes restriction"):
        _ehec_spec(sensitivity={"parallel_trends": {"restrictions": ["smoothness"], "mbar": [1]}})
    with pytest.raises(SpecError, match=r"m is read by the smoothness restriction"):
        _ehec_spec(sensitivity={"parallel_trends": {"restrictions": ["relative_magnitudes"], "m": [0.1]}})
    with pytest.raises(SpecError, match=r"0 or more"):
        _ehec_spec(sensitivity={"parallel_trends": {"mbar": [-1]}})


def test_did_2x2_says_why_there_is_no_parallel_trends_bound():
    result = cs.run(str(ROOT / "specs/injury_did.yaml"), refute=False)
    assert "no pre-treatment periods" in result.sensitivity.parallel_trends.reason
    assert "Parallel-trends sensitivity (Rambachan-Roth): not computed" in "\n".join(result.sensitivity.summary_lines())


def test_a_reference_other_than_minus_one_is_not_forced_into_honestdid_s_layout(ehec_twfe_frame):
    pt = cs.run(_ehec_spec(design={"reference": -2}), data=ehec_twfe_frame,
                refute=False).sensitivity.parallel_trends
    assert "reference period is -2" in pt.reason


def test_default_m_range_is_honestdid_s_upper_bound(ehec_twfe_frame):
    from causalspec.sensitivity import smoothness_m_upper
    result = cs.run(_ehec_spec(sensitivity={"refutations": [], "parallel_trends": {"restrictions": ["smoothness"]}}),
                    data=ehec_twfe_frame, refute=False)
    sd = result.sensitivity.parallel_trends.analyses[0]
    ms = [r.bound for r in sd.rows]
    assert ms[0] == 0 and len(ms) == 5
    # the second differences of (beta_-6..beta_-2, 0) plus 1.645 SE, the largest of them (and of their negatives)
    names = [e["relative_time"] for e in result.extras["event_study"]]
    beta = np.array([e["estimate"] for e in result.extras["event_study"]])
    pre = beta[[names.index(t) for t in (-6, -5, -4, -3, -2)]]
    d2 = np.diff(np.append(pre, 0.0), 2)
    assert ms[-1] >= np.max(np.abs(d2))  # the upper bound is above every estimated second difference
    assert ms[-1] == pytest.approx(smoothness_m_upper(
        np.append(pre, beta[[names.index(0), names.index(1)]]),
        result_sigma(result, names), 5), rel=1e-12)


def result_sigma(result, names):
    terms = [e["term"] for e in result.extras["event_study"]]
    order = [terms[names.index(t)] for t in (-6, -5, -4, -3, -2, 0, 1)]
    idx = [result.vcov_terms.index(t) for t in order]
    V = np.asarray(result.vcov_matrix)
    return V[np.ix_(idx, idx)]
