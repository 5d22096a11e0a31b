"""Reference values for the synthetic control parity cases (tests/parity/cases/sc_*.json and sdid_*.json).

Two parts, each in its own virtual environment (neither package is a causalspec dependency):

    python3 -m venv /tmp/scvenv && /tmp/scvenv/bin/pip install pysyncon
    /tmp/scvenv/bin/python tools/reference/build_sc_cases.py synth

    python3 -m venv /tmp/sdvenv && /tmp/sdvenv/bin/pip install numpy==1.23.5 pandas==1.5.3 scipy==1.10.1 \
        statsmodels==0.13.5 matplotlib==3.7.1 && /tmp/sdvenv/bin/pip install --no-deps synthdid==0.10.1
    /tmp/sdvenv/bin/python tools/reference/build_sc_cases.py sdid      # (sdid_sim: only the simulated case)

(synthdid 0.10.1 pins pandas 1.5.3, whose groupby.apply it relies on; with pandas 3 it fails.)

synth: pysyncon's Synth (which reproduces R's Synth) run as R's synth() runs its outer search - from the
equal and the regression-based ('ols') starting values with Nelder-Mead and BFGS, the lowest loss kept - for
the treated unit, every in-space placebo, every leave-one-out donor and the in-time placebo.  The p-value is
computed from pysyncon's gaps with causalspec's rule (rank of the treated unit's post/pre RMSPE ratio).

sdid: the synthdid port's SDID and DiD estimates and weights (its unrounded per-period tau, not its att rounded
to 5 decimals).  Where the port departs from R's synthdid (its synth=True is not R's sc_estimate: it keeps
SDID's zeta and intercept and uniform time weights; its placebo / bootstrap re-derive zeta from each replicate
and start from uniform weights; its jackknife does not renormalise omega), the reference is R's algorithm
written here with the port's own Frank-Wolfe solver (synthdid.solver.sc_weight_fw), and the port's own
number is recorded beside it.  R's random draws are replayed exactly: RRandom below is R's Mersenne-Twister
with set.seed() scrambling and sample()'s rejection sampling (R >= 3.6), checked against R's documented
streams (set.seed(123); runif(3) and sample(1:10)).
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "tests" / "parity" / "cases"
DATA = ROOT / "tests" / "parity" / "data"

BASQUE_DONORS = ["Andalucia", "Aragon", "Principado De Asturias", "Baleares (Islas)", "Canarias", "Cantabria",
                 "Castilla Y Leon", "Castilla-La Mancha", "Cataluna", "Comunidad Valenciana", "Extremadura", "Galicia",
                 "Madrid (Comunidad De)", "Murcia (Region de)", "Navarra (Comunidad Foral De)", "Rioja (La)"]
SCHOOL = ["school.illit", "school.prim", "school.med", "school.high", "school.post.high", "invest"]
SECTORS = ["sec.agriculture", "sec.energy", "sec.industry", "sec.construction", "sec.services.venta",
           "sec.services.nonventa"]
ODD = [1961, 1963, 1965, 1967, 1969]


# --------------------------------------------------------------------------------------- R's random numbers
class RRandom:
    """R's default RNG (Mersenne-Twister, set.seed) and sample.int with sample.kind = "Rejection"."""

    N, M = 624, 397

    def __init__(self, seed: int):
        seed &= 0xFFFFFFFF
        for _ in range(50):
            seed = (69069 * seed + 1) & 0xFFFFFFFF
        state = []
        for _ in range(625):
            seed = (69069 * seed + 1) & 0xFFFFFFFF
            state.append(seed)
        self.mt, self.mti = state[1:], self.N

    def _genrand(self) -> float:
        mt, N, M = self.mt, self.N, self.M
        if self.mti >= N:
            for kk in range(N):
                y = (mt[kk] & 0x80000000) | (mt[(kk + 1) % N] & 0x7FFFFFFF)
                mt[kk] = mt[(kk + M) % N] ^ (y >> 1) ^ (0x9908B0DF if y & 1 else 0)
            self.mti = 0
        y = mt[self.mti]
        self.mti += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9D2C5680
        y ^= (y << 15) & 0xEFC60000
        y ^= y >> 18
        return y * 2.3283064365386963e-10

    def unif_rand(self) -> float:
        x, eps = self._genrand(), 2.328306437080797e-10
        return 0.5 * eps if x <= 0.0 else (1.0 - 0.5 * eps if 1.0 - x <= 0.0 else x)

    def _index(self, dn: int) -> int:
        bits = int(math.ceil(math.log2(dn))) if dn > 1 else 0
        while True:
            v, n = 0, 0
            while n <= bits:
                v = 65536 * v + int(math.floor(self.unif_rand() * 65536))
                n += 16
            v &= (1 << bits) - 1
            if dn > v:
                return v

    def sample(self, n: int, size: int | None = None, replace: bool = False) -> list[int]:
        """sample.int(n, size, replace), 1-based as R returns it."""
        size = n if size is None else size
        if replace:
            return [self._index(n) + 1 for _ in range(size)]
        x, out = list(range(n)), []
        for _ in range(size):
            j = self._index(n)
            out.append(x[j] + 1)
            n -= 1
            x[j] = x[n]
        return out


