"""The targeting policy: who to treat, and what it is worth net of cost (doubly robust policy value).

The rule treats a unit when its benefit ``value * CATE`` exceeds the ``cost`` of treating it.  ``value`` is the
worth of one unit of outcome (negative when the outcome is bad, e.g. churn), so "harm" means a negative benefit.
With ``can_hurt`` (the default) the rule never treats a unit whose estimated benefit is negative, whatever the
cost (which matters when treating pays: a negative cost), and never a unit of a segment whose doubly robust
effect is harmful with confidence (upper limit of the benefit below zero).

The value of a policy pi is estimated by the AIPW scores G_i (Athey & Wager 2021, Econometrica, "Policy
learning with observational data"): V(pi) = mean(pi_i (value G_i - cost)) per unit, with SE sd / sqrt(n) of the
summands; treat-none is 0 and treat-all is mean(value G_i - cost).  The CATEs that choose pi must be out of fold
(the units' outcomes did not shape their own ranking) or from a holdout, else the value is optimistic.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from causalspec.errors import DataError, Problem

__all__ = ["PolicyValue", "Policy", "policy", "value_curve", "check_budget"]


@dataclass(frozen=True)
class PolicyValue:
    name: str
    share_treated: float
    value: float  # net value per unit of the population
    std_error: float
    conf_low: float
    conf_high: float


@dataclass(frozen=True)
class Policy:
    treat: np.ndarray
    values: tuple[PolicyValue, ...]  # the policy, treat all, treat none
    gains: tuple[PolicyValue, ...]  # the policy minus treat all, minus treat none
    budget_share: float | None
    best_share: float  # the share (<= budget) that maximises the estimated value along the CATE ranking
    best_value: PolicyValue
    excluded_segments: tuple[str, ...]
    warnings: tuple[str, ...]


def _pv(name, contrib, share, level) -> PolicyValue:
    n = len(contrib)
    v = float(contrib.mean())
    se = float(contrib.std(ddof=1) / np.sqrt(n))
    z = stats.norm.ppf(0.5 + level / 2)
    return PolicyValue(name, float(share), v, se, float(v - z * se), float(v + z * se))


def check_budget(budget: float | int | None, n: int, loc: str = "heterogeneity.policy.budget") -> float | None:
    """The budget as a share of the units: a float in (0, 1] is a share, an int >= 1 a count (at most n)."""
    if budget is None:
        return None
    if isinstance(budget, bool) or not isinstance(budget, (int, float)) or not np.isfinite(budget):
        raise DataError(Problem(loc, f"{budget!r} is not a budget.", fix="Give a share in (0, 1] or a count.",
                                code="budget_invalid"))
    if isinstance(budget, int):
        if budget < 1 or budget > n:
            raise DataError(Problem(loc, f"a budget of {budget} units is outside 1..{n} (the units in the data).",
                                    fix=f"Give a count up to {n}, or a share.", code="budget_invalid"))
        return budget / n
    if not 0 < budget <= 1:
        raise DataError(Problem(loc, f"a budget share of {budget:g} is not in (0, 1] "
                                f"({budget:.0%} of the units).", fix="Give a share up to 1 (100%), or a count.",
                                code="budget_invalid"))
    return float(budget)


def value_curve(scores, cate, value: float = 1.0, cost: float = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(share treated, net value per unit, SE) when the top share by ``value * CATE`` is treated, at every count
    0..n (share 0 = treat none, 1 = treat all)."""
    scores, cate = np.asarray(scores, float), np.asarray(cate, float)
    n = len(scores)
    order = np.argsort(-(value * cate), kind="stable")
    net = value * scores[order] - cost
    csum, csq = np.r_[0.0, np.cumsum(net)], np.r_[0.0, np.cumsum(net ** 2)]
    k = np.arange(n + 1)
    mean = csum / n
    var = (csq / n - mean ** 2) * n / (n - 1)  # variance of the n summands (zeros for the untreated)
    return k / n, mean, np.sqrt(np.maximum(var, 0) / n)


def policy(scores, cate, *, value: float = 1.0, cost: float = 0.0, can_hurt: bool = True,
           budget: float | int | None = None, segments=None, segment_benefit_high: dict | None = None,
           level: float = 0.95) -> Policy:
    """The rule ``value * CATE > cost`` (never a harmed unit or segment when ``can_hurt``), its DR value net of
    cost compared with treating everyone and no one, and, under a budget, the best share."""
    scores, cate = np.asarray(scores, float), np.asarray(cate, float)
    n = len(scores)
    share_cap = check_budget(budget, n)
    benefit = value * cate
    treat = benefit > cost
    warns = []
    if can_hurt:
        treat &= benefit > 0
    excluded: list[str] = []
    if can_hurt and segments is not None and segment_benefit_high:
        labels = np.asarray(segments).astype(str)
        for g, high in segment_benefit_high.items():
            if high < 0:
                excluded.append(str(g))
                treat &= labels != str(g)
    elif not can_hurt and segment_benefit_high and any(h < 0 for h in segment_benefit_high.values()):
        warns.append("policy.can_hurt is false, but a segment's effect is harmful with confidence: "
                     + ", ".join(g for g, h in segment_benefit_high.items() if h < 0))
    ranked = np.argsort(-benefit, kind="stable")
    shares, curve, curve_se = value_curve(scores, cate, value, cost)
    if share_cap is not None:
        cap = int(np.floor(share_cap * n + 1e-9))
        kept = np.flatnonzero(treat[ranked])[:cap]
        if treat.sum() > cap:
            warns.append(f"the budget ({cap} of {n} units) binds: {int(treat.sum()) - cap} units the rule would "
                         "treat are left out (lowest benefit first)")
        treat = np.zeros(n, bool)
        treat[ranked[kept]] = True
    limit = n if share_cap is None else int(np.floor(share_cap * n + 1e-9))
    best_k = int(np.argmax(curve[: limit + 1]))
    if can_hurt:  # never past the last unit with a positive estimated benefit
        best_k = min(best_k, int((benefit > 0).sum()))
    net = value * scores - cost
    pol = _pv("policy", np.where(treat, net, 0.0), treat.mean(), level)
    everyone = _pv("treat all", net, 1.0, level)
    nobody = PolicyValue("treat none", 0.0, 0.0, 0.0, 0.0, 0.0)
    best = np.zeros(n, bool)
    best[ranked[:best_k]] = True
    if excluded:
        best &= ~np.isin(np.asarray(segments).astype(str), excluded)
    best_pv = _pv("best share", np.where(best, net, 0.0), best.mean(), level)
    gains = (_pv("policy - treat all", np.where(treat, net, 0.0) - net, treat.mean(), level),
             _pv("policy - treat none", np.where(treat, net, 0.0), treat.mean(), level))
    if pol.conf_high < everyone.value:
        warns.append("the policy's value is below treating everyone (estimate outside the policy's interval)")
    return Policy(treat, (pol, everyone, nobody), gains, share_cap, best_k / n, best_pv, tuple(excluded),
                  tuple(warns))
