"""Treatment effects under unconfoundedness as Stata's ``teffects`` computes them: RA, IPW, IPW-RA, AIPW, AIPW-WLS.

Pure functions on arrays.  Each method is an exactly identified M-estimator: the propensity score equations
(binomial ML to full convergence), the arm-specific outcome regressions and the two potential-outcome means
stacked into ``psi(theta)``, ``theta = (mu0, mu1, beta0, beta1, gamma)``.  The variance is ``A^-1 B A^-T / n``
with ``A`` the mean analytic Jacobian (observed information for the propensity block) and ``B`` the mean outer
product: no small-sample factor, z tests -- Stata's ``teffects`` convention, checked on Cattaneo (2010).

The equations, with ``e = F(x_p'gamma)``, ``d_a = 1{t = a}``, ``m_a = x_o'beta_a`` and the target indicator
``G`` (1 for ATE, t for ATT, 1 - t for ATC), the IPW weights ``w_a(e)`` of :func:`ipw_weights`:

* RA:       ``d_a x_o (y - m_a)``;          ``G (m_a - mu_a)``
* IPW:      ``d_a w_a (y - mu_a)`` (normalised weights: each arm's weighted mean)
* IPW-RA:   ``d_a w_a x_o (y - m_a)``;      ``G (m_a - mu_a)``
* AIPW:     ``d_a x_o (y - m_a)``;          ``G (m_a - mu_a) + d_a w_a (y - m_a)``
* AIPW-WLS: ``d_a v_a x_o (y - m_a)``, ``v_a = (d_a/e_a)(d_a/e_a - 1)`` (Stata's ``wnls``); the AIPW mean; ATE only

AIPW's ATT/ATC are Mercatanti & Li's (2014) doubly robust estimators; IPW also has ATO (overlap weights, Li,
Morgan & Zaslavsky 2018).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Mapping, Sequence

import numpy as np
from scipy import linalg, stats

from causalspec.errors import DataError, EstimationError, UnsupportedError
from causalspec.estimators._glm import LINKS, BinomialLink, binomial_irls
from causalspec.estimators._linear import fit_ols
from causalspec.inference import vcov as _lm_vcov

__all__ = ["TEffectsFit", "PropensityMLE", "IPWWeights", "FixedWeightsSE", "METHODS", "ESTIMANDS",
           "teffects", "ra", "ipw", "ipwra", "aipw", "aipw_wls", "propensity_mle", "ipw_weights",
           "weights_fixed_se", "stata_table"]

Method = Literal["RA", "IPW", "IPW-RA", "AIPW", "AIPW-WLS"]
Estimand = Literal["ATE", "ATT", "ATC", "ATO"]
METHODS: tuple[str, ...] = ("RA", "IPW", "IPW-RA", "AIPW", "AIPW-WLS")
ESTIMANDS: tuple[str, ...] = ("ATE", "ATT", "ATC", "ATO")
_SUPPORTED = {"RA": ("ATE", "ATT", "ATC"), "IPW": ESTIMANDS, "IPW-RA": ("ATE", "ATT", "ATC"),
              "AIPW": ("ATE", "ATT", "ATC"), "AIPW-WLS": ("ATE",)}


# ------------------------------------------------------------------------------------------ propensity model
@dataclass(frozen=True)
class PropensityMLE:
    """A binomial ML fit of the treatment on ``Xp``; ``max_gradient`` is the largest |score| before the last step."""

    coef: np.ndarray
    score: np.ndarray
    link: str
    iterations: int
    converged: bool
    max_gradient: float


def _binomial_parts(link: BinomialLink, eta: np.ndarray):
    """``e``, ``de/deta``, the score weight ``h = f / (e (1 - e))`` and ``dh/deta`` (1 and 0 for the logit)."""
    e, f = link.linkinv(eta), link.mu_eta(eta)
    v = e * (1.0 - e)
    return e, f, f / v, link.mu_eta2(eta) / v - f ** 2 * (1.0 - 2.0 * e) / v ** 2


def propensity_mle(t: np.ndarray, Xp: np.ndarray, link: str = "probit", *, tol: float = 1e-13,
                   maxit: int = 100) -> PropensityMLE:
    """The treatment model's MLE: ``glm.fit``'s IRLS start, then Newton steps on the observed information.

    The maximum ``stats::glm(t ~ Xp - 1, family = binomial(link))`` and Stata's ``probit`` / ``logit`` approach;
    glm's deviance rule stops short by up to ~1e-5 (relative) for probit and cloglog, and Stata's teffects
    numbers need the maximum itself; McCullagh & Nelder (1989), 2.5.  ``link``: logit, probit or cloglog.
    """
    t, Xp = np.asarray(t, dtype=float), np.asarray(Xp, dtype=float)
    if link not in LINKS:
        raise UnsupportedError(f"unknown propensity link {link!r}.", loc="link", fix=f"Use one of {LINKS}.")
    f = BinomialLink(link)
    start = binomial_irls(t, Xp, link=link)
    if len(start.kept) < Xp.shape[1]:
        raise EstimationError("the propensity design is rank deficient.", loc="Xp",
                              fix="Drop the collinear columns before calling the kernel.")
    gamma, it, converged, grad = start.coef.copy(), 0, False, np.inf
    for it in range(1, maxit + 1):
        e, fe, h, dh = _binomial_parts(f, Xp @ gamma)
        g = Xp.T @ ((t - e) * h)
        info = (Xp * (fe * h - (t - e) * dh)[:, None]).T @ Xp
        step = linalg.solve(info, g, assume_a="sym")
        gamma = gamma + step
        grad = float(np.max(np.abs(g)))
        if np.max(np.abs(step)) <= tol * max(1.0, float(np.max(np.abs(gamma)))):
            converged = True
            break
    return PropensityMLE(gamma, f.linkinv(Xp @ gamma), link, it, converged, grad)


# ------------------------------------------------------------------------------------------ weights
@dataclass(frozen=True)
class IPWWeights:
    """The IPW weights of one estimand, in three scalings that give the same weighted means.

    ``unnormalized`` (Horvitz-Thompson): ``t w_1(e) + (1 - t) w_0(e)``; ``normalized`` (Hajek): divided by
    their arm's sum, so each arm's weights sum to 1; ``stabilized``: ``unnormalized`` times the arm's share
    ``n_a / n`` (Robins, Hernan & Brumback 2000 for the ATE; proportional to the usual stabilised ATT weights).
    """

    estimand: str
    normalized: np.ndarray
    unnormalized: np.ndarray
    stabilized: np.ndarray


def _arm_weights(e: np.ndarray, estimand: str):
    """``(w_1, w_0, dw_1/de, dw_0/de)``: ATE 1/e, 1/(1-e); ATT 1, e/(1-e); ATC (1-e)/e, 1; ATO 1-e, e."""
    one, zero = np.ones_like(e), np.zeros_like(e)
    if estimand == "ATE":
        return 1.0 / e, 1.0 / (1.0 - e), -1.0 / e ** 2, 1.0 / (1.0 - e) ** 2
    if estimand == "ATT":
        return one, e / (1.0 - e), zero, 1.0 / (1.0 - e) ** 2
    if estimand == "ATC":
        return (1.0 - e) / e, one, -1.0 / e ** 2, zero
    return 1.0 - e, e.copy(), -one, one


def _wnls(e: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Stata's ``teffects aipw, wnls`` regression weights ``(t/e)(t/e - 1)`` for (control, treated) rows."""
    return e / (1.0 - e) ** 2, (1.0 - e) / e ** 2


