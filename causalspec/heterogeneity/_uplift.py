"""Uplift evaluation: uplift and Qini curves, AUUC, the Qini coefficient, uplift at k.

Each function reproduces, operation for operation, the scikit-uplift 0.5.1 function of the same name
(``sklift.metrics``: ``uplift_curve``, ``qini_curve``, ``perfect_uplift_curve``, ``perfect_qini_curve``,
``uplift_auc_score``, ``qini_auc_score``, ``uplift_at_k``; Radcliffe 2007, "Using control groups to target on
predicted lift") and CausalML 0.16's ``causalml.metrics.get_qini`` (one model column), so the numbers agree to
rounding (tests/parity/cases/hte_uplift_*.json).  Unlike scikit-uplift the curves also accept a numeric outcome
(the AUC scores' "perfect" curves need a 0/1 outcome, as there).  Ranking is by descending score; ties are
grouped into one threshold (scikit-uplift) or kept in sort order (CausalML: stable here, quicksort there, so
give tie-free scores when comparing with CausalML).
"""

from __future__ import annotations

import numpy as np

from causalspec.errors import DataError, Problem

__all__ = ["uplift_curve", "qini_curve", "perfect_uplift_curve", "perfect_qini_curve", "uplift_auc_score",
           "qini_auc_score", "uplift_at_k", "get_qini", "auc"]


def _arrays(y, score, t, binary_y: bool = False):
    y, score, t = np.asarray(y), np.asarray(score), np.asarray(t)
    if not (len(y) == len(score) == len(t)):
        raise DataError(Problem("", f"outcome, score and treatment have different lengths ({len(y)}, "
                                f"{len(score)}, {len(t)}).", code="length_mismatch"))
    if not set(np.unique(t).tolist()) <= {0, 1}:
        raise DataError(Problem("treatment", "uplift curves need a 0/1 treatment.", code="treatment_not_binary"))
    if binary_y and not set(np.unique(y).tolist()) <= {0, 1}:
        raise DataError(Problem("outcome", "this score's perfect curve needs a 0/1 outcome.",
                                fix="Use the curve itself (uplift_curve / qini_curve) for a numeric outcome.",
                                code="outcome_not_binary"))
    if not np.all(np.isfinite(score.astype(float))):
        raise DataError(Problem("", "the scores are not all finite.", code="score_not_finite"))
    return y, score, t


def auc(x, y) -> float:
    """Trapezoidal area (sklearn.metrics.auc for an increasing x)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    trapezoid = getattr(np, "trapezoid", None) or np.trapz
    return float(trapezoid(y, x))


def _cumulative(y, score, t):
    order = np.argsort(score, kind="mergesort")[::-1]
    y, score, t = y[order], score[order], t[order]
    y_ctrl, y_trmnt = y.astype(float).copy(), y.astype(float).copy()
    y_ctrl[t == 1] = 0
    y_trmnt[t == 0] = 0
    threshold = np.r_[np.where(np.diff(score))[0], score.size - 1]
    num_trmnt = np.cumsum(t, dtype=np.float64)[threshold]
    y_trmnt = np.cumsum(y_trmnt, dtype=np.float64)[threshold]
    num_all = threshold + 1
    num_ctrl = num_all - num_trmnt
    y_ctrl = np.cumsum(y_ctrl, dtype=np.float64)[threshold]
    return num_all, num_trmnt, num_ctrl, y_trmnt, y_ctrl


def _from_origin(num_all, values):
    if num_all.size == 0 or values[0] != 0 or num_all[0] != 0:
        return np.r_[0, num_all], np.r_[0, values]
    return num_all, values


def uplift_curve(y, score, t) -> tuple[np.ndarray, np.ndarray]:
    """(number targeted, (treated response rate - control response rate) x number targeted) at each distinct
    score, from (0, 0)."""
    y, score, t = _arrays(y, score, t)
    num_all, nt, nc, yt, yc = _cumulative(y, score, t)
    values = (np.divide(yt, nt, out=np.zeros_like(yt), where=nt != 0)
              - np.divide(yc, nc, out=np.zeros_like(yc), where=nc != 0)) * num_all
    return _from_origin(num_all, values)


def qini_curve(y, score, t) -> tuple[np.ndarray, np.ndarray]:
    """(number targeted, treated responders - control responders x n_treated / n_control) at each distinct score."""
    y, score, t = _arrays(y, score, t)
    num_all, nt, nc, yt, yc = _cumulative(y, score, t)
    values = yt - yc * np.divide(nt, nc, out=np.zeros_like(nt), where=nc != 0)
    return _from_origin(num_all, values)


def perfect_uplift_curve(y, t):
    """scikit-uplift's ideal uplift curve (treated responders and control non-responders first)."""
    y, _, t = _arrays(y, np.zeros(len(y)), t, binary_y=True)
    cr_num = np.sum((y == 1) & (t == 0))
    tn_num = np.sum((y == 0) & (t == 1))
    summand = y if cr_num > tn_num else t
    return uplift_curve(y, 2 * (y == t) + summand, t)


