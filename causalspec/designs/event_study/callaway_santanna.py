"""Fitting Callaway & Sant'Anna (2021): did::att_gt and aggte."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from causalspec._values import Estimate
from causalspec.designs._family import EventCoefficients, Fit
from causalspec.formula import quote_name
from causalspec.planner import VcovPlan
from causalspec.designs.event_study.fit import naive_event, treated_now
from causalspec.estimators.callaway_santanna import aggte, att_gt


def fit_callaway_santanna(plan, frame: pd.DataFrame) -> Fit:
    """did::att_gt + aggte: the simple overall ATT is the effect; the dynamic aggregation is the event study."""
    vc = plan.vcov

    s = plan.settings
    data = frame.copy()
    data[s.first_treated] = data[s.first_treated].fillna(0)
    xformla = "~" + " + ".join(quote_name(c) for c in s.covariates) if s.covariates else None
    res = att_gt(data, yname=plan.outcome, tname=s.time, idname=s.unit, gname=s.first_treated,
                 xformla=xformla, control_group=s.control_group, est_method=s.est_method,
                 anticipation=s.anticipation, base_period=s.base_period, alp=1 - vc.level)
    z = stats.norm.ppf(0.5 + vc.level / 2)

    def est(term, value, se):
        t = value / se if se > 0 else math.nan
        return Estimate(term, float(value), float(se), float(t), float(2 * stats.norm.sf(abs(t))),
                        float(value - z * se), float(value + z * se), math.inf)

    # did's Wald pre-test that every pre-treatment ATT(g,t) is zero (p rounded to 5 digits, as did prints it)
    pretest = ({"statistic": float(res.pretest_W), "df": res.pretest_df, "p_value": float(res.pretest_Wpval),
                "r_equivalent": "did::att_gt()$Wpval (pre-test of parallel trends)"}
               if res.pretest_W is not None else {"computed": False, "reason": res.pretest_note})
    simple = aggte(res, "simple")
    dynamic = aggte(res, "dynamic")
    effect = est("ATT (simple)", simple.overall_att, simple.overall_se)
    rows = tuple(est(f"event::{int(e)}", a, se) for e, a, se in zip(dynamic.egt, dynamic.att_egt, dynamic.se_egt))
    gt = [{"group": float(g), "time": float(t), "att": float(a), "se": float(se)}
          for g, t, a, se in zip(res.group, res.time, res.att, res.se)]
    event = [{"relative_time": int(e), "term": r.term, "estimate": r.estimate, "std_error": r.std_error,
              "conf_low": r.conf_low, "conf_high": r.conf_high} for e, r in zip(dynamic.egt, rows)]
    naive = naive_event(plan, frame, treated_now(plan, frame), VcovPlan("CR1", (s.unit,), vc.level, ""))
    coefs = _event_coefficients(dynamic) if s.base_period == "universal" else None
    notes = (f"Callaway & Sant'Anna: {len(gt)} group-time ATTs on {res.n_units} units; "
             f"pre-test of parallel trends W = {res.pretest_W}, p = {res.pretest_Wpval}"
             if res.pretest_W is not None else res.pretest_note,)
    return Fit(effect, naive, (effect, *rows), (effect.term,), [[effect.std_error ** 2]], len(frame), (),
                     tuple(n for n in notes if n), (), extras={"event_study": event, "att_gt": gt, "pretest": pretest,
                                                              "reference": -1, "dynamic_overall": {
                                                                  "att": float(dynamic.overall_att),
                                                                  "se": float(dynamic.overall_se)}},
                     outcome_sd=float(np.std(frame[plan.outcome].to_numpy(float), ddof=1)), event_vcov=coefs)


def _event_coefficients(dynamic) -> EventCoefficients:
    """The dynamic aggregation without its reference period (-1, zero by construction with a universal base) and
    the covariance of the unit influence functions, as HonestDiD's honest_did() forms it."""
    psi = np.asarray(dynamic.influence_egt, dtype=float)
    n = psi.shape[0]
    V = psi.T @ psi / n / n
    egt = np.asarray(dynamic.egt, dtype=float)
    keep = egt != -1
    return EventCoefficients(tuple(int(e) for e in egt[keep]), np.asarray(dynamic.att_egt, dtype=float)[keep],
                             V[np.ix_(keep, keep)], -1)