def _check_rrandom() -> None:
    r = RRandom(123)
    assert [round(r.unif_rand(), 7) for _ in range(3)] == [0.2875775, 0.7883051, 0.4089769]
    assert RRandom(123).sample(10) == [3, 10, 2, 8, 6, 9, 1, 7, 5, 4]


# ----------------------------------------------------------------------------------------------- helpers
def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _write(case: dict) -> None:
    path = CASES / f"{case['id']}.json"
    path.write_text(json.dumps(case, indent=1, allow_nan=False) + "\n")
    print("wrote", path.relative_to(ROOT))


def _data_block(name: str, origin: dict) -> dict:
    path = DATA / name
    return {"file": f"data/{name}", "rows": int(len(pd.read_csv(path))), "sha256": _sha(path), "origin": origin}


BASQUE_ORIGIN = {"package": "pysyncon (GitHub sdfordham/pysyncon, data/basque.csv)", "version": "1.7.0",
                 "upstream_commit": "34350ca548370902bc40cfcf6d37d97b9de0839e",
                 "upstream_sha256": "7f7f90d7a01984a33a2ea3efc311ce826c05b61234a52c27445adacc6f52bf70",
                 "dataset": "basque (R package Synth; Abadie & Gardeazabal 2003)",
                 "derived": "one column added: terrorism = 1 for Basque Country (Pais Vasco) from 1970, else 0"}


# ------------------------------------------------------------------------------------------------- synth
def _best_synth(dataprep):
    from pysyncon import Synth
    runs, best = [], None
    for initial in ("equal", "ols"):
        for method in ("Nelder-Mead", "BFGS"):
            s = Synth()
            try:
                s.fit(dataprep=dataprep, optim_method=method, optim_initial=initial)
            except ValueError as exc:  # 'ols' needs an invertible X'X (R's Synth then keeps the equal run)
                runs.append({"initial": initial, "method": method, "error": str(exc)})
                continue
            runs.append({"initial": initial, "method": method, "loss_v": s.loss_V})
            if best is None or s.loss_V < best.loss_V:
                best = s
    return best, runs


def _gaps(dataprep, s, years) -> list[float]:
    Z0, Z1 = dataprep.make_outcome_mats(time_period=years)
    return [float(g) for g in (Z1 - (Z0 * s.W).sum(axis=1)).to_numpy()]


def _ratio(gaps, years, t0) -> float:
    g, y = np.asarray(gaps), np.asarray(years)
    return float(np.sqrt(np.mean(g[y >= t0] ** 2)) / np.sqrt(np.mean(g[y < t0] ** 2)))


