"""Heterogeneous effects recover a known truth (issue 15): the renewal-discount simulator, fixed seeds.

The true CATE is tau = base[segment] + 0.08 (usage - 0.5), linear in (usage, new, loyal), so a DR-learner whose
final stage is linear in those modifiers is correctly specified; tolerances are stated per assertion (about three
Monte Carlo SEs at these sizes).
"""

from __future__ import annotations

import numpy as np
import pytest

from causalspec.heterogeneity import (SEGMENT_EFFECTS, ModelChoice, blp, fit_cate, gates, group_ates, make_folds,
                                      policy, rate, renewal_discount)

pytest.importorskip("sklearn")

LIN, LOGIT = ModelChoice.of("linear"), ModelChoice.of("logistic", {"C": 1.0})


@pytest.fixture(scope="module")
def fitted():
    df = renewal_discount(n=12000, seed=11)
    Z = np.column_stack([df.usage, df.segment == "new", df.segment == "loyal"]).astype(float)
    X = np.column_stack([Z, df.age / 10])
    t, y = df.discount.to_numpy(float), df.renewed.to_numpy(float)
    fit = fit_cate("dr", X, Z, t, y, outcome=LIN, propensity=LOGIT, final=LIN, folds=make_folds(t, 5, 3), seed=3)
    return df, t, y, fit


def test_dr_learner_recovers_the_true_cate(fitted):
    df, _, _, fit = fitted
    rmse = np.sqrt(np.mean((fit.cate - df.true_cate) ** 2))
    assert rmse < 0.02  # the effects range over [-0.12, 0.16]
    assert abs(np.corrcoef(fit.cate, df.true_cate)[0, 1]) > 0.95
    assert abs(fit.scores.mean() - df.true_cate.mean()) < 0.03  # AIPW ATE, SE about 0.009


@pytest.mark.parametrize("learner", ["t", "x", "r"])
def test_other_learners_recover_the_true_cate(fitted, learner):
    df, t, y, _ = fitted
    Z = np.column_stack([df.usage, df.segment == "new", df.segment == "loyal"]).astype(float)
    fit = fit_cate(learner, Z, Z, t, y, outcome=LIN, propensity=LOGIT, final=LIN, folds=make_folds(t, 3, 1), seed=1)
    assert np.sqrt(np.mean((fit.cate - df.true_cate) ** 2)) < 0.025


def test_segment_effects_cover_the_truth(fitted):
    df, t, _, fit = fitted
    rows, _ = group_ates(fit.scores, t, df.segment, fit.nuisances.e)
    for row in rows:
        assert abs(row.estimate - SEGMENT_EFFECTS[row.group]) < 3 * row.std_error
    assert {r.group for r in rows} == set(SEGMENT_EFFECTS)


def test_blp_detects_heterogeneity_and_gates_are_ordered(fitted):
    df, t, y, fit = fitted
    b = blp(y, t, fit.nuisances.e, fit.cate_oof)
    assert b.het_p_value < 1e-3 and abs(b.het - 1) < 0.35  # b2 = 1 for a well-calibrated CATE
    groups, diff = gates(y, t, fit.nuisances.e, fit.cate_oof, k=4)
    assert groups[-1].estimate > groups[0].estimate and diff.conf_low > 0


def test_rate_is_positive_when_the_ranking_is_informative(fitted):
    _, _, _, fit = fitted
    r = rate(fit.scores, fit.cate_oof, R=50, seed=1)
    assert r.estimate > 2 * r.std_error and r.toc[-1] == 0


def test_policy_beats_treat_all_and_never_treats_the_harmed(fitted):
    df, _, _, fit = fitted
    p = policy(fit.scores, fit.cate_oof, value=100.0, cost=5.0, can_hurt=True)
    truth_net = 100 * df.true_cate.to_numpy() - 5
    mine, everyone = truth_net[p.treat].sum() / len(df), truth_net.mean()
    assert everyone < 0 < mine  # the truth: treating all loses money, the policy earns
    assert p.values[0].value > p.values[1].value and p.gains[0].conf_low > 0
    assert not p.treat[(df.true_cate < 0).to_numpy()].any()  # loyal customers are harmed: never treated
    assert (df.segment[p.treat] == "loyal").sum() == 0


def test_a_budget_caps_the_share_and_the_best_share_is_under_it(fitted):
    _, _, _, fit = fitted
    p = policy(fit.scores, fit.cate_oof, value=100.0, cost=5.0, budget=0.2)
    assert p.treat.mean() <= 0.2 and p.best_share <= 0.2 and p.budget_share == 0.2
    assert any("budget" in w for w in p.warnings)
    q = policy(fit.scores, fit.cate_oof, value=100.0, cost=5.0, budget=600)
    assert q.treat.sum() <= 600


def test_same_seed_same_cate(fitted):
    df, t, y, fit = fitted
    Z = np.column_stack([df.usage, df.segment == "new", df.segment == "loyal"]).astype(float)
    X = np.column_stack([Z, df.age / 10])
    again = fit_cate("dr", X, Z, t, y, outcome=LIN, propensity=LOGIT, final=LIN, folds=make_folds(t, 5, 3), seed=3)
    np.testing.assert_array_equal(again.cate, fit.cate)
    np.testing.assert_allclose(fit.predict(X[:50], Z[:50]), fit.cate[:50])
