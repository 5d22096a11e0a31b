"""Fitting matching (MatchIt) in the observational design: the matched sample, the effect by weighted regression
on the matched data, the propensity model, balance before and after, and what matching left out."""

from __future__ import annotations

import numpy as np
import pandas as pd

from causalspec.designs._common import estimate as _estimate
from causalspec.designs._family import Fit
from causalspec.designs.observational.propensity import binary_treatment, histogram, naive_contrast
from causalspec.estimators._matched_effect import matched_effect
from causalspec.estimators._matching import (
    Matching,
    distance_summaries,
    fit_score,
    match_nearest,
    matchit_model_table,
)
from causalspec.estimators._propensity import overlap
from causalspec.estimators._optimal import match_full, match_optimal
from causalspec.estimators._subclassify import match_cem, match_exact, match_subclass

__all__ = ["fit_matching", "BAD_BALANCE", "match", "balance_records"]

# |SMD| after matching above which the matched groups are not comparable (Stuart 2010's 0.25 rule of thumb);
# 0.1 to 0.25 is reported as a warning.
BAD_BALANCE = 0.25
_DISTANCE = {"propensity": "glm", "logit": "linear.logit", "mahalanobis": "mahalanobis"}
_REMEDY = {"nearest": "Match with replacement (design.matching.replace: true), use a caliper, or use design.estimator "
                      "ipw or aipw.",
           "subclass": "Use more subclasses (design.matching.subclasses), design.matching.method cem or nearest, or "
                       "design.estimator ipw or aipw.",
           "cem": "Coarsen less (design.matching.cutpoints), or use design.estimator ipw or aipw.",
           "exact": "Use design.matching.method cem or nearest, or design.estimator ipw or aipw.",
           "optimal": "Use design.matching.method full (every unit kept), exact strata, or design.estimator ipw or "
                      "aipw.",
           "full": "Match on the logit (design.matching.distance: logit), add exact strata, or use design.estimator "
                   "ipw or aipw."}


def balance_records(table: pd.DataFrame) -> list[dict]:
    """A MatchIt balance table as JSON records, the covariate named in each (``summary(m)$sum.all``)."""
    rename = {"Means Treated": "mean_treated", "Means Control": "mean_control", "Std. Mean Diff.": "smd",
              "Mean Diff.": "mean_diff", "Var. Ratio": "var_ratio", "eCDF Mean": "ecdf_mean", "eCDF Max": "ecdf_max",
              "Std. Pair Dist.": "std_pair_dist"}
    rows = []
    for name, r in table.iterrows():
        rows.append({"covariate": str(name), **{rename.get(k, k): (None if pd.isna(v) else float(v))
                                                for k, v in r.items()}})
    return rows


def match(plan, data: pd.DataFrame) -> Matching:
    """The matched sample the plan asks for: ``matchit(formula, method, distance, ...)`` on the analysed rows."""
    s = plan.settings
    ms, formula, link = s.matching, s.propensity.propensity_formula, s.propensity.link
    if ms.method == "exact":
        return match_exact(formula, data, estimand=plan.estimand)
    if ms.method == "cem":
        return match_cem(formula, data, estimand=plan.estimand, cutpoints=dict(ms.cutpoints or ()))
    if ms.method == "optimal":
        return match_optimal(formula, data, ratio=ms.ratio, distance=_DISTANCE[ms.distance], estimand=plan.estimand,
                             exact=tuple(ms.exact or ()), link=link)
    if ms.method == "full":
        return match_full(formula, data, distance=_DISTANCE[ms.distance], estimand=plan.estimand,
                          exact=tuple(ms.exact or ()), link=link)
    if ms.method == "subclass":
        return match_subclass(formula, data, estimand=plan.estimand, subclasses=ms.subclasses,
                              distance=_DISTANCE[ms.distance], link=link)
    return match_nearest(formula, data, ratio=ms.ratio, replace=ms.replace, caliper=ms.caliper,
                         algorithm=ms.algorithm or "matchit-4.5.1", distance=_DISTANCE[ms.distance],
                         estimand=plan.estimand, exact=tuple(ms.exact or ()), link=link)


