"""Fitting a regression discontinuity: the data checks rdrobust needs, located at the spec field they concern, then
``rdrobust::rdrobust`` (causalspec.estimators.rd) and the data of the RD plot (rdplot's bins).

The effect is rdrobust's robust row: the bias-corrected estimate with the robust standard error, its z test and
confidence interval (Calonico, Cattaneo & Titiunik 2014); the rows are rdrobust's three (Conventional,
Bias-Corrected, Robust); the naive contrast is the difference in means of the outcome between the two sides.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from causalspec._values import Estimate
from causalspec.designs._common import estimate
from causalspec.designs._family import Fit
from causalspec.designs.regression_discontinuity.plan import VCE
from causalspec.errors import DataError, EstimationError, Problem
from causalspec.estimators._experiment import difference_in_means
from causalspec.estimators.rd import LABELS, rdplot_bins, rdrobust

__all__ = ["fit_rdrobust", "rd_arrays", "rd_options", "run_rdrobust", "result_dict"]


def _numeric(frame: pd.DataFrame, column: str, where: str) -> np.ndarray:
    col = frame[column]
    if pd.api.types.is_bool_dtype(col) or not pd.api.types.is_numeric_dtype(col):
        sample = ", ".join(repr(v) for v in col.astype(str).unique()[:3])
        raise DataError(Problem(where, f"the column {column!r} is not numeric (values such as {sample}); rdrobust "
                                "needs numbers.", fix=f"Recode {column!r} as numbers.", code="rd_not_numeric"))
    values = col.to_numpy(float)
    if not np.isfinite(values).all():
        raise DataError(Problem(where, f"the column {column!r} has infinite values.", fix="Drop or fix those rows.",
                                code="rd_not_numeric"))
    return values


def rd_arrays(plan, frame: pd.DataFrame) -> dict:
    """The running variable, outcome, take-up, covariates and clusters as arrays, checked: the cutoff inside the
    running variable's range, enough distinct values on each side, a sharp treatment that is running >= cutoff."""
    s = plan.settings
    x = _numeric(frame, s.running, "design.running")
    c = s.cutoff
    lo, hi = float(x.min()), float(x.max())
    if not lo < c < hi:
        raise DataError(Problem("design.cutoff", f"the cutoff {c:g} is outside the range of {s.running!r} "
                                f"({lo:g} to {hi:g}) in the rows analysed, so one side of it is empty.",
                                fix=f"Set design.cutoff between {lo:g} and {hi:g} (the value that assigns the "
                                    "treatment).", code="rd_cutoff_outside"))
    above = x >= c
    for side, mask in (("below", ~above), ("at or above", above)):
        distinct = np.unique(x[mask]).size
        if distinct < s.q + 1:
            raise EstimationError(Problem(
                "design.cutoff", f"only {int(mask.sum())} observation(s) with {distinct} distinct value(s) of "
                f"{s.running!r} lie {side} the cutoff {c:g}; the bias correction's polynomial of order q = {s.q} "
                f"needs {s.q + 1} distinct values on each side.", fix="Move the cutoff, add data, or lower "
                "design.p and design.q.", code="rd_too_few"))
    if s.h is None and x.size < 20:
        raise EstimationError(Problem("design.bwselect", f"bandwidth selection needs at least 20 observations; "
                                      f"{x.size} are left.", fix="Set a fixed bandwidth (design.h), or add data.",
                                      code="rd_too_few"))
    y = _numeric(frame, plan.outcome, "outcome")
    t = _treatment(frame, plan.treatment, above, s)
    covs = np.column_stack([_numeric(frame, v, f"covariates[{i}]") for i, v in enumerate(s.covariates)]) \
        if s.covariates else None
    cl = frame[plan.vcov.cluster[0]].to_numpy() if plan.vcov.cluster else None
    return {"x": x, "y": y, "t": t if s.fuzzy else None, "treatment": t, "covs": covs, "cluster": cl}


