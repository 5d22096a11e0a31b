"""The ``heterogeneity`` section with machine-learning CATE learners, segments, policy and holdout (issue 15).

Not wired in yet: ``HeterogeneityML`` is a superset of ``spec._models.Heterogeneity`` (``learner: linear`` keeps
today's OLS interactions, read by the same fields) meant to replace it; docs/heterogeneity.md lists the steps.
Models are named by an allow-listed short name with typed parameters (a discriminated union on ``name``), never
by an import path; the parameter table equals ``causalspec.heterogeneity.MODEL_PARAMS`` (a test checks it).
Loads without numpy: scikit-learn's presence is checked with ``importlib.util.find_spec`` only.
"""

from __future__ import annotations

import importlib.util
from typing import Annotated, Any, Literal, Union

from pydantic import Field, field_validator, model_validator

from causalspec.errors import Problem, SpecError, UnsupportedError
from causalspec.spec._base import _NAME, _Model

__all__ = ["HeterogeneityML", "ModelName", "SegmentSpec", "PolicySpec", "BudgetSpec", "HoldoutSpec",
           "ML_LEARNERS", "MODEL_NAMES", "model_params", "sklearn_problem", "ML_INSTALL"]

ML_INSTALL = 'pip install "causalspec[ml]"'
ML_LEARNERS = ("dr", "t", "s", "x", "r")
_POS = Annotated[float, Field(gt=0)]


class _Linear(_Model):
    name: Literal["linear"] = Field(..., description="Least squares (LinearRegression); as a propensity model an "
                                                     "unpenalised logistic regression.")


class _Ridge(_Model):
    name: Literal["ridge"]
    alpha: float = Field(1.0, ge=0, description="L2 penalty (Ridge alpha; C = 1 / alpha for a propensity model).")


class _Lasso(_Model):
    name: Literal["lasso"]
    alpha: _POS = Field(1.0, description="L1 penalty (Lasso alpha; C = 1 / alpha for a propensity model).")
    max_iter: int = Field(10000, ge=1, le=10**6, description="Coordinate-descent iterations.")
    tol: float = Field(1e-4, ge=0, description="Convergence tolerance.")


class _Logistic(_Model):
    name: Literal["logistic"]
    C: _POS = Field(1.0, description="Inverse L2 penalty (LogisticRegression C). Propensity models, or the "
                                     "outcome model of a 0/1 outcome (predicted probabilities).")
    max_iter: int = Field(1000, ge=1, le=10**6, description="lbfgs iterations.")
    tol: float = Field(1e-6, ge=0, description="Convergence tolerance.")


class _GradientBoosting(_Model):
    name: Literal["gradient_boosting"]
    max_iter: int | None = Field(None, ge=1, le=10**5, description="Boosting rounds (HistGradientBoosting*).")
    learning_rate: float | None = Field(None, ge=1e-6, le=10)
    max_depth: int | None = Field(None, ge=1, le=64)
    min_samples_leaf: int | None = Field(None, ge=1, le=10**6)
    max_leaf_nodes: int | None = Field(None, ge=2, le=10**6)
    l2_regularization: float | None = Field(None, ge=0)


class _RandomForest(_Model):
    name: Literal["random_forest"]
    n_estimators: int | None = Field(None, ge=1, le=10**5, description="Trees (RandomForest*).")
    max_depth: int | None = Field(None, ge=1, le=256)
    min_samples_leaf: int | None = Field(None, ge=1, le=10**6)
    max_features: float | None = Field(None, gt=0, le=1, description="Share of features tried at each split.")
    n_jobs: int | None = Field(None, ge=1, le=512)


MODEL_NAMES = ("linear", "ridge", "lasso", "logistic", "gradient_boosting", "random_forest")
ModelName = Annotated[Union[_Linear, _Ridge, _Lasso, _Logistic, _GradientBoosting, _RandomForest],
                      Field(discriminator="name")]


