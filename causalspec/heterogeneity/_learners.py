"""CATE learners with cross-fitting: DR (doubly robust), T, S, X and R.

Arrays in, a frozen :class:`CateFit` out.  ``X`` is the nuisance feature matrix (adjustment set and modifiers);
``Z`` the modifiers the DR- and R-learners' final stage is a function of (the CATE is projected onto them).  The
nuisances (outcome model per arm, propensity, and for the R-learner E[Y | X]) are fitted K-fold out of fold, on
folds stratified by treatment and drawn from the seed, or on folds the caller gives.

Matches, given the same nuisance models and folds:

* DR: ``econml.dr.DRLearner`` (Kennedy 2023, "Towards optimal doubly robust estimation of heterogeneous causal
  effects") -- pseudo-outcome ``mu1 - mu0 + t (y - mu1) / e - (1 - t)(y - mu0) / (1 - e)`` on out-of-fold
  nuisances, clipped scores, final model on all rows (EconML's outcome model takes the treatment as a feature;
  ours fits one model per arm, which EconML reproduces with an arm-wise regression, see
  tools/reference/build_hte_cases.py);
* T, S, X: ``causalml.inference.meta.BaseTRegressor / BaseSRegressor / BaseXRegressor`` and EconML's
  ``TLearner / SLearner / XLearner`` (Kuenzel et al. 2019, PNAS), fitted on all rows as those packages do;
* R: ``causalml.inference.meta.BaseRRegressor`` given the propensity (Nie & Wager 2021, Biometrika).

Every learner also returns ``cate_oof`` (each unit's CATE from models fitted without its fold: use it for group
effects, uplift curves and policy evaluation, which need predictions the unit's outcome did not shape) and the
AIPW scores, the doubly robust building block of every evaluation downstream.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Callable, Literal

import numpy as np

from causalspec.errors import DataError, EstimationError, Problem
from causalspec.heterogeneity._models import ModelChoice, make_classifier, make_regressor

__all__ = ["Nuisances", "CateFit", "check_binary", "check_modifiers", "make_folds", "crossfit_nuisances", "aipw_scores", "fit_cate", "LEARNERS"]

LEARNERS = ("dr", "t", "s", "x", "r")
Learner = Literal["dr", "t", "s", "x", "r"]


@dataclass(frozen=True)
class Nuisances:
    """Out-of-fold nuisance predictions: outcome under control / treatment, propensity (clipped) and E[Y | X]."""

    mu0: np.ndarray
    mu1: np.ndarray
    e: np.ndarray
    m: np.ndarray | None
    folds: np.ndarray
    clipped: int


@dataclass(frozen=True)
class CateFit:
    """A fitted CATE learner: in-sample and out-of-fold CATEs, AIPW scores, and a predictor for new rows."""

    learner: str
    cate: np.ndarray
    cate_oof: np.ndarray
    scores: np.ndarray
    nuisances: Nuisances
    notes: tuple[str, ...]
    predictor: Callable[[np.ndarray, np.ndarray], np.ndarray] = field(repr=False, compare=False)

    def predict(self, X: np.ndarray, Z: np.ndarray | None = None) -> np.ndarray:
        """The CATE at new rows (``X`` nuisance features, ``Z`` modifiers, same columns as in the fit)."""
        X = np.asarray(X, float)
        return self.predictor(X, X if Z is None else np.asarray(Z, float))


def check_binary(t: np.ndarray, loc: str = "treatment") -> np.ndarray:
    values = np.unique(t[~np.isnan(t)]) if t.dtype.kind == "f" else np.unique(t)
    if not set(values.tolist()) <= {0, 1} or len(values) != 2:
        raise DataError(Problem(loc, f"heterogeneous effects need a binary 0/1 treatment; it takes the values "
                                f"{values[:6].tolist()}{' ...' if len(values) > 6 else ''}.",
                                fix="Recode the treatment as 0/1 (one arm against control).", code="treatment_not_binary"))
    return t.astype(float)


def check_modifiers(Z: np.ndarray, names, loc: str = "heterogeneity.modifiers") -> np.ndarray:
    """The modifier matrix, refused column by column when a modifier is constant or not finite."""
    Z = np.asarray(Z, float)
    problems = []
    for i, name in enumerate(names):
        col = Z[:, i]
        if not np.all(np.isfinite(col)):
            problems.append(Problem(f"{loc}[{i}]", f"the modifier {name!r} has missing or infinite values.",
                                    fix="Drop or impute those rows first.", code="modifier_missing"))
        elif np.ptp(col) == 0:
            problems.append(Problem(f"{loc}[{i}]", f"the modifier {name!r} takes one value in these data, so the "
                                    "effect cannot vary with it.", fix=f"Remove {name!r} from the modifiers.",
                                    code="modifier_degenerate"))
    if problems:
        raise DataError(problems)
    return Z


def make_folds(t: np.ndarray, k: int, seed: int) -> np.ndarray:
    """Fold ids 0..k-1, stratified by treatment: each arm is shuffled (numpy Generator from ``seed``) and dealt
    round-robin, so every fold holds both arms in the sample's proportion."""
    t = np.asarray(t)
    small = min(int((t == 1).sum()), int((t == 0).sum()))
    if small < 2 * k:
        raise DataError(Problem("heterogeneity.folds", f"{k}-fold cross-fitting needs at least {2 * k} units in "
                                f"each arm; the smaller arm has {small}.", fix="Use fewer folds or more data.",
                                code="folds_too_many"))
    rng = np.random.default_rng(seed)
    folds = np.empty(len(t), dtype=np.int64)
    for arm in (0, 1):
        idx = np.flatnonzero(t == arm)
        folds[rng.permutation(idx)] = np.arange(len(idx)) % k
    return folds


