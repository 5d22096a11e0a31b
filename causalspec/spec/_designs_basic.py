"""Designs identified from the DAG by adjustment (observational) or by randomization (experiment)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from ..errors import Problem, SpecError
from ._base import _NAME, _Model

__all__ = ["ObservationalDesign", "ExperimentDesign", "MatchingOptions", "MetricSpec", "Guardrail", "DecisionRule"]


class MatchingOptions(_Model):
    """Nearest-neighbour matching on the propensity score (MatchIt method "nearest", distance "glm")."""

    ratio: int = Field(1, ge=1, le=20, description="Controls per treated unit (k:1 matching).")
    replace: bool = Field(False, description="Match with replacement (a control may be reused).")
    caliper: float | None = Field(None, gt=0, description="Caliper in standard deviations of the distance.")
    algorithm: Literal["matchit-4.5.1", "exact"] = Field(
        "matchit-4.5.1", description="matchit-4.5.1: MatchIt 4.5.1's matched sets exactly (including its integer "
                                     "abs() on distances); exact: real distance differences (docs/propensity.md).")
    distance: Literal["propensity", "logit"] = Field(
        "propensity", description="propensity: match on the fitted probability (MatchIt distance = \"glm\"); logit: on "
                                  "its logit, the linear predictor (link = \"linear.logit\"), where a caliper is in "
                                  "SDs of the logit as Rosenbaum & Rubin (1985) recommend.")

    def plan_settings(self) -> dict:
        """The options as the plan records them (``plan.settings``) for the matching fitter."""
        return {"ratio": self.ratio, "replace": self.replace, "caliper": self.caliper, "algorithm": self.algorithm,
                "distance": self.distance}


class ObservationalDesign(_Model):
    """Observational data: the effect is identified from the DAG by adjustment (backdoor criterion)."""

    type: Literal["observational"] = "observational"
    estimator: Literal["auto", "ols", "ipw", "aipw", "matching"] = Field(
        "auto",
        description=(
            "ols: regression adjustment on the planner's adjustment set; ipw: inverse probability weighting; "
            "aipw: augmented IPW (doubly robust); matching: nearest-neighbour matching on the propensity score "
            "(MatchIt); auto: see docs/planner.md."
        ),
    )
    matching: MatchingOptions = Field(default_factory=MatchingOptions, description="Options of estimator matching.")
    learner: Literal["glm", "gradient_boosting", "random_forest"] = Field(
        "glm", description="aipw only: the outcome and propensity models. glm: linear and logistic regressions on "
                           "the adjustment set; gradient_boosting / random_forest: scikit-learn models with "
                           "cross-fitting (pip install 'causalspec[ml]').")
    folds: int = Field(5, ge=2, le=20, description="aipw with a scikit-learn learner: cross-fitting folds.")
    trim: Literal["none", "crump"] = Field(
        "none", description="ipw / aipw: crump drops units outside Crump et al. (2009)'s optimal overlap region "
                            "(counted in the dropped rows).")


class MetricSpec(_Model):
    """What the experiment's primary metric is: a per-unit mean, a proportion, or a ratio of two sums."""

    type: Literal["mean", "proportion", "ratio"] = Field(
        "mean", description="mean: the outcome averaged per unit; proportion: a 0/1 outcome, also tested with "
                            "stats::prop.test; ratio: sum(numerator) / sum(denominator) per arm (e.g. clicks per "
                            "session) with a delta-method standard error.")
    numerator: _NAME | None = Field(None, description="ratio only: the numerator column (e.g. clicks).")
    denominator: _NAME | None = Field(None, description="ratio only: the denominator column (e.g. sessions).")
    continuity_correction: bool = Field(
        True, description="proportion only: Yates' continuity correction in prop.test (R's default correct = TRUE).")

    @model_validator(mode="after")
    def _ratio_columns(self) -> "MetricSpec":
        if self.type == "ratio":
            missing = [f for f in ("numerator", "denominator") if getattr(self, f) is None]
            if missing:
                raise SpecError(Problem(missing[0], "a ratio metric needs a numerator and a denominator column.",
                                        fix="Add numerator: <column> and denominator: <column>, or set type: mean.",
                                        code="ratio_columns_missing"))
            if self.numerator == self.denominator:
                raise SpecError(Problem("denominator", "the numerator and the denominator are the same column.",
                                        fix="Name two different columns.", code="ratio_same_columns"))
        else:
            for f in ("numerator", "denominator"):
                if getattr(self, f) is not None:
                    raise SpecError(Problem(f, f"{f} is used only by a ratio metric (type: {self.type}).",
                                            fix=f"Remove {f}, or set type: ratio.", code="ratio_column_unused"))
        return self