def _propensity_extras(m: Matching, ps) -> dict:
    """The propensity model (``summary(m$model)``: quasibinomial, R's term names) and the distance ``summary()``
    by arm.  Methods that match on covariates fit no model in MatchIt; the same glm is then a diagnostic."""
    used = m.distance_kind in ("glm", "linear.logit")
    out = {"propensity_model": ps.coef_dict(), "propensity_table": matchit_model_table(ps), "propensity_link": ps.link,
           "propensity_family": "quasibinomial (MatchIt's distance2glm: SEs with the estimated dispersion, t tests)",
           "propensity_used_for_matching": used}
    ds = distance_summaries(m)
    out["distance_summary"] = ds if ds is not None else {
        "not_applicable": f"method {m.method}" + (" with the Mahalanobis distance" if m.distance_kind == "mahalanobis"
                                                  else "") + " matches on the covariates, not on a scalar distance "
                          "(MatchIt's m$distance is NULL); the propensity model is reported as a diagnostic"}
    return out


def _outcome_model(me, nobs: int) -> dict:
    """The weighted lm on the matched data: every coefficient (``lmtest::coeftest(fit, vcov.)``)."""
    return {"formula": "outcome ~ treatment, weights = matching weights (lm on match.data())",
            "coefficients": [{k: (v if isinstance(v, str) else float(v)) for k, v in r.items()}
                             for r in me.table.to_dict("records")],
            "vcov": me.description, "df_residual": me.df, "nobs": int(nobs)}


def _dropped(m: Matching, plan) -> tuple[tuple[str, int], ...]:
    """Units left out of the matched sample change who the estimate describes: count them, as every drop is."""
    unused = np.asarray(m.weights) == 0
    focal = m.focal.astype(bool)
    arm = ("treated", "control") if m.estimand != "ATC" else ("control", "treated")
    out = []
    if m.method not in ("nearest", "optimal"):
        for mask, name in ((m.treat == 1, "treated"), (m.treat == 0, "control")):
            n = int((unused & mask).sum())
            if n:
                other = "control" if name == "treated" else "treated"
                out.append((f"{name} units in no {m.method} subclass with {other} units (weight 0); the "
                            f"{plan.estimand} is for the units matched", n))
        return tuple(out)
    if (unused & focal).any():
        other = {"control": "control", "treated": "treated unit"}[arm[1]]
        why = (f"no {other} within the caliper" if m.caliper is not None else
               f"no {other} in their exact stratum" if m.exact else f"no {other} left to match")
        out.append((f"{arm[0]} units unmatched ({why}); the {plan.estimand} is for the matched ones",
                    int((unused & focal).sum())))
    if (unused & ~focal).any():
        out.append((f"{arm[1]} units not matched to any {arm[0]} unit (weight 0)", int((unused & ~focal).sum())))
    return tuple(out)


