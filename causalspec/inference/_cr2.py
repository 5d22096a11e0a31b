"""Bell-McCaffrey (CR2) cluster-robust variance with Satterthwaite degrees of freedom.

Matches ``estimatr::lm_robust(se_type = "CR2")`` (which follows clubSandwich);
Bell & McCaffrey (2002), Pustejovsky & Tipton (2018).
"""

from __future__ import annotations

import numpy as np

from causalspec.inference._clusters import Clusters

__all__ = ["cr2_vcov"]

_EIG_TOL = 1e-12


def _inv_sqrt_psd(B: np.ndarray) -> np.ndarray:
    """Symmetric ``B^(-1/2)``; eigenvalues below 1e-12 are treated as 0 (a generalised inverse)."""
    vals, vecs = np.linalg.eigh((B + B.T) / 2.0)
    inv = np.zeros_like(vals)
    ok = vals > _EIG_TOL
    inv[ok] = 1.0 / np.sqrt(vals[ok])
    return (vecs * inv) @ vecs.T


def _satterthwaite_df(S1: np.ndarray, S2: np.ndarray, S3: np.ndarray, d: np.ndarray) -> float:
    """``tr(P)^2 / ||P||_F^2`` for ``P = S3 S3' - S1 S2' - S2 S1' + diag(d)`` (G x G, symmetric).

    For many clusters the Frobenius norm is taken through k x k Gram matrices
    (``||L R'||^2 = tr(L'L R'R)``), so P is never formed.
    """
    G, k = S1.shape
    diag_b = np.sum(S3 * S3, axis=1) - 2.0 * np.sum(S1 * S2, axis=1)
    trace = float(np.sum(diag_b) + np.sum(d))
    if G <= 3 * k:
        P = S3 @ S3.T - S1 @ S2.T - S2 @ S1.T
        P[np.diag_indices(G)] += d
        fro = float(np.sum(P * P))
    else:
        left = np.hstack([S3, -S1, -S2])
        right = np.hstack([S3, S2, S1])
        fro = float(np.sum((left.T @ left) * (right.T @ right)) + 2.0 * np.sum(d * diag_b) + np.sum(d * d))
    return trace**2 / fro


def cr2_vcov(X: np.ndarray, resid: np.ndarray, clusters: Clusters,
             weights: np.ndarray | None = None, only=None) -> tuple[np.ndarray, np.ndarray]:
    """CR2 covariance and per-coefficient Bell-McCaffrey degrees of freedom.

    Parameters
    ----------
    X : (n, k) unweighted design of the kept columns
    resid : (n,) unweighted residuals ``y - X b``
    clusters : cluster codes
    weights : optional analytic weights (normalised to mean 1, as estimatr does)
    only : optional column indices whose degrees of freedom are wanted (the others are NaN); with fixed
        effects as dummy columns, the dummies need none, and skipping them is most of the work

    Returns
    -------
    (V, df) with V (k, k) and df (k,).
    """
    n, k = X.shape
    if weights is None:
        w = np.ones(n)
        wmean = 1.0
    else:
        wmean = float(np.mean(weights))
        w = np.asarray(weights, dtype=float) / wmean
    order = np.argsort(clusters.codes, kind="stable")
    codes = clusters.codes[order]
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    ends = np.r_[starts[1:], n]
    Xo = X[order]
    ws = w[order]
    e = resid[order]
    Xt = Xo * ws[:, None]  # W X: the design weighted once, as estimatr passes it
    Xw = Xo * np.sqrt(ws)[:, None]
    # M = (X'WX)^-1 by Cholesky solves of the cross-product, never an explicit inversion.
    chol = np.linalg.cholesky(Xw.T @ Xw)
    M = np.linalg.solve(chol.T, np.linalg.solve(chol, np.eye(k)))
    M = (M + M.T) / 2.0
    L_M = np.linalg.cholesky(M)
    omega = M @ (Xt.T @ Xt) @ M
    L_omega = np.linalg.cholesky((omega + omega.T) / 2.0)
    A = np.empty_like(Xt)  # rows of (I - H_gg)^(-1/2) W X_g, cluster by cluster
    for a, b in zip(starts, ends):
        xo, xt = Xo[a:b], Xt[a:b]
        H = xo @ M @ xt.T
        B = np.eye(b - a) - H - H.T + xo @ omega @ xo.T
        A[a:b] = _inv_sqrt_psd(B) @ xt
    half = np.add.reduceat(A * e[:, None], starts, axis=0)
    V = M @ (half.T @ half) @ M
    ME = A @ (M / wmean)  # column j: the j-th row of M A_g' for every cluster, stacked
    df = np.full(k, np.nan)
    for j in (range(k) if only is None else only):
        m = ME[:, j]
        u = np.add.reduceat(Xo * m[:, None], starts, axis=0)
        t = np.add.reduceat(Xt * m[:, None], starts, axis=0)
        d = np.add.reduceat(m * m, starts)
        df[j] = _satterthwaite_df(u @ L_M, t @ L_M, u @ L_omega, d)
    return V, df
