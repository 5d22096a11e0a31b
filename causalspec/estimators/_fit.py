"""``fit(plan, data) -> Result``: materialise the plan's formulas on the data and estimate.

The estimator is looked up in a registry keyed by the plan's :class:`Estimator`
enum.  Every estimator sees the same sample: rows with a missing value in any
column the plan uses (outcome, treatment, adjustment set, covariates, cluster)
are removed first, counted by the first column that is missing, as R's
``na.omit`` removes them.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

import numpy as np
import pandas as pd

from .._data import check_columns
from ..errors import EstimationError, Problem
from ..inference import coef_table, vcov as compute_vcov
from ..planner import Estimator, Plan, VcovPlan
from ._design import materialize
from ._experiment import difference_in_means, lm_lin
from ._linear import fit_ols
from ._result import Estimate, FitOutput, Result

__all__ = ["fit", "complete_cases", "used_columns"]


def complete_cases(frame: pd.DataFrame, columns: tuple[str, ...]) -> tuple[pd.DataFrame, tuple[tuple[str, int], ...]]:
    """Drop rows with a missing value in ``columns``; count each by the first missing column."""
    sub = frame.loc[:, list(columns)]
    missing = sub.isna().to_numpy()
    bad = missing.any(axis=1)
    if not bad.any():
        return sub, ()
    first = missing[bad].argmax(axis=1)
    counts = np.bincount(first, minlength=len(columns))
    dropped = tuple((f"missing values in {columns[i]!r}", int(c)) for i, c in enumerate(counts) if c)
    return sub.loc[~bad], dropped


def _rows(table: pd.DataFrame, df) -> tuple[Estimate, ...]:
    dfs = np.broadcast_to(np.asarray(df, dtype=float), (len(table),))
    return tuple(
        Estimate(str(r.term), float(r.estimate), float(r.std_error), float(r.statistic), float(r.p_value),
                 float(r.conf_low), float(r.conf_high), float(d))
        for r, d in zip(table.itertuples(index=False), dfs)
    )


def _effect_row(rows: tuple[Estimate, ...], treatment: str) -> Estimate:
    """The treatment's row: the term named as the treatment (R names a logical treatment ``xTRUE``)."""
    for r in rows:
        if r.term in (treatment, f"`{treatment}`", f"{treatment}TRUE"):
            return r
    raise EstimationError(Problem("treatment", f"no coefficient for the treatment {treatment!r} was estimated.",
                                  fix="Check that the treatment is numeric or logical."))


def _cluster_values(frame: pd.DataFrame, cluster: tuple[str, ...]):
    if not cluster:
        return None
    return frame.loc[:, list(cluster)]


def _ols(plan: Plan, frame: pd.DataFrame, vc: VcovPlan):
    design = materialize(plan.formula, frame)
    if len(design.y) != len(frame):
        # a transform produced missing values (e.g. log(0)); keep the cluster rows aligned
        frame = frame.loc[design.rows]
    fit = fit_ols(design.y, design.X, design.terms)
    if plan.treatment in fit.aliased or f"{plan.treatment}TRUE" in fit.aliased:
        raise EstimationError(Problem(
            "treatment", f"the treatment {plan.treatment!r} is collinear with the adjustment set in these data.",
            fix="Check for a covariate that duplicates the treatment, or too few rows."))
    V = compute_vcov(fit, vc.kind, _cluster_values(frame, vc.cluster))
    rows = _rows(coef_table(fit.coef, V, vc.level), V.df_for())
    naive_design = materialize(plan.naive_formula, frame)
    naive_fit = fit_ols(naive_design.y, naive_design.X, naive_design.terms)
    NV = compute_vcov(naive_fit, vc.kind, _cluster_values(frame, vc.cluster))
    naive_rows = _rows(coef_table(naive_fit.coef, NV, vc.level), NV.df_for())
    stats = [("r2", fit.r2), ("adj_r2", fit.adj_r2), ("sigma", fit.sigma), ("df_residual", fit.df_resid),
             ("rank", fit.rank)]
    if fit.fstat is not None:
        stats += [("fstat", fit.fstat.value), ("fstat_p_value", fit.fstat.p_value)]
    notes = tuple(design.notes) + tuple(fit.notes) if hasattr(design, "notes") else tuple(fit.notes)
    effect = _effect_row(rows, plan.treatment)
    extras = {}
    if plan.settings.get("wild_bootstrap"):
        extras["wild_bootstrap"] = _wild(plan, design, fit, frame, effect.term, vc)
    return FitOutput(effect, _effect_row(naive_rows, plan.treatment), rows, tuple(V.terms), V.matrix, fit.nobs,
                     tuple(design.dropped.items()) if hasattr(design.dropped, "items") else tuple(design.dropped),
                     notes, tuple(stats), extras=extras, regressions=_regressions(plan, frame, effect.term),
                     outcome_sd=float(np.std(design.y, ddof=1)))


def _wild(plan: Plan, design, fit, frame: pd.DataFrame, term: str, vc: VcovPlan) -> dict:
    """The restricted wild cluster bootstrap of the treatment coefficient, beside the analytical SE."""
    from ..inference._wild import wild_cluster_bootstrap

    wb = plan.settings["wild_bootstrap"]
    X, names = fit.X_kept, [fit.terms[i] for i in fit.kept]  # aliased columns dropped, as in the fit
    cluster = frame.loc[:, list(vc.cluster)].astype(str).agg("|".join, axis=1).to_numpy()
    return wild_cluster_bootstrap(X, design.y, names, cluster, term, draws=wb["draws"], weights=wb["weights"],
                                  seed=plan.seed, level=vc.level).to_dict()


