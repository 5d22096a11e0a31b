"""``Result.predict`` and ``Result.fixef``: fitted values, predictions for new rows, fixed-effect values.

Nothing is kept from the fit beyond what a Result already holds (its coefficients and a reference to the data it
was fitted on, ``_data``): the estimation sample is rebuilt from the plan exactly as the fitter built it
(complete cases, the design matrix, fixest's sample rules), which costs one materialisation per call and no
stored copy.  A Result read back from JSON, or fitted on a query engine, has no rows in memory and says so.

* Regression models from the formula (``ols``, ``did_2x2``): new rows are materialised with the model's own
  terms and factor levels (stacked under one row per level of the estimation sample, so the coding is the
  fit's); a level the sample does not have is refused with a located error, as R's ``predict.lm`` refuses it.
* Fixed-effects models (``feols``, ``twfe``): ``X b`` plus each row's fixed effects (:func:`fixef`); a level of
  a fixed effect the fit did not estimate gives NaN, as ``fixest::predict`` does, with a warning counting them.
  Fitted values of the estimation rows are ``X b`` plus the exact projection of ``y - X b`` on the fixed effects
  (fixest's ``y - resid`` differs from it by its demeaning tolerance, ~1e-11 relative).
* Other designs are refused with the reason: a synthetic control, a regression discontinuity, weighting,
  matching and experiments' difference in means have no one outcome model to predict from.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd

from causalspec.designs import check_weights, complete_cases
from causalspec.designs._common import weights_of
from causalspec.errors import DataError, Problem, UnsupportedError
from causalspec.estimators.fixest._feols import prepare_sample
from causalspec.estimators.fixest._fixef import fixef_values
from causalspec.formula import materialize, parse_formula, quote_name
from causalspec.planner import Estimator
from causalspec.planner._vcov import fe_columns

__all__ = ["fixef", "predict", "FORMULA_ESTIMATORS", "FE_ESTIMATORS"]

FORMULA_ESTIMATORS = frozenset({Estimator.OLS, Estimator.DID_2X2})
FE_ESTIMATORS = frozenset({Estimator.FEOLS, Estimator.TWFE})
_FE_ELSEWHERE = frozenset({Estimator.IV_2SLS, Estimator.EVENT_STUDY, Estimator.SUN_ABRAHAM})  # fixest fits, FE inside

_NO_MODEL = ("its effect is an average over weighted, matched or imputed outcomes, not the coefficients of one "
             "regression of the outcome")
_WHY_NOT = {
    Estimator.SYNTH: "a synthetic control compares the treated unit with a weighted average of donor units; it is "
                     "not a model of the outcome for any row",
    Estimator.SYNTHDID: "synthetic difference in differences weights units and periods; it is not a model of the "
                        "outcome for any row",
    Estimator.RDROBUST: "rdrobust fits local polynomials near the cutoff for one number, the jump at the cutoff; "
                        "it is not a model of the outcome away from it",
    Estimator.DIFFERENCE_IN_MEANS: "an experiment's effect is a difference in means, not a model of the outcome",
    Estimator.LIN: "Lin's estimator centres the covariates on the analysed sample; predicting from it is not "
                   "implemented in this version",
    Estimator.IV_2SLS: "predicting from a two-stage least squares fit is not implemented in this version",
    Estimator.EVENT_STUDY: "predicting from an event study (regressors built from relative periods) is not "
                           "implemented in this version",
    Estimator.SUN_ABRAHAM: "predicting from an event study (regressors built from relative periods) is not "
                           "implemented in this version",
    Estimator.SEGMENTED: "predicting from a segmented regression is not implemented in this version",
}
_OFFERED = "predict is offered for ols and did_2x2 (the model formula) and for feols and twfe (with fixed effects)"
_DATA_DEPENDENT = re.compile(r"\b(scale|center)\(|\bpoly\((?![^)]*\braw\s*=\s*(TRUE|T)\b)")


def _no_data(what: str) -> UnsupportedError:
    return UnsupportedError(Problem(
        what, f"this result has no data in memory (it was read back from JSON, or fitted on a query engine), and "
        f"{what}() needs the rows it was fitted on.", fix="Fit the plan again on the data: "
        "causalspec.fit(plan, data), then call it on that result.", code="no_data_in_result"))


def _data(result, what: str) -> pd.DataFrame:
    data = getattr(result, "_data", None)
    if data is None:
        raise _no_data(what)
    return data


def _estimation_frame(result, what: str) -> pd.DataFrame:
    """The rows the fitter saw: complete cases of the plan's columns, weight-0 rows removed (designs.fit)."""
    plan = result.plan
    frame, _ = complete_cases(_data(result, what), plan.columns, getattr(plan.settings, "partial_columns", ()))
    if plan.weights is not None:
        frame, _ = check_weights(frame, plan.weights)
    return frame


