"""Panel designs: fixed effects, instrumental variables, difference in differences and event studies.

Column names here are data columns (they need not be DAG nodes); the planner checks them against the
DAG where the DAG has something to say (instruments), and ``fit`` checks them against the data.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ._base import _NAME, _Model

__all__ = ["PanelDesign", "IVDesign", "DiDDesign", "EventStudyDesign", "ModelSpec"]

_FE = Field((), description='Fixed-effect columns; "a^b" interacts two columns (fixest syntax).')


class PanelDesign(_Model):
    """Repeated observations of units: the effect is identified within units (and periods) by fixed effects."""

    type: Literal["panel"] = "panel"
    unit: _NAME | None = Field(None, description="The unit identifier column.")
    time: _NAME | None = Field(None, description="The period column.")
    fixed_effects: tuple[_NAME, ...] = _FE
    singletons: Literal["keep", "drop"] = Field(
        "keep", description='drop: remove fixed-effect singletons (fixest fixef.rm = "singleton"), counted.')
    estimator: Literal["auto", "feols"] = Field("auto", description="feols: OLS with absorbed fixed effects.")


class IVDesign(_Model):
    """Instrumental variables: instruments move the treatment and reach the outcome only through it."""

    type: Literal["iv"] = "iv"
    instruments: tuple[_NAME, ...] = Field(..., min_length=1, description="The excluded instruments.")
    fixed_effects: tuple[_NAME, ...] = _FE
    estimator: Literal["auto", "2sls"] = Field("auto", description="2sls: two-stage least squares.")


class DiDDesign(_Model):
    """Difference in differences: treated and control groups before and after a change (parallel trends)."""

    type: Literal["did"] = "did"
    unit: _NAME | None = Field(None, description="The unit identifier column (two-way fixed effects).")
    time: _NAME | None = Field(None, description="The period column.")
    group: _NAME | None = Field(None, description="1 for the treated group, 0 for controls (2x2 design).")
    post: _NAME | None = Field(None, description="1 after the change, 0 before (2x2 design).")
    fixed_effects: tuple[_NAME, ...] = _FE
    estimator: Literal["auto", "2x2", "twfe"] = Field(
        "auto", description="2x2: outcome ~ group * post; twfe: unit and period fixed effects.")


class EventStudyDesign(_Model):
    """Effects by time relative to treatment, with leads as a check of parallel trends."""

    type: Literal["event_study"] = "event_study"
    unit: _NAME = Field(..., description="The unit identifier column.")
    time: _NAME = Field(..., description="The period column.")
    first_treated: _NAME | None = Field(
        None, description="The period a unit was first treated (its cohort); never-treated units 0 or missing.")
    relative_time: _NAME | None = Field(None, description="Time relative to treatment, when already a column.")
    treated: _NAME | None = Field(None, description="1 for ever-treated units (with relative_time).")
    window: tuple[int, int] | None = Field(None, description="[first lead, last lag] kept, e.g. [-5, 5].")
    reference: int = Field(-1, description="The reference period (left out), usually -1.")
    bin_endpoints: bool = Field(False, description="Bin periods outside the window into its end points.")
    estimator: Literal["auto", "twfe", "sun_abraham", "callaway_santanna"] = Field(
        "auto", description="twfe: i(relative_time, treated, ref); sun_abraham: fixest sunab(); "
                            "callaway_santanna: did::att_gt with aggte.")
    control_group: Literal["never_treated", "not_yet_treated"] = Field(
        "never_treated", description="Callaway & Sant'Anna comparison group.")
    est_method: Literal["dr", "ipw", "reg"] = Field("dr", description="Callaway & Sant'Anna estimation method.")
    anticipation: int = Field(0, ge=0, description="Periods of anticipation allowed before treatment.")


class ModelSpec(_Model):
    """Advanced: a fixest-style formula that replaces the planner's formula (checked, never evaluated)."""

    formula: str = Field(
        ..., min_length=3, max_length=10_000,
        description="fixest syntax: y ~ x1 + x2 | fe1 + fe2, y ~ exog | fe | endog ~ z1 + z2, i(var, ref = -1), "
                    "i(var, treat, ref = -1), sunab(cohort, period), fe1^fe2.")
