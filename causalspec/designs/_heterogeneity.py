"""Fitting the CATE learner a plan carries (``plan.heterogeneity``), beside the design's average effect.

Reads only :class:`causalspec.planner.HeterogeneityPlan`.  The learner is fitted on the training rows (all rows,
or those outside the holdout) with cross-fitting; it is evaluated out of fold, or on the holdout with nuisance
models fitted there: group effects (doubly robust segment ATEs; GATES, BLP and CLAN by CATE quantile), grf's
RATE (AUTOC, QINI), uplift metrics where the evaluation rows are randomized, and the policy with its cost.
Everything returned is plain data (it goes into ``Result.extras["cate"]``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from causalspec.errors import DataError, Problem
from causalspec.heterogeneity import (ModelChoice, aipw_scores, blp, check_modifiers, clan, crossfit_nuisances,
                                      fit_cate, gates, group_ates, is_constant_proxy, make_folds, policy,
                                      qini_auc_score, qini_curve, rate, require_sklearn, uplift_at_k,
                                      uplift_auc_score, value_curve)
from causalspec.sensitivity._from_data import design_matrix

__all__ = ["fit_heterogeneity", "coded", "cate_for"]


def coded(frame: pd.DataFrame, columns) -> tuple[np.ndarray, list[str]]:
    """Numeric columns as they are, text / true-false columns as R's treatment-contrast dummies."""
    X = design_matrix(frame, list(columns), intercept=False)
    return X.to_numpy(dtype=float), list(X.columns)


def _choice(pair) -> ModelChoice | None:
    return None if pair is None else ModelChoice.of(pair[0], dict(pair[1]))


def _split(hp, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray | None]:
    """Training and holdout masks (holdout None: evaluate out of fold on every row)."""
    n = len(frame)
    if hp.holdout is None:
        return np.ones(n, bool), None
    column, share = hp.holdout
    if column is not None:
        values = pd.to_numeric(frame[column], errors="coerce").to_numpy()
        if not np.isin(values, (0, 1)).all():
            raise DataError(Problem("heterogeneity.holdout.column", f"{column!r} must be 0 (train) or 1 (holdout) "
                                    "in every row.", fix="Recode the column as 0/1.", code="holdout_not_binary"))
        hold = values == 1
    else:
        hold = np.random.default_rng(hp.seed).random(n) < share
    for mask, what in ((~hold, "training"), (hold, "holdout")):
        if mask.sum() < 20:
            raise DataError(Problem("heterogeneity.holdout", f"the {what} part has {int(mask.sum())} rows; the "
                                    "learner needs at least 20 on each side.", fix="Hold out a share between "
                                    "0.2 and 0.5 of the rows.", code="holdout_too_small"))
    return ~hold, hold


def _fit(hp, frame: pd.DataFrame, treatment: str, outcome: str):
    require_sklearn("heterogeneity.learner")
    X, xnames = coded(frame, hp.features)
    Z, znames = coded(frame, hp.modifiers)
    Z = check_modifiers(Z, znames)
    t = frame[treatment].to_numpy(dtype=float)
    y = frame[outcome].to_numpy(dtype=float)
    train, hold = _split(hp, frame)
    known = None if hp.known_propensity is None else np.full(int(train.sum()), hp.known_propensity)
    fit = fit_cate(hp.learner, X[train], Z[train], t[train], y[train], outcome=_choice(hp.outcome_model),
                   propensity=_choice(hp.propensity_model), final=_choice(hp.final_model),
                   folds=make_folds(t[train], hp.folds, hp.seed), seed=hp.seed, known_propensity=known, clip=hp.clip)
    return fit, X, xnames, Z, t, y, train, hold