def _treatment(frame: pd.DataFrame, name: str, above: np.ndarray, s) -> np.ndarray:
    col = frame[name]
    values = col.to_numpy(float)
    if s.fuzzy:
        if np.var(values[above]) == 0 and np.var(values[~above]) == 0 and values[above][0] == values[~above][0]:
            raise EstimationError(Problem("treatment", f"the take-up {name!r} is the same constant on both sides "
                                          "of the cutoff: no first stage, the fuzzy effect is not identified.",
                                          fix="Check the take-up column, or use a sharp design.", code="rd_no_jump"))
        return values
    wrong = values != above.astype(float)
    if wrong.any():
        i = int(np.flatnonzero(wrong)[0])
        raise DataError(Problem(
            "treatment", f"in a sharp design the treatment {name!r} must be 1 exactly when {s.running} >= "
            f"{s.cutoff:g}; {int(wrong.sum())} row(s) differ (first: row {frame.index[i]!r}, {s.running} = "
            f"{frame[s.running].iloc[i]!r}, {name} = {col.iloc[i]!r}).",
            fix="If take-up is imperfect, set design.fuzzy: true; if treatment is assigned below the cutoff, "
                "multiply the running variable (and the cutoff) by -1; else check design.cutoff.",
            code="rd_sharp_mismatch"))
    return values


def rd_options(plan) -> dict:
    """The keyword arguments of rdrobust the plan sets (bandwidths, kernel, orders, variance, level)."""
    s = plan.settings
    return dict(c=s.cutoff, p=s.p, q=s.q, h=s.h, b=s.b, rho=s.rho, kernel=s.kernel,
                bwselect=s.bwselect if s.h is None else "mserd", vce=VCE[plan.vcov.kind], nnmatch=s.nnmatch,
                level=plan.vcov.level * 100)


def run_rdrobust(y, x, arrays: dict, options: dict, where: str = "design.bwselect", **changes):
    """rdrobust, its refusals as located errors (where the bandwidth that failed comes from)."""
    try:
        return rdrobust(y, x, fuzzy=arrays["t"], covs=arrays["covs"], cluster=arrays["cluster"],
                        **{**options, **changes})
    except (ValueError, np.linalg.LinAlgError) as exc:
        raise EstimationError(Problem(where, f"rdrobust cannot fit these data: {exc}.",
                                      fix="Widen the bandwidth (design.h), lower design.p, or check the running "
                                          "variable for mass points.", code="rd_fit_failed")) from None


def result_dict(r) -> dict:
    """An rdrobust result as JSON types, rows keyed by rdrobust's labels."""
    rows = {lab: {"coef": r.coef[i], "se": r.se[i], "z": r.z[i], "pv": r.pv[i], "ci": list(r.ci[i])}
            for i, lab in enumerate(LABELS)}
    out = {"estimates": rows, "h": list(r.h), "b": list(r.b), "N": list(r.N), "N_h": list(r.N_h),
           "N_b": list(r.N_b), "M": list(r.M), "p": r.p, "q": r.q, "c": r.c, "kernel": r.kernel,
           "bwselect": r.bwselect, "vce": r.vce, "level": r.level, "tau_cl": list(r.tau_cl),
           "tau_bc": list(r.tau_bc), "bias": list(r.bias), "beta_y_left": list(r.beta_y[0]),
           "beta_y_right": list(r.beta_y[1])}
    if r.first_stage is not None:
        f = r.first_stage
        out["first_stage"] = {lab: {"coef": f.coef[i], "se": f.se[i], "z": f.z[i], "pv": f.pv[i],
                                    "ci": list(f.ci[i])} for i, lab in enumerate(LABELS)}
    if r.n_clusters is not None:
        out["n_clusters"] = list(r.n_clusters)
    if r.gamma is not None:
        out["covariate_coefficients"] = list(r.gamma)
    return out


