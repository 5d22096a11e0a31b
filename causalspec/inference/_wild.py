"""The restricted wild cluster bootstrap (WCR) for one coefficient, with a CI by test inversion.

Cameron, Gelbach & Miller (2008); Roodman, MacKinnon, Nielsen & Webb (2019), "Fast and wild: bootstrap
inference in Stata using boottest" — the algorithm of ``boottest`` / ``fwildclusterboot`` with its defaults:
the null imposed, Rademacher or Webb weights drawn per cluster, a symmetric (two-sided) p-value
``P(|t*| >= |t|)``, CR1 t statistics (G/(G-1) (N-1)/(N-K)), and when every one of the 2^G (Rademacher) or 6^G
(Webb) weight vectors fits in the requested draws, all of them are enumerated and the p-value is exact.

Everything is linear in the weights: with ``A = (X'X)^-1``, the restricted residuals ``u`` and ``a_k`` the k-th
row of A, a draw ``v`` (one weight per cluster) gives ``b*_k - b0 = c'v`` with ``c_g = a_k' X_g' u_g`` and the
CR1 variance of ``b*_k`` is proportional to ``||Q v||^2`` with ``Q = diag(c) - D``,
``D_gh = a_k' X_g'X_g A X_h' u_h``: one G x G matrix per null value, then a matrix product with the draws.
Fixed effects are partialled out first (Frisch-Waugh-Lovell), as boottest does.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from causalspec.errors import DataError, Problem

__all__ = ["WildBootstrapResult", "wild_cluster_bootstrap"]

_WEBB = np.array([-math.sqrt(1.5), -1.0, -math.sqrt(0.5), math.sqrt(0.5), 1.0, math.sqrt(1.5)])


@dataclass(frozen=True)
class WildBootstrapResult:
    """p-value of H0: beta = null and the CI by test inversion, with how they were obtained."""

    term: str
    estimate: float
    t_statistic: float
    p_value: float
    conf_low: float
    conf_high: float
    level: float
    draws: int
    weights: str
    enumerated: bool
    seed: int
    n_clusters: int

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def _draws(G: int, B: int, weights: str, rng: np.random.Generator) -> tuple[np.ndarray, bool]:
    values = np.array([-1.0, 1.0]) if weights == "rademacher" else _WEBB
    if len(values) ** G <= B:
        return np.array(list(itertools.product(values, repeat=G))).T, True  # G x (all vectors)
    return values[rng.integers(0, len(values), size=(G, B))], False


class _Problem:
    """The pieces of the regression the bootstrap reuses for every null value."""

    def __init__(self, X, y, codes, k, extra_params):
        self.X, self.y, self.k = X, y, k
        self.n, p = X.shape
        self.codes = codes
        self.G = int(codes.max()) + 1
        self.A = np.linalg.inv(X.T @ X)
        self.a = self.A[k]
        self.Xr = np.delete(X, k, axis=1)
        self.Mr_solve = np.linalg.pinv(self.Xr)  # restricted projection
        K = p + extra_params
        self.scale = (self.G / (self.G - 1)) * ((self.n - 1) / (self.n - K))
        # per-cluster X_g'X_g A, needed for D
        self.XgXg = np.zeros((self.G, p, p))
        np.add.at(self.XgXg, codes, X[:, :, None] * X[:, None, :])

    def restricted_resid(self, null: float) -> np.ndarray:
        target = self.y - null * self.X[:, self.k]
        return target - self.Xr @ (self.Mr_solve @ target)

    def cq(self, null: float) -> tuple[np.ndarray, np.ndarray]:
        u = self.restricted_resid(null)
        S = np.zeros((self.G, self.X.shape[1]))
        np.add.at(S, self.codes, self.X * u[:, None])  # S_g = X_g' u_g
        c = S @ self.a
        left = np.einsum("p,gpq->gq", self.a, self.XgXg) @ self.A  # a' X_g'X_g A, per g
        D = left @ S.T
        return c, np.diag(c) - D

    def t_original(self, null: float) -> float:
        beta = self.A @ (self.X.T @ self.y)
        e = self.y - self.X @ beta
        s = np.zeros((self.G, self.X.shape[1]))
        np.add.at(s, self.codes, self.X * e[:, None])
        var = self.scale * float(np.sum((s @ self.a) ** 2))
        return (float(beta[self.k]) - null) / math.sqrt(var)

    def p_value(self, null: float, V: np.ndarray) -> tuple[float, float]:
        t = self.t_original(null)
        c, Q = self.cq(null)
        num = c @ V
        den = np.sqrt(self.scale * np.sum((Q @ V) ** 2, axis=0))
        with np.errstate(divide="ignore", invalid="ignore"):
            tstar = np.where(den > 0, num / den, 0.0)
        return float(np.mean(np.abs(tstar) >= abs(t) - 1e-12 * max(1.0, abs(t)))), t


def wild_cluster_bootstrap(X, y, names, cluster, term: str, *, draws: int = 9999, weights: str = "rademacher",
                           seed: int = 0, level: float = 0.95, null: float = 0.0,
                           extra_params: int = 0) -> WildBootstrapResult:
    """Restricted wild cluster bootstrap p-value and CI for the coefficient ``term``.

    ``X`` and ``y`` are the (fixed-effects-demeaned, if any) regressors and outcome; ``extra_params`` counts
    the fixed-effect parameters partialled out (for the CR1 small-sample factor's K).
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    names = list(names)
    if term not in names:
        raise DataError(Problem("treatment", f"{term!r} is not a regressor of the model.",
                                fix=f"Use one of {names}."))
    if weights not in ("rademacher", "webb"):
        raise DataError(Problem("inference.wild_bootstrap.weights", f"unknown weights {weights!r}.",
                                fix="Use rademacher or webb."))
    codes = np.unique(np.asarray(cluster), return_inverse=True)[1].ravel()
    G = int(codes.max()) + 1
    if G < 2:
        raise DataError(Problem("inference.cluster", "the wild cluster bootstrap needs at least two clusters.",
                                fix="Cluster on a column with several values."))
    prob = _Problem(X, y, codes, names.index(term), extra_params)
    V, enumerated = _draws(G, draws, weights, np.random.default_rng(seed))
    p, t = prob.p_value(null, V)
    estimate = float((prob.A @ (X.T @ y))[prob.k])
    se = abs((estimate - null) / t) if t != 0 else math.sqrt(prob.scale * float(np.sum((X @ prob.a) ** 2)))
    alpha = 1 - level

    def crosses(b0: float) -> bool:
        return prob.p_value(b0, V)[0] > alpha

    def bound(direction: int) -> float:
        if enumerated and 2.0 / V.shape[1] > alpha:
            # v and -v give the same |t*|, so no p-value falls below 2 / 2^G: no null value is ever rejected
            return direction * math.inf
        inside = estimate
        step = max(se, 1e-12)
        if crosses(estimate + direction * 1e4 * step):
            # never rejected (e.g. 2^G draws too few to reach the level): the interval is unbounded, as boottest says
            return direction * math.inf
        outside = estimate + direction * step
        while crosses(outside):  # expand until rejected (stops by 1e4 SEs, checked above)
            step *= 2
            outside = estimate + direction * step
        for _ in range(60):  # bisect to a relative precision of about 1e-7 of the SE
            mid = (inside + outside) / 2
            if crosses(mid):
                inside = mid
            else:
                outside = mid
            if abs(outside - inside) < 1e-7 * se:
                break
        return (inside + outside) / 2

    return WildBootstrapResult(term, estimate, t, p, bound(-1), bound(+1), level, int(V.shape[1]), weights,
                               enumerated, int(seed), G)