def _dataprep(df, treated, controls, prior, special, fit, predictors=SCHOOL):
    from pysyncon import Dataprep
    return Dataprep(foo=df, predictors=predictors, predictors_op="mean", time_predictors_prior=prior,
                    special_predictors=special, dependent="gdpcap", unit_variable="regionname",
                    time_variable="year", treatment_identifier=treated, controls_identifier=controls,
                    time_optimize_ssr=fit)


def _basque_special(before=None):
    clip = (lambda ts: [t for t in ts if before is None or t < before])
    out = [("gdpcap", clip(range(1960, 1970)), "mean")] + [(c, clip(ODD), "mean") for c in SECTORS]
    out.append(("popdens", clip([1969]), "mean"))
    return [p for p in out if p[1]]


def _spec_predictors(before=None) -> list[dict]:
    out = [{"column": c, "window": [1964, 1969]} for c in SCHOOL]
    out += [{"column": "gdpcap", "window": [1960, 1969]}] + [{"column": c, "periods": ODD} for c in SECTORS]
    return out + [{"column": "popdens", "periods": [1969]}]


def build_synth_basque(donors, case_id, description, placebos=True) -> None:
    df = pd.read_csv(DATA / "basque.csv")
    years = sorted(df["year"].unique().tolist())
    treated, t0 = "Basque Country (Pais Vasco)", 1970
    dp = _dataprep(df, treated, donors, range(1964, 1970), _basque_special(), range(1960, 1970))
    best, runs = _best_synth(dp)
    from pysyncon import Synth
    at_v = Synth()
    at_v.fit(dataprep=dp, custom_V=best.V)  # W given V alone: the inner quadratic program
    expected = {
        "weights": dict(zip(donors, map(float, best.W))), "v": [float(v) for v in best.V],
        "loss_v": float(best.loss_V), "runs": runs, "fit_rmspe": math.sqrt(best.loss_V),
        "years": [int(y) for y in years], "gaps": _gaps(dp, best, years),
        "w_given_v": {"v": [float(v) for v in best.V], "weights": dict(zip(donors, map(float, at_v.W)))}}
    if placebos:
        pl = {}
        for d in donors:
            others = [c for c in donors if c != d]
            s, r = _best_synth(_dataprep(df, d, others, range(1964, 1970), _basque_special(), range(1960, 1970)))
            g = _gaps(_dataprep(df, d, others, range(1964, 1970), _basque_special(), range(1960, 1970)), s, years)
            pl[d] = {"loss_v": float(s.loss_V), "gaps": g, "ratio": _ratio(g, years, t0)}
            print("placebo", d, s.loss_V)
        treated_ratio = _ratio(expected["gaps"], years, t0)
        ratios = [v["ratio"] for v in pl.values()]
        expected["placebos"] = pl
        expected["treated_ratio"] = treated_ratio
        expected["p_value"] = (1 + sum(q >= treated_ratio for q in ratios)) / (1 + len(ratios))
        loo = {}
        for d, w in zip(donors, best.W):
            if w > 1e-6:
                others = [c for c in donors if c != d]
                dpl = _dataprep(df, treated, others, range(1964, 1970), _basque_special(), range(1960, 1970))
                s, _ = _best_synth(dpl)
                g = _gaps(dpl, s, years)
                loo[d] = {"loss_v": float(s.loss_V), "gaps": g,
                          "effect": float(np.mean([x for x, y in zip(g, years) if y >= t0]))}
        expected["leave_one_out"] = loo
        fake = 1965
        dpt = _dataprep(df, treated, donors, range(1964, fake), _basque_special(fake), range(1960, fake))
        s, _ = _best_synth(dpt)
        g = _gaps(dpt, s, years)
        expected["in_time"] = {"placebo_time": fake, "loss_v": float(s.loss_V), "gaps": g,
                               "effect_before_treatment": float(np.mean([x for x, y in zip(g, years)
                                                                         if fake <= y < t0]))}
    spec = {"name": case_id, "treatment": "terrorism", "outcome": "gdpcap", "estimand": "ATT",
            "design": {"type": "synthetic_control", "estimator": "synth", "unit": "regionname", "time": "year",
                       "treated_units": [treated], "treatment_time": t0, "donors": donors,
                       "predictors": _spec_predictors(), "fit_periods": [1960, 1969], "placebo_time": 1965}}
    call = ("Dataprep(foo=basque, predictors=[school.illit, school.prim, school.med, school.high, "
            "school.post.high, invest], predictors_op='mean', time_predictors_prior=range(1964, 1970), "
            "special_predictors=[('gdpcap', range(1960, 1970), 'mean'), (<each sec.*>, range(1961, 1970, 2), "
            "'mean'), ('popdens', [1969], 'mean')], dependent='gdpcap', unit_variable='regionname', "
            "time_variable='year', treatment_identifier='Basque Country (Pais Vasco)', controls_identifier=<donors>, "
            "time_optimize_ssr=range(1960, 1970)); Synth().fit(dataprep, optim_method=m, optim_initial=i) for m in "
            "('Nelder-Mead', 'BFGS'), i in ('equal', 'ols'), lowest loss_V kept (R's synth() rule); placebos: "
            "each donor as treatment_identifier with the other donors as controls, same rule")
    case = {"id": case_id, "family": "synthetic_control", "description": description,
            "data": _data_block("basque.csv", BASQUE_ORIGIN),
            "python_call": call, "python_versions": {"python": sys.version.split()[0], "pysyncon": version("pysyncon"),
                                                      "numpy": np.__version__, "scipy": version("scipy"),
                                                      "pandas": pd.__version__},
            "spec": spec, "expected": expected,
            "tolerance": {"weights_abs": 2e-3, "loss_rel": 1e-4, "gaps_abs": 5e-3, "same_optimum_rel": 1e-4,
                          "note": "pysyncon solves W given V with SLSQP (ftol 1e-6) and stops Nelder-Mead at "
                                  "xatol = fatol = 1e-4: weights agree to about 1e-3, losses to 1e-4 relative when "
                                  "both searches reach the same optimum. Where causalspec's loss is lower by more, "
                                  "it is a different (better) local optimum: reported, not a failure; W given "
                                  "pysyncon's V must still agree."}}
    if case_id == "sc_basque_synth_spain_donor":
        case["expected"]["r_synth_published"] = {"Cataluna": 0.850816306, "Madrid (Comunidad De)": 0.149183694,
                                                 "source": "pysyncon tests/test_synth_basque.py (R Synth's weights)"}
    _write(case)