def _refuse(result, what: str) -> UnsupportedError:
    est = result.plan.estimator
    why = _WHY_NOT.get(est, _NO_MODEL)
    return UnsupportedError(Problem(what, f"{what}() is not offered for the {est.value} estimator "
                                    f"({result.plan.design} design): {why}.", fix=_OFFERED + ".",
                                    code="predict_unsupported"))


# --------------------------------------------------------------------------- design matrices
def _rhs(formula: str) -> str:
    """The right-hand side of ``y ~ rhs`` (a ``~`` inside backticks is part of a name)."""
    quoted = False
    for i, ch in enumerate(formula):
        if ch == "`":
            quoted = not quoted
        elif ch == "~" and not quoted:
            return formula[i + 1:].strip()
    raise UnsupportedError(Problem("formula", f"the model formula {formula!r} has no '~'.", code="predict_unsupported"))


def _placeholder(columns) -> str:
    name, k = "causalspec_predict_y", 0
    while f"{name}{k}" in columns:
        k += 1
    return f"{name}{k}"


def _design(rhs: str, frame: pd.DataFrame, intercept: bool):
    """The design matrix of ``rhs`` on ``frame`` (rows with a missing value dropped, as the fit drops them)."""
    y = _placeholder(frame.columns)
    design = materialize(f"{quote_name(y)} ~ {rhs}", frame.assign(**{y: 0.0}))
    keep = [i for i, t in enumerate(design.terms) if intercept or t != "(Intercept)"]
    return design, design.X[:, keep], [design.terms[i] for i in keep]


def _factor_columns(rhs: str, columns, frame: pd.DataFrame) -> list[str]:
    """Columns the model codes as factors: text, logical, categorical, or wrapped in factor() / C() / relevel()."""
    out = []
    for c in columns:
        s = frame[c]
        coded = re.search(rf"\b(factor|C|relevel)\(\s*`?{re.escape(c)}`?\s*[,)]", rhs) is not None
        if coded or pd.api.types.is_bool_dtype(s) or not pd.api.types.is_numeric_dtype(s):
            out.append(c)
    return out


