"""Experiments on an engine, all from per-arm aggregates: difference in means (Neyman SE, Welch df), CUPED,
Lin's (2013) interacted regression, the sample-ratio-mismatch chi-square and the test of two proportions.

Variances are two-pass (the arm means first, then the centred sums of squares), as numpy's ``var`` computes
them in memory, so the numbers agree to rounding.  The tests themselves (``srm_check``, ``prop_test``) are the
in-memory functions applied to the engine's counts: one code path for the statistic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np
from scipy import stats

from causalspec.designs import Fit, family_for
from causalspec.designs._common import estimate_rows
from causalspec.designs.experiment.data import ArmData, LinRows

from causalspec.engines._ols import EngineFit, LinearDesign, solve
from causalspec.engines._sql import Sample, Source, lit
from causalspec.errors import DataError, EstimationError, Problem
from causalspec.estimators._experiment import ArmMoments, neyman_difference, welch_from_moments
from causalspec.power._abtest import HTest, RatioMoments, prop_test as _prop_test, srm_check

__all__ = ["ArmContrast", "difference_in_means", "cuped", "lm_lin", "srm", "prop_test", "arm_counts", "EngineArms",
           "fit_experiment_engine"]


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


def _arm_moments(sample: Sample, expr: str, treatment: str) -> tuple[ArmMoments, ArmMoments]:
    """(control, treated) count, mean and sample variance of ``expr``, two passes (numpy's ``var``)."""
    b, d = sample.backend, sample.q(treatment)
    rows = {float(r[0]): r[1:] for r in b.rows(f"SELECT {d}, COUNT(*), {b.sum_fn}({expr}) FROM {sample.view} "
                                               f"GROUP BY {d}")}
    n1, n0 = int(rows[1.0][0]), int(rows[0.0][0])
    if n1 < 2 or n0 < 2:
        raise EstimationError(Problem("treatment", "Welch's t test needs at least two units in each arm.",
                                      fix="Check the treatment coding and missing outcomes."))
    m1, m0 = rows[1.0][1] / n1, rows[0.0][1] / n0
    centred = f"({expr} - CASE WHEN {d} = 1 THEN {lit(m1)} ELSE {lit(m0)} END)"
    ss = {float(r[0]): r[1] for r in b.rows(f"SELECT {d}, {b.sum_fn}({centred} * {centred}) FROM {sample.view} "
                                            f"GROUP BY {d}")}
    return ArmMoments(n0, m0, ss[0.0] / (n0 - 1)), ArmMoments(n1, m1, ss[1.0] / (n1 - 1))


def _welch(sample: Sample, expr: str, treatment: str) -> tuple[float, float, float, float, float, int, int]:
    """(difference, se, df, mean_1, mean_0, n_1, n_0) of ``expr`` between the arms, two passes."""
    control, treated = _arm_moments(sample, expr, treatment)
    w = welch_from_moments(treated, control)
    return w.estimate[0] - w.estimate[1], w.stderr, w.df, treated.mean, control.mean, treated.n, control.n


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


class EngineArms(ArmData):
    """An experiment's rows on an engine (``designs.experiment.data``'s interface): each metric is a SQL expression
    over the complete-case sample, each number a GROUP BY over the arms.  No clusters (refused at plan time)."""

    def __init__(self, plan, source: Source):
        self.plan, self.engine = plan, source.backend.name
        self.sample = source.sample(plan.columns, dict(plan.column_fields), numeric=plan.columns)
        _check_arms(self.sample, plan.treatment)
        self.nobs, self.b, self.q = self.sample.nobs, self.sample.backend, self.sample.q
        self._view, self._sizes = self.sample.view, None

    def _sums(self, exprs) -> np.ndarray:
        return self.b.sums(self._view, list(exprs))

    def column(self, name: str, loc: str) -> str:
        if name not in self.sample.columns:
            raise DataError(Problem(loc, f"column {name!r} is not in the data.", fix="Fix the column name in the "
                                    "spec, or add the column to the data.", code="missing_column"))
        return self.q(name)

    def mean(self, m) -> float:
        return float(self._sums([m])[0] / self.nobs)

    def cov(self, a, b) -> float:
        ma, mb = self._sums([a, b]) / self.nobs
        return float(self._sums([f"(({a}) - {lit(ma)}) * (({b}) - {lit(mb)})"])[0] / (self.nobs - 1))

    def var(self, m) -> float:
        return self.cov(m, m)

    def adjusted(self, y, x, theta: float, x_mean: float) -> str:
        return f"({y} - {lit(theta)} * ({x} - {lit(x_mean)}))"

    def arm_sizes(self) -> tuple[int, int]:
        if self._sizes is None:
            d = self.q(self.plan.treatment)
            rows = dict((float(r[0]), int(r[1])) for r in self.b.rows(
                f"SELECT {d}, COUNT(*) FROM {self._view} GROUP BY {d}"))
            self._sizes = (rows.get(0.0, 0), rows.get(1.0, 0))
        return self._sizes

    def arm_moments(self, m) -> tuple[ArmMoments, ArmMoments]:
        return _arm_moments(self.sample, m, self.plan.treatment)

    def arm_sums(self, m) -> tuple[float, float]:
        d = self.q(self.plan.treatment)
        rows = {float(r[0]): float(r[1]) for r in self.b.rows(
            f"SELECT {d}, {self.b.sum_fn}({m}) FROM {self._view} GROUP BY {d}")}
        return rows[0.0], rows[1.0]

    def non_binary(self, m) -> float | None:
        low = self.b.one(f"SELECT MIN({m}) FROM {self._view} WHERE {m} <> 0 AND {m} <> 1")[0]
        return None if low is None else float(low)

    def ratio_moments(self, num, den) -> tuple[RatioMoments, RatioMoments]:
        b, d = self.b, self.q(self.plan.treatment)
        first = {float(r[0]): r[1:] for r in b.rows(
            f"SELECT {d}, COUNT(*), {b.sum_fn}({num}), {b.sum_fn}({den}) FROM {self._view} GROUP BY {d}")}
        means = {a: (float(v[1]) / int(v[0]), float(v[2]) / int(v[0])) for a, v in first.items()}
        mn = f"CASE WHEN {d} = 1 THEN {lit(means[1.0][0])} ELSE {lit(means[0.0][0])} END"
        md = f"CASE WHEN {d} = 1 THEN {lit(means[1.0][1])} ELSE {lit(means[0.0][1])} END"
        cn, cd = f"({num} - {mn})", f"({den} - {md})"
        second = {float(r[0]): r[1:] for r in b.rows(
            f"SELECT {d}, {b.sum_fn}({cn} * {cn}), {b.sum_fn}({cd} * {cd}), {b.sum_fn}({cn} * {cd}) "
            f"FROM {self._view} GROUP BY {d}")}

        def arm(a: float) -> RatioMoments:
            n = int(first[a][0])
            vn, vd, c = (float(v) / (n - 1) for v in second[a])
            return RatioMoments(n, means[a][0], means[a][1], vn, vd, c)

        return arm(0.0), arm(1.0)

    def welch(self, m):
        control, treated = self.arm_moments(m)
        return welch_from_moments(treated, control, self.plan.vcov.level)

    def dim(self, m, *, term: str, nested: bool = True):
        control, treated = self.arm_moments(m)
        return neyman_difference(welch_from_moments(treated, control, self.plan.vcov.level), term=term,
                                 n_treated=treated.n, n_control=control.n)

    def mean_model(self, m) -> tuple[np.ndarray, np.ndarray]:
        """``y ~ 1 + d`` with HC2, which for one binary regressor is Neyman's variance in closed form."""
        control, treated = self.arm_moments(m)
        v0, v1 = control.var / control.n, treated.var / treated.n
        return (np.array([control.mean, treated.mean - control.mean]),
                np.array([[v0, -v0], [-v0, v0 + v1]]))

    def lin(self) -> LinRows:
        plan, vc = self.plan, self.plan.vcov
        fit = lm_lin(Source(self.b, self._view, "the sample"), plan.outcome, plan.treatment, plan.covariates,
                     vcov=vc.kind, level=vc.level)
        table = fit.table()
        stats_ = dict(fit.stats)
        return LinRows(estimate_rows(table, fit.df), fit.names, fit.vcov, fit.nobs, (), fit.notes,
                       tuple((k, float(stats_[k])) for k in ("r2", "adj_r2") if k in stats_))

    def numeric_covariates(self) -> list[str]:
        return list(self.plan.covariates)

    def control_risk(self) -> float | None:
        """The outcome's mean among the controls when it is 0/1 (as the in-memory fit reports it)."""
        y = self.outcome()
        return self.arm_moments(y)[0].mean if self.non_binary(y) is None else None


def fit_experiment_engine(plan, source: Source) -> Fit:
    """The in-memory experiment Fit (effect, naive contrast, the family's checks in order) from the engine."""
    data = EngineArms(plan, source)
    family = family_for(plan.design)
    y = data.outcome()
    if data.var(y) == 0:
        raise EstimationError(Problem("outcome", f"the outcome {plan.outcome!r} is constant in the rows analysed.",
                                      fix="Check the outcome column and the rows kept.", code="constant_outcome"))
    out = family.fitters[plan.estimator](plan, data)
    for check in family.checks:
        out = check(plan, data, out)
    s = data.sample
    return replace(out, dropped=s.dropped + tuple(out.dropped), n_input=s.n_input, control_risk=data.control_risk(),
                   notes=(*out.notes, f"fitted on the {data.engine} engine from arm aggregates ({source.label})"),
                   extras={**out.extras, "engine": data.engine})
