"""The synthetic_control family's typed plan settings: what its fitters read beyond the shared Plan fields."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from causalspec.planner._settings import Settings

__all__ = ["SyntheticControlSettings"]


@dataclass(frozen=True)
class SyntheticControlSettings(Settings):
    """The panel's columns, who is treated and when, the donor pool, Synth's predictors and fit periods, the
    placebo runs (synth) and the standard error (synthdid)."""

    unit: str
    time: str
    treated_units: tuple[Any, ...] | None
    treatment_time: int | None
    donors: tuple[Any, ...] | None
    predictors: tuple[Any, ...]  # spec.synthetic_control.Predictor (frozen pydantic models)
    fit_periods: tuple[int, int] | None
    placebos: bool | None  # synth only
    placebo_time: int | None  # synth only
    se_method: str | None  # synthdid only
    replications: int | None  # synthdid only
    estimand_written: str = "ATT"  # the spec's estimand: its default ATE is reported as the ATT, with a note
    _omit_none = ("placebos", "placebo_time", "se_method", "replications", "treated_units", "treatment_time",
                  "donors", "fit_periods")

    @property
    def partial_columns(self) -> tuple[str, ...]:
        """Columns read with missing values allowed: a predictor averages the periods it has (Synth's
        na.rm = TRUE), so a missing predictor value must not drop the unit-period from the outcome panel."""
        return tuple(dict.fromkeys(p.column for p in self.predictors))
