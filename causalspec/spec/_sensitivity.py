"""How fragile is the estimate?  Sensitivity bounds and refutation tests, on by default."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from causalspec.spec._base import _NAME, _Model

__all__ = ["SensitivitySpec", "REFUTATIONS"]

REFUTATIONS = ("placebo_treatment", "random_common_cause", "data_subsets", "placebo_outcome", "placebo_date")
Refutation = Literal["placebo_treatment", "random_common_cause", "data_subsets", "placebo_outcome", "placebo_date"]


class SensitivitySpec(_Model):
    """Sensitivity analysis (Cinelli & Hazlett 2020; E-values) and refutation tests for the estimate."""

    enabled: bool = Field(True, description="false turns every sensitivity step off (the report says so).")
    benchmarks: tuple[_NAME | tuple[_NAME, ...], ...] = Field(
        (), description="Observed covariates (or groups, as lists) that calibrate confounder strength; "
                        "empty: the planner's rule picks one (docs/sensitivity.md).")
    kd: tuple[float, ...] = Field((1.0, 2.0, 3.0), min_length=1, description="Multipliers of the benchmark's "
                                  "strength with the treatment.")
    ky: tuple[float, ...] | None = Field(None, description="Multipliers with the outcome (default: kd).")
    q: float = Field(1.0, gt=0, description="Fraction of the estimate to be explained away (1: to zero).")
    alpha: float = Field(0.05, gt=0, lt=1, description="Significance level for RV_q,alpha.")
    refutations: tuple[Refutation, ...] | None = Field(
        None, description="Refutation tests to run; left out: placebo_treatment, random_common_cause and data_subsets "
                          "(plus placebo_date for did and event_study designs); [] runs none; placebo_outcome needs "
                          "placebo_outcome.")
    placebo_outcome: _NAME | None = Field(
        None, description="A column the treatment cannot affect (e.g. measured before it), for placebo_outcome.")
    simulations: int = Field(100, ge=1, le=100_000, description="Replications of each random refutation.")
    subset_fraction: float = Field(0.8, gt=0, lt=1, description="Share of rows kept by the data_subsets test.")
    exclusion_bound: float | None = Field(
        None, gt=0, description="iv only: the largest direct effect of the instrument on the outcome (outcome units "
                                "per instrument unit) considered plausible; reports the Conley, Hansen & Rossi "
                                "(2012) union of confidence intervals over it. The breakdown value is always "
                                "reported.")
    all_adjustment_sets: bool = Field(
        False, description="Also estimate under every minimal adjustment set and the optimal set "
                           "(specification curve; same as run --all-adjustment-sets).")

    @field_validator("kd", "ky")
    @classmethod
    def _positive_multipliers(cls, value):
        if value is not None and any(v <= 0 for v in value):
            raise ValueError("every multiplier must be greater than 0 (1 means as strong as the benchmark)")
        return value

    @field_validator("benchmarks", "refutations", "kd", mode="before")
    @classmethod
    def _lists(cls, value):
        if isinstance(value, list):
            return tuple(tuple(v) if isinstance(v, list) else v for v in value)
        return value
