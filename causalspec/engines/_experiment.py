"""Experiments on an engine, all from per-arm aggregates: difference in means (Neyman SE, Welch df), CUPED,
Lin's (2013) interacted regression, the sample-ratio-mismatch chi-square and the test of two proportions.

Variances are two-pass (the arm means first, then the centred sums of squares), as numpy's ``var`` computes
them in memory, so the numbers agree to rounding.  The tests themselves (``srm_check``, ``prop_test``) are the
in-memory functions applied to the engine's counts: one code path for the statistic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

from scipy import stats

from causalspec.engines._ols import EngineFit, LinearDesign, solve
from causalspec.engines._sql import Sample, Source, lit
from causalspec.errors import DataError, EstimationError, Problem
from causalspec.power._abtest import HTest, prop_test as _prop_test, srm_check

__all__ = ["ArmContrast", "difference_in_means", "cuped", "lm_lin", "srm", "prop_test", "arm_counts"]


@dataclass(frozen=True)
class ArmContrast:
    """Treated minus control mean of an expression, with the Neyman SE and Welch-Satterthwaite df."""

    estimate: float
    std_error: float
    statistic: float
    df: float
    p_value: float
    conf_low: float
    conf_high: float
    mean_treated: float
    mean_control: float
    n_treated: int
    n_control: int
    nobs: int
    n_input: int
    dropped: tuple[tuple[str, int], ...]
    theta: float | None = None                  # CUPED's pooled slope
    unadjusted_std_error: float | None = None   # CUPED: the SE without the covariate
    variance_reduction: float | None = None


def _check_arms(sample: Sample, treatment: str) -> None:
    b, q = sample.backend, sample.q
    values = [r[0] for r in b.rows(f"SELECT DISTINCT {q(treatment)} FROM {sample.view} LIMIT 3")]
    if not set(values) <= {0.0, 1.0}:
        raise DataError(Problem("treatment", f"the treatment {treatment!r} must be 0/1; it takes "
                                f"{sorted(values)[:3]}.", fix="Recode it as 0 = control, 1 = treated.",
                                code="treatment_not_binary"))
    if len(values) < 2:
        raise EstimationError(Problem("treatment", f"the treatment {treatment!r} does not vary in the sample.",
                                      fix="Both arms need at least two units."))


def _welch(sample: Sample, expr: str, treatment: str) -> tuple[float, float, float, float, float, int, int]:
    """(difference, se, df, mean_1, mean_0, n_1, n_0) of ``expr`` between the arms, two passes."""
    b, q = sample.backend, sample.q
    d = q(treatment)
    rows = {float(r[0]): r[1:] for r in b.rows(f"SELECT {d}, COUNT(*), {b.sum_fn}({expr}) FROM {sample.view} "
                                               f"GROUP BY {d}")}
    n1, n0 = int(rows[1.0][0]), int(rows[0.0][0])
    if n1 < 2 or n0 < 2:
        raise EstimationError(Problem("treatment", "Welch's t test needs at least two units in each arm.",
                                      fix="Check the treatment coding and missing outcomes."))
    m1, m0 = rows[1.0][1] / n1, rows[0.0][1] / n0
    ss = {float(r[0]): r[1] for r in b.rows(
        f"SELECT {d}, {b.sum_fn}(({expr} - CASE WHEN {d} = 1 THEN {lit(m1)} ELSE {lit(m0)} END) * "
        f"({expr} - CASE WHEN {d} = 1 THEN {lit(m1)} ELSE {lit(m0)} END)) FROM {sample.view} GROUP BY {d}")}
    v1, v0 = ss[1.0] / (n1 - 1) / n1, ss[0.0] / (n0 - 1) / n0
    se = math.sqrt(v1 + v0)
    df = (v1 + v0) ** 2 / (v1 ** 2 / (n1 - 1) + v0 ** 2 / (n0 - 1))
    return m1 - m0, se, float(df), m1, m0, n1, n0


def _contrast(sample: Sample, welch, level: float, **extra) -> ArmContrast:
    est, se, df, m1, m0, n1, n0 = welch
    t = est / se
    q = stats.t.ppf(0.5 + level / 2, df)
    return ArmContrast(est, se, t, df, float(2 * stats.t.sf(abs(t), df)), est - q * se, est + q * se, m1, m0, n1,
                       n0, sample.nobs, sample.n_input, sample.dropped, **extra)


def difference_in_means(source: Source, outcome: str, treatment: str, *, level: float = 0.95,
                        columns: Sequence[str] | None = None) -> ArmContrast:
    """``estimatr::difference_in_means(y ~ d)`` = ``t.test(y[d == 1], y[d == 0])`` (Neyman SE, Welch df)."""
    sample = source.sample(tuple(columns or (outcome, treatment)), numeric=(outcome, treatment))
    _check_arms(sample, treatment)
    return _contrast(sample, _welch(sample, sample.q(outcome), treatment), level)


def cuped(source: Source, outcome: str, covariate: str, treatment: str, *, level: float = 0.95,
          columns: Sequence[str] | None = None) -> ArmContrast:
    """CUPED (Deng et al. 2013): Welch on ``y - theta (x - mean x)``, ``theta = cov(y, x) / var(x)`` pooled, as
    ``power._abtest.cuped``."""
    sample = source.sample(tuple(columns or (outcome, treatment, covariate)), numeric=(outcome, treatment, covariate))
    _check_arms(sample, treatment)
    b, q = sample.backend, sample.q
    y, x = q(outcome), q(covariate)
    sy, sx = b.sums(sample.view, [y, x])
    my, mx = sy / sample.nobs, sx / sample.nobs
    cxy, cxx = b.sums(sample.view, [f"({y} - {lit(my)}) * ({x} - {lit(mx)})", f"({x} - {lit(mx)}) * ({x} - {lit(mx)})"])
    if cxx == 0:
        raise DataError(Problem("design.cuped", "the CUPED covariate is constant.",
                                fix="Use a pre-period metric that varies across units.", code="cuped_constant"))
    theta = float(cxy / cxx)  # the (n - 1)s cancel
    adjusted = _welch(sample, f"({y} - {lit(theta)} * ({x} - {lit(mx)}))", treatment)
    raw = _welch(sample, y, treatment)
    return _contrast(sample, adjusted, level, theta=theta, unadjusted_std_error=raw[1],
                     variance_reduction=1.0 - (adjusted[1] / raw[1]) ** 2)


def lm_lin(source: Source, outcome: str, treatment: str, covariates: Sequence[str], *, vcov: str = "HC2",
           cluster=(), level: float = 0.95, columns: Sequence[str] | None = None) -> EngineFit:
    """``estimatr::lm_lin(y ~ d, covariates = ~ x)``: centred covariates and their interactions with ``d``;
    HC2 by default (the leverage is a quadratic form, so it is a sum over rows), CR0 / stata with clusters."""
    cluster = (cluster,) if isinstance(cluster, str) else tuple(cluster)
    covariates = tuple(covariates)
    sample = source.sample(tuple(columns or (outcome, treatment, *covariates, *cluster)),
                           numeric=(outcome, treatment, *covariates))
    _check_arms(sample, treatment)
    b, q = sample.backend, sample.q
    means = b.sums(sample.view, [q(c) for c in covariates]) / sample.nobs
    centred = [f"({q(c)} - {lit(m)})" for c, m in zip(covariates, means)]
    d = q(treatment)
    names = (treatment, *(f"{c}_c" for c in covariates), *(f"{treatment}:{c}_c" for c in covariates))
    design = LinearDesign(sample, sample.view, q(outcome), (d, *centred, *(f"{d} * {c}" for c in centred)), names, True)
    kind = {"CR0": "CR0_estimatr", "CR1": "stata"}.get(vcov, vcov)
    return solve(design, kind, cluster, convention="sandwich", level=level)


def arm_counts(source: Source, treatment: str, columns: Sequence[str] | None = None) -> tuple[Sample, int, int]:
    """The estimation sample and its control and treated counts."""
    sample = source.sample(tuple(columns or (treatment,)), numeric=(treatment,))
    _check_arms(sample, treatment)
    q = sample.q
    rows = dict((float(r[0]), int(r[1])) for r in sample.backend.rows(
        f"SELECT {q(treatment)}, COUNT(*) FROM {sample.view} GROUP BY {q(treatment)}"))
    return sample, rows.get(0.0, 0), rows.get(1.0, 0)


def srm(source: Source, treatment: str, planned_split: float, *, columns: Sequence[str] | None = None) -> HTest:
    """Sample-ratio mismatch: ``chisq.test(table(d), p = c(1 - s, s))`` on the engine's arm counts."""
    _, n0, n1 = arm_counts(source, treatment, columns)
    return srm_check([n0, n1], [1 - planned_split, planned_split])