def ipw_weights(t: np.ndarray, e: np.ndarray, estimand: Estimand = "ATE") -> IPWWeights:
    """IPW weights as functions of the propensity score ``e`` (see :class:`IPWWeights`).

    Examples
    --------
    >>> w = ipw_weights(np.array([1, 0, 0]), np.array([0.5, 0.25, 0.5]))
    >>> w.unnormalized.round(4).tolist(), w.normalized.round(4).tolist()
    ([2.0, 1.3333, 2.0], [1.0, 0.4, 0.6])
    """
    t, e = np.asarray(t, dtype=float), np.asarray(e, dtype=float)
    estimand = _estimand(estimand, "IPW")
    w1, w0, _, _ = _arm_weights(e, estimand)
    ht = np.where(t == 1, w1, w0)
    arm_sum = np.where(t == 1, ht[t == 1].sum(), ht[t == 0].sum())
    share = np.where(t == 1, t.mean(), 1.0 - t.mean())
    return IPWWeights(estimand, ht / arm_sum, ht, ht * share)


# ------------------------------------------------------------------------------------------ the stacked system
@dataclass(frozen=True)
class _System:
    method: str
    estimand: str
    y: np.ndarray
    t: np.ndarray
    Xo: np.ndarray | None
    Xp: np.ndarray | None
    link: BinomialLink | None
    ko: int  # outcome-design columns (0 for IPW)
    kp: int  # propensity-design columns (0 for RA)


