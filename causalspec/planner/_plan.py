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

__all__ = ["Plan", "NodeDecision", "VcovPlan", "SensitivityPlan", "Estimator", "Strategy", "LINEAR_ESTIMATORS"]


class Estimator(str, Enum):
    """The estimators the planner can choose (a typed registry key, never a free string)."""

    OLS = "ols"
    DIFFERENCE_IN_MEANS = "difference_in_means"
    LIN = "lin"
    IPW = "ipw"
    AIPW = "aipw"
    MATCHING = "matching"
    FEOLS = "feols"
    IV_2SLS = "2sls"
    DID_2X2 = "did_2x2"
    TWFE = "twfe"
    EVENT_STUDY = "event_study_twfe"
    SUN_ABRAHAM = "sun_abraham"
    CALLAWAY_SANTANNA = "callaway_santanna"


# Estimators whose effect is a coefficient of one linear model: omitted-variable-bias bounds
# (Cinelli & Hazlett 2020) apply to them directly.
LINEAR_ESTIMATORS = frozenset({Estimator.OLS, Estimator.FEOLS, Estimator.DID_2X2, Estimator.TWFE})


class Strategy(str, Enum):
    """How the effect is identified."""

    BACKDOOR = "backdoor adjustment"
    RANDOMIZATION = "randomization"
    INSTRUMENTAL_VARIABLES = "instrumental variables"
    FIXED_EFFECTS = "fixed effects (within-unit comparison)"
    PARALLEL_TRENDS = "difference in differences (parallel trends)"
    NOT_IDENTIFIED = "not identified"


@dataclass(frozen=True)
class NodeDecision:
    """One DAG node: its role relative to (treatment, outcome), whether it is adjusted for, and why."""

    node: str
    role: str
    adjusted: bool
    reason: str


@dataclass(frozen=True)
class VcovPlan:
    """The variance estimator and the R call whose numbers it reproduces."""

    kind: str
    cluster: tuple[str, ...]
    level: float
    r_equivalent: str


@dataclass(frozen=True)
class SensitivityPlan:
    """Which sensitivity steps run after the fit, and why (or why not)."""

    enabled: bool
    reason: str
    benchmarks: tuple[tuple[str, ...], ...] = ()
    benchmark_rule: str = ""
    kd: tuple[float, ...] = (1.0, 2.0, 3.0)
    ky: tuple[float, ...] | None = None
    q: float = 1.0
    alpha: float = 0.05
    refutations: tuple[str, ...] = ()
    placebo_outcome: str | None = None
    simulations: int = 100
    subset_fraction: float = 0.8
    all_adjustment_sets: bool = False


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
    spec_hash: str = ""
    columns: tuple[str, ...] = field(default=())
    column_fields: tuple[tuple[str, str], ...] = ()
    settings: dict[str, Any] = field(default_factory=dict)
    sensitivity: SensitivityPlan = field(default_factory=lambda: SensitivityPlan(False, "not planned"))

    # ------------------------------------------------------------------ output
    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON types only), keys in a fixed order."""
        data = asdict(self)
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
        from ._explain import explain

        return explain(self)

    def __str__(self) -> str:
        return self.explain()

    def identification_error(self) -> "IdentificationError":
        """The error that fitting a non-identified plan raises: the open paths and what the DAG offers."""
        from ..errors import IdentificationError, Problem

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
