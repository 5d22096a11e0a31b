"""Two-period panel DiD estimators of the ATT with their influence functions.

These are the 2x2 building blocks ``did::att_gt`` calls for every (g, t) cell
with panel data: the doubly robust ``DRDID::drdid_panel``, the normalised IPW
``DRDID::std_ipw_did_panel`` and the outcome-regression ``DRDID::reg_did_panel``
(DRDID 1.2.3).  Each returns the point estimate and the influence function of
every unit in the cell, scaled so that ``se = sqrt(mean(psi**2) / n)``.
"""

from __future__ import annotations

import numpy as np
from scipy import linalg

__all__ = ["Cell2x2", "fit_logit", "drdid_panel", "std_ipw_did_panel", "reg_did_panel", "CellFailure"]

_EPS = np.finfo(float).eps


class CellFailure(Exception):
    """The 2x2 estimator cannot be computed on this cell (did then reports ATT(g,t) as NA)."""


class Cell2x2:
    """The inputs of one 2x2 comparison: outcome change, treated flag, covariates, weights."""

    __slots__ = ("dy", "d", "x", "w")

    def __init__(self, y1: np.ndarray, y0: np.ndarray, d: np.ndarray, x: np.ndarray, w: np.ndarray | None = None):
        self.dy = np.asarray(y1, dtype=float) - np.asarray(y0, dtype=float)
        self.d = np.asarray(d, dtype=float)
        self.x = np.asarray(x, dtype=float).reshape(self.d.shape[0], -1)
        w = np.ones_like(self.d) if w is None else np.asarray(w, dtype=float)
        # DRDID normalises the weights to mean one.
        self.w = w / w.mean()

    def with_covariates(self, x: np.ndarray) -> "Cell2x2":
        """The same cell with another covariate matrix."""
        other = Cell2x2.__new__(Cell2x2)
        other.dy, other.d, other.w = self.dy, self.d, self.w
        other.x = np.asarray(x, dtype=float)
        return other


def _rcond(a: np.ndarray) -> float:
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
    for _ in range(max_iter):
        mu = _expit(eta)
        var = mu * (1.0 - mu)
        z = eta + (d - mu) / var
        sw = np.sqrt(w * var)
        coef, _, rank, _ = np.linalg.lstsq(x * sw[:, None], z * sw, rcond=None)
        if rank < k:
            raise CellFailure("the propensity-score covariates are collinear in this cell")
        beta = coef
        eta = x @ beta
        mu = _expit(eta)
        dev = -2.0 * np.sum(w * (d * np.log(mu) + (1 - d) * np.log1p(-mu)))
        if abs(dev - dev_old) / (abs(dev) + 0.1) < tol:
            converged = True
            break
        dev_old = dev
    return beta, _expit(x @ beta), converged


