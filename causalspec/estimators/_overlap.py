"""Overlap of the propensity-score distributions (the common-support range, units outside it, R's summary()) and Crump, Hotz, Imbens & Mitnik (2009) trimming."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from causalspec.errors import SpecError


# ------------------------------------------------------------------ overlap
def r_summary(x: np.ndarray) -> dict[str, float]:
    """``summary()`` of a numeric vector: Min, quartiles (type 7), mean, Max, with R's names."""
    x = np.asarray(x, dtype=float)
    q = np.quantile(x, [0.0, 0.25, 0.5, 0.75, 1.0])
    return {"Min.": q[0], "1st Qu.": q[1], "Median": q[2], "Mean": float(np.mean(x)), "3rd Qu.": q[3], "Max.": q[4]}


@dataclass(frozen=True)
class Overlap:
    """Propensity-score distributions by group and the common-support range.

    ``outside_support`` counts, per group, units whose score lies outside
    ``[support_low, support_high]`` (max of the group minima, min of the group maxima).
    """

    treated: dict[str, float]
    control: dict[str, float]
    support_low: float
    support_high: float
    outside_support: dict[str, int]


def overlap(score: np.ndarray, treat: np.ndarray) -> Overlap:
    """Overlap diagnostics: ``summary(ps)`` per group and the common support (MatchIt ``discard = "both"``)."""
    score = np.asarray(score, dtype=float)
    t = np.asarray(treat).astype(bool)
    lo = max(score[t].min(), score[~t].min())
    hi = min(score[t].max(), score[~t].max())
    out = (score < lo) | (score > hi)
    return Overlap(r_summary(score[t]), r_summary(score[~t]), float(lo), float(hi),
                   {"treated": int((out & t).sum()), "control": int((out & ~t).sum())})


@dataclass(frozen=True)
class Trimming:
    """Which units a trimming rule keeps, the threshold used and how many were dropped per group."""

    rule: str
    alpha: float
    keep: np.ndarray
    dropped: dict[str, int]


def crump_trim(score: np.ndarray, treat: np.ndarray, alpha: float | None = None) -> Trimming:
    """Keep units with ``alpha <= e(x) <= 1 - alpha``.

    With ``alpha=None`` the threshold is Crump, Hotz, Imbens & Mitnik (2009)'s optimal
    rule: with ``g = 1/(e(1-e))``, no trimming when ``max g <= 2 mean(g)``, otherwise
    ``alpha`` solves ``1/(alpha(1-alpha)) = 2 E[g | g <= 1/(alpha(1-alpha))]``
    (their Theorem 1).  A fixed ``alpha`` (0.1 is their rule of thumb) is used as given.
    """
    e = np.asarray(score, dtype=float)
    t = np.asarray(treat).astype(bool)
    if alpha is None:
        rule = "crump2009"
        g = 1.0 / (e * (1.0 - e))
        if g.max() <= 2.0 * g.mean():
            alpha = 0.0
        else:
            gs = np.sort(g)
            cm = np.cumsum(gs) / np.arange(1, len(gs) + 1)
            # E[g | g <= gamma] is flat between order statistics, so the root of
            # gamma = 2 E[g | g <= gamma] is 2 * cm_j for the first j whose next g exceeds it.
            j = int(np.argmax(gs[1:] > 2.0 * cm[:-1]))
            gamma = 2.0 * cm[j]
            alpha = 0.5 - math.sqrt(max(0.25 - 1.0 / gamma, 0.0))
    else:
        rule = "fixed"
        if not 0.0 <= alpha < 0.5:
            raise SpecError(f"trimming threshold {alpha!r} must lie in [0, 0.5).", loc="trim.alpha",
                            fix="Use for example 0.1 (Crump et al.'s rule of thumb).")
    keep = (e >= alpha) & (e <= 1.0 - alpha)
    return Trimming(rule, float(alpha), keep, {"treated": int((~keep & t).sum()), "control": int((~keep & ~t).sum())})
