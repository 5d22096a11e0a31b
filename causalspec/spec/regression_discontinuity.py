"""The ``regression_discontinuity`` design's schema: planned by ``causalspec.designs.regression_discontinuity``."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from causalspec.spec._base import _NAME, _DesignModel

__all__ = ["RegressionDiscontinuityDesign"]


class RegressionDiscontinuityDesign(_DesignModel):
    """Regression discontinuity: treatment (or its probability) jumps at a cutoff of a running variable."""

    type: Literal["regression_discontinuity"] = "regression_discontinuity"
    running: _NAME = Field(..., description="The running variable (score) whose cutoff assigns the treatment.")
    cutoff: float = Field(0.0, description="The cutoff of the running variable (rdrobust c).")
    estimator: Literal["auto", "rdrobust"] = Field("auto", description="rdrobust: local polynomial RD estimation "
                                                                      "with robust bias-corrected inference "
                                                                      "(Calonico, Cattaneo & Titiunik 2014).")
