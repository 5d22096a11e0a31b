"""Design plug-in: each arm's size, mean (a rate for a 0/1 outcome) and standard error, and the relative lift.

* ``extras["arms"]``: per arm ``n``, ``mean`` and ``std_error`` from ``y ~ 1 + d`` with the plan's variance — the
  intercept is the control mean and ``(Intercept) + d`` the treated mean.  Without clusters the variance is HC2,
  which for one binary regressor is exactly the Neyman variance, so each arm's SE is ``sd / sqrt(n)`` and the two
  add up to the difference in means' SE; with ``inference.cluster`` it is ``lm_robust(y ~ d, clusters,
  se_type)``'s.
* ``extras["relative_lift"]``: the effect divided by the control arm's mean *on the effect's own scale* — the raw
  control mean for the difference in means, the control mean of the CUPED-adjusted outcome for CUPED, lm_lin's
  intercept (the control mean at the pooled covariate means) for Lin — so numerator and denominator come from one
  fit.  Its standard error is the first-order delta method on that pair with their covariance from the same
  variance estimator: for ``r = b / a``, ``Var(r) = (Var b - 2 r Cov(a, b) + r² Var a) / a²``; normal interval.
  For the difference in means this is the familiar ``s_t² / (n_t ȳ_c²) + ȳ_t² s_c² / (n_c ȳ_c⁴)`` (Kohavi, Tang &
  Xu 2020, ch. 18); in R, ``car::deltaMethod(fit, "b1 / b0", parameterNames = paste0("b", seq_along(coef(fit)) -
  1))`` on the same fit.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
from scipy import stats

from causalspec.designs._common import find_row, treatment_terms
from causalspec.designs.experiment.data import arm_data
from causalspec.planner import Estimator

__all__ = ["arms_check", "relative_lift"]

_DELTA_R = 'car::deltaMethod(fit, "b1 / b0", parameterNames = paste0("b", seq_along(coef(fit)) - 1))'


def relative_lift(a: float, b: float, V: np.ndarray, level: float) -> dict:
    """``b / a`` with its first-order delta-method standard error and normal interval; ``V`` is the covariance of
    ``(a, b)``.  Not computed (and says why) when ``a`` is 0."""
    if a == 0 or not math.isfinite(a):
        return {"computed": False, "reason": "the control mean is 0, so a relative change is undefined."}
    r = b / a
    g = np.array([-b / a**2, 1.0 / a])
    se = float(math.sqrt(max(g @ V @ g, 0.0)))
    z = float(stats.norm.ppf(0.5 + level / 2))
    return {"estimate": r, "std_error": se, "conf_low": r - z * se, "conf_high": r + z * se, "level": level,
            "effect": b, "control_mean": a}


def _lift_inputs(plan, data, out, y, means: tuple) -> tuple[float, float, np.ndarray, str, str]:
    """The effect, the control mean on its scale, their covariance, what the denominator is and the fit's R call."""
    c = out.extras.get("cuped")
    cl = ", ".join(plan.vcov.cluster)
    se_type = {"CR0_estimatr": "CR0"}.get(plan.vcov.kind, plan.vcov.kind)
    lm = f'lm_robust(y ~ d, clusters = {cl}, se_type = "{se_type}")' if cl else 'lm_robust(y ~ d, se_type = "HC2")'
    if c is not None:
        x = data.column(c["covariate"], "design.cuped")
        coef, V = data.mean_model(data.adjusted(y, x, c["theta"], data.mean(x)))
        what = f"the control arm's mean of the CUPED-adjusted {plan.outcome}"
        return coef[0], coef[1], V, what, f"{_DELTA_R} with fit = {lm} on y - theta (x - mean(x))"
    if plan.estimator is Estimator.LIN:
        terms = list(out.vcov_terms)
        i = [terms.index("(Intercept)"), terms.index(find_row(out.rows, *treatment_terms(plan.treatment)).term)]
        V = np.asarray(out.vcov_matrix, dtype=float)[np.ix_(i, i)]
        a = find_row(out.rows, "(Intercept)").estimate
        return a, out.effect.estimate, V, ("lm_lin's intercept: the control arm's mean at the pooled covariate "
                                           "means"), f"{_DELTA_R} with fit = the lm_lin fit ({plan.vcov.r_equivalent})"
    coef, V = means
    return coef[0], coef[1], V, "the control arm's mean", f"{_DELTA_R} with fit = {lm}"


def arms_check(plan, frame, out):
    """Each arm's n, mean (rate) and SE, and the relative lift of the effect (module docstring)."""
    data = arm_data(plan, frame)
    y = data.outcome()
    coef, V = data.mean_model(y)
    arms = {"outcome": plan.outcome, "binary": data.non_binary(y) is None}
    se = {"control": V[0, 0], "treatment": V[0, 0] + 2 * V[0, 1] + V[1, 1]}
    mean = {"control": coef[0], "treatment": coef[0] + coef[1]}
    clusters = data.clusters()
    sizes = dict(zip(("control", "treatment"), data.arm_sizes()))
    for name, value in (("control", 0.0), ("treatment", 1.0)):
        arms[name] = {"n": sizes[name], "mean": float(mean[name]), "std_error": float(math.sqrt(max(se[name], 0.0)))}
        if clusters is not None:
            arms[name]["clusters"] = int(np.unique(clusters[0].codes[data.t == value]).size)
    cl = ", ".join(plan.vcov.cluster)
    arms["std_error_method"] = (
        f"cluster-robust {plan.vcov.kind} by {cl}: lm_robust(y ~ d, clusters = {cl}); the intercept's SE and that "
        "of (Intercept) + d" if cl else "sd / sqrt(n) in each arm (the Neyman variance; HC2 of lm(y ~ d))")
    a, b, Vab, what, r_call = _lift_inputs(plan, data, out, y, (coef, V))
    lift = relative_lift(float(a), float(b), Vab, plan.vcov.level)
    if lift.get("computed", True):
        lift.update(denominator=what, r_equivalent=r_call,
                    method="first-order delta method on (control mean, effect) from one fit, normal interval")
    return replace(out, extras={**out.extras, "arms": arms, "relative_lift": lift})
