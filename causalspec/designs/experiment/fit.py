"""Fitting a randomized experiment: difference in means (Welch / Neyman, or cluster-robust), CUPED or Lin (2013),
as estimatr does.

Which estimate is the headline (``Fit.effect``) follows the spec: ``design.cuped`` makes it CUPED (Deng, Xu,
Kohavi & Walker 2013), else covariates make it Lin's, else it is the difference in means; ``Fit.naive`` is always
the unadjusted difference in means (docs/experiments.md, "Which estimate is the headline").
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from causalspec.designs._common import estimate_rows, find_row, treatment_terms
from causalspec.designs._family import Fit
from causalspec.errors import DataError, Problem
from causalspec.estimators._experiment import DIM_METHODS, difference_in_means, lm_lin
from causalspec.planner import Estimator, Plan

__all__ = ["fit_difference_in_means", "fit_lin", "dim_on", "effect_method", "naive_method", "lin_method",
           "numeric_column", "CUPED_FORMULA"]

_DF_RULE = {"CR2": "Bell-McCaffrey df", "stata": "G - 1 df", "CR0_estimatr": "G - 1 df"}
CUPED_FORMULA = "y - theta (x - mean x), theta = cov(y, x) / var(x) pooled"


def _cluster_values(frame: pd.DataFrame, cluster: tuple[str, ...]):
    return frame.loc[:, list(cluster)] if cluster else None


def _dim_kind(plan: Plan) -> str:
    """The variance of every difference in means the plan reports: the plan's own when it clusters, else Neyman."""
    return plan.vcov.kind if plan.vcov.cluster else "neyman"


def numeric_column(frame: pd.DataFrame, column: str, loc: str) -> np.ndarray:
    """A numeric (or boolean) column as floats; a located error when it is missing or not numeric."""
    if column not in frame.columns:
        raise DataError(Problem(loc, f"column {column!r} is not in the data.",
                                fix="Fix the column name in the spec, or add the column to the data.",
                                code="missing_column"))
    if not pd.api.types.is_numeric_dtype(frame[column]) and not pd.api.types.is_bool_dtype(frame[column]):
        raise DataError(Problem(loc, f"column {column!r} is not numeric (dtype {frame[column].dtype}).",
                                fix="Use a numeric metric column.", code="metric_not_numeric"))
    return frame[column].to_numpy(float)


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


def lin_method(plan: Plan) -> str:
    kind = plan.vcov.kind
    return f"Lin (2013) ({kind} SE, {_DF_RULE.get(kind, 'n - k df')})"


def naive_method(plan: Plan) -> str:
    """The method label of the unadjusted contrast the plan reports beside the effect."""
    return DIM_METHODS[_dim_kind(plan)]


def effect_method(plan: Plan) -> str:
    """The method label of the plan's effect row (``design.effects[].method``): CUPED's, Lin's or the difference's."""
    if plan.settings.cuped:
        return f"CUPED on {plan.settings.cuped!r}: {CUPED_FORMULA}; {naive_method(plan)} (Deng et al. 2013)"
    if plan.estimator is Estimator.DIFFERENCE_IN_MEANS:
        return naive_method(plan)
    return lin_method(plan)