def fit_matching(plan, frame: pd.DataFrame) -> Fit:
    """Matching as ``MatchIt::matchit`` (method nearest, exact, cem or subclass); the effect by weighted
    regression on the matched data.

    Matched samples match ``MatchIt::matchit()`` 4.5.1; the effect and its variance ``lm(y ~ treat, weights)``
    with ``sandwich::vcovCL(cluster = ~subclass)`` after pair matching and ``sandwich::vcovHC(type = "HC3")``
    otherwise, as the MatchIt vignette "Estimating Effects After Matching" recommends; Ho, Imai, King & Stuart
    (2007), Political Analysis 15:199.
    """
    vc = plan.vcov
    binary_treatment(plan, frame)
    data = frame if frame.index.is_unique else frame.reset_index(drop=True)  # labels: the data's row labels
    m = match(plan, data)
    me = matched_effect(m, data, plan.outcome, vcov=vc.kind, level=vc.level)
    row = me.table.set_index("term").loc["treat"]
    effect = _estimate(plan.treatment, float(row["estimate"]), float(row["std_error"]), vc.level, me.df)
    before, after = m.balance()
    sizes = m.sample_sizes()
    treat = np.asarray(m.treat).astype(bool)
    ps = m.propensity if m.propensity is not None else fit_score(plan.settings.propensity.propensity_formula, data,
                                                                 plan.settings.propensity.link)
    ms = plan.settings.matching
    extras = {"matching": {"method": m.method, "estimand": m.estimand, "ratio": ms.ratio, "replace": ms.replace,
                           "caliper": m.caliper, "distance": m.distance_kind, "algorithm": ms.algorithm,
                           "exact": list(m.exact), "subclasses": ms.subclasses,
                           "cutpoints": None if ms.cutpoints is None else {k: v for k, v in ms.cutpoints},
                           "variance": me.description},
              "matched_sample": m.matched_sample(),
              **_propensity_extras(m, ps),
              "outcome_model": _outcome_model(me, me.nobs),
              "sample_sizes": {str(row_name): {str(k): float(v) for k, v in r.items()}
                               for row_name, r in sizes.iterrows()},
              "balance_before": balance_records(before), "balance_after": balance_records(after),
              "balance_method": ("MatchIt summary(m): SMD over the " + {"ATT": "treated", "ATC": "control",
                                 "ATE": "pooled (mean of the two variances)"}[m.estimand] + " SD of the full sample"),
              "propensity_histogram": histogram(ps.score, treat, np.asarray(m.weights, float))}
    ov = overlap(ps.score, ps.treat)
    extras["overlap"] = {"treated": ov.treated, "control": ov.control, "support": [ov.support_low, ov.support_high],
                         "outside_support": ov.outside_support}
    warnings = ()
    smd = {r["covariate"]: abs(r["smd"]) for r in extras["balance_after"]
           if r["covariate"] != "distance" and r.get("smd") is not None}
    awful = {c: v for c, v in smd.items() if v > BAD_BALANCE}
    bad = [c for c, v in smd.items() if v > 0.1]
    if awful:  # the matched groups are not comparable: the number is kept (R reports it) but not headlined
        reason = (f"the matched sample is badly imbalanced (|SMD| > {BAD_BALANCE:g} after matching: "
                  + ", ".join(f"{c} {v:.2f}" for c, v in awful.items()) + f"), so the {plan.estimand} compares "
                  f"unlike units. {_REMEDY[m.method]}")
        extras["headline_withheld"] = reason
        warnings = (f"NO ESTIMATE HEADLINED: {reason}",)
    elif bad:
        warnings = (f"covariates still imbalanced after matching (|SMD| > 0.1): {', '.join(bad)}.",)
    pair_differences = None
    if m.method in ("nearest", "optimal") and m.ratio == 1 and not m.replace and m.subclass is not None:
        y = data[plan.outcome].to_numpy(float)  # matched pairs: Rosenbaum bounds apply
        pairs = pd.DataFrame({"s": m.subclass, "t": m.treat, "y": y})[m.subclass > 0]
        wide = pairs.pivot_table(index="s", columns="t", values="y")
        if {0, 1} <= set(wide.columns) and len(wide) > 1:
            pair_differences = tuple(float(v) for v in (wide[1] - wide[0]).to_numpy())
    outcome_sd = float(np.std(data[plan.outcome].to_numpy(float), ddof=1))
    return Fit(effect, naive_contrast(plan, frame, vc.level), (effect,), (plan.treatment,),
               [[float(row["std_error"]) ** 2]], int(me.nobs), _dropped(m, plan), tuple(m.notes), (),
               extras=extras, warnings=warnings, outcome_sd=outcome_sd, pair_differences=pair_differences)