def perfect_qini_curve(y, t, negative_effect: bool = True):
    """scikit-uplift's ideal Qini curve; ``negative_effect=False`` assumes no unit is harmed (Radcliffe)."""
    y, _, t = _arrays(y, np.zeros(len(y)), t, binary_y=True)
    if negative_effect:
        return qini_curve(y, y * t - y * (1 - t), t)
    ratio_random = y[t == 1].sum() - len(y[t == 1]) * y[t == 0].sum() / len(y[t == 0])
    return np.array([0, ratio_random, len(y)]), np.array([0, ratio_random, ratio_random])


def _normalised_area(actual, perfect) -> float:
    (xa, ya), (xp, yp) = actual, perfect
    baseline = auc(np.array([0, xp[-1]]), np.array([0, yp[-1]]))
    return (auc(xa, ya) - baseline) / (auc(xp, yp) - baseline)


def uplift_auc_score(y, score, t) -> float:
    """AUUC: the area between the uplift curve and the random line, over that of the perfect curve."""
    return _normalised_area(uplift_curve(y, score, t), perfect_uplift_curve(y, t))


def qini_auc_score(y, score, t, negative_effect: bool = True) -> float:
    """The Qini coefficient: the area between the Qini curve and the random line, over that of the perfect curve."""
    return _normalised_area(qini_curve(y, score, t), perfect_qini_curve(y, t, negative_effect))


def uplift_at_k(y, score, t, strategy: str = "overall", k: float | int = 0.3) -> float:
    """Treated minus control response among the top k (a share in (0, 1) or a count) by score; ``by_group``
    takes the top k of each arm separately (scikit-uplift's ``uplift_at_k``)."""
    y, score, t = _arrays(y, score, t)
    n = len(y)
    if strategy not in ("overall", "by_group"):
        raise DataError(Problem("strategy", f"{strategy!r} is not a strategy.", fix="Use overall or by_group.",
                                code="uplift_strategy"))
    is_int = np.asarray(k).dtype.kind == "i"
    if (is_int and (k >= n or k <= 0)) or (not is_int and (k <= 0 or k >= 1)):
        raise DataError(Problem("k", f"k={k} must be a count in (0, {n}) or a share in (0, 1).",
                                code="uplift_k"))
    order = np.argsort(score, kind="mergesort")[::-1]
    ys, ts = y[order], t[order]
    if strategy == "overall":
        size = k if is_int else int(n * k)
        top_y, top_t = ys[:size], ts[:size]
        if top_t.min() == top_t.max():
            raise DataError(Problem("k", f"the top {size} units hold only one arm: uplift at k is undefined.",
                                    fix="Use a larger k or strategy by_group.", code="uplift_k_one_arm"))
        return float(top_y[top_t == 1].mean() - top_y[top_t == 0].mean())
    n_c = k if is_int else int((t == 0).sum() * k)
    n_t = k if is_int else int((t == 1).sum() * k)
    if n_c > (t == 0).sum() or n_t > (t == 1).sum() or min(n_c, n_t) == 0:
        raise DataError(Problem("k", f"k={k} selects no units, or more than an arm holds.", code="uplift_k"))
    return float(ys[ts == 1][:n_t].mean() - ys[ts == 0][:n_c].mean())


def get_qini(y, score, t, normalize: bool = False) -> np.ndarray:
    """CausalML's ``get_qini`` for one score: the Qini value after each unit (index 0..n, from 0), unit by unit
    in descending score order, with undefined points (no control yet) linearly interpolated as pandas does."""
    y, score, t = _arrays(y, score, t)
    order = np.argsort(-np.asarray(score, float), kind="stable")
    ys, ts = y[order].astype(float), t[order].astype(float)
    index = np.arange(1, len(ys) + 1)
    cum_t = np.cumsum(ts)
    cum_c = index - cum_t
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.cumsum(ys * ts) - np.cumsum(ys * (1 - ts)) * cum_t / cum_c
    q = np.r_[0.0, q]
    bad = np.isnan(q)
    if bad.any():  # pandas .interpolate(): linear between valid neighbours, the last valid value carried forward
        good = np.flatnonzero(~bad)
        q[bad] = np.interp(np.flatnonzero(bad), good, q[good])
    if normalize:
        q = q / abs(q[-1])
    return q
