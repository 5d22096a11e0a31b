"""The churn-offer simulator: deterministic, its stated truths hold, and the spec recovers the ATE."""

from __future__ import annotations

import numpy as np
import pytest

import causalspec as cs
from causalspec.datasets import CHURN_ATE, churn_att, churn_offer
from causalspec.datasets._churn import CHURN_EFFECTS, CHURN_SHARES, churn_propensity


def test_deterministic_and_typed():
    a, b = churn_offer(500, 3), churn_offer(500, 3)
    assert a.equals(b) and not a.equals(churn_offer(500, 4))
    assert set(a["contract"]) <= set(CHURN_EFFECTS)
    assert set(a["retention_offer"]) <= {0, 1} and set(a["churned"]) <= {0, 1}


def test_truths_match_the_simulated_individual_effects():
    big = churn_offer(400_000, 11)
    assert CHURN_ATE == pytest.approx(sum(CHURN_SHARES[k] * CHURN_EFFECTS[k] for k in CHURN_EFFECTS))
    assert big["true_effect"].mean() == pytest.approx(CHURN_ATE, abs=0.001)
    treated = big[big["retention_offer"] == 1]
    assert treated["true_effect"].mean() == pytest.approx(churn_att(), abs=0.001)
    assert churn_att() < CHURN_ATE  # the offer goes to the customers it helps most


def test_overlap_is_good_but_not_perfect():
    d = churn_offer(20_000, 2)
    e = churn_propensity(d["contract"], d["tenure"], d["monthly_charges"])
    assert 0.02 < e.min() and e.max() < 0.95 and e.std() > 0.1


def test_the_churn_spec_recovers_the_ate_where_the_naive_contrast_does_not():
    result = cs.run("specs/churn_offer.yaml", refute=False)
    assert result.effect.conf_low < CHURN_ATE < result.effect.conf_high
    assert not result.naive.conf_low < CHURN_ATE < result.naive.conf_high
