"""The ``iv`` design's schema: planned by ``causalspec.designs.iv``."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from causalspec.spec._base import _NAME, _DesignModel

__all__ = ["IVDesign"]

from causalspec.spec.panel import FIXED_EFFECTS_FIELD


class IVDesign(_DesignModel):
    """Instrumental variables: instruments move the treatment and reach the outcome only through it."""

    type: Literal["iv"] = "iv"
    instruments: tuple[_NAME, ...] = Field(..., min_length=1, description="The excluded instruments.")
    fixed_effects: tuple[_NAME, ...] = FIXED_EFFECTS_FIELD
    estimator: Literal["auto", "2sls"] = Field("auto", description="2sls: two-stage least squares (AER::ivreg(y ~ x "
                                                                "+ d | x + z) without fixed effects, fixest::feols("
                                                                "y ~ x | fe | d ~ z) with them).")

