"""The ``interrupted_time_series`` design's schema: planned by ``causalspec.designs.interrupted_time_series``."""

from __future__ import annotations

from typing import Any, Literal, Union

from pydantic import Field, field_validator

from causalspec.errors import Problem, SpecError
from causalspec.spec._base import _NAME, _DesignModel, _Model

__all__ = ["InterruptedTimeSeriesDesign", "Seasonality"]

Period = Union[int, float, str]


class Seasonality(_Model):
    """Seasonal terms of the segmented regression (shared by the segments)."""

    period: int = Field(..., ge=2, le=1000, description="Periods per seasonal cycle (12 for monthly data, 4 for "
                                                        "quarterly, 7 for daily data with a weekly cycle).")
    terms: Literal["fourier", "dummies"] = Field(
        "fourier", description="fourier: sin(2 pi j time / period) and cos(2 pi j time / period) for j = 1.."
                               "harmonics (tsModel::harmonic / forecast::fourier; the sine at j = period / 2 is zero "
                               "and left out); dummies: one indicator per season but the first (season 1 is the "
                               "season of the first period), as lm(y ~ factor(season)).")
    harmonics: int | None = Field(None, ge=1, description="fourier only: the number of harmonics j (at most period "
                                                          "/ 2); left out: 2.")


class InterruptedTimeSeriesDesign(_DesignModel):
    """Interrupted time series: the outcome's level and trend before an interruption predict what would have followed without it."""

    type: Literal["interrupted_time_series"] = "interrupted_time_series"
    time: _NAME = Field(..., description="The period column: numbers equally spaced (1, 2, 3 or 1969, 1970 or "
                                         "1969.0, 1969.083), or text months 'YYYY-MM', quarters 'YYYY-Qn' or dates "
                                         "'YYYY-MM-DD'. One row per period (per series with a comparison); gaps "
                                         "and duplicates are refused.")
    interruptions: tuple[Period, ...] = Field(
        (), max_length=20, description="The first period of each post-interruption segment, as written in the time "
                                       "column (e.g. ['1983-02']); each adds a level and a slope change. Left out: "
                                       "the periods at which the treatment column changes value. The treatment "
                                       "must be 0 before the first interruption, non-zero from it, and change "
                                       "only at listed interruptions.")
    comparison: _NAME | None = Field(
        None, description="Comparative ITS: the column naming each series (one interrupted series, whose treatment "
                          "turns non-zero, and one or more comparison series, treatment 0 throughout). Every term "
                          "is interacted with group = 1 for the interrupted series (Linden 2015); the effects are "
                          "the group_level / group_trend coefficients.")
    seasonality: Seasonality | None = Field(None, description="Seasonal terms: {period: 12, terms: fourier, "
                                                              "harmonics: 2} or {period: 12, terms: dummies}.")
    variance: Literal["newey_west", "ar1_gls", "ols"] = Field(
        "newey_west", description="newey_west: OLS with sandwich::NeweyWest (one series; lag = NULL -> "
                                  "bwNeweyWest's automatic lag, prewhite = TRUE, adjust = FALSE), or with a "
                                  "comparison sandwich::vcovPL(cluster = ~ series, order.by = ~ time, aggregate = "
                                  "FALSE) (lag floor(T^(1/4)), adjust = TRUE); ar1_gls: GLS with AR(1) errors, "
                                  "nlme::gls(correlation = corAR1(form = ~ time | series)) (coefficients change "
                                  "too); ols: lm with inference.vcov (iid, or HC0-HC3 by sandwich::vcovHC).")
    lag: int | None = Field(None, ge=0, le=1000, description="newey_west only: the lag truncation (NeweyWest(lag = "
                                                             ") / vcovPL(lag = )); left out: the automatic rule.")
    prewhite: bool | None = Field(None, description="newey_west on one series only: VAR(1) prewhitening of the "
                                                    "scores (NeweyWest(prewhite = )); left out: TRUE, NeweyWest's "
                                                    "default. vcovPL has none, so it is refused with a comparison.")
    adjust: bool | None = Field(None, description="newey_west only: the n / (n - k) finite-sample factor "
                                                  "(NeweyWest / vcovPL adjust = ); left out: each function's "
                                                  "default (FALSE for NeweyWest, TRUE for vcovPL).")
    ar1_method: Literal["REML", "ML"] = Field("REML", description="ar1_gls only: nlme::gls(method = ): REML "
                                                                  "(gls's default) or ML.")
    autocorrelation_order: int | None = Field(
        None, ge=1, le=100, description="The order of the Breusch-Godfrey test of the OLS residuals "
                                        "(lmtest::bgtest(order = )); left out: the seasonal period when seasonality "
                                        "is modelled, else 1.")
    placebo_interruptions: tuple[Period, ...] | None = Field(
        None, max_length=20, description="Placebo interruptions: periods before the first interruption at which the "
                                         "model is refitted on the pre-period alone (the level and slope changes "
                                         "should be near zero). Left out: the periods at 1/4, 1/2 and 3/4 of the "
                                         "pre-period (those leaving 3 or more periods on each side); [] for none.")
    estimator: Literal["auto", "segmented"] = Field("auto", description="segmented: segmented regression with "
                                                                       "level and slope changes at the interruption.")

    @field_validator("interruptions", "placebo_interruptions", mode="before")
    @classmethod
    def _periods(cls, value: Any) -> Any:
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            value = [value]
        if isinstance(value, (list, tuple)):
            for i, v in enumerate(value):
                if isinstance(v, bool) or not isinstance(v, (str, int, float)):
                    raise SpecError(Problem("", f"item {i} ({v!r}) is not a period: write it as in the time column "
                                            "(a number, or text such as '1983-02').", fix="Write the period.",
                                            code="bad_period"))
            if len(set(map(str, value))) < len(value):
                raise SpecError(Problem("", "a period is listed twice.", fix="Remove the duplicate.",
                                        code="duplicate"))
            return tuple(value)
        return value

    def data_columns(self) -> tuple[tuple[str, str], ...]:
        out = [(self.time, "design.time")]
        if self.comparison is not None:
            out.append((self.comparison, "design.comparison"))
        return tuple(out)
