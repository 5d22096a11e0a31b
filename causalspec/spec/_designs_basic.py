"""Designs identified from the DAG by adjustment (observational) or by randomization (experiment)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ._base import _Model

__all__ = ["ObservationalDesign", "ExperimentDesign"]


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
