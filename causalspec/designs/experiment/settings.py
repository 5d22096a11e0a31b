"""The experiment family's typed plan settings: what its fitters read beyond the shared Plan fields."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from causalspec.planner._settings import Settings

__all__ = ["ExperimentSettings"]


@dataclass(frozen=True)
class ExperimentSettings(Settings):
    """Experiment design: planned split, SRM threshold, metric, CUPED, guardrails and decision rule."""

    planned_split: float | None
    srm_alpha: float
    metric: Any  # causalspec.spec.experiment.Metric (frozen)
    cuped: str | None
    guardrails: tuple[Any, ...]  # causalspec.spec.experiment.Guardrail (frozen)
    decision: Any | None  # causalspec.spec.experiment.Decision (frozen)
