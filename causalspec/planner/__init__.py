"""Planning: ``plan(spec) -> Plan``, with no data.  See :mod:`causalspec.planner._rules` for the rules' order."""

from __future__ import annotations

import hashlib

from ..spec import Spec as _Spec
from ._plan import Estimator, NodeDecision, Plan, Strategy, VcovPlan
from . import _rules
from ._rules import ADJUSTMENT_RULE

__all__ = ["plan", "Plan", "NodeDecision", "VcovPlan", "Estimator", "Strategy", "ADJUSTMENT_RULE"]


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
    ident = _rules.identify(spec, dag)
    extra = _rules.check_covariates(spec, dag, ident)
    decisions = _rules.decide_nodes(spec, dag, ident, extra)
    estimator, why = _rules.choose_estimator(spec)
    formula, naive = _rules.build_formulas(spec, estimator, ident.adjustment_set, extra)
    vcov = _rules.choose_vcov(spec, estimator)
    assumptions = _rules.state_assumptions(spec, ident, estimator)
    columns = tuple(dict.fromkeys(
        (spec.outcome, spec.treatment, *ident.adjustment_set, *spec.covariates, *spec.inference.cluster)))
    notes = []
    if spec.design.type == "observational" and ident.identified and not ident.adjustment_set:
        notes.append("The DAG has no open backdoor path: the naive comparison is already the causal effect.")
    return Plan(
        name=spec.name,
        treatment=spec.treatment,
        outcome=spec.outcome,
        estimand=spec.estimand,
        design=spec.design.type,
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
        data=spec.data,
        seed=spec.seed,
        spec_hash=hashlib.sha256(spec.model_dump_json().encode()).hexdigest(),
        columns=columns,
    )