def _weights(s: _System, e: np.ndarray | None, fe: np.ndarray | None):
    """Per arm (0, 1): the IPW weights ``w_a`` and the outcome-regression weights ``v_a``, with d/d eta."""
    n = len(s.y)
    one, zero = (np.ones(n),) * 2, (np.zeros(n),) * 2
    if e is None:
        return one, zero, one, zero
    w1, w0, dw1, dw0 = _arm_weights(e, s.estimand)
    w, dw = (w0, w1), (dw0 * fe, dw1 * fe)
    if s.method == "IPW-RA":
        return w, dw, w, dw
    if s.method == "AIPW-WLS":  # Stata's wnls weights (t/e)(t/e - 1)
        return w, dw, _wnls(e), ((1.0 + e) / (1.0 - e) ** 3 * fe, (1.0 / e ** 2 - 2.0 / e ** 3) * fe)
    return w, dw, one, zero


def _stack(s: _System, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The estimating functions (n x p) at ``theta = (mu0, mu1, beta0, beta1, gamma)`` and their mean Jacobian."""
    y, t, Xo, Xp = s.y, s.t, s.Xo, s.Xp
    n, ko, kp = len(y), s.ko, s.kp
    p = 2 + 2 * ko + kp
    sb = [slice(2 + a * ko, 2 + (a + 1) * ko) for a in (0, 1)]
    sg = slice(2 + 2 * ko, p)
    psi, J = np.zeros((n, p)), np.zeros((p, p))
    d = (1.0 - t, t)
    G = {"ATE": np.ones(n), "ATT": t, "ATC": 1.0 - t}.get(s.estimand)
    e = fe = None
    if kp:
        e, fe, h, dh = _binomial_parts(s.link, Xp @ theta[sg])
        psi[:, sg] = Xp * ((t - e) * h)[:, None]
        J[sg, sg] = (Xp * ((t - e) * dh - fe * h)[:, None]).T @ Xp / n
    w, dw, v, dv = _weights(s, e, fe)
    for a in (0, 1):
        if s.method == "IPW":  # d_a w_a (y - mu_a)
            r = y - theta[a]
            psi[:, a] = d[a] * w[a] * r
            J[a, a] = -np.mean(d[a] * w[a])
            J[a, sg] = (d[a] * dw[a] * r) @ Xp / n
            continue
        m = Xo @ theta[sb[a]]
        r = y - m
        psi[:, sb[a]] = Xo * (d[a] * v[a] * r)[:, None]  # d_a v_a x_o (y - m_a)
        J[sb[a], sb[a]] = -(Xo * (d[a] * v[a])[:, None]).T @ Xo / n
        if kp:
            J[sb[a], sg] = (Xo * (d[a] * dv[a] * r)[:, None]).T @ Xp / n
        psi[:, a] = G * (m - theta[a])  # G (m_a - mu_a)
        J[a, a] = -np.mean(G)
        J[a, sb[a]] = G @ Xo / n
        if s.method in ("AIPW", "AIPW-WLS"):  # + d_a w_a (y - m_a)
            psi[:, a] += d[a] * w[a] * r
            J[a, sb[a]] -= (d[a] * w[a]) @ Xo / n
            J[a, sg] = (d[a] * dw[a] * r) @ Xp / n
    return psi, J


def _solve(s: _System, gamma: np.ndarray | None) -> np.ndarray:
    """The root of the stacked equations, block by block (the system is triangular)."""
    ko, kp, y, t = s.ko, s.kp, s.y, s.t
    d = (1.0 - t, t)
    theta = np.zeros(2 + 2 * ko + kp)
    e = fe = None
    if kp:
        theta[2 + 2 * ko:] = gamma
        e = s.link.linkinv(s.Xp @ gamma)
        fe = np.ones_like(e)  # the derivatives are not needed here
    w, _, v, _ = _weights(s, e, fe)
    if s.method == "IPW":
        theta[:2] = [np.sum(d[a] * w[a] * y) / np.sum(d[a] * w[a]) for a in (0, 1)]
        return theta
    G = {"ATE": np.ones(len(y)), "ATT": t, "ATC": 1.0 - t}[s.estimand]
    for a in (0, 1):
        sw = np.sqrt(d[a] * v[a])
        beta, _, rank, _ = np.linalg.lstsq(s.Xo * sw[:, None], y * sw, rcond=None)
        if rank < s.Xo.shape[1]:
            raise EstimationError(f"the outcome design is rank deficient in arm t = {a}.", loc="Xo",
                                  fix="Drop the columns that are constant or collinear within a treatment arm.")
        theta[2 + a * ko:2 + (a + 1) * ko] = beta
        m = s.Xo @ beta
        aug = d[a] * w[a] * (y - m) if s.method in ("AIPW", "AIPW-WLS") else 0.0
        theta[a] = np.sum(G * m + aug) / np.sum(G)
    return theta


# ------------------------------------------------------------------------------------------ results
@dataclass(frozen=True)
class TEffectsFit:
    """One ``teffects`` fit.  ``params`` / ``vcov`` are in Stata's order ``(effect, POmean:0, OME0:..., OME1:...,
    TME1:...)`` over ``names``; ``po_means`` / ``po_std_errors`` are keyed by arm (0, 1).  ``weights`` are the
    estimand's IPW weights (also IPW-RA's regression weights; AIPW-WLS regresses with ``(t/e)(t/e - 1)``)."""

    method: str
    estimand: str
    estimate: float
    std_error: float
    po_means: Mapping[int, float]
    po_std_errors: Mapping[int, float]
    names: tuple[str, ...]
    params: np.ndarray
    vcov: np.ndarray
    nobs: int
    weights: IPWWeights | None
    propensity: PropensityMLE | None
    statistic: float
    p_value: float
    vcov_method: str = "M-estimation sandwich A^-1 B A^-T / n, no df correction, z tests (Stata teffects)"


def stata_table(fit: TEffectsFit, level: float = 0.95) -> dict[str, dict[str, float]]:
    """Stata's coefficient table ``r(table)``: ``b, se, z, pvalue, ll, ul`` per parameter name (normal theory)."""
    se = np.sqrt(np.diag(fit.vcov))
    q = stats.norm.ppf(0.5 + level / 2.0)
    return {name: {"b": float(b), "se": float(s), "z": float(b / s), "pvalue": float(2 * stats.norm.sf(abs(b / s))),
                   "ll": float(b - q * s), "ul": float(b + q * s)} for name, b, s in zip(fit.names, fit.params, se)}