def _regressions(plan: Plan, frame: pd.DataFrame, term: str):
    """The outcome and treatment regressions sensitivity bounds need (None when sensitivity is off)."""
    if not plan.sensitivity.enabled:
        return None
    from ..sensitivity import regressions_from_formula

    return regressions_from_formula(frame, plan.formula, term)


def _difference_in_means(plan: Plan, frame: pd.DataFrame, vc: VcovPlan):
    res = difference_in_means(frame[plan.outcome].to_numpy(float), frame[plan.treatment].to_numpy(float),
                              level=vc.level, term=plan.treatment)
    rows = _rows(res.table, res.table["df"] if "df" in res.table else res.df)
    effect = _effect_row(rows, plan.treatment)
    V = res.vcov
    return FitOutput(effect, effect, rows, tuple(V.terms), V.matrix, res.nobs, (), (), tuple(res.stats))


def _lin(plan: Plan, frame: pd.DataFrame, vc: VcovPlan):
    res = lm_lin(frame[plan.outcome].to_numpy(float), frame[plan.treatment].to_numpy(float),
                 frame.loc[:, list(plan.covariates)], se_type=vc.kind, cluster=_cluster_values(frame, vc.cluster),
                 level=vc.level, treatment=plan.treatment)
    rows = _rows(res.table, res.table["df"] if "df" in res.table else res.vcov.df_for())
    naive = difference_in_means(frame[plan.outcome].to_numpy(float), frame[plan.treatment].to_numpy(float),
                                level=vc.level, term=plan.treatment)
    naive_rows = _rows(naive.table, naive.table["df"] if "df" in naive.table else naive.df)
    return FitOutput(_effect_row(rows, plan.treatment), _effect_row(naive_rows, plan.treatment), rows,
                     tuple(res.vcov.terms), res.vcov.matrix, res.nobs, tuple(res.dropped), tuple(res.notes),
                     tuple(res.stats))


_REGISTRY: dict[Estimator, Callable] = {
    Estimator.OLS: _ols,
    Estimator.DIFFERENCE_IN_MEANS: _difference_in_means,
    Estimator.LIN: _lin,
}


def used_columns(plan: Plan) -> dict[str, str]:
    """Every column the plan reads, mapped to the spec field that names it (for error locations)."""
    columns = dict(plan.column_fields)
    for v in plan.columns:
        columns.setdefault(v, "data")
    return columns


def _estimator(plan: Plan) -> Callable:
    found = _REGISTRY.get(plan.estimator)
    if found is None:
        from ..designs import fitter_for

        found = fitter_for(plan.estimator)
    if found is None:
        from ..errors import UnsupportedError

        raise UnsupportedError(Problem("design.estimator", f"the {plan.estimator.value} estimator is not "
                                       "implemented in this version.", fix="Choose another design.estimator.",
                                       code="unsupported_estimator"))
    return found


def fit(plan: Plan, data: pd.DataFrame, *, data_source: str = "") -> Result:
    """Estimate a planned analysis on a DataFrame.

    Raises
    ------
    IdentificationError
        The plan says the effect is not identified (the message names the open path and the alternatives).
    DataError
        A column is missing, the outcome or treatment is not numeric, or no rows are left.
    """
    if not plan.identified:
        raise plan.identification_error()
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"fit() needs a pandas DataFrame, got {type(data).__name__}; use causalspec.run for files.")
    columns = used_columns(plan)
    check_columns(data, columns, outcome=plan.outcome, treatment=plan.treatment)
    frame, dropped = complete_cases(data, plan.columns)
    if len(frame) == 0:
        raise EstimationError(Problem("data", "no rows are left after removing rows with missing values "
                                      f"({', '.join(f'{n} for {r}' for r, n in dropped)}).",
                                      fix="Check the columns the plan uses for missing values."))
    if frame[plan.treatment].nunique() < 2:
        raise EstimationError(Problem("treatment", f"the treatment {plan.treatment!r} is constant in the rows "
                                      "left after removing missing values.", fix="Check the data."))
    out = _estimator(plan)(plan, frame, plan.vcov)
    from ..designs import checks_for

    for design_check in checks_for(plan.design):
        out = design_check(plan, frame, out)
    dropped = dropped + tuple(out.dropped)

    def refit(kind: str, cluster: tuple[str, ...]) -> Result:
        from ..planner._rules import choose_vcov  # noqa: F401  (same R mapping as the planner)

        new_vcov = _vcov_plan(plan, kind, cluster)
        return fit(replace(plan, vcov=new_vcov, columns=tuple(dict.fromkeys((*plan.columns, *cluster)))),
                   data, data_source=data_source)

    from ..sensitivity._assess import assess

    return Result(
        plan=plan,
        effect=out.effect,
        naive=out.naive,
        coefficients=tuple(out.rows),
        vcov_terms=tuple(out.vcov_terms),
        vcov_matrix=tuple(tuple(float(v) for v in row) for row in np.asarray(out.vcov_matrix)),
        nobs=int(out.nobs),
        n_input=len(data),
        dropped=dropped,
        notes=tuple(out.notes),
        fit_stats=tuple((k, float(v)) for k, v in out.stats),
        sensitivity=assess(plan, out),
        extras=dict(out.extras),
        warnings=tuple(out.warnings),
        data_source=data_source,
        _refit=refit,
    )


def _vcov_plan(plan: Plan, kind: str, cluster: tuple[str, ...]) -> VcovPlan:
    from ..spec import Inference, Spec  # validated exactly as a spec would be
    from ..planner._rules import choose_vcov

    from types import SimpleNamespace

    inference = Inference(vcov=kind, cluster=cluster, level=plan.vcov.level)
    return choose_vcov(SimpleNamespace(inference=inference), plan.estimator)
