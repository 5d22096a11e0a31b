"""One segmented regression fitted with the plan's variance: OLS with Newey-West (one series), panel Newey-West
(comparative ITS), OLS with iid / HC variances, or AR(1) GLS.  Used for the model, the naive contrast and the
placebo fits, so all three are estimated the same way."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from causalspec.errors import EstimationError, Problem
from causalspec.estimators._linear import LinearFit, fit_ols
from causalspec.estimators.its import ar1_gls, newey_west, panel_newey_west
from causalspec.inference import Vcov, coef_table, vcov as lm_vcov

__all__ = ["ModelFit", "fit_model", "Collinear"]


class Collinear(EstimationError):
    """The design has aliased columns in these rows (R's lm would report NA coefficients)."""


@dataclass(frozen=True)
class ModelFit:
    """Coefficients, their covariance and t degrees of freedom, the OLS fit (residuals for the tests), details."""

    names: tuple[str, ...]
    coef: np.ndarray
    V: np.ndarray
    df: int
    ols: LinearFit
    details: dict

    def table(self, level: float):
        return coef_table(self.coef, Vcov(self.V, self.names, "its", float(self.df), None, ""), level)

    def fitted(self, X: np.ndarray) -> np.ndarray:
        return X @ self.coef


def fit_model(kind: str, s, y: np.ndarray, X: np.ndarray, names, time: np.ndarray, series: np.ndarray | None,
              groups, *, comparative: bool) -> ModelFit:
    """Fit ``y ~ X`` by the plan's variance ``kind`` (a VcovPlan kind) with the settings ``s``."""
    names = tuple(names)
    ols = fit_ols(y, X, names)
    if ols.aliased:
        raise Collinear(Problem("design", f"the term(s) {', '.join(ols.aliased)} are collinear with the other terms "
                                "in these periods (too few periods for the segments, seasonal terms and covariates, "
                                "or a covariate that is constant or moves with time).",
                                fix="Remove seasonal terms or covariates, or analyse a longer series.",
                                code="its_collinear"))
    df = ols.df_resid
    if kind == "newey_west":
        hac = newey_west(X, ols.residuals, names, lag=s.lag, prewhite=s.prewhite, adjust=s.adjust)
        return ModelFit(names, ols.coef, hac.matrix, df, ols, {
            "lag": hac.lag, "bandwidth": hac.bandwidth, "prewhite": hac.prewhite, "adjust": hac.adjust,
            "lag_rule": ("floor(bwNeweyWest(fit)): Newey & West (1994) automatic bandwidth, Bartlett kernel"
                         + (", VAR(1)-prewhitened scores" if hac.prewhite else "")) if hac.bandwidth is not None
            else "given (design.lag)", "r_call": f"lmtest::coeftest(fit, vcov. = {hac.r_call})"})
    if kind == "panel_newey_west":
        hac = panel_newey_west(X, ols.residuals, series, time, lag=s.lag, adjust=s.adjust)
        return ModelFit(names, ols.coef, hac.matrix, df, ols, {
            "lag": hac.lag, "bandwidth": None, "prewhite": False, "adjust": hac.adjust,
            "lag_rule": "given (design.lag)" if s.lag is not None else "vcovPL's lag = \"NW1987\": floor(T^(1/4)) "
                                                                       "over the T distinct periods",
            "r_call": f"lmtest::coeftest(fit, vcov. = {hac.r_call})"})
    if kind == "ar1_gls":
        g = ar1_gls(y, X, groups, s.ar1_method)
        form = "~ time | series" if comparative else "~ time"
        return ModelFit(names, g.coef, g.vcov, g.df_resid, ols, {
            "phi": g.phi, "sigma": g.sigma, "loglik": g.loglik, "method": g.method,
            "r_call": f'nlme::gls(y ~ ..., correlation = corAR1(form = {form}), method = "{g.method}"); '
                      "summary(fit)$tTable"})
    V = lm_vcov(ols, kind)
    return ModelFit(names, ols.coef, V.matrix, df, ols, {"r_call": V.description})