def model_params(model: _Model) -> dict[str, Any]:
    """The model's parameters as given (None = the library default), for ``ModelChoice.of(name, params)``."""
    return {k: v for k, v in model.model_dump(exclude={"name"}).items() if v is not None}


class SegmentSpec(_Model):
    """A named grouping for group effects: a pre-treatment column, or quantile groups of the predicted CATE."""

    name: _NAME = Field(..., description="The segment's label in tables and figures.")
    column: _NAME | None = Field(None, description="A pre-treatment column whose values are the groups.")
    cate_quantiles: int | None = Field(None, ge=2, le=20, description="GATES: k groups by quantile of the "
                                                                      "out-of-fold CATE, with BLP and CLAN.")

    @model_validator(mode="after")
    def _one(self):
        if (self.column is None) == (self.cate_quantiles is None):
            raise ValueError("give exactly one of column and cate_quantiles")
        return self


class BudgetSpec(_Model):
    """At most this share, or this number, of the units treated."""

    share: float | None = Field(None, gt=0, le=1, description="Share of units in (0, 1] (1 = 100%).")
    count: int | None = Field(None, ge=1, description="Number of units (at most the rows of the fit).")

    @model_validator(mode="after")
    def _one(self):
        if (self.share is None) == (self.count is None):
            raise ValueError("give exactly one of share and count")
        return self


class PolicySpec(_Model):
    """The targeting decision: treat when value x CATE > cost."""

    value: float = Field(1.0, description="Worth of one unit of outcome (negative when the outcome is bad, e.g. "
                                          "churn), in the currency of cost.")
    cost: float = Field(0.0, description="Cost of treating one unit.")
    budget: BudgetSpec | None = Field(None, description="Cap on the number treated; the best share under it is "
                                                        "reported beside the rule.")
    can_hurt: bool = Field(True, description="The treatment may harm some units: never treat a unit whose "
                                             "estimated benefit is negative, nor a segment harmful with confidence.")


class HoldoutSpec(_Model):
    """Where the CATE model is evaluated (uplift curves, RATE, policy value)."""

    column: _NAME | None = Field(None, description="A 0/1 column: rows with 1 (e.g. a randomized holdout) are "
                                                   "evaluated with the model fitted on the rows with 0.")
    share: float | None = Field(None, gt=0, lt=1, description="A random share of rows held out (from the seed).")

    @model_validator(mode="after")
    def _one(self):
        if (self.column is None) == (self.share is None):
            raise ValueError("give exactly one of column and share")
        return self


def sklearn_problem(loc: str = "heterogeneity.learner") -> Problem | None:
    """The refusal when scikit-learn is missing (find_spec only: nothing is imported)."""
    if importlib.util.find_spec("sklearn") is None:
        return Problem(loc, "this learner needs scikit-learn, which is not installed.",
                       fix=f"{ML_INSTALL}, or use learner linear.", code="sklearn_missing")
    return None


