"""Fixed-length confidence intervals under smoothness restrictions (Rambachan & Roth 2023, Delta^SD(M)).

The parameter is ``theta = l' tau_post``.  Under Delta^SD(M) the second differences of the trend violation are
at most M in absolute value.  The FLCI is an affine estimator ``l_pre' beta_pre + l' beta_post`` with the
pre-period weights chosen to minimise the half-length ``h * cv_alpha(M * bias / h)``: ``h`` its standard
deviation, ``bias`` its worst-case bias over Delta^SD(1), and ``cv_alpha(b)`` the 1 - alpha quantile of
``|N(b, 1)|``.  As in HonestDiD (``findOptimalFLCI``), the pre-period weights are written in the
cumulative parameterisation ``w`` (``l_pre = w_t - w_{t-1}``), the worst-case bias is
``constant + sum_t |sum_{s<=t} w_s|`` subject to ``sum w = sum_t t l_t``, the standard deviation is bisected
between its minimum and that of the minimum-bias estimator using HonestDiD's numerical-derivative rule, and the
folded-normal quantile is HonestDiD's: the empirical quantile of ``|z + b|`` over R's ``set.seed(0);
rnorm(1e6)`` draws.

The inner problem (least worst-case bias with standard deviation at most h) is solved in the cumulative
weights' partial sums ``v_t = sum_{s<=t} w_s``: minimise ``sum_t |v_t|`` over an ellipsoid.  The sign pattern
comes from a smooth reformulation solved by SLSQP; the optimum is then computed in closed form on that
pattern (a linear objective over an ellipsoid), so it does not carry the solver's tolerance.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import optimize

from causalspec.sensitivity._r_random import r_rnorm

__all__ = ["FLCIResult", "flci"]

_EPS = np.finfo(float).eps


@dataclass(frozen=True)
class FLCIResult:
    lower: float
    upper: float
    half_length: float
    weights: tuple[float, ...]  # (l_pre, l_post): the affine estimator's coefficients on the event-study vector
    sd: float
    worst_case_bias: float  # under Delta^SD(M)


@lru_cache(maxsize=2)
def _draws(seed: int) -> np.ndarray:
    return r_rnorm(seed, 10 ** 6)


def folded_normal_quantile(p: float, mu: float, seed: int = 0) -> float:
    """HonestDiD's ``.qfoldednormal``: R's type-7 quantile of ``|z + mu|`` over ``set.seed(seed); rnorm(1e6)``."""
    x = np.abs(_draws(seed) + mu)
    index = 1 + (x.size - 1) * p  # R's 1-based index
    lo = int(np.floor(index))
    hi = int(np.ceil(index))
    part = np.partition(x, (lo - 1, hi - 1))
    h = index - lo
    return float((1 - h) * part[lo - 1] + h * part[hi - 1]) if hi > lo else float(part[lo - 1])


class _Problem:
    """The pieces of Delta^SD(M) inference for one (sigma, l): variance and worst-case bias as functions of w."""

    def __init__(self, sigma: np.ndarray, num_pre: int, l_vec: np.ndarray):
        k = self.k = num_pre
        pre, post = slice(0, k), slice(k, None)
        self.s_post = float(l_vec @ sigma[post, post] @ l_vec)
        self.target = float(np.arange(1, l_vec.size + 1) @ l_vec)
        t = l_vec.size
        self.constant = sum(abs(float(np.arange(1, s + 1) @ l_vec[t - s:])) for s in range(1, t + 1)) - self.target
        # the variance in the partial sums v of the weights w (w_t = v_t - v_{t-1}, l_pre_t = w_t - w_{t-1})
        d = np.eye(k) - np.eye(k, k=-1)
        self.dd = d @ d
        self.quad = self.dd.T @ sigma[pre, pre] @ self.dd
        self.lin = 2 * self.dd.T @ sigma[pre, post] @ l_vec
        # ... and in the free partial sums v_1..v_{k-1} (v_k is fixed at the target): x'Ax + b'x + const, whose
        # minimiser is the centre of every feasible ellipsoid
        c = self.target
        self.a = self.quad[:k - 1, :k - 1]
        self.b = self.lin[:k - 1] + 2 * c * self.quad[:k - 1, k - 1]
        self.const = self.quad[k - 1, k - 1] * c * c + self.lin[k - 1] * c + self.s_post
        self.center = np.linalg.solve(2 * self.a, -self.b) if k > 1 else np.zeros(0)

    def variance_v(self, v: np.ndarray) -> float:
        return float(v @ self.quad @ v + self.lin @ v + self.s_post)

    def l_pre(self, v: np.ndarray) -> np.ndarray:
        return self.dd @ v

    def full(self, free: np.ndarray) -> np.ndarray:
        return np.append(free, self.target)

    def min_sd(self) -> float:
        return float(np.sqrt(self.variance_v(self.full(self.center))))

    def min_bias_sd(self) -> float:
        return float(np.sqrt(self.variance_v(self.full(np.zeros(self.k - 1)))))

    def least_bias(self, h: float) -> tuple[float, np.ndarray]:
        """Worst-case bias over Delta^SD(1) of the least-biased estimator with standard deviation <= h, and v."""
        if self.k == 1:
            return self.constant + abs(self.target), self.full(np.zeros(0))
        radius2 = h * h - (self.const + 0.5 * self.b @ self.center)  # h^2 - the least variance
        # at h = the least SD the feasible set is one point; h^2 - var is then rounding (a few ulps of h^2, whose
        # sign depends on the BLAS kernel), which must not send the solver to the boundary of a vanishing ellipsoid
        if radius2 <= 1e-14 * h * h:  # only the minimum-variance estimator is feasible
            free = self.center
        else:
            free = self._l1_over_ellipsoid(h)
        return self.constant + float(np.sum(np.abs(free))) + abs(self.target), self.full(free)

    def _l1_over_ellipsoid(self, h: float) -> np.ndarray:
        a, b, const = self.a, self.b, self.const
        n = a.shape[0]

        def var(x):
            return x @ a @ x + b @ x + const

        if var(np.zeros(n)) <= h * h:  # the minimum-bias estimator is within reach
            return np.zeros(n)
        # smooth reformulation in (u, x): min sum u, u >= x, u >= -x, var(x) <= h^2; from the feasible centre
        z0 = np.concatenate([np.abs(self.center) + 1e-12, self.center])
        cons = [
            {"type": "ineq", "fun": lambda z: z[:n] - z[n:], "jac": lambda z: np.hstack([np.eye(n), -np.eye(n)])},
            {"type": "ineq", "fun": lambda z: z[:n] + z[n:], "jac": lambda z: np.hstack([np.eye(n), np.eye(n)])},
            {"type": "ineq", "fun": lambda z: h * h - var(z[n:]),
             "jac": lambda z: np.concatenate([np.zeros(n), -(2 * a @ z[n:] + b)])},
        ]
        res = optimize.minimize(lambda z: z[:n].sum(), z0, jac=lambda z: np.concatenate([np.ones(n), np.zeros(n)]),
                                constraints=cons, method="SLSQP", options={"ftol": 1e-15, "maxiter": 500})
        x = res.x[n:]
        return _polish(a, b, const, h, x)


def _polish(a, b, const, h, x) -> np.ndarray:
    """The exact optimum on the solver's sign pattern: with the zero coordinates fixed at zero and signs s on
    the rest, minimising s'x over the ellipsoid has a closed form.  Kept when it keeps the pattern and does
    not do worse."""
    scale = max(np.max(np.abs(x)), 1e-300)
    active = np.abs(x) > 1e-7 * scale
    if not active.any():
        return np.zeros_like(x)
    s = np.sign(x[active])
    aa = a[np.ix_(active, active)]
    bb = b[active]
    center = np.linalg.solve(2 * aa, -bb)
    r2 = h * h - (const + 0.5 * bb @ center)
    if r2 <= 0:
        return x
    ainv_s = np.linalg.solve(aa, s)
    step = np.sqrt(r2 / (s @ ainv_s))
    xa = center - step * ainv_s
    if np.any(np.sign(xa) != s):
        return x
    out = np.zeros_like(x)
    out[active] = xa
    return out if np.sum(np.abs(out)) <= np.sum(np.abs(x)) + 1e-12 * scale else x


def _bisect_h(f, a: float, b: float, num_points: int) -> float | None:
    """HonestDiD's ``.findOptimalCIDerivativeBisection``: the minimum of a convex function of h by bisection on
    a central numerical derivative; None when the derivatives contradict convexity (then a grid is searched)."""
    failtol = _EPS ** 0.5
    dif = min((b - a) / num_points, abs(b) * _EPS ** (1 / 3))
    fa, fb = f(a), f(b)
    if np.isnan(fa) or np.isnan(fb):
        return None
    fpa = (f(a + dif) - fa) / dif
    fpb = (f(b - dif) - fb) / -dif
    if fpa > fpb:
        return None
    if fpb < 0:
        return b
    if fpa > 0:
        return a
    iters, maxiter = 1, 10 * int(np.ceil(np.log(abs(b - a) / dif) / np.log(2)))
    while abs(b - a) > dif:
        iters += 1
        x = (a + b) / 2
        fpx = (f(x + dif) - f(x - dif)) / (2 * dif)
        if fpx > fpb + failtol or fpx + failtol < fpa or iters > maxiter:
            return None
        if fpx > 0:
            b = x
        else:
            a = x
    return (a + b) / 2


def flci(betahat, sigma, num_pre: int, num_post: int, l_vec=None, m: float = 0.0, alpha: float = 0.05,
         num_points: int = 100, seed: int = 0) -> FLCIResult:
    """The optimal FLCI for ``l' tau_post`` under Delta^SD(m): HonestDiD's ``findOptimalFLCI``."""
    betahat = np.asarray(betahat, dtype=float).ravel()
    sigma = np.asarray(sigma, dtype=float)
    l_vec = np.eye(num_post)[0] if l_vec is None else np.asarray(l_vec, dtype=float).ravel()
    prob = _Problem(sigma, num_pre, l_vec)
    h0 = prob.min_bias_sd()
    h_min = prob.min_sd()
    p = 1 - alpha

    def halflength(h: float) -> float:
        bias, _ = prob.least_bias(h)
        return folded_normal_quantile(p, m * bias / h, seed) * h

    hstar = _bisect_h(halflength, h_min, h0, num_points)
    if hstar is None:
        grid = np.linspace(h_min, h0, num_points)
        lengths = [halflength(h) for h in grid]
        hstar = float(grid[int(np.argmin(lengths))])
    bias, v = prob.least_bias(hstar)
    half = folded_normal_quantile(p, m * bias / hstar, seed) * hstar
    weights = np.concatenate([prob.l_pre(v), l_vec])
    centre = float(weights @ betahat)
    return FLCIResult(centre - half, centre + half, half, tuple(float(x) for x in weights), hstar, m * bias)
