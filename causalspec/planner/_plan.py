"""The Plan: the parsed, checked, data-free intention of an analysis.

A Plan is immutable and deterministic: the same spec always gives the same
plan, byte for byte in JSON, so a reviewer can diff plans.  ``explain()``
renders the very records the fitter consumes (no second code path).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any

from causalspec.errors import IdentificationError, Problem
from causalspec.planner._explain import explain as _explain
from causalspec.planner._records import (
    LINEAR_ESTIMATORS,
    Estimator,
    NodeDecision,
    SensitivityPlan,
    Strategy,
    VcovPlan,
)
from causalspec.planner._settings import NoSettings, Settings

__all__ = ["Plan", "NodeDecision", "VcovPlan", "SensitivityPlan", "Estimator", "Strategy", "LINEAR_ESTIMATORS"]


@dataclass(frozen=True)
class Plan:
    """What will be estimated, how, and why.  Build with :func:`causalspec.plan`.

    Attributes
    ----------
    identified : bool
        Whether the effect is identified by the chosen strategy from the DAG.
    adjustment_set : tuple of str
        The variables adjusted for (sorted).
    minimal_adjustment_sets : tuple of tuple of str
        Every minimal valid adjustment set the DAG allows (``()`` inside means the empty set suffices).
    formula, naive_formula : str
        The model and the unadjusted comparison, with names quoted so that none is evaluated.
    """

    name: str
    treatment: str
    outcome: str
    estimand: str
    design: str
    identified: bool
    strategy: Strategy
    adjustment_set: tuple[str, ...]
    adjustment_source: str
    adjustment_rule: str
    minimal_adjustment_sets: tuple[tuple[str, ...], ...]
    optimal_adjustment_set: tuple[str, ...] | None
    covariates: tuple[str, ...]
    decisions: tuple[NodeDecision, ...]
    estimator: Estimator
    estimator_reason: str
    formula: str
    naive_formula: str
    vcov: VcovPlan
    assumptions: tuple[str, ...]
    obstacles: tuple[str, ...] = ()
    alternatives: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    data: str | None = None
    seed: int = 0
    weights: str | None = None  # the observation-weights column (spec.weights)
    spec_hash: str = ""
    columns: tuple[str, ...] = field(default=())
    column_fields: tuple[tuple[str, str], ...] = ()
    settings: Settings = field(default_factory=NoSettings)
    sensitivity: SensitivityPlan = field(default_factory=lambda: SensitivityPlan(False, "not planned"))
    #: the CATE learner's plan (spec.heterogeneity with learner dr, t, s, x or r), fitted after the design's own
    #: estimate; None otherwise (learner linear lives in the observational settings)
    heterogeneity: Any = None

    # ------------------------------------------------------------------ output
    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON types only), keys in a fixed order."""
        data = asdict(self)
        if self.heterogeneity is None:
            del data["heterogeneity"]  # plans without a CATE learner keep their JSON byte for byte
        data["settings"] = self.settings.to_dict()
        data["strategy"] = self.strategy.value
        data["estimator"] = self.estimator.value
        data["adjustment_set"] = list(self.adjustment_set)
        data["minimal_adjustment_sets"] = [list(s) for s in self.minimal_adjustment_sets]
        if self.optimal_adjustment_set is not None:
            data["optimal_adjustment_set"] = list(self.optimal_adjustment_set)
        return _lists(data)

    def to_json(self) -> str:
        """Deterministic JSON: the same spec gives the same bytes."""
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False, allow_nan=False) + "\n"

    def explain(self) -> str:
        """The plan in words, for a person: estimand, assumptions, each node's role, formula, variance."""
        return _explain(self)

    def __str__(self) -> str:
        return self.explain()

    def identification_error(self) -> "IdentificationError":
        """The error that fitting a non-identified plan raises: the open paths and what the DAG offers."""
        fix = "Alternatives the DAG offers: " + "; ".join(self.alternatives) + "."
        if not self.obstacles:
            return IdentificationError(Problem(
                "dag", f"the effect of {self.treatment!r} on {self.outcome!r} is not identified by adjustment: "
                "no set of observed variables blocks every backdoor path.", fix=fix, code="not_identified"))
        return IdentificationError([
            Problem("dag", f"the effect of {self.treatment!r} on {self.outcome!r} is not identified by adjustment: "
                    f"the backdoor path {p} cannot be blocked.", fix=fix, code="not_identified")
            for p in self.obstacles[:3]])


def _lists(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _lists(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_lists(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    return value