def cate_for(hp, data: pd.DataFrame, new: pd.DataFrame, treatment: str, outcome: str) -> np.ndarray:
    """The CATE at the rows of ``new``: the learner refitted on ``data`` from the plan's seed (the same fit,
    bit for bit), then predicted.  ``new`` needs the feature and modifier columns."""
    fit = _fit(hp, data, treatment, outcome)[0]
    missing = [c for c in (*hp.features, *hp.modifiers) if c not in new.columns]
    if missing:
        raise DataError(Problem("data", f"the new rows lack {', '.join(map(repr, missing))}, which the CATE model "
                                "reads.", fix="Give every modifier and adjustment column.", code="column_missing"))
    Xn, _ = coded(new, hp.features)
    Zn, _ = coded(new, hp.modifiers)
    return fit.predict(Xn, Zn)


def _row(g) -> dict:
    def plain(v):
        if isinstance(v, (tuple, list, np.ndarray)):
            return [plain(x) for x in v]
        if isinstance(v, (np.integer, int)) and not isinstance(v, bool):
            return int(v)
        return float(v) if isinstance(v, (float, np.floating)) else v
    return {k: plain(v) for k, v in vars(g).items() if not isinstance(v, np.ndarray) or v.ndim <= 1}


def _thin(*curves: np.ndarray, points: int = 201) -> list[list[float]]:
    """At most ``points`` evenly spaced points of curves of one length (first and last kept), for the figures."""
    n = len(curves[0])
    idx = np.unique(np.linspace(0, n - 1, min(points, n)).round().astype(int))
    return [np.asarray(c, float)[idx].tolist() for c in curves]


