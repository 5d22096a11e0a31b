"""Covariate balance as MatchIt's ``summary()`` reports it: means, standardized mean differences, variance ratios,
eCDF statistics and pair distances, before and after matching; sample sizes (the love plot is in report/)."""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import pandas as pd

__all__ = ["BALANCE_COLUMNS", "balance_table", "sample_sizes"]

_SQRT_EPS = math.sqrt(np.finfo(float).eps)


def _wvar(x: np.ndarray, binary: bool, w: np.ndarray) -> float:
    w = w / w.sum()
    mx = float(np.sum(w * x))
    if binary:
        return mx * (1.0 - mx)
    # reliability-weights variance, as cov.wt()
    return float(np.sum(w * (x - mx) ** 2) / (1.0 - np.sum(w**2)))


def _ecdf_stats(x: np.ndarray, t: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    w = w.astype(float).copy()
    for g in (0, 1):
        s = w[t == g].sum()
        if s > 0:
            w[t == g] /= s
    o = np.argsort(x, kind="stable")
    xs, ws, ts = x[o], w[o], t[o]
    ws = np.where(ts == ts[0], -ws, ws)
    cum = np.abs(np.cumsum(ws))
    last = np.append(np.diff(xs) != 0, True)
    e = cum[last]
    return float(np.mean(e)), float(np.max(e))


def _pair_dist(x: np.ndarray, t: np.ndarray, subclass: np.ndarray | None, mm: np.ndarray | None,
               focal: np.ndarray | None = None) -> float:
    """``MatchIt:::pair.dist``: the mean |difference| over the match matrix's pairs when there is one (rows: the
    focal units), else over every treated-control pair within each subclass (``pairdistsubC``)."""
    if mm is not None:
        fr = np.flatnonzero((t if focal is None else focal) == 1)
        ok = mm >= 0
        return float(np.mean(np.abs(x[fr][:, None] - x[np.where(ok, mm, 0)])[ok])) if ok.any() else math.nan
    if subclass is not None:
        diffs = []
        for s in np.unique(subclass[subclass > 0]):
            idx = np.flatnonzero(subclass == s)
            xt, xc = x[idx][t[idx] == 1], x[idx][t[idx] == 0]
            diffs.append(np.abs(xt[:, None] - xc[None, :]).ravel())
        return float(np.mean(np.concatenate(diffs))) if diffs else math.nan
    return math.nan


def _bal1var(x: np.ndarray, t: np.ndarray, w: np.ndarray | None, std_denom: float | None, *,
             subclass: np.ndarray | None = None, mm: np.ndarray | None = None, pair_dist: bool = True,
             standardize: bool = True, focal: np.ndarray | None = None) -> list[float]:
    un = w is None
    ww = np.ones(len(x)) if un else w
    binary = bool(np.all((x == 0) | (x == 1)))
    i1, i0 = t == 1, t == 0
    too_small = np.count_nonzero(ww[i1]) < 2 and np.count_nonzero(ww[i0]) < 2
    m1 = float(np.sum(x[i1] * ww[i1]) / np.sum(ww[i1]))
    m0 = float(np.sum(x[i0] * ww[i0]) / np.sum(ww[i0]))
    mdiff = m1 - m0
    out = [m1, m0, math.nan, math.nan, math.nan, math.nan, math.nan]
    if standardize and abs(mdiff) > _SQRT_EPS:
        if not too_small:
            out[2] = mdiff / std_denom
            if not un and pair_dist:
                pdist = _pair_dist(x, t, subclass, mm, focal)
                out[6] = pdist / std_denom if abs(pdist) > 1e-8 else pdist
    else:
        out[2] = mdiff
        if not un and pair_dist:
            out[6] = _pair_dist(x, t, subclass, mm, focal)
    if binary:
        out[4] = out[5] = abs(mdiff)
    elif not too_small:
        with np.errstate(divide="ignore", invalid="ignore"):  # R: 0/0 is NaN, x/0 Inf
            out[3] = float(np.float64(_wvar(x[i1], False, ww[i1])) / np.float64(_wvar(x[i0], False, ww[i0])))
        out[4], out[5] = _ecdf_stats(x, t, ww)
    return out


BALANCE_COLUMNS = ("Means Treated", "Means Control", "Std. Mean Diff.", "Var. Ratio", "eCDF Mean", "eCDF Max",
                   "Std. Pair Dist.")


def balance_table(X: pd.DataFrame, treat: np.ndarray, weights: np.ndarray | None = None, *,
                  subclass: np.ndarray | None = None, mm: np.ndarray | None = None, standardize: bool = True,
                  pair_dist: bool = True, estimand: Literal["ATT", "ATC", "ATE"] = "ATT",
                  focal: np.ndarray | None = None) -> pd.DataFrame:
    """Balance statistics per covariate, as ``summary.matchit()`` (``sum.all`` without weights,
    ``sum.matched`` with them).

    The SMD denominator is computed in the full, unweighted sample: the treated SD for the
    ATT, the control SD for the ATC, sqrt of the mean of the two group variances for the ATE (binary variables:
    p(1-p) as the variance); eCDF statistics are the mean and max
    differences of the weighted eCDFs; the pair distance is the mean absolute
    within-pair difference (Stuart & Green 2008).  NaN where MatchIt prints ".".
    """
    t = np.asarray(treat).astype(int)
    rows = []
    for name in X.columns:
        x = np.asarray(X[name], dtype=float)
        binary = bool(np.all((x == 0) | (x == 1)))
        ones = np.ones(len(x))
        if estimand == "ATT":
            sd = math.sqrt(_wvar(x[t == 1], binary, ones[t == 1]))
        elif estimand == "ATC":
            sd = math.sqrt(_wvar(x[t == 0], binary, ones[t == 0]))
        else:
            sd = math.sqrt((_wvar(x[t == 1], binary, ones[t == 1]) + _wvar(x[t == 0], binary, ones[t == 0])) / 2)
        if not math.isfinite(sd) or sd < _SQRT_EPS:
            sd = _pooled_sd(x, t, binary)
        rows.append(_bal1var(x, t, None if weights is None else np.asarray(weights, dtype=float), sd,
                             subclass=subclass, mm=mm, pair_dist=pair_dist, standardize=standardize, focal=focal))
    cols = list(BALANCE_COLUMNS) if standardize else ["Means Treated", "Means Control", "Mean Diff.", "Var. Ratio",
                                                      "eCDF Mean", "eCDF Max", "Pair Dist."]
    return pd.DataFrame(rows, index=list(X.columns), columns=cols)


def _pooled_sd(x: np.ndarray, t: np.ndarray, binary: bool) -> float:
    # MatchIt's pooled_sd(contribution = "proportional") fallback when the group SD is ~0
    n = len(x)
    if binary:
        return math.sqrt(sum(x[t == g].sum() * (1 - x[t == g].sum() / (t == g).sum()) / n for g in (0, 1)))
    r = x.copy()
    for g in (0, 1):
        r[t == g] -= r[t == g].mean()
    return math.sqrt(float(np.sum(r**2) / (n - 2)))


def sample_sizes(treat: np.ndarray, weights: np.ndarray, discarded: np.ndarray | None = None) -> pd.DataFrame:
    """``summary(m)$nn``: all, matched, unmatched and discarded counts, and effective sample sizes."""
    t = np.asarray(treat).astype(int)
    w = np.asarray(weights, dtype=float)
    disc = np.zeros(len(t), dtype=bool) if discarded is None else discarded

    def ess(v: np.ndarray) -> float:
        return float(v.sum() ** 2 / np.sum(v**2)) if np.sum(v**2) > 0 else 0.0

    rows = {}
    for g, name in ((0, "Control"), (1, "Treated")):
        s = t == g
        rows[name] = {"All (ESS)": ess(np.ones(s.sum())), "All": int(s.sum()), "Matched (ESS)": ess(w[s]),
                      "Matched": int((s & (w > 0)).sum()), "Unmatched": int((s & (w == 0) & ~disc).sum()),
                      "Discarded": int((s & disc).sum())}
    return pd.DataFrame(rows)
