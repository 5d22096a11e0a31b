"""Fitting the two-period DR-DiD estimators (DRDID::drdid / ipwdid / ordid) on panel data or repeated
cross-sections, with DRDID's data checks (``pre_process_drdid``) as located errors."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from causalspec._values import Estimate
from causalspec.designs._common import estimate
from causalspec.designs._family import Fit
from causalspec.errors import DataError, EstimationError, Problem
from causalspec.estimators._linear import r_pivot
from causalspec.estimators.drdid import METHODS, DrDidFailure, cross_sections, panel_data
from causalspec.formula import materialize, quote_name

__all__ = ["fit_drdid"]


def _data_error(loc: str, message: str, fix: str, code: str) -> DataError:
    return DataError(Problem(loc, message, fix=fix, code=code))


def _show(v) -> str:
    return repr(v.item() if hasattr(v, "item") else v)


def _field(plan, column: str, default: str) -> str:
    """The spec field that names a column (the plan records one per column), for error locations."""
    return dict(plan.column_fields).get(column, default)


def _periods(plan, frame: pd.DataFrame) -> np.ndarray:
    """Each row's 0/1 post indicator: DRDID's ``tname == max(tname)``, refused unless there are two periods."""
    s = plan.settings
    where = _field(plan, s.period, "design.time")
    t = frame[s.period]
    if pd.api.types.is_bool_dtype(t):
        t = t.astype(float)
    elif not pd.api.types.is_numeric_dtype(t):
        raise _data_error(where, f"the period column {s.period!r} is not numeric ({t.dtype}); DRDID "
                          "requires a numeric tname.", "Convert the periods to numbers.", "drdid_periods")
    values = np.sort(pd.unique(t.astype(float)))
    if len(values) != 2:
        shown = ", ".join(f"{v:g}" for v in values[:6]) + (", ..." if len(values) > 6 else "")
        raise _data_error(where, f"the DR-DiD estimators cover two periods; {s.period!r} has "
                          f"{len(values)} ({shown}) in the rows analysed.",
                          "Keep the period before and the period after the change, or use design.type event_study "
                          "with estimator callaway_santanna for more periods.", "drdid_periods")
    return (t.to_numpy(float) == values[1]).astype(float)


def _group(plan, frame: pd.DataFrame) -> np.ndarray:
    s = plan.settings
    where = _field(plan, s.group, "design.group")
    g = frame[s.group]
    v = g.to_numpy(dtype=float) if (pd.api.types.is_numeric_dtype(g) or pd.api.types.is_bool_dtype(g)) else None
    if v is None or not np.all((v == 0.0) | (v == 1.0)):
        raise _data_error(where, f"the group column {s.group!r} must be 1 for the treated group and 0 for "
                          "the comparison group.", "Recode the group column to 0/1.", "drdid_group")
    if v.min() == v.max():
        raise _data_error(where, f"the group column {s.group!r} is {v[0]:g} in every row analysed: DRDID "
                          "needs a treated and a comparison group.", "Check the group column and the rows kept.",
                          "drdid_group")
    return v


def _covariates(plan, frame: pd.DataFrame) -> tuple[np.ndarray, tuple[str, ...], tuple[str, ...]]:
    """DRDID's ``model.matrix(xformla)`` with the collinear columns dropped as ``qr(tol = 1e-6)`` drops them."""
    s = plan.settings
    rhs = " + ".join(quote_name(c) for c in s.covariates) or "1"
    design = materialize(f"{quote_name(plan.outcome)} ~ {rhs}", frame)
    x = np.asarray(design.X, dtype=float)
    pivot, rank = r_pivot(x, 1e-6)
    keep = np.sort(pivot[:rank])
    dropped = tuple(t for j, t in enumerate(design.terms) if j not in set(keep.tolist()))
    return x[:, keep], tuple(design.terms[j] for j in keep), dropped


