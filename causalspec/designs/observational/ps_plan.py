"""Planning rules for the IPW weights (design.ipw), the ATO and propensity-score regression (design.ps_regression).

Small pure functions the observational planner (:mod:`.plan`) applies: each option is read by one estimator and
refused, where it is written, by the others.
"""

from __future__ import annotations

from causalspec.designs.observational.settings import PSRegressionSettings
from causalspec.errors import Problem, UnsupportedError
from causalspec.planner import Estimator, VcovPlan
from causalspec.planner._vcov import regression_vcov

__all__ = ["DEFAULT_STRATA", "ipw_weights_choice", "ps_regression_settings", "ps_formula", "ps_regression_vcov",
           "ipw_fixed_vcov", "refuse_auto_ato"]

DEFAULT_STRATA = 5  # Rosenbaum & Rubin (1984): quintiles remove about 90% of the bias (Cochran 1968)
_BASIS = {"linear": "ps", "quadratic": "ps + I(ps^2)", "strata": "factor(ps_stratum)"}


def _refuse(where: str, message: str, fix: str, code: str = "option_not_read"):
    raise UnsupportedError(Problem(where, message, fix=fix, code=code))


def refuse_auto_ato(spec) -> None:
    """estimator auto never chooses for the ATO: only ipw (overlap weights) targets it."""
    if spec.estimand == "ATO":
        _refuse("estimand", "the ATO (the overlap population, Li, Morgan & Zaslavsky 2018) is estimated by overlap "
                "weighting only; estimator auto chooses among OLS (ATE) and matching (ATT, ATC).",
                "Set design.estimator: ipw for the ATO, or another estimand.", "unsupported_estimand")


def ipw_weights_choice(spec, estimator: Estimator) -> str | None:
    """design.ipw.weights for ipw (normalized by default); design.ipw refused for every other estimator."""
    d = spec.design
    if d.ipw is not None and estimator is not Estimator.IPW:
        _refuse("design.ipw", f"design.ipw is read by the ipw estimator, not by the {estimator.value} estimator the "
                "plan uses, so it would change nothing.", "Remove ipw, or set design.estimator: ipw.")
    if estimator is not Estimator.IPW:
        return None
    weights = d.ipw.weights if d.ipw is not None else "normalized"
    if weights == "horvitz_thompson" and spec.estimand == "ATO":
        _refuse("design.ipw.weights", "the overlap weights are normalised by definition (Li, Morgan & Zaslavsky "
                "2018): the ATO has no Horvitz-Thompson version.", "Use weights: normalized for the ATO.",
                "unsupported_estimand")
    return weights


def ps_regression_settings(spec, estimator: Estimator) -> PSRegressionSettings | None:
    """design.ps_regression for ps_regression; refused for every other estimator, strata without score strata."""
    d = spec.design
    if d.ps_regression is not None and estimator is not Estimator.PS_REGRESSION:
        _refuse("design.ps_regression", f"design.ps_regression is read by the ps_regression estimator, not by the "
                f"{estimator.value} estimator the plan uses, so it would change nothing.",
                "Remove ps_regression, or set design.estimator: ps_regression.")
    if estimator is not Estimator.PS_REGRESSION:
        return None
    o = d.ps_regression
    if o is None:
        return PSRegressionSettings()
    if o.strata is not None and o.score != "strata":
        _refuse("design.ps_regression.strata", f"strata is read with score: strata, not with score: {o.score}.",
                "Remove strata, or set score: strata.")
    strata = (o.strata or DEFAULT_STRATA) if o.score == "strata" else None
    outcome = spec.outcome if o.score_rows == "with_missing_outcome" else None
    return PSRegressionSettings(o.score, strata, o.score_rows, outcome)


def ps_formula(spec, settings: PSRegressionSettings, y: str, x: str) -> str:
    k = f" ({settings.strata} quantile strata)" if settings.score == "strata" else ""
    rows = ("; the score fitted to the analysed rows and those missing only the outcome"
            if settings.score_rows == "with_missing_outcome" else "")
    return f"{y} ~ {x} + {_BASIS[settings.score]}{k}, ps = the fitted propensity score{rows}"


def ps_regression_vcov(inference) -> VcovPlan:
    """The outcome regression's variance (lm_robust's defaults when unset), the score treated as known."""
    base = regression_vcov(inference)
    return VcovPlan(base.kind, base.cluster, base.level, f"{base.r_equivalent} on lm(y ~ t + f(ps)), the estimated "
                    "propensity score treated as a known covariate (its estimation is ignored, as in the textbooks)")


def ipw_fixed_vcov(inference, settings, estimand: str) -> VcovPlan:
    """inference.vcov HC0-HC3 for ipw: the weights held fixed, for normalised and for Horvitz-Thompson weights."""
    kind = inference.vcov
    if settings is not None and settings.ipw_weights == "horvitz_thompson":
        if estimand != "ATE":
            _refuse("inference.vcov", f"with Horvitz-Thompson weights the {estimand}'s normaliser (the arm's count) "
                    "is random, so no regression with the weights held fixed reports its SE.",
                    "Leave inference.vcov out (the M-estimation SE), or use weights: normalized.", "unsupported_vcov")
        return VcovPlan(kind, (), inference.level, f'estimatr::lm_robust(z ~ 1, se_type = "{kind}") of the unit '
                        'contrasts z = t y / e - (1 - t) y / (1 - e): the Horvitz-Thompson weights held fixed, '
                        'ignoring that the propensity score is estimated (the M-estimation SE, the default, '
                        'accounts for it)')
    return VcovPlan(kind, (), inference.level, f'estimatr::lm_robust(y ~ t, weights = w, se_type = "{kind}"): the '
                    'IPW weights held fixed, ignoring that the propensity score is estimated (the M-estimation SE, '
                    'the default, accounts for it)')
