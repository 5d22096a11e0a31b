"""Time a whole analysis with its refutation tests: ``causalspec run`` against DoWhy's refuters, in one run.

Usage::

    python benchmarks/refutations.py                       # 1e5 and 1e6 rows
    python benchmarks/refutations.py --sizes 1e6 --jobs 1 2

The study is the bundled feature-adoption simulator (``specs/feature_adoption.yaml``: OLS adjusting for account
age and activity, HC2), written to a Parquet file.  Each tool runs in its own process:

* ``causalspec run`` -- the command line as users call it, ``causalspec run SPEC --data FILE --jobs N``: start-up,
  import, reading the file, plan, fit (naive contrast and sensitivity included), DAG checks and the default
  refutations (placebo treatment, random common cause, data subsets; 100 replications each), wall-clock;
* ``cs.run`` -- the same in Python after a warm-up, so import and start-up are not counted;
* ``dowhy`` -- ``CausalModel`` with the plan's adjustment set as common causes (the same regression),
  ``backdoor.linear_regression``, then
  ``placebo_treatment_refuter`` (permute), ``random_common_cause`` and ``data_subset_refuter`` (0.8) with 100
  simulations each and the same ``n_jobs``; read from the same Parquet file, import not counted.

Peak memory growth is ``ru_maxrss`` over the resident set with the data loaded (for the command line: the child's
peak).  The script prints seconds, the ratios to DoWhy and the estimates.  Not part of the test suite (no timed
assertions anywhere).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fixed_effects import _rss_mb, run_worker  # noqa: E402  (the same per-process runner and peak-RSS reading)

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "specs" / "feature_adoption.yaml"
B = 100


def simulate(n: int, folder: Path) -> float:
    sys.path.insert(0, str(ROOT))
    import causalspec as cs

    df = cs.datasets.feature_adoption(n=n, seed=1)
    df.to_parquet(folder / "data.parquet")
    return df.memory_usage(deep=True).sum() / 2**20


def _cli(folder: Path, jobs: int) -> dict:
    cmd = [sys.executable, "-c", "import sys; from causalspec.cli import main; sys.exit(main())", "run", str(SPEC),
           "--data", str(folder / "data.parquet"), "--jobs", str(jobs), "--json"]
    t0 = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    seconds = time.perf_counter() - t0
    if out.returncode != 0:
        return {"error": (out.stderr.strip().splitlines() or ["failed"])[-1][:120]}
    effect = json.loads(out.stdout)["effect"]["estimate"]
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
    return {"seconds": seconds, "estimate": effect, "peak_mb": peak}


def _cs_run(folder: Path, jobs: int) -> dict:
    import pandas as pd

    sys.path.insert(0, str(ROOT))
    import causalspec as cs

    data = pd.read_parquet(folder / "data.parquet")
    spec = cs.load(SPEC)
    cs.run(spec, data=data.iloc[:2000].copy(), n_jobs=jobs)  # warm-up: imports, thread pools
    base = _rss_mb()
    t0 = time.perf_counter()
    result = cs.run(spec, data=data, n_jobs=jobs)
    seconds = time.perf_counter() - t0
    verdicts = {t.name: t.verdict for t in result.refutations.tests}
    return {"seconds": seconds, "estimate": result.effect.estimate, "peak_growth_mb": max(_rss_mb() - base, 0.0),
            "verdicts": verdicts}


def _dowhy(folder: Path, jobs: int) -> dict:
    import logging
    import warnings

    import pandas as pd
    from dowhy import CausalModel

    logging.disable(logging.WARNING)
    warnings.filterwarnings("ignore")
    data = pd.read_parquet(folder / "data.parquet")
    def go(frame):  # the model causalspec's plan fits (DoWhy's own choice from the graph adds promo_email)
        model = CausalModel(data=frame, treatment="feature_usage", outcome="spend",
                            common_causes=["account_age", "activity", "region_index"])
        estimand = model.identify_effect(proceed_when_unidentifiable=True)
        estimate = model.estimate_effect(estimand, method_name="backdoor.linear_regression")
        for name, opts in (("placebo_treatment_refuter", {"placebo_type": "permute"}),
                           ("random_common_cause", {}), ("data_subset_refuter", {"subset_fraction": 0.8})):
            model.refute_estimate(estimand, estimate, method_name=name, num_simulations=B, n_jobs=jobs,
                                  random_seed=1, show_progress_bar=False, **opts)
        return float(estimate.value)

    go(data.iloc[:2000].copy())
    base = _rss_mb()
    t0 = time.perf_counter()
    value = go(data)
    return {"seconds": time.perf_counter() - t0, "estimate": value, "peak_growth_mb": max(_rss_mb() - base, 0.0)}


RUNNERS = {"causalspec run": _cli, "cs.run": _cs_run, "dowhy": _dowhy}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="+", default=["1e5", "1e6"])
    ap.add_argument("--jobs", nargs="+", type=int, default=[1, 2])
    ap.add_argument("--tools", nargs="+", default=list(RUNNERS))
    ap.add_argument("--timeout", type=float, default=3600.0)
    ap.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        tool, folder, jobs = args.worker
        print(json.dumps(RUNNERS[tool](Path(folder), int(jobs))))
        return 0
    tools = [t for t in RUNNERS if t in args.tools]
    print(f"| rows | n_jobs | {' | '.join(tools)} | " + " | ".join(f"{t} / dowhy" for t in tools if t != "dowhy")
          + " | peak (cs.run growth, dowhy growth, CLI process) | estimates | data |")
    print("|---" * (3 + len(tools) + sum(t != "dowhy" for t in tools) + 2) + "|")
    for size in args.sizes:
        n = int(float(size))
        with tempfile.TemporaryDirectory(prefix="csbench_refute_") as tmp:
            folder = Path(tmp)
            data_mb = simulate(n, folder)
            for jobs in args.jobs:
                res = {t: run_worker(__file__, [t, str(folder), str(jobs)], args.timeout) for t in tools}
                sec = {t: r.get("seconds") for t, r in res.items()}
                cells = [f"{sec[t]:.2f} s" if sec[t] is not None else res[t]["error"] for t in tools]
                ratios = [f"{sec[t] / sec['dowhy']:.3f}x" if sec[t] and sec.get("dowhy") else "-"
                          for t in tools if t != "dowhy"]
                mem = ", ".join(f"{res[t][key]:.0f} MB" if key in res.get(t, {}) else "-" for t, key in
                                (("cs.run", "peak_growth_mb"), ("dowhy", "peak_growth_mb"), ("causalspec run", "peak_mb")))
                est = ", ".join(f"{res[t]['estimate']:.4f}" for t in tools if "estimate" in res[t])
                print(f"| {n:.0e} | {jobs} | {' | '.join(cells)} | {' | '.join(ratios)} | {mem} | {est} | "
                      f"{data_mb:.0f} MB |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
