"""Time nearest-neighbour propensity-score matching through ``cs.fit`` as the number of units grows.

Usage::

    python benchmarks/matching.py                          # 2.5e4, 5e4, 1e5, 2e5 units
    python benchmarks/matching.py --sizes 1e5 4e5

The model: two confounders, a logistic treatment (about 30% treated), ATT by 1:1 nearest-neighbour matching on
the propensity score within 0.2 SD (``algorithm: exact``), with replacement (the planner's default for the ATT)
and without.  Each fit runs in its own process after a small warm-up.  The script prints seconds per size and
the growth exponent between successive sizes (1 = linear; n log n shows as slightly above 1).  Not part of the
test suite (no timed assertions anywhere).
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def worker(n: int, replace: bool) -> dict:
    import numpy as np
    import pandas as pd

    sys.path.insert(0, str(ROOT))
    import causalspec as cs

    rng = np.random.default_rng(3)
    a, b = rng.normal(size=n), rng.normal(size=n)
    d = (rng.uniform(size=n) < 1 / (1 + np.exp(-(0.5 * a - 0.3 * b - 0.8)))).astype(int)
    y = 2 * d + a + b + rng.normal(size=n)
    df = pd.DataFrame({"a": a, "b": b, "d": d, "y": y})
    spec = cs.Spec(name="m", treatment="d", outcome="y", estimand="ATT",
                   dag={"edges": ["a -> d", "b -> d", "a -> y", "b -> y", "d -> y"]},
                   design={"type": "observational", "estimator": "matching",
                           "matching": {"caliper": 0.2, "algorithm": "exact", "replace": replace}})
    plan = cs.plan(spec)
    cs.fit(plan, df.iloc[:2000].copy())  # warm-up: imports
    t0 = time.perf_counter()
    r = cs.fit(plan, df)
    return {"seconds": time.perf_counter() - t0, "estimate": float(r.effect.estimate)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="+", default=["2.5e4", "5e4", "1e5", "2e5"])
    ap.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(int(float(args.worker[0])), args.worker[1] == "True")))
        return 0
    print("| units | with replacement | exponent | without replacement | exponent |")
    print("|---|---|---|---|---|")
    last: dict[bool, tuple[int, float]] = {}
    for size in args.sizes:
        n = int(float(size))
        cells = []
        for replace in (True, False):
            out = subprocess.run([sys.executable, __file__, "--worker", str(n), str(replace)], capture_output=True,
                                 text=True, check=True)
            sec = json.loads(out.stdout.strip().splitlines()[-1])["seconds"]
            prev = last.get(replace)
            growth = f"{math.log(sec / prev[1]) / math.log(n / prev[0]):.2f}" if prev else "-"
            last[replace] = (n, sec)
            cells += [f"{sec:.2f} s", growth]
        print(f"| {n:.1e} | {' | '.join(cells)} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
