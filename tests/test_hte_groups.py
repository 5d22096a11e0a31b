"""Group effects, grf's RATE and the policy value, checked against their definitions (issue 15).

grf is not available in Python; RATE is a line-by-line translation of grf 2.6.1's ``estimate_rate`` (R
package, ``rank_average_treatment.R``), checked here by the identities grf's own tests use
(tests/testthat/test_rank_average_treatment.R) and by brute force from the definitions.
"""

from __future__ import annotations

import numpy as np
import pytest

from causalspec.errors import DataError
from causalspec.heterogeneity import clan, gates, group_ates, policy, quantile_groups, rate, value_curve


@pytest.fixture
def toy():
    rng = np.random.default_rng(42)
    n = 500
    x = rng.normal(size=n)
    tau = np.maximum(x, 0)
    scores = tau + rng.normal(size=n)
    return scores, tau, rng


def _brute(scores, prio, target):
    order = np.argsort(-prio, kind="stable")
    s = scores[order]
    n = len(s)
    toc = np.array([s[:j].mean() for j in range(1, n + 1)]) - s.mean()
    w = np.arange(1, n + 1) / n if target == "QINI" else np.ones(n)
    return float(np.sum(w * toc) / n)


@pytest.mark.parametrize("target", ["AUTOC", "QINI"])
def test_rate_equals_its_definition_without_ties(toy, target):
    scores, _, rng = toy
    prio = rng.uniform(size=len(scores))
    assert rate(scores, prio, target, R=0).estimate == pytest.approx(_brute(scores, prio, target), rel=1e-12)


def test_rate_averages_scores_within_tied_priorities(toy):
    scores, _, rng = toy
    prio = rng.integers(1, 20, size=len(scores))
    order = np.argsort(-prio, kind="stable")
    averaged = scores.copy()
    for v in np.unique(prio):
        averaged[prio == v] = scores[prio == v].mean()
    assert rate(scores, prio, R=0).estimate == pytest.approx(_brute(averaged, prio, "AUTOC"), rel=1e-12)
    assert order is not None


def test_rate_mean_toc_on_the_full_grid_is_autoc_and_toc_ends_at_zero(toy):
    scores, tau, _ = toy
    n = len(scores)
    full = rate(scores, tau, q=np.arange(1, n + 1) / n, R=0)
    assert np.mean(full.toc) == pytest.approx(full.estimate, abs=1e-10)
    r = rate(scores, tau, R=20, seed=3)
    assert r.toc[-1] == 0 and r.toc_se[-1] < 1e-10 and all(v >= 0 for v in r.toc[:-1])


def test_constant_priority_has_zero_rate_and_seeded_se(toy):
    scores, tau, _ = toy
    assert rate(scores, np.ones(len(scores)), R=10).estimate == 0
    a, b = rate(scores, tau, R=30, seed=7), rate(scores, tau, R=30, seed=7)
    assert a.std_error == b.std_error > 0


def test_group_ates_are_score_means_with_influence_function_ses():
    rng = np.random.default_rng(0)
    scores, t = rng.normal(size=300), np.tile([0, 1], 150)
    labels = np.repeat(["a", "b", "c"], 100)
    rows, notes = group_ates(scores, t, labels)
    assert rows[1].estimate == pytest.approx(scores[100:200].mean())
    assert rows[1].std_error == pytest.approx(scores[100:200].std(ddof=1) / 10)
    assert notes == ()


def test_gates_groups_have_equal_size_and_clan_names_covariates():
    rng = np.random.default_rng(1)
    n = 1000
    S = rng.normal(size=n)
    t = rng.binomial(1, 0.5, n).astype(float)
    y = S * t + rng.normal(size=n)
    groups, diff = gates(y, t, np.full(n, 0.5), S, k=5)
    assert [g.n for g in groups] == [200] * 5 and diff.estimate > 0
    assert np.bincount(quantile_groups(S, 4))[1:].tolist() == [250] * 4
    out = clan(S, {"S": S})
    assert out["S"]["difference"] > 0 and out["S"]["conf_low"] > 0


def test_value_curve_ends_at_treat_all_and_policy_contrasts_are_consistent():
    rng = np.random.default_rng(2)
    scores, cate = rng.normal(0.02, 1, 400), rng.normal(size=400)
    share, v, se = value_curve(scores, cate, value=10, cost=1)
    assert share[0] == 0 and v[0] == 0 and v[-1] == pytest.approx(np.mean(10 * scores - 1))
    p = policy(scores, cate, value=10, cost=1)
    pol, everyone, nobody = p.values
    assert p.gains[0].value == pytest.approx(pol.value - everyone.value)
    assert nobody.value == 0 and pol.share_treated == pytest.approx(np.mean(10 * cate > 1))


def test_a_negative_cost_treats_only_units_with_positive_benefit_when_the_treatment_can_hurt():
    cate = np.array([-1.0, -0.1, 0.2, 1.0])
    scores = cate.copy()
    assert policy(scores, cate, value=1, cost=-0.5, can_hurt=True).treat.tolist() == [False, False, True, True]
    assert policy(scores, cate, value=1, cost=-0.5, can_hurt=False).treat.tolist() == [False, True, True, True]


def test_a_segment_harmful_with_confidence_is_excluded():
    cate = np.array([0.5, 0.5, 0.5, 0.5])
    p = policy(cate, cate, value=1, segments=np.array(["a", "a", "b", "b"]), segment_benefit_high={"a": -0.1, "b": 1})
    assert p.treat.tolist() == [False, False, True, True] and p.excluded_segments == ("a",)


def test_group_without_control_units_is_a_located_error():
    with pytest.raises(DataError, match=r"heterogeneity.segments: segment 'b' has 3 treated and 0 control"):
        group_ates(np.zeros(6), np.array([0, 1, 0, 1, 1, 1]), np.array(list("aaabbb")))
