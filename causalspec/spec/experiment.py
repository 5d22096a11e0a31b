"""The ``experiment`` design's schema: metric, CUPED, guardrails and decision rule (planned by ``causalspec.designs.experiment``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from causalspec.errors import Problem, SpecError
from causalspec.spec._base import _NAME, _DesignModel, _Model

__all__ = ["ExperimentDesign", "MetricSpec", "Guardrail", "DecisionRule"]

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
        if self.type != "proportion" and not self.continuity_correction:
            raise SpecError(Problem("continuity_correction", "continuity_correction is read only by the proportion "
                                    f"metric's prop.test; a {self.type} metric has none, so it would change nothing.",
                                    fix="Remove continuity_correction, or set type: proportion.",
                                    code="option_not_read"))
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


class ExperimentDesign(_DesignModel):
    """A randomised experiment: treatment assigned at random, so no adjustment is needed for identification."""

    type: Literal["experiment"] = "experiment"
    estimator: Literal["auto", "difference_in_means", "lin"] = Field(
        "auto",
        description=(
            "difference_in_means: Welch / Neyman (estimatr::difference_in_means), or with inference.cluster the "
            "clustered difference in means (estimatr::difference_in_means(clusters = ) = lm_robust CR2, "
            "Bell-McCaffrey df; every cluster in one arm); lin: Lin (2013) covariate adjustment with centred "
            "covariates interacted with treatment (estimatr::lm_lin, CR2 with a cluster); auto: lin when "
            "covariates are given, else difference_in_means."
        ),
    )
    planned_split: float | None = Field(
        0.5, gt=0, lt=1, description="Planned share of units in the treatment arm: the sample-ratio-mismatch "
                                     "check tests the observed split against it, counting clusters when "
                                     "inference.cluster names the unit of assignment (null: no check).")
    srm_alpha: float = Field(0.001, gt=0, lt=1, description="p-value below which the split is a mismatch "
                                                             "(a broken test).")

    metric: MetricSpec = Field(default_factory=MetricSpec, description="The primary metric's type.")
    cuped: _NAME | None = Field(
        None, description="A pre-period covariate for CUPED (Deng et al. 2013): the outcome minus theta times the "
                          "centred covariate, then the difference in means; this is the effect (the headline), with the "
                          "unadjusted difference in means as the naive contrast.")
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

    def data_columns(self) -> tuple[tuple[str, str], ...]:
        """The data columns these options read, each with the spec field that names it (error locations)."""
        out = [(self.metric.numerator, "design.metric.numerator"), (self.metric.denominator, "design.metric.denominator"),
               (self.cuped, "design.cuped")]
        out += [(g.column, f"design.guardrails[{i}].column") for i, g in enumerate(self.guardrails)]
        return tuple((c, f) for c, f in out if c is not None)