# -------------------------------------------------------------------------------------------------- sdid
def _r_sdid_weights(Y, N0, T0, opts, omega=None, lam=None):
    """R's synthdid_estimate(Y, N0, T0, weights = list(omega, lambda), <opts>) through the port's solver."""
    from synthdid.solver import sc_weight_fw
    from synthdid.utils import collapse_form, sparsify_function
    N, T = Y.shape
    Yc = np.asarray(collapse_form(Y, N0, T0))
    if opts["update_lambda"]:
        A, b = Yc[:N0, :T0], Yc[:N0, T0]
        first = sc_weight_fw(A, b, lam, intercept=opts["lambda_intercept"], zeta=opts["zeta_lambda"],
                             min_decrease=opts["min_decrease"], max_iter=100)["params"]
        lam = sc_weight_fw(A, b, sparsify_function(first), intercept=opts["lambda_intercept"],
                           zeta=opts["zeta_lambda"], min_decrease=opts["min_decrease"], max_iter=10000)["params"]
    if opts["update_omega"]:
        A, b = Yc[:, :T0].T[:, :N0], Yc[:, :T0].T[:, N0]
        first = sc_weight_fw(A, b, omega, intercept=opts["omega_intercept"], zeta=opts["zeta_omega"],
                             min_decrease=opts["min_decrease"], max_iter=100)["params"]
        omega = sc_weight_fw(A, b, sparsify_function(first), intercept=opts["omega_intercept"],
                             zeta=opts["zeta_omega"], min_decrease=opts["min_decrease"], max_iter=10000)["params"]
    N1, T1 = N - N0, T - T0
    tau = np.concatenate([-omega, np.full(N1, 1 / N1)]) @ Y @ np.concatenate([-lam, np.full(T1, 1 / T1)])
    return float(tau), np.asarray(omega, float), np.asarray(lam, float)


