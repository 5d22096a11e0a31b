"""Fitting nearest-neighbour propensity-score matching (MatchIt) in the observational design: the matched sets,
the effect by weighted regression on the matched data, balance before and after, and what matching left out."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from causalspec.designs._common import estimate as _estimate
from causalspec.designs._family import Fit
from causalspec.designs.observational.propensity import binary_treatment, histogram, naive_contrast
from causalspec.estimators._matched_effect import matched_effect
from causalspec.estimators._matching import match_nearest
from causalspec.estimators._propensity import overlap

__all__ = ["fit_matching", "BAD_BALANCE"]

# |SMD| after matching above which the matched groups are not comparable (Stuart 2010's 0.25 rule of thumb);
# 0.1 to 0.25 is reported as a warning.
BAD_BALANCE = 0.25


def _in_data_coding(note: str) -> str:
    """A matching note written for the ATT, in the data's own coding when the ATC swapped the arms."""
    swap = {"treated": "control", "control": "treated", "controls": "treated units", "treated units": "controls"}
    return re.sub(r"treated units|controls|treated|control", lambda m: swap[m.group(0)], note)


def _balance_records(table: pd.DataFrame) -> list[dict]:
    """A MatchIt balance table as JSON records, the covariate named in each (``summary(m)$sum.all``)."""
    rename = {"Means Treated": "mean_treated", "Means Control": "mean_control", "Std. Mean Diff.": "smd",
              "Mean Diff.": "mean_diff", "Var. Ratio": "var_ratio", "eCDF Mean": "ecdf_mean", "eCDF Max": "ecdf_max",
              "Std. Pair Dist.": "std_pair_dist"}
    rows = []
    for name, r in table.iterrows():
        rows.append({"covariate": str(name), **{rename.get(k, k): (None if pd.isna(v) else float(v))
                                                for k, v in r.items()}})
    return rows


def fit_matching(plan, frame: pd.DataFrame) -> Fit:
    """Nearest-neighbour propensity-score matching; the ATT by weighted regression on the matched data.

    Matched sets match ``MatchIt::matchit(method = "nearest", distance = "glm")``; the effect and its variance
    ``lm(y ~ treat, weights)`` with ``sandwich::vcovCL(cluster = ~subclass)`` (HC3 with replacement), as the
    MatchIt vignette "Estimating Effects After Matching" recommends; Ho, Imai, King & Stuart (2007).
    """
    vc = plan.vcov

    binary_treatment(plan, frame)
    s = plan.settings
    data = frame.reset_index(drop=True)
    flip = plan.estimand == "ATC"  # the ATC is the ATT with the arms swapped
    if flip:
        data = data.assign(**{plan.treatment: 1 - data[plan.treatment].astype(float)})
    distance = {"propensity": "glm", "logit": "linear.logit"}[s.matching.distance]
    m = match_nearest(s.propensity.propensity_formula, data, ratio=s.matching.ratio, replace=s.matching.replace,
                      caliper=s.matching.caliper, algorithm=s.matching.algorithm, distance=distance)
    me = matched_effect(m, data, plan.outcome, vcov=vc.kind, level=vc.level)
    row = me.table.set_index("term").loc["treat"]
    sign = -1.0 if flip else 1.0
    effect = _estimate(plan.treatment, sign * float(row["estimate"]), float(row["std_error"]), vc.level, me.df)
    before, after = m.balance()
    sizes = m.sample_sizes()
    treat = np.asarray(m.treat).astype(bool)
    score = m.propensity.score if m.propensity is not None else np.asarray(m.distance, float)
    extras = {"matching": {"ratio": m.ratio, "replace": m.replace, "caliper": m.caliper, "distance": distance,
                           "algorithm": s.matching.algorithm, "variance": me.description},
              "sample_sizes": {str(row_name): {str(k): float(v) for k, v in r.items()}
                               for row_name, r in sizes.iterrows()},
              "balance_before": _balance_records(before), "balance_after": _balance_records(after),
              "propensity_histogram": histogram(score, treat, np.asarray(m.weights, float))}
    if m.propensity is not None:
        ov = overlap(m.propensity.score, m.treat)
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
                  "unlike units. Match with replacement (design.matching.replace: true), use a caliper, or use "
                  "design.estimator ipw or aipw.")
        extras["headline_withheld"] = reason
        warnings = (f"NO ESTIMATE HEADLINED: {reason}",)
    elif bad:
        warnings = (f"covariates still imbalanced after matching (|SMD| > 0.1): {', '.join(bad)}.",)
    pair_differences = None
    if m.ratio == 1 and not m.replace and m.subclass is not None:  # matched pairs: Rosenbaum bounds apply
        y = data[plan.outcome].to_numpy(float)
        pairs = pd.DataFrame({"s": m.subclass, "t": m.treat, "y": y})[m.subclass > 0]
        wide = pairs.pivot_table(index="s", columns="t", values="y")
        if {0, 1} <= set(wide.columns) and len(wide) > 1:
            pair_differences = tuple(float(v) for v in sign * (wide[1] - wide[0]).to_numpy())
    # Units left out of the matched sample change who the estimate describes: count them, as every drop is.
    unused = np.asarray(m.weights) == 0
    arm = ("control", "treated") if not flip else ("treated", "control")  # names in the data's own coding
    dropped = []
    if (unused & treat).any():
        other = {"control": "control", "treated": "treated unit"}[arm[0]]
        why = f"no {other} within the caliper" if m.caliper is not None else f"no {other} left to match"
        dropped.append((f"{arm[1]} units unmatched ({why}); the {plan.estimand} is for the matched ones",
                        int((unused & treat).sum())))
    if (unused & ~treat).any():
        dropped.append((f"{arm[0]} units not matched to any {arm[1]} unit (weight 0)", int((unused & ~treat).sum())))
    outcome_sd = float(np.std(data[plan.outcome].to_numpy(float), ddof=1))
    notes = tuple(_in_data_coding(n) for n in m.notes) if flip else tuple(m.notes)
    return Fit(effect, naive_contrast(plan, frame, vc.level), (effect,), (plan.treatment,),
                     [[float(row["std_error"]) ** 2]], int(me.nobs), tuple(dropped), notes, (),
                     extras=extras, warnings=warnings, outcome_sd=outcome_sd,
               pair_differences=pair_differences)
