"""The nuisance models of the two-period DR-DiD estimators and the pieces of their influence functions.

Propensity scores by logit maximum likelihood (``fastglm(family = binomial)``, as DRDID 1.2.3 fits them) or by
inverse probability tilting (DRDID's ``pscore.cal``), weighted least squares outcome regressions, and the
asymptotic linear representations of both, scaled as DRDID scales them (``n`` times the inverse Hessian).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import linalg

__all__ = ["DrDidFailure", "DrDidResult", "fit_logit", "wls", "rcond", "pscore_logit", "pscore_ipt",
           "ps_linear_rep", "ols_linear_rep", "drdid_se", "normalised_weights"]

_EPS = np.finfo(float).eps
# DRDID caps the fitted propensity score at 1 - 1e-6 "to avoid dividing by zero" (DRDID >= 1.1.0).
PS_CAP = 1.0 - 1e-6


class DrDidFailure(Exception):
    """The estimator cannot be computed on these data (DRDID stops with an error, did reports NA)."""


@dataclass(frozen=True, eq=False)
class DrDidResult:
    """A two-period DiD estimate of the ATT.

    ``influence`` holds one value per unit (panel) or per row (repeated cross-sections), scaled as DRDID
    returns ``att.inf.func``: ``se = sd(influence) * sqrt(n - 1) / n``.  ``notes`` say how the nuisance models
    were fitted (trimmed comparison units, the propensity-score algorithm).
    """

    att: float
    se: float
    influence: np.ndarray
    n: int
    notes: tuple[str, ...] = field(default=())


def drdid_se(psi: np.ndarray) -> float:
    """DRDID 1.2.3's analytical SE: ``stats::sd(inf.func) * sqrt(n - 1) / n`` (so the square root of the
    centred sum of squares over ``n``; DRDID < 1.2.3 divided ``sd`` by ``sqrt(n)``, see NEWS 1.2.3)."""
    n = psi.shape[0]
    return float(np.sqrt(np.sum((psi - psi.mean()) ** 2)) / n)


def normalised_weights(w: np.ndarray | None, n: int) -> np.ndarray:
    """The sampling weights as DRDID uses them: ones when absent, non-negative, normalised to mean one."""
    if w is None:
        return np.ones(n)
    w = np.asarray(w, dtype=float)
    if w.shape != (n,) or not np.all(np.isfinite(w)) or np.min(w) < 0:
        raise DrDidFailure("the weights must be n finite non-negative numbers")
    if w.sum() <= 0:
        raise DrDidFailure("the weights are all zero")
    return w / w.mean()


def rcond(a: np.ndarray) -> float:
    """Reciprocal 1-norm condition number, as R's ``rcond`` (0 for singular matrices)."""
    try:
        c = np.linalg.cond(a, 1)
    except np.linalg.LinAlgError:
        return 0.0
    return 0.0 if not np.isfinite(c) else 1.0 / c


def _expit(eta: np.ndarray) -> np.ndarray:
    # R's logit link inverse: eta beyond +-30 maps to eps / 1 - eps, so separated data stay finite.
    mu = 1.0 / (1.0 + np.exp(-np.clip(eta, -30.0, 30.0)))
    return np.clip(mu, _EPS, 1.0 - _EPS)


def fit_logit(x: np.ndarray, d: np.ndarray, w: np.ndarray | None = None, *, tol: float = 1e-14,
              max_iter: int = 100) -> tuple[np.ndarray, np.ndarray, bool]:
    """Weighted logistic regression by Newton-Raphson (IRLS).

    Matches ``stats::glm(family = binomial)`` / ``fastglm`` at convergence
    (their IRLS stops at a deviance change of 1e-8; iterating further moves the
    estimate by far less than 1e-6 relative).  Returns (coefficients, fitted
    probabilities, converged).
    """
    n, k = x.shape
    w = np.ones(n) if w is None else w
    beta = np.zeros(k)
    # Start where glm does: mustart = (w*y + 0.5)/(w + 1).
    mu = (w * d + 0.5) / (w + 1.0)
    eta = np.log(mu / (1.0 - mu))
    dev_old = np.inf
    converged = False
    mu = _expit(eta)
    for _ in range(max_iter):
        var = mu * (1.0 - mu)
        z = eta + (d - mu) / var
        sw = np.sqrt(w * var)
        coef, _, rank, _ = np.linalg.lstsq(x * sw[:, None], z * sw, rcond=None)
        if rank < k:
            raise DrDidFailure("the propensity-score covariates are collinear")
        beta = coef
        eta = x @ beta
        mu = _expit(eta)
        dev = -2.0 * np.sum(w * (d * np.log(mu) + (1 - d) * np.log1p(-mu)))
        if abs(dev - dev_old) / (abs(dev) + 0.1) < tol:
            converged = True
            break
        dev_old = dev
    return beta, _expit(x @ beta), converged


