"""Time causalspec's fixest-style feols against pyfixest and linearmodels on simulated panels.

Usage::

    python benchmarks/fixed_effects.py                       # 1e5 and 1e6 rows
    python benchmarks/fixed_effects.py --sizes 1e5 1e6 1e7   # the full table (1e7 is heavy: run once)
    python benchmarks/fixed_effects.py --markdown docs/benchmarks.md

Each (rows, fixed effects, tool) runs in its own Python process so peak memory
(``ru_maxrss``) is the tool's own: we report the growth of the peak resident
set during the fit over the process's resident set with the data loaded, next
to the size of the data.  Every tool fits ``y ~ x1 + x2 | fe...`` with standard
errors clustered by the first FE; the script checks that all tools agree on
the coefficients.  pyfixest (its default Rust MAP demeaner, fixest's
algorithm) and linearmodels are benchmark-only dependencies (``pip install
pyfixest``); a tool that is missing is reported as such.

Panels: ``fe1`` has n/20 levels (individuals observed 20 years), ``fe2`` 20
levels (years; with fe1 a balanced two-way panel, which PanelOLS can fit),
``fe3`` n/1000 levels (firms, randomly matched each year).
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

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
FES = ("fe1", "fe2", "fe3")
TOOLS = ("causalspec", "causalspec.fit", "pyfixest", "linearmodels.AbsorbingLS", "linearmodels.PanelOLS")


def simulate(n: int, folder: Path, seed: int = 20240611) -> int:
    """Write the panel's columns as .npy files; return the data size in bytes."""
    rng = np.random.default_rng(seed)
    g1, g2, g3 = n // 20, 20, max(n // 1000, 2)
    cols = {
        "fe1": np.repeat(np.arange(g1), 20)[:n],   # individuals, 20 years each
        "fe2": np.tile(np.arange(g2), g1)[:n],     # years
        "fe3": rng.integers(0, g3, n),              # firms, randomly matched each year
        "x1": rng.normal(size=n),
        "x2": rng.normal(size=n),
    }
    a1, a2, a3 = rng.normal(size=g1), rng.normal(size=g2), rng.normal(size=g3)
    # Regressors correlated with the FEs, as in real panels.
    cols["x1"] += 0.5 * a1[cols["fe1"]] + 0.3 * a3[cols["fe3"]]
    cols["y"] = (1.0 * cols["x1"] - 0.5 * cols["x2"] + a1[cols["fe1"]] + a2[cols["fe2"]] + a3[cols["fe3"]]
                 + rng.normal(size=n))
    size = 0
    for name, arr in cols.items():
        np.save(folder / f"{name}.npy", arr)
        size += arr.nbytes
    return size


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def _load(folder: Path, nfe: int):
    import pandas as pd
    cols = {c: np.load(folder / f"{c}.npy") for c in ("y", "x1", "x2", *FES[:nfe])}
    return pd.DataFrame(cols, copy=False)


def _run_causalspec(df, fes):
    sys.path.insert(0, str(ROOT))
    from causalspec.estimators.fixest import feols
    from causalspec.inference._fixest import fixest_vcov

    def go(d):
        fit = feols(d["y"], d[["x1", "x2"]], ["x1", "x2"], d[list(fes)])
        v = fixest_vcov(fit)  # clustered by fe1, fixest's default
        return fit.coef, v.se
    return go


def _run_causalspec_fit(df, fes):
    """What the README teaches: cs.fit with default settings (naive contrast and sensitivity included)."""
    sys.path.insert(0, str(ROOT))
    import causalspec as cs

    spec = cs.Spec(name="bench", treatment="x1", outcome="y", dag={"edges": ["x2 -> x1", "x2 -> y", "x1 -> y"]},
                   design={"type": "panel", "unit": "fe1", "time": "fe2"},
                   model={"formula": f"y ~ x1 + x2 | {' + '.join(fes)}"}, inference={"cluster": ["fe1"]})
    plan = cs.plan(spec)

    def go(d):
        r = cs.fit(plan, d)
        rows = {c.term: c for c in r.coefficients}
        return [rows["x1"].estimate, rows["x2"].estimate], [rows["x1"].std_error, rows["x2"].std_error]
    return go


def _run_pyfixest(df, fes):
    import pyfixest as pf

    def go(d):
        fit = pf.feols(f"y ~ x1 + x2 | {' + '.join(fes)}", d, vcov={"CRV1": "fe1"}, fixef_rm="none",
                       copy_data=False, store_data=False, lean=True)
        return fit.coef().to_numpy(), fit.se().to_numpy()
    return go


def _run_absorbing(df, fes):
    import pandas as pd
    from linearmodels.iv.absorbing import AbsorbingLS

    def go(d):
        absorb = pd.DataFrame({f: pd.Categorical(d[f]) for f in fes})
        res = AbsorbingLS(d["y"], d[["x1", "x2"]], absorb=absorb, drop_absorbed=True).fit(
            cov_type="clustered", clusters=d["fe1"].to_numpy())
        return res.params.to_numpy(), res.std_errors.to_numpy()
    return go


def _run_panelols(df, fes):
    from linearmodels.panel import PanelOLS

    def go(d):
        if len(fes) != 2:
            raise NotImplementedError("PanelOLS absorbs exactly an entity and a time effect")
        p = d.set_index(list(fes))
        res = PanelOLS(p["y"], p[["x1", "x2"]], entity_effects=True, time_effects=True).fit(
            cov_type="clustered", cluster_entity=True)
        return res.params.to_numpy(), res.std_errors.to_numpy()
    return go


