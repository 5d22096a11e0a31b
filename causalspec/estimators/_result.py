"""The Result of a fit: plain numbers in frozen fields; formatting lives in ``causalspec.report``."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from ..planner import Plan

__all__ = ["Estimate", "Result", "NotComputed", "FitOutput", "TIDY_COLUMNS"]

TIDY_COLUMNS = ("term", "estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high")


@dataclass(frozen=True)
class Estimate:
    """One row of a coefficient table.  ``df`` is the t degrees of freedom (``inf`` for a normal reference)."""

    term: str
    estimate: float
    std_error: float
    statistic: float
    p_value: float
    conf_low: float
    conf_high: float
    df: float = math.inf

    def to_dict(self) -> dict[str, Any]:
        return {
            "term": self.term,
            "estimate": _num(self.estimate),
            "std_error": _num(self.std_error),
            "statistic": _num(self.statistic),
            "p_value": _num(self.p_value),
            "conf_low": _num(self.conf_low),
            "conf_high": _num(self.conf_high),
            "df": _num(self.df),
        }


@dataclass(frozen=True)
class NotComputed:
    """Stands where a diagnostic does not apply or was not run, and says why (never a bare NaN)."""

    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"computed": False, "reason": self.reason}


@dataclass(frozen=True)
class FitOutput:
    """What an estimator returns to :func:`causalspec.fit` (the registry contract in ``causalspec.designs``).

    ``regressions`` is the outcome model as :class:`causalspec.sensitivity.Regressions` when the effect is a
    coefficient of one linear model (omitted-variable-bias bounds use it), else None.  ``extras`` holds
    design-specific results as JSON types (first stages, event-study coefficients, balance tables);
    ``warnings`` are shown before any effect (a sample-ratio mismatch, poor overlap).
    """

    effect: Estimate
    naive: Estimate
    rows: tuple[Estimate, ...]
    vcov_terms: tuple[str, ...]
    vcov_matrix: Any
    nobs: int
    dropped: tuple[tuple[str, int], ...] = ()
    notes: tuple[str, ...] = ()
    stats: tuple[tuple[str, float], ...] = ()
    extras: dict = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    regressions: Any = None
    outcome_sd: float | None = None


@dataclass(frozen=True)
class Result:
    """What ``causalspec.fit`` returns: the effect, the full table, the sample, diagnostics.

    A Result never disagrees with its plan: it is immutable, and changing the variance estimator
    (:meth:`with_vcov`) returns a new Result.

    Attributes
    ----------
    effect : Estimate
        The treatment effect (the estimand of the plan).
    naive : Estimate
        The unadjusted contrast (outcome on treatment alone), on the same rows, with the same variance type.
    coefficients : tuple of Estimate
        The full coefficient table of the model, R's term names.
    nobs, n_input : int
        Rows used, rows read.
    dropped : tuple of (reason, count)
        Every row not used, counted by reason.
    """

    plan: Plan
    effect: Estimate
    naive: Estimate
    coefficients: tuple[Estimate, ...]
    vcov_terms: tuple[str, ...]
    vcov_matrix: tuple[tuple[float, ...], ...]
    nobs: int
    n_input: int
    dropped: tuple[tuple[str, int], ...] = ()
    notes: tuple[str, ...] = ()
    fit_stats: tuple[tuple[str, float], ...] = ()
    sensitivity: Any = NotComputed("sensitivity analysis was not run")
    refutations: Any = NotComputed("refutation tests were not run")
    specification_curve: Any = NotComputed("run with --all-adjustment-sets for the specification curve")
    extras: dict = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    data_source: str = ""
    _refit: Any = field(default=None, repr=False, compare=False)
    spec: Any = field(default=None, repr=False, compare=False)  # the Spec, when produced by causalspec.run

    # ---------------------------------------------------------------- access
    def tidy(self) -> pd.DataFrame:
        """The coefficient table as a DataFrame with columns term, estimate, std_error, statistic, p_value,
        conf_low, conf_high."""
        rows = [{k: getattr(e, k) for k in TIDY_COLUMNS} for e in self.coefficients]
        return pd.DataFrame(rows, columns=list(TIDY_COLUMNS))

    def vcov(self) -> pd.DataFrame:
        """The variance-covariance matrix of the coefficients (R term names)."""
        return pd.DataFrame(list(self.vcov_matrix), index=list(self.vcov_terms), columns=list(self.vcov_terms))

    @property
    def n_dropped(self) -> int:
        return sum(n for _, n in self.dropped)

    def summary(self) -> str:
        """A text summary laid out like R's: plan, naive vs adjusted, coefficient table, notes."""
        from ..report import summary

        return summary(self)

    def __str__(self) -> str:
        return self.summary()

    def with_vcov(self, vcov: str, cluster: str | tuple[str, ...] = ()) -> "Result":
        """The same fit with another variance estimator (a new Result; this one is unchanged)."""
        if self._refit is None:
            from ..errors import UnsupportedError

            raise UnsupportedError("this result cannot change its variance estimator (it was read back, not fitted).",
                                   fix="Fit again with the variance set in the spec's inference field.")
        return self._refit(vcov, (cluster,) if isinstance(cluster, str) else tuple(cluster))

    # ---------------------------------------------------------------- output
    def to_dict(self) -> dict[str, Any]:
        """The JSON contract (docs/json.md): estimates, effect, naive, nobs, plan, diagnostics, sensitivity."""
        return {
            "name": self.plan.name,
            "treatment": self.plan.treatment,
            "outcome": self.plan.outcome,
            "estimand": self.plan.estimand,
            "effect": self.effect.to_dict(),
            "naive": self.naive.to_dict(),
            "estimates": [e.to_dict() for e in self.coefficients],
            "nobs": self.nobs,
            "n_input": self.n_input,
            "dropped": [{"reason": r, "rows": n} for r, n in self.dropped],
            "plan": {
                "identified": self.plan.identified,
                "strategy": self.plan.strategy.value,
                "adjustment_set": list(self.plan.adjustment_set),
                "minimal_adjustment_sets": [list(s) for s in self.plan.minimal_adjustment_sets],
                "covariates": list(self.plan.covariates),
                "estimator": self.plan.estimator.value,
                "formula": self.plan.formula,
                "vcov": {"kind": self.plan.vcov.kind, "cluster": list(self.plan.vcov.cluster), "level": self.plan.vcov.level,
                         "r_equivalent": self.plan.vcov.r_equivalent},
            },
            "vcov": {"terms": list(self.vcov_terms), "matrix": [[_num(v) for v in row] for row in self.vcov_matrix]},
            "diagnostics": {k: _num(v) for k, v in self.fit_stats},
            "notes": list(self.notes),
            "warnings": list(self.warnings),
            "design": _jsonable(self.extras),
            "sensitivity": self.sensitivity.to_dict() if hasattr(self.sensitivity, "to_dict") else None,
            "refutations": self.refutations.to_dict() if hasattr(self.refutations, "to_dict") else None,
            "specification_curve": (self.specification_curve.to_dict()
                                    if hasattr(self.specification_curve, "to_dict") else None),
            "data": self.data_source,
        }

    def to_json(self) -> str:
        """The result as JSON (NaN and infinity written as null)."""
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False, allow_nan=False) + "\n"

    def replace(self, **changes: Any) -> "Result":
        return replace(self, **changes)


def _num(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _jsonable(value: Any) -> Any:
    """Design extras as JSON types: DataFrames as lists of records, numpy numbers as floats, NaN as null."""
    import numpy as np

    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, pd.DataFrame):
        return [_jsonable(r) for r in value.reset_index(drop=value.index.name is None).to_dict("records")]
    if hasattr(value, "to_dict") and not isinstance(value, pd.Series):
        return _jsonable(value.to_dict())
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return _num(value)
    if value is None or isinstance(value, str):
        return value
    return str(value)
