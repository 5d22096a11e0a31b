"""Synth's inference, run after the fit: in-space placebos and their permutation p-value, leave-one-out donors,
an in-time placebo (Abadie, Diamond & Hainmueller 2010, 2015; as SCtools::generate.placebos / mspe.test).

The results go into ``Fit.extras["placebos"]`` (JSON types) and the effect's p-value becomes the permutation
one; with ``design.placebos: false`` nothing runs and the extras say so.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from causalspec.designs.synthetic_control.fit import no_se, progress_wanted, synth_inputs
from causalspec.designs.synthetic_control.panel import build_panel
from causalspec.estimators.synth import fit_gaps, in_space_placebos, leave_one_out, permutation_p, rmspe_ratio
from causalspec.errors import CausalSpecError
from causalspec.planner import Estimator

__all__ = ["placebo_check"]


def _series(panel, gaps) -> list[float]:
    return [float(g) for g in gaps]


def placebo_check(plan, frame, fit):
    """Refit the synthetic control for every donor, without each weighted donor, and at a fake earlier date."""
    if plan.estimator is not Estimator.SYNTH:
        return fit
    s = plan.settings
    if not s.placebos:
        return replace(fit, extras={**fit.extras, "placebos": {"computed": False,
                                                               "reason": "turned off (design.placebos: false)"}})
    panel = build_panel(plan, frame, one_treated=True)
    P, Zfit, Y, _, _ = synth_inputs(plan, panel)
    donors = [j for j in panel.donors if not np.any(np.isnan(P[:, j]))]
    pre, post = panel.pre, panel.post
    base = fit_gaps(P, Zfit, Y, 0, donors)
    runs = in_space_placebos(P, Zfit, Y, 0, donors, progress=progress_wanted())
    treated_ratio = rmspe_ratio(base.gaps, pre, post)
    ratios = [rmspe_ratio(r.gaps, pre, post) for r in runs]
    p = permutation_p(treated_ratio, ratios)
    units = panel.units
    space = {
        "treated": {"unit": units[0], "pre_rmspe": base.rmspe(pre), "post_rmspe": base.rmspe(post),
                    "ratio": treated_ratio, "gaps": _series(panel, base.gaps)},
        "placebos": [{"unit": units[r.unit], "pre_rmspe": r.rmspe(pre), "post_rmspe": r.rmspe(post),
                      "ratio": q, "loss_v": r.fit.loss_v, "gaps": _series(panel, r.gaps)}
                     for r, q in zip(runs, ratios)],
        "times": [int(t) for t in panel.times],
        "p_value": p, "rank": int(1 + np.sum(np.asarray(ratios) >= treated_ratio)), "units": 1 + len(runs),
        "rule": "p = rank of the treated unit's post/pre RMSPE ratio among all units / number of units "
                "(ADH 2015; SCtools::mspe.test)"}
    loo = [{"dropped_donor": units[d], "effect": float(np.mean(g.gaps[post])), "pre_rmspe": g.rmspe(pre),
            "loss_v": g.fit.loss_v, "gaps": _series(panel, g.gaps),
            "weights": {str(units[j]): float(w) for j, w in zip(g.donors, g.fit.weights) if w > 1e-6}}
           for d, g in leave_one_out(P, Zfit, Y, base)]
    extras = {**fit.extras, "placebos": {"in_space": space, "leave_one_out": loo, "in_time": _in_time(plan, panel)}}
    effect = no_se(fit.effect.term, fit.effect.estimate, p)
    return replace(fit, effect=effect, rows=(effect,), extras=extras,
                   stats=tuple(fit.stats) + (("permutation_p", p), ("rmspe_ratio", treated_ratio)))


def _in_time(plan, panel) -> dict:
    """The treated unit's synthetic control refitted as if treatment had started at ``placebo_time`` (every fit
    period and predictor window clipped before it); its 'effect' between then and the real date should be ~0."""
    pre_times = panel.times[panel.pre]
    fake = plan.settings.placebo_time
    if fake is None:
        fake = int(pre_times[len(pre_times) // 2])
    if not (pre_times[0] < fake < panel.treatment_time) or np.sum(pre_times < fake) < 2:
        return {"computed": False, "reason": f"the placebo date {fake} leaves fewer than 2 periods before it inside "
                                             f"the pre-period {int(pre_times[0])}-{int(pre_times[-1])}"}
    try:
        P, Zfit, Y, names, mask = synth_inputs(plan, panel, before=fake)
    except CausalSpecError as exc:
        return {"computed": False, "reason": str(exc)}
    donors = [j for j in panel.donors if not np.any(np.isnan(P[:, j]))]
    g = fit_gaps(P, Zfit, Y, 0, donors)
    between = (panel.times >= fake) & panel.pre
    return {"computed": True, "placebo_time": fake, "predictors": list(names),
            "fit_periods": [int(t) for t in panel.times[mask]],
            "effect_before_treatment": float(np.mean(g.gaps[between])), "pre_rmspe": g.rmspe(panel.times < fake),
            "gaps": _series(panel, g.gaps)}