def _fit(model, X, y, loc: str, weight=None):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # convergence chatter: the fit is checked for finiteness below
            return model.fit(X, y) if weight is None else model.fit(X, y, sample_weight=weight)
    except (ValueError, np.linalg.LinAlgError) as exc:
        raise EstimationError(Problem(loc, f"the model could not be fitted ({type(exc).__name__}: "
                                      f"{str(exc).splitlines()[0][:200]}).", fix="Check the model's parameters "
                                      "and that the data have variation in every fold.", code="model_fit_failed")) from None


def _outcome(choice: ModelChoice, seed: int, loc: str):
    if choice.name == "logistic":
        model = make_classifier(choice, seed, loc)
        return model, lambda fitted, X: fitted.predict_proba(X)[:, 1]
    return make_regressor(choice, seed, loc), lambda fitted, X: fitted.predict(X)


def _finite(values: np.ndarray, loc: str) -> np.ndarray:
    if not np.all(np.isfinite(values)):
        raise EstimationError(Problem(loc, "the model's predictions are not all finite.",
                                      fix="Regularise the model (ridge / lasso) or drop collinear columns.",
                                      code="model_not_finite"))
    return values


def crossfit_nuisances(X, t, y, outcome: ModelChoice, propensity: ModelChoice | None, folds: np.ndarray,
                       seed: int, *, known_propensity: np.ndarray | None = None, clip: float = 0.01,
                       with_m: bool = False) -> Nuisances:
    """Out-of-fold mu0(X), mu1(X), e(X) (clipped to [clip, 1 - clip]) and, for the R-learner, m(X) = E[Y | X]."""
    n = len(y)
    mu0, mu1, e = np.empty(n), np.empty(n), np.empty(n)
    m = np.empty(n) if with_m else None
    rng = np.random.default_rng(seed)
    for k in np.unique(folds):
        test, train = folds == k, folds != k
        s = int(rng.integers(2**31 - 1))
        for arm, out in ((0.0, mu0), (1.0, mu1)):
            sel = train & (t == arm)
            model, pred = _outcome(outcome, s, "heterogeneity.outcome_model")
            out[test] = pred(_fit(model, X[sel], y[sel], "heterogeneity.outcome_model"), X[test])
        if with_m:
            model, pred = _outcome(outcome, s, "heterogeneity.outcome_model")
            m[test] = pred(_fit(model, X[train], y[train], "heterogeneity.outcome_model"), X[test])
        if known_propensity is None:
            clf = _fit(make_classifier(propensity, s, "heterogeneity.propensity_model"), X[train], t[train],
                       "heterogeneity.propensity_model")
            e[test] = clf.predict_proba(X[test])[:, 1]
    if known_propensity is not None:
        e = np.asarray(known_propensity, float).copy()
    for name, arr in (("outcome_model", mu0), ("outcome_model", mu1), ("propensity_model", e)):
        _finite(arr, f"heterogeneity.{name}")
    clipped = int(((e < clip) | (e > 1 - clip)).sum())
    return Nuisances(mu0, mu1, np.clip(e, clip, 1 - clip), m, folds, clipped)


