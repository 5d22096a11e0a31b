"""The ``synthetic_control`` design's schema: planned by ``causalspec.designs.synthetic_control``."""

from __future__ import annotations

from typing import Literal, Union

from pydantic import Field, field_validator, model_validator

from causalspec.errors import Problem, SpecError
from causalspec.spec._base import _NAME, _DesignModel, _Model

__all__ = ["SyntheticControlDesign", "Predictor"]

Unit = Union[int, str]


class Predictor(_Model):
    """One row of Synth's predictor matrix: a column aggregated over pre-treatment periods, per unit."""

    column: _NAME = Field(..., description="The column averaged; the outcome itself makes a special predictor "
                                           "(Synth's special.predictors).")
    window: tuple[int, int] | None = Field(None, description="[first, last] period, both included (Synth's "
                                                             "time.predictors.prior, or a special predictor's "
                                                             "range).")
    periods: tuple[int, ...] | None = Field(None, min_length=1, max_length=1000,
                                            description="An explicit list of periods instead of a window, e.g. "
                                                        "[1961, 1963, 1965] (seq(1961, 1969, 2) in R).")
    op: Literal["mean", "median"] = Field("mean", description="How the periods are aggregated, missing values "
                                                              "left out (Synth's predictors.op, na.rm = TRUE).")

    @model_validator(mode="after")
    def _one_range(self) -> "Predictor":
        if (self.window is None) == (self.periods is None):
            raise SpecError(Problem("", "a predictor takes either a window [first, last] or a list of periods.",
                                    fix="Write window: [1960, 1969] or periods: [1961, 1963], not both or neither.",
                                    code="predictor_periods"))
        if self.window is not None and self.window[0] > self.window[1]:
            raise SpecError(Problem("window", f"the window {list(self.window)} ends before it starts.",
                                    fix="Write [first, last].", code="predictor_periods"))
        if self.periods is not None and len(set(self.periods)) < len(self.periods):
            raise SpecError(Problem("periods", "a period is listed twice.", fix="Remove the duplicate.",
                                    code="duplicate"))
        return self

    def times(self) -> list[int]:
        """The periods this predictor aggregates, in order."""
        if self.window is not None:
            return list(range(self.window[0], self.window[1] + 1))
        return sorted(self.periods or ())

    def last(self) -> int:
        return self.times()[-1]


class SyntheticControlDesign(_DesignModel):
    """Synthetic control: a weighted combination of untreated units reproduces the treated unit before treatment."""

    type: Literal["synthetic_control"] = "synthetic_control"
    unit: _NAME = Field(..., description="The unit identifier column.")
    time: _NAME = Field(..., description="The period column (integer periods: years, period numbers).")
    estimator: Literal["auto", "synth", "synthdid"] = Field(
        "auto", description="synth: Abadie, Diamond & Hainmueller synthetic control (R's Synth); synthdid: "
                            "synthetic difference in differences (Arkhangelsky et al. 2021, R's synthdid). auto: "
                            "synth when predictors are given, else synthdid.")
    treated_units: tuple[Unit, ...] | None = Field(
        None, min_length=1, max_length=10000, description="The treated units (dataprep's treatment.identifier), "
                                                         "checked against the treatment column, which is 1 in "
                                                         "their treated periods; left out: read from it.")
    treatment_time: int | None = Field(None, description="The first treated period, checked against the treatment "
                                                         "column; left out: read from it.")
    donors: tuple[Unit, ...] | None = Field(
        None, min_length=2, max_length=100000, description="The donor pool (dataprep's controls.identifier); left "
                                                          "out: every unit never treated.")
    predictors: tuple[Predictor, ...] = Field(
        (), max_length=1000, description="synth only: the predictors V weighs (dataprep's predictors and "
                                         "special.predictors); left out: the outcome in each fit period.")
    fit_periods: tuple[int, int] | None = Field(
        None, description="synth only: [first, last] periods whose outcome MSPE V minimises (time.optimize.ssr); "
                          "left out: every period before treatment.")
    placebos: bool | None = Field(None, description="synth only: run the placebo inference after the fit "
                                                    "(in-space placebos and their permutation p-value, "
                                                    "leave-one-out donors, an in-time placebo); left out: true.")
    placebo_time: int | None = Field(None, description="synth only: the in-time placebo's fake treatment date "
                                                       "(ADH 2015); left out: the middle pre-treatment period.")
    se_method: Literal["placebo", "bootstrap", "jackknife"] | None = Field(
        None, description="synthdid only: vcov(estimate, method = ): placebo (the only one for one treated unit), "
                          "bootstrap or jackknife (several treated units); left out: placebo.")
    replications: int | None = Field(None, ge=2, le=100000,
                                     description="synthdid only, placebo or bootstrap: vcov(replications = ); left "
                                                 "out: 200.")

    @field_validator("treated_units", "donors")
    @classmethod
    def _unique(cls, value):
        if value is not None and len(set(map(str, value))) < len(value):
            raise SpecError(Problem("", "a unit is listed twice.", fix="Remove the duplicate.", code="duplicate"))
        return value

    @model_validator(mode="after")
    def _consistent(self) -> "SyntheticControlDesign":
        problems = []
        if self.treated_units and self.donors:
            both = sorted(set(map(str, self.treated_units)) & set(map(str, self.donors)))
            if both:
                problems.append(Problem("donors", f"{', '.join(map(repr, both))} are both treated and donors.",
                                        fix="Remove the treated units from donors.", code="donor_treated"))
        if self.fit_periods is not None and self.fit_periods[0] > self.fit_periods[1]:
            problems.append(Problem("fit_periods", f"the fit periods {list(self.fit_periods)} end before they "
                                    "start.", fix="Write [first, last].", code="fit_periods_invalid"))
        t0 = self.treatment_time
        if t0 is not None:
            if self.fit_periods is not None and self.fit_periods[1] >= t0:
                problems.append(Problem("fit_periods", f"the fit periods end in {self.fit_periods[1]}, at or after "
                                        f"the treatment time {t0}: V must be chosen on pre-treatment outcomes.",
                                        fix=f"End the fit periods before {t0}.", code="fit_periods_invalid"))
            for i, p in enumerate(self.predictors):
                if p.last() >= t0:
                    problems.append(Problem(f"predictors[{i}]", f"the predictor {p.column!r} reads period "
                                            f"{p.last()}, at or after the treatment time {t0}.",
                                            fix=f"Use periods before {t0}.", code="predictor_after_treatment"))
            if self.placebo_time is not None and self.placebo_time >= t0:
                problems.append(Problem("placebo_time", f"the in-time placebo {self.placebo_time} is not before "
                                        f"the treatment time {t0}.", fix="Choose a pre-treatment period.",
                                        code="placebo_time_invalid"))
        if problems:
            raise SpecError(problems)
        return self

    def data_columns(self) -> tuple[tuple[str, str], ...]:
        cols = [(self.unit, "design.unit"), (self.time, "design.time")]
        cols += [(p.column, f"design.predictors[{i}].column") for i, p in enumerate(self.predictors)]
        return tuple(cols)