def _r_opts(Y, N0, T0, kind):
    sigma = float(np.std(np.diff(Y[:N0, :T0], axis=1).ravel(), ddof=1))
    eta = ((Y.shape[0] - N0) * (Y.shape[1] - T0)) ** 0.25
    base = {"zeta_lambda": 1e-6 * sigma, "lambda_intercept": True, "min_decrease": 1e-5 * sigma}
    if kind == "sdid":
        return {**base, "zeta_omega": eta * sigma, "omega_intercept": True, "update_omega": True, "update_lambda": True}
    if kind == "sc":
        return {**base, "zeta_omega": 1e-6 * sigma, "omega_intercept": False, "update_omega": True,
                "update_lambda": False}
    return {**base, "zeta_omega": eta * sigma, "omega_intercept": True, "update_omega": False, "update_lambda": False}


def _r_fit(Y, N0, T0, kind):
    opts = _r_opts(Y, N0, T0, kind)
    T0_, N0_ = T0, N0
    lam = np.zeros(T0_) if kind == "sc" else (np.full(T0_, 1 / T0_) if kind == "did" else None)
    omega = np.full(N0_, 1 / N0_) if kind == "did" else None
    tau, omega, lam = _r_sdid_weights(Y, N0, T0, opts, omega, lam)
    return {"tau": tau, "omega": omega, "lambda": lam, "opts": opts}


def _sum_normalize(x):
    s = float(np.sum(x))
    return x / s if s != 0 else np.full(len(x), 1 / len(x))


def _r_placebo_se(Y, N0, T0, fit, draws):
    N1 = Y.shape[0] - N0
    vals = []
    for ind in draws:  # zero-based permutations of the controls
        n0 = len(ind) - N1
        vals.append(_r_sdid_weights(Y[ind], n0, T0, fit["opts"], _sum_normalize(fit["omega"][ind[:n0]]),
                                    fit["lambda"])[0])
    r = len(vals)
    return float(math.sqrt((r - 1) / r) * np.std(vals, ddof=1))


def _r_bootstrap_se(Y, N0, T0, fit, draws):
    vals = []
    for ind in draws:
        ind = np.sort(ind)
        c = ind[ind < N0]
        vals.append(_r_sdid_weights(Y[ind], len(c), T0, fit["opts"], _sum_normalize(fit["omega"][c]), fit["lambda"])[0])
    r = len(vals)
    return float(math.sqrt((r - 1) / r) * np.std(vals, ddof=1))


def _r_jackknife_se(Y, N0, T0, fit):
    """Fixed weights: each replicate is row' Y col with omega renormalised over the controls left in."""
    N, T = Y.shape
    u = []
    for i in range(N):
        ind = np.delete(np.arange(N), i)
        c = ind[ind < N0]
        n1 = N - 1 - len(c)
        om = _sum_normalize(fit["omega"][c])
        row = np.concatenate([-om, np.full(n1, 1 / n1)])
        col = np.concatenate([-fit["lambda"], np.full(T - T0, 1 / (T - T0))])
        u.append(float(row @ Y[ind] @ col))
    return float(math.sqrt((N - 1) / N * (N - 1) * np.var(u, ddof=1)))


def _port(df, unit, time, treat, y):
    from synthdid.synthdid import Synthdid
    out = {}
    for kind, kw in (("sdid", {}), ("did", {"did": True}), ("port_synth", {"synth": True})):
        m = Synthdid(df, unit, time, treat, y).fit(**kw)
        out[kind] = {"tau": float(m.att_info["att_time"].iloc[0]), "att_rounded": float(m.att),
                     "omega": [float(v) for v in m.weights["omega"][0]],
                     "lambda": [float(v) for v in m.weights["lambda"][0]], "units": [str(u) for u in m.Y_units[0]]}
    return out