class Guardrail(_Model):
    """A metric the change must not harm: non-inferiority by the confidence interval of the difference in means."""

    column: _NAME = Field(description="The guardrail metric's column (per unit).")
    direction: Literal["increase", "decrease"] = Field(
        description="The harmful direction: increase for metrics that must not rise (errors, latency, churn), "
                    "decrease for metrics that must not fall (revenue, retention).")
    threshold: float = Field(
        0.0, ge=0, description="The largest tolerated change in the harmful direction, in the column's units. "
                               "Passes when the whole confidence interval is inside it, fails when the whole "
                               "interval is beyond it, else inconclusive.")


class DecisionRule(_Model):
    """How the result becomes a decision: ship, do not ship, or inconclusive (docs/experiments.md)."""

    goal: Literal["increase", "decrease"] = Field("increase", description="The primary metric's desired direction.")
    min_effect: float = Field(
        0.0, ge=0, description="Smallest change worth shipping, in the metric's units: ship needs the whole "
                               "confidence interval beyond it in the goal direction.")


class ExperimentDesign(_Model):
    """A randomised experiment: treatment assigned at random, so no adjustment is needed for identification."""

    type: Literal["experiment"] = "experiment"
    estimator: Literal["auto", "difference_in_means", "lin"] = Field(
        "auto",
        description=(
            "difference_in_means: Welch / Neyman (estimatr::difference_in_means); lin: Lin (2013) covariate "
            "adjustment with centred covariates interacted with treatment (estimatr::lm_lin); auto: lin when "
            "covariates are given, else difference_in_means."
        ),
    )
    planned_split: float | None = Field(
        0.5, gt=0, lt=1, description="Planned share of units in the treatment arm: the sample-ratio-mismatch "
                                     "check tests the observed split against it (null: no check).")
    srm_alpha: float = Field(0.001, gt=0, lt=1, description="p-value below which the split is a mismatch "
                                                             "(a broken test).")

    metric: MetricSpec = Field(default_factory=MetricSpec, description="The primary metric's type.")
    cuped: _NAME | None = Field(
        None, description="A pre-period covariate for CUPED (Deng et al. 2013): the outcome minus theta times the "
                          "centred covariate, then the difference in means; reported beside the effect.")
    guardrails: tuple[Guardrail, ...] = Field((), description="Metrics the change must not harm.")
    decision: DecisionRule | None = Field(
        None, description="The decision rule: the verdict (ship / do not ship / inconclusive) is reported with the "
                          "reasons; none is given while the sample-ratio check flags the test as broken.")

    @model_validator(mode="after")
    def _options_agree(self) -> "ExperimentDesign":
        problems = []
        if self.cuped is not None and self.metric.type == "ratio":
            problems.append(Problem("cuped", "CUPED adjusts a per-unit mean; the ratio metric uses the delta method.",
                                    fix="Remove cuped, or set metric.type to mean.", code="cuped_ratio"))
        seen = set()
        for i, g in enumerate(self.guardrails):
            if g.column in seen:
                problems.append(Problem(f"guardrails[{i}].column", f"{g.column!r} is listed twice.",
                                        fix="Remove the duplicate guardrail.", code="duplicate"))
            seen.add(g.column)
        if problems:
            raise SpecError(problems)
        return self

    def plan_settings(self) -> dict:
        """The options as the plan records them (``plan.settings``) for the experiment checks."""
        return {"planned_split": self.planned_split, "srm_alpha": self.srm_alpha,
                "metric": self.metric.model_dump(mode="json"), "cuped": self.cuped,
                "guardrails": [g.model_dump(mode="json") for g in self.guardrails],
                "decision": None if self.decision is None else self.decision.model_dump(mode="json")}

    def data_columns(self) -> tuple[tuple[str, str], ...]:
        """The data columns these options read, each with the spec field that names it (error locations)."""
        out = [(self.metric.numerator, "design.metric.numerator"), (self.metric.denominator, "design.metric.denominator"),
               (self.cuped, "design.cuped")]
        out += [(g.column, f"design.guardrails[{i}].column") for i, g in enumerate(self.guardrails)]
        return tuple((c, f) for c, f in out if c is not None)
