"""The two records the spine needs from a design family: what a fitter returns (:class:`Fit`) and the family
itself (:class:`Family`).  See docs/architecture.md."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from causalspec._values import Estimate

__all__ = ["EventCoefficients", "Fit", "Family"]


@dataclass(frozen=True)
class EventCoefficients:
    """An event study's coefficients by period relative to treatment (the reference period left out) and their
    covariance: what parallel-trends sensitivity (Rambachan & Roth) reads."""

    relative_times: tuple[int, ...]
    beta: Any
    sigma: Any
    reference: int


@dataclass(frozen=True)
class Fit:
    """What a fitter returns: the numbers, and the fitted models the sensitivity step needs.

    ``regressions`` is the outcome model as :class:`causalspec.sensitivity.Regressions` when the effect is a
    coefficient of one linear model (omitted-variable-bias bounds use it), else None; ``pair_differences`` the
    matched-pair outcome differences (Rosenbaum bounds); ``outcome_sd`` the outcome's SD (the E-value).
    ``extras`` holds design-specific results as JSON types (first stages, event-study coefficients, balance
    tables); ``warnings`` are shown before any effect (a sample-ratio mismatch, poor overlap).
    """

    effect: Estimate
    naive: Estimate
    rows: tuple[Estimate, ...]
    vcov_terms: tuple[str, ...]
    vcov_matrix: Any
    nobs: int
    dropped: tuple[tuple[str, int], ...] = ()
    notes: tuple[str, ...] = ()
    stats: tuple[tuple[str, float], ...] = ()
    extras: dict = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    regressions: Any = None
    outcome_sd: float | None = None
    pair_differences: Any = None
    n_input: int | None = None
    iv_arrays: Any = None  # sensitivity._plausibly_exogenous.ExclusionInputs, for the exclusion sensitivity
    control_risk: float | None = None  # a 0/1 outcome's mean among the controls analysed (E-value on the RR scale)
    event_vcov: Any = None  # EventCoefficients, for parallel-trends sensitivity (or a str: why there are none)


@dataclass(frozen=True)
class Family:
    """Everything the spine knows about one design type (``spec.design.type``).

    plan
        ``(spec, dag) -> dict`` of Plan fields; data-free.
    fitters
        the estimators the family offers, each ``(plan, frame) -> Fit``.
    vcov
        ``(inference, plan) -> VcovPlan``: the family's variance rule, used by ``plan()`` and by
        ``Result.with_vcov`` (which therefore names the right R call or refuses with a located error).
    checks
        ``(plan, frame, fit) -> Fit`` run after the fit (sample-ratio mismatch, balance), in order.
    default_refutations
        the refutation tests run when the spec names none.
    sensitivity_off
        why sensitivity bounds do not apply to the family ("" when they do).
    compares_adjustment_sets
        whether the specification curve across adjustment sets applies.
    event_study_coefficients
        whether the family's fits carry event-study coefficients before and after treatment with their
        covariance (``Fit.event_vcov``), so parallel-trends sensitivity applies.
    model_formula
        whether a fixest-style ``model.formula`` may replace the design's formula (it is planned by the family
        its syntax names: ``| fe`` panel, ``| d ~ z`` iv, ``sunab()`` / ``i()`` event_study).
    figures
        the figure names report and archive draw for this family.
    """

    type: str
    plan: Callable[..., dict]
    fitters: Mapping[Any, Callable[..., Fit]]
    vcov: Callable[..., Any]
    checks: tuple[Callable[..., Fit], ...] = ()
    default_refutations: tuple[str, ...] = ("placebo_treatment", "random_common_cause", "data_subsets")
    sensitivity_off: str = ""
    compares_adjustment_sets: bool = False
    event_study_coefficients: bool = False
    model_formula: bool = False
    figures: tuple[str, ...] = ("estimates",)
