"""Helpers every family's planner and fitters share: estimate rows, finding the treatment's row, plan fields."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from causalspec._values import Estimate
from causalspec.errors import EstimationError, Problem
from causalspec.planner._backdoor import decide_nodes

__all__ = ["estimate_rows", "find_row", "treatment_terms", "estimate", "plan_fields", "plan_columns",
           "weights_of"]


def weights_of(plan, frame: pd.DataFrame):
    """The observation weights of these rows (``spec.weights``), or None."""
    return None if plan.weights is None else frame[plan.weights].to_numpy(float)


def estimate_rows(table: pd.DataFrame, df) -> tuple[Estimate, ...]:
    """A coefficient table (term, estimate, std_error, statistic, p_value, conf_low, conf_high) as Estimate rows;
    ``df`` is one t degrees of freedom for all rows or one per row (``inf``: a normal reference)."""
    dfs = np.broadcast_to(np.asarray(df, dtype=float), (len(table),))
    return tuple(Estimate(str(r.term), float(r.estimate), float(r.std_error), float(r.statistic), float(r.p_value),
                          float(r.conf_low), float(r.conf_high), float(d))
                 for r, d in zip(table.itertuples(index=False), dfs))


def treatment_terms(name: str) -> tuple[str, ...]:
    """The names R gives a treatment's coefficient (a logical treatment is ``xTRUE``)."""
    return (name, f"`{name}`", f"{name}TRUE", f"`{name}`TRUE")


def find_row(rows, *names) -> Estimate:
    """The first row whose term is one of ``names``; a located error when the model did not estimate it."""
    for r in rows:
        if r.term in names:
            return r
    raise EstimationError(Problem("treatment", f"no coefficient named {names[0]!r} was estimated (it may be "
                                  "collinear with the fixed effects or the adjustment set).",
                                  fix="Check that the treatment is numeric and varies within the groups compared."))


def estimate(term: str, est: float, se: float, level: float, df: float = math.inf) -> Estimate:
    """One Estimate from a point estimate and SE: a t reference with ``df``, else the normal."""
    z = est / se if se > 0 else math.nan
    q = stats.norm.ppf(0.5 + level / 2) if not math.isfinite(df) else stats.t.ppf(0.5 + level / 2, df)
    p = 2 * (stats.norm.sf(abs(z)) if not math.isfinite(df) else stats.t.sf(abs(z), df))
    return Estimate(term, float(est), float(se), float(z), float(p), float(est - q * se), float(est + q * se),
                    float(df))


def plan_fields(spec, dag, ident, extra, estimator, why, formula, naive, vcov, assumptions, settings,
                column_fields=None, notes=()) -> dict:
    """The Plan fields a family's planner returns (``causalspec.planner.assemble`` adds the rest)."""
    decisions = decide_nodes(spec, dag, ident, extra)
    out = dict(
        identified=ident.identified, strategy=ident.strategy, adjustment_set=ident.adjustment_set,
        adjustment_source=ident.source, adjustment_rule=ident.rule, minimal_adjustment_sets=ident.minimal_sets,
        optimal_adjustment_set=ident.optimal_set, covariates=extra, decisions=decisions, estimator=estimator,
        estimator_reason=why, formula=formula, naive_formula=naive, vcov=vcov, assumptions=tuple(assumptions),
        obstacles=ident.obstacles, alternatives=ident.alternatives, notes=tuple(notes), settings=settings)
    if column_fields is not None:
        out["column_fields"] = tuple(column_fields)
    return out


def plan_columns(spec, pairs) -> list[tuple[str, str]]:
    """Every column a design reads with the field that names it: outcome, treatment, ``pairs``, clusters."""
    out = {spec.outcome: "outcome", spec.treatment: "treatment"}
    for col, where in pairs:
        if col:
            out.setdefault(col, where)
    for i, c in enumerate(spec.inference.cluster):
        out.setdefault(c, f"inference.cluster[{i}]")
    return list(out.items())

