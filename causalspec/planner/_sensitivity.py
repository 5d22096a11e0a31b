"""Which sensitivity steps run after the fit, and with which options (``plan.sensitivity``)."""

from __future__ import annotations

from causalspec.errors import AdjustmentError, Problem
from causalspec.planner._records import LINEAR_ESTIMATORS, Estimator, ParallelTrendsPlan, SensitivityPlan
from causalspec.spec._sensitivity import BenchmarkGroups, ParallelTrendsSpec

__all__ = ["BENCHMARK_RULE", "plan_sensitivity"]

# ------------------------------------------------------------ 8. sensitivity
BENCHMARK_RULE = (
    "when the spec names no benchmark, the variable of the adjustment set with the largest partial R² with the "
    "treatment (given the rest of the model) is the benchmark: the strongest observed confounder calibrates "
    "how strong an unobserved one would have to be"
)


_NO_OVB = "omitted-variable-bias bounds need a linear outcome model; the E-value is reported instead"


def _parallel_trends(spec, fields: dict, event_study: bool) -> tuple[ParallelTrendsPlan | None, str]:
    """Rambachan-Roth sensitivity: run for event studies (with the defaults unless the spec sets them), refused
    where the design has no event-study coefficients to calibrate it."""
    given = spec.sensitivity.parallel_trends
    if not event_study:
        if given is not None:
            raise AdjustmentError(Problem(
                "sensitivity.parallel_trends", "parallel-trends sensitivity bounds the post-treatment violation by "
                "the pre-treatment ones, so it needs event-study coefficients before and after treatment; "
                f"design.type {spec.design.type} has none.", fix="Remove parallel_trends, or use design.type "
                "event_study.", code="parallel_trends_not_event_study"))
        if spec.design.type == "did":
            return None, ("a 2x2 difference-in-differences has no pre-treatment periods to calibrate violations of "
                          "parallel trends against; an event_study design reports Rambachan-Roth bounds")
        return None, ""
    settings = fields["settings"]
    if fields["estimator"] is Estimator.CALLAWAY_SANTANNA and getattr(settings, "base_period", "") != "universal":
        why = ("with did's varying base period the pre-treatment coefficients are one-period changes, not "
               "deviations from the period before treatment")
        if given is not None:
            raise AdjustmentError(Problem("design.base_period", f"parallel-trends sensitivity needs a universal base "
                                          f"period: {why}.", fix="Set design.base_period: universal.",
                                          code="parallel_trends_needs_universal_base"))
        return None, f"{why} (set design.base_period: universal)"
    pt = given if given is not None else ParallelTrendsSpec()
    return ParallelTrendsPlan(tuple(pt.restrictions), tuple(pt.mbar), tuple(pt.m) if pt.m is not None else None,
                              pt.target, pt.grid, pt.grid_points), ""


def _benchmark_groups(benchmarks) -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...], tuple[tuple[str, ...], ...]]:
    """The spec's benchmarks as (labels, groups of names, each name's field path)."""
    if isinstance(benchmarks, BenchmarkGroups):  # sensemakr's named list: the labels are the spec's
        pairs = benchmarks.groups()
        locs = tuple(tuple(f"sensitivity.benchmarks.{label}[{j}]" for j in range(len(group))) for label, group in pairs)
        return tuple(label for label, _ in pairs), tuple(group for _, group in pairs), locs
    labels, groups, locs = [], [], []
    for i, b in enumerate(benchmarks):
        group = b if isinstance(b, tuple) else (b,)
        labels.append("+".join(group))
        groups.append(group)
        locs.append((f"sensitivity.benchmarks[{i}]",) if not isinstance(b, tuple) else
                    tuple(f"sensitivity.benchmarks[{i}][{j}]" for j in range(len(group))))
    return tuple(labels), tuple(groups), tuple(locs)


# the sensitivity fields that only configure a step; "enabled" is the switch itself
SENSITIVITY_OPTIONS = ("benchmarks", "kd", "ky", "q", "alpha", "reduce", "refutations", "placebo_outcome",
                       "simulations", "subset_fraction", "exclusion_bound", "parallel_trends", "all_adjustment_sets")
# the fields only the omitted-variable-bias bounds read
OVB_OPTIONS = ("benchmarks", "kd", "ky", "q", "alpha", "reduce")


def _refuse_set_options(sens, names: tuple[str, ...], why: str) -> None:
    """A sensitivity option written in the spec that nothing will read is refused where it is written."""
    defaults = type(sens)()
    for name in names:
        value = getattr(sens, name)
        if value == getattr(defaults, name) or (name == "refutations" and value == ()):
            continue
        raise AdjustmentError(Problem(
            f"sensitivity.{name}", f"{name} would change nothing: {why}.", fix=f"Remove sensitivity.{name}.",
            code="sensitivity_option_unused"))