def fit_heterogeneity(hp, frame: pd.DataFrame, treatment: str, outcome: str) -> dict:
    """The CATE learner's results as plain data, for ``Result.extras["cate"]``."""
    fit, X, xnames, Z, t, y, train, hold = _fit(hp, frame, treatment, outcome)
    notes = list(fit.notes)
    if hold is None:
        rows, cate, scores, e, mu0 = train, fit.cate_oof, fit.scores, fit.nuisances.e, fit.nuisances.mu0
        where = "out of fold, every row"
    else:
        rows, cate = hold, fit.predict(X[hold], Z[hold])
        known = None if hp.known_propensity is None else np.full(int(hold.sum()), hp.known_propensity)
        nu = crossfit_nuisances(X[hold], t[hold], y[hold], _choice(hp.outcome_model), _choice(hp.propensity_model),
                                make_folds(t[hold], hp.folds, hp.seed + 1), hp.seed + 1, known_propensity=known,
                                clip=hp.clip)
        scores, e, mu0 = aipw_scores(nu, t[hold], y[hold]), nu.e, nu.mu0
        where = f"holdout ({int(hold.sum())} rows; the model fitted on the other {int(train.sum())})"
    te, ye = t[rows], y[rows]
    out: dict = {"learner": hp.learner, "evaluated_on": where, "n_train": int(train.sum()), "n_eval": int(rows.sum()),
                 "cate": {"mean": float(cate.mean()), "sd": float(cate.std(ddof=1)),
                          "quantiles": dict(zip(("p10", "p25", "p50", "p75", "p90"),
                                                map(float, np.quantile(cate, (0.1, 0.25, 0.5, 0.75, 0.9))))),
                          "histogram": _histogram(cate)},
                 "ate_dr": _row(group_ates(scores, te, np.zeros(len(te), int), e, level=hp.level)[0][0])}
    out["ate_dr"]["group"] = "all"
    flat = is_constant_proxy(cate)  # nothing to rank by: the rank-based evaluations are not defined
    if flat:
        notes.append(f"the {hp.learner}-learner predicts the same effect for every unit ({float(cate.mean()):.4g}; an "
                     "S-learner with a linear outcome model has no treatment interactions), so GATES, BLP, CLAN, "
                     "RATE and the uplift metrics, which rank units by their predicted effect, are not reported; use "
                     "a learner that lets the effect vary (dr, t, x, r, or a flexible outcome model)")
    segments, first_labels = [], None
    for name, column, k in hp.segments:
        if column is not None:
            labels = frame[column].to_numpy()[rows].astype(str)
            effects, seg_notes = group_ates(scores, te, labels, e, level=hp.level, loc=f"heterogeneity.segments.{name}")
            notes += list(seg_notes)
            segments.append({"name": name, "column": column, "effects": [_row(g) for g in effects]})
            first_labels = labels if first_labels is None else first_labels
        elif flat:
            segments.append({"name": name, "cate_quantiles": k, "not_reported": "the predicted effect is constant"})
        else:
            g_rows, g_all = gates(ye, te, e, cate, mu0, k=k, level=hp.level)
            b = blp(ye, te, e, cate, mu0)
            Xe = X[rows]
            covs = {c: Xe[:, i] for i, c in enumerate(xnames)}  # CLAN: each feature's mean by CATE group
            segments.append({"name": name, "cate_quantiles": k, "gates": [_row(g) for g in g_rows],
                             "gates_difference": _row(g_all), "blp": _row(b), "clan": clan(cate, covs, k=k, level=hp.level)})
    out["segments"] = segments
    out["rate"] = None if flat else {target: _row(rate(scores, cate, target=target, R=hp.rate_bootstrap,
                                                       seed=hp.seed)) for target in ("AUTOC", "QINI")}
    if hp.randomized and not flat:
        out["uplift"] = {"qini_auc_score": float(qini_auc_score(ye, cate, te)),
                         "uplift_auc_score": float(uplift_auc_score(ye, cate, te)),
                         "uplift_at_30pct": float(uplift_at_k(ye, cate, te, strategy="by_group", k=0.3)),
                         "qini_curve": dict(zip(("targeted", "incremental"), _thin(*qini_curve(ye, cate, te))))}
    elif not flat:
        notes.append("uplift curves need randomized evaluation rows (an experiment, or heterogeneity.holdout."
                     "column on a randomized holdout): the doubly robust evaluations (segments, RATE, policy) "
                     "are reported instead")
    if hp.policy is not None:
        p = dict(hp.policy)
        budget = p["budget_share"] if p["budget_share"] is not None else p["budget_count"]
        high = None
        if segments and first_labels is not None and "effects" in segments[0]:
            v = p["value"]
            high = {g["group"]: max(v * g["conf_low"], v * g["conf_high"]) for g in segments[0]["effects"]}
        pol = policy(scores, cate, value=p["value"], cost=p["cost"], can_hurt=p["can_hurt"], budget=budget,
                     segments=first_labels, segment_benefit_high=high, level=hp.level)
        out["policy"] = {"value": p["value"], "cost": p["cost"], "share_treated": float(pol.treat.mean()),
                         "values": [_row(v) for v in pol.values], "gains": [_row(v) for v in pol.gains],
                         "best_share": float(pol.best_share), "best": _row(pol.best_value),
                         "excluded_segments": list(pol.excluded_segments), "warnings": list(pol.warnings),
                         "value_curve": dict(zip(("share", "value", "std_error"),
                                                 _thin(*value_curve(scores, cate, p["value"], p["cost"]))))}
        notes += list(pol.warnings)
    out["notes"] = notes
    out["assumption"] = ("the CATE model adds its own assumptions: overlap at every modifier value, and a correct "
                         "(or flexible enough) outcome and propensity model; the average effect's sensitivity "
                         "bounds do not cover them")
    return out


def _histogram(cate: np.ndarray) -> dict:
    """40 equal bins of the predicted effects; one bin when they are one number up to rounding (numpy cannot cut a
    range of a few ulps into 40 bins)."""
    if is_constant_proxy(cate):
        return {"counts": [len(cate)], "edges": [float(cate.min()), float(cate.max())]}
    counts, edges = np.histogram(cate, 40)
    return {"counts": counts.tolist(), "edges": edges.tolist()}
