"""The churn-intervention simulator: a retention offer that works better for some customers than others.

Tenure (months), monthly charges and contract type drive both who receives a retention offer and who
churns.  Churn is a linear probability model, so the effect of the offer on a customer's churn probability
is exact: -0.12 on month-to-month contracts, -0.05 on one-year and -0.02 on two-year contracts (the
customers the offer can still save are the ones free to leave).  Probabilities stay inside [0.05, 0.6]
without clipping, so these are the individual effects.

Truths (population values, exact given the segment shares and the propensity model):

* ``CHURN_ATE`` = the average effect over all customers;
* ``churn_att()`` = the average effect over customers who receive the offer (computed by numerical
  integration over the simulator's covariate distribution; cached).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

__all__ = ["churn_offer", "CHURN_EFFECTS", "CHURN_SHARES", "CHURN_ATE", "churn_att", "churn_propensity"]

CHURN_EFFECTS = {"month-to-month": -0.12, "one_year": -0.05, "two_year": -0.02}
CHURN_SHARES = {"month-to-month": 0.55, "one_year": 0.25, "two_year": 0.20}
CHURN_ATE = sum(CHURN_SHARES[k] * CHURN_EFFECTS[k] for k in CHURN_EFFECTS)  # -0.0800


def _covariates(rng: np.random.Generator, n: int):
    contract = rng.choice(np.array(list(CHURN_SHARES)), size=n, p=list(CHURN_SHARES.values()))
    base = {"month-to-month": 8.0, "one_year": 20.0, "two_year": 32.0}
    tenure = np.minimum(1.0 + rng.gamma(2.0, np.vectorize(base.get)(contract) / 2.0), 72.0).round(0)
    charges = np.clip(rng.normal(65.0, 20.0, size=n), 20.0, 120.0).round(2)
    return contract, tenure, charges


def churn_propensity(contract, tenure, charges) -> np.ndarray:
    """P(offer | covariates): the retention team targets new, expensive, month-to-month customers."""
    mtm = (np.asarray(contract) == "month-to-month").astype(float)
    logit = -0.6 + 0.9 * mtm - 0.03 * (np.asarray(tenure) - 18.0) + 0.02 * (np.asarray(charges) - 65.0)
    return 1.0 / (1.0 + np.exp(-logit))


def _churn_prob(contract, tenure, charges) -> np.ndarray:
    mtm = (contract == "month-to-month").astype(float)
    two = (contract == "two_year").astype(float)
    return 0.32 + 0.15 * mtm - 0.10 * two - 0.0015 * (tenure - 18.0) + 0.001 * (charges - 65.0)


def churn_offer(n: int = 4000, seed: int = 314) -> pd.DataFrame:
    """Simulate the churn study (deterministic given ``seed``).

    Columns: customer_id, tenure, monthly_charges, contract, retention_offer (0/1), churned (0/1), and the
    simulator's own ``true_effect`` (the individual effect on the churn probability; not for analysis).
    """
    rng = np.random.default_rng(seed)
    contract, tenure, charges = _covariates(rng, n)
    offer = rng.binomial(1, churn_propensity(contract, tenure, charges))
    effect = np.vectorize(CHURN_EFFECTS.get)(contract)
    p0 = _churn_prob(contract, tenure, charges)
    churned = rng.binomial(1, p0 + effect * offer)
    return pd.DataFrame({"customer_id": np.arange(1, n + 1), "tenure": tenure, "monthly_charges": charges,
                         "contract": contract, "retention_offer": offer, "churned": churned,
                         "true_effect": effect})


@lru_cache(maxsize=1)
def churn_att(draws: int = 2_000_000, seed: int = 1) -> float:
    """The population ATT: the effect averaged with weights P(offer | covariates) (Monte Carlo, 2e6 draws)."""
    rng = np.random.default_rng(seed)
    contract, tenure, charges = _covariates(rng, draws)
    e = churn_propensity(contract, tenure, charges)
    effect = np.vectorize(CHURN_EFFECTS.get)(contract)
    return float((e * effect).sum() / e.sum())
