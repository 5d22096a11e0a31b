"""Fitting the 2x2 difference in differences: lm(y ~ post * group) with the plan's variance."""

from __future__ import annotations


import numpy as np
import pandas as pd

from causalspec.designs._common import estimate_rows, find_row, treatment_terms, weights_of
from causalspec.designs._family import Fit
from causalspec.errors import DataError, EstimationError, Problem
from causalspec.formula import materialize
from causalspec.estimators._linear import fit_ols
from causalspec.inference import coef_table, vcov as compute_vcov
from causalspec.sensitivity import regressions_from_formula


def fit_did_2x2(plan, frame: pd.DataFrame) -> Fit:

    vc = plan.vcov
    design = materialize(plan.formula, frame)
    rows_frame = frame.loc[design.rows]
    fit = fit_ols(design.y, design.X, design.terms, weights=weights_of(plan, rows_frame))
    cl = rows_frame.loc[:, list(vc.cluster)] if vc.cluster else None
    V = compute_vcov(fit, vc.kind, cl, multiway=True)
    rows = estimate_rows(coef_table(fit.coef, V, vc.level), V.df_for())
    s = plan.settings
    post, group = s.post, s.group
    term = next((r.term for r in rows if ":" in r.term and post in r.term and group in r.term), None)
    if term is None:
        raise EstimationError(Problem("design.post", "the interaction of post and group was not estimated (is one of "
                                      "them constant?).", fix="Check the post and group columns."))
    effect = find_row(rows, term)
    after = rows_frame[post].astype(float) == 1
    if after.sum() == 0 or rows_frame.loc[after, group].nunique() < 2:
        raise DataError(Problem("design.post", "no rows of both groups after the change.",
                                fix="Check the post column."))
    nd = materialize(plan.naive_formula, rows_frame.loc[after])
    nfit = fit_ols(nd.y, nd.X, nd.terms, weights=weights_of(plan, rows_frame.loc[after].loc[nd.rows]))
    NV = compute_vcov(nfit, vc.kind, rows_frame.loc[after, list(vc.cluster)] if vc.cluster else None,
                      multiway=True)
    nrows = estimate_rows(coef_table(nfit.coef, NV, vc.level), NV.df_for())
    naive = find_row(nrows, *treatment_terms(group))
    stats_ = [("r2", fit.r2), ("adj_r2", fit.adj_r2), ("sigma", fit.sigma), ("df_residual", fit.df_resid)]
    regs = None
    if plan.sensitivity.enabled:
        regs = regressions_from_formula(rows_frame, plan.formula, term, weights=plan.weights)
    return Fit(effect, naive, rows, tuple(V.terms), V.matrix, fit.nobs, tuple(design.dropped.items()),
                     tuple(fit.notes), tuple(stats_), extras={"did_term": term}, regressions=regs,
                     outcome_sd=float(np.std(design.y, ddof=1)))

