"""The did family's typed plan settings: what its fitters read beyond the shared Plan fields."""

from __future__ import annotations

from dataclasses import dataclass, replace

from causalspec.planner._settings import Settings

__all__ = ["DiDSettings", "DrDidSettings"]


@dataclass(frozen=True)
class DiDSettings(Settings):
    """2x2 difference in differences: the group and post columns and the interaction term."""

    group: str
    post: str
    did_term: str

    def with_regressor(self, name: str) -> "DiDSettings":
        return self  # the 2x2 regression is the plan's formula, which the regressor is added to


@dataclass(frozen=True)
class DrDidSettings(Settings):
    """Two-period DR-DiD (DRDID): the estimator, the data layout and the columns its fitter reads."""

    method: str  # imp | trad | ipw | std_ipw | reg (design.drdid_method)
    panel: bool
    group: str
    period: str  # design.time or design.post: DRDID's tname
    unit: str | None
    covariates: tuple[str, ...]
    trim_level: float | None  # None for reg, which fits no propensity score
    _omit_none = ("unit", "trim_level")

    def with_regressor(self, name: str) -> "DrDidSettings | None":
        # a row-level random covariate is not time-invariant, which panel data require of every covariate
        return None if self.panel else replace(self, covariates=(*self.covariates, name))
