"""Time Callaway-Sant'Anna (doubly robust, not-yet-treated) through ``cs.fit`` against the csdid Python port.

Usage::

    python benchmarks/callaway_santanna.py                     # 1e5 and 1e6 rows
    python benchmarks/callaway_santanna.py --sizes 1e6

The panel: ``rows / 10`` units over 10 periods, adoption in period 4, 6 or 8 or never (a quarter each), one
time-invariant covariate that drives adoption and the outcome's trend, a true ATT of 1 growing with exposure.
Both tools estimate every ATT(g, t) by DRDID's doubly robust panel estimator against the not-yet-treated, with
analytical (pointwise) standard errors, and aggregate them to one ATT (did's ``aggte(type = "simple")``):

* ``causalspec.fit`` -- ``cs.fit`` of an event-study spec (``estimator: callaway_santanna``,
  ``control_group: not_yet_treated``, ``est_method: dr``, ``covariates: [x]``), default settings;
* ``csdid`` -- ``ATTgt(..., control_group="notyettreated", xformla="y ~ x").fit(est_method="dr",
  bstrap=False).aggte("simple", bstrap=False)``, the Python port of did / Stata's csdid.

Each runs in its own process after a warm-up; the script checks that the ATTs agree and prints seconds, the
ratio and peak memory growth.  Not part of the test suite (no timed assertions anywhere).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fixed_effects import _rss_mb, run_worker  # noqa: E402  (the same per-process runner and peak-RSS reading)

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ("causalspec.fit", "csdid")
PERIODS = 10


def simulate(n: int, folder: Path, seed: int = 2021) -> float:
    import pandas as pd

    rng = np.random.default_rng(seed)
    units = max(40, n // PERIODS)
    x = rng.normal(size=units)
    cohort = np.array([0, 4, 6, 8])[np.minimum((rng.uniform(size=units) < 1 / (1 + np.exp(-x))) * 1
                                               + rng.integers(0, 3, units), 3)]
    unit, t = np.repeat(np.arange(units), PERIODS), np.tile(np.arange(1, PERIODS + 1), units)
    g = cohort[unit]
    exposure = np.where((g > 0) & (t >= g), t - g + 1, 0)
    y = (rng.normal(size=units)[unit] + 0.1 * t + 0.2 * x[unit] * t + (exposure > 0) * (1 + 0.1 * exposure)
         + rng.normal(size=unit.size))
    df = pd.DataFrame({"id": unit, "t": t, "g": g, "x": x[unit], "y": y, "d": (exposure > 0).astype(int)})
    df.to_parquet(folder / "panel.parquet")
    return df.memory_usage(deep=True).sum() / 2**20


def _causalspec():
    sys.path.insert(0, str(ROOT))
    import causalspec as cs

    spec = cs.Spec(name="cs", treatment="d", outcome="y", estimand="ATT", covariates=["x"],
                   dag={"edges": ["x -> d", "x -> y", "d -> y"]},
                   design={"type": "event_study", "unit": "id", "time": "t", "first_treated": "g",
                           "estimator": "callaway_santanna", "control_group": "not_yet_treated", "est_method": "dr"})
    plan = cs.plan(spec)

    def go(d):
        r = cs.fit(plan, d)
        return r.effect.estimate, r.effect.std_error
    return go


def _csdid():
    import warnings

    from csdid.att_gt import ATTgt

    warnings.filterwarnings("ignore")

    def go(d):
        fit = ATTgt(yname="y", tname="t", idname="id", gname="g", data=d, control_group="notyettreated",
                    xformla="y ~ x").fit(est_method="dr", bstrap=False)
        agg = fit.aggte("simple", bstrap=False).atte
        return float(agg["overall_att"]), float(agg["overall_se"])
    return go


RUNNERS = {"causalspec.fit": _causalspec, "csdid": _csdid}


def worker(tool: str, folder: Path) -> dict:
    import pandas as pd

    data = pd.read_parquet(folder / "panel.parquet")
    go = RUNNERS[tool]()
    small = data[data["id"] < 400].copy()
    go(small)  # warm-up: imports, thread pools
    base = _rss_mb()
    t0 = time.perf_counter()
    att, se = go(data)
    return {"seconds": time.perf_counter() - t0, "att": att, "se": se,
            "peak_growth_mb": max(_rss_mb() - base, 0.0)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="+", default=["1e5", "1e6"])
    ap.add_argument("--timeout", type=float, default=3600.0)
    ap.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        tool, folder = args.worker
        print(json.dumps(worker(tool, Path(folder))))
        return 0
    print("| rows | causalspec.fit | csdid | cs / csdid | peak growth cs (csdid) | ATT (cs, csdid) | SE (cs, csdid) | "
          "data |")
    print("|---" * 8 + "|")
    for size in args.sizes:
        n = int(float(size))
        with tempfile.TemporaryDirectory(prefix="csbench_cs_") as tmp:
            folder = Path(tmp)
            data_mb = simulate(n, folder)
            res = {t: run_worker(__file__, [t, str(folder)], args.timeout) for t in TOOLS}
            sec = {t: r.get("seconds") for t, r in res.items()}
            cells = [f"{sec[t]:.2f} s" if sec[t] is not None else res[t]["error"] for t in TOOLS]
            ratio = f"{sec['causalspec.fit'] / sec['csdid']:.2f}x" if all(sec.values()) else "-"
            mem = " (".join(f"{res[t]['peak_growth_mb']:.0f} MB" if "att" in res[t] else "-" for t in TOOLS) + ")"
            att = ", ".join(f"{res[t]['att']:.10f}" if "att" in res[t] else "-" for t in TOOLS)
            se = ", ".join(f"{res[t]['se']:.8f}" if "se" in res[t] else "-" for t in TOOLS)
            print(f"| {n:.0e} | {' | '.join(cells)} | {ratio} | {mem} | {att} | {se} | {data_mb:.0f} MB |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