def _cuped(plan: Plan, frame: pd.DataFrame, raw, *, nested: bool):
    """CUPED (Deng, Xu, Kohavi & Walker 2013): the difference in means of ``y - theta (x - mean x)`` with
    ``theta = cov(y, x) / var(x)`` over both arms, with the plan's variance (Welch / Neyman, as ``t.test``; with
    clusters ``lm_robust(y_cuped ~ d, clusters, se_type)``).  No single R function; the parity case builds it
    by hand (tools/rparity/build_experiment_clusters.R).  Returns the fit and ``extras["cuped"]``."""
    column = plan.settings.cuped
    y = frame[plan.outcome].to_numpy(float)
    x = numeric_column(frame, column, "design.cuped")
    vx = np.var(x, ddof=1)
    if not vx > 0:
        raise DataError(Problem("design.cuped", f"the CUPED covariate {column!r} is constant in the rows analysed.",
                                fix="Use a pre-period metric that varies across units, or remove design.cuped."))
    theta = float(np.cov(y, x, ddof=1)[0, 1] / vx)
    adj = dim_on(plan, frame, y - theta * (x - x.mean()), term=plan.treatment, nested=nested)
    extras = {
        "covariate": column, "theta": theta, "covariate_mean": float(x.mean()), "estimate": adj.estimate,
        "std_error": adj.std_error, "df": adj.df, "p_value": adj.p_value,
        "conf_int": [float(adj.conf_low), float(adj.conf_high)], "unadjusted_std_error": raw.std_error,
        "variance_reduction": 1.0 - (adj.std_error / raw.std_error) ** 2,
        "method": f"{CUPED_FORMULA}; {adj.method} (Deng et al. 2013)"}
    return adj, extras


def _rows(res) -> tuple:
    return estimate_rows(res.table, res.table["df"] if "df" in res.table else res.df)


def fit_difference_in_means(plan: Plan, frame: pd.DataFrame) -> Fit:
    """estimatr::difference_in_means: Welch / Neyman (= stats::t.test(var.equal = FALSE)) without clusters; with
    ``inference.cluster``, estimatr's clustered design: lm_robust(y ~ d, clusters, se_type = "CR2") with the
    Bell-McCaffrey df (or lm_robust's stata / CR0, G - 1 df).  With ``design.cuped`` the effect is the same
    difference in means of the CUPED-adjusted outcome, and the unadjusted one is the naive contrast."""
    raw = dim_on(plan, frame, frame[plan.outcome].to_numpy(float), term=plan.treatment)
    terms = treatment_terms(plan.treatment)
    naive = find_row(_rows(raw), *terms)
    res, extras = raw, {}
    if plan.settings.cuped:
        res, extras["cuped"] = _cuped(plan, frame, raw, nested=True)
    rows = _rows(res)
    V = res.vcov
    return Fit(find_row(rows, *terms), naive, rows, tuple(V.terms), V.matrix, res.nobs, (), (), tuple(res.stats),
               extras=extras)


def fit_lin(plan: Plan, frame: pd.DataFrame) -> Fit:
    """estimatr::lm_lin: centred covariates interacted with the treatment (Lin 2013); HC2, or CR2 with clusters.

    The unadjusted contrast beside it is the difference in means with the same clustering (lm_robust(y ~ d,
    clusters, se_type) when clustered, which does not need the clusters to carry the assignment).  With
    ``design.cuped`` the effect is CUPED (the spec asked for it by name); Lin's regression stays the coefficient
    table and its treatment row is reported beside the effect (``design.effects``, role ``lin``).
    """
    vc = plan.vcov
    y = frame[plan.outcome].to_numpy(float)
    res = lm_lin(y, frame[plan.treatment].to_numpy(float), frame.loc[:, list(plan.covariates)], se_type=vc.kind,
                 cluster=_cluster_values(frame, vc.cluster), level=vc.level, treatment=plan.treatment)
    rows = estimate_rows(res.table, res.table["df"] if "df" in res.table else res.vcov.df_for())
    naive = dim_on(plan, frame, y, term=plan.treatment, nested=False)
    terms = treatment_terms(plan.treatment)
    out = Fit(find_row(rows, *terms), find_row(_rows(naive), *terms), rows, tuple(res.vcov.terms), res.vcov.matrix,
              res.nobs, tuple(res.dropped), tuple(res.notes), tuple(res.stats))
    if not plan.settings.cuped:
        return out
    adj, cuped = _cuped(plan, frame, naive, nested=False)
    return replace(out, effect=find_row(_rows(adj), *terms), extras={"cuped": cuped})
