"""Speed of the quasi-experimental designs' kernels against the reference ports.

Run: ``python benchmarks/quasi.py [--sizes 100000 1000000] [--port-python /tmp/rdvenv/bin/python]``.  Not part of
the test suite (no timed assertions anywhere).

``bench_rd()``: rdrobust with bandwidth selection (mserd, triangular, p = 1, vce nn) on simulated sharp RD data,
y = 1 + x + 0.5 x^2 + 2 (x >= 0) + N(0, 1), x uniform on (-1, 1) rounded to 1e-4 (so the running variable has mass
points, as real scores do); causalspec's ``causalspec.estimators.rd.rdrobust`` against the rdrobust Python port
run in its own environment (``pip install rdrobust`` there; numba, if installed there, speeds up the port's
nearest-neighbour loop).  Each timing is the best of ``--repeats`` runs inside one process (start-up excluded);
the estimates are compared too.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from causalspec.estimators.rd import rdrobust  # noqa: E402

PORT_SCRIPT = """
import json, sys, time, warnings
import numpy as np
warnings.simplefilter("ignore")
from rdrobust import rdrobust
d = np.load(sys.argv[1]); repeats = int(sys.argv[2])
best = float("inf")
for _ in range(repeats):
    t0 = time.perf_counter(); r = rdrobust(d["y"], d["x"]); best = min(best, time.perf_counter() - t0)
try:
    import numba  # noqa: F401
    jit = True
except ImportError:
    jit = False
print(json.dumps({"seconds": best, "coef": float(r.coef.values[0, 0]), "h": float(r.bws.values[0, 0]),
                  "numba": jit}))
"""


def simulate_rd(n: int, seed: int = 20240601) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = np.round(rng.uniform(-1, 1, n), 4)
    y = 1 + x + 0.5 * x ** 2 + 2 * (x >= 0) + rng.normal(size=n)
    return y, x


def _time(f, repeats: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = f()
        best = min(best, time.perf_counter() - t0)
    return best, out


def bench_rd(sizes=(100_000, 1_000_000), port_python: str = "/tmp/rdvenv/bin/python", repeats: int = 2) -> list:
    """Time rdrobust with bandwidth selection: causalspec vs the port; print and return the rows."""
    rows = []
    for n in sizes:
        y, x = simulate_rd(n)
        ours, r = _time(lambda: rdrobust(y, x), repeats)
        port = None
        if Path(port_python).exists():
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "rd.npz"
                np.savez(path, y=y, x=x)
                done = subprocess.run([port_python, "-c", PORT_SCRIPT, str(path), str(repeats)], capture_output=True,
                                      text=True, check=True)
                port = json.loads(done.stdout.strip().splitlines()[-1])
        row = {"n": n, "causalspec_seconds": ours, "coef": r.coef[0], "h": r.h[0]}
        if port is not None:
            row.update(port_seconds=port["seconds"], ratio=port["seconds"] / ours, port_numba=port["numba"],
                       coef_rel_diff=abs(port["coef"] - r.coef[0]) / abs(port["coef"]),
                       h_rel_diff=abs(port["h"] - r.h[0]) / abs(port["h"]))
        rows.append(row)
        text = f"rdrobust n = {n:>9,}: causalspec {ours:7.2f} s"
        if port is not None:
            text += (f", port {port['seconds']:7.2f} s ({'numba' if port['numba'] else 'no numba'}): the port "
                     f"takes {row['ratio']:.1f}x as long; estimate differs by {row['coef_rel_diff']:.1e} (relative)")
        print(text, flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--port-python", default="/tmp/rdvenv/bin/python")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    bench_rd(tuple(args.sizes), args.port_python, args.repeats)


# ------------------------------------------------------------------------------------------- synthetic control
SC_PORT_SCRIPT = """
import json, sys, time, warnings
import numpy as np, pandas as pd
warnings.simplefilter("ignore")
from pysyncon import Dataprep, Synth
df = pd.read_csv(sys.argv[1]); limit = int(sys.argv[2])
units = sorted(df.unit.unique()); donors = [u for u in units if u != "treated"]
def prep(treated, controls):
    return Dataprep(foo=df, predictors=["x1", "x2", "x3"], predictors_op="mean", time_predictors_prior=range(1, 31),
                    special_predictors=[("y", [10], "mean"), ("y", [20], "mean"), ("y", [30], "mean")],
                    dependent="y", unit_variable="unit", time_variable="period", treatment_identifier=treated,
                    controls_identifier=controls, time_optimize_ssr=range(1, 31))
