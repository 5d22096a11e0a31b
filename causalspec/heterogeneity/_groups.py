"""Group effects with honest inference, from AIPW scores and out-of-fold CATEs.

* ``group_ates``: the doubly robust ATE within each named segment, mean of the AIPW scores, SE = sd / sqrt(n_g)
  (the influence-function variance; Semenova & Chernozhukov 2021, Econometrics Journal);
* ``blp`` and ``gates``: Chernozhukov, Demirer, Duflo & Fernandez-Val (2018/2025, "Generic machine learning
  inference on heterogeneous treatment effects"), strategy A: the weighted regressions of Theorem 2.1 (BLP) and
  Theorem 3.1 (GATES) with weights 1 / (e (1 - e)), controls (1, B, S) and HC1 SEs, on one split (the CATE proxy
  S must be out of fold; the paper's repeated-split median aggregation is left to the caller);
* ``clan``: covariate means in the most and least affected groups and their difference (CDDF section 3.3);
* ``rate``: grf's ``rank_average_treatment_effect.fit`` (Yadlowsky et al. 2025, "Evaluating treatment
  prioritization rules via rank-weighted average treatment effects"): AUTOC or QINI and the TOC on a grid, ties
  in the priority averaged, SEs from grf's half-sample bootstrap (clusters = units; numpy Generator from the seed,
  so the SE is grf's estimator but not R's random draws).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy import stats

from causalspec.errors import DataError, Problem

__all__ = ["GroupEffect", "group_ates", "gates", "blp", "BLP", "clan", "rate", "RATE", "quantile_groups",
           "is_constant_proxy"]


@dataclass(frozen=True)
class GroupEffect:
    group: str
    estimate: float
    std_error: float
    conf_low: float
    conf_high: float
    n: int
    n_treated: int
    n_control: int


def _ci(est, se, level):
    z = stats.norm.ppf(0.5 + level / 2)
    return float(est - z * se), float(est + z * se)


def group_ates(scores, t, labels, e=None, *, level: float = 0.95, loc: str = "heterogeneity.segments",
               min_arm: int = 2, overlap: float = 0.02) -> tuple[tuple[GroupEffect, ...], tuple[str, ...]]:
    """The AIPW ATE in each group.  A group without treated or control units (fewer than ``min_arm``) is a
    located error; one whose propensities sit outside [overlap, 1 - overlap] gets a warning."""
    scores, t, labels = np.asarray(scores, float), np.asarray(t), np.asarray(labels)
    rows, notes, problems = [], [], []
    for g in sorted(np.unique(labels).tolist(), key=str):
        sel = labels == g
        nt, nc = int((t[sel] == 1).sum()), int((t[sel] == 0).sum())
        if min(nt, nc) < min_arm:
            problems.append(Problem(loc, f"segment {g!r} has {nt} treated and {nc} control units: its effect is "
                                    "not identified from these data.", fix="Merge it with a neighbouring segment "
                                    "or drop it.", code="segment_one_arm"))
            continue
        if e is not None and (np.median(e[sel]) < overlap or np.median(e[sel]) > 1 - overlap):
            notes.append(f"segment {g!r}: propensity scores near 0 or 1 (median {np.median(e[sel]):.3f}); little "
                         "overlap, its effect leans on the outcome model")
        est = float(scores[sel].mean())
        se = float(scores[sel].std(ddof=1) / np.sqrt(sel.sum()))
        rows.append(GroupEffect(str(g), est, se, *_ci(est, se, level), int(sel.sum()), nt, nc))
    if problems:
        raise DataError(problems)
    return tuple(rows), tuple(notes)


def quantile_groups(score, k: int = 5) -> np.ndarray:
    """Group 1..k by quantile of ``score`` (1 = lowest); ties broken by order of appearance, so groups have equal
    size up to one unit."""
    score = np.asarray(score, float)
    if len(np.unique(score)) < 2:
        raise DataError(Problem("heterogeneity.segments", "the predicted CATE is constant: it cannot be split into "
                                "quantile groups.", fix="Use a learner or modifiers that let the effect vary.",
                                code="cate_constant"))
    ranks = np.argsort(np.argsort(score, kind="stable"), kind="stable")
    return 1 + (ranks * k) // len(score)


def _wls_hc1(y, X, w):
    sw = np.sqrt(w)
    Xw, yw = X * sw[:, None], y * sw
    Q, R = np.linalg.qr(Xw)
    beta = np.linalg.solve(R, Q.T @ yw)
    u = yw - Xw @ beta
    Rinv = np.linalg.solve(R, np.eye(R.shape[0]))
    bread = Rinv @ Rinv.T
    meat = (Xw * u[:, None]).T @ (Xw * u[:, None])
    n, p = X.shape
    V = bread @ meat @ bread * n / (n - p)
    return beta, V


@dataclass(frozen=True)
class BLP:
    ate: float
    ate_se: float
    het: float
    het_se: float
    het_p_value: float  # H0: beta2 = 0 against beta2 > 0 (one-sided, as CDDF)


def is_constant_proxy(S) -> bool:
    """Whether predicted effects are one number up to rounding (spread under 1e-9 of their size): an S-learner
    with a linear outcome model, for one, predicts ``b`` for everyone, give or take the last bits."""
    S = np.asarray(S, float)
    return bool(np.ptp(S) <= 1e-9 * max(float(np.abs(S).max()), np.finfo(float).tiny))


def _controls(S, B):
    S = np.asarray(S, float)
    cols = [np.ones(len(S)), S] if B is None else [np.ones(len(S)), np.asarray(B, float), S]
    return np.column_stack(cols)


def blp(y, t, e, S, B=None) -> BLP:
    """BLP of the CATE given the proxy S: y = a'(1, B, S) + b1 (t - e) + b2 (t - e)(S - mean S), weights
    1 / (e (1 - e)).  b1 is the ATE, b2 = 1 when S is the CATE; b2 > 0 is evidence of heterogeneity."""
    y, t, e, S = (np.asarray(a, float) for a in (y, t, e, S))
    if is_constant_proxy(S):
        raise DataError(Problem("heterogeneity", "the CATE proxy is constant: BLP needs variation in it.",
                                code="cate_constant"))
    X = np.column_stack([_controls(S, B), t - e, (t - e) * (S - S.mean())])
    beta, V = _wls_hc1(y, X, 1 / (e * (1 - e)))
    se = np.sqrt(np.diag(V))
    return BLP(float(beta[-2]), float(se[-2]), float(beta[-1]), float(se[-1]),
               float(stats.norm.sf(beta[-1] / se[-1])))


def gates(y, t, e, S, B=None, k: int = 5, level: float = 0.95) -> tuple[tuple[GroupEffect, ...], GroupEffect]:
    """GATES by quantile of the proxy S (group 1 lowest): y = a'(1, B, S) + sum_g g_k (t - e) 1(G_k), weights
    1 / (e (1 - e)), HC1; with the difference top minus bottom group."""
    y, t, e, S = (np.asarray(a, float) for a in (y, t, e, S))
    groups = quantile_groups(S, k)
    D = np.column_stack([(t - e) * (groups == g) for g in range(1, k + 1)])
    for g in range(1, k + 1):
        sel = groups == g
        if min((t[sel] == 1).sum(), (t[sel] == 0).sum()) < 2:
            raise DataError(Problem("heterogeneity.segments", f"CATE quantile group {g} of {k} lacks treated or "
                                    "control units.", fix="Use fewer groups.", code="segment_one_arm"))
    X = np.column_stack([_controls(S, B), D])
    beta, V = _wls_hc1(y, X, 1 / (e * (1 - e)))
    c = X.shape[1] - k
    rows = []
    for g in range(k):
        est, se = float(beta[c + g]), float(np.sqrt(V[c + g, c + g]))
        sel = groups == g + 1
        rows.append(GroupEffect(f"G{g + 1}", est, se, *_ci(est, se, level), int(sel.sum()),
                                int((t[sel] == 1).sum()), int((t[sel] == 0).sum())))
    a = np.zeros(X.shape[1])
    a[c + k - 1], a[c] = 1, -1
    est, se = float(a @ beta), float(np.sqrt(a @ V @ a))
    diff = GroupEffect(f"G{k} - G1", est, se, *_ci(est, se, level), len(y), int(t.sum()), int((1 - t).sum()))
    return tuple(rows), diff


def clan(S, covariates: dict[str, np.ndarray], k: int = 5, level: float = 0.95) -> dict[str, dict]:
    """Means of each covariate in the most (G_k) and least (G_1) affected groups, and their difference with a
    Welch SE and CI."""
    groups = quantile_groups(S, k)
    out = {}
    for name, values in covariates.items():
        v = np.asarray(values, float)
        hi, lo = v[groups == k], v[groups == 1]
        diff = float(hi.mean() - lo.mean())
        se = float(np.sqrt(hi.var(ddof=1) / len(hi) + lo.var(ddof=1) / len(lo)))
        low, high = _ci(diff, se, level)
        out[name] = {"most_affected": float(hi.mean()), "least_affected": float(lo.mean()), "difference": diff,
                     "std_error": se, "conf_low": low, "conf_high": high}
    return out


@dataclass(frozen=True)
class RATE:
    target: str
    estimate: float
    std_error: float
    q: tuple[float, ...]
    toc: tuple[float, ...]
    toc_se: tuple[float, ...]


def _estimate_rate(dr, w, prio, q, target):
    """grf's estimate_rate: (RATE, TOC on q) for scores ``dr`` (already x w), weights w, integer priorities."""
    sort_idx = np.argsort(-prio, kind="stable")  # R's order(decreasing = TRUE) keeps ties in index order
    p_sorted, w_sorted = prio[sort_idx], w[sort_idx]
    raw = dr[sort_idx] / w_sorted
    if len(np.unique(p_sorted)) == len(p_sorted):
        dr_sorted = raw
    else:  # ties: average score (weighted) within each tied priority group
        starts = np.r_[0, np.flatnonzero(np.diff(p_sorted)) + 1]
        sums = np.add.reduceat(dr[sort_idx], starts)
        wsums = np.add.reduceat(w_sorted, starts)
        dr_sorted = np.repeat(sums / wsums, np.diff(np.r_[starts, len(p_sorted)]))
    wc = np.cumsum(w_sorted)
    wsum = wc[-1]
    ate = np.sum(dr_sorted * w_sorted) / wsum
    toc = np.cumsum(dr_sorted * w_sorted) / wc - ate
    if target == "AUTOC":
        value = np.sum(toc * w_sorted) / np.sum(w_sorted)
    else:
        value = np.sum(wc / wsum * w_sorted * toc) / np.sum(w_sorted)
    nw = q * wsum
    idx = np.searchsorted(wc, nw + 1e-15, side="right")  # R's findInterval
    den_adj = nw - wc[np.maximum(idx, 1) - 1]
    num_adj = den_adj * dr_sorted[np.minimum(idx + 1, idx.max()) - 1]
    idx = np.maximum(idx, 1)
    cs = np.cumsum(dr_sorted * w_sorted)
    toc_grid = (cs[idx - 1] + num_adj) / (wc[idx - 1] + den_adj) - ate
    return value, toc_grid


