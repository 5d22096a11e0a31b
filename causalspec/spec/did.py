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
    estimator: Literal["auto", "2x2", "twfe", "drdid"] = Field(
        "auto", description="2x2: lm(outcome ~ group * post) with the effect the interaction; twfe: "
                            "fixest::feols(outcome ~ treatment | unit + time); drdid: a two-period DiD with "
                            "covariates (conditional parallel trends) by the DRDID package, the estimator chosen by "
                            "drdid_method (auto: 2x2 with post, else twfe).")
    drdid_method: Literal["imp", "trad", "ipw", "std_ipw", "reg"] = Field(
        "imp", description="drdid only: imp: DRDID::drdid(estMethod = \"imp\"), improved locally efficient doubly "
                           "robust (inverse probability tilting, weighted least squares; DRDID's default); trad: "
                           "DRDID::drdid(estMethod = \"trad\"), traditional doubly robust (logit, OLS); ipw: "
                           "DRDID::ipwdid(normalized = FALSE), Abadie (2005); std_ipw: DRDID::ipwdid(normalized = "
                           "TRUE), standardized (Hajek) IPW; reg: DRDID::ordid, outcome regression.")
    panel: bool = Field(True, description="drdid only: DRDID's panel = TRUE: the same units in both periods (design.unit "
                                          "and design.time with two periods, a balanced panel); false: repeated "
                                          "cross-sections (panel = FALSE; the period is design.post or design.time).")
    trim_level: float = Field(0.995, gt=0.0, le=1.0, description="drdid only: DRDID's trim.level: comparison units "
                                                                  "with a propensity score at or above it get weight "
                                                                  "zero (not read by drdid_method reg).")

