"""The falsification tests of a regression discontinuity, run after the fit (Cattaneo, Idrobo & Titiunik 2020,
"A Practical Introduction to Regression Discontinuity Designs: Foundations", ch. 5).

* density: rddensity::rddensity(X = running, c = cutoff), the manipulation test (Cattaneo, Jansson & Ma 2020);
* covariate balance: rdrobust(covariate, running) for each covariate, as a placebo outcome (sharp, no covariates);
* placebo cutoffs: rdrobust(y, x, c = placebo) on one side's observations only (the outcome's jump, sharp);
* donut hole: rdrobust without the observations nearest the cutoff, bandwidths selected again;
* bandwidths: rdrobust(h = m * h) for multiples m of the bandwidth used.

Each result says what ran (``extras["falsification"]["ran"]``) and why anything did not; a failed fit of one test
is recorded with its reason, never hides the estimate.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from causalspec.designs._family import Fit
from causalspec.designs.regression_discontinuity.fit import _numeric, rd_arrays, rd_options
from causalspec.errors import DataError, Problem
from causalspec.estimators.rd import rddensity, rdrobust

__all__ = ["falsification_check", "PLACEBO_QUANTILES", "DONUT_SHARES"]

PLACEBO_QUANTILES = (0.25, 0.5, 0.75)
DONUT_SHARES = (0.01, 0.025, 0.05)


def _sub(arrays: dict, mask: np.ndarray) -> dict:
    return {k: (None if v is None else v[mask]) for k, v in arrays.items()}


def _summary(r) -> dict:
    return {"estimate": r.coef[0], "std_error": r.se[0], "robust_estimate": r.coef[2], "robust_std_error": r.se[2],
            "robust_p_value": r.pv[2], "robust_ci": list(r.ci[2]), "h": list(r.h), "b": list(r.b),
            "n_effective": list(r.N_h)}


def _fit(y, a: dict, options: dict, *, fuzzy: bool = True, covs: bool = True, **changes) -> dict:
    try:
        r = rdrobust(y, a["x"], fuzzy=a["t"] if fuzzy else None, covs=a["covs"] if covs else None,
                     cluster=a["cluster"], **{**options, **changes})
    except (ValueError, np.linalg.LinAlgError) as exc:
        return {"error": str(exc)}
    return _summary(r)


def _density(a: dict, c: float) -> dict:
    try:
        d = rddensity(a["x"], c)
    except (ValueError, np.linalg.LinAlgError) as exc:
        return {"error": str(exc)}
    return {"statistic": d.statistic, "p_value": d.p_value, "h": list(d.h), "n": list(d.n), "n_effective":
            list(d.n_h), "density": list(d.f), "difference": d.difference, "std_error": list(d.se),
            "r_call": f"rddensity::rddensity(X = x, c = {c:g})"}


def _placebo_cutoffs(fs, a: dict, c: float) -> list[tuple[float, str]]:
    x = a["x"]
    if fs.placebo_cutoffs is None:
        below, above = x[x < c], x[x >= c]
        return ([(float(v), "below") for v in np.quantile(below, PLACEBO_QUANTILES)]
                + [(float(v), "above") for v in np.quantile(above, PLACEBO_QUANTILES)])
    out = []
    for i, v in enumerate(fs.placebo_cutoffs):
        side = x[x < c] if v < c else x[x >= c]
        if not side.min() < v < side.max():
            raise DataError(Problem(
                f"design.falsification.placebo_cutoffs[{i}]", f"the placebo cutoff {v:g} is outside the range of "
                f"the running variable on its side of the cutoff ({side.min():g} to {side.max():g}).",
                fix="Name values inside that range, or leave placebo_cutoffs out (quartiles of each side).",
                code="rd_placebo_cutoff"))
        out.append((float(v), "below" if v < c else "above"))
    return out


def falsification_check(plan, frame: pd.DataFrame, fit: Fit) -> Fit:
    """Run the plan's falsification tests and record them in ``extras["falsification"]`` with a note each."""
    s = plan.settings
    fs = s.falsification
    if fs is None:
        out = {"ran": [], "not_run": {"all": "turned off in the spec (design.falsification.enabled: false)"}}
        return replace(fit, extras={**fit.extras, "falsification": out})
    a = rd_arrays(plan, frame)
    opts = rd_options(plan)
    c = s.cutoff
    out: dict = {"ran": [], "not_run": {}}
    notes, warnings = [], []
    if fs.density:
        out["density"] = _density(a, c)
        out["ran"].append("density")
        d = out["density"]
        if "error" not in d:
            notes.append(f"density test (rddensity): T = {d['statistic']:.3g}, p = {d['p_value']:.3g}")
            if d["p_value"] < 0.05:
                warnings.append(f"manipulation: the running variable's density jumps at the cutoff (rddensity "
                                f"T = {d['statistic']:.3g}, p = {d['p_value']:.3g}); units may sort around it.")
    else:
        out["not_run"]["density"] = "turned off (design.falsification.density: false)"
    names = (*s.covariates, *fs.balance)
    if names:
        out["balance"] = {}
        for i, name in enumerate(names):
            where = f"covariates[{i}]" if i < len(s.covariates) else f"design.falsification.balance[{i - len(s.covariates)}]"
            z = _numeric(frame, name, where)
            out["balance"][name] = _fit(z, a, opts, fuzzy=False, covs=False)
        out["ran"].append("balance")
        bad = [n for n, r in out["balance"].items() if r.get("robust_p_value", 1.0) < 0.05]
        notes.append(f"covariate balance at the cutoff: {len(names) - len(bad)} of {len(names)} covariates show "
                     "no jump (robust p >= 0.05)")
        if bad:
            warnings.append(f"covariate imbalance at the cutoff: {', '.join(bad)} jump(s) there (robust p < 0.05); "
                            "something besides the treatment may change at the cutoff.")
    else:
        out["not_run"]["balance"] = "no covariates (list them under covariates or design.falsification.balance)"
    x = a["x"]
    out["placebo_cutoffs"] = []
    for value, side in _placebo_cutoffs(fs, a, c):
        sub = _sub(a, x < c if side == "below" else x >= c)
        res = _fit(sub["y"], sub, opts, fuzzy=False, c=value)
        out["placebo_cutoffs"].append({"cutoff": value, "side": side, **res})
    out["ran"].append("placebo_cutoffs")
    significant = sum(1 for r in out["placebo_cutoffs"] if r.get("robust_p_value", 1.0) < 0.05)
    notes.append(f"placebo cutoffs: {significant} of {len(out['placebo_cutoffs'])} show a jump (robust p < 0.05)")
    radii = fs.donut if fs.donut is not None else tuple(
        float(v) for v in np.quantile(np.abs(x - c), DONUT_SHARES) if v > 0)
    out["donut"] = []
    for r in radii:
        keep = np.abs(x - c) >= r
        sub = _sub(a, keep)
        out["donut"].append({"radius": r, "dropped": int((~keep).sum()), **_fit(sub["y"], sub, opts)})
    out["ran"].append("donut")
    h = fit.extras["rdrobust"]["h"]
    out["bandwidths"] = [{"multiple": m, **_fit(a["y"], a, opts, h=(m * h[0], m * h[1]), b=None, rho=None)}
                         for m in fs.bandwidths]
    out["ran"].append("bandwidths")
    notes.append(f"falsification tests run: {', '.join(out['ran'])}")
    return replace(fit, extras={**fit.extras, "falsification": out}, notes=(*fit.notes, *notes),
                   warnings=(*fit.warnings, *warnings))
