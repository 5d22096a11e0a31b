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

ESTIMATOR_RULE = ("experiment, estimator auto: Lin (2013) when covariates are given, else the difference in means; "
                  "design.cuped makes the effect CUPED")


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
    why += _cuped_reason(spec.design.cuped, estimator)
    if spec.design.cuped and estimator is Estimator.DIFFERENCE_IN_MEANS:
        c = quote_name(spec.design.cuped)
        formula = f"{y} - theta * ({c} - mean({c})) ~ {x}"
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
    if d.cuped:
        assumptions += (f"The CUPED covariate {d.cuped} was measured before randomization (Deng et al. 2013: the "
                        "adjusted difference in means is then unbiased for the ATE).",)
    if spec.inference.cluster:
        g = ", ".join(spec.inference.cluster)
        assumptions += (f"Whole clusters ({g}) are the independent units: the variance is cluster-robust, and the "
                        "sample-ratio check counts clusters when every cluster lies in one arm.",)
    fields = plan_fields(spec, dag, ident, extra, estimator, why, formula, naive,
                         _vcov(spec.inference, estimator), assumptions, settings)
    fields["covariates"] = tuple(spec.covariates)
    return fields


def _cuped_reason(cuped: str | None, estimator: Estimator) -> str:
    """Why the effect is CUPED when design.cuped is given (the rule of docs/experiments.md)."""
    if not cuped:
        return ""
    text = (f"; design.cuped: the effect is CUPED on {cuped!r} (the difference in means of the outcome minus theta "
            "times the centred covariate), the unadjusted difference in means the naive contrast")
    if estimator is Estimator.LIN:
        text += "; Lin's covariate-adjusted estimate is reported beside it"
    return text


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
               (f"auto: no covariates, so the difference in means (clustered by {', '.join(spec.inference.cluster)})"
                if spec.inference.cluster else "auto: no covariates, so the difference in means (Welch / Neyman)"))
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
    """The experiment's variance rule, in order: no cluster (Neyman for the difference in means, HC2 for Lin);
    one cluster column (estimatr's clustered variances: CR2 by default, stata, CR0_estimatr); the rest refused."""
    explicit = inference.vcov is not None
    kind = inference.vcov if explicit else ("CR2" if inference.cluster else "HC2")  # estimatr's defaults
    cl = ", ".join(inference.cluster)
    if len(inference.cluster) > 1:
        raise UnsupportedError(Problem(
            "inference.cluster", f"estimatr clusters an experiment on one column; {len(inference.cluster)} are "
            f"given ({cl}).", fix="Name the one column the treatment was assigned by (the unit of randomization).",
            code="multiway_unsupported"))
    dim = estimator is Estimator.DIFFERENCE_IN_MEANS
    if dim and not inference.cluster:
        if explicit:
            raise UnsupportedError(Problem(
                "inference.vcov", f"the difference in means uses the Neyman standard error (which equals HC2's) "
                f"with Welch degrees of freedom when units were randomized; estimatr::difference_in_means offers "
                f"no other variance without clusters, so it has no vcov: {kind}.",
                fix="Leave inference.vcov out. If the treatment was assigned by cluster, add inference.cluster: "
                    "[<cluster column>] (CR2 by default); for a regression variance with covariates, list them "
                    "under covariates (design.estimator lin).", code="unsupported_vcov"))
        return VcovPlan("neyman", (), inference.level,
                        "estimatr::difference_in_means(); stats::t.test(var.equal = FALSE)")
    if kind in ("CR0", "CR1"):  # in regression designs these are sandwich's; estimatr has its own only
        other = {"CR0": "CR0_estimatr", "CR1": "stata"}[kind]
        what = ("the clustered difference in means (estimatr::lm_robust)" if dim
                else "the Lin estimator (estimatr::lm_lin)")
        raise UnsupportedError(Problem(
            "inference.vcov", f"{kind} is sandwich::vcovCL(type = \"H{kind[1:].replace('R', 'C')}\") in the "
            f"regression designs, which {what} does not compute; its closest variance "
            f"is estimatr's, vcov: {other}.", fix=f"Write vcov: {other}, or CR2 (estimatr's default with clusters).",
            code="ambiguous_vcov"))
    se_type = {"CR0_estimatr": "CR0"}.get(kind, kind)
    if dim:
        if kind == "CR2":
            r = (f"estimatr::difference_in_means(clusters = {cl}) = estimatr::lm_robust(y ~ d, clusters = {cl}, "
                 'se_type = "CR2"), Bell-McCaffrey df')
        elif kind in ("stata", "CR0_estimatr"):
            # difference_in_means itself computes CR2 only; lm_robust's coefficient of d is the same difference
            r = f'estimatr::lm_robust(y ~ d, clusters = {cl}, se_type = "{se_type}"), G - 1 df'
        else:  # the Inference model refuses a cluster with an unclustered vcov; kept for direct callers
            raise UnsupportedError(Problem(
                "inference.vcov", f"vcov {kind} does not use the cluster column; the clustered difference in "
                "means takes CR2, stata or CR0_estimatr.", fix="Write vcov: CR2, or remove inference.cluster.",
                code="unsupported_vcov"))
        return VcovPlan(kind, tuple(inference.cluster), inference.level, r)
    r = f'estimatr::lm_lin(se_type = "{se_type}"' + (f", clusters = {cl})" if cl else ")")
    return VcovPlan(kind, tuple(inference.cluster), inference.level, r)


def experiment_vcov(inference, plan) -> VcovPlan:
    """The family's variance rule (also what ``Result.with_vcov`` uses)."""
    return _vcov(inference, plan.estimator)
