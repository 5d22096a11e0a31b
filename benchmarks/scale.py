"""Time and peak memory of causalspec's engines on simulated Parquet (tools/make_scale_data.py), beside the
in-memory path and pyfixest, for OLS with CR1 and for two-way fixed effects with CR1.

    python benchmarks/scale.py --sizes 1e7 1e8 [--with-3e8] [--data /work/scale_data] [--memory-cap 20]

Each measurement runs in its own process (peak RSS = that process's ``ru_maxrss``).  The in-memory and pyfixest
runs get an address-space cap (``--memory-cap`` GB) so that running out of memory is a MemoryError reported as
"out of memory", not the kernel's OOM killer.  Prints a Markdown table (docs/scale.md has the last one).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
X = ["d", "x1", "x2", "x3"]
METHODS = ("duckdb_ols", "duckdb_fe", "spark_ols", "memory_ols", "memory_fe", "pyfixest_ols", "pyfixest_fe")


def run_one(method: str, path: str) -> dict:
    """One measurement, in this process."""
    t0 = time.perf_counter()
    if method.startswith(("duckdb", "spark")):
        from causalspec import engines as E

        if method.startswith("duckdb"):
            src = E.duckdb.source(os.path.join(path, "*.parquet"), threads=2, memory_limit="3GB")
        else:
            src = E.spark.source(os.path.join(path, "*.parquet"), spark=E.spark.local_session(2, "4g"))
        if method.endswith("ols"):
            fit = E.ols(src, "y", X, vcov="CR1", cluster="cl")
        else:
            fit = E.feols(src, "y", X, ("fe1", "fe2"), vcov="CR1", cluster="cl")
        out = {"coef_d": float(fit.coef[list(fit.names).index("d")]), "se_d": float(fit.se[list(fit.names).index("d")]),
               "nobs": fit.nobs}
    else:
        import pandas as pd

        frame = pd.read_parquet(path)
        if method.startswith("memory"):
            import numpy as np
            from causalspec.designs import complete_cases

            frame, _ = complete_cases(frame, ("y", *X, "fe1", "fe2", "cl"))
            if method == "memory_ols":
                from causalspec.estimators._linear import fit_ols
                from causalspec.inference import vcov

                Xm = np.column_stack([np.ones(len(frame)), frame[X].to_numpy(float)])
                f = fit_ols(frame.y.to_numpy(float), Xm, ["(Intercept)", *X])
                V = vcov(f, "CR1", frame[["cl"]])
                out = {"coef_d": float(f.coef[1]), "se_d": float(V.se[1]), "nobs": f.nobs}
            else:
                from causalspec.estimators.fixest import feols
                from causalspec.inference._fixest import fixest_vcov

                f = feols(frame.y.to_numpy(float), frame[X], X, frame[["fe1", "fe2"]])
                V = fixest_vcov(f, "cluster", frame[["cl"]])
                out = {"coef_d": float(f.coef[0]), "se_d": float(V.se[0]), "nobs": f.nobs}
        else:
            import pyfixest as pf

            fml = "y ~ d + x1 + x2 + x3" + (" | fe1 + fe2" if method == "pyfixest_fe" else "")
            f = pf.feols(fml, data=frame, vcov={"CRV1": "cl"})
            out = {"coef_d": float(f.coef()["d"]), "se_d": float(f.se()["d"]), "nobs": int(f._N)}
    out["seconds"] = time.perf_counter() - t0
    out["peak_rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2
    return out


def measure(method: str, path: Path, cap_gb: float, timeout: int) -> dict:
    capped = method.startswith(("memory", "pyfixest"))

    def limit():
        if capped:
            cap = int(cap_gb * 1024 ** 3)
            resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    try:
        proc = subprocess.run([sys.executable, __file__, "--one", method, "--path", str(path)], capture_output=True,
                              text=True, timeout=timeout, preexec_fn=limit, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return {"error": f"timeout after {timeout} s"}
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode == 0 and lines:
        return json.loads(lines[-1])
    err = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}"
    if "MemoryError" in proc.stderr or "Unable to allocate" in proc.stderr or "bad_alloc" in proc.stderr \
            or proc.returncode in (-9, 137):
        err = f"out of memory (cap {cap_gb:g} GB)"
    return {"error": err}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="+", default=["1e7", "1e8"])
    ap.add_argument("--with-3e8", action="store_true", help="also 3e8 rows (11 GB of Parquet)")
    ap.add_argument("--data", type=Path, default=Path("/work/scale_data"))
    ap.add_argument("--methods", nargs="+", default=[m for m in METHODS if m != "spark_ols"])
    ap.add_argument("--memory-cap", type=float, default=20.0, help="GB of address space for in-memory runs")
    ap.add_argument("--timeout", type=int, default=3600)
    ap.add_argument("--one")
    ap.add_argument("--path")
    args = ap.parse_args(argv)
    if args.one:
        print(json.dumps(run_one(args.one, args.path)))
        return
    sizes = list(args.sizes) + (["3e8"] if args.with_3e8 else [])
    print(f"{time.strftime('%Y-%m-%d')}, {platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print("| rows | method | seconds | peak RSS (GB) | coef d | SE d |")
    print("|---:|---|---:|---:|---:|---:|")
    for size in sizes:
        path = args.data / size
        if not path.exists():
            subprocess.run([sys.executable, str(ROOT / "tools" / "make_scale_data.py"), "--rows", size,
                            "--out", str(path)], check=True)
        for method in args.methods:
            r = measure(method, path, args.memory_cap, args.timeout)
            if "error" in r:
                print(f"| {size} | {method} | {r['error']} | | | |", flush=True)
            else:
                print(f"| {size} | {method} | {r['seconds']:.1f} | {r['peak_rss_gb']:.2f} | {r['coef_d']:.10f} | "
                      f"{r['se_d']:.10f} |", flush=True)


if __name__ == "__main__":
    main()
