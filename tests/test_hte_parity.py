"""Heterogeneity kernels against EconML, CausalML and scikit-uplift on identical inputs (issue 15).

Reference values: tools/reference/build_hte_cases.py (versions in each case file); the peers are not needed here.
Learners need scikit-learn (the ml extra); the uplift metrics need numpy only.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from causalspec.heterogeneity import (ModelChoice, fit_cate, get_qini, qini_auc_score, qini_curve, uplift_at_k,
                                      uplift_auc_score, uplift_curve)

PARITY = Path(__file__).resolve().parent / "parity"
LEARNER_CASES = sorted(p.stem for p in (PARITY / "cases").glob("hte_*.json") if "uplift" not in p.stem)


def _case(case_id):
    case = json.loads((PARITY / "cases" / f"{case_id}.json").read_text())
    raw = (PARITY / case["data"]["file"]).read_bytes()
    assert hashlib.sha256(raw).hexdigest() == case["data"]["sha256"]
    return case, pd.read_csv(PARITY / case["data"]["file"])


def _worst_rel(got, want, abs_floor):
    got, want = np.asarray(got, float), np.asarray(want, float)
    return float(np.max(np.abs(got - want) / np.maximum(np.abs(want), abs_floor)))


@pytest.mark.parametrize("case_id", LEARNER_CASES)
def test_learner_matches_peer_given_the_same_models_and_folds(case_id):
    pytest.importorskip("sklearn")
    case, df = _case(case_id)
    c = case["causalspec_call"]
    choice = lambda pair: None if pair is None else ModelChoice.of(pair[0], pair[1])  # noqa: E731
    known = df[c["known_propensity"]].to_numpy(float) if c.get("known_propensity") else None
    X, Z = df[c["X"]].to_numpy(float), df[c["Z"]].to_numpy(float)
    t, y = df.discount.to_numpy(float), df.renewed.to_numpy(float)

    def run(known_p, onehot=False):
        return fit_cate(c["learner"], X, Z, t, y, outcome=choice(c["outcome"]), propensity=choice(c["propensity"]),
                        final=choice(c["final"]), folds=df[c["folds"]].to_numpy(), seed=0,
                        known_propensity=known_p, clip=c["clip"], s_onehot=onehot).cate

    tol = case["tolerance"]
    if c["learner"] == "x":  # CausalML was given the known propensity; EconML fitted the propensity model
        assert _worst_rel(run(df.p.to_numpy(float)), case["expected"]["cate"], tol["abs"]) < tol["rel"]
        assert _worst_rel(run(None), case["expected"]["cate_econml"], tol["abs"]) < tol["rel"]
        return
    got = run(known)
    assert _worst_rel(got, case["expected"]["cate"], tol["abs"]) < tol["rel"]
    if "cate_econml" in case["expected"]:  # EconML's SLearner codes the treatment as (1 - t, t)
        got = run(known, onehot=c["learner"] == "s")
        assert _worst_rel(got, case["expected"]["cate_econml"], tol["abs"]) < tol["rel"]


@pytest.mark.parametrize("column", ["score", "score_free"])
def test_uplift_metrics_equal_scikit_uplift(column):
    case, df = _case("hte_uplift_sklift")
    want = case["expected"][column]
    y, s, t = df.renewed.to_numpy(), df[column].to_numpy(), df.discount.to_numpy()
    tol = case["tolerance"]["rel"]
    assert qini_auc_score(y, s, t) == pytest.approx(want["qini_auc_score"], rel=tol, abs=1e-12)
    assert qini_auc_score(y, s, t, negative_effect=False) == pytest.approx(want["qini_auc_score_no_negative"],
                                                                            rel=tol, abs=1e-12)
    assert uplift_auc_score(y, s, t) == pytest.approx(want["uplift_auc_score"], rel=tol, abs=1e-12)
    for strategy in ("overall", "by_group"):
        for k in (0.3, 0.5, 120):
            assert uplift_at_k(y, s, t, strategy, k) == pytest.approx(want[f"uplift_at_k_{strategy}_{k}"], rel=tol,
                                                                      abs=1e-12)
    for name, fn in (("qini_curve", qini_curve), ("uplift_curve", uplift_curve)):
        x, v = fn(y, s, t)
        np.testing.assert_array_equal(x, want[name][0])
        np.testing.assert_allclose(v, want[name][1], rtol=tol, atol=1e-12)


def test_get_qini_equals_causalml_on_tie_free_scores():
    case, df = _case("hte_uplift_sklift")
    want = case["expected"]["score_free"]
    y, s, t = df.renewed.to_numpy(), df.score_free.to_numpy(), df.discount.to_numpy()
    np.testing.assert_allclose(get_qini(y, s, t), want["get_qini"], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(get_qini(y, s, t, normalize=True), want["get_qini_normalized"], rtol=1e-12, atol=1e-12)
