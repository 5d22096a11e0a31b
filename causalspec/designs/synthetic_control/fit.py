"""Fitting the synthetic control design: Synth for one treated unit, synthetic DiD (with SC and DiD beside it)
for one or several treated units adopting together."""

from __future__ import annotations

import math
import sys
from dataclasses import replace

import numpy as np
from scipy import stats

from causalspec._values import Estimate
from causalspec.designs._common import estimate
from causalspec.designs._family import Fit
from causalspec.designs.synthetic_control.panel import build_panel, fit_mask, predictor_matrix
from causalspec.estimators.synth import (
    bootstrap_se,
    did_estimate,
    effect_curve,
    fit_gaps,
    jackknife_se,
    placebo_se,
    sc_estimate,
    synthdid_estimate,
)

__all__ = ["fit_synth", "fit_synthdid", "synth_inputs", "progress_wanted", "no_se"]

SYNTH_CALL = ("Synth::synth(dataprep(foo, predictors, predictors.op, special.predictors, dependent, unit.variable, "
              "time.variable, treatment.identifier, controls.identifier, time.optimize.ssr, time.plot))")


def progress_wanted() -> bool:
    """Placebo and resampling loops draw a progress bar when someone watches stderr."""
    return bool(getattr(sys.stderr, "isatty", lambda: False)())


def no_se(term: str, value: float, p_value: float = math.nan) -> Estimate:
    """An effect without a sampling standard error (Synth): the p-value, when there is one, is the permutation one."""
    return Estimate(term, float(value), math.nan, math.nan, float(p_value), math.nan, math.nan)


def synth_inputs(plan, panel, before: int | None = None):
    """Synth's matrices for a panel: predictors (k x U), fit-period outcomes, every period's outcomes."""
    P, names = predictor_matrix(plan, panel, before)
    mask = fit_mask(plan, panel, before)
    return P, panel.Y[mask], panel.Y, names, mask


def estimand_note(plan) -> tuple[str, ...]:
    """The note a result carries when the spec's estimand (its default ATE) is read as the ATT."""
    if plan.settings.estimand_written == "ATE":
        return ("The spec's estimand is ATE (the default); a synthetic control estimates the effect on the treated "
                "unit(s), the ATT, which is reported.",)
    return ()


def _naive(plan, panel) -> Estimate:
    post = panel.post
    diff = panel.Y[post][:, list(panel.treated)].mean() - panel.Y[post][:, list(panel.donors)].mean()
    return no_se(plan.treatment, diff)


def fit_synth(plan, frame) -> Fit:
    """Synth::synth() on the panel; the effect is the mean post-treatment gap (treated minus synthetic)."""
    panel = build_panel(plan, frame, one_treated=True)
    P, Zfit, Y, names, mask = synth_inputs(plan, panel)
    bad = [j for j in panel.donors if np.any(np.isnan(P[:, j]))]
    dropped = list(panel.dropped)
    if bad:  # Synth refuses missing predictors; a donor without one cannot be weighed on it
        for j in bad:
            dropped.append((f"donor {panel.units[j]!r}: a predictor has no value in its periods",
                            int((panel.frame[plan.settings.unit].astype(str) == str(panel.units[j])).sum())))
    donors = [j for j in panel.donors if j not in bad]
    base = fit_gaps(P, Zfit, Y, 0, donors)
    w, f = base.fit.weights, base.fit
    post, pre = panel.post, panel.pre
    effect = float(np.mean(base.gaps[post]))
    X1s_raw, X0_raw = P[:, 0], P[:, donors]
    extras = {"synthetic_control": {
        "estimator": "synth", "treated_unit": panel.units[0], "treatment_time": panel.treatment_time,
        "donors": [{"unit": panel.units[j], "weight": float(wj)} for j, wj in zip(donors, w)],
        "predictors": [{"predictor": n, "v": float(v), "treated": float(a), "synthetic": float(b),
                        "donor_mean": float(c)}
                       for n, v, a, b, c in zip(names, f.v, X1s_raw, X0_raw @ w, X0_raw.mean(axis=1))],
        "loss_v": f.loss_v, "loss_w": f.loss_w, "fit_rmspe": f.rmspe, "fit_periods": panel.times[mask].tolist(),
        "pre_rmspe": base.rmspe(pre), "post_rmspe": base.rmspe(post),
        "optimiser": {"kept": [f.start, f.method], "runs": [list(r) for r in f.runs]},
        "path": [{"time": int(t), "treated": float(a), "synthetic": float(a - g), "gap": float(g)}
                 for t, a, g in zip(panel.times, Y[:, 0], base.gaps)],
        "r_call": SYNTH_CALL}}
    notes = estimand_note(plan) + (
        f"Synth: {len(donors)} donors, {len(names)} predictors, V searched from Synth's starting values with "
        f"Nelder-Mead and BFGS, each polished; kept {f.start} / {f.method} (fit-period MSPE {f.loss_v:.6g}).",)
    return Fit(no_se(plan.treatment, effect), _naive(plan, panel), (no_se(plan.treatment, effect),),
               (plan.treatment,), [[math.nan]], int(Y.size), tuple(dropped), notes,
               (("loss_v", f.loss_v), ("loss_w", f.loss_w), ("pre_rmspe", base.rmspe(pre))), extras=extras)


