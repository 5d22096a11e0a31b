"""What an experiment's fit and checks read from the rows analysed, behind one interface with two homes.

Every number the experiment family reports without clusters is a function of each arm's count, means and
(co)variances of the metrics involved, of the pooled moments CUPED's slope uses, and of whether a metric is 0/1
(Lin's HC2 regression needs the rows too, but its leverages are a quadratic form summed over rows).  So the
fitters and checks ask an :class:`ArmData` for those numbers and never touch the rows themselves:

* :class:`FrameArms` answers from a pandas frame in memory with numpy (the parity path, R's numbers), and with
  ``inference.cluster`` also exposes the rows (``frame``, ``t``) for the cluster-level computations;
* ``causalspec.engines._experiment.EngineArms`` answers with GROUP BY queries on DuckDB or Spark, where the
  arms' moments come from two passes (means, then centred sums), as numpy's ``var`` computes them.

A *metric* is whatever the implementation uses for a column of the rows (an array here, a SQL expression on an
engine); the callers only pass metrics back.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from causalspec.designs._common import estimate_rows
from causalspec.estimators._experiment import (
    ArmMoments,
    arms_nested_in_clusters,
    difference_in_means,
    lm_lin,
    welch_t_test,
)
from causalspec.errors import DataError, Problem
from causalspec.estimators._linear import fit_ols
from causalspec.inference import make_clusters, vcov
from causalspec.power._abtest import RatioMoments, _moments

__all__ = ["ArmData", "FrameArms", "LinRows", "arm_data", "numeric_column"]


class LinRows:
    """Lin's regression as the fit needs it: coefficient rows, variance terms and matrix, nobs, drops, notes."""

    def __init__(self, rows, terms, matrix, nobs, dropped, notes, stats):
        self.rows, self.terms, self.matrix = rows, tuple(terms), np.asarray(matrix, dtype=float)
        self.nobs, self.dropped, self.notes, self.stats = int(nobs), tuple(dropped), tuple(notes), tuple(stats)


class ArmData:
    """The interface (see the module docstring); each method is answered by both implementations."""

    plan: Any
    nobs: int
    engine: str | None = None  # None in memory, else the engine's name

    def column(self, name: str, loc: str) -> Any:
        """The metric of a numeric (or boolean) column; a located error when it is absent or not numeric."""
        raise NotImplementedError

    def outcome(self) -> Any:
        return self.column(self.plan.outcome, "outcome")

    def mean(self, m) -> float:
        raise NotImplementedError

    def var(self, m) -> float:
        """Sample variance over both arms (ddof 1)."""
        raise NotImplementedError

    def cov(self, a, b) -> float:
        """Sample covariance over both arms (ddof 1)."""
        raise NotImplementedError

    def adjusted(self, y, x, theta: float, x_mean: float) -> Any:
        """The metric ``y - theta (x - x_mean)`` (CUPED's outcome)."""
        raise NotImplementedError

    def arm_sizes(self) -> tuple[int, int]:
        """(control, treated) counts of the rows analysed."""
        raise NotImplementedError

    def arm_moments(self, m) -> tuple[ArmMoments, ArmMoments]:
        """(control, treated) count, mean and sample variance of a metric."""
        raise NotImplementedError

    def arm_sums(self, m) -> tuple[float, float]:
        """(control, treated) sums of a metric (a 0/1 metric's successes)."""
        raise NotImplementedError

    def non_binary(self, m) -> float | None:
        """A value of the metric other than 0 or 1, or None when it is 0/1 throughout."""
        raise NotImplementedError

    def ratio_moments(self, num, den) -> tuple[RatioMoments, RatioMoments]:
        """(control, treated) moments of a ratio metric's numerator and denominator."""
        raise NotImplementedError

    def dim(self, m, *, term: str, nested: bool = True):
        """A difference in means with the plan's variance (``designs.experiment.fit.dim_on``'s contract)."""
        raise NotImplementedError

    def welch(self, m):
        """``stats::t.test(y[d == 1], y[d == 0])``."""
        raise NotImplementedError

    def mean_model(self, m) -> tuple[np.ndarray, np.ndarray]:
        """``y ~ 1 + d``: the control mean and the difference, and their covariance with the plan's variance."""
        raise NotImplementedError

    def lin(self) -> LinRows:
        """``estimatr::lm_lin`` with the plan's covariates and variance."""
        raise NotImplementedError

    def clusters(self):
        """The cluster codes and whether the arms nest in them, or None without ``inference.cluster``."""
        return None

    def numeric_covariates(self) -> list[str]:
        raise NotImplementedError


