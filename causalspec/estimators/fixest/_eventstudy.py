"""Event-study regressors as fixest builds them: ``i(var, treat, ref)`` and ``sunab(cohort, period)``.

``i_dummies`` gives the relative-time indicators (times a numeric treatment)
with fixest's names (``rel_time::-4:treat``).  ``sunab`` gives Sun & Abraham's
cohort x relative-period indicators (``year::-4:cohort::2007``), dropping the
reference period(s), giving never-treated cohorts no indicator and removing
always-treated cohorts; ``sunab_aggregate`` averages the cohort-period
coefficients with the cohorts' sample shares, per relative period, per cohort,
or over all post periods (the ATT), with the delta-method variance
s' V s, as fixest's ``aggregate.fixest``.

Matches fixest::i / fixest::sunab / fixest::aggregate.fixest (R/did.R);
Sun & Abraham (2021), J. Econometrics 225(2).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from causalspec.errors import DataError

__all__ = ["r_number", "i_dummies", "SunabDesign", "sunab", "sunab_aggregate"]


def r_number(v) -> str:
    """A number printed as R prints a factor level (``2007``, ``-4``, ``0.5``)."""
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return f"{float(v):.15g}"
    return str(v)


def i_dummies(var, treat=None, *, ref=(), var_name: str = "var", treat_name: str | None = None):
    """Indicators of each level of ``var`` except ``ref``, optionally times a numeric ``treat``.

    Matches fixest::i(var, treat, ref = ...): columns in sorted level order,
    named ``var::level`` or ``var::level:treat``.

    Returns
    -------
    X : ndarray, shape (n, n_levels)
    names : list of str

    Examples
    --------
    >>> X, names = i_dummies([-1, 0, 1, 0], [1, 1, 1, 0], ref=[-1], var_name="t", treat_name="d")
    >>> names
    ['t::0:d', 't::1:d']
    """
    v = pd.Series(np.asarray(var))
    if v.isna().any():
        raise DataError(f"{var_name} has missing values.", loc=var_name, fix="Drop those rows first.")
    refs = set(np.atleast_1d(ref).tolist()) if ref is not None else set()
    levels = [lv for lv in sorted(v.unique().tolist()) if lv not in refs]
    X = np.column_stack([(v.to_numpy() == lv).astype(float) for lv in levels]) if levels else np.empty((len(v), 0))
    if treat is not None:
        X = X * np.asarray(treat, dtype=float)[:, None]
    suffix = f":{treat_name}" if treat is not None else ""
    names = [f"{var_name}::{r_number(lv)}{suffix}" for lv in levels]
    return X, names


@dataclass(frozen=True)
class SunabDesign:
    """The cohort x relative-period indicators of ``sunab`` and what aggregation needs."""

    X: np.ndarray            # n x m indicators (rows of always-treated cohorts are NaN)
    names: tuple[str, ...]   # "year::-4:cohort::2007"
    periods: tuple[int, ...] # relative period of each column
    cohorts: tuple           # cohort of each column
    period_name: str


def sunab(cohort, period, *, ref_p=(-1,), ref_c=(), period_name: str = "period") -> SunabDesign:
    """Sun & Abraham's interaction-weighted event-study regressors (``fixest::sunab``).

    Matches fixest::sunab(cohort, period, ref.p = -1); Sun & Abraham (2021).

    ``period`` may be calendar time (then relative time is ``period - cohort`` and
    cohorts whose value never occurs in ``period`` are never treated) or already
    relative time (it contains 0, negative and positive values).  Never-treated
    cohorts (only negative relative periods) get no indicator; always-treated
    cohorts (no negative relative period) are removed (their rows are NaN so the
    fit drops them, as fixest does).
    """
    c = np.asarray(cohort)
    p = np.asarray(period, dtype=float)
    if pd.isna(c).any() or np.isnan(p).any():
        raise DataError("sunab: cohort or period has missing values.", loc="sunab",
                        fix="Drop rows with a missing cohort or period first.")
    p_unique = np.unique(p)
    if 0 in p_unique and p_unique.min() < 0 and p_unique.max() > 0:
        rel = p
    else:
        valid = np.isin(c, p_unique)
        if not valid.any():
            raise DataError("sunab: no cohort value occurs in period, so no unit is ever treated.",
                            loc="sunab", fix="cohort must be the period of first treatment (in period's units).")
        rel = np.full(p.shape, -1.0)
        rel[valid] = p[valid] - c[valid].astype(float)
    frame = pd.DataFrame({"c": c, "rel": rel})
    span = frame.groupby("c")["rel"].agg(["min", "max"])
    never = set(span.index[span["max"] < 0].tolist())
    always = set(span.index[span["min"] >= 0].tolist())
    ref_p = set(np.atleast_1d(ref_p).tolist())
    drop = frame["c"].isin(never).to_numpy() | np.isin(rel, list(ref_p)) | frame["c"].isin(list(ref_c)).to_numpy()
    active = frame[~drop]
    pairs = sorted(set(zip(active["rel"].tolist(), active["c"].tolist())))
    X = np.zeros((len(c), len(pairs)))
    idx = np.flatnonzero(~drop)
    if pairs:
        cols = pd.MultiIndex.from_tuples(pairs).get_indexer(pd.MultiIndex.from_arrays([rel[idx], c[idx]]))
        X[idx, cols] = 1.0
    X[frame["c"].isin(always).to_numpy()] = np.nan
    names = tuple(f"{period_name}::{r_number(r)}:cohort::{r_number(cc)}" for r, cc in pairs)
    return SunabDesign(X, names, tuple(int(r) for r, _ in pairs), tuple(cc for _, cc in pairs), period_name)


def sunab_weights(fit, design: SunabDesign, agg: str = "period") -> tuple[list[str], np.ndarray]:
    """The aggregation matrix of ``aggregate.fixest``: one row per aggregate (a relative period, the ATT or a
    cohort), with each cohort x period coefficient's sample share (observations with a non-zero indicator,
    weighted if the fit is) within it.  Aggregates are ``W @ coef``, their covariance ``W V W'``."""
    agg = agg.lower()
    if agg not in ("period", "att", "cohort"):
        raise DataError(f"agg = '{agg}' is not one of 'period', 'att', 'cohort'.", loc="agg",
                        fix="Use period, att or cohort.")
    pos = {nm: j for j, nm in enumerate(fit.names)}
    Xs = design.X[fit.sample.mask]
    w = fit.weights
    groups: dict[str, list[tuple[int, int]]] = {}
    for j, nm in enumerate(design.names):
        if nm not in pos:
            continue  # removed as collinear
        r, cc = design.periods[j], design.cohorts[j]
        if agg == "period":
            key = f"{design.period_name}::{r}"
        elif r < 0:
            continue
        elif agg == "att":
            key = "ATT"
        else:
            key = f"cohort::{r_number(cc)}"
        groups.setdefault(key, []).append((pos[nm], j))
    W = np.zeros((len(groups), len(fit.names)))
    for i, members in enumerate(groups.values()):
        ci = np.array([m[0] for m in members])
        cols = Xs[:, [m[1] for m in members]] != 0
        share = cols.sum(axis=0) if w is None else (w[:, None] * cols).sum(axis=0)
        W[i, ci] = share / share.sum()
    return list(groups), W


def sunab_aggregate(fit, vcov, design: SunabDesign, agg: str = "period", level: float = 0.95) -> pd.DataFrame:
    """Aggregate cohort x period coefficients with cohort sample shares (``aggregate.fixest``).

    Matches fixest::aggregate(fit, agg = "period" | "ATT" | "cohort") for sunab fits
    (shares = observations with a non-zero indicator, weighted if the fit is);
    Sun & Abraham (2021) interaction-weighted estimator.

    Parameters
    ----------
    agg : {"period", "att", "cohort"}
    """
    keys, W = sunab_weights(fit, design, agg)
    est = W @ fit.coef
    se = np.sqrt(np.einsum("ij,jk,ik->i", W, vcov.matrix, W))
    out = pd.DataFrame({"term": keys, "estimate": est, "std_error": se})
    out["statistic"] = out["estimate"] / out["std_error"]
    out["p_value"] = 2 * stats.t.sf(np.abs(out["statistic"]), vcov.df_t)
    q = stats.t.ppf(0.5 + level / 2, vcov.df_t)
    out["conf_low"] = out["estimate"] - q * out["std_error"]
    out["conf_high"] = out["estimate"] + q * out["std_error"]
    return out
