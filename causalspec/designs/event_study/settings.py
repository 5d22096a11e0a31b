"""The event_study family's typed plan settings: what its fitters read beyond the shared Plan fields."""

from __future__ import annotations

from dataclasses import dataclass

from causalspec.planner._settings import Settings

__all__ = ["EventStudySettings"]


@dataclass(frozen=True)
class EventStudySettings(Settings):
    """Event studies (TWFE, Sun & Abraham, Callaway & Sant'Anna): timing columns and options."""

    unit: str
    time: str
    first_treated: str | None
    relative_time: str | None
    treated: str | None
    reference: int
    control_group: str
    est_method: str
    anticipation: int
    covariates: tuple[str, ...]
    window: tuple[int, int] | None
    bin_endpoints: bool
    base_period: str = "varying"
    aggregation: str = "simple"
    min_e: int | None = None
    max_e: int | None = None
    balance_e: int | None = None
    bands: str = "pointwise"
    bootstrap_iterations: int = 1000
    model_formula: str | None = None
    _omit_none = ("model_formula", "min_e", "max_e", "balance_e")