def prop_test(source: Source, outcome: str, treatment: str, *, correct: bool = True, level: float = 0.95,
              columns: Sequence[str] | None = None) -> HTest:
    """``prop.test(c(x_treatment, x_control), c(n_treatment, n_control), correct)`` from the arm sums."""
    sample = source.sample(tuple(columns or (outcome, treatment)), numeric=(outcome, treatment))
    _check_arms(sample, treatment)
    b, q = sample.backend, sample.q
    y = q(outcome)
    bad = b.one(f"SELECT COUNT(*) FROM {sample.view} WHERE {y} <> 0 AND {y} <> 1")[0]
    if bad:
        raise DataError(Problem("design.metric.type", f"a proportion metric needs a 0/1 outcome; {outcome!r} takes "
                                f"other values in {bad} rows.", fix="Recode the outcome as 0/1, or set "
                                "design.metric.type to mean.", code="metric_not_binary"))
    rows = {float(r[0]): r[1:] for r in b.rows(f"SELECT {q(treatment)}, {b.sum_fn}({y}), COUNT(*) "
                                               f"FROM {sample.view} GROUP BY {q(treatment)}")}
    x = [float(rows[1.0][0]), float(rows[0.0][0])]
    n = [int(rows[1.0][1]), int(rows[0.0][1])]
    return _prop_test(x, n, correct=correct, conf_level=level)
