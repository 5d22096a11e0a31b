"""Difference in differences on an engine: the 2x2 regression, and Callaway & Sant'Anna's ATT(g, t) without
covariates, from group means.

``did_2x2`` is ``lm(y ~ post * group)`` through the OLS engine (the plan's variance, sandwich conventions).

``att_gt`` pivots the long panel to one row per unit (``GROUP BY unit``, one column per period), then per
cohort takes the count, the mean outcome vector and the centred cross-product matrix of the outcomes over
periods (two ``GROUP BY cohort`` passes).  Without covariates every 2x2 cell's ATT is a difference of mean
outcome changes, and its unit influence function (did's, rescaled by n / n_cell) is linear in the unit's
outcome vector within a cohort, so did's analytical variance ``V = psi'psi / n`` of *all* cells (hence the
SEs and the pre-test) follows exactly from the cohort moments:
``sum_{i in G} (a'Y_i - k)(b'Y_i - l) = a'C_G b + n_G (a'mu_G - k)(b'mu_G - l)``.
The multiplier bootstrap (random by design) is not offered on the engine.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from causalspec.engines._ols import EngineFit, LinearDesign, solve
from causalspec.engines._sql import Source, lit
from causalspec.errors import DataError, Problem, UnsupportedError

__all__ = ["did_2x2", "att_gt", "EngineAttGt"]

_SE_ZERO = math.sqrt(np.finfo(float).eps) * 10  # did: se <= sqrt(eps) * 10 is reported as NA


def did_2x2(source: Source, outcome: str, post: str, group: str, *, vcov: str = "HC2", cluster=(),
            level: float = 0.95, columns: Sequence[str] | None = None) -> EngineFit:
    """``lm(outcome ~ post * group)`` with the plan's variance: the coefficient ``post:group`` is the DiD."""
    cluster = (cluster,) if isinstance(cluster, str) else tuple(cluster)
    sample = source.sample(tuple(columns or (outcome, post, group, *cluster)), numeric=(outcome, post, group))
    q = sample.q
    design = LinearDesign(sample, sample.view, q(outcome), (q(post), q(group), f"{q(post)} * {q(group)}"),
                          (post, group, f"{post}:{group}"), True)
    return solve(design, vcov, cluster, convention="sandwich", level=level)


@dataclass(frozen=True)
class EngineAttGt:
    """ATT(g, t) cells in did's order with did's analytical SEs and covariance (``vcov = V / n``)."""

    group: np.ndarray
    time: np.ndarray
    att: np.ndarray
    se: np.ndarray
    vcov: np.ndarray
    n_units: int
    notes: tuple[str, ...]
    periods: np.ndarray = None  # the panel's periods, ascending
    cohorts: dict = None  # raw first-treatment value -> did's cohort (+inf: never treated within the window)
    counts: dict = None  # kept raw value -> units
    means: dict = None  # kept raw value -> mean outcome vector over periods
    cross: dict = None  # kept raw value -> centred cross-product matrix of the outcome vectors
    roles: tuple = ()  # per cell: {raw value: (coefficient, centring constant)} or None (NA cell)
    contrasts: tuple = ()  # per cell: the period contrast vector a (psi_i = coefficient * (a'Y_i - constant))


def att_gt(source: Source, outcome: str, time: str, unit: str, first_treated: str, *,
           control_group: str = "nevertreated", anticipation: float = 0, base_period: str = "varying",
           est_method: str = "dr") -> EngineAttGt:
    """``did::att_gt(yname, tname, idname, gname, xformla = NULL, bstrap = FALSE)`` on a balanced panel.

    Without covariates ``dr``, ``ipw`` and ``reg`` give the same cell estimates and influence functions (the
    propensity score and the outcome regression are constants), which is what this computes."""
    if control_group not in ("nevertreated", "notyettreated") or base_period not in ("varying", "universal") \
            or est_method not in ("dr", "ipw", "reg"):
        raise UnsupportedError(Problem("design", "control_group, base_period or est_method has a value did does not "
                                       "offer.", fix="control_group: nevertreated | notyettreated; base_period: "
                                       "varying | universal; est_method: dr | ipw | reg."))
    sample = source.sample((outcome, time, unit, first_treated), numeric=(outcome, time, first_treated))
    b, q = sample.backend, sample.q
    periods = np.array(sorted(float(r[0]) for r in b.rows(f"SELECT DISTINCT {q(time)} FROM {sample.view}")))
    T = len(periods)
    wide = b.fresh("units")
    cols = ", ".join(f"MAX(CASE WHEN {q(time)} = {lit(p)} THEN {q(outcome)} END) AS cs_y{k}"
                     for k, p in enumerate(periods))
    b.view(wide, f"SELECT {q(unit)} AS cs_id, MIN({q(first_treated)}) AS cs_g, MAX({q(first_treated)}) AS cs_g2, "
                 f"COUNT(*) AS cs_rows, COUNT(DISTINCT {q(time)}) AS cs_t, {cols} FROM {sample.view} GROUP BY {q(unit)}")
    n_units, bad_g, short = b.one(f"SELECT COUNT(*), SUM(CASE WHEN cs_g <> cs_g2 THEN 1 ELSE 0 END), "
                                  f"SUM(CASE WHEN cs_rows <> {T} OR cs_t <> {T} THEN 1 ELSE 0 END) FROM {wide}")
    if bad_g:
        raise DataError(Problem(first_treated, f"{first_treated!r} is not constant within unit for {bad_g} unit(s).",
                                fix="Give each unit one first-treatment period (0 if never treated)."))
    if short:
        raise DataError(Problem(unit, f"the panel is unbalanced or has duplicated rows: {short} of {n_units} units "
                                f"do not have exactly one row in each of the {T} periods.",
                                fix="Balance the panel in the data source, or use engine: memory (balance_panel).",
                                code="unbalanced_panel"))
    ys = [f"cs_y{k}" for k in range(T)]
    raw = b.rows("SELECT cs_g, COUNT(*), " + ", ".join(f"{b.sum_fn}({y})" for y in ys) + f" FROM {wide} GROUP BY cs_g")
    gvals = [float(r[0]) for r in raw]
    counts = {g: int(r[1]) for g, r in zip(gvals, raw)}
    mu = {g: np.array(r[2:], dtype=float) / counts[g] for g, r in zip(gvals, raw)}
    pairs = [(i, j) for i in range(T) for j in range(i, T)]
    center = {k: "CASE " + " ".join(f"WHEN cs_g = {lit(g)} THEN {lit(mu[g][k])}" for g in gvals) + " END"
              for k in range(T)}
    rows = b.rows("SELECT cs_g, " + ", ".join(f"{b.sum_fn}((cs_y{i} - {center[i]}) * (cs_y{j} - {center[j]}))"
                                               for i, j in pairs) + f" FROM {wide} GROUP BY cs_g")
    C = {}
    for r in rows:
        M = np.empty((T, T))
        for (i, j), v in zip(pairs, r[1:]):
            M[i, j] = M[j, i] = v
        C[float(r[0])] = M
    return _cells(periods, counts, mu, C, control_group, float(anticipation), base_period)