def _naive(plan, y, t) -> Estimate:
    level = plan.vcov.level
    if set(np.unique(t)) <= {0.0, 1.0}:
        dm = difference_in_means(y, t, level=level, term=plan.treatment)
        return Estimate(plan.treatment, dm.estimate, dm.std_error, dm.statistic, dm.p_value, dm.conf_low,
                        dm.conf_high, dm.df)
    slope = np.cov(y, t, ddof=1)[0, 1] / np.var(t, ddof=1)  # a continuous take-up: the OLS slope, HC0 SE
    e = y - y.mean() - slope * (t - t.mean())
    se = float(np.sqrt(np.sum(((t - t.mean()) * e) ** 2)) / np.sum((t - t.mean()) ** 2))
    return estimate(plan.treatment, float(slope), se, level)


def fit_rdrobust(plan, frame: pd.DataFrame) -> Fit:
    """rdrobust on the plan's rows: rdrobust(y, x, c, fuzzy, covs, cluster, p, q, h, b, rho, kernel, bwselect,
    vce, nnmatch, level) as the plan's formula writes it."""
    s = plan.settings
    arrays = rd_arrays(plan, frame)
    where = "design.h" if s.h is not None else "design.bwselect"
    r = run_rdrobust(arrays["y"], arrays["x"], arrays, rd_options(plan), where)
    rows = tuple(Estimate(lab, r.coef[i], r.se[i], r.z[i], r.pv[i], r.ci[i][0], r.ci[i][1])
                 for i, lab in enumerate(LABELS))
    robust = rows[2]
    effect = Estimate(plan.treatment, robust.estimate, robust.std_error, robust.statistic, robust.p_value,
                      robust.conf_low, robust.conf_high)
    extras = {"rdrobust": {**result_dict(r), "call": plan.formula}}
    try:
        bins = rdplot_bins(arrays["y"], arrays["x"], s.cutoff)
        extras["rdplot"] = {"binselect": bins.binselect, "J": list(bins.J), "J_IMSE": list(bins.J_IMSE),
                            "J_MV": list(bins.J_MV), "mid": list(bins.mid), "low": list(bins.low),
                            "high": list(bins.high), "mean_x": list(bins.mean_x), "mean_y": list(bins.mean_y),
                            "count": list(bins.count), "poly_left": list(bins.poly_left),
                            "poly_right": list(bins.poly_right), "p": bins.p, "x_min": bins.x_min,
                            "x_max": bins.x_max, "r_call": f"rdplot(y, x, c = {s.cutoff:g})"}
    except (ValueError, np.linalg.LinAlgError) as exc:  # the plot's data must not hide the estimate
        extras["rdplot"] = {"error": str(exc)}
    stats = (("h_left", r.h[0]), ("h_right", r.h[1]), ("b_left", r.b[0]), ("b_right", r.b[1]),
             ("n_left", r.N[0]), ("n_right", r.N[1]), ("n_effective_left", r.N_h[0]),
             ("n_effective_right", r.N_h[1]), ("conventional_estimate", r.coef[0]),
             ("conventional_std_error", r.se[0]))
    notes = [f"rdrobust ({r.bwselect}): h = {r.h[0]:.4g} (left), {r.h[1]:.4g} (right); b = {r.b[0]:.4g}, "
             f"{r.b[1]:.4g}; effective observations {r.N_h[0]:,} (left), {r.N_h[1]:,} (right); conventional "
             f"estimate {r.coef[0]:.4g} (SE {r.se[0]:.4g}); the effect row is the robust bias-corrected one"]
    warnings = []
    if r.first_stage is not None:
        f = r.first_stage
        notes.append(f"first stage: the take-up jumps by {f.coef[0]:.4g} at the cutoff (robust p = {f.pv[2]:.3g})")
        if f.pv[2] > 0.05:
            warnings.append(f"weak first stage: the take-up's jump at the cutoff ({f.coef[0]:.3g}) is not "
                            f"significant (robust p = {f.pv[2]:.3g}); the fuzzy estimate is unreliable.")
    return Fit(effect, _naive(plan, arrays["y"], arrays["treatment"]), rows, (plan.treatment,),
               np.array([[robust.std_error ** 2]]), int(r.N[0] + r.N[1]), notes=tuple(notes),
               stats=tuple((k, float(v)) for k, v in stats), extras=extras, warnings=tuple(warnings),
               outcome_sd=float(np.std(arrays["y"], ddof=1)))
