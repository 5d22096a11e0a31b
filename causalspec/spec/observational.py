"""The ``observational`` design's schema: estimators, matching and weighting options (planned by ``causalspec.designs.observational``)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from causalspec.spec._base import _DesignModel, _Model

__all__ = ["ObservationalDesign", "MatchingOptions", "OutcomeModel", "PropensityModelOptions"]

class MatchingOptions(_Model):
    """Nearest-neighbour matching on the propensity score (MatchIt method "nearest", distance "glm")."""

    ratio: int = Field(1, ge=1, le=20, description="Controls per treated unit (k:1 matching).")
    replace: bool | None = Field(
        None, description="Match with replacement (a control may be reused). Left out: with replacement when the "
                          "planner chose matching (estimator auto, for the ATT or ATC: every unit finds its nearest "
                          "match, so the estimate is not biased by units left without one), without replacement "
                          "(MatchIt's default) when the spec sets estimator: matching.")
    caliper: float | None = Field(None, gt=0, description="Caliper in standard deviations of the distance.")
    algorithm: Literal["matchit-4.5.1", "exact"] = Field(
        "matchit-4.5.1", description="matchit-4.5.1: MatchIt 4.5.1's matched sets exactly (including its integer "
                                     "abs() on distances); exact: real distance differences (docs/propensity.md).")
    distance: Literal["propensity", "logit"] = Field(
        "propensity", description="propensity: match on the fitted probability (MatchIt distance = \"glm\"); logit: on "
                                  "its logit, the linear predictor (link = \"linear.logit\"), where a caliper is in "
                                  "SDs of the logit as Rosenbaum & Rubin (1985) recommend.")


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


class ObservationalDesign(_DesignModel):
    """Observational data: the effect is identified from the DAG by adjustment (backdoor criterion)."""

    type: Literal["observational"] = "observational"
    estimator: Literal["auto", "ols", "ra", "ipw", "ipw_ra", "aipw", "aipw_wls", "matching", "front_door"] = Field(
        "auto",
        description=(
            "ols: regression adjustment on the planner's adjustment set (lm); ra: regression adjustment / "
            "g-computation with arm-specific outcome models (Stata teffects ra; ATE, ATT, ATC); ipw: normalised "
            "inverse probability weighting (teffects ipw; ATE, ATT, ATC); ipw_ra: weighted regression adjustment "
            "(teffects ipwra); aipw: augmented IPW, doubly robust (teffects aipw; ATT / ATC as Mercatanti & Li "
            "2014); aipw_wls: AIPW with weighted outcome regressions (teffects aipw, wnls; ATE); all with "
            "potential-outcome means and the stacked M-estimation SE; matching: nearest-neighbour matching on "
            "the propensity score (MatchIt); front_door: Pearl's front-door formula through the mediators the DAG "
            "shields (linear models, bootstrap SE), chosen by auto when no adjustment set exists; auto: see "
            "docs/planner.md."
        ),
    )
    matching: MatchingOptions = Field(default_factory=MatchingOptions, description="Options of estimator matching.")
    learner: Literal["glm", "gradient_boosting", "random_forest"] = Field(
        "glm", description="aipw only: the outcome and propensity models. glm: linear and logistic regressions on "
                           "the adjustment set; gradient_boosting / random_forest: scikit-learn models with "
                           "cross-fitting (pip install scikit-learn).")
    folds: int = Field(5, ge=2, le=20, description="aipw with a scikit-learn learner: cross-fitting folds.")
    propensity_model: PropensityModelOptions | None = Field(
        None, description="ipw, ipw_ra, aipw, aipw_wls, matching: the propensity model's terms and link; left "
                          "out, a logistic regression on the adjustment set, every variable linearly.")
    outcome_model: OutcomeModel | None = Field(
        None, description="ols, ra, ipw_ra, aipw (glm), aipw_wls: the outcome model's terms (factors, powers, "
                          "interactions of the adjustment set); left out, every adjustment variable enters "
                          "linearly.")
    trim: Literal["none", "crump"] = Field(
        "none", description="ipw / aipw: crump drops units outside Crump et al. (2009)'s optimal overlap region "
                            "(counted in the dropped rows).")

