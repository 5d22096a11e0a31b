"""Fitting a randomized experiment: difference in means (Welch / Neyman, or cluster-robust) or Lin (2013), as
estimatr does."""

from __future__ import annotations

import pandas as pd

from causalspec.designs._common import estimate_rows, find_row, treatment_terms
from causalspec.designs._family import Fit
from causalspec.estimators._experiment import DIM_METHODS, difference_in_means, lm_lin
from causalspec.planner import Estimator, Plan

__all__ = ["fit_difference_in_means", "fit_lin", "dim_on", "effect_method", "naive_method"]

_DF_RULE = {"CR2": "Bell-McCaffrey df", "stata": "G - 1 df", "CR0_estimatr": "G - 1 df"}


def _cluster_values(frame: pd.DataFrame, cluster: tuple[str, ...]):
    return frame.loc[:, list(cluster)] if cluster else None


def _dim_kind(plan: Plan) -> str:
    """The variance of every difference in means the plan reports: the plan's own when it clusters, else Neyman."""
    return plan.vcov.kind if plan.vcov.cluster else "neyman"


def dim_on(plan: Plan, frame: pd.DataFrame, y, *, term: str, nested: bool = True):
    """A difference in means of ``y`` between the plan's arms with the plan's variance: Neyman without clusters,
    ``estimatr::difference_in_means(clusters = )`` / ``lm_robust(y ~ d, clusters, se_type)`` with them.
    ``nested=False``: the clusters need not carry the assignment (lm_robust has no such check)."""
    vc = plan.vcov
    d = frame[plan.treatment].to_numpy(float)
    if not vc.cluster:
        return difference_in_means(y, d, level=vc.level, term=term)
    return difference_in_means(y, d, level=vc.level, term=term, cluster=_cluster_values(frame, vc.cluster),
                               se_type=vc.kind, nested=nested)


def effect_method(plan: Plan) -> str:
    """The method label of the plan's effect row (``design.effects[].method``)."""
    kind = plan.vcov.kind
    if plan.estimator is Estimator.DIFFERENCE_IN_MEANS:
        return DIM_METHODS[_dim_kind(plan)]
    return f"Lin (2013) ({kind} SE, {_DF_RULE.get(kind, 'n - k df')})"


def naive_method(plan: Plan) -> str:
    """The method label of the unadjusted contrast the plan reports beside the effect."""
    return DIM_METHODS[_dim_kind(plan)]


def fit_difference_in_means(plan: Plan, frame: pd.DataFrame) -> Fit:
    """estimatr::difference_in_means: Welch / Neyman (= stats::t.test(var.equal = FALSE)) without clusters; with
    ``inference.cluster``, estimatr's clustered design: lm_robust(y ~ d, clusters, se_type = "CR2") with the
    Bell-McCaffrey df (or lm_robust's stata / CR0, G - 1 df)."""
    res = dim_on(plan, frame, frame[plan.outcome].to_numpy(float), term=plan.treatment)
    rows = estimate_rows(res.table, res.table["df"] if "df" in res.table else res.df)
    effect = find_row(rows, *treatment_terms(plan.treatment))
    V = res.vcov
    return Fit(effect, effect, rows, tuple(V.terms), V.matrix, res.nobs, (), (), tuple(res.stats))


def fit_lin(plan: Plan, frame: pd.DataFrame) -> Fit:
    """estimatr::lm_lin: centred covariates interacted with the treatment (Lin 2013); HC2, or CR2 with clusters.

    The unadjusted contrast beside it is the difference in means with the same clustering (lm_robust(y ~ d,
    clusters, se_type) when clustered, which does not need the clusters to carry the assignment).
    """
    vc = plan.vcov
    res = lm_lin(frame[plan.outcome].to_numpy(float), frame[plan.treatment].to_numpy(float),
                 frame.loc[:, list(plan.covariates)], se_type=vc.kind, cluster=_cluster_values(frame, vc.cluster),
                 level=vc.level, treatment=plan.treatment)
    rows = estimate_rows(res.table, res.table["df"] if "df" in res.table else res.vcov.df_for())
    naive = dim_on(plan, frame, frame[plan.outcome].to_numpy(float), term=plan.treatment, nested=False)
    naive_rows = estimate_rows(naive.table, naive.table["df"] if "df" in naive.table else naive.df)
    terms = treatment_terms(plan.treatment)
    return Fit(find_row(rows, *terms), find_row(naive_rows, *terms), rows, tuple(res.vcov.terms), res.vcov.matrix,
               res.nobs, tuple(res.dropped), tuple(res.notes), tuple(res.stats))
