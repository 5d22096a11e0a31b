"""Stage 2 of the flow: the Plan types and the planning rules every design family shares.

A family (``causalspec.designs``) plans its own estimator, formula and variance from the spec and the DAG;
the rules here are shared: backdoor identification and node decisions (:mod:`._backdoor`), the table of
variance types and the R calls they match (:mod:`._vcov`), which sensitivity steps run (:mod:`._sensitivity`),
and :func:`assemble`, which turns a family's fields into the frozen, hashable :class:`Plan`.
"""

from __future__ import annotations

import hashlib

from causalspec.planner._backdoor import ADJUSTMENT_RULE, Identification
from causalspec.planner._plan import Plan
from causalspec.planner._records import (
    LINEAR_ESTIMATORS,
    Estimator,
    NodeDecision,
    ParallelTrendsPlan,
    SensitivityPlan,
    Strategy,
    VcovPlan,
)
from causalspec.planner._sensitivity import BENCHMARK_RULE
from causalspec.planner._sensitivity import plan_sensitivity as _plan_sensitivity
from causalspec.spec import data_label

__all__ = ["assemble", "column_fields", "Plan", "NodeDecision", "VcovPlan", "SensitivityPlan", "Estimator",
           "Strategy", "ParallelTrendsPlan", "Identification", "ADJUSTMENT_RULE", "LINEAR_ESTIMATORS", "BENCHMARK_RULE"]


def assemble(spec, fields: dict, *, default_refutations: tuple[str, ...], sensitivity_off: str = "",
             compares_adjustment_sets: bool = False, event_study: bool = False) -> Plan:
    """The Plan from a family's planned fields plus what every plan records (columns, sensitivity, hash)."""
    fields = dict(fields)
    fields.setdefault("column_fields", column_fields(spec, fields))
    if spec.weights is not None and spec.weights not in dict(fields["column_fields"]):
        fields["column_fields"] = (*fields["column_fields"], (spec.weights, "weights"))
        if "columns" in fields:
            fields["columns"] = (*fields["columns"], spec.weights)
    fields.setdefault("columns", tuple(dict.fromkeys(c for c, _ in fields["column_fields"])))
    fields["sensitivity"] = _plan_sensitivity(spec, fields, default_refutations=default_refutations,
                                             off_reason=sensitivity_off,
                                             compares_adjustment_sets=compares_adjustment_sets,
                                             event_study=event_study)
    return Plan(
        name=spec.name,
        treatment=spec.treatment,
        outcome=spec.outcome,
        estimand=fields.pop("estimand", spec.estimand),
        design=spec.design.type,
        data=data_label(spec.data),
        seed=spec.seed,
        weights=spec.weights,
        spec_hash=hashlib.sha256(spec.model_dump_json().encode()).hexdigest(),
        **fields,
    )


def column_fields(spec, fields: dict) -> tuple[tuple[str, str], ...]:
    """Every data column the plan reads, with the spec field that names it (for error locations)."""
    out = {spec.outcome: "outcome", spec.treatment: "treatment"}
    explicit = fields.get("adjustment_source") == "explicit"
    for i, v in enumerate(fields.get("adjustment_set", ())):
        out.setdefault(v, f"adjustment[{i}]" if explicit else "data")
    for i, v in enumerate(spec.covariates):
        out.setdefault(v, f"covariates[{i}]")
    for i, v in enumerate(spec.inference.cluster):
        out.setdefault(v, f"inference.cluster[{i}]")
    # columns the design options name (an experiment's metric columns, CUPED covariate, guardrails)
    for v, where in spec.design.data_columns():
        out.setdefault(v, where)
    return tuple(out.items())

