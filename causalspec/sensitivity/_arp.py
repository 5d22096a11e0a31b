"""Andrews, Roth & Pakes (2023) conditional and least-favourable hybrid tests of moment inequalities.

The tests HonestDiD runs at each point of its grid of candidate values theta (``.lp_conditional_test_fn`` with
nuisance parameters, ``.testInIdentifiedSet_LF_Hybrid`` without).  The moments are ``y - X delta <= 0`` for
some nuisance ``delta``; the statistic is ``eta = min_delta max_j (y_j - X_j delta) / sd_j``, a linear
program.  Its dual, ``max lambda' y`` over ``{lambda >= 0, W' lambda = e_1}`` with ``W = [sd, X]``, does not
depend on y, so its vertices are enumerated once and every LP of a grid (and of the 1,000 simulated draws of
the least-favourable critical value) is a maximum over them.  Above a few thousand candidate vertex supports
the LP is handed to HiGHS instead.  The steps that follow the LP (binding moments, the primal or dual
truncation bounds, the bisection for vlo and vup with its tolerances and iteration limits, the truncated-normal
critical value) follow HonestDiD's.
"""

from __future__ import annotations

from itertools import combinations
from math import comb

import numpy as np
from scipy import optimize, stats

from causalspec.sensitivity._r_random import r_rmvnorm

__all__ = ["MomentLP", "lf_critical_value", "lf_critical_value_no_nuisance", "reject_lf_hybrid_grid",
           "test_lf_hybrid", "test_lf_hybrid_no_nuisance"]

_VERTEX_LIMIT = 20000
_EPS = np.finfo(float).eps


def norminvp(p: float, lo: float, hi: float, mu: float = 0.0, sd: float = 1.0) -> float:
    """The p quantile of N(mu, sd^2) truncated to [lo, hi] (TruncatedNormal::norminvp, generalised)."""
    a, b = (lo - mu) / sd, (hi - mu) / sd
    return float(mu + sd * stats.truncnorm.ppf(p, a, b))


class MomentLP:
    """``eta(y) = min eta s.t. sd * eta + X delta >= y``, with the dual solution ``lambda`` (>= 0)."""

    def __init__(self, sd: np.ndarray, X: np.ndarray):
        self.W = np.column_stack([sd, X])
        m, p = self.W.shape
        self.vertices = self._enumerate(m, p) if comb(m, p) <= _VERTEX_LIMIT else None

    def _enumerate(self, m: int, p: int):
        """Every basic feasible solution of the dual: for each p-subset of the moments with a nonsingular W block,
        the solution of W_B' lambda = e_1, kept when non-negative.  All subsets at once (the same LAPACK calls,
        per block, as ``matrix_rank`` and ``solve`` one block at a time)."""
        rows = np.array(list(combinations(range(m), p)), dtype=int)
        blocks = self.W[rows]  # (subsets, p, p)
        s = np.linalg.svd(blocks, compute_uv=False)
        tol = s.max(axis=-1) * max(p, p) * _EPS  # numpy's matrix_rank tolerance
        ok = (s > tol[:, None]).sum(axis=-1) == p
        if not ok.any():
            return None
        rows, blocks = rows[ok], blocks[ok]
        e1 = np.zeros((len(rows), p, 1))
        e1[:, 0, 0] = 1.0
        lam = np.linalg.solve(np.swapaxes(blocks, 1, 2), e1)[..., 0]
        keep = np.all(lam >= -1e-12, axis=1)
        if not keep.any():
            return None
        full = np.zeros((int(keep.sum()), m))
        np.put_along_axis(full, rows[keep], np.clip(lam[keep], 0.0, None), axis=1)
        return np.unique(np.round(full, 14), axis=0)

    def solve(self, y: np.ndarray) -> tuple[float, np.ndarray]:
        if self.vertices is not None:
            values = self.vertices @ y
            i = int(np.argmax(values))
            return float(values[i]), self.vertices[i]
        return self._highs(y)

    def solve_many(self, ys: np.ndarray) -> np.ndarray:
        """eta for each row of ``ys``."""
        if self.vertices is not None:
            return (ys @ self.vertices.T).max(axis=1)
        return np.array([self._highs(y)[0] for y in ys])

    def _highs(self, y):
        m, p = self.W.shape
        c = np.zeros(p)
        c[0] = 1.0
        res = optimize.linprog(c, A_ub=-self.W, b_ub=-y, bounds=[(None, None)] * p, method="highs")
        if res.status != 0:
            return np.nan, np.zeros(m)
        return float(res.fun), -np.asarray(res.ineqlin.marginals)

    def max_over_dual(self, f: np.ndarray) -> tuple[float, np.ndarray]:
        """``max f' x`` over the dual polytope, with the maximiser (HonestDiD's ``.max_program``)."""
        if self.vertices is not None:
            values = self.vertices @ f
            i = int(np.argmax(values))
            return float(values[i]), self.vertices[i]
        m, p = self.W.shape
        beq = np.zeros(p)
        beq[0] = 1.0
        res = optimize.linprog(-f, A_eq=self.W.T, b_eq=beq, bounds=[(0, None)] * m, method="highs")
        if res.status != 0:
            return np.nan, np.zeros(m)
        return float(-res.fun), res.x


