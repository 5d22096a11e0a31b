"""Fitting a randomized experiment: difference in means (Welch / Neyman, or cluster-robust), CUPED or Lin (2013),
as estimatr does.

Which estimate is the headline (``Fit.effect``) follows the spec: ``design.cuped`` makes it CUPED (Deng, Xu,
Kohavi & Walker 2013), else covariates make it Lin's, else it is the difference in means; ``Fit.naive`` is always
the unadjusted difference in means (docs/experiments.md, "Which estimate is the headline").
"""

from __future__ import annotations

from dataclasses import replace

from causalspec.designs._common import estimate_rows, find_row, treatment_terms
from causalspec.designs._family import Fit
from causalspec.designs.experiment.data import ArmData, arm_data
from causalspec.errors import DataError, Problem
from causalspec.estimators._experiment import DIM_METHODS
from causalspec.planner import Estimator, Plan

__all__ = ["fit_difference_in_means", "fit_lin", "effect_method", "naive_method", "lin_method", "CUPED_FORMULA"]

_DF_RULE = {"CR2": "Bell-McCaffrey df", "stata": "G - 1 df", "CR0_estimatr": "G - 1 df"}
CUPED_FORMULA = "y - theta (x - mean x), theta = cov(y, x) / var(x) pooled"


def _dim_kind(plan: Plan) -> str:
    """The variance of every difference in means the plan reports: the plan's own when it clusters, else Neyman."""
    return plan.vcov.kind if plan.vcov.cluster else "neyman"


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


def _cuped(plan: Plan, data: ArmData, raw, *, nested: bool):
    """CUPED (Deng, Xu, Kohavi & Walker 2013): the difference in means of ``y - theta (x - mean x)`` with
    ``theta = cov(y, x) / var(x)`` over both arms, with the plan's variance (Welch / Neyman, as ``t.test``; with
    clusters ``lm_robust(y_cuped ~ d, clusters, se_type)``).  No single R function; the parity case builds it
    by hand (tools/rparity/build_experiment_clusters.R).  Returns the fit and ``extras["cuped"]``."""
    column = plan.settings.cuped
    y = data.outcome()
    x = data.column(column, "design.cuped")
    vx = data.var(x)
    if not vx > 0:
        raise DataError(Problem("design.cuped", f"the CUPED covariate {column!r} is constant in the rows analysed.",
                                fix="Use a pre-period metric that varies across units, or remove design.cuped."))
    theta = float(data.cov(y, x) / vx)
    x_mean = data.mean(x)
    adj = data.dim(data.adjusted(y, x, theta, x_mean), term=plan.treatment, nested=nested)
    extras = {
        "covariate": column, "theta": theta, "covariate_mean": float(x_mean), "estimate": adj.estimate,
        "std_error": adj.std_error, "df": adj.df, "p_value": adj.p_value,
        "conf_int": [float(adj.conf_low), float(adj.conf_high)], "unadjusted_std_error": raw.std_error,
        "variance_reduction": 1.0 - (adj.std_error / raw.std_error) ** 2,
        "method": f"{CUPED_FORMULA}; {adj.method} (Deng et al. 2013)"}
    return adj, extras


def _rows(res) -> tuple:
    return estimate_rows(res.table, res.table["df"] if "df" in res.table else res.df)


def fit_difference_in_means(plan: Plan, data) -> Fit:
    """estimatr::difference_in_means: Welch / Neyman (= stats::t.test(var.equal = FALSE)) without clusters; with
    ``inference.cluster``, estimatr's clustered design: lm_robust(y ~ d, clusters, se_type = "CR2") with the
    Bell-McCaffrey df (or lm_robust's stata / CR0, G - 1 df).  With ``design.cuped`` the effect is the same
    difference in means of the CUPED-adjusted outcome, and the unadjusted one is the naive contrast.
    ``data``: the rows analysed (a frame, or an engine's :class:`ArmData`)."""
    data = arm_data(plan, data)
    raw = data.dim(data.outcome(), term=plan.treatment)
    terms = treatment_terms(plan.treatment)
    naive = find_row(_rows(raw), *terms)
    res, extras = raw, {}
    if plan.settings.cuped:
        res, extras["cuped"] = _cuped(plan, data, raw, nested=True)
    rows = _rows(res)
    V = res.vcov
    return Fit(find_row(rows, *terms), naive, rows, tuple(V.terms), V.matrix, res.nobs, (), (), tuple(res.stats),
               extras=extras)


def fit_lin(plan: Plan, data) -> Fit:
    """estimatr::lm_lin: centred covariates interacted with the treatment (Lin 2013); HC2, or CR2 with clusters.

    The unadjusted contrast beside it is the difference in means with the same clustering (lm_robust(y ~ d,
    clusters, se_type) when clustered, which does not need the clusters to carry the assignment).  With
    ``design.cuped`` the effect is CUPED (the spec asked for it by name); Lin's regression stays the coefficient
    table and its treatment row is reported beside the effect (``design.effects``, role ``lin``).
    """
    data = arm_data(plan, data)
    res = data.lin()
    naive = data.dim(data.outcome(), term=plan.treatment, nested=False)
    terms = treatment_terms(plan.treatment)
    out = Fit(find_row(res.rows, *terms), find_row(_rows(naive), *terms), res.rows, res.terms, res.matrix,
              res.nobs, res.dropped, res.notes, res.stats)
    if not plan.settings.cuped:
        return out
    adj, cuped = _cuped(plan, data, naive, nested=False)
    return replace(out, effect=find_row(_rows(adj), *terms), extras={"cuped": cuped})