def _estimand(estimand: str, method: str) -> str:
    key = {"ATET": "ATT"}.get(str(estimand).upper(), str(estimand).upper())
    if key not in _SUPPORTED.get(method, ()):
        raise UnsupportedError(f"estimand {estimand!r} is not available for {method}.", loc="estimand",
                               fix=f"Use one of {', '.join(_SUPPORTED.get(method, ()))} for {method}.")
    return key


def _design(t: np.ndarray, X, what: str) -> np.ndarray:
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[0] != len(t) or not np.all(np.isfinite(X)):
        raise DataError(f"{what} must be a finite (n x k) matrix with one row per unit.", loc=what,
                        fix="Drop rows with missing values and build the design with an intercept column.")
    return X


def teffects(y: np.ndarray, t: np.ndarray, Xo: np.ndarray | None = None, Xp: np.ndarray | None = None, *,
             method: Method = "AIPW", estimand: Estimand = "ATE", link: str = "probit",
             outcome_names: Sequence[str] | None = None, propensity_names: Sequence[str] | None = None
             ) -> TEffectsFit:
    """A treatment effect and both potential-outcome means with their stacked M-estimation covariance.

    Matches Stata's ``teffects ra | ipw | ipwra | aipw [, wnls]`` with ``ate`` / ``atet`` (linear outcome
    model, ``logit`` / ``probit`` treatment model); Cattaneo (2010), J. Econometrics 155:138.

    Parameters
    ----------
    y, t : (n,) outcome and 0/1 treatment
    Xo : (n, ko) outcome design with intercept (fitted separately in each arm); not used by IPW
    Xp : (n, kp) propensity design with intercept; not used by RA
    method : RA, IPW, IPW-RA, AIPW or AIPW-WLS
    estimand : ATE, ATT (alias ATET), ATC; ATO (overlap weights) for IPW
    link : logit, probit or cloglog

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> x = rng.normal(size=400); t = (rng.normal(size=400) < x).astype(float); y = 2 * t + x + rng.normal(size=400)
    >>> X = np.column_stack([x, np.ones(400)])
    >>> fit = teffects(y, t, X, X, method="AIPW")
    >>> fit.method, round(fit.estimate, 3), fit.names[:2]
    ('AIPW', 2.096, ('ATE', 'POmean:0'))
    """
    method = {"IPWRA": "IPW-RA", "AIPW_WLS": "AIPW-WLS"}.get(str(method).upper(), str(method).upper())
    if method not in METHODS:
        raise UnsupportedError(f"unknown teffects method {method!r}.", loc="method", fix=f"Use one of {METHODS}.")
    estimand = _estimand(estimand, method)
    t, y = np.asarray(t, dtype=float), np.asarray(y, dtype=float)
    if t.ndim != 1 or not np.isin(t, (0.0, 1.0)).all() or t.min() == t.max() or y.shape != t.shape or \
            not np.isfinite(y).all():
        raise DataError("t must be coded 0/1 with both arms present, and y finite, one value per unit.",
                        loc="t", fix="Recode the treatment as 0/1 and drop rows with a missing outcome.")
    Xo = None if method == "IPW" else _design(t, Xo, "Xo")
    Xp = None if method == "RA" else _design(t, Xp, "Xp")
    ps = propensity_mle(t, Xp, link) if Xp is not None else None
    ko, kp = (0 if Xo is None else Xo.shape[1]), (0 if Xp is None else Xp.shape[1])
    s = _System(method, estimand, y, t, Xo, Xp, BinomialLink(link) if ps else None, ko, kp)
    theta = _solve(s, None if ps is None else ps.coef)
    psi, J = _stack(s, theta)
    n = len(y)
    V = np.linalg.solve(J, np.linalg.solve(J, psi.T @ psi / n).T) / n  # A^-1 B A^-T / n
    L = np.eye(len(theta))  # to Stata's parametrisation (mu1 - mu0, mu0, beta0, beta1, gamma)
    L[:2, :2] = [[-1.0, 1.0], [1.0, 0.0]]
    params, Vout = L @ theta, L @ ((V + V.T) / 2.0) @ L.T
    on, pn = list(outcome_names or (f"x{j}" for j in range(ko))), list(propensity_names or (f"z{j}" for j in range(kp)))
    names = ((estimand, "POmean:0") + tuple(f"OME{a}:{v}" for a in (0, 1) for v in on[:ko])
             + tuple(f"TME1:{v}" for v in pn[:kp]))
    se = np.sqrt(np.diag(V))
    weights = None if ps is None else ipw_weights(t, ps.score, estimand)
    est, est_se = float(params[0]), float(np.sqrt(Vout[0, 0]))
    return TEffectsFit(method, estimand, est, est_se, {0: float(theta[0]), 1: float(theta[1])},
                       {0: float(se[0]), 1: float(se[1])}, names, params, Vout, n, weights, ps,
                       est / est_se, float(2.0 * stats.norm.sf(abs(est / est_se))))


