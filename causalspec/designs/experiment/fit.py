"""Fitting a randomized experiment: difference in means (Welch / Neyman) or Lin (2013), as estimatr does."""

from __future__ import annotations

import pandas as pd

from causalspec.designs._common import estimate_rows, find_row, treatment_terms
from causalspec.designs._family import Fit
from causalspec.estimators._experiment import difference_in_means, lm_lin
from causalspec.planner import Plan

__all__ = ["fit_difference_in_means", "fit_lin"]


def _cluster_values(frame: pd.DataFrame, cluster: tuple[str, ...]):
    return frame.loc[:, list(cluster)] if cluster else None


def fit_difference_in_means(plan: Plan, frame: pd.DataFrame) -> Fit:
    """estimatr::difference_in_means (Welch); stats::t.test(var.equal = FALSE)."""
    vc = plan.vcov
    res = difference_in_means(frame[plan.outcome].to_numpy(float), frame[plan.treatment].to_numpy(float),
                              level=vc.level, term=plan.treatment)
    rows = estimate_rows(res.table, res.table["df"] if "df" in res.table else res.df)
    effect = find_row(rows, *treatment_terms(plan.treatment))
    V = res.vcov
    return Fit(effect, effect, rows, tuple(V.terms), V.matrix, res.nobs, (), (), tuple(res.stats))


def fit_lin(plan: Plan, frame: pd.DataFrame) -> Fit:
    """estimatr::lm_lin: centred covariates interacted with the treatment (Lin 2013)."""
    vc = plan.vcov
    res = lm_lin(frame[plan.outcome].to_numpy(float), frame[plan.treatment].to_numpy(float),
                 frame.loc[:, list(plan.covariates)], se_type=vc.kind, cluster=_cluster_values(frame, vc.cluster),
                 level=vc.level, treatment=plan.treatment)
    rows = estimate_rows(res.table, res.table["df"] if "df" in res.table else res.vcov.df_for())
    naive = difference_in_means(frame[plan.outcome].to_numpy(float), frame[plan.treatment].to_numpy(float),
                                level=vc.level, term=plan.treatment)
    naive_rows = estimate_rows(naive.table, naive.table["df"] if "df" in naive.table else naive.df)
    return Fit(find_row(rows, *treatment_terms(plan.treatment)), find_row(naive_rows, *treatment_terms(plan.treatment)), rows,
                     tuple(res.vcov.terms), res.vcov.matrix, res.nobs, tuple(res.dropped), tuple(res.notes),
                     tuple(res.stats))

