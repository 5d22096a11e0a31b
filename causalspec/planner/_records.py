"""The records a Plan is made of: the estimator and strategy enums, node decisions, variance and sensitivity plans."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

__all__ = ["Estimator", "Strategy", "LINEAR_ESTIMATORS", "NodeDecision", "VcovPlan", "SensitivityPlan",
           "ParallelTrendsPlan"]


class Estimator(str, Enum):
    """The estimators the planner can choose (a typed registry key, never a free string)."""

    OLS = "ols"
    DIFFERENCE_IN_MEANS = "difference_in_means"
    LIN = "lin"
    IPW = "ipw"
    AIPW = "aipw"
    RA = "ra"
    IPW_RA = "ipw_ra"
    AIPW_WLS = "aipw_wls"
    MATCHING = "matching"
    PS_REGRESSION = "ps_regression"
    FEOLS = "feols"
    IV_2SLS = "2sls"
    DID_2X2 = "did_2x2"
    TWFE = "twfe"
    EVENT_STUDY = "event_study_twfe"
    SUN_ABRAHAM = "sun_abraham"
    CALLAWAY_SANTANNA = "callaway_santanna"
    DRDID = "drdid"
    FRONT_DOOR = "front_door"
    RDROBUST = "rdrobust"
    SYNTH = "synth"
    SYNTHDID = "synthdid"
    SEGMENTED = "segmented_regression"


# Estimators whose effect is a coefficient of one linear model: omitted-variable-bias bounds
# (Cinelli & Hazlett 2020) apply to them directly.
LINEAR_ESTIMATORS = frozenset({Estimator.OLS, Estimator.FEOLS, Estimator.DID_2X2, Estimator.TWFE})


class Strategy(str, Enum):
    """How the effect is identified."""

    BACKDOOR = "backdoor adjustment"
    RANDOMIZATION = "randomization"
    INSTRUMENTAL_VARIABLES = "instrumental variables"
    FIXED_EFFECTS = "fixed effects (within-unit comparison)"
    PARALLEL_TRENDS = "difference in differences (parallel trends)"
    FRONT_DOOR = "front-door criterion"
    DISCONTINUITY = "regression discontinuity (continuity at the cutoff)"
    SYNTHETIC_CONTROL = "synthetic control (the donors reproduce the treated unit before treatment)"
    INTERRUPTED_TIME_SERIES = "interrupted time series (no concurrent change at the interruption)"
    NOT_IDENTIFIED = "not identified"


@dataclass(frozen=True)
class NodeDecision:
    """One DAG node: its role relative to (treatment, outcome), whether it is adjusted for, and why."""

    node: str
    role: str
    adjusted: bool
    reason: str


@dataclass(frozen=True)
class VcovPlan:
    """The variance estimator and the R call whose numbers it reproduces."""

    kind: str
    cluster: tuple[str, ...]
    level: float
    r_equivalent: str


@dataclass(frozen=True)
class SensitivityPlan:
    """Which sensitivity steps run after the fit, and why (or why not)."""

    enabled: bool
    reason: str
    benchmarks: tuple[tuple[str, ...], ...] = ()  # groups of model variables (one name: benchmarked alone)
    benchmark_rule: str = ""
    kd: tuple[float, ...] = (1.0, 2.0, 3.0)
    ky: tuple[float, ...] | None = None
    q: float = 1.0
    alpha: float = 0.05
    refutations: tuple[str, ...] = ()
    placebo_outcome: str | None = None
    simulations: int = 100
    subset_fraction: float = 0.8
    all_adjustment_sets: bool = False
    exclusion_bound: float | None = None
    parallel_trends: "ParallelTrendsPlan | None" = None
    parallel_trends_reason: str = ""  # why parallel-trends sensitivity is not run ("" when it is, or n/a)
    # One label per benchmark group, naming its bounds ("1x employment_income"): the spec's label for a labelled
    # group (sensemakr's named list), else the name, or the names joined with "+" for a list group.
    benchmark_labels: tuple[str, ...] = ()
    reduce: bool = True  # sensemakr's reduce: confounding assumed to reduce (True) or increase |estimate|


@dataclass(frozen=True)
class ParallelTrendsPlan:
    """Rambachan-Roth sensitivity settings (``sensitivity.parallel_trends``), data-free."""

    restrictions: tuple[str, ...]
    mbar: tuple[float, ...]
    m: tuple[float, ...] | None
    target: str
    grid: str
    grid_points: int