def rate(scores, priorities, target: str = "AUTOC", q=None, R: int = 200, seed: int = 0,
         level: float = 0.95) -> RATE:
    """grf's RATE of a prioritisation rule: AUTOC (average of the TOC) or QINI (the TOC weighted by the share
    treated), with the TOC at ``q`` (default 0.1, ..., 1) and half-sample bootstrap SEs (R draws)."""
    target = target.upper()
    if target not in ("AUTOC", "QINI"):
        raise DataError(Problem("target", f"{target!r} is not a RATE target.", fix="Use AUTOC or QINI.",
                                code="rate_target"))
    scores = np.asarray(scores, float)
    prio = np.unique(np.asarray(priorities), return_inverse=True)[1].ravel() + 1  # as.integer(as.factor(x))
    if len(prio) != len(scores) or not np.all(np.isfinite(scores)):
        raise DataError(Problem("", "scores and priorities must have the same length, without missing values.",
                                code="rate_input"))
    q = np.round(np.arange(1, 11) / 10, 10) if q is None else np.asarray(q, float)
    if np.any(np.diff(q) <= 0) or q.min() <= 0 or q.max() != 1:
        raise DataError(Problem("q", "q must be an increasing grid of fractions in (0, 1] ending at 1.",
                                code="rate_grid"))
    w = np.ones(len(scores))
    est, toc = _estimate_rate(scores * w, w, prio, q, target)
    rng = np.random.default_rng(seed)
    half = len(scores) // 2
    boot = np.empty((R, 1 + len(q)))
    for r in range(R):
        idx = rng.choice(len(scores), half, replace=False)
        b, bt = _estimate_rate(scores[idx], w[idx], prio[idx], q, target)
        boot[r] = np.r_[b, bt]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        se = boot.std(axis=0, ddof=1) if R >= 2 else np.zeros(1 + len(q))
    clean = lambda a: np.where(np.abs(a) < 1e-15, 0.0, a)  # noqa: E731  (grf zeroes tiny values)
    est, toc, se = float(clean(np.array([est]))[0]), clean(toc), clean(se)
    return RATE(target, est, float(se[0]), tuple(q.tolist()), tuple(toc.tolist()), tuple(se[1:].tolist()))