def _roundeps(x: float) -> float:
    return 0.0 if abs(x) < _EPS ** 0.75 else x


def _vlo_vup_dual(lp: MomentLP, eta: float, s_t, gamma, sigma) -> tuple[float, float]:
    """vlo and vup of the dual approach (ARP 2023, appendix D, algorithm 1), as HonestDiD bisects them."""
    tol_c, tol_eq, maxiters, switchiters = 1e-6, 1e-6, 10000, 10
    sg = float(gamma @ sigma @ gamma)
    b = (sigma @ gamma) / sg
    sigma_b = np.sqrt(sg)

    def check(c):
        value, x = lp.max_over_dual(s_t + b * c)
        return (abs(c - value) <= tol_eq), x

    ok, _ = check(eta)
    if not ok:
        return eta, np.inf
    bounds = []
    for start, upward in ((max(100.0, eta + 20 * sigma_b), True), (min(-100.0, eta - 20 * sigma_b), False)):
        ok, x = check(start)
        if ok:
            bounds.append(np.inf if upward else -np.inf)
            continue
        dif, iters = 0.0, 1
        mid = _roundeps(float(x @ s_t)) / (1 - float(x @ b))
        while iters < maxiters:
            ok, x = check(mid)
            if ok:
                break
            iters += 1
            if iters >= switchiters:
                dif = tol_c + 1
                break
            mid = _roundeps(float(x @ s_t)) / (1 - float(x @ b))
        low, high = (eta, mid) if upward else (mid, eta)
        while dif > tol_c and iters < maxiters:
            iters += 1
            mid = (high + low) / 2
            inside, _ = check(mid)
            if inside == upward:
                low = mid
            else:
                high = mid
            dif = high - low
        bounds.append(mid)
    return bounds[1], bounds[0]


def lf_critical_value(X: np.ndarray, sigma: np.ndarray, kappa: float, sims: int = 1000, seed: int = 0) -> float:
    """The least-favourable critical value with nuisance parameters: the 1 - kappa quantile of eta over
    ``set.seed(seed); mvtnorm::rmvnorm(sims, sigma = sigma)`` draws."""
    lp = MomentLP(np.sqrt(np.diag(sigma)), X)
    xi = r_rmvnorm(seed, sims, sigma)
    etas = lp.solve_many(xi)
    return float(np.quantile(etas[~np.isnan(etas)], 1 - kappa))


def lf_critical_value_no_nuisance(sigma: np.ndarray, kappa: float, sims: int = 1000, seed: int = 0) -> float:
    xi = r_rmvnorm(seed, sims, sigma) / np.sqrt(np.diag(sigma))
    return float(np.quantile(xi.max(axis=1), 1 - kappa))