def _panel(plan, frame: pd.DataFrame, post: np.ndarray, d: np.ndarray, x: np.ndarray):
    """One row per unit (DRDID's wide form): y1, y0, d and x, after checking balance and time invariance."""
    s = plan.settings
    unit = frame[s.unit].to_numpy()
    codes, uniques = pd.factorize(unit)
    counts = np.zeros((len(uniques), 2), dtype=int)
    np.add.at(counts, (codes, post.astype(int)), 1)
    if (counts > 1).any():
        bad = uniques[np.flatnonzero((counts > 1).any(axis=1))[0]]
        raise _data_error("design.unit", f"unit {_show(bad)} has more than one row in a period; the unit identifier "
                          "must be unique by period (DRDID's idname).", "Give each unit one row per period.",
                          "drdid_unbalanced")
    single = np.flatnonzero((counts == 0).any(axis=1))
    if single.size:
        raise _data_error("design.unit", f"the panel is unbalanced: {single.size} of {len(uniques)} units are "
                          f"observed in one period only (e.g. unit {_show(uniques[single[0]])}); rows dropped for missing "
                          "values count too. DRDID::drdid would drop them silently (BMisc::makeBalancedPanel).",
                          "Keep the units observed in both periods, or set design.panel: false to treat the data "
                          "as repeated cross-sections.", "drdid_unbalanced")
    order = np.lexsort((post, codes))  # by unit, pre before post
    pre_rows, post_rows = order[0::2], order[1::2]
    if np.any(d[pre_rows] != d[post_rows]):
        raise _data_error(_field(plan, s.group, "design.group"), f"the group column {s.group!r} changes between the periods for some "
                          "units; DRDID requires a time-invariant group indicator.",
                          "Use the group a unit belongs to in both periods (treated after the change).", "drdid_group")
    varying = np.flatnonzero(np.any(x[pre_rows] != x[post_rows], axis=0))
    if varying.size:
        raise _data_error("covariates", "with panel data DRDID requires time-invariant covariates; some differ "
                          "between the two periods for the same unit.", "Use the covariates' pre-treatment values in "
                          "both rows of each unit.", "drdid_covariates_vary")
    y = frame[plan.outcome].to_numpy(float)
    return y[post_rows], y[pre_rows], d[post_rows], x[post_rows], post_rows


def _naive(plan, y: np.ndarray, d: np.ndarray, level: float) -> Estimate:
    """The groups' difference in mean outcomes after the change (Welch SE, estimatr::difference_in_means)."""
    y1, y0 = y[d == 1], y[d == 0]
    diff = float(y1.mean() - y0.mean())
    se = math.sqrt(y1.var(ddof=1) / len(y1) + y0.var(ddof=1) / len(y0)) if min(len(y1), len(y0)) > 1 else math.nan
    return estimate(plan.settings.group, diff, se, level)


def fit_drdid(plan, frame: pd.DataFrame) -> Fit:
    """DRDID::drdid / ipwdid / ordid on two periods: the ATT with DRDID's analytical SE."""
    s, level = plan.settings, plan.vcov.level
    post = _periods(plan, frame)
    d = _group(plan, frame)
    x, terms, dropped_terms = _covariates(plan, frame)
    notes = []
    if dropped_terms:
        notes.append(f"covariates dropped as collinear (DRDID's qr(tol = 1e-6)): {', '.join(dropped_terms)}")
    y = frame[plan.outcome].to_numpy(float)
    if s.panel:
        y1, y0, dd, xx, post_rows = _panel(plan, frame, post, d, x)
        sizes = (int(np.sum(dd == 1)), int(np.sum(dd == 0)))
        data = panel_data(y1, y0, dd, xx)
        y_after, d_after = y1, dd
    else:
        sizes = (int(np.sum(d == 1)), int(np.sum(d == 0)))
        after = post == 1
        data = None
        y_after, d_after = y[after], d[after]
    # DRDID's pre_process: each group needs at least (number of covariates + 5) units (rows per period for RC)
    need = len(s.covariates) + 5
    per = 1 if s.panel else 2
    if min(sizes) / per < need:
        which = "treated" if sizes[0] <= sizes[1] else "comparison"
        raise _data_error(_field(plan, s.group, "design.group"), f"the {which} group has {min(sizes)} {'units' if s.panel else 'rows'}; "
                          f"DRDID needs at least {need} (the covariates plus 5) for inference.",
                          "Use fewer covariates or more data.", "drdid_group")
    try:
        if data is None:
            data = cross_sections(y, post, d, x)
        method = METHODS[s.method]
        res = method(data) if s.method == "reg" else method(data, s.trim_level)
    except DrDidFailure as exc:
        raise EstimationError(Problem("covariates" if s.covariates else "design.drdid_method",
                                      f"the {s.method} DR-DiD estimator cannot be computed: {exc}.",
                                      fix="Remove collinear or nearly constant covariates, or check the overlap of "
                                          "the groups.", code="drdid_failed")) from exc
    notes += list(res.notes)
    effect = estimate("ATT", res.att, res.se, level)
    naive = _naive(plan, y_after, d_after, level)
    n_units = res.n if s.panel else None
    stats_ = [("n_treated", float(sizes[0])), ("n_comparison", float(sizes[1]))]
    if n_units is not None:
        stats_.append(("n_units", float(n_units)))
    extras = {"drdid": {"method": s.method, "panel": s.panel, "r_call": plan.formula, "att": res.att, "se": res.se,
                        "n": res.n, "covariate_terms": list(terms), "dropped_covariates": list(dropped_terms),
                        "trim_level": s.trim_level,
                        "se_formula": "sd(influence function) * sqrt(n - 1) / n (DRDID 1.2.3)"}}
    return Fit(effect, naive, (effect,), (effect.term,), [[res.se ** 2]], len(frame), (), tuple(notes),
               tuple(stats_), extras=extras, outcome_sd=float(np.std(y, ddof=1)))
