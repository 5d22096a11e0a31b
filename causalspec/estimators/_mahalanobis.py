"""Mahalanobis-distance nearest-neighbour matching, as ``MatchIt::matchit(method = "nearest", distance =
"mahalanobis")`` (4.5.1).

MatchIt does not compute ``(x - y)' S^- (x - y)`` directly: ``transform_covariates()`` scales the covariates
(``scale()``), takes their pooled within-group covariance, inverts it (``solve()``, or the SVD generalized inverse
when ``det() <= 1e-8`` -- always when a factor enters with all its levels), and maps the scaled covariates through
the pivoted Cholesky factor of that inverse (``chol(pivot = TRUE)``); ``nn_matchC`` then matches on Euclidean
distances between the mapped rows.  For a rank-deficient inverse LAPACK's ``dpstf2`` stops early and leaves the
trailing block of its output untouched, and R returns that block, so MatchIt's distance is then not the
Mahalanobis distance of the generalized inverse; it is reproduced here step by step (the same sums in the same
order, R's long-double accumulation for means and sums), so the matched sets are MatchIt's.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from causalspec.formula._evaluate import Factor, evaluate
from causalspec.formula._parse import parse_formula
from causalspec.formula._terms import variable_nodes

__all__ = ["distance_covariates", "mahalanobis_transform", "nn_match_covariates", "r_sum", "r_mean"]

_LD = np.longdouble
_SQRT_EPS = math.sqrt(np.finfo(float).eps)


def r_sum(x: np.ndarray) -> float:
    """R's ``sum()`` of doubles: accumulated left to right in long double, rounded once."""
    x = np.asarray(x, dtype=float)
    return float(np.cumsum(x.astype(_LD))[-1]) if x.size else 0.0


def r_mean(x: np.ndarray) -> float:
    """R's ``mean()`` of doubles: the long-double mean plus one correction pass (``summary.c``)."""
    x = np.asarray(x, dtype=float).astype(_LD)
    n = x.size
    s = np.cumsum(x)[-1] / n
    if np.isfinite(s):
        s = s + np.cumsum(x - s)[-1] / n
    return float(s)