def _matrix(df, unit, time, treat, y):
    ever = df.groupby(unit)[treat].transform("max")
    d = df.assign(_ever=ever).sort_values(["_ever", unit, time])
    Y = d.pivot_table(index=unit, columns=time, values=y, sort=False)
    N1 = int(d.groupby(unit)["_ever"].first().sum())
    T0 = int((d.loc[d[treat] == 1, time].min() > np.asarray(Y.columns)).sum())
    return Y.to_numpy(float), Y.shape[0] - N1, T0, [str(u) for u in Y.index]


def build_sdid(case_id, data_name, origin, unit, time, treat, y, description, published=None, methods=("placebo",),
               seed=12345, reps=200) -> None:
    df = pd.read_csv(DATA / data_name)
    Y, N0, T0, units = _matrix(df, unit, time, treat, y)
    port = _port(df, unit, time, treat, y)
    assert port["sdid"]["units"][:N0] == units[:N0], "the port orders the controls differently"
    fits = {k: _r_fit(Y, N0, T0, k) for k in ("sdid", "sc", "did")}
    expected = {"N0": N0, "T0": T0, "units": units, "port": port,
                "estimates": {k: fits[k]["tau"] for k in fits},
                "omega": {k: fits[k]["omega"].tolist() for k in ("sdid", "sc")},
                "lambda": {"sdid": fits["sdid"]["lambda"].tolist()}, "se": {}}
    draws = {}
    for method in methods:
        if method == "placebo":
            r = RRandom(seed)
            draws["placebo"] = [[v - 1 for v in r.sample(N0)] for _ in range(reps)]
        if method == "bootstrap":
            r, out = RRandom(seed), []
            while len(out) < reps:
                ind = [v - 1 for v in r.sample(Y.shape[0], replace=True)]
                if all(i < N0 for i in ind) or all(i >= N0 for i in ind):
                    continue
                out.append(ind)
            draws["bootstrap"] = out
        for k in fits:
            if method == "placebo":
                se = _r_placebo_se(Y, N0, T0, fits[k], np.asarray(draws["placebo"]))
            elif method == "bootstrap":
                se = _r_bootstrap_se(Y, N0, T0, fits[k], np.asarray(draws["bootstrap"]))
            else:
                se = _r_jackknife_se(Y, N0, T0, fits[k])
            expected["se"].setdefault(method, {})[k] = se
            print(case_id, method, k, fits[k]["tau"], se)
    if published:
        expected["published"] = published
    spec = {"name": case_id, "treatment": treat, "outcome": y, "estimand": "ATT",
            "design": {"type": "synthetic_control", "estimator": "synthdid", "unit": unit, "time": time}}
    case = {"id": case_id, "family": "synthetic_control", "description": description,
            "data": _data_block(data_name, origin),
            "python_call": ("synthdid.synthdid.Synthdid(df, unit, time, treatment, outcome).fit() | .fit(did=True) "
                            "| .fit(synth=True) (port; its tau per period from att_info, unrounded); R's "
                            "synthdid_estimate / sc_estimate / did_estimate and vcov(method = m, replications = "
                            f"{reps}) after set.seed({seed}) written with the port's sc_weight_fw (see the module "
                            "docstring of tools/reference/build_sc_cases.py)"),
            "python_versions": {"python": sys.version.split()[0], "synthdid": version("synthdid"),
                                "numpy": np.__version__, "pandas": pd.__version__},
            "spec": spec, "draws": draws, "expected": expected,
            "tolerance": {"rel": 1e-8, "weights_abs": 1e-10,
                          "note": "the same Frank-Wolfe iterations with the same stopping rule: agreement to "
                                  "rounding; published values at their printed precision (0.05)"}}
    _write(case)