def _wls(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted least squares by pivoted QR; collinear designs fail as R's NA coefficients make DRDID stop."""
    sw = np.sqrt(w)
    xs = x * sw[:, None]
    q, r, piv = linalg.qr(xs, mode="economic", pivoting=True)
    diag = np.abs(np.diag(r))
    # lm's rank test: pivoted QR with tolerance 1e-7 relative to the largest diagonal entry.
    if diag.size == 0 or np.sum(diag > 1e-7 * diag[0]) < x.shape[1]:
        raise CellFailure("the outcome-regression covariates are collinear among the comparison units")
    coef = np.empty(x.shape[1])
    coef[piv] = linalg.solve_triangular(r, q.T @ (y * sw))
    return coef


def _ps_linear_rep(c: Cell2x2, ps: np.ndarray) -> np.ndarray:
    """Asymptotic linear representation of the logit coefficients (n x k)."""
    n = c.d.shape[0]
    hw = ps * (1.0 - ps) * c.w
    xtwx = c.x.T @ (hw[:, None] * c.x)
    if _rcond(xtwx) < _EPS:
        raise CellFailure("the propensity-score design is singular")
    score = (c.w * (c.d - ps))[:, None] * c.x
    return n * linalg.cho_solve(linalg.cho_factor(xtwx), score.T).T


def _ols_linear_rep(c: Cell2x2, resid: np.ndarray) -> np.ndarray:
    """Asymptotic linear representation of the comparison-group outcome regression (n x k)."""
    n = c.d.shape[0]
    wo = c.w * (1.0 - c.d)
    xpx = (wo[:, None] * c.x).T @ c.x / n
    if _rcond(xpx) < _EPS:
        raise CellFailure("the outcome-regression design is singular")
    return np.linalg.solve(xpx, ((wo * resid)[:, None] * c.x).T).T


def _pscore(c: Cell2x2, trim_level: float) -> tuple[np.ndarray, np.ndarray]:
    _, ps, _ = fit_logit(c.x, c.d, c.w)
    ps = np.minimum(ps, 1.0 - 1e-6)  # DRDID: avoid dividing by zero
    # Comparison units with a propensity score at or above trim_level get weight zero.
    trim = np.where(c.d == 1, 1.0, (ps < trim_level).astype(float))
    return ps, trim


def drdid_panel(c: Cell2x2, trim_level: float = 0.995) -> tuple[float, np.ndarray]:
    """Locally efficient doubly robust DiD ATT with panel data.

    Matches DRDID::drdid_panel (DRDID 1.2.3), the estimator did::att_gt uses for est_method = "dr".
    Sant'Anna & Zhao (2020), "Doubly robust difference-in-differences estimators", eq. (3.1).
    """
    ps, trim = _pscore(c, trim_level)
    ctrl = c.d == 0
    beta = _wls(c.x[ctrl], c.dy[ctrl], c.w[ctrl])
    out = c.x @ beta
    w_t = trim * c.w * c.d
    w_c = trim * c.w * ps * (1.0 - c.d) / (1.0 - ps)
    resid = c.dy - out
    eta_t = np.mean(w_t * resid) / np.mean(w_t)
    eta_c = np.mean(w_c * resid) / np.mean(w_c)
    att = eta_t - eta_c

    lin_ols = _ols_linear_rep(c, resid)
    lin_ps = _ps_linear_rep(c, ps)
    inf_t = (w_t * resid - w_t * eta_t) - lin_ols @ np.mean(w_t[:, None] * c.x, axis=0)
    m2 = np.mean((w_c * (resid - eta_c))[:, None] * c.x, axis=0)
    m3 = np.mean(w_c[:, None] * c.x, axis=0)
    inf_c = (w_c * resid - w_c * eta_c) + lin_ps @ m2 - lin_ols @ m3
    psi = inf_t / np.mean(w_t) - inf_c / np.mean(w_c)
    return float(att), psi


def std_ipw_did_panel(c: Cell2x2, trim_level: float = 0.995) -> tuple[float, np.ndarray]:
    """Normalised (Hajek) inverse-probability-weighted DiD ATT with panel data.

    Matches DRDID::std_ipw_did_panel (DRDID 1.2.3), used by did::att_gt for est_method = "ipw".
    Abadie (2005), "Semiparametric difference-in-differences estimators"; Sant'Anna & Zhao (2020).
    """
    ps, trim = _pscore(c, trim_level)
    w_t = trim * c.w * c.d
    w_c = trim * c.w * ps * (1.0 - c.d) / (1.0 - ps)
    eta_t = np.mean(w_t * c.dy) / np.mean(w_t)
    eta_c = np.mean(w_c * c.dy) / np.mean(w_c)
    att = eta_t - eta_c

    lin_ps = _ps_linear_rep(c, ps)
    inf_t = (w_t * c.dy - w_t * eta_t) / np.mean(w_t)
    m2 = np.mean((w_c * (c.dy - eta_c))[:, None] * c.x, axis=0)
    inf_c = ((w_c * c.dy - w_c * eta_c) + lin_ps @ m2) / np.mean(w_c)
    return float(att), inf_t - inf_c


def reg_did_panel(c: Cell2x2) -> tuple[float, np.ndarray]:
    """Outcome-regression DiD ATT with panel data.

    Matches DRDID::reg_did_panel (DRDID 1.2.3), used by did::att_gt for est_method = "reg".
    Heckman, Ichimura & Todd (1997); Sant'Anna & Zhao (2020), section 2.
    """
    x = c.x
    # reg_did_panel adds an intercept unless the first covariate column is already constant one.
    if not np.all(x[:, 0] == 1.0):
        x = np.column_stack([np.ones(x.shape[0]), x])
    cc = c.with_covariates(x)
    ctrl = cc.d == 0
    beta = _wls(x[ctrl], cc.dy[ctrl], cc.w[ctrl])
    out = x @ beta
    w_t = cc.w * cc.d
    eta_t = np.mean(w_t * cc.dy) / np.mean(w_t)
    eta_c = np.mean(w_t * out) / np.mean(w_t)
    att = eta_t - eta_c

    lin_ols = _ols_linear_rep(cc, cc.dy - out)
    inf_t = (w_t * cc.dy - w_t * eta_t) / np.mean(w_t)
    inf_c = ((w_t * out - w_t * eta_c) + lin_ols @ np.mean(w_t[:, None] * x, axis=0)) / np.mean(w_t)
    return float(att), inf_t - inf_c
