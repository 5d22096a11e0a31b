"""Least squares on the unit simplex: the donor weights W given the predictor weights V.

``min (x1 - X0 w)' V (x1 - X0 w)  subject to  w >= 0, sum(w) = 1`` is the inner problem of every synthetic
control (Abadie & Gardeazabal 2003, eq. 6).  R's Synth solves it with ``kernlab::ipop`` (an interior-point
method stopped at 5 significant digits), pysyncon with SLSQP; both approximate the same minimum.  Here it is
solved exactly, up to rounding, by an active-set method: Lawson & Hanson's NNLS (1974, ch. 23) with the
equality constraint kept in the KKT system of the free set, so the weights that come out are the optimum
itself (a vertex or face of the simplex), not an interior approximation.  It works on the Gram form
``H = X0' V X0``, ``c = X0' V x1`` (J x J, J the donors), so each solve is a few small dense operations.
"""

from __future__ import annotations

import numpy as np

__all__ = ["simplex_least_squares", "simplex_qp"]

_ONE = np.ones(1)


def _on_face(H: np.ndarray, c: np.ndarray, free: list[int]) -> np.ndarray:
    """The minimiser of 1/2 z'Hz - c'z on the free donors with sum(z) = 1 (the others at zero)."""
    m = len(free)
    if m == 1:
        return _ONE
    K = np.ones((m + 1, m + 1))
    fa = np.asarray(free)
    K[:m, :m] = H[fa[:, None], fa]
    K[m, m] = 0.0
    rhs = np.ones(m + 1)
    rhs[:m] = c[fa]
    try:
        sol = np.linalg.solve(K, rhs)
        if np.isfinite(sol).all():
            return sol[:m]
    except np.linalg.LinAlgError:
        pass
    return np.linalg.lstsq(K, rhs, rcond=None)[0][:m]  # affinely dependent donors: the min-norm point


def simplex_qp(H: np.ndarray, c: np.ndarray, start: np.ndarray | None = None, max_iter: int = 500) -> np.ndarray:
    """The weights ``w`` on the simplex minimising ``1/2 w'Hw - c'w`` (H positive semi-definite).

    ``start`` (weights on the simplex, e.g. the previous solution of an outer search) sets the first free set;
    without it the search starts at the best single donor.
    """
    n = H.shape[0]
    if n == 1:
        return np.ones(1)
    w = np.zeros(n)
    if start is not None:
        free = np.flatnonzero(start > 0).tolist()
        w[free] = start[free]
    else:
        free = [int(np.argmin(0.5 * np.diag(H) - c))]
        w[free] = 1.0
    scale = max(float(np.abs(np.diag(H)).max()), 1e-300)
    added = None
    for _ in range(max_iter):
        # 1. the minimiser on the current face, stepping back to the face's border while it leaves the simplex
        while True:
            z = _on_face(H, c, free)
            if (z > 0).all():
                w[:] = 0.0
                w[free] = z
                break
            if added is not None and z[free.index(added)] <= 0:  # a rounding-level improvement: stop there
                return _finish(w)
            cur = w[free]
            out = z <= 0
            step = np.min(cur[out] / (cur[out] - z[out]))
            cur = cur + step * (z - cur)
            w[:] = 0.0
            keep = cur > 1e-14
            free = [j for j, k in zip(free, keep) if k]
            w[free] = cur[keep]
            added = None
        # 2. the KKT check: a donor off the face whose gradient is below the face's common level lowers the loss
        g = H @ w - c
        gap = g - g[free].mean()
        gap[free] = np.inf
        j = int(np.argmin(gap))
        if not gap[j] < -1e-13 * scale:
            return _finish(w)
        free.append(j)
        added = j
    return _finish(w)


def simplex_least_squares(B: np.ndarray, a: np.ndarray, start: np.ndarray | None = None) -> np.ndarray:
    """The weights ``w`` on the simplex minimising ``||a - B w||^2`` (see :func:`simplex_qp`)."""
    B = np.asarray(B, dtype=float)
    return simplex_qp(B.T @ B, B.T @ np.asarray(a, dtype=float), start)


def _finish(w: np.ndarray) -> np.ndarray:
    w[w < 0] = 0.0
    return w / w.sum()
