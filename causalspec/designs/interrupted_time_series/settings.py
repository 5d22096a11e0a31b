"""The interrupted time series family's typed plan settings: what its fitter reads beyond the shared Plan fields."""

from __future__ import annotations

from dataclasses import dataclass

from causalspec.planner._settings import Settings

__all__ = ["InterruptedTimeSeriesSettings", "MIN_PRE_PERIODS", "PLACEBO_QUANTILES", "MIN_PLACEBO_SIDE"]

#: Fewer pre-interruption periods than this is warned about (Wagner et al. 2002 recommend 12 before and after);
#: with seasonality, also fewer than two full cycles.
MIN_PRE_PERIODS = 12
#: Default placebo interruptions: these fractions of the pre-period, each leaving MIN_PLACEBO_SIDE periods or more
#: on both sides (a level and a slope on each side, and a residual degree of freedom).
PLACEBO_QUANTILES = (0.25, 0.5, 0.75)
MIN_PLACEBO_SIDE = 3


@dataclass(frozen=True)
class InterruptedTimeSeriesSettings(Settings):
    """Segmented regression: the period column, interruptions, comparison series, seasonality, the variance."""

    time: str
    interruptions: tuple  # as written in the spec (() : where the treatment column changes)
    comparison: str | None
    season_period: int | None
    season_terms: str | None
    harmonics: int | None
    variance: str  # newey_west | ar1_gls | ols
    lag: int | None
    prewhite: bool | None  # None: not read (not newey_west, or vcovPL)
    adjust: bool | None
    ar1_method: str
    autocorrelation_order: int
    placebo_interruptions: tuple | None
