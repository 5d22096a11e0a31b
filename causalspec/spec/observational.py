"""The ``observational`` design's schema: estimators, matching and weighting options (planned by ``causalspec.designs.observational``)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator

from causalspec.spec._base import _DesignModel, _Model

__all__ = ["ObservationalDesign", "MatchingOptions", "OutcomeModel", "PropensityModelOptions", "IPWOptions",
           "PSRegressionOptions"]

class MatchingOptions(_Model):
    """Matching as ``MatchIt::matchit`` (4.5.1) does it: nearest neighbour on the propensity score or the Mahalanobis
    distance (optionally within exact strata), optimal pair and optimal full matching, exact matching, coarsened
    exact matching or subclassification."""

    method: Literal["nearest", "optimal", "full", "exact", "cem", "subclass"] = Field(
        "nearest", description="MatchIt's method: nearest (method = \"nearest\": each focal unit takes its closest "
                               "unit(s) of the other arm; ATT, ATC); optimal (\"optimal\": k:1 pairs with the "
                               "smallest total distance, solved exactly by scipy's linear_sum_assignment; ATT, ATC); "
                               "full (\"full\": every unit in a set of one treated and several controls or one "
                               "control and several treated, smallest total distance; ATT, ATC, ATE); exact "
                               "(\"exact\": a subclass per pattern of the adjusted covariates found in both arms); "
                               "cem (\"cem\": coarsened exact matching, numeric covariates binned); subclass "
                               "(\"subclass\": strata at quantiles of the propensity score). full, exact, cem and "
                               "subclass weight units by subclass and estimate the ATT, ATC or ATE.")
    ratio: int = Field(1, ge=1, le=20, description="MatchIt ratio: controls per treated unit (k:1 matching). "
                                                    "methods nearest and optimal.")
    replace: bool | None = Field(
        None, description="MatchIt replace: match with replacement (a control may be reused). Left out: with "
                          "replacement when the planner chose matching (estimator auto, for the ATT or ATC: every unit "
                          "finds its nearest match, so the estimate is not biased by units left without one), without "
                          "replacement (MatchIt's default) when the spec sets estimator: matching. method nearest only.")
    caliper: float | None = Field(None, gt=0, description="MatchIt caliper (std.caliper = TRUE): the largest distance "
                                                          "between matched units, in standard deviations of the "
                                                          "distance. method nearest with a propensity distance only.")
    algorithm: Literal["matchit-4.5.1", "exact"] = Field(
        "matchit-4.5.1", description="matchit-4.5.1: MatchIt 4.5.1's matched sets exactly (including its integer "
                                     "abs() on distances, nn_matchC_vec); exact: real distance differences "
                                     "(docs/propensity.md). method nearest with a propensity distance only.")
    distance: Literal["propensity", "logit", "mahalanobis"] = Field(
        "propensity", description="MatchIt distance: propensity: the fitted probability (distance = \"glm\"); logit: "
                                  "the linear predictor, the score's logit with the default link (link = "
                                  "\"linear.logit\"; \"linear.probit\" / \"linear.cloglog\" with "
                                  "design.propensity_model.link probit / cloglog), where a caliper is in "
                                  "SDs of the logit as Rosenbaum & Rubin (1985) recommend; mahalanobis: the "
                                  "Mahalanobis distance of the adjusted covariates (distance = \"mahalanobis\"; method "
                                  "nearest, optimal and full). methods nearest, optimal, full and subclass.")
    exact: tuple[Annotated[str, Field(min_length=1, max_length=200)], ...] = Field(
        (), max_length=50, description="MatchIt exact = ~ a + b: adjusted covariates to match exactly on; units are "
                                       "matched only within the strata they form. methods nearest, optimal and "
                                       "full.")
    cutpoints: dict[Annotated[str, Field(min_length=1, max_length=200)], int | tuple[float, ...]] = Field(
        default_factory=dict, max_length=50,
        description="MatchIt cutpoints (method cem only): per numeric adjusted covariate, a number of equal-width bins "
                    "over its range (0: not coarsened, matched exactly) or its cut points; every other numeric "
                    "covariate gets MatchIt's default, Sturges' ceiling(log2(n) + 1) bins; factors are matched exactly.")
    subclasses: int = Field(6, ge=2, le=100, description="MatchIt subclass (method subclass only): the number of "
                                                         "propensity-score strata, cut at quantiles of the focal "
                                                         "group's score (everyone's for the ATE); MatchIt's default 6.")

    @field_validator("cutpoints")
    @classmethod
    def _cutpoints(cls, value: dict) -> dict:
        for name, spec in value.items():
            if isinstance(spec, int) and (spec == 1 or spec < 0):
                raise ValueError(f"{name}: {spec} bins; use 0 (no coarsening) or 2 or more bins (to leave a covariate "
                                 "out of the matching, leave it out of the adjustment).")
            if isinstance(spec, tuple) and not spec:
                raise ValueError(f"{name}: give at least one cut point, or a number of bins.")
        return value


class OutcomeModel(_Model):
    """How the adjustment set enters the regression-adjustment outcome model (R formula terms)."""

    terms: tuple[Annotated[str, Field(min_length=1, max_length=500)], ...] = Field(
        (), max_length=200,
        description="R formula terms of the adjustment set and covariates, e.g. factor(year), age + I(age^2), "
                    "poly(educ, 2), exper:year: the outcome model is lm(outcome ~ treatment + terms + every "
                    "adjustment variable no term mentions). Each term may use only variables of the adjustment set "
                    "and covariates, never the treatment (effect modification is heterogeneity.modifiers); "
                    "checked against the DAG at design.outcome_model.terms[i]. ols, ra, ipw_ra, aipw, aipw_wls "
                    "(fitted in each arm for the last four).")


class PropensityModelOptions(_Model):
    """The propensity (treatment) model of the weighting and matching estimators: its terms and its link."""

    terms: tuple[Annotated[str, Field(min_length=1, max_length=500)], ...] = Field(
        (), max_length=200,
        description="R formula terms of the adjustment set and covariates (mage + I(mage^2), factor(medu)): the "
                    "model is glm(treatment ~ terms + every adjustment variable no term mentions); each term may "
                    "use only adjusted variables, never the treatment or the outcome (at "
                    "design.propensity_model.terms[i]).")
    link: Literal["logit", "probit", "cloglog"] = Field(
        "logit", description="glm(family = binomial(link)) fitted by IRLS as R's glm.fit (MatchIt distance = "
                             "\"glm\", link = ...; Stata's teffects probit).")


class IPWOptions(_Model):
    """How estimator ipw turns the weights into potential-outcome means."""

    weights: Literal["normalized", "horvitz_thompson"] = Field(
        "normalized", description="normalized (Hajek; Stata teffects ipw): each arm's weighted mean, the weights "
                                  "summing to 1 in each arm -- stabilised weights give the same estimate; "
                                  "horvitz_thompson: each arm's weighted outcome sum divided by the size of the "
                                  "target population (n for the ATE, the treated for the ATT, the controls for the "
                                  "ATC; Lunceford & Davidian 2004), not for the ATO. Both with the M-estimation SE "
                                  "that accounts for the estimated score; inference.vcov HC0-HC3 holds the weights "
                                  "fixed (lm_robust(y ~ t, weights) for normalized, lm_robust(z ~ 1) of the unit "
                                  "contrasts for the Horvitz-Thompson ATE).")


class PSRegressionOptions(_Model):
    """Propensity-score regression (Hernan & Robins ch. 15.3): the outcome on the treatment and the estimated score."""

    score: Literal["linear", "quadratic", "strata"] = Field(
        "linear", description="linear: lm(y ~ t + ps); quadratic: lm(y ~ t + ps + I(ps^2)); strata: lm(y ~ t + "
                              "factor(ps_stratum)), the strata cut at quantiles of the score (cut(ps, quantile(ps, "
                              "0:k/k), include.lowest = TRUE)), with each stratum's difference in means (Welch) "
                              "reported beside it. The score is treated as known (lm's SE).")
    strata: int | None = Field(None, ge=2, le=100, description="score strata only: the number of quantile strata "
                                                               "(left out: 5, Rosenbaum & Rubin 1984's quintiles; "
                                                               "10 for Hernan & Robins' deciles).")
    score_rows: Literal["analysed", "with_missing_outcome"] = Field(
        "analysed", description="the rows the propensity model is fitted to (and the strata cut on): analysed, the "
                                "rows the outcome regression uses; with_missing_outcome, also the rows whose outcome "
                                "alone is missing (Hernan & Robins' Program 15.2 fits the score to all 1629 NHEFS "
                                "smokers, the regression then drops the 63 with no outcome; counted in the dropped "
                                "rows).")


class ObservationalDesign(_DesignModel):
    """Observational data: the effect is identified from the DAG by adjustment (backdoor criterion)."""

    type: Literal["observational"] = "observational"
    estimator: Literal["auto", "ols", "ra", "ipw", "ipw_ra", "aipw", "aipw_wls", "matching", "ps_regression",
                       "front_door"] = Field(
        "auto",
        description=(
            "ols: regression adjustment on the planner's adjustment set (lm); ra: regression adjustment / "
            "g-computation with arm-specific outcome models (Stata teffects ra; ATE, ATT, ATC); ipw: inverse "
            "probability weighting (teffects ipw; normalised or Horvitz-Thompson, design.ipw; ATE, ATT, ATC, and "
            "the ATO with overlap weights); ipw_ra: weighted regression adjustment "
            "(teffects ipwra); aipw: augmented IPW, doubly robust (teffects aipw; ATT / ATC as Mercatanti & Li "
            "2014); aipw_wls: AIPW with weighted outcome regressions (teffects aipw, wnls; ATE); all with "
            "potential-outcome means and the stacked M-estimation SE; matching: MatchIt's matching methods "
            "(design.matching: nearest, optimal, full, exact, cem, subclass); ps_regression: the outcome on the treatment and the estimated "
            "propensity score, linearly, quadratically or in quantile strata (design.ps_regression; ATE); "
            "front_door: Pearl's front-door formula through the mediators the DAG "
            "shields (linear models, bootstrap SE), chosen by auto when no adjustment set exists; auto: see "
            "docs/planner.md."
        ),
    )
    matching: MatchingOptions = Field(default_factory=MatchingOptions, description="Options of estimator matching.")
    ipw: IPWOptions | None = Field(None, description="Options of estimator ipw (left out: normalised weights).")
    ps_regression: PSRegressionOptions | None = Field(
        None, description="Options of estimator ps_regression (left out: lm(y ~ t + ps) on the analysed rows).")
    learner: Literal["glm", "gradient_boosting", "random_forest"] = Field(
        "glm", description="aipw only: the outcome and propensity models. glm: linear and logistic regressions on "
                           "the adjustment set; gradient_boosting / random_forest: scikit-learn models with "
                           "cross-fitting (pip install scikit-learn).")
    folds: int = Field(5, ge=2, le=20, description="aipw with a scikit-learn learner: cross-fitting folds.")
    propensity_model: PropensityModelOptions | None = Field(
        None, description="ipw, ipw_ra, aipw, aipw_wls, ps_regression, matching: the propensity model's terms and "
                          "link; left "
                          "out, a logistic regression on the adjustment set, every variable linearly.")
    outcome_model: OutcomeModel | None = Field(
        None, description="ols, ra, ipw_ra, aipw (glm), aipw_wls: the outcome model's terms (factors, powers, "
                          "interactions of the adjustment set); left out, every adjustment variable enters "
                          "linearly.")
    trim: Literal["none", "crump"] = Field(
        "none", description="ipw / aipw: crump drops units outside Crump et al. (2009)'s optimal overlap region "
                            "(counted in the dropped rows).")

