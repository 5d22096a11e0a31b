"""The bias-reduced cluster-robust variance (CR2; Bell & McCaffrey 2002) of rdrobust's local polynomial fits.

Matches rdrobust(vce = "cr2", cluster = ): each cluster's score is corrected by (I - H_gg)^(-1/2) of its block of
the weighted hat matrix (rdrobust_vce's CRV2 branch), and for the bias-corrected estimator with h != b by the
leverage of the bias (b) regression (rdrobust_vce_qq_cluster; the R package and its Python port 2.1.1).  The
corrections are linear in the residuals, so the outcome's, take-up's and covariates' residuals are combined by
``s`` first.
"""

from __future__ import annotations

import numpy as np

__all__ = ["cr2_meat", "cr2_meat_mixed"]


def _groups(clusters: np.ndarray) -> list[np.ndarray]:
    uniq, codes = np.unique(clusters, return_inverse=True)
    order = np.argsort(codes.reshape(-1), kind="stable")
    bounds = np.searchsorted(codes.reshape(-1)[order], np.arange(uniq.size + 1))
    return [order[bounds[g]:bounds[g + 1]] for g in range(uniq.size)]


def _combine(res: np.ndarray, s) -> np.ndarray:
    return res @ np.atleast_1d(np.asarray(s, dtype=float)).reshape(-1)


def cr2_meat(sqrt_RX: np.ndarray, sqrt_w: np.ndarray, res: np.ndarray, s, clusters: np.ndarray,
             invG: np.ndarray) -> np.ndarray:
    """sum_g score_g score_g' with score_g = u_g + L_g G^-1/2 [(I - F_g)^-1/2 - I] F_g^-1 G^-1/2' u_g, where
    u_g = sum_i r_i w_i r_i e_i, L_g = sum_i w_i r_i r_i' and F_g = G^-1/2' L_g G^-1/2 (rdrobust's CRV2)."""
    r = _combine(res, s)
    k = sqrt_RX.shape[1]
    M = np.zeros((k, k))
    try:
        half = np.linalg.cholesky(invG).T
    except np.linalg.LinAlgError:
        half = None
    for idx in _groups(clusters):
        sR = sqrt_RX[idx]
        u = sR.T @ (sqrt_w[idx] * r[idx])
        if half is not None:
            L = sR.T @ sR
            sigma2, V = np.linalg.eigh(half @ L @ half.T)
            sigma2 = np.maximum(sigma2, 0)
            with np.errstate(divide="ignore", invalid="ignore"):
                coef = np.where(sigma2 < 1e-14, 0, (1 / np.sqrt(np.maximum(1 - sigma2, 1e-8)) - 1) / sigma2)
            adj = V @ (coef * (V.T @ (half @ u)))
            u = u + L @ (half.T @ adj)
        M += np.outer(u, u)
    return M


def cr2_meat_mixed(Q: np.ndarray, R_q: np.ndarray, w_b: np.ndarray, invG_q: np.ndarray, res: np.ndarray, s,
                   clusters: np.ndarray) -> np.ndarray:
    """The bias-corrected estimator's CR2 meat when h != b: scores Q_g'e_g corrected with the cluster leverage of
    the q-th order fit at bandwidth b (rdrobust_vce_qq_cluster, crv2 = TRUE); V_rb = G_p^-1 M G_p^-1."""
    r = _combine(res, s)
    k = Q.shape[1]
    M = np.zeros((k, k))
    for idx in _groups(clusters):
        Q_g, R_g, wb = Q[idx], R_q[idx], w_b[idx]
        e = r[idx]
        score = Q_g.T @ e
        sR = R_g * np.sqrt(wb)[:, None]
        sigma2, V = np.linalg.eigh(sR.T @ sR)
        sigma = np.sqrt(np.maximum(sigma2, 0.0))
        keep = sigma > (sigma.max() * 1e-10 if sigma.size else 0.0)
        if keep.any():
            V_r, sig = V[:, keep], sigma[keep]
            T = np.diag(sig) @ (V_r.T @ (invG_q @ V_r)) @ np.diag(sig)
            tau, W = np.linalg.eigh(0.5 * (T + T.T))
            tau = np.minimum(np.maximum(tau, 0.0), 1 - 1e-10)
            A = V_r @ np.diag(1 / sig) @ W
            Lam = A @ ((1 / np.sqrt(1 - tau) - 1)[:, None] * A.T)
            score = score + (Q_g.T @ R_g) @ (Lam @ (R_g.T @ (wb * e)))
        M += np.outer(score, score)
    return M
