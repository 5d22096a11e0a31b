"""Rosenbaum bounds for matched pairs: how large a hidden bias Gamma would change the conclusion?

Within each matched pair, two units that look alike may differ in their odds of treatment by
at most a factor Gamma >= 1 because of an unobserved covariate (Rosenbaum 2002, *Observational
Studies*, 2nd ed., Chapter 4).  For each Gamma the one-sided p-value of the test of no effect
is bounded above and below; the study's conclusion is sensitive at the smallest Gamma whose
upper bound exceeds alpha.  Two tests are provided:

* Wilcoxon's signed-rank test with the large-sample normal approximation (zero differences
  dropped, tied |differences| get average ranks) -- the algorithm of ``rbounds::psens``;
* the sign test / McNemar for binary outcomes, with exact binomial tails
  (``rbounds::binarysens``).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Sequence

import numpy as np
from scipy import optimize, stats

from causalspec.errors import DataError, Problem, SpecError
from causalspec.sensitivity._ovb import floats
import pandas as pd

__all__ = ["RosenbaumResult", "rosenbaum_wilcoxon", "rosenbaum_sign", "rosenbaum_gamma"]


@dataclass(frozen=True)
class RosenbaumResult:
    """Bounds on the one-sided p-value for each Gamma (``p_upper`` is the worst case)."""

    method: str
    statistic: float
    n_pairs: int
    gamma: tuple[float, ...]
    p_lower: tuple[float, ...]
    p_upper: tuple[float, ...]

    def to_dict(self) -> dict:
        """JSON-ready dict (tuples become lists)."""
        return asdict(self)

    def table(self):

        return pd.DataFrame({"gamma": self.gamma, "p_lower": self.p_lower, "p_upper": self.p_upper})


def _gammas(gamma) -> np.ndarray:
    g = np.atleast_1d(floats(gamma, "gamma"))
    if g.size == 0 or np.isnan(g).any() or (g < 1).any():
        raise SpecError(Problem("sensitivity.gamma", f"Gamma must be numbers >= 1, got {g.tolist()}.",
                                fix="Gamma = 1 is no hidden bias; try gamma = [1, 1.5, 2, 3]."))
    return g


def _differences(treated, control) -> np.ndarray:
    t = floats(treated, "treated")
    if control is not None and np.shape(control) != np.shape(treated):
        raise DataError(Problem("sensitivity.rosenbaum", "treated and control outcomes must be paired "
                                f"(got {np.size(treated)} and {np.size(control)} values).",
                                fix="Pass one control outcome per treated outcome, in pair order."))
    d = t if control is None else t - floats(control, "control")
    d = d[~np.isnan(d)]
    return d


def _signed_rank_moments(d: np.ndarray):
    d = d[d != 0]  # zero differences carry no sign (as wilcox.test and rbounds drop them)
    if d.size == 0:
        raise DataError(Problem("sensitivity.rosenbaum", "every pair difference is zero.",
                                fix="There is nothing to test: the outcomes are identical within pairs."))
    ranks = stats.rankdata(np.abs(d), method="average")
    t = float(ranks[d > 0].sum())
    return t, ranks


def rosenbaum_wilcoxon(treated: Sequence[float], control: Sequence[float] | None = None,
                       gamma=(1.0, 1.5, 2.0, 2.5, 3.0)) -> RosenbaumResult:
    """Bounds on the one-sided (greater) p-value of Wilcoxon's signed-rank test under hidden bias Gamma.

    Matches ``rbounds::psens`` (normal approximation, no continuity correction; p-values not
    rounded); Rosenbaum (2002), Observational Studies, Section 4.3.3.  ``control=None`` means
    ``treated`` already holds the treated-minus-control differences.

    Examples
    --------
    >>> r = rosenbaum_wilcoxon([5, 3, 8, -1, 6, 4], [1, 2, 2, 0, 1, 1], gamma=[1, 2])
    >>> r.statistic
    20.0
    """
    g = _gammas(gamma)
    t, ranks = _signed_rank_moments(_differences(treated, control))
    p_plus = g / (1 + g)
    p_minus = 1 / (1 + g)
    s1, s2 = ranks.sum(), (ranks ** 2).sum()
    var = s2 * p_plus * (1 - p_plus)
    upper = stats.norm.sf((t - s1 * p_plus) / np.sqrt(var))
    lower = stats.norm.sf((t - s1 * p_minus) / np.sqrt(var))
    return RosenbaumResult("wilcoxon_signed_rank", t, int(ranks.size), tuple(map(float, g)),
                           tuple(map(float, lower)), tuple(map(float, upper)))


def rosenbaum_sign(n_treated_worse: int, n_control_worse: int, gamma=(1.0, 1.5, 2.0, 2.5, 3.0)) -> RosenbaumResult:
    """Bounds on the one-sided p-value of the sign test (McNemar) for matched pairs with a binary outcome.

    ``n_treated_worse`` counts discordant pairs in which only the treated unit has the outcome,
    ``n_control_worse`` those in which only the control has it.  Upper bound:
    P(Binomial(D, Gamma / (1 + Gamma)) >= T), exact; lower bound with 1 / (1 + Gamma).
    Matches ``rbounds::binarysens`` (exact tails); Rosenbaum (2002), Section 4.3.2.
    """
    for name, v in (("n_treated_worse", n_treated_worse), ("n_control_worse", n_control_worse)):
        if int(v) != v or v < 0:
            raise SpecError(Problem(f"sensitivity.{name}", f"{name} must be a count >= 0, got {v!r}.",
                                    fix="Count the discordant matched pairs."))
    t, d = int(n_treated_worse), int(n_treated_worse) + int(n_control_worse)
    if d == 0:
        raise DataError(Problem("sensitivity.rosenbaum", "there are no discordant pairs.",
                                fix="The sign test needs pairs in which exactly one unit has the outcome."))
    g = _gammas(gamma)
    upper = stats.binom.sf(t - 1, d, g / (1 + g))
    lower = stats.binom.sf(t - 1, d, 1 / (1 + g))
    return RosenbaumResult("sign_test", float(t), d, tuple(map(float, g)), tuple(map(float, lower)),
                           tuple(map(float, upper)))


def rosenbaum_gamma(result_fn, alpha: float = 0.05, gamma_max: float = 1e3) -> float:
    """Smallest Gamma at which the upper-bound p-value reaches ``alpha`` (the study's sensitivity).

    ``result_fn(gamma)`` returns a :class:`RosenbaumResult` for one Gamma, e.g.
    ``lambda g: rosenbaum_wilcoxon(t, c, gamma=g)``.  Returns 1.0 if the test is not significant
    even without hidden bias, and ``inf`` if it stays significant up to ``gamma_max``.
    """
    if not (0 < alpha < 1):
        raise SpecError(Problem("sensitivity.alpha", f"alpha must lie in (0, 1), got {alpha!r}.",
                                fix="Use alpha = 0.05."))

    def excess(log_g: float) -> float:
        return result_fn(math.exp(log_g)).p_upper[0] - alpha

    if excess(0.0) >= 0:
        return 1.0
    if excess(math.log(gamma_max)) < 0:
        return math.inf
    # The upper bound is continuous and increasing in Gamma; solve on the log scale.
    return float(math.exp(optimize.brentq(excess, 0.0, math.log(gamma_max), xtol=1e-12, rtol=1e-12)))
