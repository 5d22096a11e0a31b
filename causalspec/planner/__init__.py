"""Planning: ``plan(spec) -> Plan``, with no data.  See :mod:`causalspec.planner._rules` for the rules' order."""

from __future__ import annotations

import hashlib

from ..errors import Problem, UnsupportedError
from ..spec import Spec as _Spec
from ._plan import LINEAR_ESTIMATORS, Estimator, NodeDecision, Plan, SensitivityPlan, Strategy, VcovPlan
from . import _rules
from ._rules import ADJUSTMENT_RULE, BENCHMARK_RULE, ESTIMATOR_RULE

__all__ = ["plan", "Plan", "NodeDecision", "VcovPlan", "SensitivityPlan", "Estimator", "Strategy", "ADJUSTMENT_RULE",
           "LINEAR_ESTIMATORS", "BENCHMARK_RULE", "ESTIMATOR_RULE"]


def plan(spec: _Spec) -> Plan:
    """Plan an analysis: identification, adjustment set, estimator, formula, variance, assumptions.

    Needs no data.  Deterministic: the same spec gives the same plan (``plan.to_json()`` byte for byte).

    Raises
    ------
    AdjustmentError
        An explicit adjustment set or covariate is invalid for the DAG (the message names the path).
    UnsupportedError
        The spec asks for an estimand / estimator / variance combination that is not implemented.

    Examples
    --------
    >>> import causalspec as cs
    >>> spec = cs.Spec(name="demo", treatment="x", outcome="y",
    ...                dag={"edges": ["z -> x", "z -> y", "x -> y"]})
    >>> cs.plan(spec).adjustment_set
    ('z',)
    """
    dag = spec.graph
    if spec.design.type in ("observational", "experiment"):
        fields = _basic_fields(spec, dag)
    else:
        from ..designs import planner_for

        design_planner = planner_for(spec.design.type)
        if design_planner is None:
            raise UnsupportedError(Problem(
                "design.type", f"the {spec.design.type} design is not implemented in this version.",
                fix="Use design.type observational or experiment.", code="unsupported_design"))
        fields = design_planner(spec, dag)
    fields.setdefault("column_fields", _rules.column_fields(spec, fields))
    fields.setdefault("columns", tuple(dict.fromkeys(c for c, _ in fields["column_fields"])))
    fields["sensitivity"] = _rules.plan_sensitivity(spec, fields)
    return Plan(
        name=spec.name,
        treatment=spec.treatment,
        outcome=spec.outcome,
        estimand=spec.estimand,
        design=spec.design.type,
        data=spec.data,
        seed=spec.seed,
        spec_hash=hashlib.sha256(spec.model_dump_json().encode()).hexdigest(),
        **fields,
    )


def _basic_fields(spec: _Spec, dag) -> dict:
    """Plan fields for the observational (backdoor) and experiment (randomization) designs."""
    if spec.model is not None:
        raise UnsupportedError(Problem(
            "model.formula", f"a model formula replaces the planner's formula only in panel, iv, did and "
            f"event_study designs; the {spec.design.type} design builds its formula from the DAG.",
            fix="Remove model, or set design.type to panel (fixed effects) for a fixest-style formula.",
            code="model_formula_unsupported"))
    ident = _rules.identify(spec, dag)
    extra = _rules.check_covariates(spec, dag, ident)
    decisions = _rules.decide_nodes(spec, dag, ident, extra)
    estimator, why = _rules.choose_estimator(spec)
    formula, naive = _rules.build_formulas(spec, estimator, ident.adjustment_set, extra)
    vcov = _rules.choose_vcov(spec, estimator)
    assumptions = _rules.state_assumptions(spec, ident, estimator)
    notes = []
    if spec.design.type == "observational" and ident.identified and not ident.adjustment_set:
        notes.append("The DAG has no open backdoor path: the naive comparison is already the causal effect.")
    settings = _rules.estimator_settings(spec, estimator, ident.adjustment_set, extra)
    return dict(
        identified=ident.identified,
        strategy=ident.strategy,
        adjustment_set=ident.adjustment_set,
        adjustment_source=ident.source,
        adjustment_rule=ident.rule,
        minimal_adjustment_sets=ident.minimal_sets,
        optimal_adjustment_set=ident.optimal_set,
        covariates=extra if spec.design.type != "experiment" else tuple(spec.covariates),
        decisions=decisions,
        estimator=estimator,
        estimator_reason=why,
        formula=formula,
        naive_formula=naive,
        vcov=vcov,
        assumptions=assumptions,
        obstacles=ident.obstacles,
        alternatives=ident.alternatives,
        notes=tuple(notes),
        settings=settings,
    )
