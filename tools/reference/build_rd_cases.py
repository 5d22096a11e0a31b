"""Build the regression discontinuity parity cases (tests/parity/cases/rd_senate_*.json) with the rdpackages'
Python ports, which reproduce the R and Stata packages.

Run it in a separate environment that has the ports (never in causalspec's):

    python3 -m venv /tmp/rdvenv && /tmp/rdvenv/bin/pip install rdrobust rddensity rdlocrand
    /tmp/rdvenv/bin/python tools/reference/build_rd_cases.py

Data: tests/parity/data/rdrobust_senate.csv, the rdrobust repository's Python/rdrobust_senate.csv (provenance in
specs/data/rdrobust_senate.md).  Each case records the exact call, the package versions and the causalspec spec
fields that reproduce it (``spec``: overrides of specs/rd_senate.yaml); tests/parity/test_rd_parity.py replays them.
"""

from __future__ import annotations

import hashlib
import json
import platform
import sys
import warnings
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd
from rddensity import rddensity
from rdrobust import rdplot, rdrobust

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "parity" / "data" / "rdrobust_senate.csv"
CASES = ROOT / "tests" / "parity" / "cases"
LABELS = ("Conventional", "Bias-Corrected", "Robust")
COVS = ["class", "termshouse", "termssenate"]
TOL = {"rel": 1e-8, "abs": 1e-12}
TAKEUP = ("takeup = 1 for margin >= 0 except seats of class 1 won by less than 1 point, and for seats of class 3 "
          "lost by less than 1 point (-1 < margin < 0); else 0: a constructed two-sided imperfect take-up for "
          "numerical parity of the fuzzy estimator (not a substantive analysis)")


def takeup(d: pd.DataFrame) -> pd.Series:
    treated = (d.margin >= 0) & ~((d["class"] == 1) & (d.margin < 1))
    crossed = (d["class"] == 3) & (d.margin > -1) & (d.margin < 0)
    return (treated | crossed).astype(float)


def _data() -> dict:
    raw = DATA.read_bytes()
    return {"file": "data/rdrobust_senate.csv", "rows": int(pd.read_csv(DATA).shape[0]),
            "sha256": hashlib.sha256(raw).hexdigest(),
            "origin": {"repository": "rdpackages/rdrobust", "path": "Python/rdrobust_senate.csv",
                       "commit": "a9e62bf776d42c8284aabf16916860cd1fe867df",
                       "dataset": "U.S. Senate elections 1914-2010 (Cattaneo, Frandsen & Titiunik 2015)"}}


def _versions() -> dict:
    return {"python": platform.python_version(), "rdrobust": version("rdrobust"), "rddensity": version("rddensity"),
            "numpy": np.__version__, "pandas": pd.__version__, "scipy": version("scipy"),
            "platform": platform.platform()}


def _rows(df) -> dict:
    return {lab: float(v) for lab, v in zip(LABELS, np.ravel(df.values))}


def _rdrobust_expected(r) -> dict:
    out = {"coef": _rows(r.coef), "se": _rows(r.se), "z": _rows(r.z), "pv": _rows(r.pv),
           "ci": {lab: [float(a), float(b)] for lab, (a, b) in zip(LABELS, r.ci.values)},
           "h": [float(v) for v in r.bws.loc["h"]], "b": [float(v) for v in r.bws.loc["b"]],
           "N": [int(v) for v in r.N], "N_h": [int(v) for v in r.N_h], "N_b": [int(v) for v in r.N_b],
           "M": [int(v) for v in r.M], "tau_cl": [float(v) for v in r.tau_cl],
           "tau_bc": [float(v) for v in r.tau_bc], "bias": [float(v) for v in r.bias]}
    if r.tau_T is not None:
        out["first_stage"] = {"coef": _rows(r.tau_T), "se": _rows(r.se_T), "pv": _rows(r.pv_T)}
    return out