RUNNERS = {"causalspec": _run_causalspec, "causalspec.fit": _run_causalspec_fit, "pyfixest": _run_pyfixest,
           "linearmodels.AbsorbingLS": _run_absorbing, "linearmodels.PanelOLS": _run_panelols}


def worker(tool: str, folder: Path, nfe: int) -> dict:
    fes = FES[:nfe]
    df = _load(folder, nfe)
    go = RUNNERS[tool](df, fes)
    go(df.iloc[:2000].copy())  # warm-up: imports, JIT, thread pools
    base = _rss_mb()
    t0 = time.perf_counter()
    coef, se = go(df)
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "coef": list(map(float, coef)), "se": list(map(float, se)),
            "peak_growth_mb": max(_rss_mb() - base, 0.0), "rss_with_data_mb": base}


def run_one(tool: str, folder: Path, nfe: int, timeout: float) -> dict:
    return run_worker(__file__, [tool, str(folder), str(nfe)], timeout)


def run_worker(script: str, args: list[str], timeout: float) -> dict:
    """Run ``script --worker *args`` in its own Python process; its last JSON line, or {"error": ...}."""
    cmd = [sys.executable, script, "--worker", *args]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timeout > {timeout:.0f} s"}
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
    if out.returncode != 0 or not lines:
        err = (out.stderr.strip().splitlines() or ["failed"])[-1]
        return {"error": err[:120]}
    return json.loads(lines[-1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="+", default=["1e5", "1e6"])
    ap.add_argument("--fes", nargs="+", type=int, default=[1, 2, 3])
    ap.add_argument("--tools", nargs="+", default=list(TOOLS))
    ap.add_argument("--timeout", type=float, default=1800.0)
    ap.add_argument("--panelols-max-rows", type=float, default=1e6,
                    help="skip PanelOLS above this many rows (it needs ~25x the data in memory)")
    ap.add_argument("--markdown", type=Path, help="write the table to this Markdown file")
    ap.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        tool, folder, nfe = args.worker
        print(json.dumps(worker(tool, Path(folder), int(nfe))))
        return 0

    rows = []
    for size in args.sizes:
        n = int(float(size))
        with tempfile.TemporaryDirectory(prefix="csbench_") as tmp:
            folder = Path(tmp)
            data_bytes = simulate(n, folder)
            for nfe in args.fes:
                used = data_bytes * (3 + nfe) / 6  # y, x1, x2 and the FEs in the model
                results = {}
                for tool in args.tools:
                    if tool == "linearmodels.PanelOLS" and nfe != 2:
                        continue
                    if tool == "linearmodels.PanelOLS" and n > args.panelols_max_rows:
                        results[tool] = {"error": f"skipped above {args.panelols_max_rows:.0e} rows (memory)"}
                        continue
                    results[tool] = run_one(tool, folder, nfe, args.timeout)
                    r = results[tool]
                    shown = f"{r['seconds']:.2f} s" if "seconds" in r else r["error"]
                    print(f"n={n:.0e} fe={nfe} {tool:<26} {shown}", flush=True)
                # the reference: the causalspec kernel, or the first tool run when it is not among them
                ref_name = "causalspec" if "causalspec" in results else next(iter(results))
                ref = results[ref_name]
                for tool, r in results.items():
                    row = {"n": n, "n_fe": nfe, "tool": tool, "data_mb": used / 2**20, "ref": ref_name, **r}
                    if "coef" in r and "coef" in ref:
                        c, c0 = np.asarray(r["coef"]), np.asarray(ref["coef"])
                        row["max_rel_coef_diff"] = float(np.max(np.abs(c - c0) / np.abs(c0)))
                        row["time_ratio"] = r["seconds"] / ref["seconds"]
                    rows.append(row)
    table = render(rows)
    print(table)
    bad = [r for r in rows if r.get("max_rel_coef_diff", 0) > 1e-4]
    for r in bad:
        print(f"DISAGREEMENT: {r['tool']} n={r['n']} fe={r['n_fe']}: {r['max_rel_coef_diff']:.2e}")
    if args.markdown:
        args.markdown.write_text(table + "\n")
    return 1 if bad else 0


def render(rows) -> str:
    head = ("| rows | FEs | tool | seconds | time / reference | peak memory growth (MB) | data (MB) "
            "| growth / data | max rel. coef. diff vs reference |")
    lines = [head, "|" + "---|" * 9]
    for r in rows:
        if "seconds" not in r:
            lines.append(f"| {r['n']:.0e} | {r['n_fe']} | {r['tool']} | {r['error']} | | | {r['data_mb']:.0f} | | |")
            continue
        lines.append(
            f"| {r['n']:.0e} | {r['n_fe']} | {r['tool']} | {r['seconds']:.2f} | "
            + (f"{r['time_ratio']:.2f}" if "time_ratio" in r else "-") + (" (reference)" if r["tool"] == r["ref"] else "")
            + f" | {r['peak_growth_mb']:.0f} | {r['data_mb']:.0f} | {r['peak_growth_mb'] / r['data_mb']:.2f} | "
            + (f"{r['max_rel_coef_diff']:.1e}" if "max_rel_coef_diff" in r else "not compared") + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
