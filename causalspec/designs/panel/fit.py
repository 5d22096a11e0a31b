"""Fitting the panel design: fixest::feols with fixest's variances, or estimatr's CR0 / CR2 / stata."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
from scipy import stats

from causalspec._values import Estimate
from causalspec.designs._common import estimate_rows, find_row, treatment_terms, weights_of
from causalspec.designs._family import Fit
from causalspec.designs._fixest import (
    fe_frame,
    fixest_numbers,
    fixest_regressions,
    fixest_stats,
    fixest_vcov_for,
    naive_contrast,
    regressor_matrix,
    rows_of,
    singleton_drops,
)
from causalspec.errors import Problem, UnsupportedError
from causalspec.estimators.fixest import feols
from causalspec.formula import quote_name
from causalspec.inference._clusters import make_clusters
from causalspec.inference._cr2 import cr2_vcov
from causalspec.inference._fixest import coeftable
from causalspec.inference._wild import wild_cluster_bootstrap
from causalspec.planner import VcovPlan

__all__ = ["fit_feols"]


def fit_feols(plan, frame: pd.DataFrame) -> Fit:

    vc = plan.vcov
    s = plan.settings
    terms = [quote_name(plan.treatment)] + [quote_name(v) for v in s.regressors]
    design, X, names = regressor_matrix(plan, frame, terms, False)
    rows_frame = rows_of(frame, design.rows)
    fit = feols(design.y, X, names, fe_frame(rows_frame, s.fixed_effects), fixef_rm=s.fixef_rm,
                weights=weights_of(plan, rows_frame))
    kept = rows_frame if fit.nobs == len(rows_frame) else rows_frame.loc[fit.sample.mask]
    if vc.kind in ("CR0_estimatr", "CR2", "stata"):
        V, rows = _estimatr_fe(fit, X[fit.sample.mask], names, kept, s.fixed_effects, vc)
    else:
        V = fixest_vcov_for(fit, vc, kept)
        rows = estimate_rows(coeftable(fit, V, vc.level), V.df_t)
    effect = find_row(rows, *treatment_terms(plan.treatment))
    naive = naive_contrast(plan, kept, vc if vc.kind not in ("CR0_estimatr", "CR2", "stata") else
                           VcovPlan("CR1", vc.cluster, vc.level, ""), main=fit)
    notes = tuple(fit.notes) + tuple(f"{c} removed: collinear with the fixed effects" for c in fit.collinear)
    regs = fixest_regressions(fit, effect.term, plan.outcome) if plan.sensitivity.enabled else None
    extras = {"fixed_effects": fit.fixef_sizes, "vcov_type": V.label}
    if hasattr(V, "df_k"):  # fixest's variance (estimatr's CR2 / stata path reports its own)
        extras.update(fixest_numbers(fit, V, vc.cluster))
    if s.wild_bootstrap:
        y_dm = fit.resid + fit.X @ fit.coef
        wb = s.wild_bootstrap
        extras["wild_bootstrap"] = wild_cluster_bootstrap(
            fit.X, y_dm, fit.names, fe_frame(kept, vc.cluster).astype(str).agg("|".join, axis=1).to_numpy(),
            effect.term, draws=wb.draws, weights=wb.weights, seed=plan.seed, level=vc.level,
            extra_params=fit.nparams - len(fit.names)).to_dict()
    return Fit(effect, naive, rows, tuple(V.names), V.matrix, fit.nobs, singleton_drops(fit), notes, fixest_stats(fit),
                     extras=extras,
                     regressions=regs, outcome_sd=float(np.std(fit.y, ddof=1)))


_MAX_FE_LEVELS = 5000


def _estimatr_fe(fit, X, names, frame: pd.DataFrame, fes, vc: VcovPlan):
    """CR0 / CR2 / stata with fixed effects, as ``estimatr::lm_robust(fixed_effects = )``.

    estimatr's fixed-effects variances equal those of the regression with the fixed effects as dummy columns
    (its own tests assert it).  CR0 and stata follow from the demeaned regressors (Frisch-Waugh-Lovell), with
    stata's G/(G-1) (N-1)/(N-K) counting the dummies in K; CR2 needs the full hat matrix, so it is computed on
    [1, X, dummies] with the Bell-McCaffrey degrees of freedom of the regressors only.
    """
    keep = [names.index(n) for n in fit.names]
    Xk = np.asarray(X, dtype=float)[:, keep]
    cl = make_clusters(frame[list(vc.cluster)].to_numpy().ravel(), len(frame))
    G = int(cl.codes.max()) + 1
    dummies = []
    for fe in fe_frame(frame, fes).to_numpy().T:
        codes = pd.factorize(fe)[0]
        dummies.append((codes, int(codes.max()) + 1))
    n_levels = sum(m for _, m in dummies)
    K = len(fit.names) + n_levels - len(dummies) + 1  # regressors + intercept + (levels - 1) per fixed effect
    n = len(frame)
    if vc.kind == "CR2":
        if n_levels > _MAX_FE_LEVELS:
            raise UnsupportedError(Problem(
                "inference.vcov", f"CR2 with fixed effects needs the full hat matrix; {n_levels:,} fixed-effect "
                f"levels is more than this version handles ({_MAX_FE_LEVELS:,}).",
                fix="Use CR1 (fixest's clustered variance) or the wild cluster bootstrap.", code="cr2_fe_too_large"))
        cols = [np.ones(n), *Xk.T]
        for codes, m in dummies:
            D = np.zeros((n, m))
            D[np.arange(n), codes] = 1.0
            cols += list(D[:, 1:].T)
        W = np.column_stack(cols)
        Vfull, dffull = cr2_vcov(W, fit.resid, cl, only=range(1, 1 + len(fit.names)))
        idx = np.arange(1, 1 + len(fit.names))
        V, df = Vfull[np.ix_(idx, idx)], dffull[idx]
    else:
        Xd = fit.X  # demeaned regressors (FWL)
        bread = np.linalg.inv(Xd.T @ Xd)
        scores = np.zeros((G, Xd.shape[1]))
        np.add.at(scores, cl.codes, Xd * fit.resid[:, None])
        V = bread @ (scores.T @ scores) @ bread
        if vc.kind == "stata":
            V = V * (G / (G - 1)) * ((n - 1) / (n - K))
        df = np.full(len(fit.names), G - 1.0)
    se = np.sqrt(np.diag(V))
    rows = []
    for name, b, s_, d in zip(fit.names, fit.coef, se, df):
        t = b / s_
        q = stats.t.ppf(0.5 + vc.level / 2, d)
        rows.append(Estimate(name, float(b), float(s_), float(t), float(2 * stats.t.sf(abs(t), d)),
                             float(b - q * s_), float(b + q * s_), float(d)))


    return SimpleNamespace(names=fit.names, matrix=V, label=f"{vc.kind} (estimatr)"), tuple(rows)

