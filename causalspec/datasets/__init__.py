"""Bundled data sets: deterministic simulators whose true effects are known.

``feature_adoption``: a self-selected product feature.  Using the feature raises
spend by exactly ``TRUE_EFFECT = 10.0``, but power users (older accounts, more
activity) both adopt the feature and spend more, so the naive difference in
means is about 14.5.  ``ab_test``: a randomized A/B test with pre-period
covariates; the variant raises spend by ``AB_TRUE_EFFECT = 2.0``.

Both are generated from a fixed seed, so the same name always gives the same
rows on every machine (numpy's ``Generator`` with PCG64 is stable across
platforms and versions).
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd

from causalspec.errors import DataError, Problem

__all__ = ["feature_adoption", "ab_test", "ab_test_srm", "churn_offer", "CHURN_ATE", "churn_att", "load", "names", "TRUE_EFFECT", "AB_TRUE_EFFECT"]

TRUE_EFFECT = 10.0
AB_TRUE_EFFECT = 2.0


def feature_adoption(n: int = 5000, seed: int = 2024) -> pd.DataFrame:
    """Simulate the feature-adoption study.

    DAG: account_age -> activity; account_age, activity, promo_email -> feature_usage;
    account_age, activity, region_index, feature_usage -> spend; feature_usage, activity -> support_tickets.

    Examples
    --------
    >>> from causalspec.datasets import feature_adoption
    >>> df = feature_adoption()
    >>> round(df.spend[df.feature_usage == 1].mean() - df.spend[df.feature_usage == 0].mean(), 1)  # naive
    14.5
    """
    rng = np.random.default_rng(seed)
    account_age = rng.gamma(shape=2.0, scale=1.5, size=n)  # years
    activity = np.exp(rng.normal(1.2 + 0.12 * account_age, 0.45, size=n))  # sessions per week
    promo_email = rng.binomial(1, 0.3, size=n)
    region_index = rng.normal(0.0, 1.0, size=n)
    logit = -3.2 + 0.35 * account_age + 0.22 * activity + 1.0 * promo_email
    feature_usage = rng.binomial(1, 1.0 / (1.0 + np.exp(-logit)), size=n)
    spend = (
        20.0 + TRUE_EFFECT * feature_usage + 1.55 * account_age + 0.72 * activity + 4.0 * region_index
        + rng.normal(0.0, 8.0, size=n)
    )
    support_tickets = rng.poisson(0.5 + 1.0 * feature_usage + 0.05 * activity, size=n)
    return pd.DataFrame({
        "user_id": np.arange(1, n + 1),
        "account_age": account_age.round(3),
        "activity": activity.round(3),
        "promo_email": promo_email,
        "region_index": region_index.round(4),
        "feature_usage": feature_usage,
        "spend": spend.round(2),
        "support_tickets": support_tickets,
    })


def ab_test(n: int = 10000, seed: int = 7) -> pd.DataFrame:
    """Simulate a randomized A/B test with pre-period spend and country as covariates.

    The variant is assigned by a fair coin; it raises spend by ``AB_TRUE_EFFECT``.
    """
    rng = np.random.default_rng(seed)
    country = rng.choice(np.array(["BR", "DE", "US"]), size=n, p=[0.25, 0.25, 0.5])
    pre_spend = rng.gamma(shape=2.0, scale=10.0, size=n)
    variant = rng.binomial(1, 0.5, size=n)
    country_effect = np.select([country == "DE", country == "US"], [3.0, 6.0], 0.0)
    spend = 5.0 + 0.8 * pre_spend + country_effect + AB_TRUE_EFFECT * variant + rng.normal(0.0, 6.0, size=n)
    return pd.DataFrame({
        "user_id": np.arange(1, n + 1),
        "country": country,
        "pre_spend": pre_spend.round(2),
        "variant": variant,
        "spend": spend.round(2),
    })


def ab_test_srm(n: int = 10000, seed: int = 11) -> pd.DataFrame:
    """The A/B test of :func:`ab_test` with a broken logging pipeline: a fair coin assigns the variant, but
    15% of the variant's users with low pre-period spend never reach the data (their sessions crash before the
    event is logged).  The arms are no longer comparable, the observed split is about 46/54 instead of 50/50,
    and a sample-ratio-mismatch check catches it before any effect is read."""
    full = ab_test(n, seed)
    rng = np.random.default_rng(seed + 1)
    lost = (full["variant"] == 1) & (full["pre_spend"] < 20) & (rng.random(n) < 0.25)
    return full.loc[~lost].reset_index(drop=True)


from causalspec.datasets._churn import CHURN_ATE, churn_att, churn_offer  # noqa: E402
import difflib

_BUNDLED: dict[str, Callable[[], pd.DataFrame]] = {
    "churn_offer": churn_offer,
    "feature_adoption": feature_adoption,
    "ab_test": ab_test,
    "ab_test_srm": ab_test_srm,
}


def names() -> list[str]:
    """Names usable as ``data:`` in a spec."""
    return sorted(_BUNDLED)


def load(name: str) -> pd.DataFrame:
    """A bundled data set by name."""
    try:
        return _BUNDLED[name]()
    except KeyError:

        close = difflib.get_close_matches(name, names(), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise DataError(Problem("data", f"{name!r} is not a bundled data set.",
                                fix=f"Use one of {', '.join(names())}, or a .csv / .parquet path.{hint}")) from None
