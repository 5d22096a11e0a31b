"""Stage 4: the Result of a fit — Plan + Fit + the sensitivity step — in plain frozen fields.

Formatting lives in ``causalspec.report`` (one declared deferred call: :meth:`Result.summary`).  A Result never
disagrees with its plan: it is immutable, and :meth:`Result.with_vcov` re-plans the variance through the
design family's own rule and returns a new Result.  A Result pickles (it holds data, not closures); its JSON
(:meth:`to_dict`) is the contract in docs/json.md.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from causalspec._values import TIDY_COLUMNS, Estimate, NotComputed, jsonable, num
from causalspec.designs import Fit, family_for
from causalspec.designs import fit as fit_plan
from causalspec.errors import Problem, UnsupportedError
from causalspec._version import __version__
from causalspec.planner import Plan
from causalspec.result._accessors import ResultAccessors
from causalspec.result._sensitivity import SensitivityReport, assess, rosenbaum
from causalspec.spec import Inference

__all__ = ["Result", "build_result", "SensitivityReport"]


@dataclass(frozen=True, repr=False)
class Result(ResultAccessors):
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
    dag_tests: Any = NotComputed("the DAG's implications are tested against the data by causalspec.run")
    extras: dict = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    data_source: str = ""
    _data: Any = field(default=None, repr=False, compare=False)  # the data fitted, for with_vcov
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
        from causalspec.report import summary  # the one declared deferred call into report (stage 6)

        return summary(self)

    def __str__(self) -> str:
        return self.summary()

    def with_vcov(self, vcov: str, cluster: str | tuple[str, ...] = ()) -> "Result":
        """The same fit with another variance estimator (a new Result; this one is unchanged).

        The variance is re-planned by the design family's own rule (the same one :func:`causalspec.plan` uses),
        so the R call it names is the one it matches; a variance the design does not offer is refused with a
        located error that lists the ones it does.
        """
        if self._data is None:
            raise UnsupportedError(Problem(
                "inference.vcov", "this result cannot change its variance estimator (it was read back, not fitted).",
                fix="Fit again with the variance set in the spec's inference field.", code="unsupported_vcov"))
        inference = Inference(vcov=vcov, cluster=(cluster,) if isinstance(cluster, str) else tuple(cluster),
                              level=self.plan.vcov.level)
        new_vcov = family_for(self.plan.design).vcov(inference, self.plan)
        plan = replace(self.plan, vcov=new_vcov, columns=tuple(dict.fromkeys((*self.plan.columns, *inference.cluster))))
        return build_result(plan, fit_plan(plan, self._data), self._data, data_source=self.data_source,
                            spec=self.spec)

    # ---------------------------------------------------------------- output
    def to_dict(self) -> dict[str, Any]:
        """The JSON contract (docs/json.md): estimates, effect, naive, nobs, plan, diagnostics, sensitivity."""
        return {
            "version": __version__,
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
            "vcov": {"terms": list(self.vcov_terms), "matrix": [[num(v) for v in row] for row in self.vcov_matrix]},
            "diagnostics": {k: num(v) for k, v in self.fit_stats},
            "notes": list(self.notes),
            "warnings": list(self.warnings),
            "design": jsonable(self.extras),
            "sensitivity": self.sensitivity.to_dict() if hasattr(self.sensitivity, "to_dict") else None,
            "refutations": self.refutations.to_dict() if hasattr(self.refutations, "to_dict") else None,
            "specification_curve": (self.specification_curve.to_dict()
                                    if hasattr(self.specification_curve, "to_dict") else None),
            "dag_tests": self.dag_tests.to_dict(),
            "data": self.data_source,
        }

    def to_json(self) -> str:
        """The result as JSON (NaN and infinity written as null)."""
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False, allow_nan=False) + "\n"

    def replace(self, **changes: Any) -> "Result":
        return replace(self, **changes)



def build_result(plan: Plan, fit: Fit, data: pd.DataFrame | None = None, *, data_source: str = "",
                 spec: Any = None) -> Result:
    """The Result of a fit: the Fit's numbers, then the sensitivity step the plan asks for."""
    extras = dict(fit.extras)
    if plan.sensitivity.enabled:
        bounds = rosenbaum(fit)
        if bounds is not None:
            extras["rosenbaum"] = bounds
    return Result(
        plan=plan,
        effect=fit.effect,
        naive=fit.naive,
        coefficients=tuple(fit.rows),
        vcov_terms=tuple(fit.vcov_terms),
        vcov_matrix=tuple(tuple(float(v) for v in row) for row in np.asarray(fit.vcov_matrix)),
        nobs=int(fit.nobs),
        n_input=int(fit.n_input if fit.n_input is not None else fit.nobs),
        dropped=tuple(fit.dropped),
        notes=tuple(fit.notes),
        fit_stats=tuple((k, float(v)) for k, v in fit.stats),
        sensitivity=assess(plan, fit),
        extras=extras,
        warnings=tuple(fit.warnings),
        data_source=data_source,
        _data=data,
        spec=spec,
    )