def _new_matrix(rhs: str, intercept: bool, est: pd.DataFrame, newdata: pd.DataFrame, terms: list[str]):
    """The model's design matrix for ``newdata``: (positions of the rows kept, X with the fit's columns)."""
    if not isinstance(newdata, pd.DataFrame):
        raise DataError(Problem("newdata", f"newdata must be a pandas DataFrame, not {type(newdata).__name__}.",
                                fix="Pass the new rows as a DataFrame with the model's columns.", code="not_a_frame"))
    if _DATA_DEPENDENT.search(rhs):
        raise UnsupportedError(Problem(
            "newdata", f"the model {rhs!r} uses scale(), center() or poly() without raw = TRUE, which depend on the "
            "rows they are computed on; new rows would be re-centred on themselves.",
            fix="Write the centring into the spec (I(x - 3.2)) or use poly(x, k, raw = TRUE); predict() without "
                "newdata gives the fitted values.", code="predict_transform"))
    lhs = _placeholder([*est.columns, *newdata.columns])
    columns = [v for v in parse_formula(f"{quote_name(lhs)} ~ {rhs}").variables if v != lhs]
    absent = [c for c in columns if c not in newdata.columns]
    if absent:
        raise DataError(Problem("newdata", f"newdata has no column {absent[0]!r}, which the model uses.",
                                fix=f"Add the columns {', '.join(map(repr, absent))} to newdata.", code="column_missing"))
    factors = _factor_columns(rhs, columns, est)
    new = newdata.loc[:, columns].copy()
    for c in factors:
        seen = pd.Index(est[c].dropna().unique()).astype(object)
        values = new[c].astype(object)
        unseen = values.notna() & ~values.isin(seen)
        if unseen.any():
            level = values[unseen].iloc[0]
            shown = ", ".join(map(str, sorted(seen, key=str)[:10])) + (", ..." if len(seen) > 10 else "")
            raise DataError(Problem(
                f"newdata.{c}", f"{int(unseen.sum())} row(s) of newdata have the level {level!r} of {c!r}, which "
                f"the estimation sample does not have (its levels: {shown}); the model has no coefficient for it.",
                fix="Drop those rows, or map the level to one the model estimated.", code="unseen_level"))
        if isinstance(est[c].dtype, pd.CategoricalDtype):
            new[c] = new[c].astype(est[c].dtype)  # the fit's level order (the reference level) is the data's
    cover = {0}
    for c in factors:  # one estimation row per level: the stacked frame codes every factor as the fit did
        cover.update(np.flatnonzero(~est[c].duplicated().to_numpy()).tolist())
    cover = sorted(cover)
    stacked = pd.concat([est.iloc[cover][columns], new], ignore_index=True)
    design, X, names = _design(rhs, stacked, intercept)
    if names != terms:
        raise DataError(Problem("newdata", f"newdata gives the model columns {names}, not the fit's {terms}: a "
                                "column's type differs from the data fitted (numbers stored as text?).",
                                fix="Give newdata's columns the types of the data fitted.", code="newdata_mismatch"))
    pos = np.asarray(design.rows) - len(cover)
    mine = pos >= 0
    return pos[mine], X[mine]


def _beta(result, terms) -> np.ndarray:
    """The coefficients in the order of ``terms`` (a column lm or fixest dropped as collinear counts 0)."""
    params = result.params
    extra = [t for t in params.index if t not in terms and np.isfinite(params[t])]
    if extra:
        raise UnsupportedError(Problem(
            "predict", f"the model has coefficients its formula does not generate ({', '.join(extra[:5])}), e.g. "
            "effect-modification interactions; predict() rebuilds the design from the formula and cannot place them.",
            fix=_OFFERED + ", without heterogeneity.modifiers.", code="predict_unsupported"))
    return np.array([params[t] if t in params.index and np.isfinite(params[t]) else 0.0 for t in terms])


# --------------------------------------------------------------------------- fixed effects
def _fe_labels(frame: pd.DataFrame, fes) -> pd.DataFrame:
    """One label column per fixed effect; ``a^b`` is labelled ``"a_b"`` as fixest names combined levels."""
    out = {}
    for fe in fes:
        parts = [c.strip() for c in fe.split("^")]
        if len(parts) == 1:
            out[fe] = frame[parts[0]].to_numpy()
        else:
            text = frame[parts[0]].astype(str)
            for p in parts[1:]:
                text = text + "_" + frame[p].astype(str)
            out[fe] = text.to_numpy(dtype=object)
    return pd.DataFrame(out, index=frame.index)


def _fe_sample(result, what: str):
    """The feols estimation sample rebuilt as fit_feols builds it: (its rows of the data, the regressors' formula,
    their names, the coefficients, X b, the fixed-effect values of y - X b)."""
    plan = result.plan
    s = plan.settings
    frame = _estimation_frame(result, what)
    rhs = " + ".join([quote_name(plan.treatment)] + [quote_name(v) for v in s.regressors])
    design = materialize(f"{quote_name(plan.outcome)} ~ {rhs}", frame)
    keep = [i for i, t in enumerate(design.terms) if t != "(Intercept)"]
    X, names = design.X[:, keep], [design.terms[i] for i in keep]
    rows = frame if len(design.rows) == len(frame) else frame.loc[design.rows]
    sample = prepare_sample([design.y, *X.T], _fe_labels(rows, s.fixed_effects), weights_of(plan, rows), s.fixef_rm)
    mask = sample.mask
    X, y = X[mask], design.y[mask]
    beta = _beta(result, names)
    xb = X @ beta
    return (rows if mask.all() else rows[mask]), rhs, names, beta, xb, fixef_values(y - xb, sample.fe, sample.weights)


