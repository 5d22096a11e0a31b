"""Typed, frozen per-family plan settings: what a design's fitter needs beyond the shared Plan fields.

One record per design family (the names follow ``spec/`` and ``designs/``).  Every field is hashable (tuples,
frozen pydantic models), so a Plan is hashable; ``to_dict()`` gives the JSON the plan has always written.
``with_regressor(name)`` is the hook refutations use to add a random common cause to the model.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from causalspec.formula import quote_name

__all__ = ["Settings", "NoSettings", "WildSettings", "PropensitySettings", "MatchingSettings",
           "ObservationalSettings", "FrontDoorSettings", "ExperimentSettings", "PanelSettings", "IVSettings", "DiDSettings",
           "EventStudySettings"]


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if hasattr(value, "to_dict"):
        return value.to_dict()
    return value


class Settings:
    """Base of the per-family settings records."""

    _omit_none: tuple[str, ...] = ()  # optional groups left out of the JSON when unset

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if value is None and f.name in self._omit_none:
                continue
            if isinstance(value, (PropensitySettings, MatchingSettings)):
                out.update(value.to_dict())
                continue
            out[f.name] = _plain(value)
        return out

    def items(self):
        return self.to_dict().items()

    def with_regressor(self, name: str) -> "Settings":
        """The settings with one more (pre-treatment) regressor in the model; the default has no list."""
        return self


@dataclass(frozen=True)
class NoSettings(Settings):
    """A design whose fitter needs nothing beyond the Plan's shared fields."""


@dataclass(frozen=True)
class WildSettings(Settings):
    """The wild cluster bootstrap (``inference.wild_bootstrap``)."""

    weights: str
    draws: int


@dataclass(frozen=True)
class PropensitySettings(Settings):
    """The propensity model: ``treatment ~ adjustment set + covariates``, logistic."""

    propensity_formula: str
    propensity_model: str = "logistic"


@dataclass(frozen=True)
class MatchingSettings(Settings):
    """design.matching, as the matching fitter reads it."""

    ratio: int
    replace: bool
    caliper: float | None
    algorithm: str
    distance: str


@dataclass(frozen=True)
class ObservationalSettings(Settings):
    """Observational design: the propensity model and matching / weighting options, or the wild bootstrap."""

    propensity: PropensitySettings | None = None
    matching: MatchingSettings | None = None
    trim: str | None = None
    learner: str | None = None
    folds: int | None = None
    wild_bootstrap: WildSettings | None = None
    _omit_none = ("propensity", "matching", "trim", "learner", "folds", "wild_bootstrap")

    def with_regressor(self, name: str) -> "ObservationalSettings":
        if self.propensity is None:
            return self
        p = self.propensity
        return replace(self, propensity=replace(p, propensity_formula=f"{p.propensity_formula} + {quote_name(name)}"))


@dataclass(frozen=True)
class FrontDoorSettings(Settings):
    """The front-door estimator: the mediators the effect runs through and the bootstrap draws of its SE."""

    mediators: tuple[str, ...]
    draws: int


@dataclass(frozen=True)
class ExperimentSettings(Settings):
    """Experiment design: planned split, SRM threshold, metric, CUPED, guardrails and decision rule."""

    planned_split: float | None
    srm_alpha: float
    metric: Any  # causalspec.spec.experiment.Metric (frozen)
    cuped: str | None
    guardrails: tuple[Any, ...]  # causalspec.spec.experiment.Guardrail (frozen)
    decision: Any | None  # causalspec.spec.experiment.Decision (frozen)


@dataclass(frozen=True)
class PanelSettings(Settings):
    """Fixed effects: the regressors besides the treatment, the fixed effects and singleton handling."""

    regressors: tuple[str, ...]
    fixed_effects: tuple[str, ...]
    fixef_rm: str
    wild_bootstrap: WildSettings | None = None
    model_formula: str | None = None
    _omit_none = ("wild_bootstrap", "model_formula")

    def with_regressor(self, name: str) -> "PanelSettings":
        return replace(self, regressors=(*self.regressors, name))


@dataclass(frozen=True)
class IVSettings(Settings):
    """Instrumental variables: instruments, exogenous regressors, fixed effects."""

    instruments: tuple[str, ...]
    exogenous: tuple[str, ...]
    fixed_effects: tuple[str, ...]
    model_formula: str | None = None
    _omit_none = ("model_formula",)

    def with_regressor(self, name: str) -> "IVSettings":
        return replace(self, exogenous=(*self.exogenous, name))


@dataclass(frozen=True)
class DiDSettings(Settings):
    """2x2 difference in differences: the group and post columns and the interaction term."""

    group: str
    post: str
    did_term: str


@dataclass(frozen=True)
class EventStudySettings(Settings):
    """Event studies (TWFE, Sun & Abraham, Callaway & Sant'Anna): timing columns and options."""

    unit: str
    time: str
    first_treated: str | None
    relative_time: str | None
    treated: str | None
    reference: int
    control_group: str
    est_method: str
    anticipation: int
    covariates: tuple[str, ...]
    window: tuple[int, int] | None
    bin_endpoints: bool
    model_formula: str | None = None
    _omit_none = ("model_formula",)
