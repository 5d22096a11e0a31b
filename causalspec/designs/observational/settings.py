"""The observational family's typed plan settings: what its fitters read beyond the shared Plan fields."""

from __future__ import annotations

from dataclasses import dataclass, replace

from causalspec.formula import quote_name
from causalspec.planner._settings import Settings, WildSettings

__all__ = ["HeterogeneitySettings", "PropensitySettings", "MatchingSettings", "FrontDoorSettings", "ObservationalSettings"]


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
    _omit_none = ("propensity", "matching", "trim", "learner", "folds", "wild_bootstrap", "heterogeneity",
                  "outcome_formula")
    _flatten = ("propensity", "matching")

    def with_regressor(self, name: str) -> "ObservationalSettings":
        if self.propensity is None:
            return self
        p = self.propensity
        return replace(self, propensity=replace(p, propensity_formula=f"{p.propensity_formula} + {quote_name(name)}"))
