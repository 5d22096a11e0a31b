"""The ``did`` design's schema: planned by ``causalspec.designs.did``."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from causalspec.spec._base import _NAME, _DesignModel

__all__ = ["DiDDesign"]

from causalspec.spec.panel import FIXED_EFFECTS_FIELD


class DiDDesign(_DesignModel):
    """Difference in differences: treated and control groups before and after a change (parallel trends)."""

    type: Literal["did"] = "did"
    unit: _NAME | None = Field(None, description="The unit identifier column (two-way fixed effects).")
    time: _NAME | None = Field(None, description="The period column.")
    group: _NAME | None = Field(None, description="1 for the treated group, 0 for controls (2x2 design).")
    post: _NAME | None = Field(None, description="1 after the change, 0 before (2x2 design).")
    fixed_effects: tuple[_NAME, ...] = FIXED_EFFECTS_FIELD
    estimator: Literal["auto", "2x2", "twfe"] = Field(
        "auto", description="2x2: lm(outcome ~ group * post) with the effect the interaction; twfe: "
                            "fixest::feols(outcome ~ treatment | unit + time).")

