"""The observational family's typed plan settings: what its fitters read beyond the shared Plan fields."""

from __future__ import annotations

from dataclasses import dataclass, replace

from causalspec.formula import quote_name
from causalspec.planner._settings import Settings, WildSettings

__all__ = ["HeterogeneitySettings", "PropensitySettings", "MatchingSettings", "FrontDoorSettings", "PSRegressionSettings",
           "ObservationalSettings"]


@dataclass(frozen=True)
class PropensitySettings(Settings):
    """The propensity model: ``treatment ~ adjustment set + covariates`` (or the spec's terms), a binomial GLM
    with ``link`` (logit, probit or cloglog)."""

    propensity_formula: str
    link: str = "logit"


@dataclass(frozen=True)
class MatchingSettings(Settings):
    """design.matching, as the matching fitter reads it: MatchIt's method and the options that method reads
    (the others are None: ratio, replace, caliper and algorithm for nearest; exact for nearest; cutpoints for cem,
    as (covariate, bins or cut points) pairs; subclasses for subclass; distance for nearest and subclass)."""

    ratio: int | None
    replace: bool | None
    caliper: float | None
    algorithm: str | None
    distance: str | None
    method: str = "nearest"
    exact: tuple[str, ...] | None = None
    cutpoints: tuple[tuple[str, int | tuple[float, ...]], ...] | None = None
    subclasses: int | None = None


@dataclass(frozen=True)
class PSRegressionSettings(Settings):
    """Propensity-score regression: the score's form (linear, quadratic, strata), the number of strata, and the rows
    the score is fitted to (analysed, or with_missing_outcome: the outcome is then read with missing values)."""

    score: str = "linear"
    strata: int | None = None
    score_rows: str = "analysed"
    outcome: str | None = None  # the outcome column, read with missing values when score_rows is with_missing_outcome
    _omit_none = ("strata", "outcome")


@dataclass(frozen=True)
class FrontDoorSettings(Settings):
    """The front-door estimator: the mediators the effect runs through and the bootstrap draws of its SE."""

    mediators: tuple[str, ...]
    draws: int


@dataclass(frozen=True)
class HeterogeneitySettings(Settings):
    """Effect modification in OLS: the treatment interacted with each centred modifier; ``at`` pairs a modifier
    with the values its conditional effect is reported at (empty: the fitter's default values)."""

    modifiers: tuple[str, ...]
    at: tuple[tuple[str, tuple], ...] = ()


@dataclass(frozen=True)
class ObservationalSettings(Settings):
    """Observational design: the propensity model and matching / weighting options, or the wild bootstrap."""

    propensity: PropensitySettings | None = None
    matching: MatchingSettings | None = None
    trim: str | None = None
    learner: str | None = None
    folds: int | None = None
    wild_bootstrap: WildSettings | None = None
    heterogeneity: HeterogeneitySettings | None = None
    outcome_formula: str | None = None  # the arm-specific outcome model of ra, ipw_ra, aipw and aipw_wls
    ipw_weights: str | None = None  # ipw: normalized (Hajek, teffects ipw) or horvitz_thompson
    ps_regression: PSRegressionSettings | None = None
    _omit_none = ("propensity", "matching", "trim", "learner", "folds", "wild_bootstrap", "heterogeneity",
                  "outcome_formula", "ipw_weights", "ps_regression")

    @property
    def partial_columns(self) -> tuple[str, ...]:
        """The outcome, read with missing values allowed, when the propensity score is fitted to the rows that lack
        it too (ps_regression, score_rows: with_missing_outcome); the fitter drops those rows after the score."""
        p = self.ps_regression
        return (p.outcome,) if p is not None and p.outcome else ()
    _flatten = ("propensity", "matching")

    def with_regressor(self, name: str) -> "ObservationalSettings":
        if self.propensity is None:
            return self
        p = self.propensity
        return replace(self, propensity=replace(p, propensity_formula=f"{p.propensity_formula} + {quote_name(name)}"))