class HeterogeneityML(_Model):
    """Effect modification and targeting: CATE learners, group effects, uplift evaluation and the policy."""

    modifiers: tuple[_NAME, ...] = Field(..., min_length=1, max_length=50, description=(
        "Pre-treatment covariates the effect may vary with (never descendants of the treatment). linear: "
        "interacted with the treatment in OLS; dr / r: the final stage's features; t / s / x: with the "
        "adjustment set, the features of the outcome models."))
    learner: Literal["linear", "dr", "t", "s", "x", "r", "causal_forest"] = Field("linear", description=(
        "linear: OLS interactions (see Heterogeneity); dr: DR-learner (EconML DRLearner); t / s / x: meta-learners "
        "(CausalML Base*Regressor); r: R-learner (CausalML BaseRRegressor); causal_forest: not available yet."))
    at: dict[_NAME, tuple[float | str, ...]] = Field({}, description="linear only: values at which the effect "
                                                                     "of each modifier is reported.")
    outcome_model: ModelName = Field(default_factory=lambda: _GradientBoosting(name="gradient_boosting"),
                                     description="Outcome model per arm (cross-fitted).")
    propensity_model: ModelName | Literal["known"] = Field(
        default_factory=lambda: _Logistic(name="logistic"),
        description="Propensity model (a classifier); known: the design's assignment probability (experiment).")
    final_model: ModelName = Field(default_factory=lambda: _Linear(name="linear"), description=(
        "dr / r: the regression of the pseudo-outcome on the modifiers; x: the effect models."))
    folds: int = Field(5, ge=2, le=20, description="Cross-fitting folds (stratified by treatment, from the seed).")
    clip: float = Field(0.01, gt=0, lt=0.5, description="Propensity scores clipped to [clip, 1 - clip].")
    segments: tuple[SegmentSpec, ...] = Field((), max_length=20, description="Groups for group effects.")
    policy: PolicySpec | None = Field(None, description="The targeting decision with its value and cost.")
    holdout: HoldoutSpec | None = Field(None, description="Evaluate on held-out rows; left out, on out-of-fold "
                                                          "predictions of all rows.")
    rate_bootstrap: int = Field(200, ge=0, le=10000, description="Half-sample bootstrap draws for RATE SEs (grf's R).")

    @model_validator(mode="before")
    @classmethod
    def _known_model_names(cls, data: Any) -> Any:
        # checked before the union dispatches on name, so an unknown name reads as one (not as a union tag)
        if isinstance(data, dict):
            for key in ("outcome_model", "propensity_model", "final_model"):
                value = data.get(key)
                name = value.get("name") if isinstance(value, dict) else None
                if isinstance(value, dict) and name not in MODEL_NAMES:
                    raise SpecError(Problem(f"{key}.name", f"{name!r} is not an allowed model (models are named, "
                                            "never imported).", fix=f"Use one of {', '.join(MODEL_NAMES)}.",
                                            code="model_unknown"))
        return data

    @field_validator("at", mode="before")
    @classmethod
    def _at_lists(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: (tuple(v) if isinstance(v, list) else v) for k, v in value.items()}
        return value

    @model_validator(mode="after")
    def _learner_available(self):
        if self.learner == "causal_forest":
            raise UnsupportedError(Problem("learner", "causal_forest is not available yet (grf's "
                                           "causal forest has no Python implementation causalspec has checked).",
                                           fix="Use learner dr with random_forest models.",
                                           code="learner_unavailable"))
        if self.learner != "linear" and (p := sklearn_problem("learner")) is not None:
            raise UnsupportedError(p)
        if self.learner == "linear" and (self.segments or self.policy or self.holdout):
            raise SpecError(Problem("learner", "segments, policy and holdout need a CATE learner.",
                                    fix="Set learner to dr (or t, s, x, r).", code="learner_linear_only"))
        unread = [f for f in ("outcome_model", "propensity_model", "final_model", "folds", "clip", "rate_bootstrap")
                  if f in self.model_fields_set]
        if self.learner == "linear" and unread:
            raise SpecError(Problem(unread[0], f"{unread[0]} is read by the CATE learners (dr, t, "
                                    "s, x, r), not by learner linear (OLS interactions).",
                                    fix=f"Set learner to dr (or t, s, x, r), or remove {unread[0]}.",
                                    code="option_not_read"))
        if self.learner != "linear" and self.at:
            raise SpecError(Problem("at", "at is read by learner linear only.",
                                    fix="Remove at, or set learner linear.", code="at_linear_only"))
        return self

    def data_columns(self) -> tuple[tuple[str, str], ...]:
        cols = [(m, f"heterogeneity.modifiers[{i}]") for i, m in enumerate(self.modifiers)]
        cols += [(s.column, f"heterogeneity.segments[{i}].column") for i, s in enumerate(self.segments) if s.column]
        if self.holdout is not None and self.holdout.column:
            cols.append((self.holdout.column, "heterogeneity.holdout.column"))
        return tuple(cols)