CALIFORNIA_ORIGIN = {"package": "synthdid (R; GitHub synth-inference/synthdid, data/california_prop99.csv)",
                     "version": "0.0.9", "upstream_commit": "70c1ce3eac58e28c30b67435ca377bb48baa9b8a",
                     "upstream_sha256": "550d24c2f743507d097692d181bdbbf36c6168a39a0b6fc831cc89d98082f7de",
                     "dataset": "california_prop99 (Abadie, Diamond & Hainmueller 2010)",
                     "derived": "';' separators replaced by ','; values unchanged"}


def simulate_block(path: Path) -> None:
    """A factor-model panel with three treated units adopting in period 15 (true effect -2); seeded."""
    rng = np.random.default_rng(20240601)
    N0, N1, T, T0 = 30, 3, 20, 14
    u = rng.normal(size=(N0 + N1, 2)) + np.r_[np.zeros((N0, 2)), np.full((N1, 2), 0.5)]
    f = np.cumsum(rng.normal(size=(T, 2)), axis=0)
    Y = 10 + u @ f.T + rng.normal(size=(N0 + N1, 1)) + rng.normal(scale=0.5, size=(N0 + N1, T))
    rows = []
    for i in range(N0 + N1):
        for t in range(T):
            d = int(i >= N0 and t >= T0)
            rows.append({"unit": f"u{i:02d}", "period": t + 1, "y": round(float(Y[i, t] - 2 * d), 6), "d": d})
    pd.DataFrame(rows).to_csv(path, index=False)


if __name__ == "__main__":
    part = sys.argv[1] if len(sys.argv) > 1 else "synth"  # synth | sdid | sdid_sim
    _check_rrandom()
    if part == "synth":
        build_synth_basque(BASQUE_DONORS, "sc_basque_synth",
                           "Basque Country, terrorism from 1970: Synth's documented example (?synth: predictors, "
                           "windows, time.optimize.ssr = 1960:1969, controls 2:16 and 18, Spain left out); weights, "
                           "loss, gaps, in-space placebos and p-value, leave-one-out, in-time placebo (1965)")
        build_synth_basque(["Spain (Espana)"] + BASQUE_DONORS, "sc_basque_synth_spain_donor",
                           "pysyncon's own Basque test configuration (Spain among the donors), whose weights are "
                           "R Synth's (Cataluna 0.8508, Madrid 0.1492): weights, loss and gaps", placebos=False)
    if part == "sdid":
        build_sdid("sdid_prop99", "california_prop99.csv", CALIFORNIA_ORIGIN, "State", "Year", "treated",
                   "PacksPerCapita", "California Proposition 99, 1970-2000 (Arkhangelsky et al. 2021, Table 1): "
                   "SDID, SC and DiD estimates and weights; placebo SEs with R's set.seed(12345) draws, 200 "
                   "replications, as vignettes/paper-results.Rmd computes Table 1",
                   published={"sdid": [-15.6, 8.4], "sc": [-19.6, 9.9], "did": [-27.3, 17.7],
                              "source": "Arkhangelsky, Athey, Hirshberg, Imbens & Wager (2021), AER 111(12), Table 1"})
    if part in ("sdid", "sdid_sim"):
        simulate_block(DATA / "sdid_sim_block.csv")
        build_sdid("sdid_sim_block", "sdid_sim_block.csv",
                   {"package": "simulated by tools/reference/build_sc_cases.py (simulate_block, seed 20240601)",
                    "version": "-", "dataset": "30 controls, 3 treated units adopting in period 15, 20 periods, "
                    "a two-factor model, true effect -2"},
                   "unit", "period", "d", "y", "Several treated units with a common adoption time: SDID, SC, DiD "
                   "estimates and weights; placebo and bootstrap SEs with R's set.seed(12345) draws (50 "
                   "replications, to keep the replay short), the fixed-weights jackknife",
                   methods=("placebo", "bootstrap", "jackknife"), reps=50)
