"""Cluster bookkeeping and "meat" helpers shared by every sandwich estimator.

These are deliberately model-agnostic: they take per-observation scores
(estimating-function contributions, ``sandwich::estfun``) and cluster codes,
so a fixed-effects or IV estimator can reuse them with its own scores and
bread.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from causalspec._arrays import dense_codes
from causalspec.errors import DataError

__all__ = ["Clusters", "make_clusters", "cluster_sums", "score_meat", "cluster_meat", "scaled_meat",
           "scaled_cluster_sums"]

#: Rows per block when a meat is summed without the n x k score matrix: small enough to stay in cache.
_BLOCK = 1 << 15


@dataclass(frozen=True)
class Clusters:
    """Integer cluster codes ``0..n_groups-1`` per observation, and the names used."""

    codes: np.ndarray
    n_groups: int
    names: tuple[str, ...]


def make_clusters(cluster, n: int, *, names: tuple[str, ...] | None = None) -> Clusters:
    """Turn one or several cluster columns into codes; several columns cluster on their interaction.

    Raises :class:`DataError` when a cluster value is missing or the length differs from ``n``.
    """
    if isinstance(cluster, Clusters):
        return cluster
    if isinstance(cluster, pd.Series):
        frame = cluster.to_frame()
    elif isinstance(cluster, pd.DataFrame):
        frame = cluster
    else:
        arr = np.asarray(cluster, dtype=object)
        if arr.ndim == 1:
            arr = arr[:, None]
        frame = pd.DataFrame(arr)
    cols = tuple(str(c) for c in frame.columns) if names is None else tuple(names)
    if len(frame) != n:
        raise DataError(f"the cluster variable has {len(frame)} values but the model uses {n} rows.",
                        loc="cluster", fix="Pass the cluster column of the rows used in the fit (Design.rows).")
    missing = frame.isna().to_numpy()
    if missing.any():
        bad = [cols[j] for j in range(frame.shape[1]) if missing[:, j].any()]
        count = int(missing.any(axis=1).sum())
        raise DataError(f"cluster variable {', '.join(repr(b) for b in bad)} is missing for {count} "
                        "row(s) of the estimation sample.", loc="cluster",
                        fix="Drop those rows, or fill the cluster ids, before fitting.")
    if frame.shape[1] == 1:
        dense = dense_codes(frame.iloc[:, 0].to_numpy())  # integer ids: no hashing, same codes as factorize
        codes, uniques = dense if dense is not None else pd.factorize(frame.iloc[:, 0], sort=True)
        g = len(uniques)
    else:
        keys = pd.MultiIndex.from_frame(frame.astype(object))
        codes, uniques = pd.factorize(keys, sort=True)
        g = len(uniques)
    return Clusters(np.asarray(codes, dtype=np.intp), int(g), cols)


def cluster_sums(scores: np.ndarray, clusters: Clusters) -> np.ndarray:
    """Per-cluster sums of the score rows, shape ``(G, k)``."""
    out = np.zeros((clusters.n_groups, scores.shape[1]))
    np.add.at(out, clusters.codes, scores)
    return out


def score_meat(scores: np.ndarray) -> np.ndarray:
    """``sum_i s_i s_i'``: the heteroskedasticity-robust meat (unscaled)."""
    return scores.T @ scores


def cluster_meat(scores: np.ndarray, clusters: Clusters) -> np.ndarray:
    """``sum_g S_g S_g'`` with ``S_g`` the cluster sums of scores (unscaled; no small-sample factor)."""
    s = cluster_sums(scores, clusters)
    return s.T @ s


def scaled_meat(X: np.ndarray, u: np.ndarray) -> np.ndarray:
    """``sum_i u_i^2 x_i x_i'``: :func:`score_meat` of the scores ``u_i x_i`` summed in row blocks, so the n x k
    score matrix is never allocated (each block's scores stay in cache)."""
    n, k = X.shape
    meat = np.zeros((k, k))
    for start in range(0, n, _BLOCK):
        block = X[start:start + _BLOCK] * u[start:start + _BLOCK, None]
        meat += block.T @ block
    return meat


def scaled_cluster_sums(X: np.ndarray, u: np.ndarray, clusters: Clusters) -> np.ndarray:
    """:func:`cluster_sums` of the scores ``u_i x_i``, one column at a time (no n x k score matrix)."""
    return np.column_stack([np.bincount(clusters.codes, weights=X[:, j] * u, minlength=clusters.n_groups)
                            for j in range(X.shape[1])]) if X.shape[1] else np.zeros((clusters.n_groups, 0))
