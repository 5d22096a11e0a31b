"""How fragile is the estimate?  Sensitivity bounds and refutation tests, on by default."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import ConfigDict, Field, RootModel, field_validator, model_validator

from causalspec.errors import Problem, SpecError
from causalspec.spec._base import _NAME, _Model

__all__ = ["BenchmarkGroups", "ParallelTrendsSpec", "SensitivitySpec", "REFUTATIONS"]

REFUTATIONS = ("placebo_treatment", "random_common_cause", "data_subsets", "placebo_outcome", "placebo_date")
Refutation = Literal["placebo_treatment", "random_common_cause", "data_subsets", "placebo_outcome", "placebo_date"]


class ParallelTrendsSpec(_Model):
    """How much may parallel trends fail?  Rambachan & Roth (2023) robust confidence sets for an event study, as
    the HonestDiD R package computes them (docs/sensitivity.md, "Parallel trends")."""

    restrictions: tuple[Literal["relative_magnitudes", "smoothness"], ...] = Field(
        ("relative_magnitudes", "smoothness"), min_length=1,
        description="relative_magnitudes: post-treatment violations at most Mbar times the largest pre-treatment "
                    "one (C-LF confidence sets); smoothness: the violation's slope changes by at most M per period "
                    "(optimal FLCIs).")
    mbar: tuple[float, ...] = Field((0.5, 1.0, 1.5, 2.0), min_length=1,
                                    description="Values of Mbar for relative_magnitudes.")
    m: tuple[float, ...] | None = Field(
        None, min_length=1, description="Values of M for smoothness (outcome units per period squared); left out: "
                                        "5 values from 0 to HonestDiD's DeltaSD_upperBound_Mpre.")
    target: Literal["first", "average"] = Field(
        "first", description="The effect the sets are for: the first post-treatment period (HonestDiD's default) "
                             "or the average of the post-treatment periods.")
    grid: Literal["centred", "symmetric"] = Field(
        "centred", description="relative_magnitudes' candidate values: centred on the estimate and widened with "
                               "Mbar (Stata honestdid; HonestDiD's README examples), or symmetric, [-20, 20] "
                               "standard errors around zero (HonestDiD master's default, which can cut large "
                               "sets off).")
    grid_points: int = Field(1000, ge=10, le=100_000, description="Candidate values tested (HonestDiD: 1000).")

    @field_validator("mbar", "m")
    @classmethod
    def _non_negative(cls, value):
        if value is not None and any(v < 0 for v in value):
            raise ValueError("every bound must be 0 or more (0: no violation beyond the pre-trend's)")
        return value

    @field_validator("restrictions", "mbar", "m", mode="before")
    @classmethod
    def _lists(cls, value):
        return tuple(value) if isinstance(value, list) else value

    @model_validator(mode="after")
    def _fields_of_the_chosen_restrictions(self):
        unused = {"mbar": "relative_magnitudes", "grid": "relative_magnitudes", "grid_points": "relative_magnitudes",
                  "m": "smoothness"}
        for name, restriction in unused.items():
            if name in self.model_fields_set and restriction not in self.restrictions:
                raise ValueError(f"{name} is read by the {restriction} restriction, which restrictions leaves out: "
                                 f"add {restriction} to restrictions or remove {name}")
        return self


class BenchmarkGroups(RootModel[dict[_NAME, tuple[_NAME, ...]]]):
    """Labelled benchmark groups, ``{employment_income: [qemp86, inc86]}``: sensemakr's named list of
    ``benchmark_covariates`` (each group benchmarked jointly; its label names the bounds, "1x employment_income")."""

    model_config = ConfigDict(frozen=True, str_strip_whitespace=True)

    def groups(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """(label, names) pairs in the order written."""
        return tuple(self.root.items())

    def __hash__(self) -> int:  # frozen like every spec model, so a spec stays hashable
        return hash(self.groups())


_BENCHMARKS_FIX = ("Write benchmarks as a list of model variables ([female, age]), lists for groups "
                   "([[female, pastvoted]]), or labelled groups ({employment_income: [qemp86, inc86]}).")


def _benchmark_name(value: Any, loc: str, problems: list[Problem]) -> str:
    """One benchmark variable name (stripped); a bad one adds a located problem saying what to write."""
    if isinstance(value, str) and value.strip() and len(value.strip()) <= 200:
        return value.strip()
    what = ("an empty name" if isinstance(value, str) and not value.strip() else
            "a name longer than 200 characters" if isinstance(value, str) else f"{value!r}, not a name")
    problems.append(Problem(loc, f"a benchmark is a variable of the model; got {what}.",
                            fix="Write the variable's name (a column of the adjustment set or covariates).",
                            code="benchmark_invalid"))
    return ""


def _benchmark_group(value: Any, loc: str, problems: list[Problem]) -> tuple[str, ...]:
    """A group of benchmark names (a single name is a group of one)."""
    if isinstance(value, str):
        return (_benchmark_name(value, loc, problems),)
    if not isinstance(value, (list, tuple)):
        problems.append(Problem(loc, f"a benchmark group is a list of model variables; got {value!r}.",
                                fix=_BENCHMARKS_FIX, code="benchmark_invalid"))
        return ()
    if not value:
        problems.append(Problem(loc, "the benchmark group is empty, so it has no strength to calibrate with.",
                                fix="List the model variables that form the group, or remove it.",
                                code="benchmark_group_empty"))
    return tuple(_benchmark_name(v, f"{loc}[{j}]", problems) for j, v in enumerate(value))


def _benchmarks(value: Any, problems: list[Problem]):
    """``sensitivity.benchmarks`` checked and normalised: a tuple of names and groups, or BenchmarkGroups."""
    if isinstance(value, BenchmarkGroups):
        return value
    if isinstance(value, str):  # sensemakr's character vector of length one
        return (_benchmark_name(value, "benchmarks", problems),)
    if isinstance(value, Mapping):
        groups: dict[str, tuple[str, ...]] = {}
        for label, names in value.items():
            if not isinstance(label, str) or not label.strip():
                problems.append(Problem("benchmarks", f"a benchmark group's label must be text, got {label!r}.",
                                        fix="Quote the label (it names the bounds, as in '1x employment_income').",
                                        code="benchmark_invalid"))
                continue
            groups[label.strip()] = _benchmark_group(names, f"benchmarks.{label.strip()}", problems)
        return value if problems else BenchmarkGroups(groups)
    if isinstance(value, (list, tuple)):
        return tuple(_benchmark_group(v, f"benchmarks[{i}]", problems) if isinstance(v, (list, tuple))
                     else _benchmark_name(v, f"benchmarks[{i}]", problems) for i, v in enumerate(value))
    problems.append(Problem("benchmarks", f"benchmarks must be a list or a mapping of labelled groups, got "
                            f"{value!r}.", fix=_BENCHMARKS_FIX, code="benchmark_invalid"))
    return value


class SensitivitySpec(_Model):
    """Sensitivity analysis (Cinelli & Hazlett 2020; E-values) and refutation tests for the estimate."""

    enabled: bool = Field(True, description="false turns every sensitivity step off (the report says so).")
    benchmarks: tuple[_NAME | tuple[_NAME, ...], ...] | BenchmarkGroups = Field(
        (), description="Observed covariates that calibrate confounder strength: a list of model variables, each "
                        "benchmarked alone (a list inside it: a group, labelled a+b), or labelled groups "
                        "{employment_income: [qemp86, inc86]}, each benchmarked jointly and naming its bounds "
                        "(1x employment_income), as sensemakr's named list of benchmark_covariates; empty: the "
                        "planner's rule picks one (docs/sensitivity.md).")
    kd: tuple[float, ...] = Field((1.0, 2.0, 3.0), min_length=1, description="Multipliers of the benchmark's "
                                  "strength with the treatment.")
    ky: tuple[float, ...] | None = Field(None, description="Multipliers with the outcome (default: kd).")
    q: float = Field(1.0, gt=0, description="Fraction of the estimate to be explained away (1: to zero).")
    alpha: float = Field(0.05, gt=0, lt=1, description="Significance level for RV_q,alpha.")
    reduce: bool = Field(
        True, strict=True, description="sensemakr's reduce argument: true (the default) asks about confounding "
                                       "that reduces the absolute value of the estimate, to (1 - q) times it; "
                                       "false, confounding that increases it, to (1 + q) times it (adjusted "
                                       "estimates, intervals and t-values move away from zero).")
    refutations: tuple[Refutation, ...] | None = Field(
        None, description="Refutation tests to run; left out: placebo_treatment, random_common_cause and data_subsets "
                          "(plus placebo_date for did and event_study designs); [] runs none; placebo_outcome needs "
                          "placebo_outcome.")
    placebo_outcome: _NAME | None = Field(
        None, description="A column the treatment cannot affect (e.g. measured before it), for placebo_outcome.")
    simulations: int = Field(100, ge=1, le=100_000, description="Replications of each random refutation.")
    subset_fraction: float = Field(0.8, gt=0, lt=1, description="Share of rows kept by the data_subsets test.")
    exclusion_bound: float | None = Field(
        None, gt=0, description="iv only: the largest direct effect of each instrument on the outcome (outcome "
                                "units per unit of that instrument) considered plausible; reports the Conley, Hansen & Rossi "
                                "(2012) union of confidence intervals over it. The breakdown value is always "
                                "reported.")
    parallel_trends: ParallelTrendsSpec | None = Field(
        None, description="event_study only: Rambachan-Roth sensitivity to violations of parallel trends "
                          "(computed with the defaults when left out).")
    all_adjustment_sets: bool = Field(
        False, description="Also estimate under every minimal adjustment set and the optimal set "
                           "(specification curve; same as run --all-adjustment-sets).")

    @field_validator("kd", "ky")
    @classmethod
    def _positive_multipliers(cls, value):
        if value is not None and any(v <= 0 for v in value):
            raise ValueError("every multiplier must be greater than 0 (1 means as strong as the benchmark)")
        return value

    @model_validator(mode="before")
    @classmethod
    def _benchmarks_and_reduce(cls, data: Any) -> Any:
        # Checked here, not by the union of types, so a problem names the group and the name at fault
        # (sensitivity.benchmarks.employment_income[1]) once, with the fix, instead of one error per union member.
        if not isinstance(data, dict):
            return data
        problems: list[Problem] = []
        if "reduce" in data and not isinstance(data["reduce"], bool):
            problems.append(Problem("reduce", f"reduce is true or false, got {data['reduce']!r}.",
                                    fix="Write reduce: true (confounding reduces the absolute value of the "
                                        "estimate, sensemakr's default) or reduce: false (it increases it).",
                                    code="reduce_not_bool"))
        if "benchmarks" in data:
            data = {**data, "benchmarks": _benchmarks(data["benchmarks"], problems)}
        if problems:
            raise SpecError(problems)
        return data

    @field_validator("refutations", "kd", mode="before")
    @classmethod
    def _lists(cls, value):
        if isinstance(value, list):
            return tuple(tuple(v) if isinstance(v, list) else v for v in value)
        return value
