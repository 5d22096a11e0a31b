"""The ``synthetic_control`` design's schema: planned by ``causalspec.designs.synthetic_control``."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from causalspec.spec._base import _NAME, _DesignModel

__all__ = ["SyntheticControlDesign"]


class SyntheticControlDesign(_DesignModel):
    """Synthetic control: a weighted combination of untreated units reproduces the treated unit before treatment."""

    type: Literal["synthetic_control"] = "synthetic_control"
    unit: _NAME = Field(..., description="The unit identifier column.")
    time: _NAME = Field(..., description="The period column.")
    estimator: Literal["auto", "synth", "synthdid"] = Field(
        "auto", description="synth: Abadie, Diamond & Hainmueller synthetic control (R's Synth); synthdid: "
                            "synthetic difference in differences (Arkhangelsky et al. 2021, R's synthdid).")
