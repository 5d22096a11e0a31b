"""Experiment checks: two-proportion test, sample-ratio mismatch, CUPED, ratio metrics, randomisation."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from causalspec.errors import DataError, SpecError

__all__ = [
    "HTest",
    "prop_test",
    "srm_check",
    "CupedResult",
    "cuped",
    "RatioMetric",
    "ratio_metric",
    "RatioMoments",
    "ratio_from_moments",
    "Assignment",
    "randomize",
]

Alternative = Literal["two.sided", "less", "greater"]


@dataclass(frozen=True)
class HTest:
    """An ``htest``: statistic, parameter (df), p-value, estimates, interval, expected counts."""

    method: str
    statistic: float
    df: float
    p_value: float
    estimate: tuple[float, ...] = ()
    conf_int: tuple[float, float] | None = None
    expected: tuple[float, ...] = ()
    warnings: tuple[str, ...] = field(default=())


def _counts(x: Sequence[float], n: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x, dtype=float)
    n = np.asarray(n, dtype=float)
    if x.shape != n.shape or x.ndim != 1 or len(x) < 2:
        raise DataError("successes and trials must be two equal-length vectors with at least two groups.",
                        loc="prop_test", fix="Pass x = successes per group and n = trials per group.")
    if np.any(n <= 0) or np.any(x < 0) or np.any(x > n) or not np.all(np.isfinite(x)):
        raise DataError("each group needs 0 <= successes <= trials and trials > 0.", loc="prop_test",
                        fix="Check the counts.")
    return x, n


def prop_test(x: Sequence[float], n: Sequence[float], *, correct: bool = True,
              alternative: Alternative = "two.sided", conf_level: float = 0.95) -> HTest:
    """Test of equal proportions (Pearson chi-square), with R's continuity correction and Wald interval.

    Matches ``stats::prop.test(x, n, correct)`` for k >= 2 groups (no ``p``); the
    interval for p1 - p2 (k = 2) is the Wald interval with Yates' correction when
    ``correct``.  Newcombe (1998), Statistics in Medicine 17:857 (interval 1).

    Examples
    --------
    >>> r = prop_test([157, 235], [2435, 2435], correct=False)
    >>> round(r.statistic, 6)
    16.87905
    """
    x, n = _counts(x, n)
    k = len(x)
    if alternative not in ("two.sided", "less", "greater"):
        raise SpecError(f"unknown alternative {alternative!r}.", loc="alternative", fix="two.sided, less or greater.")
    if k > 2 and alternative != "two.sided":
        raise SpecError("one-sided alternatives need exactly two groups.", loc="alternative", fix="Use two.sided.")
    est = x / n
    yates = 0.5 if (correct and k <= 2) else 0.0
    conf = None
    if k == 2:
        delta = est[0] - est[1]
        yates = min(yates, abs(delta) / np.sum(1.0 / n))
        z = stats.norm.ppf((1 + conf_level) / 2 if alternative == "two.sided" else conf_level)
        width = z * math.sqrt(np.sum(est * (1 - est) / n)) + yates * np.sum(1.0 / n)
        lo, hi = float(max(delta - width, -1.0)), float(min(delta + width, 1.0))
        conf = {"two.sided": (lo, hi), "less": (-1.0, hi), "greater": (lo, 1.0)}[alternative]
    p = x.sum() / n.sum()
    obs = np.column_stack([x, n - x])
    E = np.column_stack([n * p, n * (1 - p)])
    stat = float(np.sum((np.abs(obs - E) - yates) ** 2 / E))
    df = k - 1
    if alternative == "two.sided":
        pval = float(stats.chi2.sf(stat, df))
    else:
        zz = math.copysign(math.sqrt(stat), est[0] - est[1])
        pval = float(stats.norm.cdf(zz) if alternative == "less" else stats.norm.sf(zz))
    warn = ("Chi-squared approximation may be incorrect",) if np.any(E < 5) else ()
    method = f"{k}-sample test for equality of proportions {'with' if yates else 'without'} continuity correction"
    return HTest(method, stat, float(df), pval, tuple(float(v) for v in est), conf, tuple(float(v) for v in E[:, 0]),
                 warn)


def srm_check(counts: Sequence[float], planned: Sequence[float] | None = None) -> HTest:
    """Sample-ratio-mismatch check: Pearson chi-square of the arm sizes against the planned split.

    Matches ``stats::chisq.test(counts, p = planned)`` (default: equal split); Fabijan et al.
    (2019), KDD, "Diagnosing sample ratio mismatch".
    """
    c = np.asarray(counts, dtype=float)
    if c.ndim != 1 or len(c) < 2 or np.any(c < 0):
        raise DataError("counts must list at least two non-negative arm sizes.", loc="srm.counts",
                        fix="Pass the number of units assigned to each arm.")
    p = np.full(len(c), 1.0 / len(c)) if planned is None else np.asarray(planned, dtype=float)
    if p.shape != c.shape or np.any(p < 0) or abs(p.sum() - 1.0) > math.sqrt(np.finfo(float).eps):
        raise SpecError(f"the planned split {list(p)} must have one share per arm and sum to 1.", loc="srm.planned",
                        fix="Give shares such as [0.5, 0.5].")
    E = c.sum() * p
    stat = float(np.sum((c - E) ** 2 / E))
    df = len(c) - 1
    warn = ("Chi-squared approximation may be incorrect",) if np.any(E < 5) else ()
    return HTest("Chi-squared test for given probabilities", stat, float(df), float(stats.chi2.sf(stat, df)),
                 expected=tuple(float(v) for v in E), warnings=warn)


# ------------------------------------------------------------------ CUPED
@dataclass(frozen=True)
class CupedResult:
    """A CUPED-adjusted difference in means (treated - control) with a Welch SE."""

    theta: float
    estimate: float
    std_error: float
    df: float
    p_value: float
    conf_low: float
    conf_high: float
    unadjusted_std_error: float
    variance_reduction: float


def _welch(y: np.ndarray, t: np.ndarray) -> tuple[float, float, float]:
    y1, y0 = y[t == 1], y[t == 0]
    v1, v0 = np.var(y1, ddof=1) / len(y1), np.var(y0, ddof=1) / len(y0)
    se = math.sqrt(v1 + v0)
    df = (v1 + v0) ** 2 / (v1**2 / (len(y1) - 1) + v0**2 / (len(y0) - 1))
    return float(y1.mean() - y0.mean()), se, float(df)


def _treat01(treat: Sequence, n: int) -> np.ndarray:
    t = np.asarray(treat, dtype=float)
    if t.shape != (n,) or not np.all(np.isin(t, (0.0, 1.0))) or len(np.unique(t)) != 2:
        raise DataError("treatment must be 0/1 with both arms present, one value per unit.", loc="treatment",
                        fix="Recode the assignment as 0 = control, 1 = treatment.")
    return t.astype(int)


def cuped(y: Sequence[float], x: Sequence[float], treat: Sequence, level: float = 0.95) -> CupedResult:
    """CUPED: regress out a pre-period covariate, ``y - theta (x - mean x)``, then compare means.

    ``theta = cov(y, x) / var(x)`` pooled over both arms (Deng, Xu, Kohavi & Walker 2013,
    WSDM); Welch SE and df as ``t.test``.  Same point estimate as ``lm(y ~ t + x)`` up to
    the pooled vs within-arm slope; no single R reference.
    """
    y = np.asarray(y, dtype=float)
    x = np.asarray(x, dtype=float)
    t = _treat01(treat, len(y))
    if x.shape != y.shape or not (np.all(np.isfinite(y)) and np.all(np.isfinite(x))):
        raise DataError("y and x must be finite and of equal length.", loc="cuped", fix="Drop missing rows first.")
    vx = np.var(x, ddof=1)
    if vx == 0:
        raise DataError("the CUPED covariate is constant.", loc="cuped.covariate",
                        fix="Use a pre-period metric that varies across units.")
    theta = float(np.cov(y, x, ddof=1)[0, 1] / vx)
    yc = y - theta * (x - x.mean())
    est, se, df = _welch(yc, t)
    _, se0, _ = _welch(y, t)
    q = stats.t.ppf(0.5 + level / 2, df)
    p = float(2 * stats.t.sf(abs(est / se), df))
    return CupedResult(theta, est, se, df, p, est - q * se, est + q * se, se0, 1.0 - (se / se0) ** 2)


# ------------------------------------------------------------------ ratio metrics
@dataclass(frozen=True)
class RatioMetric:
    """Difference of ratio metrics sum(num)/sum(den) between arms, delta-method SE."""

    ratio_treated: float
    ratio_control: float
    estimate: float
    std_error: float
    statistic: float
    p_value: float
    conf_low: float
    conf_high: float
    relative_lift: float


@dataclass(frozen=True)
class RatioMoments:
    """One arm's moments of a ratio metric over its randomisation units: count, the means of numerator and
    denominator, their sample variances and covariance (``ddof = 1``)."""

    n: int
    mean_num: float
    mean_den: float
    var_num: float
    var_den: float
    cov: float


def _moments(num: np.ndarray, den: np.ndarray) -> RatioMoments:
    return RatioMoments(len(num), num.mean(), den.mean(), np.var(num, ddof=1), np.var(den, ddof=1),
                        np.cov(num, den, ddof=1)[0, 1])


def _ratio_var(m: RatioMoments) -> tuple[float, float]:
    mx, my = np.float64(m.mean_den), np.float64(m.mean_num)  # a zero denominator is inf, refused by the caller
    r = my / mx
    # Var(Ybar/Xbar) ~ (1/n)(vy/mx^2 - 2 my cxy/mx^3 + my^2 vx/mx^4)
    var = (m.var_num / mx**2 - 2 * my * m.cov / mx**3 + my**2 * m.var_den / mx**4) / m.n
    return float(r), float(var)


def ratio_metric(numerator: Sequence[float], denominator: Sequence[float], treat: Sequence,
                 level: float = 0.95) -> RatioMetric:
    """A ratio metric (e.g. clicks per session, randomised by user) compared between arms.

    Each arm's ratio is mean(numerator)/mean(denominator) over randomisation units; its
    variance is the first-order delta method (Deng, Knoblich & Lu 2018, KDD, eq. 1);
    normal reference.  No R reference function.
    """
    yv = np.asarray(numerator, dtype=float)
    xv = np.asarray(denominator, dtype=float)
    t = _treat01(treat, len(yv))
    if xv.shape != yv.shape or not (np.all(np.isfinite(yv)) and np.all(np.isfinite(xv))):
        raise DataError("numerator and denominator must be finite and of equal length.", loc="ratio_metric",
                        fix="Drop units with missing values first.")
    return ratio_from_moments(_moments(yv[t == 1], xv[t == 1]), _moments(yv[t == 0], xv[t == 0]), level)


def ratio_from_moments(treated: RatioMoments, control: RatioMoments, level: float = 0.95) -> RatioMetric:
    """The ratio metric's difference between arms from each arm's moments (in memory or from an engine)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        r1, v1 = _ratio_var(treated)
        r0, v0 = _ratio_var(control)
    if not (math.isfinite(r1) and math.isfinite(r0)):
        raise DataError("an arm's denominator sums to zero.", loc="ratio_metric.denominator",
                        fix="Check the denominator metric.")
    est = r1 - r0
    se = math.sqrt(v1 + v0)
    z = est / se
    q = stats.norm.ppf(0.5 + level / 2)
    return RatioMetric(r1, r0, est, se, z, float(2 * stats.norm.sf(abs(z))), est - q * se, est + q * se, est / r0)