def _primal(lam: np.ndarray, X: np.ndarray, sigma: np.ndarray):
    """The primal approach's pieces for the LP's dual vertex ``lam`` (ARP 2023, section 5): ``(gamma_b, v_b,
    sigma_b, rho)``; None when the vertex is degenerate or its binding moments are rank-deficient, where
    HonestDiD switches to the dual approach."""
    k, m = X.shape[1], sigma.shape[0]
    binding = lam > 1e-6
    xb = X[binding]
    if int(binding.sum()) != k + 1 or not (min(xb.shape) > 0 and np.linalg.matrix_rank(xb) == min(xb.shape)):
        return None
    sd = np.sqrt(np.diag(sigma))
    inv = np.linalg.inv(np.column_stack([sd[binding], xb]))
    select_b = np.eye(m)[binding]
    gamma_b = np.column_stack([sd[~binding], X[~binding]]) @ inv @ select_b - np.eye(m)[~binding]
    v_b = inv[0] @ select_b
    sigma2_b = float(v_b @ sigma @ v_b)
    return gamma_b, v_b, np.sqrt(sigma2_b), gamma_b @ sigma @ v_b / sigma2_b


def _primal_truncation(ys: np.ndarray, pieces) -> tuple[np.ndarray, np.ndarray]:
    """vlo and vup of the primal approach for each row of ``ys`` (moments at one grid point per row)."""
    gamma_b, v_b, _, rho = pieces
    with np.errstate(divide="ignore", invalid="ignore"):
        bound = (-(ys @ gamma_b.T)) / rho[None, :] + (ys @ v_b)[:, None]
    vlo = bound[:, rho > 0].max(axis=1) if np.any(rho > 0) else np.full(len(ys), -np.inf)
    vup = bound[:, rho < 0].min(axis=1) if np.any(rho < 0) else np.full(len(ys), np.inf)
    return vlo, vup


def _reject(maxstat, zlo, zup, mod_size: float) -> np.ndarray:
    """ARP's conditional test: inside the truncation, reject when the statistic exceeds max(0, the 1 - size
    quantile of the standard normal truncated to [zlo, zup]); outside it, do not reject."""
    maxstat, zlo, zup = (np.atleast_1d(np.asarray(a, dtype=float)) for a in (maxstat, zlo, zup))
    inside = (zlo <= maxstat) & (maxstat <= zup)
    out = np.zeros(maxstat.size, dtype=bool)
    if inside.any():
        with np.errstate(invalid="ignore"):
            cval = stats.truncnorm.ppf(1 - mod_size, zlo[inside], zup[inside])
        out[inside] = maxstat[inside] > np.maximum(0.0, cval)
    return out


def _lf_hybrid_bounds(y, X, sigma, lp: MomentLP, lf_cv: float):
    """The least-favourable hybrid test up to its critical value: ``(verdict, maxstat, zlo, zup)`` with verdict
    True / False when the test has decided (first stage, a statistic without variance), else None and the
    truncated-normal problem left to solve."""
    eta, lam = lp.solve(y)
    if np.isnan(eta):
        return False, 0.0, 0.0, 0.0  # HonestDiD: the LP did not converge, do not reject
    if eta > lf_cv:
        return True, 0.0, 0.0, 0.0
    pieces = _primal(lam, X, sigma)
    if pieces is None:  # the dual approach
        sg = float(lam @ sigma @ lam)
        if abs(sg) < _EPS:  # the statistic has no variance: reject exactly when it is positive
            return bool(eta > 0), 0.0, 0.0, 0.0
        s_t = y - (sigma @ lam) * (lam @ y) / sg
        vlo, vup = _vlo_vup_dual(lp, eta, s_t, lam, sigma)
        sigma_b = np.sqrt(sg)
    else:
        (vlo,), (vup,) = _primal_truncation(y[None, :], pieces)
        sigma_b = pieces[2]
    return None, eta / sigma_b, vlo / sigma_b, min(vup, lf_cv) / sigma_b


