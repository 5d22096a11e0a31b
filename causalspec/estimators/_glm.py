"""Binomial GLMs by IRLS exactly as R's ``glm.fit``: the logit, probit and cloglog links of ``binomial()``.

The fit follows ``glm.fit`` step by step (``mustart``, the working weights, the deviance-based stopping rule,
step halving when the deviance is not finite, ``make.link``'s clamping of mu away from 0 and 1), so propensity
scores agree with R's to its own stopping rule; ``cov_unscaled`` is ``summary.glm``'s, from the last iteration.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from causalspec.errors import EstimationError, SpecError
from causalspec.estimators._linear import r_pivot

__all__ = ["LINKS", "BinomialLink", "IRLSFit", "binomial_irls", "logistic_irls"]

# R's logit link clamps the linear predictor (family.c: THRESH, MTHRESH).
_THRESH = 30.0
_EPS = np.finfo(float).eps


def _linkinv(eta: np.ndarray) -> np.ndarray:
    # R clamps exp(eta) at DBL_EPSILON / 1/DBL_EPSILON so mu never reaches 0 or 1.
    t = np.where(eta < -_THRESH, _EPS, np.where(eta > _THRESH, 1.0 / _EPS, np.exp(np.clip(eta, -_THRESH, _THRESH))))
    return t / (1.0 + t)


def _mu_eta(eta: np.ndarray) -> np.ndarray:
    e = np.exp(np.clip(eta, -_THRESH, _THRESH))
    return np.where(np.abs(eta) > _THRESH, _EPS, e / (1.0 + e) ** 2)


_PROBIT_THRESH = -stats.norm.ppf(_EPS)  # make.link("probit"): eta clamped to +-qnorm(DBL_EPSILON)


@dataclass(frozen=True)
class BinomialLink:
    """A link of R's ``binomial()`` family as ``make.link`` defines it: the link, its inverse (with R's clamping,
    so mu never reaches 0 or 1), d mu / d eta, and d^2 mu / d eta^2 (for the observed information that
    M-estimation uses with a non-canonical link)."""

    name: str

    def linkfun(self, mu: np.ndarray) -> np.ndarray:
        if self.name == "logit":
            return np.log(mu / (1.0 - mu))
        if self.name == "probit":
            return stats.norm.ppf(mu)
        return np.log(-np.log1p(-mu))

    def linkinv(self, eta: np.ndarray) -> np.ndarray:
        if self.name == "logit":
            return _linkinv(eta)
        if self.name == "probit":
            return stats.norm.cdf(np.clip(eta, -_PROBIT_THRESH, _PROBIT_THRESH))
        return np.clip(-np.expm1(-np.exp(eta)), _EPS, 1.0 - _EPS)

    def mu_eta(self, eta: np.ndarray) -> np.ndarray:
        if self.name == "logit":
            return _mu_eta(eta)
        if self.name == "probit":
            return np.maximum(stats.norm.pdf(eta), _EPS)
        e = np.minimum(eta, 700.0)
        return np.maximum(np.exp(e) * np.exp(-np.exp(e)), _EPS)

    def mu_eta2(self, eta: np.ndarray) -> np.ndarray:
        """The derivative of mu_eta (unclamped)."""
        if self.name == "logit":
            mu = _linkinv(eta)
            return mu * (1.0 - mu) * (1.0 - 2.0 * mu)
        if self.name == "probit":
            return -eta * stats.norm.pdf(eta)
        e = np.minimum(eta, 700.0)
        return np.exp(e - np.exp(e)) * (1.0 - np.exp(e))


LINKS = ("logit", "probit", "cloglog")


def _deviance(y: np.ndarray, mu: np.ndarray, w: np.ndarray) -> float:
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(y > 0, y * np.log(y / mu), 0.0)
        b = np.where(y < 1, (1 - y) * np.log((1 - y) / (1 - mu)), 0.0)
    return float(np.sum(2.0 * w * (a + b)))


@dataclass(frozen=True)
class IRLSFit:
    """Raw output of :func:`logistic_irls` (coefficients NaN where aliased)."""

    coef: np.ndarray
    fitted: np.ndarray
    eta: np.ndarray
    iterations: int
    converged: bool
    deviance: float
    kept: tuple[int, ...]
    cov_unscaled: np.ndarray | None = None  # (X'WX)^-1 of the kept columns from the last iteration's QR, as summary.glm


def logistic_irls(y: np.ndarray, X: np.ndarray, weights: np.ndarray | None = None, *,
                  epsilon: float = 1e-8, maxit: int = 25) -> IRLSFit:
    """Logistic regression by IRLS: :func:`binomial_irls` with the logit link (``glm(family = binomial)``)."""
    return binomial_irls(y, X, weights, link="logit", epsilon=epsilon, maxit=maxit)


def binomial_irls(y: np.ndarray, X: np.ndarray, weights: np.ndarray | None = None, *, link: str = "logit",
                  epsilon: float = 1e-8, maxit: int = 25) -> IRLSFit:
    """A binomial GLM by IRLS with R's ``glm.fit`` start, stopping rule, step halving and link clamping.

    Matches ``stats::glm(family = binomial(link))`` for link logit, probit and cloglog
    (``glm.control(epsilon = 1e-8, maxit = 25)``); McCullagh & Nelder (1989), Generalized Linear Models, 2.5.
    """
    if link not in LINKS:
        raise SpecError(f"unknown link {link!r}.", loc="design.propensity_model.link", fix=f"Use one of {LINKS}.")
    f = BinomialLink(link)
    y = np.asarray(y, dtype=float)
    X = np.asarray(X, dtype=float)
    n, p = X.shape
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    # glm.fit's binomial initialize: mustart = (w y + 1/2) / (w + 1)
    mu = (w * y + 0.5) / (w + 1.0)
    eta = f.linkfun(mu)
    dev_old = _deviance(y, mu, w)
    coef = np.full(p, np.nan)
    coef_old = None
    kept: tuple[int, ...] | None = None
    converged = False
    it = 0
    for it in range(1, maxit + 1):
        mu_eta = f.mu_eta(eta)
        good = (w > 0) & (mu_eta != 0)
        z = eta[good] + (y[good] - mu[good]) / mu_eta[good]
        ww = np.sqrt(w[good] * mu_eta[good] ** 2 / (mu[good] * (1.0 - mu[good])))
        Xw = X[good] * ww[:, None]
        if kept is None:
            # R's Cdqrls pivots with tol min(1e-7, epsilon / 1000); aliased columns get NA.
            piv, rank = r_pivot(Xw, min(1e-7, epsilon / 1000.0))
            kept = tuple(sorted(int(i) for i in piv[:rank]))
        Q, R = np.linalg.qr(Xw[:, list(kept)], mode="reduced")
        beta = np.linalg.solve(R, Q.T @ (z * ww))
        eta = X[:, list(kept)] @ beta
        mu = f.linkinv(eta)
        dev = _deviance(y, mu, w)
        halvings = 0
        while not math.isfinite(dev) and coef_old is not None and halvings < maxit:
            # glm.fit: "step size truncated due to divergence" -- halve towards the previous coefficients
            beta = (beta + coef_old) / 2.0
            eta = X[:, list(kept)] @ beta
            mu = f.linkinv(eta)
            dev = _deviance(y, mu, w)
            halvings += 1
        if not math.isfinite(dev):
            raise EstimationError("the propensity model's deviance is not finite (perfect separation?).",
                                  loc="propensity", fix="Remove covariates that predict treatment perfectly.")
        coef = np.full(p, np.nan)
        coef[list(kept)] = beta
        coef_old = beta
        if abs(dev - dev_old) / (abs(dev) + 0.1) < epsilon:
            converged = True
            break
        dev_old = dev
    Rinv = np.linalg.inv(R)
    return IRLSFit(coef, mu, eta, it, converged, dev, kept or (), Rinv @ Rinv.T)
