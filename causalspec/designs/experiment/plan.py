"""Planning a randomized experiment: identified by randomization; difference in means or Lin (2013)."""

from __future__ import annotations

from causalspec.designs._common import plan_fields
from causalspec.designs.observational.plan import refuse_model_formula
from causalspec.errors import AdjustmentError, Problem, UnsupportedError
from causalspec.formula import quote_name
from causalspec.graph import DAG, adjustment_sets, optimal_adjustment_set
from causalspec.planner import Estimator, Identification, Strategy, VcovPlan
from causalspec.planner._backdoor import check_covariates
from causalspec.designs.experiment.settings import ExperimentSettings

__all__ = ["ESTIMATOR_RULE", "plan_experiment", "experiment_vcov"]

ESTIMATOR_RULE = ("experiment, estimator auto: Lin (2013) when covariates are given, else the difference in means")


def plan_experiment(spec, dag: DAG) -> dict:
    refuse_model_formula(spec)
    ident = _identify(spec, dag)
    extra = check_covariates(spec, dag, ident)  # refuses covariates the treatment affects
    estimator, why = _choose_estimator(spec)
    y, x = quote_name(spec.outcome), quote_name(spec.treatment)
    naive = f"{y} ~ {x}"
    formula = naive
    if estimator is Estimator.LIN:
        formula = f"{y} ~ {x}, covariates = ~ {' + '.join(quote_name(c) for c in spec.covariates)}"
    if spec.inference.wild_bootstrap is not None:
        raise UnsupportedError(Problem(
            "inference.wild_bootstrap", f"the wild cluster bootstrap is available for OLS regression adjustment and "
            f"fixed-effects regressions, not {estimator.value}.", fix="Remove wild_bootstrap.",
            code="wild_unsupported"))
    d = spec.design
    settings = ExperimentSettings(planned_split=d.planned_split, srm_alpha=d.srm_alpha, metric=d.metric,
                                  cuped=d.cuped, guardrails=tuple(d.guardrails), decision=d.decision)
    assumptions = (
        f"{spec.treatment} was assigned at random, independently of every cause of {spec.outcome} (no confounding "
        "by design).",
        "Units do not affect one another's outcomes (no interference, SUTVA).",
        "Everyone analysed received the arm they were assigned to, or the estimate is intention-to-treat.")
    if estimator is Estimator.LIN:
        assumptions += ("Covariates were measured before randomization (Lin 2013: consistent for the ATE "
                        "whatever the true outcome model).",)
    fields = plan_fields(spec, dag, ident, extra, estimator, why, formula, naive,
                         _vcov(spec.inference, estimator), assumptions, settings)
    fields["covariates"] = tuple(spec.covariates)
    return fields


def _identify(spec, dag: DAG) -> Identification:
    x, y = spec.treatment, spec.outcome
    if isinstance(spec.adjustment, tuple) and spec.adjustment:
        raise AdjustmentError(Problem(
            "adjustment", "an experiment is identified by randomization; nothing needs adjusting for.",
            fix="Remove adjustment and list pre-treatment variables under covariates to gain precision."))
    parents = dag.parents(x)
    if parents:
        raise AdjustmentError(Problem(
            "dag.edges", f"the DAG gives the randomized treatment {x!r} causes ({', '.join(parents)}).",
            fix=f"In an experiment nothing but the randomization causes {x!r}: remove those edges, "
                "or use design.type observational."))
    minimal = tuple(tuple(s) for s in adjustment_sets(dag, x, y, type="minimal"))
    optimal = optimal_adjustment_set(dag, x, y)
    return Identification(True, Strategy.RANDOMIZATION, (), "randomization",
                          "randomization: the treatment has no causes but the coin", minimal,
                          tuple(optimal) if optimal is not None else None)


def _choose_estimator(spec) -> tuple[Estimator, str]:
    design = spec.design
    if spec.estimand != "ATE":
        raise UnsupportedError(Problem(
            "estimand", f"{spec.estimand} is not available for experiments in this version (difference in "
            "means and Lin estimate the ATE; under randomization ATT = ATE in expectation).",
            fix="Set estimand: ATE.", code="unsupported_estimand"))
    choice = design.estimator
    if choice == "auto":
        choice = "lin" if spec.covariates else "difference_in_means"
        why = ("auto: covariates are given, so Lin (2013) covariate adjustment (centred covariates interacted "
               "with treatment) gains precision without bias" if spec.covariates else
               "auto: no covariates, so the difference in means (Welch / Neyman)")
    else:
        why = f"chosen in the spec (design.estimator: {choice})"
    if choice == "difference_in_means" and spec.covariates:
        raise UnsupportedError(Problem(
            "covariates", "the difference in means does not use covariates.",
            fix="Remove covariates, or set design.estimator to lin.", code="unused_covariates"))
    if choice == "lin" and not spec.covariates:
        raise UnsupportedError(Problem(
            "covariates", "the Lin estimator needs at least one covariate.",
            fix="List pre-treatment covariates, or use design.estimator difference_in_means.",
            code="lin_without_covariates"))
    return Estimator(choice), why


def _vcov(inference, estimator: Estimator) -> VcovPlan:
    explicit = inference.vcov is not None
    kind = inference.vcov if explicit else ("CR2" if inference.cluster else "HC2")  # estimatr's defaults
    if estimator is Estimator.DIFFERENCE_IN_MEANS:
        if explicit or inference.cluster:
            raise UnsupportedError(Problem(
                "inference.vcov", "the difference in means uses the Neyman (Welch) standard error.",
                fix="Leave inference.vcov out (the Neyman variance), or use design.estimator lin for other "
                    "variances.", code="unsupported_vcov"))
        return VcovPlan("neyman", (), inference.level,
                        "estimatr::difference_in_means(); stats::t.test(var.equal = FALSE)")
    if kind in ("CR0", "CR1"):  # in regression designs these are sandwich's; lm_lin has estimatr's only
        other = {"CR0": "CR0_estimatr", "CR1": "stata"}[kind]
        raise UnsupportedError(Problem(
            "inference.vcov", f"{kind} is sandwich::vcovCL(type = \"H{kind[1:].replace('R', 'C')}\") in the "
            f"regression designs, which the Lin estimator (estimatr::lm_lin) does not compute; its closest variance "
            f"is estimatr's, vcov: {other}.", fix=f"Write vcov: {other}, or CR2 (estimatr's default with clusters).",
            code="ambiguous_vcov"))
    se_type = {"CR0_estimatr": "CR0"}.get(kind, kind)
    cl = ", ".join(inference.cluster)
    r = f'estimatr::lm_lin(se_type = "{se_type}"' + (f", clusters = {cl})" if cl else ")")
    return VcovPlan(kind, tuple(inference.cluster), inference.level, r)


def experiment_vcov(inference, plan) -> VcovPlan:
    """The family's variance rule (also what ``Result.with_vcov`` uses)."""
    return _vcov(inference, plan.estimator)
