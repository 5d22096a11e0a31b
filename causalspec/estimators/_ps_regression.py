"""Propensity-score regression and stratification as textbooks teach them (Hernan & Robins, ch. 15.3).

Pure functions on arrays.  The outcome is regressed on the treatment and a function of the estimated propensity
score, which is treated as a known covariate (the textbooks' and ``lm``'s standard error; it ignores the score's
estimation):

* ``linear``:    ``lm(y ~ t + ps)``
* ``quadratic``: ``lm(y ~ t + ps + I(ps^2))``
* ``strata``:    ``lm(y ~ t + factor(ps_stratum))``, the strata cut at quantiles of the score as
  ``cut(ps, quantile(ps, seq(0, 1, 1/k)), include.lowest = TRUE)`` (type-7 quantiles, right-closed intervals),
  with the within-stratum differences in means (Welch's ``t.test(y ~ t)`` in each stratum) beside it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from causalspec.errors import DataError
from causalspec.estimators._linear import LinearFit, fit_ols

__all__ = ["FORMS", "PSRegression", "StratumEffect", "quantile_strata", "ps_design", "ps_regression",
           "stratum_effects"]

FORMS = ("linear", "quadratic", "strata")


def quantile_strata(score: np.ndarray, k: int, basis: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(stratum 1..k of each unit, the k + 1 breaks): R's ``cut(score, quantile(basis, 0:k / k),
    include.lowest = TRUE, labels = FALSE)``, the breaks at quantiles of ``basis`` (default the scores
    themselves; every unit the score was fitted to when some lack an outcome).  Equal breaks are refused, as
    ``cut`` refuses them."""
    score = np.asarray(score, dtype=float)
    basis = score if basis is None else np.asarray(basis, dtype=float)
    breaks = np.quantile(basis, np.linspace(0.0, 1.0, k + 1))  # numpy's default is R's type 7
    breaks[0], breaks[-1] = basis.min(), basis.max()
    if np.any(np.diff(breaks) <= 0):
        raise DataError(f"the {k} quantile strata of the propensity score are not distinct (R's cut: 'breaks are "
                        "not unique'): too many units share a score.", loc="design.ps_regression.strata",
                        fix="Use fewer strata.")
    stratum = np.searchsorted(breaks, score, side="left")  # (b_{j-1}, b_j] -> j; the minimum joins stratum 1
    return np.clip(stratum, 1, k), breaks


def ps_design(t: np.ndarray, score: np.ndarray, form: str, strata: int | None = None,
              treatment: str = "t", basis: np.ndarray | None = None) -> tuple[np.ndarray, list[str], np.ndarray | None, np.ndarray | None]:
    """The regression's design ``[1, t, f(ps)]`` with R's column names, the strata and their breaks."""
    t, score = np.asarray(t, dtype=float), np.asarray(score, dtype=float)
    cols, names = [np.ones_like(t), t], ["(Intercept)", treatment]
    stratum = breaks = None
    if form == "linear":
        cols.append(score)
        names.append("ps")
    elif form == "quadratic":
        cols += [score, score ** 2]
        names += ["ps", "I(ps^2)"]
    elif form == "strata":
        stratum, breaks = quantile_strata(score, int(strata), basis)
        for j in range(2, int(strata) + 1):
            cols.append((stratum == j).astype(float))
            names.append(f"factor(ps_stratum){j}")
    else:
        raise DataError(f"unknown propensity-score form {form!r}.", loc="form", fix=f"Use one of {FORMS}.")
    return np.column_stack(cols), names, stratum, breaks


@dataclass(frozen=True)
class StratumEffect:
    """One stratum's difference in means, treated minus control, with Welch's SE, df and interval."""

    stratum: int
    low: float
    high: float
    n_treated: int
    n_control: int
    mean_treated: float
    mean_control: float
    estimate: float
    std_error: float
    df: float
    conf_low: float
    conf_high: float


def stratum_effects(y, t, stratum, breaks, level: float = 0.95) -> tuple[StratumEffect, ...]:
    """Welch's two-sample t test in each stratum (``t.test(y ~ t, data = stratum)``); NaN where an arm has
    fewer than two units (R's t.test refuses)."""
    out = []
    for j in range(1, len(breaks)):
        sel = stratum == j
        y1, y0 = y[sel & (t == 1)], y[sel & (t == 0)]
        m1 = float(y1.mean()) if len(y1) else float("nan")
        m0 = float(y0.mean()) if len(y0) else float("nan")
        if len(y1) >= 2 and len(y0) >= 2:
            v1, v0 = y1.var(ddof=1) / len(y1), y0.var(ddof=1) / len(y0)
            se = float(np.sqrt(v1 + v0))
            df = float((v1 + v0) ** 2 / (v1 ** 2 / (len(y1) - 1) + v0 ** 2 / (len(y0) - 1)))
            q = float(stats.t.ppf(0.5 + level / 2.0, df))
        else:
            se = df = q = float("nan")
        est = m1 - m0
        out.append(StratumEffect(j, float(breaks[j - 1]), float(breaks[j]), len(y1), len(y0), m1, m0, est, se, df,
                                 est - q * se, est + q * se))
    return tuple(out)


@dataclass(frozen=True)
class PSRegression:
    """The least-squares fit of ``y ~ t + f(ps)`` and, for strata, each stratum's own contrast."""

    form: str
    fit: LinearFit
    strata: tuple[StratumEffect, ...] = ()
    breaks: tuple[float, ...] = ()


def ps_regression(y, t, score, form: str = "linear", strata: int | None = None, treatment: str = "t",
                  level: float = 0.95, basis: np.ndarray | None = None) -> PSRegression:
    """``lm(y ~ t + f(ps))``; see the module docstring.  ``basis``: the scores the strata are cut on (default
    ``score``).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> e = rng.uniform(0.1, 0.9, 500); t = (rng.uniform(size=500) < e).astype(float)
    >>> y = 2 * t + 4 * e + rng.normal(size=500)
    >>> round(float(ps_regression(y, t, e).fit.coef[1]), 2)
    2.06
    """
    y = np.asarray(y, dtype=float)
    X, names, stratum, breaks = ps_design(t, score, form, strata, treatment, basis)
    fit = fit_ols(y, X, names)
    if form != "strata":
        return PSRegression(form, fit)
    return PSRegression(form, fit, stratum_effects(y, np.asarray(t, dtype=float), stratum, breaks, level),
                        tuple(float(b) for b in breaks))
