"""Fitting the weighting estimators of the observational design: IPW and AIPW (also with cross-fitted
scikit-learn learners), and the helpers the matching fitter (:mod:`.matching`) shares.  The planner records the propensity model's formula,
``treatment ~ adjustment set + covariates``, in ``plan.settings.propensity``."""

from __future__ import annotations

import importlib
import math

import numpy as np
import pandas as pd

from causalspec.designs._common import estimate as _estimate
from causalspec.designs._family import Fit
from causalspec.errors import DataError, EstimationError, Problem, UnsupportedError
from causalspec.estimators._experiment import difference_in_means
from causalspec.estimators._propensity import crump_trim, fit_propensity, overlap
from causalspec.estimators._weighted_balance import cobalt_covariates, weighted_balance
from causalspec.formula import materialize
from causalspec.designs.observational.teffects import fit_teffects, teffects_extras

__all__ = ["fit_weighting", "naive_contrast", "binary_treatment", "histogram", "overlap_warnings"]

def binary_treatment(plan, frame: pd.DataFrame) -> None:
    values = set(pd.unique(frame[plan.treatment].dropna()))
    if not values <= {0, 1, True, False} or len(values) < 2:
        raise DataError(Problem("treatment", f"{plan.estimator.value} needs a binary 0/1 treatment; "
                                f"{plan.treatment!r} takes the values {sorted(map(str, values))[:5]}.",
                                fix="Recode the treatment as 0/1, or use design.estimator ols.",
                                code="treatment_not_binary"))


def naive_contrast(plan, frame: pd.DataFrame, level: float):
    """The difference in means (Welch), treated minus control, on the same rows."""

    res = difference_in_means(frame[plan.outcome].to_numpy(float), frame[plan.treatment].to_numpy(float),
                              level=level, term=plan.treatment)
    r = res.table.iloc[0]
    return _estimate(plan.treatment, float(r["estimate"]), float(r["std_error"]), level,
                     float(r["df"]) if "df" in res.table else math.inf)


def overlap_warnings(ov, score) -> tuple[str, ...]:
    out = []
    n_out = sum(ov.outside_support.values())
    if n_out > 0.01 * len(score):  # a handful at the edges is normal; more than 1% is not
        out.append(f"poor overlap: {n_out} units have propensity scores outside the common support "
                   f"[{ov.support_low:.3g}, {ov.support_high:.3g}]; consider design.trim: crump.")
    if score.min() < 0.01 or score.max() > 0.99:
        out.append(f"extreme propensity scores (range {score.min():.3g} to {score.max():.3g}): weights are "
                   "unstable; consider design.trim: crump.")
    return tuple(out)


def fit_weighting(plan, frame: pd.DataFrame) -> Fit:
    """The treatment-effect estimators of Stata's ``teffects``: RA, IPW, IPW-RA, AIPW and AIPW-WLS
    (:mod:`.teffects`), with the propensity model of the spec (terms, link), overlap diagnostics and
    ``trim: crump`` (Crump et al. 2009's overlap region) first; AIPW with a scikit-learn learner is cross-fitted.
    """
    vc = plan.vcov

    binary_treatment(plan, frame)
    s = plan.settings
    if s.learner:
        return _crossfit_aipw(plan, frame, vc)
    model = fit_propensity(s.propensity.propensity_formula, frame, link=s.propensity.link)
    dropped = tuple(model.dropped.items())
    extras = {}
    used = frame.loc[model.index]
    if s.trim == "crump":
        trim = crump_trim(model.score, model.treat)
        if trim.keep.all() and (model.score.min() < 1e-8 or model.score.max() > 1 - 1e-8):
            raise EstimationError(Problem(
                "design.trim", "the propensity model separates treated from control units (fitted probabilities "
                "numerically 0 or 1, as R's glm warns), so Crump et al.'s rule finds no overlap region and would "
                "trim nothing: there are units no comparison can speak for.",
                fix="Check the adjustment set for a variable that determines the treatment; without overlap the "
                    "effect is not estimable by weighting.", code="propensity_separation"))
        if not trim.keep.all():
            used = used.loc[trim.keep]
            dropped += ((f"outside Crump et al. (2009) overlap region [{trim.alpha:.3g}, {1 - trim.alpha:.3g}]",
                         int((~trim.keep).sum())),)
            model = fit_propensity(s.propensity.propensity_formula, used, link=s.propensity.link)
        extras["trimming"] = {"rule": trim.rule, "alpha": trim.alpha, "dropped": trim.dropped}
    ov = overlap(model.score, model.treat)
    extras["propensity_histogram"] = histogram(model.score, model.treat)
    tf, rows, V, used, more = fit_teffects(plan, used)
    dropped += more
    extras.update(teffects_extras(tf, used, plan))
    if tf.weights is not None:  # balance before and after weighting, as cobalt::bal.tab (the love plot reads it)
        bal = weighted_balance(cobalt_covariates(s.propensity.propensity_formula, used),
                               used[plan.treatment].to_numpy(float), tf.weights.unnormalized,
                               estimand=tf.estimand, score=tf.propensity.score)
        extras.update(bal.extras())
    coefs = model.coef_dict()
    if tf.propensity is not None and len(tf.propensity.coef) == len(coefs):  # the model the estimate uses
        coefs = dict(zip(coefs, map(float, tf.propensity.coef)))
    extras.update({"propensity_model": coefs, "propensity_table": model.coef_table(),
                   "propensity_fit": "propensity_model: the maximum likelihood the estimate uses (Newton to 1e-13 "
                   "from glm's IRLS; its SEs are the TME rows of teffects.table); propensity_table: summary(glm()), "
                   "whose IRLS stops at glm's deviance rule (up to ~1e-4 relative away for probit and cloglog)",
                   "propensity_link": model.link, "overlap": {
        "treated": ov.treated, "control": ov.control, "support": [ov.support_low, ov.support_high],
        "outside_support": ov.outside_support}, "variance": vc.r_equivalent})
    y = used[plan.outcome].to_numpy(float)
    return Fit(rows[0], naive_contrast(plan, used, vc.level), rows, tuple(r.term for r in rows), V,
               int(tf.nobs), dropped, tuple(model.notes),
               (("propensity_converged", float(model.converged)),), extras=extras,
               warnings=overlap_warnings(ov, model.score), outcome_sd=float(np.std(y, ddof=1)))


