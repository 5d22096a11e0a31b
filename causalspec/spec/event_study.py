"""The ``event_study`` design's schema: planned by ``causalspec.designs.event_study``."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from causalspec.spec._base import _NAME, _DesignModel

__all__ = ["EventStudyDesign"]



class EventStudyDesign(_DesignModel):
    """Effects by time relative to treatment, with leads as a check of parallel trends."""

    type: Literal["event_study"] = "event_study"
    unit: _NAME = Field(..., description="The unit identifier column.")
    time: _NAME = Field(..., description="The period column.")
    first_treated: _NAME | None = Field(
        None, description="The period a unit was first treated (its cohort); never-treated units 0 or missing.")
    relative_time: _NAME | None = Field(None, description="Time relative to treatment, when already a column.")
    treated: _NAME | None = Field(None, description="1 for ever-treated units (with relative_time).")
    window: tuple[int, int] | None = Field(None, description="twfe only: [first lead, last lag] kept, e.g. [-5, 5] (treated periods outside are "
                                                            "dropped and counted; fixest i(..., keep = ))")
    reference: int = Field(-1, description="twfe only: the reference period left out, fixest i(rel, treated, ref = -1); "
                                    "sunab and att_gt use -1.")
    bin_endpoints: bool = Field(False, description="twfe with window: bin periods outside the window into its "
                                                 "end points (fixest bin = ) instead of dropping them.")
    estimator: Literal["auto", "twfe", "sun_abraham", "callaway_santanna"] = Field(
        "auto", description="twfe: i(relative_time, treated, ref); sun_abraham: fixest sunab(); "
                            "callaway_santanna: did::att_gt with aggte.")
    control_group: Literal["never_treated", "not_yet_treated"] = Field(
        "never_treated", description="callaway_santanna only: the comparison group (did::att_gt control_group = "
                                     "\"nevertreated\" / \"notyettreated\").")
    est_method: Literal["dr", "ipw", "reg"] = Field("dr", description="callaway_santanna only: did::att_gt est_method (dr: "
                                                                          "DRDID::drdid_panel, ipw: "
                                                                          "std_ipw_did_panel, reg: reg_did_panel).")
    anticipation: int = Field(0, ge=0, description="callaway_santanna only: periods of anticipation allowed "
                                                   "before treatment (did::att_gt anticipation = ); for twfe, move "
                                                   "design.reference instead.")
    aggregation: Literal["simple", "dynamic", "group", "calendar"] = Field(
        "simple", description="callaway_santanna only: the aggregation of the ATT(g,t) reported as the effect "
                              "(did::aggte type); all four are in the result.")
    min_e: int | None = Field(None, description="callaway_santanna only: the first event time of the dynamic "
                                                "aggregation (did::aggte min_e).")
    max_e: int | None = Field(None, description="callaway_santanna only: the last event time of the dynamic "
                                                "aggregation (did::aggte max_e).")
    balance_e: int | None = Field(None, ge=0, description="callaway_santanna only: keep, in the dynamic "
                                  "aggregation, the cohorts observed for at least balance_e periods after "
                                  "treatment (did::aggte balance_e).")
    bands: Literal["pointwise", "uniform"] = Field(
        "pointwise", description="callaway_santanna only: pointwise intervals with analytical SEs (did's "
                                 "bstrap = FALSE, cband = FALSE), or simultaneous bands over the ATT(g,t) and "
                                 "each aggregation's components from the multiplier bootstrap (bstrap = TRUE, "
                                 "cband = TRUE, did's default; seeded by the spec's seed).")
    bootstrap_iterations: int = Field(1000, ge=100, le=100_000, description="callaway_santanna with bands: "
                                      "uniform: multiplier-bootstrap draws (did's biters).")
    base_period: Literal["varying", "universal"] = Field(
        "varying", description="callaway_santanna only (did's base_period): varying compares each pre-treatment "
                               "period with the one before it; universal with the period before treatment, as the "
                               "post-treatment ones are (needed for parallel-trends sensitivity).")