# ------------------------------------------------------------------ randomisation
@dataclass(frozen=True)
class Assignment:
    """A random assignment and everything needed to reproduce it (method, seed, shares)."""

    method: str
    seed: int
    treat: np.ndarray
    arms: tuple[str, ...]
    shares: tuple[float, ...]
    counts: dict[str, int]
    blocks: tuple[str, ...] = ()
    bit_generator: str = "PCG64"

    def to_frame(self, index: pd.Index | None = None) -> pd.DataFrame:
        return pd.DataFrame({"arm": [self.arms[i] for i in self.treat]}, index=index)


def _complete(rng: np.random.Generator, n: int, shares: np.ndarray) -> np.ndarray:
    """Complete randomisation: arm sizes floor(n * share), remainders to random arms."""
    sizes = np.floor(n * shares).astype(int)
    rest = n - sizes.sum()
    if rest:
        extra = rng.choice(len(shares), size=rest, replace=False, p=None)
        sizes[extra] += 1
    labels = np.repeat(np.arange(len(shares)), sizes)
    return rng.permutation(labels)


def randomize(n: int | None = None, *, seed: int, method: Literal["simple", "complete", "stratified", "cluster"] = "complete",
              shares: Sequence[float] = (0.5, 0.5), arms: Sequence[str] = ("control", "treatment"),
              blocks: Sequence | None = None, clusters: Sequence | None = None) -> Assignment:
    """Randomly assign units to arms with a recorded seed (``numpy.random.Generator(PCG64(seed))``).

    ``simple``: independent draws (Bernoulli); ``complete``: fixed arm sizes;
    ``stratified``: complete randomisation within each block; ``cluster``: complete
    randomisation of whole clusters.  Same designs as ``randomizr::simple_ra``,
    ``complete_ra``, ``block_ra``, ``cluster_ra`` (Gerber & Green 2012, ch. 2); the
    draws differ from R's (different generator).
    """
    sh = np.asarray(shares, dtype=float)
    if len(sh) != len(arms) or np.any(sh < 0) or abs(sh.sum() - 1.0) > 1e-9:
        raise SpecError("shares must have one non-negative value per arm and sum to 1.", loc="randomize.shares",
                        fix="For a 50/50 test use shares=(0.5, 0.5).")
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise SpecError(f"seed must be a non-negative integer, not {seed!r}.", loc="randomize.seed",
                        fix="Record a fixed integer seed in the spec.")
    rng = np.random.Generator(np.random.PCG64(int(seed)))
    block_names: tuple[str, ...] = ()
    if method in ("simple", "complete"):
        if n is None or n < 1:
            raise SpecError("n (number of units) is required.", loc="randomize.n", fix="Give n >= 1.")
        treat = rng.choice(len(sh), size=n, p=sh) if method == "simple" else _complete(rng, n, sh)
    elif method == "stratified":
        if blocks is None:
            raise SpecError("stratified randomisation needs blocks.", loc="randomize.blocks",
                            fix="Pass one block label per unit.")
        b = pd.Series(list(blocks)).astype(str)
        treat = np.empty(len(b), dtype=int)
        for name in sorted(b.unique()):
            idx = np.flatnonzero(b.to_numpy() == name)
            treat[idx] = _complete(rng, len(idx), sh)
        block_names = tuple(sorted(b.unique()))
    elif method == "cluster":
        if clusters is None:
            raise SpecError("cluster randomisation needs cluster ids.", loc="randomize.clusters",
                            fix="Pass one cluster id per unit.")
        codes, uniq = pd.factorize(pd.Series(list(clusters)).astype(str), sort=True)
        arm_of_cluster = _complete(rng, len(uniq), sh)
        treat = arm_of_cluster[codes]
        block_names = tuple(uniq)
    else:
        raise SpecError(f"unknown randomisation method {method!r}.", loc="randomize.method",
                        fix="Use simple, complete, stratified or cluster.")
    counts = {a: int((treat == i).sum()) for i, a in enumerate(arms)}
    return Assignment(method, int(seed), treat.astype(int), tuple(arms), tuple(float(v) for v in sh), counts,
                      block_names)
