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
    """did::att_gt + aggte: the four aggregations (simple, dynamic, group, calendar); the one the design names
    is the effect, the dynamic one is the event study."""
    vc = plan.vcov

    s = plan.settings
    data = frame.copy()
    data[s.first_treated] = data[s.first_treated].fillna(0)
    xformla = "~" + " + ".join(quote_name(c) for c in s.covariates) if s.covariates else None
    uniform = s.bands == "uniform"
    boot = dict(bstrap=True, cband=True, biters=s.bootstrap_iterations) if uniform else {}
    res = att_gt(data, yname=plan.outcome, tname=s.time, idname=s.unit, gname=s.first_treated,
                 xformla=xformla, control_group=s.control_group, est_method=s.est_method,
                 anticipation=s.anticipation, base_period=s.base_period, alp=1 - vc.level,
                 **boot, rng=np.random.default_rng(plan.seed) if uniform else None)
    naive = naive_event(plan, frame, treated_now(plan, frame), VcovPlan("CR1", (s.unit,), vc.level, ""))
    return callaway_santanna_fit(plan, res, naive, len(frame),
                                 float(np.std(frame[plan.outcome].to_numpy(float), ddof=1)))


def callaway_santanna_fit(plan, res, naive: Estimate, nobs: int, outcome_sd: float, notes: tuple[str, ...] = ()) -> Fit:
    """The Fit from did::att_gt's cells: the four aggte aggregations, the event study, the pre-test.  Shared by
    the in-memory fit and the engines (whose cells come from cohort moments)."""
    vc, s = plan.vcov, plan.settings
    uniform = s.bands == "uniform"
    z = stats.norm.ppf(0.5 + vc.level / 2)

    def est(term, value, se, crit=z):
        t = value / se if se > 0 else math.nan
        return Estimate(term, float(value), float(se), float(t), float(2 * stats.norm.sf(abs(t))),
                        float(value - crit * se), float(value + crit * se), math.inf)

    # did's Wald pre-test that every pre-treatment ATT(g,t) is zero (p rounded to 5 digits, as did prints it)
    pretest = ({"statistic": float(res.pretest_W), "df": res.pretest_df, "p_value": float(res.pretest_Wpval),
                "r_equivalent": "did::att_gt()$Wpval (pre-test of parallel trends)"}
               if res.pretest_W is not None else {"computed": False, "reason": res.pretest_note})
    window = {k: v for k, v in (("min_e", s.min_e), ("max_e", s.max_e)) if v is not None}
    aggs = {}
    for kind in ("simple", "dynamic", "group", "calendar"):
        opts = dict(window, balance_e=s.balance_e) if kind == "dynamic" else {}
        aggs[kind] = aggte(res, kind, **opts, **({"bstrap": True, "cband": True, "biters": s.bootstrap_iterations,
                                                  "rng": np.random.default_rng(plan.seed)} if uniform else {}))
    dynamic = aggs["dynamic"]
    chosen = aggs[s.aggregation]
    effect = est(f"ATT ({s.aggregation})", chosen.overall_att, chosen.overall_se)
    rows = tuple(est(f"event::{int(e)}", a, se, dynamic.crit_val_egt)
                 for e, a, se in zip(dynamic.egt, dynamic.att_egt, dynamic.se_egt))
    gt = [{"group": float(g), "time": float(t), "att": float(a), "se": float(se),
           "conf_low": float(a - res.crit_val * se), "conf_high": float(a + res.crit_val * se)}
          for g, t, a, se in zip(res.group, res.time, res.att, res.se)]
    event = [{"relative_time": int(e), "term": r.term, "estimate": r.estimate, "std_error": r.std_error,
              "conf_low": r.conf_low, "conf_high": r.conf_high} for e, r in zip(dynamic.egt, rows)]
    coefs = _event_coefficients(dynamic) if s.base_period == "universal" else None
    extra_notes = (f"Callaway & Sant'Anna: {len(gt)} group-time ATTs on {res.n_units} units; "
             f"pre-test of parallel trends W = {res.pretest_W}, p = {res.pretest_Wpval}"
             if res.pretest_W is not None else res.pretest_note,)
    if uniform:
        extra_notes += (f"uniform bands: multiplier bootstrap, {s.bootstrap_iterations} draws, seed {plan.seed}; "
                  f"critical value {res.crit_val:.4g} for the ATT(g,t)",)
    extras = {"event_study": event, "att_gt": gt, "att_gt_crit_val": float(res.crit_val), "pretest": pretest,
              "reference": -1, "aggregations": {k: _aggregation(a, est) for k, a in aggs.items()},
              "dynamic_overall": {"att": float(dynamic.overall_att), "se": float(dynamic.overall_se)}}
    return Fit(effect, naive, (effect, *rows), (effect.term,), [[effect.std_error ** 2]], nobs, (),
               tuple(n for n in (*notes, *extra_notes) if n), (), extras=extras, outcome_sd=outcome_sd,
               event_vcov=coefs)


_COMPONENT = {"dynamic": "event_time", "group": "group", "calendar": "time"}


def _aggregation(agg, est) -> dict:
    """One did::aggte result as JSON types: the overall effect and, except for simple, its components with their
    intervals (pointwise, or the uniform band's critical value)."""
    overall = est("overall", agg.overall_att, agg.overall_se)
    out = {"overall": {"att": overall.estimate, "se": overall.std_error, "conf_low": overall.conf_low,
                       "conf_high": overall.conf_high},
           "r_equivalent": f'did::aggte(type = "{agg.type}")'}
    if agg.type in _COMPONENT:
        key = _COMPONENT[agg.type]
        out["crit_val"] = float(agg.crit_val_egt)
        out["components"] = [{key: float(e), "att": float(a), "se": float(se),
                              "conf_low": float(a - agg.crit_val_egt * se), "conf_high": float(a + agg.crit_val_egt * se)}
                             for e, a, se in zip(agg.egt, agg.att_egt, agg.se_egt)]
    return out


def _event_coefficients(dynamic) -> EventCoefficients:
    """The dynamic aggregation without its reference period (-1, zero by construction with a universal base) and
    the covariance of the unit influence functions, as HonestDiD's honest_did() forms it."""
    psi = np.asarray(dynamic.influence_egt, dtype=float)
    w = dynamic.unit_weights
    n = psi.shape[0] if w is None else float(w.sum())
    V = (psi.T @ psi if w is None else psi.T @ (psi * w[:, None])) / n / n
    egt = np.asarray(dynamic.egt, dtype=float)
    keep = egt != -1
    return EventCoefficients(tuple(int(e) for e in egt[keep]), np.asarray(dynamic.att_egt, dtype=float)[keep],
                             V[np.ix_(keep, keep)], -1)

