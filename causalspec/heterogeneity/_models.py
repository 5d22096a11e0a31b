"""The allow-listed scikit-learn models, by short name with parameters (never an import path).

A spec names a model as ``{name: gradient_boosting, max_iter: 200}``; this module is the only place that turns
such a name into a scikit-learn estimator.  Each name has a regressor (outcome models, final stages) and a
classifier (propensity models, and outcome models of a 0/1 outcome when the spec asks for ``logistic``), and a
fixed table of the parameters it accepts, so nothing in a spec reaches an arbitrary constructor argument.
scikit-learn is imported only when a model is built (the ``ml`` extra); without it the caller gets a located
:class:`~causalspec.errors.UnsupportedError` with the install command.
"""

from __future__ import annotations

import importlib
import inspect
import math
from dataclasses import dataclass, field
from typing import Any, Mapping

from causalspec.errors import Problem, SpecError, UnsupportedError

__all__ = ["ModelChoice", "MODEL_PARAMS", "INSTALL", "make_regressor", "make_classifier", "check_model",
           "require_sklearn"]

INSTALL = 'pip install "causalspec[ml]"'

# name -> {parameter: (type, low, high)}; bounds are inclusive, None = unbounded.
MODEL_PARAMS: dict[str, dict[str, tuple[type, float | None, float | None]]] = {
    "linear": {},
    "ridge": {"alpha": (float, 0.0, None)},
    "lasso": {"alpha": (float, 1e-12, None), "max_iter": (int, 1, 10**6), "tol": (float, 0.0, None)},
    "logistic": {"C": (float, 1e-12, None), "max_iter": (int, 1, 10**6), "tol": (float, 0.0, None)},
    "gradient_boosting": {"max_iter": (int, 1, 10**5), "learning_rate": (float, 1e-6, 10.0),
                          "max_depth": (int, 1, 64), "min_samples_leaf": (int, 1, 10**6),
                          "max_leaf_nodes": (int, 2, 10**6), "l2_regularization": (float, 0.0, None)},
    "random_forest": {"n_estimators": (int, 1, 10**5), "max_depth": (int, 1, 256),
                      "min_samples_leaf": (int, 1, 10**6), "max_features": (float, 1e-6, 1.0),
                      "n_jobs": (int, 1, 512)},
}


@dataclass(frozen=True)
class ModelChoice:
    """A model by short name with its parameters (a sorted tuple of pairs, so the choice is hashable)."""

    name: str
    params: tuple[tuple[str, Any], ...] = field(default=())

    @classmethod
    def of(cls, name: str, params: Mapping[str, Any] | None = None) -> "ModelChoice":
        return cls(name, tuple(sorted((params or {}).items())))

    def describe(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self.params)
        return f"{self.name}({inner})"


def check_model(choice: ModelChoice, loc: str) -> list[Problem]:
    """Problems with a model choice: an unknown name or parameter, a value of the wrong type or out of range."""
    if choice.name not in MODEL_PARAMS:
        return [Problem(loc, f"{choice.name!r} is not an allowed model.",
                        fix=f"Use one of {', '.join(sorted(MODEL_PARAMS))}.", code="model_unknown")]
    allowed = MODEL_PARAMS[choice.name]
    problems = []
    for key, value in choice.params:
        if key not in allowed:
            problems.append(Problem(f"{loc}.{key}", f"{choice.name} takes no parameter {key!r}.",
                                    fix=f"Use {', '.join(sorted(allowed)) or 'no parameters'}.",
                                    code="model_parameter"))
            continue
        kind, low, high = allowed[key]
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and (
            kind is float or float(value).is_integer()) and math.isfinite(value)
        if not ok or (low is not None and value < low) or (high is not None and value > high):
            bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
            problems.append(Problem(f"{loc}.{key}", f"{key}={value!r} is not a valid value.",
                                    fix=f"Give a {kind.__name__} {bounds}.", code="model_parameter"))
    return problems


def require_sklearn(loc: str):
    """The sklearn package, or a located error with the install command."""
    try:
        return importlib.import_module("sklearn")
    except ImportError:
        raise UnsupportedError(Problem(loc, "this learner needs scikit-learn, which is not installed.",
                                       fix=f"{INSTALL}, or use learner linear.", code="sklearn_missing")) from None


def _logistic(linear_model, l1: bool, C: float, **kw):
    """LogisticRegression across scikit-learn versions (1.8 replaced ``penalty`` by ``l1_ratio``)."""
    new_api = inspect.signature(linear_model.LogisticRegression).parameters["penalty"].default == "deprecated"
    if l1:
        extra = {"l1_ratio": 1.0} if new_api else {"penalty": "l1"}
        return linear_model.LogisticRegression(C=C, solver="liblinear", **extra, **kw)
    if math.isinf(C):
        extra = {} if new_api else {"penalty": None}
        return linear_model.LogisticRegression(C=C if new_api else 1.0, **extra, **kw)
    return linear_model.LogisticRegression(C=C, **kw)


def make_regressor(choice: ModelChoice, seed: int, loc: str = ""):
    """A fresh scikit-learn regressor for the choice (``logistic`` is refused: it is a classifier)."""
    require_sklearn(loc)
    from sklearn import ensemble, linear_model

    p = dict(choice.params)
    if choice.name == "linear":
        return linear_model.LinearRegression()
    if choice.name == "ridge":
        return linear_model.Ridge(alpha=float(p.get("alpha", 1.0)))
    if choice.name == "lasso":
        return linear_model.Lasso(alpha=float(p.get("alpha", 1.0)), max_iter=int(p.get("max_iter", 10000)),
                                  tol=float(p.get("tol", 1e-4)))
    if choice.name == "gradient_boosting":
        return ensemble.HistGradientBoostingRegressor(random_state=seed, **_ints(p))
    if choice.name == "random_forest":
        return ensemble.RandomForestRegressor(random_state=seed, **_forest(p))
    raise SpecError(Problem(loc, f"{choice.name!r} is a classifier and cannot model a numeric outcome or an "
                                 "effect.", fix="Use linear, ridge, lasso, gradient_boosting or random_forest.",
                            code="model_kind"))


def make_classifier(choice: ModelChoice, seed: int, loc: str = ""):
    """A fresh scikit-learn classifier for the choice (linear = unpenalised logistic, ridge / lasso = L2 / L1
    penalised logistic with C = 1 / alpha)."""
    require_sklearn(loc)
    from sklearn import ensemble, linear_model

    p = dict(choice.params)
    if choice.name in ("linear", "logistic"):
        C = float(p.get("C", math.inf if choice.name == "linear" else 1.0))
        return _logistic(linear_model, False, C, max_iter=int(p.get("max_iter", 1000)), tol=float(p.get("tol", 1e-6)))
    if choice.name in ("ridge", "lasso"):
        C = 1.0 / float(p["alpha"]) if p.get("alpha") else math.inf
        return _logistic(linear_model, choice.name == "lasso", C, max_iter=int(p.get("max_iter", 1000)),
                         tol=float(p.get("tol", 1e-6)))
    if choice.name == "gradient_boosting":
        return ensemble.HistGradientBoostingClassifier(random_state=seed, **_ints(p))
    return ensemble.RandomForestClassifier(random_state=seed, **_forest(p))


def _ints(p: dict) -> dict:
    return {k: (float(v) if k in ("learning_rate", "l2_regularization") else int(v)) for k, v in p.items()}


def _forest(p: dict) -> dict:
    out = {k: int(v) for k, v in p.items() if k != "max_features"}
    if "max_features" in p:
        out["max_features"] = float(p["max_features"])
    return out