def plan_sensitivity(spec, fields: dict, *, default_refutations: tuple[str, ...], off_reason: str = "",
                     compares_adjustment_sets: bool = False, event_study: bool = False) -> SensitivityPlan:
    """Which sensitivity steps run: on by default for designs that rely on no unmeasured confounding.

    The family says which refutations it runs by default, why sensitivity bounds do not apply to it
    (``off_reason``, e.g. randomization) and whether it can compare adjustment sets (specification curve).
    """
    sens = spec.sensitivity
    estimator = fields["estimator"]
    if not sens.enabled:
        _refuse_set_options(sens, SENSITIVITY_OPTIONS, "sensitivity is turned off (sensitivity.enabled: false)")
        return SensitivityPlan(False, "turned off in the spec (sensitivity.enabled: false)")
    if not fields.get("identified", True):
        return SensitivityPlan(False, "the effect is not identified, so there is no estimate to stress")
    if off_reason:
        _refuse_set_options(sens, SENSITIVITY_OPTIONS, f"sensitivity does not run for this design: {off_reason}")
        return SensitivityPlan(False, off_reason)
    if estimator not in LINEAR_ESTIMATORS:
        _refuse_set_options(sens, OVB_OPTIONS, f"omitted-variable-bias bounds need a linear outcome model and "
                            f"{estimator.value} is not (the E-value is reported instead)")
    labels, benchmarks, fields_ = _benchmark_groups(sens.benchmarks)
    adjusted = set(fields.get("adjustment_set", ())) | set(fields.get("covariates", ()))
    for group, where in zip(benchmarks, fields_):
        for name, loc in zip(group, where):
            if name not in adjusted:
                raise AdjustmentError(Problem(
                    loc, f"{name!r} is not in the model, so it cannot calibrate confounder strength.",
                    fix=f"Use a variable of the adjustment set or covariates: {sorted(adjusted) or 'none'}.",
                    code="benchmark_not_in_model"))
    refutations = sens.refutations
    if refutations is None:  # the design's default suite
        refutations = default_refutations
    if "placebo_outcome" in refutations and sens.placebo_outcome is None:
        raise AdjustmentError(Problem(
            "sensitivity.refutations", "placebo_outcome is listed but no placebo outcome column is named.",
            fix="Set sensitivity.placebo_outcome to a column the treatment cannot affect, or drop the test.",
            code="placebo_outcome_missing"))
    if "placebo_date" in refutations and "placebo_date" not in default_refutations:
        raise AdjustmentError(Problem(
            "sensitivity.refutations", "placebo_date applies to difference-in-differences designs.",
            fix="Remove placebo_date, or use design.type did.", code="placebo_date_not_did"))
    linear = estimator in LINEAR_ESTIMATORS
    if linear:
        rule = "named in the spec" if benchmarks else (BENCHMARK_RULE if adjusted else
                                                       "no observed covariate in the model, so no benchmark")
        reason = ("the estimate relies on no unmeasured confounding given the adjustment set, so how strong an "
                  "unmeasured confounder would have to be is measured by default")
    else:
        rule = ""
        reason = f"the estimate relies on no unmeasured confounding, so its fragility is measured by default ({_NO_OVB})"
    if sens.exclusion_bound is not None and spec.design.type != "iv":
        raise AdjustmentError(Problem(
            "sensitivity.exclusion_bound", "the exclusion bound is about an instrument's direct effect on the "
            "outcome, so it applies to design.type iv only.", fix="Remove exclusion_bound.",
            code="exclusion_bound_not_iv"))
    if sens.all_adjustment_sets and not compares_adjustment_sets:
        raise AdjustmentError(Problem(
            "sensitivity.all_adjustment_sets", "the specification curve compares adjustment sets of an "
            "observational design.", fix="Remove all_adjustment_sets.", code="spec_curve_not_observational"))
    refutations = tuple(refutations)
    parallel_trends, pt_reason = _parallel_trends(spec, fields, event_study)
    return SensitivityPlan(
        enabled=True, reason=reason, benchmarks=benchmarks, benchmark_labels=labels, reduce=sens.reduce,
        benchmark_rule=rule, kd=tuple(sens.kd),
        ky=tuple(sens.ky) if sens.ky is not None else None, q=sens.q, alpha=sens.alpha,
        refutations=refutations, placebo_outcome=sens.placebo_outcome, simulations=sens.simulations,
        subset_fraction=sens.subset_fraction, all_adjustment_sets=sens.all_adjustment_sets,
        exclusion_bound=sens.exclusion_bound, parallel_trends=parallel_trends, parallel_trends_reason=pt_reason)