def _se(fit, Y, s, seed: int):
    rng = np.random.default_rng(seed)  # one stream per estimator, as synthdid's paper re-seeds before each
    if s.se_method == "placebo":
        return placebo_se(fit, Y, s.replications, rng, progress=progress_wanted())
    if s.se_method == "bootstrap":
        return bootstrap_se(fit, Y, s.replications, rng, progress=progress_wanted())
    return jackknife_se(fit, Y)


_R = {"synthdid": "synthdid::synthdid_estimate(Y, N0, T0)", "sc": "synthdid::sc_estimate(Y, N0, T0)",
      "did": "synthdid::did_estimate(Y, N0, T0)"}


def fit_synthdid(plan, frame) -> Fit:
    """synthdid_estimate on the block (controls first, pre-periods first), with SC and DiD on the same panel."""
    s = plan.settings
    panel = build_panel(plan, frame, one_treated=False)
    # R's panel.matrices layout: controls first, then treated, each sorted by name; periods in order
    by_name = lambda js: sorted(js, key=lambda j: str(panel.units[j]))  # noqa: E731
    order = by_name(panel.donors) + by_name(panel.treated)
    Y = panel.Y[:, order].T
    N0, T0 = len(panel.donors), int(panel.pre.sum())
    level = plan.vcov.level
    rows, fits, ses = [], {}, {}
    for kind, est in (("synthdid", synthdid_estimate), ("sc", sc_estimate), ("did", did_estimate)):
        fits[kind] = est(Y, N0, T0)
        ses[kind] = _se(fits[kind], Y, s, plan.seed)
        se = ses[kind].se
        rows.append(estimate(f"{plan.treatment} ({kind})", fits[kind].estimate, se, level) if se is not None
                    else no_se(f"{plan.treatment} ({kind})", fits[kind].estimate))
    main = fits["synthdid"]
    effect = replace(rows[0], term=plan.treatment)
    times = panel.times
    units = [panel.units[j] for j in order]
    treated_mean = Y[N0:].mean(axis=0)
    z = stats.norm.ppf(0.5 + level / 2)
    table = [{"estimator": {"synthdid": "SDID", "sc": "SC", "did": "DiD"}[k], "estimate": fits[k].estimate,
              "std_error": ses[k].se, "conf_low": None if ses[k].se is None else fits[k].estimate - z * ses[k].se,
              "conf_high": None if ses[k].se is None else fits[k].estimate + z * ses[k].se,
              "se_method": s.se_method, "se_reason": ses[k].reason, "r_call": _R[k]} for k in fits]
    extras = {"synthdid": {
        "estimates": table, "treated_units": units[N0:], "treatment_time": panel.treatment_time,
        "N0": N0, "N1": len(units) - N0, "T0": T0, "T1": len(times) - T0,
        "noise_level": main.noise_level, "zeta_omega": main.options.zeta_omega,
        "zeta_lambda": main.options.zeta_lambda, "iterations": {"omega": main.iterations[0],
                                                               "lambda": main.iterations[1]},
        "unit_weights": [{"unit": u, "sdid": float(a), "sc": float(b)} for u, a, b in
                         zip(units[:N0], main.omega, fits["sc"].omega)],
        "time_weights": [{"time": int(t), "lambda": float(v)} for t, v in zip(times[:T0], main.lambda_)],
        "trends": [{"time": int(t), "treated": float(a), "sdid_control": float(b), "sc_control": float(c),
                    "did_control": float(d)} for t, a, b, c, d in
                   zip(times, treated_mean, main.omega @ Y[:N0], fits["sc"].omega @ Y[:N0], Y[:N0].mean(axis=0))],
        "effect_curve": [{"time": int(t), "effect": float(e)} for t, e in zip(times[T0:], effect_curve(main, Y))],
        "replications": s.replications}}
    warnings = tuple(f"{k}: no {s.se_method} standard error: {ses[k].reason}." for k in ses if ses[k].se is None)
    notes = estimand_note(plan) + (
        f"synthdid: {N0} controls, {len(units) - N0} treated, {T0} pre-periods, {len(times) - T0} post-periods; "
        f"standard errors by the {s.se_method} method"
        + (f" ({s.replications} replications, seed {plan.seed})" if s.se_method != "jackknife" else "") + ".",)
    se = rows[0].std_error
    return Fit(effect, _naive(plan, panel), tuple(rows), (plan.treatment,), [[se * se if se == se else math.nan]],
               int(Y.size), tuple(panel.dropped), notes, (("noise_level", main.noise_level),), extras=extras,
               warnings=warnings)
