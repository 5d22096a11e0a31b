"""Horvitz-Thompson (unnormalised) inverse probability weighting, as an M-estimator beside ``teffects ipw``.

Stata's ``teffects ipw`` (:func:`causalspec.estimators._teffects.ipw`) uses normalised (Hajek) weights: each arm's
weighted mean.  The Horvitz-Thompson estimator divides each arm's weighted outcome sum by the size of the target
population instead, ``mu_a = sum(d_a w_a y) / sum(G)`` with ``G`` 1 (ATE), ``t`` (ATT) or ``1 - t`` (ATC) and the
weights ``w_a(e)`` of :func:`causalspec.estimators._teffects.ipw_weights` (ATE ``1/e``, ``1/(1 - e)``; ATT ``1``,
``e/(1 - e)``; ATC ``(1 - e)/e``, ``1``); Lunceford & Davidian (2004), estimator (1); Imbens (2004).  Its stacked
equations are the propensity model's scores and ``d_a w_a y - G mu_a``; the variance is ``A^-1 B A^-T / n``, which
accounts for the estimated score.  ``ht_fixed_se`` holds the weights fixed (the propensity block dropped): for the
ATE that is ``estimatr::lm_robust(z ~ 1, se_type)`` of the unit contrasts ``z = t y / e - (1 - t) y / (1 - e)``.
The overlap weights (ATO) are defined normalised only (Li, Morgan & Zaslavsky 2018), so ATO is refused here.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from causalspec.errors import UnsupportedError
from causalspec.estimators._glm import BinomialLink
from causalspec.estimators._teffects import (
    FixedWeightsSE,
    TEffectsFit,
    _arm_weights,
    _binomial_parts,
    _design,
    _estimand,
    ipw_weights,
    propensity_mle,
)

__all__ = ["ipw_horvitz_thompson", "ht_stack", "ht_fixed_se"]

HT_ESTIMANDS = ("ATE", "ATT", "ATC")


def _target(t: np.ndarray, estimand: str) -> np.ndarray:
    return {"ATE": np.ones_like(t), "ATT": t, "ATC": 1.0 - t}[estimand]


def ht_stack(y, t, Xp, link: BinomialLink, estimand: str, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The estimating functions (n x p) at ``theta = (mu0, mu1, gamma)`` and their mean analytic Jacobian."""
    n, kp = len(y), Xp.shape[1]
    psi, J = np.zeros((n, 2 + kp)), np.zeros((2 + kp, 2 + kp))
    gamma = theta[2:]
    e, fe, h, dh = _binomial_parts(link, Xp @ gamma)
    psi[:, 2:] = Xp * ((t - e) * h)[:, None]
    J[2:, 2:] = (Xp * ((t - e) * dh - fe * h)[:, None]).T @ Xp / n
    w1, w0, dw1, dw0 = _arm_weights(e, estimand)
    G = _target(t, estimand)
    for a, d, w, dw in ((0, 1.0 - t, w0, dw0), (1, t, w1, dw1)):
        psi[:, a] = d * w * y - G * theta[a]
        J[a, a] = -np.mean(G)
        J[a, 2:] = (d * dw * fe * y) @ Xp / n
    return psi, J


