"""Designs identified from the DAG by adjustment (observational) or by randomization (experiment)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ._base import _Model

__all__ = ["ObservationalDesign", "ExperimentDesign", "MatchingOptions"]


class MatchingOptions(_Model):
    """Nearest-neighbour matching on the propensity score (MatchIt method "nearest", distance "glm")."""

    ratio: int = Field(1, ge=1, le=20, description="Controls per treated unit (k:1 matching).")
    replace: bool = Field(False, description="Match with replacement (a control may be reused).")
    caliper: float | None = Field(None, gt=0, description="Caliper in standard deviations of the distance.")
    algorithm: Literal["matchit-4.5.1", "exact"] = Field(
        "matchit-4.5.1", description="matchit-4.5.1: MatchIt 4.5.1's matched sets exactly (including its integer "
                                     "abs() on distances); exact: real distance differences (docs/propensity.md).")


class ObservationalDesign(_Model):
    """Observational data: the effect is identified from the DAG by adjustment (backdoor criterion)."""

    type: Literal["observational"] = "observational"
    estimator: Literal["auto", "ols", "ipw", "aipw", "matching"] = Field(
        "auto",
        description=(
            "ols: regression adjustment on the planner's adjustment set; ipw: inverse probability weighting; "
            "aipw: augmented IPW (doubly robust); matching: nearest-neighbour matching on the propensity score "
            "(MatchIt); auto: see docs/planner.md."
        ),
    )
    matching: MatchingOptions = Field(default_factory=MatchingOptions, description="Options of estimator matching.")
    trim: Literal["none", "crump"] = Field(
        "none", description="ipw / aipw: crump drops units outside Crump et al. (2009)'s optimal overlap region "
                            "(counted in the dropped rows).")


class ExperimentDesign(_Model):
    """A randomised experiment: treatment assigned at random, so no adjustment is needed for identification."""

    type: Literal["experiment"] = "experiment"
    estimator: Literal["auto", "difference_in_means", "lin"] = Field(
        "auto",
        description=(
            "difference_in_means: Welch / Neyman (estimatr::difference_in_means); lin: Lin (2013) covariate "
            "adjustment with centred covariates interacted with treatment (estimatr::lm_lin); auto: lin when "
            "covariates are given, else difference_in_means."
        ),
    )
    planned_split: float | None = Field(
        0.5, gt=0, lt=1, description="Planned share of units in the treatment arm: the sample-ratio-mismatch "
                                     "check tests the observed split against it (null: no check).")
    srm_alpha: float = Field(0.001, gt=0, lt=1, description="p-value below which the split is a mismatch "
                                                             "(a broken test).")