def histogram(score: np.ndarray, treat: np.ndarray, weights: np.ndarray | None = None, bins: int = 25) -> dict:
    """Propensity-score histograms by group on [0, 1] (JSON) for the overlap plot; weighted counts after matching."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    t = np.asarray(treat).astype(bool)
    out = {"edges": edges.tolist(), "treated": np.histogram(score[t], edges)[0].tolist(),
           "control": np.histogram(score[~t], edges)[0].tolist()}
    if weights is not None:
        out["treated_matched"] = np.histogram(score[t], edges, weights=weights[t])[0].tolist()
        out["control_matched"] = np.histogram(score[~t], edges, weights=weights[~t])[0].tolist()
    return out


_LEARNERS = {
    "gradient_boosting": ("sklearn.ensemble", "HistGradientBoostingRegressor", "HistGradientBoostingClassifier"),
    "random_forest": ("sklearn.ensemble", "RandomForestRegressor", "RandomForestClassifier"),
}


def _crossfit_aipw(plan, frame: pd.DataFrame, vc) -> Fit:
    """AIPW with scikit-learn nuisance models and K-fold cross-fitting (Chernozhukov et al. 2018).

    Each unit's outcome predictions (under treatment and control) and propensity score come from models fitted
    on the other folds; folds are drawn from the spec's seed.  Scores are clipped to [0.01, 0.99] (counted in
    the notes).  The SE is that of the efficient influence function, SD / sqrt(n).
    """


    s = plan.settings
    try:
        module = importlib.import_module(_LEARNERS[s.learner][0])
    except ImportError:
        raise UnsupportedError(Problem(
            "design.learner", f"the {s.learner} learner needs scikit-learn, which is not installed.",
            fix="pip install scikit-learn (causalspec's ml extra: pip install '.[ml]' in a causalspec checkout), "
                "or use learner glm.", code="sklearn_missing")) from None
    reg_cls, clf_cls = (getattr(module, name) for name in _LEARNERS[s.learner][1:])
    design = materialize(s.propensity.propensity_formula, frame)
    used = frame.loc[design.rows]
    X = np.asarray(design.X[:, [i for i, t in enumerate(design.terms) if t != "(Intercept)"]], dtype=float)
    t = used[plan.treatment].to_numpy(float)
    y = used[plan.outcome].to_numpy(float)
    n = len(y)
    rng = np.random.default_rng(plan.seed)
    fold = rng.permutation(np.arange(n) % int(s.folds))
    mu1, mu0, e = np.empty(n), np.empty(n), np.empty(n)
    for k in range(int(s.folds)):
        test, train = fold == k, fold != k
        seed = int(rng.integers(2**31 - 1))
        clf = clf_cls(random_state=seed).fit(X[train], t[train])
        e[test] = clf.predict_proba(X[test])[:, 1]
        for arm, out in ((1.0, mu1), (0.0, mu0)):
            sel = train & (t == arm)
            out[test] = reg_cls(random_state=seed).fit(X[sel], y[sel]).predict(X[test])
    clipped = int(((e < 0.01) | (e > 0.99)).sum())
    e = np.clip(e, 0.01, 0.99)
    phi = mu1 - mu0 + t * (y - mu1) / e - (1 - t) * (y - mu0) / (1 - e)
    est = float(phi.mean())
    se = float(phi.std(ddof=1) / np.sqrt(n))
    effect = _estimate(plan.treatment, est, se, vc.level)
    notes = (f"aipw with {s.learner} nuisance models, {s.folds}-fold cross-fitting (folds from seed "
             f"{plan.seed})",) + ((f"{clipped} propensity scores clipped to [0.01, 0.99]",) if clipped else ())
    ov = overlap(e, t)
    extras = {"learner": s.learner, "folds": int(s.folds), "overlap": {
        "treated": ov.treated, "control": ov.control, "support": [ov.support_low, ov.support_high],
        "outside_support": ov.outside_support}, "propensity_histogram": histogram(e, t)}
    return Fit(effect, naive_contrast(plan, used, vc.level), (effect,), (plan.treatment,), [[se ** 2]], n,
                     tuple(design.dropped.items()), notes, (), extras=extras,
                     warnings=overlap_warnings(ov, e), outcome_sd=float(np.std(y, ddof=1)))