def wls(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted least squares by pivoted QR; collinear designs fail as R's NA coefficients make DRDID stop."""
    sw = np.sqrt(w)
    xs = x * sw[:, None]
    if xs.shape[0] < xs.shape[1]:
        raise DrDidFailure("an outcome regression has fewer observations than covariates")
    q, r, piv = linalg.qr(xs, mode="economic", pivoting=True)
    diag = np.abs(np.diag(r))
    # lm's rank test: pivoted QR with tolerance 1e-7 relative to the largest diagonal entry.
    if diag.size == 0 or np.sum(diag > 1e-7 * diag[0]) < x.shape[1]:
        raise DrDidFailure("the outcome-regression covariates are collinear among the units it is fitted on")
    coef = np.empty(x.shape[1])
    coef[piv] = linalg.solve_triangular(r, q.T @ (y * sw))
    return coef


def _trimmed(ps: np.ndarray, d: np.ndarray, trim_level: float) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    ps = np.minimum(ps, PS_CAP)
    # DRDID >= 1.2.2: comparison units with a propensity score at or above trim.level get weight zero.
    trim = np.where(d == 1, 1.0, (ps < trim_level).astype(float))
    dropped = int(np.sum(trim == 0))
    notes = (f"{dropped} comparison unit(s) with a propensity score >= {trim_level:g} trimmed (weight zero), as "
             "DRDID's trim.level does",) if dropped else ()
    return ps, trim, notes


def pscore_logit(x: np.ndarray, d: np.ndarray, w: np.ndarray, trim_level: float, logit=None):
    """Logit propensity scores (DRDID's ``fastglm(binomial)``), capped and trimmed: (ps, trim, notes).
    ``logit``: ``fit_logit(x, d, w)`` when the caller has it already (did's pre-check fits the same model)."""
    _, ps, converged = fit_logit(x, d, w) if logit is None else logit
    ps, trim, notes = _trimmed(ps, d, trim_level)
    if not converged:
        notes = ("the propensity-score logit did not converge",) + notes
    return ps, trim, notes


def _ipt_loss(gamma: np.ndarray, x: np.ndarray, d: np.ndarray, w: np.ndarray) -> float:
    eta = x @ gamma
    return float(np.mean(w * np.where(d == 1, -eta, np.exp(np.minimum(eta, 700.0)))))


def pscore_ipt(x: np.ndarray, d: np.ndarray, w: np.ndarray, trim_level: float, *, max_iter: int = 200):
    """Propensity scores by inverse probability tilting, capped and trimmed: (ps, trim, notes).

    Matches DRDID's ``pscore.cal`` (``trust::trust`` on ``loss.ps.cal`` from the logit estimate); Graham,
    Pinto & Egel (2012), Sant'Anna & Zhao (2020) section 3.1.  The loss is strictly convex with the moment
    conditions ``sum(w (1 - D) exp(x'g) x) = sum(w D x)`` as its first-order conditions, so Newton's method
    with backtracking from the same start reaches trust's solution.  DRDID falls back to ``nlm`` on a
    quadratically extrapolated loss, then to the logit, when trust does not converge; those fallbacks are
    refused here (the moment conditions then have no solution: the groups are separated).
    """
    n = x.shape[0]
    gamma, _, _ = fit_logit(x, d, w)
    converged = False
    f = _ipt_loss(gamma, x, d, w)
    for _ in range(max_iter):
        e = np.exp(np.minimum(x @ gamma, 700.0))
        grad = x.T @ (w * np.where(d == 1, -1.0, e)) / n
        hess = (x * (w * (1.0 - d) * e)[:, None]).T @ x / n
        try:
            step = linalg.cho_solve(linalg.cho_factor(hess), grad)
        except (linalg.LinAlgError, ValueError):
            break
        # the Newton decrement g' H^-1 g (twice the predicted fall of the loss) is scale-free
        decrement = float(grad @ step)
        if not np.isfinite(decrement):
            break
        if decrement < 1e-20:
            converged = True
            break
        if decrement < 1e-8:  # the quadratic region: full steps, which the loss cannot resolve any more
            gamma = gamma - step
            f = _ipt_loss(gamma, x, d, w)
            continue
        t = 1.0
        while t > 1e-12:
            trial = gamma - t * step
            f_trial = _ipt_loss(trial, x, d, w)
            if np.isfinite(f_trial) and f_trial <= f - 1e-4 * t * decrement:
                break
            t *= 0.5
        else:
            break
        gamma, f = trial, f_trial
    if not converged:
        raise DrDidFailure("the inverse-probability-tilting propensity score did not converge (the moment "
                           "conditions have no solution: the comparison group does not cover the treated "
                           "group's covariates)")
    ps = 1.0 / (1.0 + np.exp(-(x @ gamma)))  # stats::plogis, no clipping
    return _trimmed(ps, d, trim_level)


def ps_linear_rep(x: np.ndarray, d: np.ndarray, ps: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Asymptotic linear representation of the logit coefficients (n x k): the score times ``n`` times the
    inverse of the information matrix ``X' diag(w ps (1 - ps)) X`` (DRDID's ``chol2inv(chol(.)) * n``)."""
    n = d.shape[0]
    hw = ps * (1.0 - ps) * w
    xtwx = x.T @ (hw[:, None] * x)
    if rcond(xtwx) < _EPS:
        raise DrDidFailure("the propensity-score design is singular")
    score = (w * (d - ps))[:, None] * x
    try:
        return n * linalg.cho_solve(linalg.cho_factor(xtwx), score.T).T
    except linalg.LinAlgError as exc:
        raise DrDidFailure("the propensity-score design is not positive definite") from exc


def ols_linear_rep(x: np.ndarray, resid: np.ndarray, wo: np.ndarray) -> np.ndarray:
    """Asymptotic linear representation of a weighted outcome regression fitted on the rows where ``wo > 0``
    (n x k): ``(wo e x) (X' diag(wo) X / n)^-1``; DRDID stops when the matrix has rcond below eps."""
    n = x.shape[0]
    xpx = (wo[:, None] * x).T @ x / n
    if rcond(xpx) < _EPS:
        raise DrDidFailure("the regression design matrix is singular; consider removing some covariates")
    return np.linalg.solve(xpx, ((wo * resid)[:, None] * x).T).T


def drdid_result(att: float, psi: np.ndarray, notes: tuple[str, ...] = ()) -> DrDidResult:
    """An estimate with DRDID's analytic SE from its influence function ``psi``."""
    return DrDidResult(float(att), drdid_se(psi), psi, psi.shape[0], notes)