def numeric_column(frame: pd.DataFrame, column: str, loc: str) -> np.ndarray:
    """A numeric (or boolean) column as floats; a located error when it is missing or not numeric."""
    if column not in frame.columns:
        raise DataError(Problem(loc, f"column {column!r} is not in the data.",
                                fix="Fix the column name in the spec, or add the column to the data.",
                                code="missing_column"))
    if not pd.api.types.is_numeric_dtype(frame[column]) and not pd.api.types.is_bool_dtype(frame[column]):
        raise DataError(Problem(loc, f"column {column!r} is not numeric (dtype {frame[column].dtype}).",
                                fix="Use a numeric metric column.", code="metric_not_numeric"))
    return frame[column].to_numpy(float)


class FrameArms(ArmData):
    """The rows analysed as a pandas frame (the in-memory path)."""

    def __init__(self, plan, frame: pd.DataFrame):
        self.plan, self.frame, self.nobs = plan, frame, len(frame)
        self.t = frame[plan.treatment].astype(float).to_numpy()

    def column(self, name: str, loc: str) -> np.ndarray:
        return numeric_column(self.frame, name, loc)

    def mean(self, m) -> float:
        return float(m.mean())

    def var(self, m) -> float:
        return float(np.var(m, ddof=1))

    def cov(self, a, b) -> float:
        return float(np.cov(a, b, ddof=1)[0, 1])

    def adjusted(self, y, x, theta: float, x_mean: float) -> np.ndarray:
        return y - theta * (x - x_mean)

    def arm_sizes(self) -> tuple[int, int]:
        return int((self.t == 0).sum()), int((self.t == 1).sum())

    def arm_moments(self, m) -> tuple[ArmMoments, ArmMoments]:
        c, t = m[self.t == 0], m[self.t == 1]
        return (ArmMoments(len(c), float(c.mean()), float(c.var(ddof=1))),
                ArmMoments(len(t), float(t.mean()), float(t.var(ddof=1))))

    def arm_sums(self, m) -> tuple[float, float]:
        return m[self.t == 0].sum(), m[self.t == 1].sum()

    def non_binary(self, m) -> float | None:
        bad = m[~np.isin(m, (0.0, 1.0))]
        return float(np.sort(bad)[0]) if bad.size else None

    def ratio_moments(self, num, den) -> tuple[RatioMoments, RatioMoments]:
        t = self.t
        if not (np.isfinite(num).all() and np.isfinite(den).all()):
            raise DataError(Problem("design.metric", "the ratio metric's numerator and denominator must be finite.",
                                    fix="Drop or fix the rows with infinite values.", code="ratio_not_finite"))
        return _moments(num[t == 0], den[t == 0]), _moments(num[t == 1], den[t == 1])

    def dim(self, m, *, term: str, nested: bool = True):
        vc = self.plan.vcov
        if not vc.cluster:
            return difference_in_means(m, self.t, level=vc.level, term=term)
        return difference_in_means(m, self.t, level=vc.level, term=term, cluster=self.frame.loc[:, list(vc.cluster)],
                                   se_type=vc.kind, nested=nested)

    def welch(self, m):
        return welch_t_test(m[self.t == 1], m[self.t == 0], self.plan.vcov.level)

    def mean_model(self, m) -> tuple[np.ndarray, np.ndarray]:
        """HC2 of ``lm(y ~ d)`` (Neyman's variance, for one binary regressor) without clusters; the plan's
        estimatr cluster variance with them."""
        plan = self.plan
        fit = fit_ols(m, np.column_stack([np.ones(len(m)), self.t]), ("(Intercept)", plan.treatment))
        if plan.vcov.cluster:
            V = vcov(fit, plan.vcov.kind, self.frame.loc[:, list(plan.vcov.cluster)], flavour="estimatr")
        else:
            V = vcov(fit, "HC2")
        return np.asarray(fit.coef, dtype=float), np.asarray(V.matrix, dtype=float)

    def lin(self) -> LinRows:
        plan, vc = self.plan, self.plan.vcov
        res = lm_lin(self.outcome(), self.t, self.frame.loc[:, list(plan.covariates)], se_type=vc.kind,
                     cluster=self.frame.loc[:, list(vc.cluster)] if vc.cluster else None, level=vc.level,
                     treatment=plan.treatment)
        rows = estimate_rows(res.table, res.table["df"] if "df" in res.table else res.vcov.df_for())
        return LinRows(rows, res.vcov.terms, res.vcov.matrix, res.nobs, res.dropped, res.notes, res.stats)

    def clusters(self):
        cluster = self.plan.vcov.cluster
        if not cluster:
            return None
        cl = make_clusters(self.frame.loc[:, list(cluster)], len(self.frame))
        return cl, arms_nested_in_clusters(self.t, cl)

    def numeric_covariates(self) -> list[str]:
        return [c for c in self.plan.covariates if pd.api.types.is_numeric_dtype(self.frame[c])]


def arm_data(plan, data) -> ArmData:
    """The experiment's rows as an :class:`ArmData` (a frame in memory, or an engine's already)."""
    return data if isinstance(data, ArmData) else FrameArms(plan, data)
