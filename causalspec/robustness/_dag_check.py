"""The DAG checked against the data the analysis ran on: its implied conditional independencies, tested."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from causalspec._values import NotComputed
from causalspec.graph import implied_conditional_independencies
from causalspec.sensitivity._local_tests import LocalTests, local_tests, omitted_confounders


__all__ = ["dag_tests", "dag_checks", "MAX_DAG_TEST_NODES"]

MAX_DAG_TEST_NODES = 40


def dag_tests(result, data: pd.DataFrame) -> "LocalTests | NotComputed":
    """``dagitty::localTests`` on the result's DAG and data: one implication per non-adjacent pair (its smallest
    separating set), on the rows the plan kept.  Needs the spec (``cs.run`` keeps it on the result)."""
    if result.spec is None:
        return NotComputed("the DAG is not known here (fit through causalspec.run to test it against the data)")
    return dag_checks(result.spec, result.plan, data)


def dag_checks(spec, plan, data: pd.DataFrame) -> "LocalTests | NotComputed":
    """The same checks from a spec and its plan (``causalspec validate`` runs them on the spec's data)."""
    if spec.dag is None:
        return NotComputed("the spec has no DAG (an experiment's default treatment -> outcome implies nothing)")
    dag = spec.graph
    measured = [v for v in dag.observed if v in data.columns]
    if len(measured) > MAX_DAG_TEST_NODES:
        return NotComputed(f"the DAG has {len(measured)} measured nodes; local tests run up to "
                           f"{MAX_DAG_TEST_NODES}")
    first: dict[tuple[str, str], tuple[str, ...]] = {}
    for a, b, given in implied_conditional_independencies(dag):
        key = (a, b)
        if key not in first or (len(given), given) < (len(first[key]), first[key]):
            first[key] = given
    implications = [(a, b, g) for (a, b), g in sorted(first.items())]
    tests = local_tests(data, implications, level=plan.vcov.level)
    if plan.design != "observational":  # randomised or panel designs: an omitted variable is not a confounder test
        return tests
    outside = [c for c in data.columns if c not in dag.nodes and pd.api.types.is_numeric_dtype(data[c])
               and not pd.api.types.is_bool_dtype(data[c])]
    omitted = omitted_confounders(data, outside, plan.treatment, plan.outcome,
                                  (*plan.adjustment_set, *plan.covariates), level=plan.vcov.level)
    return replace(tests, omitted=omitted)
