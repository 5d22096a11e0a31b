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


def cr2_vcov(X: np.ndarray, resid: np.ndarray, clusters: Clusters,
             weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """CR2 covariance and per-coefficient Bell-McCaffrey degrees of freedom.

    Parameters
    ----------
    X : (n, k) unweighted design of the kept columns
    resid : (n,) unweighted residuals ``y - X b``
    clusters : cluster codes
    weights : optional analytic weights (normalised to mean 1, as estimatr does)

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
    Xo = X
    Xt = X * w[:, None]  # "W X": the design weighted once by w for the working residual algebra
    Xw = X * np.sqrt(w)[:, None]
    # M = (X'WX)^-1 via Cholesky solves of the cross-product, never an explicit inversion.
    xtwx = Xw.T @ Xw
    cf = np.linalg.cholesky(xtwx)
    eye = np.eye(k)
    M = np.linalg.solve(cf.T, np.linalg.solve(cf, eye))
    M = (M + M.T) / 2.0
    L_M = np.linalg.cholesky(M)
    omega = M @ (Xt.T @ Xt) @ M
    L_omega = np.linalg.cholesky((omega + omega.T) / 2.0)
    order = np.argsort(clusters.codes, kind="stable")
    codes = clusters.codes[order]
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    ends = np.r_[starts[1:], len(codes)]
    G = len(starts)
    half = np.zeros((G, k))
    H1 = np.zeros((G, k, k))
    H2 = np.zeros((G, k, k))
    H3 = np.zeros((G, k, k))
    Pd = np.zeros((G, k))
    Mw = M / wmean
    for g, (a, b) in enumerate(zip(starts, ends)):
        idx = order[a:b]
        xo, xt, e = Xo[idx], Xt[idx], resid[idx]
        H = xo @ M @ xt.T
        B = np.eye(len(idx)) - H - H.T + xo @ omega @ xo.T
        A = _inv_sqrt_psd(B) @ xt  # (I - H_gg)^(-1/2) W X_g: the CR2 adjustment
        half[g] = e @ A
        ME = Mw @ A.T
        Pd[g] = np.sum(ME**2, axis=1)
        MEU = ME @ xo
        H1[g] = MEU @ L_M
        H2[g] = ME @ xt @ L_M
        H3[g] = MEU @ L_omega
    V = M @ (half.T @ half) @ M
    df = np.empty(k)
    for j in range(k):
        h1, h2, h3 = H1[:, j, :], H2[:, j, :], H3[:, j, :]
        uf = h1 @ h2.T
        P = h3 @ h3.T - uf - uf.T + np.diag(Pd[:, j])
        df[j] = np.trace(P) ** 2 / np.sum(P**2)
    return V, df
