"""The observational design's treatment-effect estimators through :mod:`causalspec.estimators._teffects`:
RA, IPW, IPW-RA, AIPW and AIPW-WLS as Stata's ``teffects`` computes them.

The outcome model is ``outcome ~ outcome terms`` (``design.outcome_model``, else the adjustment set linearly),
fitted in each arm; the propensity model is the plan's (``design.propensity_model``: terms and link), fitted to
the exact maximum.  Columns that are collinear in the pooled sample are dropped as ``lm`` / ``glm`` drop them
(said in the notes); the rows are those both models can use.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from causalspec.designs._common import estimate as _estimate
from causalspec.errors import DataError, EstimationError, Problem
from causalspec.estimators._linear import r_pivot
from causalspec.estimators._ipw_ht import ht_fixed_se, ipw_horvitz_thompson
from causalspec.estimators._teffects import stata_table, teffects, weights_fixed_se
from causalspec.formula import materialize
from causalspec.planner import Estimator

__all__ = ["METHODS", "fit_teffects", "teffects_extras"]

METHODS = {Estimator.RA: "RA", Estimator.IPW: "IPW", Estimator.IPW_RA: "IPW-RA", Estimator.AIPW: "AIPW",
           Estimator.AIPW_WLS: "AIPW-WLS"}
_OUTCOME = (Estimator.RA, Estimator.IPW_RA, Estimator.AIPW, Estimator.AIPW_WLS)
_PROPENSITY = (Estimator.IPW, Estimator.IPW_RA, Estimator.AIPW, Estimator.AIPW_WLS)


def _full_rank(design) -> tuple[np.ndarray, list[str]]:
    """The design's columns without those R's pivoted QR would alias (lm's and glm's NA coefficients)."""
    X = np.asarray(design.X, dtype=float)
    piv, rank = r_pivot(X, 1e-7)
    keep = sorted(int(i) for i in piv[:rank])
    return X[:, keep], [design.terms[i] for i in keep]


def fit_teffects(plan, frame: pd.DataFrame):
    """(kernel fit, result rows, their covariance, rows used, rows dropped) for the plan's estimator."""
    s = plan.settings
    method = METHODS[plan.estimator]
    designs = {}
    if plan.estimator in _OUTCOME:
        designs["outcome"] = materialize(s.outcome_formula, frame)
    if plan.estimator in _PROPENSITY:
        designs["propensity"] = materialize(s.propensity.propensity_formula, frame)
    rows = frame.index
    for d in designs.values():
        rows = rows.intersection(d.rows, sort=False)
    dropped = ((f"missing values produced by a model term ({', '.join(designs)} model)", len(frame) - len(rows)),) \
        if len(rows) < len(frame) else ()
    used = frame.loc[rows]
    mats, names = {}, {}
    for key, d in designs.items():
        sub = d if len(d.rows) == len(rows) else materialize(d.formula or (
            s.outcome_formula if key == "outcome" else s.propensity.propensity_formula), used)
        mats[key], names[key] = _full_rank(sub)
    y = used[plan.outcome].to_numpy(float)
    t = used[plan.treatment].to_numpy(float)
    link = s.propensity.link if s.propensity is not None else "logit"
    ht = getattr(s, "ipw_weights", None) == "horvitz_thompson"
    try:
        if ht:  # design.ipw.weights: horvitz_thompson
            tf = ipw_horvitz_thompson(y, t, mats["propensity"], estimand=plan.estimand, link=link,
                                      propensity_names=names.get("propensity"))
        else:
            tf = teffects(y, t, mats.get("outcome"), mats.get("propensity"), method=method, estimand=plan.estimand,
                          link=link, outcome_names=names.get("outcome"), propensity_names=names.get("propensity"))
    except (DataError, EstimationError) as exc:
        raise EstimationError(Problem(
            "design.outcome_model" if "outcome" in str(exc).lower() or "Xo" in str(exc) else "design.estimator",
            f"{method} cannot be fitted on these data: {exc}", fix="Check that each arm has enough units for the "
            "outcome model's terms (it is fitted in each arm), or simplify the terms.",
            code="teffects_failed")) from None
    vc = plan.vcov
    if vc.kind in ("HC0", "HC1", "HC2", "HC3"):  # IPW with the weights held fixed (planned for IPW only)
        fixed = (ht_fixed_se(y, t, tf.propensity.score, tf.estimand, vc.kind) if ht
                 else weights_fixed_se(y, t, tf.weights.normalized, vc.kind))
        # all three rows under the weights-fixed rule, jointly: (effect, POmean:0, POmean:1) from the two means
        P = np.array([[-1.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
        V = P @ fixed.po_vcov @ P.T
    else:  # the effect, then both potential-outcome means: POmean:1 = effect + POmean:0
        L = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
        V = L @ np.asarray(tf.vcov[:2, :2], dtype=float) @ L.T
    values = (tf.estimate, tf.po_means[0], tf.po_means[1])
    labels = (plan.treatment, "POmean:0", "POmean:1")
    out = tuple(_estimate(lab, float(v), float(np.sqrt(V[i, i])) if np.isfinite(V[i, i]) else float("nan"),
                          vc.level) for i, (lab, v) in enumerate(zip(labels, values)))
    return tf, out, V, used, dropped


def teffects_extras(tf, used: pd.DataFrame, plan) -> dict:
    """What Stata's ``teffects`` prints and what the weights are, as JSON."""
    out = {"teffects": {"method": tf.method, "estimand": tf.estimand, "table": stata_table(tf, plan.vcov.level),
                        "variance": tf.vcov_method},
           "po_means": {str(a): {"estimate": tf.po_means[a], "std_error": tf.po_std_errors[a]} for a in (0, 1)}}
    if tf.method == "IPW":
        out["teffects"]["weights"] = getattr(plan.settings, "ipw_weights", None) or "normalized"
    if tf.weights is not None:
        w = tf.weights
        t = used[plan.treatment].to_numpy(float) == 1
        summary = {}
        for arm, sel in (("treated", t), ("control", ~t)):
            u = w.unnormalized[sel]
            summary[arm] = {"n": int(sel.sum()), "sum": float(u.sum()), "min": float(u.min()), "max": float(u.max()),
                            "effective_n": float(u.sum() ** 2 / np.sum(u ** 2)) if np.sum(u ** 2) > 0 else 0.0}
        out["ipw_weights"] = {"estimand": w.estimand, "summary": summary,
                              "rows": [r.item() if hasattr(r, "item") else r for r in used.index],
                              "normalized": w.normalized.tolist(), "unnormalized": w.unnormalized.tolist(),
                              "stabilized": w.stabilized.tolist(), "propensity": tf.propensity.score.tolist()}
    return out
