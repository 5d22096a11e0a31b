"""Callaway & Sant'Anna from a spec on an engine: did's cells from cohort moments, aggregated by the in-memory
``aggte`` on *pseudo-units* that carry the moments exactly.

Without covariates a unit's influence on every ATT(g, t) is linear in its outcome vector, with coefficients that
depend only on its cohort (``causalspec.engines._did``); every aggregation's influence function adds terms that
depend only on the cohort too.  So every standard error ``did`` reports is a function of each cohort's count
``n``, mean outcome vector ``mu`` and centred cross-product matrix ``C``.  Per cohort, ``2T`` pseudo-units
``mu ± sqrt(T λ_j / n) q_j`` (``C = Σ λ_j q_j q_j'``), each standing for ``n / 2T`` units, have exactly that
count, mean and cross-product, so ``aggte`` run on their influence rows (with those row weights) gives the
in-memory numbers: the simple, dynamic, group and calendar aggregations, the pre-test and the event-study
covariance HonestDiD uses.  The multiplier bootstrap (one draw per unit) is not offered on the engine.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
from scipy import stats

from causalspec.designs.event_study.callaway_santanna import callaway_santanna_fit
from causalspec.designs._common import estimate_rows, find_row
from causalspec.engines._did import EngineAttGt, att_gt
from causalspec.engines._estimators import feols
from causalspec.engines._sql import Source
from causalspec.estimators.callaway_santanna._attgt import AttGtResult, _pretest
from causalspec.designs import Fit

__all__ = ["pseudo_units", "fit_callaway_santanna_engine"]


def pseudo_units(cells: EngineAttGt) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(influence rows × cells, each row's cohort as did codes it (+inf never treated), each row's unit count)."""
    T = cells.periods.size
    rows, groups, weights = [], [], []
    for raw, n in cells.counts.items():
        lam, Q = np.linalg.eigh(cells.cross[raw])
        lam = np.clip(lam, 0.0, None)
        mu = cells.means[raw]
        for j in range(T):
            step = math.sqrt(T * lam[j] / n) * Q[:, j]
            for y in (mu + step, mu - step):
                psi = [0.0 if role is None or raw not in role else role[raw][0] * (a @ y - role[raw][1])
                       for role, a in zip(cells.roles, cells.contrasts)]
                rows.append(psi)
                groups.append(cells.cohorts[raw])
                weights.append(n / (2 * T))
    return np.asarray(rows, float), np.asarray(groups, float), np.asarray(weights, float)


def attgt_result(cells: EngineAttGt, plan) -> AttGtResult:
    """An AttGtResult whose influence rows are the pseudo-units of the cohort moments (``unit_weights``)."""
    s, level = plan.settings, plan.vcov.level
    inf, unit_group, w = pseudo_units(cells)
    n = cells.n_units
    V = cells.vcov * n
    zero_na = np.isnan(cells.se)
    W, Wpval, why, W_df = _pretest(cells.group, cells.time, cells.att, V, zero_na, n)
    groups = np.unique(unit_group[np.isfinite(unit_group)])
    groups = groups[groups > cells.periods[0] + s.anticipation]
    empty = np.empty(0)
    return AttGtResult(group=cells.group, time=cells.time, att=cells.att, se=cells.se, influence=inf,
                       vcov=cells.vcov, crit_val=float(stats.norm.ppf(0.5 + level / 2)), n_units=n,
                       alp=1 - level, pretest_W=W, pretest_Wpval=Wpval, pretest_note=why, pretest_df=W_df,
                       ids=empty, unit_group=unit_group, periods=cells.periods, groups=groups, yname=plan.outcome,
                       tname=s.time, idname=s.unit, gname=s.first_treated, xformla=None,
                       control_group=s.control_group, est_method=s.est_method, anticipation=float(s.anticipation),
                       base_period=s.base_period, notes=cells.notes, unit_weights=w)


def fit_callaway_santanna_engine(plan, source: Source) -> Fit:
    """The in-memory Fit of ``design: {type: event_study, estimator: callaway_santanna}`` from the engine."""
    s, vc = plan.settings, plan.vcov
    cells = att_gt(source, plan.outcome, s.time, s.unit, s.first_treated, control_group=s.control_group,
                   anticipation=s.anticipation, base_period=s.base_period, est_method=s.est_method)
    res = attgt_result(cells, plan)
    b, q = source.backend, source.backend.quote
    view = b.fresh("treated_now")
    ft, t = q(s.first_treated), q(s.time)
    b.view(view, f"SELECT *, CASE WHEN {ft} > 0 AND {t} >= {ft} THEN 1.0 ELSE 0.0 END AS cs_treated_now "
                 f"FROM {source.view}")
    naive_fit = feols(Source(b, view, source.label), plan.outcome, ("cs_treated_now",), (), vcov="CR1",
                      cluster=(s.unit,), level=vc.level, columns=(plan.outcome, "cs_treated_now", s.unit,
                                                                 s.time, s.first_treated))
    table = naive_fit.table()
    table["term"] = ["treated_now" if x == "cs_treated_now" else x for x in table.term]
    naive = find_row(estimate_rows(table, naive_fit.df), "treated_now")
    fit = callaway_santanna_fit(plan, res, naive, naive_fit.nobs, _outcome_sd(source, plan.outcome),
                                notes=(f"fitted on the {b.name} engine from cohort moments ({source.label})",))
    return replace(fit, extras={**fit.extras, "engine": b.name})


def _outcome_sd(source: Source, outcome: str) -> float:
    b, q = source.backend, source.backend.quote
    return float(b.one(f"SELECT STDDEV_SAMP(CAST({q(outcome)} AS DOUBLE)) FROM {source.view}")[0])