def _cells(periods, counts, mu, C, control_group, anticipation, base_period) -> EngineAttGt:
    """did's cells (``callaway_santanna._attgt._all_cells``) from the cohort moments."""
    notes = []
    cohort = {}
    for g in counts:  # 0 = never treated; cohorts after the window are never treated within it
        cohort[g] = math.inf if (g == 0 or g > periods[-1] + anticipation) else g
    if not any(math.isinf(c) for c in cohort.values()):
        raise UnsupportedError(Problem("design.first_treated", "there is no never-treated unit; did then drops the "
                                       "periods after the last cohort is treated, which the engine does not do.",
                                       fix="Use engine: memory for this panel.", code="engine_no_never_treated"))
    early = [g for g, c in cohort.items() if c <= periods[0] + anticipation]
    if early:
        notes.append(f"Dropped {sum(counts[g] for g in early)} units already treated in the first period "
                     f"({periods[0]:g}).")
    keep = [g for g in counts if g not in early]
    n = sum(counts[g] for g in keep)
    groups = sorted({cohort[g] for g in keep if math.isfinite(cohort[g])})
    tfac = 0 if base_period == "universal" else 1
    cells = []  # (g, t, att, {raw g: (coefficient, centring constant)}, a)
    for g in groups:
        before = np.flatnonzero(periods + anticipation < g)
        pret_g = int(before[-1]) if before.size else None
        for t in range(periods.size - tfac):
            cur = t + tfac
            pret = pret_g if (base_period == "universal" or g <= periods[cur]) else t
            if pret is None:
                cells.append((g, periods[cur], math.nan, None, None))
                continue
            if base_period == "universal" and pret == cur:
                cells.append((g, periods[cur], 0.0, {}, None))
                continue
            treated = [r for r in keep if cohort[r] == g]
            if control_group == "nevertreated":
                control = [r for r in keep if math.isinf(cohort[r])]
            else:
                control = [r for r in keep if cohort[r] > periods[max(t, pret) + tfac] + anticipation
                           and cohort[r] != g]
            n_t, n_c = sum(counts[r] for r in treated), sum(counts[r] for r in control)
            if not n_t or not n_c:
                notes.append(f"ATT({g:g},{periods[cur]:g}) is NA: no treated or no comparison units.")
                cells.append((g, periods[cur], math.nan, None, None))
                continue
            a = np.zeros(periods.size)
            a[cur] += 1.0
            a[pret] -= 1.0
            m1 = sum(counts[r] * (a @ mu[r]) for r in treated) / n_t
            m0 = sum(counts[r] * (a @ mu[r]) for r in control) / n_c
            n1 = n_t + n_c
            scale = n / n1
            roles = {r: (scale * n1 / n_t, m1) for r in treated}
            roles.update({r: (-scale * n1 / n_c, m0) for r in control})
            cells.append((g, periods[cur], m1 - m0, roles, a))
    k = len(cells)
    V = np.full((k, k), np.nan)
    for i, (_, _, _, ri, ai) in enumerate(cells):
        for j, (_, _, _, rj, aj) in enumerate(cells):
            if ri is None or rj is None:
                continue
            total = 0.0
            for r in set(ri) & set(rj):
                (ci, ki), (cj, kj) = ri[r], rj[r]
                total += ci * cj * (ai @ C[r] @ aj + counts[r] * (ai @ mu[r] - ki) * (aj @ mu[r] - kj))
            V[i, j] = total / n
    se = np.sqrt(np.diag(V) / n)
    se[~(se > _SE_ZERO)] = np.nan
    kept = {g: cohort[g] for g in keep}
    return EngineAttGt(np.array([c[0] for c in cells], float), np.array([c[1] for c in cells], float),
                       np.array([c[2] for c in cells], float), se, V / n, n, tuple(notes), periods, kept,
                       {g: counts[g] for g in keep}, {g: mu[g] for g in keep}, {g: C[g] for g in keep},
                       tuple(c[3] for c in cells), tuple(c[4] for c in cells))