def ipw_horvitz_thompson(y, t, Xp, *, estimand: str = "ATE", link: str = "logit",
                         propensity_names=None) -> TEffectsFit:
    """The Horvitz-Thompson IPW effect and potential-outcome means with the stacked M-estimation covariance.

    ``params`` / ``vcov`` are in Stata's layout ``(effect, POmean:0, TME1:...)`` as :func:`teffects` returns them.

    Examples
    --------
    >>> rng = np.random.default_rng(3)
    >>> x = rng.normal(size=2000); t = (rng.normal(size=2000) < x).astype(float); y = 1 + 2 * t + x + rng.normal(size=2000)
    >>> fit = ipw_horvitz_thompson(y, t, np.column_stack([np.ones(2000), x]))
    >>> round(fit.estimate, 2)
    2.03
    """
    estimand = _estimand(estimand, "IPW")
    if estimand not in HT_ESTIMANDS:
        raise UnsupportedError("the overlap weights (ATO) are normalised by definition (Li, Morgan & Zaslavsky "
                               "2018); there is no Horvitz-Thompson version.", loc="estimand",
                               fix="Use normalised weights for the ATO.")
    t, y = np.asarray(t, dtype=float), np.asarray(y, dtype=float)
    Xp = _design(t, Xp, "Xp")
    ps = propensity_mle(t, Xp, link)
    f = BinomialLink(link)
    e = ps.score
    w1, w0, _, _ = _arm_weights(e, estimand)
    G = _target(t, estimand)
    theta = np.concatenate([[np.sum((1.0 - t) * w0 * y) / G.sum(), np.sum(t * w1 * y) / G.sum()], ps.coef])
    psi, J = ht_stack(y, t, Xp, f, estimand, theta)
    n = len(y)
    V = np.linalg.solve(J, np.linalg.solve(J, psi.T @ psi / n).T) / n
    L = np.eye(len(theta))
    L[:2, :2] = [[-1.0, 1.0], [1.0, 0.0]]
    params, Vout = L @ theta, L @ ((V + V.T) / 2.0) @ L.T
    pn = list(propensity_names or (f"z{j}" for j in range(Xp.shape[1])))
    names = (estimand, "POmean:0") + tuple(f"TME1:{v}" for v in pn)
    se = np.sqrt(np.diag(V))
    est, est_se = float(params[0]), float(np.sqrt(Vout[0, 0]))
    return TEffectsFit("IPW", estimand, est, est_se, {0: float(theta[0]), 1: float(theta[1])},
                       {0: float(se[0]), 1: float(se[1])}, names, params, Vout, n, ipw_weights(t, e, estimand), ps,
                       est / est_se, float(2.0 * stats.norm.sf(abs(est / est_se))),
                       vcov_method="M-estimation sandwich A^-1 B A^-T / n of the Horvitz-Thompson equations "
                                   "(propensity scores stacked), no df correction, z tests")


def ht_fixed_se(y, t, e, estimand: str = "ATE", se_type: str = "HC0") -> FixedWeightsSE:
    """The Horvitz-Thompson ATE's SE with the weights held fixed: ``lm_robust(z ~ 1, se_type)`` of the unit
    contrasts ``z = t y w_1 - (1 - t) y w_0``: HC0 ``sd_n(z) / sqrt(n)``; HC1 and HC2 times ``sqrt(n / (n - 1))``
    (an intercept's leverage is 1/n); HC3 times ``n / (n - 1)``.  ATE only: for the ATT and ATC the normaliser
    (the arm's count) is random, so no regression with fixed weights reports the SE of that ratio.
    """
    if estimand != "ATE":
        raise UnsupportedError(f"the weights-fixed SE of the Horvitz-Thompson {estimand} is not an lm_robust "
                               "regression (its normaliser, the arm's count, is random).", loc="inference.vcov",
                               fix="Leave inference.vcov out: the M-estimation SE.")
    y, t, e = (np.asarray(a, dtype=float) for a in (y, t, e))
    w1, w0, _, _ = _arm_weights(e, "ATE")
    z1, z0 = t * y * w1, (1.0 - t) * y * w0
    z = z1 - z0
    n = len(z)
    v0 = np.mean((z - z.mean()) ** 2) / n
    factor = {"HC0": 1.0, "HC1": n / (n - 1.0), "HC2": n / (n - 1.0), "HC3": (n / (n - 1.0)) ** 2}[se_type]
    Z = np.column_stack([z0, z1]) - np.array([z0.mean(), z1.mean()])
    po_vcov = (Z.T @ Z) / n / n * factor  # the same rule for each arm's mean (and their covariance)
    return FixedWeightsSE(float(z.mean()), float(np.sqrt(v0 * factor)), se_type, n, po_vcov)