def ra(y, t, Xo, *, estimand: Estimand = "ATE", **kw) -> TEffectsFit:
    """Regression adjustment (g-computation): ``teffects ra``.  See :func:`teffects`."""
    return teffects(y, t, Xo, None, method="RA", estimand=estimand, **kw)


def ipw(y, t, Xp, *, estimand: Estimand = "ATE", link: str = "probit", **kw) -> TEffectsFit:
    """Normalised inverse-probability weighting: ``teffects ipw``.  See :func:`teffects`."""
    return teffects(y, t, None, Xp, method="IPW", estimand=estimand, link=link, **kw)


def ipwra(y, t, Xo, Xp, *, estimand: Estimand = "ATE", link: str = "probit", **kw) -> TEffectsFit:
    """IPW-weighted arm-specific regressions, then RA: ``teffects ipwra``.  See :func:`teffects`."""
    return teffects(y, t, Xo, Xp, method="IPW-RA", estimand=estimand, link=link, **kw)


def aipw(y, t, Xo, Xp, *, estimand: Estimand = "ATE", link: str = "probit", **kw) -> TEffectsFit:
    """Augmented IPW: ``teffects aipw`` (ATE); ATT/ATC as Mercatanti & Li (2014).  See :func:`teffects`."""
    return teffects(y, t, Xo, Xp, method="AIPW", estimand=estimand, link=link, **kw)