def test_lf_hybrid(y: np.ndarray, X: np.ndarray, sigma: np.ndarray, lp: MomentLP, alpha: float, kappa: float,
                   lf_cv: float) -> bool:
    """Does the least-favourable hybrid test reject ``E[y - X delta] <= 0`` for every delta?  (Rows already
    restricted to the moments the test uses.)"""
    verdict, maxstat, zlo, zup = _lf_hybrid_bounds(y, X, sigma, lp, lf_cv)
    if verdict is not None:
        return verdict
    return bool(_reject(maxstat, zlo, zup, (alpha - kappa) / (1 - kappa))[0])


def test_lf_hybrid_no_nuisance(y: np.ndarray, sigma: np.ndarray, A: np.ndarray, d: np.ndarray, alpha: float,
                               kappa: float, lf_cv: float) -> bool:
    """HonestDiD's ``.testInIdentifiedSet_LF_Hybrid``: ``A y <= d`` with no nuisance parameter."""
    sd = np.sqrt(np.diag(A @ sigma @ A.T))
    at, dt = A / sd[:, None], d / sd
    moments = at @ y - dt
    top = int(np.argmax(moments))
    if moments[top] > lf_cv:
        return True
    gamma = at[top]
    abar = at - at[top]
    dbar = dt - dt[top]
    sg = float(gamma @ sigma @ gamma)
    c = sigma @ gamma / sg
    z = y - c * (gamma @ y)
    ac = abar @ c
    with np.errstate(divide="ignore", invalid="ignore"):
        obj = (dbar - abar @ z) / ac
    vlo = float(np.max(obj[ac < 0])) if np.any(ac < 0) else -np.inf
    vup = float(np.min(obj[ac > 0])) if np.any(ac > 0) else np.inf
    alpha_t = (alpha - kappa) / (1 - kappa)
    crit = max(0.0, norminvp(1 - alpha_t, vlo, vup, mu=float(dt[top]), sd=np.sqrt(sg)))
    return bool(moments[top] + dt[top] > crit)


def reject_lf_hybrid_grid(y0: np.ndarray, a1: np.ndarray, thetas: np.ndarray, X: np.ndarray, sigma: np.ndarray,
                          lp: MomentLP, alpha: float, kappa: float, lf_cv: float) -> np.ndarray:
    """:func:`test_lf_hybrid` at ``y = y0 - a1 * theta`` for every theta of a grid, at once.

    The LP's optimal dual vertex is piecewise constant in theta, and with it the binding moments and every
    matrix of the primal approach; so the grid is grouped by vertex and each group is tested with array
    operations.  Grid points whose vertex is degenerate (the dual approach) are bounded one by one."""
    thetas = np.asarray(thetas, dtype=float)
    if lp.vertices is None:
        return np.array([test_lf_hybrid(y0 - a1 * t, X, sigma, lp, alpha, kappa, lf_cv) for t in thetas])
    ys = y0[None, :] - thetas[:, None] * a1[None, :]  # grid x moments
    values = ys @ lp.vertices.T
    best = np.argmax(values, axis=1)
    eta = values[np.arange(thetas.size), best]
    reject = eta > lf_cv
    mod_size = (alpha - kappa) / (1 - kappa)
    for v in np.unique(best[~reject]):
        group = np.flatnonzero((best == v) & ~reject)
        pieces = _primal(lp.vertices[v], X, sigma)
        if pieces is None:
            found = [_lf_hybrid_bounds(ys[i], X, sigma, lp, lf_cv) for i in group]
            decided = np.array([f[0] is not None for f in found])
            reject[group[decided]] = [bool(f[0]) for f in found if f[0] is not None]
            if (~decided).any():
                ms, lo, hi = (np.array([f[c] for f in found if f[0] is None]) for c in (1, 2, 3))
                reject[group[~decided]] = _reject(ms, lo, hi, mod_size)
            continue
        vlo, vup = _primal_truncation(ys[group], pieces)
        sigma_b = pieces[2]
        reject[group] = _reject(eta[group] / sigma_b, vlo / sigma_b, np.minimum(vup, lf_cv) / sigma_b, mod_size)
    return reject
