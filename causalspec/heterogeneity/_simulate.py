"""A renewal-discount simulator whose effect varies in a known way, and harms one segment.

A subscription business offers a discount to encourage renewal.  Customers are ``new``, ``regular`` or
``loyal``; usage (0..1) and age vary within segments.  Renewal is a linear probability model, so each
customer's effect of the discount on the renewal probability is exact:

    tau(x) = SEGMENT_BASE[segment] + 0.08 (usage - 0.5)

+0.12 for new customers, +0.04 for regulars and -0.08 for loyal customers (a discount call annoys people who
would have renewed anyway, and some of them leave); usage raises every effect.  Loyal customers are harmed at any
usage (tau <= -0.04).  Probabilities stay in [0.15, 0.9] without clipping.

The first ``randomized_share`` of customers are a randomized holdout (fair coin, ``randomized == 1``); the rest
were targeted by the retention team (new, heavy users more often), so the discount is confounded by segment and
usage there.  Columns: customer_id, segment, usage, age, randomized, discount, renewed, and the simulator's own
``true_cate`` (not for analysis).  Truths: ``SEGMENT_EFFECTS`` (population means by segment), ``RENEWAL_ATE``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["renewal_discount", "renewal_cate", "SEGMENT_BASE", "SEGMENT_SHARES", "SEGMENT_EFFECTS", "RENEWAL_ATE"]

SEGMENT_BASE = {"new": 0.12, "regular": 0.04, "loyal": -0.08}
SEGMENT_SHARES = {"new": 0.40, "regular": 0.35, "loyal": 0.25}
SEGMENT_EFFECTS = dict(SEGMENT_BASE)  # E[usage] = 0.5 in every segment, so the segment mean is its base
RENEWAL_ATE = sum(SEGMENT_SHARES[k] * SEGMENT_BASE[k] for k in SEGMENT_BASE)  # 0.042


def renewal_cate(segment, usage) -> np.ndarray:
    """The true effect of the discount on each customer's renewal probability."""
    base = np.vectorize(SEGMENT_BASE.get, otypes=[float])(np.asarray(segment))
    return base + 0.08 * (np.asarray(usage, float) - 0.5)


def _baseline(segment, usage, age) -> np.ndarray:
    seg = np.asarray(segment)
    return (0.45 + 0.20 * usage - 0.10 * (seg == "new") + 0.15 * (seg == "loyal")
            + 0.002 * (np.asarray(age, float) - 45.0))


def renewal_discount(n: int = 4000, seed: int = 2718, randomized_share: float = 0.5) -> pd.DataFrame:
    """Simulate the renewal study (deterministic given ``seed``).

    Examples
    --------
    >>> from causalspec.heterogeneity import renewal_discount
    >>> df = renewal_discount()
    >>> round(df.true_cate.mean(), 3)
    0.042
    """
    rng = np.random.default_rng(seed)
    segment = rng.choice(np.array(list(SEGMENT_SHARES)), size=n, p=list(SEGMENT_SHARES.values()))
    usage = rng.uniform(0.0, 1.0, size=n).round(3)
    age = rng.integers(18, 71, size=n)
    randomized = (np.arange(n) < round(randomized_share * n)).astype(int)
    logit = -0.4 + 0.8 * (segment == "new") - 0.6 * (segment == "loyal") + 1.2 * (usage - 0.5)
    p_targeted = 1.0 / (1.0 + np.exp(-logit))
    discount = rng.binomial(1, np.where(randomized == 1, 0.5, p_targeted))
    tau = renewal_cate(segment, usage)
    renewed = rng.binomial(1, _baseline(segment, usage, age) + tau * discount)
    return pd.DataFrame({"customer_id": np.arange(1, n + 1), "segment": segment, "usage": usage, "age": age,
                         "randomized": randomized, "discount": discount, "renewed": renewed,
                         "true_cate": tau.round(6)})
