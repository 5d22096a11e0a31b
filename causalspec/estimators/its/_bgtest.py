"""The Breusch-Godfrey test for serial correlation of a regression's residuals, as ``lmtest::bgtest``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from causalspec.estimators._linear import fit_ols

__all__ = ["BGTest", "breusch_godfrey"]


@dataclass(frozen=True)
class BGTest:
    """``lmtest::bgtest(fit, order = order)``: the LM (chi-squared) form, and the F form (``type = "F"``)."""

    order: int
    statistic: float
    df: int
    p_value: float
    f_statistic: float
    df1: int
    df2: int
    f_p_value: float
    nobs: int

    def to_dict(self) -> dict:
        return {"order": self.order, "statistic": self.statistic, "df": self.df, "p_value": self.p_value,
                "f_statistic": self.f_statistic, "df1": self.df1, "df2": self.df2, "f_p_value": self.f_p_value,
                "nobs": self.nobs, "r_call": f"lmtest::bgtest(fit, order = {self.order})  # and type = \"F\""}


def breusch_godfrey(y: np.ndarray, X: np.ndarray, names, order: int) -> BGTest:
    """Regress the OLS residuals on the regressors and ``order`` lags of themselves (missing lags filled with 0,
    bgtest's ``fill = 0``): LM = n R^2 (uncentred, on the residuals) ~ chi^2(order); F on (order, n - k - order).

    Matches ``lmtest::bgtest(formula, order = order, type = "Chisq" | "F")``; Breusch (1978), Godfrey (1978).
    """
    y = np.asarray(y, float)
    X = np.asarray(X, float)
    n, k = X.shape
    resid = fit_ols(y, X, names).residuals
    Z = np.column_stack([np.concatenate([np.zeros(j), resid[: n - j]]) for j in range(1, order + 1)])
    aux = fit_ols(resid, np.column_stack([X, Z]), [*names, *(f"lag(resid)_{j}" for j in range(1, order + 1))])
    ssr = float(resid @ resid)
    lm = n * float(aux.fitted @ aux.fitted) / ssr
    ussr = float(aux.residuals @ aux.residuals)
    df2 = n - k - order
    f = ((ssr - ussr) / order) / (ussr / df2)
    return BGTest(order, float(lm), order, float(stats.chi2.sf(lm, order)), float(f), order, df2,
                  float(stats.f.sf(f, order, df2)), n)