def distance_covariates(formula: str, data: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    """``MatchIt:::get.covs.matrix.for.dist``: every right-hand-side variable, a factor as one indicator per
    level divided by sqrt(2) (``contrasts(contrasts = FALSE) / sqrt(2)``), no intercept."""
    parsed = parse_formula(formula)
    columns = {str(c): c for c in data.columns}
    cols: list[np.ndarray] = []
    names: list[str] = []
    inv_sqrt2 = 1.0 / math.sqrt(2.0)
    for label, node in variable_nodes(parsed.rhs, {}).items():
        v = evaluate(node, data, columns)
        if isinstance(v, Factor):
            for i, level in enumerate(v.levels):
                cols.append(np.where(v.codes == i, inv_sqrt2, 0.0))
                names.append(label + level)
        else:
            for k, sfx in enumerate(v.suffixes):
                cols.append(np.asarray(v.values[:, k], dtype=float))
                names.append(label + sfx)
    return np.column_stack(cols) if cols else np.zeros((len(data), 0)), names


def _scale(X: np.ndarray) -> np.ndarray:
    """``scale(X)``: centre by ``colMeans`` (long double), divide by sqrt(sum(x^2) / (n - 1)) (long-double sum)."""
    n = X.shape[0]
    out = np.empty_like(X)
    for j in range(X.shape[1]):
        centre = float(np.cumsum(X[:, j].astype(_LD))[-1] / n)
        x = X[:, j] - centre
        sd = math.sqrt(r_sum(x * x) / max(1, n - 1))
        out[:, j] = x / sd
    return out


def _pooled_cov(X: np.ndarray, treat: np.ndarray) -> np.ndarray:
    """``MatchIt:::pooled_cov`` without sampling weights: ``cov()`` of the group-centred columns times
    (n - 1) / (n - groups), with ``cov()``'s two-pass long-double means and long-double cross products."""
    X = X.copy()
    groups = list(dict.fromkeys(treat.tolist()))
    for g in groups:
        rows = treat == g
        for j in range(X.shape[1]):
            X[rows, j] = X[rows, j] - r_mean(X[rows, j])
    n, k = X.shape
    means = [r_mean(X[:, j]) for j in range(k)]
    S = np.empty((k, k))
    XL = X.astype(_LD)
    for i in range(k):
        for j in range(i + 1):
            s = np.cumsum((XL[:, i] - _LD(means[i])) * (XL[:, j] - _LD(means[j])))[-1]
            S[i, j] = S[j, i] = float(s / (n - 1))
    return S * (n - 1) / (n - len(groups))


def _generalized_inverse(S: np.ndarray) -> np.ndarray:
    """``MatchIt:::generalized_inverse``: V diag(1/d) U' over the singular values above 1e-8 of the largest."""
    u, d, vt = np.linalg.svd(S)
    pos = d > max(1e-8 * d[0], 0.0)
    return _matprod(vt.T[:, pos], (d[pos] ** -1)[:, None] * u[:, pos].T)


def _matprod(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """A %*% B summed over the inner index in order, as the reference BLAS ``dgemm`` R links to."""
    C = np.zeros((A.shape[0], B.shape[1]))
    for l in range(A.shape[1]):
        C = C + np.outer(A[:, l], B[l, :])
    return C


def _pivoted_cholesky(A: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """R's ``chol(A, pivot = TRUE)``: LAPACK ``dpstf2`` (upper, tol = -1) and the lower triangle zeroed.

    Returns the factor and the pivot (0-based).  When the matrix is rank deficient ``dpstf2`` stops at the
    first pivot below n * eps * max(diag) and leaves the rows below untouched (input values), as R returns them.
    """
    a = np.array(A, dtype=float, copy=True)
    n = a.shape[0]
    piv = np.arange(n)
    work = np.zeros(2 * n)
    pvt = int(np.argmax(np.diag(a)))
    ajj = a[pvt, pvt]
    if not ajj > 0:
        return np.triu(a), piv
    dstop = n * np.finfo(float).eps * ajj
    for j in range(n):
        for i in range(j, n):
            if j > 0:
                work[i] = work[i] + a[j - 1, i] ** 2
            work[n + i] = a[i, i] - work[i]
        if j > 0:
            pvt = j + int(np.argmax(work[n + j:2 * n]))
            ajj = work[n + pvt]
            if ajj <= dstop or math.isnan(ajj):
                a[j, j] = ajj
                break
        if j != pvt:
            a[pvt, pvt] = a[j, j]
            a[:j, [j, pvt]] = a[:j, [pvt, j]]
            if pvt < n - 1:
                a[[j, pvt], pvt + 1:] = a[[pvt, j], pvt + 1:]
            tmp = a[j, j + 1:pvt].copy()
            a[j, j + 1:pvt] = a[j + 1:pvt, pvt]
            a[j + 1:pvt, pvt] = tmp
            work[[j, pvt]] = work[[pvt, j]]
            piv[[j, pvt]] = piv[[pvt, j]]
        ajj = math.sqrt(ajj)
        a[j, j] = ajj
        if j < n - 1:
            # DGEMV('T'): a[j, j+1:] -= a[:j, j+1:]' a[:j, j], each dot product summed in order; then DSCAL
            acc = np.zeros(n - j - 1)
            for i in range(j):
                acc = acc + a[i, j + 1:] * a[i, j]
            a[j, j + 1:] = a[j, j + 1:] + (-1.0) * acc
            a[j, j + 1:] = a[j, j + 1:] * (1.0 / ajj)
    return np.triu(a), piv


def _scale_factors(X: np.ndarray) -> np.ndarray:
    """The column SDs ``scale()`` divides by (about the long-double column means)."""
    n = X.shape[0]
    out = np.empty(X.shape[1])
    for j in range(X.shape[1]):
        x = X[:, j] - float(np.cumsum(X[:, j].astype(_LD))[-1] / n)
        out[j] = math.sqrt(r_sum(x * x) / max(1, n - 1))
    return out


def mahalanobis_transform(X: np.ndarray, treat: np.ndarray,
                          discarded: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MatchIt's ``transform_covariates(method = "mahalanobis")`` as a metric: (columns kept, their SDs, the
    factor F), so that the distance between rows a and b is ``|| F ((X[a] - X[b]) / sd) ||``.

    MatchIt maps each scaled row through F and subtracts the mapped rows; mapping the (exact) covariate
    difference instead gives the same distance up to rounding, and makes two controls that are exactly as far
    from a treated unit (say 2 years older and 2 years younger, otherwise identical) exactly tied, so the tie is
    broken by data order -- where MatchIt's choice is decided by the last bit of its BLAS's rounding.
    Columns without variance are dropped (all of them: the Euclidean distance on the first).
    """
    X = np.asarray(X, dtype=float)
    keep = np.array([j for j in range(X.shape[1]) if abs(X[:, j].max() - X[:, j].min()) >= _SQRT_EPS], dtype=int)
    if keep.size == 0:
        return np.array([0]), np.ones(1), np.eye(1)
    Xk = X[:, keep]
    disc = np.zeros(len(X), dtype=bool) if discarded is None else np.asarray(discarded, dtype=bool)
    S = _pooled_cov(_scale(Xk)[~disc], np.asarray(treat)[~disc])
    inv = None
    if np.linalg.det(S) > 1e-8:
        try:
            inv = np.linalg.solve(S, np.eye(len(S)))
        except np.linalg.LinAlgError:
            inv = None
    if inv is None:
        inv = _generalized_inverse(S)
    ch, piv = _pivoted_cholesky(inv)
    return keep, _scale_factors(Xk), ch[:, np.argsort(piv, kind="stable")]


def _distances(X: np.ndarray, unit: int, candidates: np.ndarray, metric) -> np.ndarray:
    keep, sd, F = metric
    d = (X[np.ix_(candidates, keep)] - X[unit, keep]) / sd
    acc = np.zeros(len(candidates))
    for m in range(F.shape[0]):
        y = np.zeros(len(candidates))
        for k in range(F.shape[1]):
            y = y + F[m, k] * d[:, k]
        acc = acc + y * y
    return np.sqrt(acc)


def _partial_sort(idx: list[int], k: int, key: np.ndarray, tie: np.ndarray | None = None) -> list[int]:
    """libstdc++'s ``std::partial_sort(first, first + k, last, comp)`` (heap select, then sort_heap) on
    ``idx`` with ``comp(a, b) = key[a] < key[b]`` (then ``tie[a] < tie[b]``): the k smallest, equivalent ones in
    the order libstdc++ leaves them."""
    a = list(idx)
    tie = np.zeros(len(key), dtype=int) if tie is None else tie

    def less(x: int, y: int) -> bool:
        return key[x] < key[y] or (key[x] == key[y] and tie[x] < tie[y])

    def push_heap(hole: int, top: int, value: int) -> None:
        parent = (hole - 1) // 2
        while hole > top and less(a[parent], value):
            a[hole] = a[parent]
            hole = parent
            parent = (hole - 1) // 2
        a[hole] = value

    def adjust_heap(hole: int, length: int, value: int) -> None:
        top = second = hole
        while second < (length - 1) // 2:
            second = 2 * (second + 1)
            if less(a[second], a[second - 1]):
                second -= 1
            a[hole] = a[second]
            hole = second
        if length % 2 == 0 and second == (length - 2) // 2:
            second = 2 * (second + 1)
            a[hole] = a[second - 1]
            hole = second - 1
        push_heap(hole, top, value)

    if k >= 2:  # make_heap(first, middle)
        parent = (k - 2) // 2
        while True:
            adjust_heap(parent, k, a[parent])
            if parent == 0:
                break
            parent -= 1
    for i in range(k, len(a)):  # heap_select
        if less(a[i], a[0]):
            value = a[i]
            a[i] = a[0]
            adjust_heap(0, k, value)
    last = k
    while last > 1:  # sort_heap
        last -= 1
        value = a[last]
        a[last] = a[0]
        adjust_heap(0, last, value)
    return a[:k]


def nn_match_covariates(X: np.ndarray, treat: np.ndarray, *, ratio: int = 1, reuse_max: int = 1,
                        order: np.ndarray | None = None, discarded: np.ndarray | None = None,
                        metric: tuple | None = None) -> np.ndarray:
    """Nearest-neighbour matching on MatchIt's Mahalanobis distance between rows of the covariate matrix ``X``
    (:func:`distance_covariates`), as MatchIt 4.5.1's ``nn_matchC``; Rubin (1980), Biometrics 36:293.

    Without replacement each treated unit, in ``order``, takes the closest available control (the first in data
    order among equally close ones, ``which_min``), ratio rounds in turn; with replacement its ``ratio``
    closest controls at once (``std::partial_sort``).  ``metric`` is :func:`mahalanobis_transform`'s (computed
    on the full sample when matching within exact strata, as MatchIt does).  Returns the (n1, ratio) match matrix of control row
    indices, -1 where empty.
    """
    t = np.asarray(treat).astype(int)
    n = len(t)
    disc = np.zeros(n, dtype=bool) if discarded is None else np.asarray(discarded, dtype=bool)
    treated = np.flatnonzero(t == 1)
    n1 = len(treated)
    order = np.arange(n1) if order is None else np.asarray(order, dtype=int)
    mm = np.full((n1, ratio), -1, dtype=int)
    matched = np.zeros(n, dtype=np.int64)
    matched[disc] = n1
    controls = np.flatnonzero((t == 0) & ~disc)
    limited = reuse_max < n1
    metric = mahalanobis_transform(X, t, disc) if metric is None else metric
    _, first, inverse = np.unique(X, axis=0, return_index=True, return_inverse=True)
    pattern = first[np.asarray(inverse).ravel()]  # the first row with the same covariates
    for rat in range(ratio):
        for row in order:
            if (matched[controls] >= reuse_max).all():
                break
            unit = treated[row]
            if matched[unit] > 0:
                continue
            elig = controls[matched[controls] < reuse_max]
            if rat > 0:
                elig = elig[~np.isin(elig, mm[row, :rat][mm[row, :rat] >= 0])]
            if elig.size == 0:
                continue
            if not limited and elig.size <= ratio:
                mm[row, :elig.size] = elig
                continue
            dist = _distances(X, unit, elig, metric)
            finite = np.isfinite(dist)
            elig, dist = elig[finite], dist[finite]
            if elig.size == 0:
                continue
            if not limited:
                # ties between controls with identical covariates as libstdc++ leaves them (float ties in R too);
                # between different controls equally far in exact arithmetic by data order (R: by rounding)
                best = _partial_sort(list(range(elig.size)), ratio, dist, pattern[elig])
                mm[row, :ratio] = elig[best]
            else:
                c = elig[int(np.argmin(dist))]
                mm[row, rat] = c
                matched[c] += 1
        if not limited:
            break
    return mm