def rd_case(name: str, description: str, call: str, spec: dict, **kwargs) -> dict:
    """One rdrobust case: ``kwargs`` are the port's arguments besides y and x, as column names or values."""
    d = pd.read_csv(DATA)
    d["takeup"] = takeup(d)
    cols = ["vote", "margin"] + kwargs.get("covs", []) + [v for v in (kwargs.get("fuzzy"), kwargs.get("cluster"))
                                                          if v is not None]
    d = d.dropna(subset=cols)
    args = dict(kwargs)
    for key in ("fuzzy", "cluster"):
        if key in args:
            args[key] = d[args[key]]
    if "covs" in args:
        args["covs"] = d[args["covs"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = rdrobust(d.vote, d.margin, **args)
    return {"id": f"rd_senate_{name}", "family": "regression_discontinuity", "description": description,
            "data": _data(), "derived_columns": {"democrat_won": "margin >= 0 (1/0)", "takeup": TAKEUP},
            "python_call": f"rdrobust.rdrobust({call})  # rdrobust {version('rdrobust')} (PyPI)",
            "versions": _versions(), "spec": spec, "expected": {"rdrobust": _rdrobust_expected(r)},
            "tolerance": TOL}


def density_case() -> dict:
    d = pd.read_csv(DATA)
    out = {}
    for c in (0.0, 5.0):
        r = rddensity(X=d.margin.values, c=c)
        out[f"{c:g}"] = {"h": [float(r.h["left"]), float(r.h["right"])],
                         "f": [float(r.hat["left"]), float(r.hat["right"])], "difference": float(r.hat["diff"]),
                         "se": [float(r.sd_jk["left"]), float(r.sd_jk["right"]), float(r.sd_jk["diff"])],
                         "statistic": float(r.test["t_jk"]), "p_value": float(r.test["p_jk"]),
                         "n": [int(r.n["left"]), int(r.n["right"])],
                         "n_h": [int(r.n["eff_left"]), int(r.n["eff_right"])]}
    return {"id": "rd_senate_density", "family": "regression_discontinuity",
            "description": "the manipulation test of the running variable (Democratic margin) at the cutoff 0 and at "
                           "5, rddensity's defaults (p = 2, q = 3, unrestricted fit, triangular kernel, jackknife "
                           "variance, bwselect comb, mass points); all 1390 rows (margin has no missing values)",
            "data": _data(), "python_call": f"rddensity.rddensity(X = margin, c = c)  # rddensity "
                                            f"{version('rddensity')} (PyPI)",
            "versions": _versions(), "expected": out, "tolerance": TOL}


def rdplot_case() -> dict:
    d = pd.read_csv(DATA).dropna(subset=["vote"])
    out = {}
    for bs in ("esmv", "es", "qs", "qsmv"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = rdplot(d.vote, d.margin, binselect=bs, hide=True)
        vb = r.vars_bins
        out[bs] = {"J": [int(v) for v in r.J], "J_IMSE": [float(v) for v in r.J_IMSE],
                   "J_MV": [float(v) for v in r.J_MV], "mid": vb.rdplot_mean_bin.tolist(),
                   "mean_x": vb.rdplot_mean_x.tolist(), "mean_y": vb.rdplot_mean_y.tolist(),
                   "count": [int(v) for v in vb.rdplot_N], "poly_left": r.coef.Left.tolist(),
                   "poly_right": r.coef.Right.tolist()}
    return {"id": "rd_senate_rdplot", "family": "regression_discontinuity",
            "description": "rdplot's bins (number, midpoints, means, counts) and global polynomials (p = 4) for "
                           "binselect esmv (the default), es, qs and qsmv; the quartic's coefficients come from "
                           "an ill-conditioned fit of raw powers of margin (up to 100^8 in the cross-product) and "
                           "agree to about 1e-8, so they have their own tolerance",
            "data": _data(), "python_call": f"rdrobust.rdplot(y = vote, x = margin, binselect = bs, hide = True)  # "
                                            f"rdrobust {version('rdrobust')} (PyPI)",
            "versions": _versions(), "expected": out, "tolerance": {**TOL, "poly": 1e-6}}


def _summary(r) -> dict:
    return {"estimate": float(r.coef.values[0, 0]), "robust_estimate": float(r.coef.values[2, 0]),
            "robust_std_error": float(r.se.values[2, 0]), "robust_p_value": float(r.pv.values[2, 0]),
            "robust_ci": [float(v) for v in r.ci.values[2]], "h": [float(v) for v in r.bws.loc["h"]],
            "n_effective": [int(v) for v in r.N_h]}


def falsification_case() -> dict:
    """The falsification tests specs/rd_senate.yaml runs, each computed here with the ports on the analysis
    sample (rows with a next-election vote): the density test, balance of class, population and year, placebo
    cutoffs at the quartiles (numpy's default, R's type 7) of each side with rdrobust on that side's rows only,
    donut holes at the 1%, 2.5% and 5% quantiles of |margin|, and h = m * h_mserd for m = 0.5, 0.75, 1.25, 1.5,
    2 (b = h)."""
    d = pd.read_csv(DATA).dropna(subset=["vote"])
    x, y = d.margin.to_numpy(), d.vote.to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        main_fit = rdrobust(y, x)
        dens = rddensity(X=x, c=0.0)
        out = {"density": {"statistic": float(dens.test["t_jk"]), "p_value": float(dens.test["p_jk"]),
                           "h": [float(dens.h["left"]), float(dens.h["right"])]},
               "balance": {z: _summary(rdrobust(d[z].to_numpy(), x)) for z in ("class", "population", "year")}}
        placebo = []
        for side, mask in (("below", x < 0), ("above", x >= 0)):
            for v in np.quantile(x[mask], (0.25, 0.5, 0.75)):
                placebo.append({"cutoff": float(v), "side": side, **_summary(rdrobust(y[mask], x[mask], c=float(v)))})
        out["placebo_cutoffs"] = placebo
        donut = []
        for r in np.quantile(np.abs(x), (0.01, 0.025, 0.05)):
            keep = np.abs(x) >= r
            donut.append({"radius": float(r), "dropped": int((~keep).sum()), **_summary(rdrobust(y[keep], x[keep]))})
        out["donut"] = donut
        h = main_fit.bws.loc["h"].to_numpy()
        out["bandwidths"] = [{"multiple": m, **_summary(rdrobust(y, x, h=(m * h[0], m * h[1])))}
                             for m in (0.5, 0.75, 1.25, 1.5, 2.0)]
    return {"id": "rd_senate_falsification", "family": "regression_discontinuity",
            "description": falsification_case.__doc__.replace("\n    ", " ").strip(), "data": _data(),
            "derived_columns": {"democrat_won": "margin >= 0 (1/0)"},
            "python_call": "rddensity.rddensity(X = margin, c = 0); rdrobust.rdrobust(y = z, x = margin) for z in "
                           "class, population, year; rdrobust.rdrobust(y = vote[side], x = margin[side], c = q); "
                           "rdrobust.rdrobust(y = vote[keep], x = margin[keep]); rdrobust.rdrobust(y = vote, x = "
                           f"margin, h = m * h)  # rdrobust {version('rdrobust')}, rddensity {version('rddensity')}",
            "versions": _versions(), "spec": {}, "expected": out, "tolerance": TOL}


def main() -> None:
    cases = [rd_case("default", "sharp RD, rdrobust's defaults: p = 1, q = 2, triangular kernel, mserd, vce nn",
                     "y = vote, x = margin", {})]
    for k in ("epanechnikov", "uniform"):
        cases.append(rd_case(f"kernel_{k}", f"the {k} kernel", f"y = vote, x = margin, kernel = '{k}'",
                             {"design": {"kernel": k}}, kernel=k))
    cases.append(rd_case("p2", "local quadratic (p = 2, q = 3)", "y = vote, x = margin, p = 2", {"design": {"p": 2}},
                         p=2))
    for bw in ("msetwo", "msesum", "msecomb1", "msecomb2", "cerrd", "certwo", "cersum", "cercomb1", "cercomb2"):
        cases.append(rd_case(f"bwselect_{bw}", f"bandwidths by {bw}", f"y = vote, x = margin, bwselect = '{bw}'",
                             {"design": {"bwselect": bw}}, bwselect=bw))
    for v in ("hc0", "hc1", "hc2", "hc3"):
        cases.append(rd_case(f"vce_{v}", f"plug-in residual variance {v}", f"y = vote, x = margin, vce = '{v}'",
                             {"inference": {"vcov": v.upper()}}, vce=v))
    cases.append(rd_case("covariates", "covariate-adjusted (class, termshouse, termssenate; rows missing them "
                         "dropped)", "y = vote, x = margin, covs = senate[['class', 'termshouse', 'termssenate']]",
                         {"covariates": COVS}, covs=COVS))
    cases.append(rd_case("cluster_cr1", "clustered by state: vce cr1 (what rdrobust 2.1 uses for nn with a "
                         "cluster)", "y = vote, x = margin, cluster = state", {"inference": {"cluster": ["state"]}},
                         cluster="state"))
    cases.append(rd_case("cluster_cr2", "clustered by state: vce cr2 (Bell-McCaffrey)",
                         "y = vote, x = margin, cluster = state, vce = 'cr2'",
                         {"inference": {"vcov": "CR2", "cluster": ["state"]}}, cluster="state", vce="cr2"))
    cases.append(rd_case("covariates_cluster_msetwo", "covariates, clustered by state (cr1), msetwo (rdrobust's "
                         "illustration)", "y = vote, x = margin, covs = senate[COVS], cluster = state, bwselect = "
                         "'msetwo'", {"covariates": COVS, "design": {"bwselect": "msetwo"},
                                      "inference": {"cluster": ["state"]}}, covs=COVS, cluster="state",
                         bwselect="msetwo"))
    cases.append(rd_case("fuzzy", "fuzzy RD with the constructed take-up (derived_columns.takeup)",
                         "y = vote, x = margin, fuzzy = takeup", {"treatment": "takeup", "design": {"fuzzy": True}},
                         fuzzy="takeup"))
    cases.append(rd_case("fuzzy_covariates", "fuzzy RD with covariates",
                         "y = vote, x = margin, fuzzy = takeup, covs = senate[COVS]",
                         {"treatment": "takeup", "covariates": COVS, "design": {"fuzzy": True}}, fuzzy="takeup",
                         covs=COVS))
    cases.append(rd_case("fixed_h", "fixed bandwidths h = (12, 15), b = (18, 20) (rdrobust's illustration)",
                         "y = vote, x = margin, h = (12, 15), b = (18, 20)",
                         {"design": {"h": [12, 15], "b": [18, 20]}}, h=(12, 15), b=(18, 20)))
    cases.append(rd_case("fixed_h_rho", "fixed h = 10 with rho = 0.5 (b = 20)", "y = vote, x = margin, h = 10, "
                         "rho = 0.5", {"design": {"h": 10, "rho": 0.5}}, h=10, rho=0.5))
    cases.append(rd_case("rho", "selected h with rho = 1 (b = h)", "y = vote, x = margin, rho = 1",
                         {"design": {"rho": 1}}, rho=1))
    cases += [density_case(), rdplot_case(), falsification_case()]
    for case in cases:
        (CASES / f"{case['id']}.json").write_text(json.dumps(case, indent=2) + "\n")
    print(f"wrote {len(cases)} cases to {CASES}", file=sys.stderr)


if __name__ == "__main__":
    main()