def aipw_wls(y, t, Xo, Xp, *, estimand: Estimand = "ATE", link: str = "probit", **kw) -> TEffectsFit:
    """AIPW with WLS outcome regressions: ``teffects aipw, wnls`` (statsmodels' AIPW-WLS).  See :func:`teffects`."""
    return teffects(y, t, Xo, Xp, method="AIPW-WLS", estimand=estimand, link=link, **kw)


# ------------------------------------------------------------------------------------------ fixed-weights SE
@dataclass(frozen=True)
class FixedWeightsSE:
    """The weighted difference in means, its robust SE with the weights held fixed, ``po_vcov`` of both means."""

    estimate: float
    std_error: float
    se_type: str
    nobs: int
    po_vcov: np.ndarray | None = None


def weights_fixed_se(y: np.ndarray, t: np.ndarray, w: np.ndarray, se_type: str = "HC0") -> FixedWeightsSE:
    """The IPW contrast's SE treating the weights as known: the ``t`` coefficient of WLS ``y ~ t``.

    Matches ``estimatr::lm_robust(y ~ t, weights = w, se_type = "HC0" | "HC1" | "HC2" | "HC3")`` and
    ``sandwich::vcovHC(lm(y ~ t, weights = w))``; HC0 is ``geepack::geeglm(id = unit, corstr = "independence")``.
    It ignores the estimation of the propensity score: compare with :func:`teffects`'s M-estimation SE
    (Lunceford & Davidian 2004).  Invariant to rescaling either arm's weights.
    """
    y, t, w = (np.asarray(a, dtype=float) for a in (y, t, w))
    fit = fit_ols(y, np.column_stack([np.ones(len(t)), t]), ["(Intercept)", "t"], weights=w)
    V = _lm_vcov(fit, se_type)
    M = np.array([[1.0, 0.0], [1.0, 1.0]])  # POmean:0 = intercept, POmean:1 = intercept + slope
    return FixedWeightsSE(float(fit.coef[1]), float(np.sqrt(V.matrix[1, 1])), V.kind, fit.nobs, M @ V.matrix @ M.T)
