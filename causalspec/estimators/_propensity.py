"""Propensity scores: the binomial model (as glm, for MatchIt and the overlap diagnostics), overlap and trimming.

The propensity model is fitted exactly as R's ``glm(family = binomial)`` does
(iteratively reweighted least squares from ``glm.fit``'s starting values, the
same convergence rule and the same clamping of the logit link), so the fitted
scores agree with ``MatchIt``'s ``distance = "glm"`` to the precision of R's own
stopping rule.  The effect estimators that weight by the score (IPW, AIPW and the
rest of Stata's teffects) are in :mod:`causalspec.estimators._teffects`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from causalspec.errors import DataError, SpecError
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