def aipw_scores(nu: Nuisances, t: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The AIPW (doubly robust) score of each unit's effect: its mean is the AIPW ATE (Robins et al. 1994)."""
    return (nu.mu1 + t * (y - nu.mu1) / nu.e) - (nu.mu0 + (1 - t) * (y - nu.mu0) / (1 - nu.e))


def _oof(folds, fit_predict) -> np.ndarray:
    out = np.empty(len(folds))
    for k in np.unique(folds):
        out[folds == k] = fit_predict(folds != k, folds == k)
    return out


def fit_cate(learner: Learner, X, Z, t, y, *, outcome: ModelChoice, propensity: ModelChoice | None,
             final: ModelChoice, folds: np.ndarray, seed: int, known_propensity: np.ndarray | None = None,
             clip: float = 0.01, s_onehot: bool = False) -> CateFit:
    """Fit one learner.  ``X`` (n, p) nuisance features, ``Z`` (n, q) modifiers, ``t`` 0/1, ``y`` outcome.

    ``s_onehot``: the S-learner codes the treatment as the two columns (1 - t, t), as EconML's SLearner does,
    instead of one column t (CausalML's BaseSRegressor); the two differ under a penalised model."""
    X, Z, y = np.asarray(X, float), np.asarray(Z, float), np.asarray(y, float)
    t = check_binary(np.asarray(t, float))
    if known_propensity is None and propensity is None:
        raise DataError(Problem("heterogeneity.propensity_model", "no propensity model and no known propensity.",
                                fix="Name a propensity model.", code="propensity_missing"))
    nu = crossfit_nuisances(X, t, y, outcome, propensity, folds, seed, known_propensity=known_propensity,
                            clip=clip, with_m=learner == "r")
    scores = aipw_scores(nu, t, y)
    s = int(np.random.default_rng(seed).integers(2**31 - 1, size=2)[1])
    notes = [f"{learner}-learner: outcome {outcome.describe()}, propensity "
             f"{'known' if known_propensity is not None else propensity.describe()}, final {final.describe()}, "
             f"{len(np.unique(folds))}-fold cross-fitting"]
    if nu.clipped:
        notes.append(f"{nu.clipped} propensity scores clipped to [{clip}, {1 - clip}]")
    loc = "heterogeneity.final_model"

    def final_fit(target, rows, weight=None):
        return _fit(make_regressor(final, s, loc), Z[rows], target[rows], loc,
                    None if weight is None else weight[rows])

    every = np.ones(len(y), bool)
    if learner in ("dr", "r"):
        if learner == "dr":
            target, weight = scores, None
        else:
            resid_t = t - nu.e
            target, weight = (y - nu.m) / resid_t, resid_t ** 2
        model = final_fit(target, every, weight)
        cate = _finite(model.predict(Z), loc)
        cate_oof = _oof(folds, lambda tr, te: final_fit(target, tr, weight).predict(Z[te]))
        predictor = lambda Xn, Zn: model.predict(Zn)  # noqa: E731
    elif learner == "t":
        fitted = []
        for arm in (0.0, 1.0):
            mdl, pred = _outcome(outcome, s, "heterogeneity.outcome_model")
            fitted.append((_fit(mdl, X[t == arm], y[t == arm], "heterogeneity.outcome_model"), pred))
        predictor = lambda Xn, Zn: fitted[1][1](fitted[1][0], Xn) - fitted[0][1](fitted[0][0], Xn)  # noqa: E731
        cate, cate_oof = predictor(X, Z), nu.mu1 - nu.mu0
    elif learner == "s":
        def s_design(Xn, tn):
            return np.column_stack([Xn, 1 - tn, tn] if s_onehot else [Xn, tn])

        def s_fit(rows):
            mdl, pred = _outcome(outcome, s, "heterogeneity.outcome_model")
            return _fit(mdl, s_design(X[rows], t[rows]), y[rows], "heterogeneity.outcome_model"), pred

        def s_effect(fp, Xn):
            ones, zeros = np.ones(len(Xn)), np.zeros(len(Xn))
            return fp[1](fp[0], s_design(Xn, ones)) - fp[1](fp[0], s_design(Xn, zeros))

        full = s_fit(every)
        predictor = lambda Xn, Zn: s_effect(full, Xn)  # noqa: E731
        cate = predictor(X, Z)
        cate_oof = _oof(folds, lambda tr, te: s_effect(s_fit(tr), X[te]))
    else:  # x
        predictor, cate, cate_oof = _x_learner(X, t, y, outcome, propensity, final, folds, s, known_propensity,
                                               clip)
    return CateFit(learner, _finite(np.asarray(cate, float), loc), _finite(np.asarray(cate_oof, float), loc),
                   scores, nu, tuple(notes), predictor)


def _x_learner(X, t, y, outcome, propensity, final, folds, seed, known, clip):
    """Kuenzel et al. (2019): imputed effects D1 = y - mu0(X) on the treated, D0 = mu1(X) - y on the controls,
    one effect model per arm, combined as e(X) tau0(X) + (1 - e(X)) tau1(X) with e from a propensity model fitted
    on the same rows (EconML's XLearner) or the known propensity."""
    out_loc, fin_loc = "heterogeneity.outcome_model", "heterogeneity.final_model"

    def fit_on(rows):
        arms = []
        for arm in (0.0, 1.0):
            mdl, pred = _outcome(outcome, seed, out_loc)
            sel = rows & (t == arm)
            arms.append((_fit(mdl, X[sel], y[sel], out_loc), pred))
        (f0, p0), (f1, p1) = arms
        tr, co = rows & (t == 1), rows & (t == 0)
        tau1 = _fit(make_regressor(final, seed, fin_loc), X[tr], y[tr] - p0(f0, X[tr]), fin_loc)
        tau0 = _fit(make_regressor(final, seed, fin_loc), X[co], p1(f1, X[co]) - y[co], fin_loc)
        clf = None if known is not None else _fit(make_classifier(propensity, seed, "heterogeneity.propensity_model"),
                                                  X[rows], t[rows], "heterogeneity.propensity_model")

        def predict(Xn, Zn, e=None):
            if e is None:
                e = np.full(len(Xn), float(np.mean(known))) if clf is None else clf.predict_proba(Xn)[:, 1]
            e = np.clip(e, clip, 1 - clip)
            return e * tau0.predict(Xn) + (1 - e) * tau1.predict(Xn)
        return predict

    full = fit_on(np.ones(len(y), bool))
    e_known = None if known is None else np.asarray(known, float)
    oof = _oof(folds, lambda tr, te: fit_on(tr)(X[te], None, None if e_known is None else e_known[te]))
    # new rows of a known-propensity design get the mean propensity (constant in a randomized experiment)
    return full, full(X, None, e_known), oof