def _check_fe(result, what: str) -> None:
    if result.plan.estimator not in FE_ESTIMATORS or not hasattr(result.plan.settings, "fixed_effects"):
        if what != "fixef":
            raise _refuse(result, what)
        est = result.plan.estimator
        why = (f"recovering the fixed effects of a {est.value} fit is not implemented in this version"
               if est in _FE_ELSEWHERE else f"this result has no fixed effects (the {est.value} estimator, "
               f"{result.plan.design} design)")
        raise UnsupportedError(Problem("fixef", f"{why}.", fix="fixef() applies to feols and twfe fits (design.type "
                                       "panel, or did with unit and time).", code="no_fixed_effects"))


def fixef(result) -> dict[str, pd.Series]:
    """The fixed-effect values by level, one Series per fixed effect (fixest::fixef(fit))."""
    _data(result, "fixef")
    _check_fe(result, "fixef")
    *_, values = _fe_sample(result, "fixef")
    for note in values.notes:
        warnings.warn(f"fixef(): {note}", UserWarning, stacklevel=3)
    return {name: pd.Series(v, index=pd.Index(levels, name=name), name=name)
            for name, v, levels in zip(values.names, values.values, values.levels)}


def _fe_part(values, newdata: pd.DataFrame, fes) -> np.ndarray:
    """Each new row's sum of fixed effects; NaN where a level was not estimated (counted in one warning)."""
    absent = [c for c in fe_columns(fes) if c not in newdata.columns]
    if absent:
        raise DataError(Problem("newdata", f"newdata has no column {absent[0]!r}, a fixed effect of the model.",
                                fix=f"Add the columns {', '.join(map(repr, absent))} to newdata.", code="column_missing"))
    labels = _fe_labels(newdata, fes)
    total = np.zeros(len(newdata))
    unseen = []
    for name, v, levels in zip(values.names, values.values, values.levels):
        col = labels[name]
        missing = newdata[[c.strip() for c in name.split("^")]].isna().any(axis=1).to_numpy()
        idx = pd.Index(levels).get_indexer(col.to_numpy())
        new = (idx < 0) & ~missing
        if new.any():
            first = col.to_numpy()[new][0]
            first = first.item() if hasattr(first, "item") else first
            unseen.append(f"{int(new.sum())} with a level of {name} the fit did not estimate (e.g. {first!r})")
        total += np.where(idx >= 0, np.take(v, np.maximum(idx, 0)), np.nan)
    if unseen:
        warnings.warn(f"predict(): rows of newdata get NaN: {'; '.join(unseen)} (fixest::predict gives NA too).",
                      UserWarning, stacklevel=3)
    return total


def predict(result, newdata: pd.DataFrame | None = None) -> pd.Series:
    """Fitted values (``newdata=None``, indexed by the estimation rows) or predictions for ``newdata``."""
    est = result.plan.estimator
    if est not in FORMULA_ESTIMATORS | FE_ESTIMATORS:
        raise _refuse(result, "predict")
    _data(result, "predict")
    name = f"{result.plan.outcome} (predicted)"
    if est in FE_ESTIMATORS:
        _check_fe(result, "predict")
        rows, rhs, names, beta, xb, values = _fe_sample(result, "predict")
        if newdata is None:
            return pd.Series(xb + values.sum_fe, index=rows.index, name=name)
        pos, X = _new_matrix(rhs, False, rows, newdata, names)
        out = np.full(len(newdata), np.nan)
        out[pos] = X @ beta
        return pd.Series(out + _fe_part(values, newdata, result.plan.settings.fixed_effects), index=newdata.index,
                         name=name)
    frame = _estimation_frame(result, "predict")
    design = materialize(result.plan.formula, frame)
    terms = list(design.terms)
    beta = _beta(result, terms)
    if newdata is None:
        return pd.Series(design.X @ beta, index=design.rows, name=name)
    rhs = _rhs(result.plan.formula)
    pos, X = _new_matrix(rhs, True, frame.loc[design.rows], newdata, terms)
    out = np.full(len(newdata), np.nan)
    out[pos] = X @ beta
    return pd.Series(out, index=newdata.index, name=name)
