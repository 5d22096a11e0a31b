"""The ``panel`` design's schema: fixed effects (planned by ``causalspec.designs.panel``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from causalspec.spec._base import _NAME, _DesignModel

__all__ = ["PanelDesign", "FIXED_EFFECTS_FIELD"]

FIXED_EFFECTS_FIELD = Field((), description='Fixed-effect columns; "a^b" interacts two columns (fixest syntax).')


class PanelDesign(_DesignModel):
    """Repeated observations of units: the effect is identified within units (and periods) by fixed effects."""

    type: Literal["panel"] = "panel"
    unit: _NAME | None = Field(None, description="The unit identifier column.")
    time: _NAME | None = Field(None, description="The period column.")
    fixed_effects: tuple[_NAME, ...] = FIXED_EFFECTS_FIELD
    singletons: Literal["keep", "drop"] = Field(
        "keep", description='drop: remove fixed-effect singletons (fixest fixef.rm = "singleton"), counted.')
    estimator: Literal["auto", "feols"] = Field("auto", description="feols: OLS with absorbed fixed effects (fixest::feols(y ~ x "
                                                                       "| unit + time + fixed_effects)).")