t0 = time.perf_counter()
s = Synth(); s.fit(dataprep=prep("treated", donors))
main = {"loss_v": s.loss_V, "weights": dict(zip(donors, map(float, s.W)))}
placebo_losses = []
for d in donors[:limit]:
    p = Synth(); p.fit(dataprep=prep(d, [c for c in donors if c != d])); placebo_losses.append(p.loss_V)
print(json.dumps({"seconds": time.perf_counter() - t0, "fits": 1 + len(placebo_losses), "main": main,
                  "placebo_losses": placebo_losses}))
"""


def simulate_sc(donors: int = 50, periods: int = 40, start: int = 31, seed: int = 20240601):
    """A factor-model panel: one treated unit (a mixture of three donors) and ``donors`` donors, three
    time-invariant-ish predictors, effect -1 from period ``start``."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    f = np.cumsum(rng.normal(size=(periods, 3)), axis=0)
    load = rng.normal(size=(donors, 3))
    w = np.zeros(donors)
    w[:3] = (0.5, 0.3, 0.2)
    rows = []
    for i, lo in enumerate(np.vstack([load, w @ load])):
        name = "treated" if i == donors else f"d{i:02d}"
        y = 10 + f @ lo + rng.normal(scale=0.2, size=periods)
        for t in range(periods):
            treated = name == "treated" and t + 1 >= start
            rows.append({"unit": name, "period": t + 1, "y": y[t] - 1.0 * treated, "d": int(treated),
                         **{f"x{k + 1}": lo[k] + rng.normal(scale=0.1) for k in range(3)}})
    return pd.DataFrame(rows)


def bench_sc(donors: int = 50, periods: int = 40, port_python: str = "/tmp/scvenv/bin/python",
             placebo_limit: int | None = None) -> dict:
    """Synthetic control with every in-space placebo: causalspec (Synth's full search - two starting values,
    Nelder-Mead and BFGS, then the polish - exact W) against pysyncon (its default: one Nelder-Mead run from
    equal weights, W by SLSQP), each sequential on one core, in one run; the ratio is printed."""
    import causalspec as cs
    from causalspec.designs.synthetic_control.fit import fit_synth, synth_inputs
    from causalspec.designs.synthetic_control.panel import build_panel
    from causalspec.estimators.synth import in_space_placebos

    data = simulate_sc(donors, periods)
    limit = donors if placebo_limit is None else placebo_limit
    spec = cs.Spec(name="bench_sc", treatment="d", outcome="y", design={
        "type": "synthetic_control", "estimator": "synth", "unit": "unit", "time": "period",
        "predictors": [{"column": f"x{k}", "window": [1, 30]} for k in (1, 2, 3)]
        + [{"column": "y", "periods": [p]} for p in (10, 20, 30)], "fit_periods": [1, 30]})
    plan = cs.plan(spec)
    t0 = time.perf_counter()
    # the design's fit, then the in-space placebos exactly as its placebo check runs them (each donor treated in
    # turn, the other donors as its pool); leave-one-out and in-time are left out, as pysyncon has neither
    fit = fit_synth(plan, data)
    panel = build_panel(plan, data, one_treated=True)
    P, Zfit, Y, _, _ = synth_inputs(plan, panel)
    in_space_placebos(P, Zfit, Y, 0, list(panel.donors)[:limit] if limit < donors else panel.donors)
    ours = time.perf_counter() - t0
    row = {"donors": donors, "periods": periods, "placebos": limit, "causalspec_seconds": ours,
           "causalspec_loss_v": fit.extras["synthetic_control"]["loss_v"]}
    if Path(port_python).exists():
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "sc.csv"
            data.to_csv(path, index=False)
            done = subprocess.run([port_python, "-c", SC_PORT_SCRIPT, str(path), str(limit)], capture_output=True,
                                  text=True, check=True)
            port = json.loads(done.stdout.strip().splitlines()[-1])
        row.update(pysyncon_seconds=port["seconds"], ratio=port["seconds"] / ours,
                   pysyncon_loss_v=port["main"]["loss_v"])
    text = (f"synthetic control {donors} donors x {periods} periods, {limit} in-space placebos: causalspec "
            f"{ours:7.1f} s (loss.v {row['causalspec_loss_v']:.6g})")
    if "ratio" in row:
        text += (f", pysyncon {row['pysyncon_seconds']:7.1f} s (loss.v {row['pysyncon_loss_v']:.6g}): pysyncon "
                 f"takes {row['ratio']:.1f}x as long")
    print(text, flush=True)
    return row


if __name__ == "__main__":
    main()
    bench_sc()
