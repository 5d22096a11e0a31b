"""The ``interrupted_time_series`` design's schema: planned by ``causalspec.designs.interrupted_time_series``."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from causalspec.spec._base import _NAME, _DesignModel

__all__ = ["InterruptedTimeSeriesDesign"]


class InterruptedTimeSeriesDesign(_DesignModel):
    """Interrupted time series: the outcome's level and trend before an interruption predict what would have followed without it."""

    type: Literal["interrupted_time_series"] = "interrupted_time_series"
    time: _NAME = Field(..., description="The period column (ordered).")
    estimator: Literal["auto", "segmented"] = Field("auto", description="segmented: segmented regression with "
                                                                       "level and slope changes at the interruption.")
