"""Propensity scores: the logistic model, overlap, trimming, IPW and AIPW.

The propensity model is fitted exactly as R's ``glm(family = binomial)`` does
(iteratively reweighted least squares from ``glm.fit``'s starting values, the
same convergence rule and the same clamping of the logit link), so the fitted
scores agree with ``MatchIt``'s ``distance = "glm"`` to the precision of R's own
stopping rule.  The effect estimators (IPW, AIPW) have no single R reference
function; their variances are the textbook M-estimation / influence-function
ones and are checked against simulation in the tests.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from causalspec.errors import DataError, SpecError, UnsupportedError
from causalspec.formula._materialize import Design, materialize
from causalspec.estimators._overlap import Overlap, Trimming, crump_trim, overlap, r_summary  # noqa: F401

__all__ = [
    "PropensityModel",
    "fit_propensity",
    "logistic_irls",
    "binomial_irls",
    "BinomialLink",
    "LINKS",
    "Overlap",
    "overlap",
    "Trimming",
    "crump_trim",
    "WeightingEstimate",
    "ipw",
    "aipw",
]

from causalspec.estimators._glm import (  # noqa: E402,F401  (re-exported: the GLM kernel the scores come from)
    LINKS,
    BinomialLink,
    IRLSFit,
    binomial_irls,
    logistic_irls,
)


@dataclass(frozen=True)
class PropensityModel:
    """A fitted logistic propensity model.

    ``terms``/``coef`` use R's column names; ``score`` is the fitted probability
    for each row of ``index`` (the rows used, in data order; rows with missing
    values are dropped as ``glm`` does and counted in ``dropped``); ``X`` is the
    design used (aliased columns included), kept for M-estimation.
    """

    formula: str
    treatment: str
    terms: tuple[str, ...]
    coef: np.ndarray
    score: np.ndarray
    linear_predictor: np.ndarray
    treat: np.ndarray
    X: np.ndarray
    index: pd.Index
    iterations: int
    converged: bool
    deviance: float
    kept: tuple[int, ...]
    notes: tuple[str, ...] = field(default=())
    dropped: dict[str, int] = field(default_factory=dict)
    link: str = "logit"
    cov_unscaled: np.ndarray | None = None

    def coef_dict(self) -> dict[str, float]:
        return {t: float(c) for t, c in zip(self.terms, self.coef)}

    def coef_table(self) -> dict[str, dict[str, float | None]]:
        """``summary(glm(...))$coefficients``: estimate, std. error, z value and Pr(>|z|) per term (NA: aliased)."""
        se = np.full(len(self.terms), np.nan)
        if self.cov_unscaled is not None:
            se[list(self.kept)] = np.sqrt(np.diag(self.cov_unscaled))
        out = {}
        for term, b, s in zip(self.terms, self.coef, se):
            z = b / s if np.isfinite(s) and s > 0 else np.nan
            out[term] = {k: (None if not np.isfinite(v) else float(v)) for k, v in
                         (("estimate", b), ("std_error", s), ("statistic", z),
                          ("p_value", 2 * stats.norm.sf(abs(z)) if np.isfinite(z) else np.nan))}
        return out


def _design(formula: str, data: pd.DataFrame) -> Design:
    if "~" not in formula:
        raise SpecError(f"propensity formula {formula!r} has no '~'.", loc="propensity.formula",
                        fix="Write it as 'treatment ~ x1 + x2'.")
    return materialize(formula, data)


def _check_binary(y: np.ndarray, where: str) -> None:
    vals = np.unique(y)
    if len(vals) != 2 or not np.all(np.isin(vals, (0.0, 1.0))):
        raise DataError(f"the treatment must be coded 0/1 with both values present; found {vals[:5].tolist()}.",
                        loc=where, fix="Recode the treatment as 0 (control) and 1 (treated).")


def _pattern_scores(X: np.ndarray, fit: IRLSFit, link: str = "logit") -> tuple[np.ndarray, np.ndarray]:
    """The linear predictor and score computed once per distinct covariate row.

    Identical covariate rows must get identical scores, bit for bit, whatever BLAS kernel computes
    ``X @ beta``: MatchIt's balance statistics (eCDF of the distance) and nearest-neighbour ties depend on
    exact ties, which R gets because its reference BLAS treats every row alike.  Some optimised kernels do
    not (rows in a remainder block are summed in another order), so the product is taken over the unique
    rows and spread back.
    """
    kept = list(fit.kept)
    Xk = X[:, kept]
    patterns, inverse = np.unique(Xk, axis=0, return_inverse=True)
    eta = (patterns @ fit.coef[kept])[np.asarray(inverse).ravel()]
    return eta, BinomialLink(link).linkinv(eta)


def fit_propensity(formula: str, data: pd.DataFrame, *, link: str = "logit", epsilon: float = 1e-8,
                   maxit: int = 25) -> PropensityModel:
    """Fit ``treatment ~ covariates`` by a binomial GLM (logistic regression by default).

    Matches ``stats::glm(formula, family = binomial(link))`` as called by
    ``MatchIt::matchit(distance = "glm")``; Rosenbaum & Rubin (1983).  ``link``: logit, probit or cloglog.

    Parameters
    ----------
    formula : str
        ``"treat ~ age + educ + race"``; text columns become treatment-contrast dummies named as R names
        them (``racehispan``).
    data : DataFrame
        Rows with missing values in the model's columns are dropped (``na.omit``) and counted.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"t": [0, 0, 1, 1, 0, 1], "x": [1., 2, 3, 4, 2.5, 1.5]})
    >>> m = fit_propensity("t ~ x", d)
    >>> m.terms, [round(float(v), 4) for v in m.coef]
    (('(Intercept)', 'x'), [-2.9547, 1.2845])
    """
    des = _design(formula, data)
    y, X, terms = des.y, des.X, des.terms
    _check_binary(y, "propensity.formula")
    fit = binomial_irls(y, X, link=link, epsilon=epsilon, maxit=maxit)
    notes = list(des.notes)
    aliased = [terms[j] for j in range(len(terms)) if j not in fit.kept]
    if aliased:
        notes.append(f"propensity model: dropped collinear column(s) {', '.join(aliased)} (coefficient NA, as glm).")
    if not fit.converged:
        notes.append(f"propensity model: IRLS did not converge in {maxit} iterations (glm warns the same).")
    lhs = formula.split("~", 1)[0].strip()
    eta, score = _pattern_scores(np.asarray(X), fit, link)
    return PropensityModel(formula, lhs, terms, fit.coef, score, eta, y.astype(int), np.asarray(X),
                           des.rows, fit.iterations, fit.converged, fit.deviance, fit.kept, tuple(notes),
                           dict(des.dropped), link, fit.cov_unscaled)


# ------------------------------------------------------------------ IPW / AIPW
@dataclass(frozen=True)
class WeightingEstimate:
    """An IPW or AIPW effect with its standard error and normal-theory interval."""

    estimator: str
    estimand: str
    estimate: float
    std_error: float
    statistic: float
    p_value: float
    conf_low: float
    conf_high: float
    nobs: int
    weights: np.ndarray
    mu1: float
    mu0: float
    variance_method: str


def _finish(name: str, estimand: str, est: float, se: float, n: int, w: np.ndarray, mu1: float, mu0: float,
            how: str, level: float) -> WeightingEstimate:
    z = est / se if se > 0 else math.nan
    q = stats.norm.ppf(0.5 + level / 2.0)
    return WeightingEstimate(name, estimand, float(est), float(se), float(z), float(2 * stats.norm.sf(abs(z))),
                             float(est - q * se), float(est + q * se), n, w, float(mu1), float(mu0), how)


def _check_y(y, n: int, index: pd.Index | None = None) -> np.ndarray:
    if isinstance(y, pd.Series) and index is not None:
        y = y.reindex(index)  # align a data column with the rows the propensity model used
    y = np.asarray(y, dtype=float)
    if y.shape != (n,) or not np.all(np.isfinite(y)):
        raise DataError(f"the outcome must have one finite value per propensity-model row ({n}).", loc="outcome",
                        fix="Drop rows with a missing outcome before fitting the propensity model.")
    return y


def ipw(y: np.ndarray, model: PropensityModel, estimand: Literal["ATE", "ATT"] = "ATE",
        level: float = 0.95) -> WeightingEstimate:
    """Inverse-probability weighting with normalised (Hajek) weights.

    The variance stacks the logistic score equations with the two weighted means
    and applies the sandwich, so it accounts for the estimated propensity score
    (Lunceford & Davidian 2004, Statistics in Medicine 23:2937; Stefanski & Boos 2002).
    Same estimator as ``WeightIt::weightit`` + ``lm_weightit(vcov = "asympt")``; no R parity case.
    """
    estimand = estimand.upper()  # type: ignore[assignment]
    if estimand not in ("ATE", "ATT"):
        raise UnsupportedError(f"estimand {estimand!r} is not available for IPW.", loc="estimand",
                               fix="Use ATE or ATT.")
    e, t = model.score, model.treat.astype(float)
    n = len(e)
    y = _check_y(y, n, model.index)
    X = model.X[:, list(model.kept)]
    link = BinomialLink(model.link)
    eta = model.linear_predictor
    f = link.mu_eta(eta)  # d e / d eta: e (1 - e) for the logit
    if estimand == "ATE":
        w1, w0 = t / e, (1 - t) / (1 - e)
        # derivatives of the weights with respect to the linear predictor
        dw1, dw0 = -t * f / e ** 2, (1 - t) * f / (1 - e) ** 2
    else:
        w1, w0 = t, (1 - t) * e / (1 - e)
        dw1, dw0 = np.zeros(n), (1 - t) * f / (1 - e) ** 2
    mu1 = np.sum(w1 * y) / np.sum(w1)
    mu0 = np.sum(w0 * y) / np.sum(w0)
    k = X.shape[1]
    # stacked estimating functions psi = (X (t - e) h, w1 (y - mu1), w0 (y - mu0)) with the binomial score
    # weight h = f / (e (1 - e)) (1 for the canonical logit link)
    h = f / (e * (1 - e))
    dh = link.mu_eta2(eta) / (e * (1 - e)) - f ** 2 * (1 - 2 * e) / (e * (1 - e)) ** 2
    psi = np.column_stack([X * ((t - e) * h)[:, None], w1 * (y - mu1), w0 * (y - mu0)])
    A = np.zeros((k + 2, k + 2))  # minus the mean Jacobian (the observed information for a non-canonical link)
    A[:k, :k] = (X * (f * h - (t - e) * dh)[:, None]).T @ X / n
    A[k, :k] = -((dw1 * (y - mu1)) @ X) / n
    A[k + 1, :k] = -((dw0 * (y - mu0)) @ X) / n
    A[k, k] = np.mean(w1)
    A[k + 1, k + 1] = np.mean(w0)
    B = psi.T @ psi / n
    half = np.linalg.solve(A, B)
    V = np.linalg.solve(A, half.T).T / n
    c = np.zeros(k + 2)
    c[k], c[k + 1] = 1.0, -1.0
    se = math.sqrt(float(c @ V @ c))
    w = np.where(t == 1, w1 / np.mean(w1), w0 / np.mean(w0))
    return _finish("ipw", estimand, mu1 - mu0, se, n, w, mu1, mu0, "M-estimation (stacked logistic score)", level)


def aipw(y: np.ndarray, model: PropensityModel, outcome_X: np.ndarray | None = None,
         level: float = 0.95) -> WeightingEstimate:
    """Augmented IPW (doubly robust) estimate of the ATE with an influence-function SE.

    Outcome regressions are OLS fits of ``y`` on ``outcome_X`` (default: the
    propensity design) within each arm.  Robins, Rotnitzky & Zhao (1994);
    Glynn & Quinn (2010); SE = sd(phi)/sqrt(n) of the efficient influence function.
    No R parity case (as ``AIPW`` / ``npcausal::ate`` with parametric nuisance fits).
    """
    e, t = model.score, model.treat.astype(float)
    n = len(e)
    y = _check_y(y, n, model.index)
    Xo = model.X[:, list(model.kept)] if outcome_X is None else np.asarray(outcome_X, dtype=float)
    if Xo.shape[0] != n:
        raise DataError("outcome_X must have one row per propensity-model row.", loc="outcome_X",
                        fix="Build it from the same rows as the propensity model.")
    m = {}
    for arm in (0, 1):
        sel = t == arm
        beta, *_ = np.linalg.lstsq(Xo[sel], y[sel], rcond=None)
        m[arm] = Xo @ beta
    phi1 = m[1] + t * (y - m[1]) / e
    phi0 = m[0] + (1 - t) * (y - m[0]) / (1 - e)
    phi = phi1 - phi0
    est = float(np.mean(phi))
    se = float(np.sqrt(np.sum((phi - est) ** 2)) / n)
    w = np.where(t == 1, 1.0 / e, 1.0 / (1.0 - e))
    return _finish("aipw", "ATE", est, se, n, w, float(np.mean(phi1)), float(np.mean(phi0)),
                   "influence function", level)
