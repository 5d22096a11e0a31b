"""A badly connected fixed-effects graph: worker and firm effects in an AKM-style panel, causalspec beside pyfixest.

Usage::

    python benchmarks/akm.py                                   # 2e4 and 1e5 workers, 1% and 5% movers a year
    python benchmarks/akm.py --workers 1e5 --move 0.005 0.02

The panel: ``workers`` workers over 10 years at ``workers / 10`` firms; each year a worker moves to a random firm
with probability ``move`` (few movers: the worker-firm graph is badly connected and alternating projections
converge slowly, as in the AKM wage panels of Abowd, Kramarz and Margolis 1999). Wages are
``y = worker + firm + 0.3 x + noise``, ``x`` correlated with both effects. The model is ``y ~ x | worker + firm``,
clustered by worker, each tool in its own process after a warm-up:

* ``causalspec.fit`` -- ``cs.fit`` of a panel spec with that formula (naive contrast and sensitivity included);
* ``causalspec kernel`` -- ``causalspec.estimators.fixest.feols``, which reports its demeaning iterations
  (fixest's accelerated fixed point, ``fixef.tol`` 1e-6, the most iterations over the columns);
* ``pyfixest`` -- ``pyfixest.feols`` with its default demeaner and ``fixef_maxiter`` (10,000; the time shown
  is until it succeeds or gives up); its iterations are read off ``pyfixest.estimation.demean`` on the same
  columns (the smallest ``maxiter`` at which it reports convergence, outside the timing).

The script checks that the coefficients agree and prints seconds, ratios and iterations.  Not part of the test
suite (no timed assertions anywhere).
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
TOOLS = ("causalspec.fit", "causalspec kernel", "pyfixest")
YEARS = 10


def simulate(workers: int, move: float, folder: Path, seed: int = 1999) -> dict:
    rng = np.random.default_rng(seed)
    firms = max(2, workers // 10)
    firm = np.empty((workers, YEARS), dtype=np.int64)
    firm[:, 0] = rng.integers(0, firms, workers)
    for t in range(1, YEARS):
        moves = rng.uniform(size=workers) < move
        firm[:, t] = np.where(moves, rng.integers(0, firms, workers), firm[:, t - 1])
    worker = np.repeat(np.arange(workers), YEARS)
    firm = firm.ravel()
    a, psi = rng.normal(size=workers), rng.normal(size=firms)
    x = 0.5 * a[worker] + 0.5 * psi[firm] + rng.normal(size=worker.size)
    y = a[worker] + psi[firm] + 0.3 * x + rng.normal(scale=0.5, size=worker.size)
    year = np.tile(np.arange(YEARS), workers)
    for name, arr in {"y": y, "x": x, "worker": worker, "firm": firm, "year": year}.items():
        np.save(folder / f"{name}.npy", arr)
    movers = float(np.mean((firm.reshape(workers, YEARS) != firm.reshape(workers, YEARS)[:, :1]).any(axis=1)))
    return {"rows": int(worker.size), "firms": firms, "movers": movers}


def _load(folder: Path):
    import pandas as pd

    return pd.DataFrame({c: np.load(folder / f"{c}.npy") for c in ("y", "x", "worker", "firm", "year")}, copy=False)


def _fit(folder: Path):
    sys.path.insert(0, str(ROOT))
    import causalspec as cs

    spec = cs.Spec(name="akm", treatment="x", outcome="y", dag={"edges": ["x -> y"]},
                   design={"type": "panel", "unit": "worker", "time": "year"},
                   model={"formula": "y ~ x | worker + firm"}, inference={"cluster": ["worker"]})
    plan = cs.plan(spec)

    def go(d):
        r = cs.fit(plan, d)
        return {"coef": r.effect.estimate, "se": r.effect.std_error}
    return go


def _kernel(folder: Path):
    sys.path.insert(0, str(ROOT))
    from causalspec.estimators.fixest import feols
    from causalspec.inference._fixest import fixest_vcov

    def go(d):
        fit = feols(d["y"], d[["x"]], ["x"], d[["worker", "firm"]])
        v = fixest_vcov(fit)
        return {"coef": float(fit.coef[0]), "se": float(v.se[0]), "iterations": int(np.max(fit.iterations))}
    return go


def _pyfixest(folder: Path):
    import pyfixest as pf

    def go(d):
        try:  # its default demeaner and fixef_maxiter (10,000)
            fit = pf.feols("y ~ x | worker + firm", d, vcov={"CRV1": "worker"}, fixef_rm="none", copy_data=False,
                           store_data=False, lean=True)
        except ValueError as exc:  # "Demeaning failed after 10000 iterations."
            return {"failed": str(exc)}
        return {"coef": float(fit.coef().iloc[0]), "se": float(fit.se().iloc[0])}
    return go


def _pyfixest_iterations(d) -> str:
    """How many iterations pyfixest's demeaner needs on [y, x]: the smallest maxiter at which it reports
    convergence, by bisection when that is at most 10,000 (its default); above, only the first of 20,000 and
    40,000 that suffices (each try is a full run)."""
    import pandas as pd
    from pyfixest.estimation import demean

    flist = np.column_stack([pd.factorize(d[c])[0] for c in ("worker", "firm")]).astype(np.uint64)
    x = np.column_stack([d["y"].to_numpy(float), d["x"].to_numpy(float)])
    w = np.ones(len(d))
    ok = lambda m: bool(demean(x, flist, w, tol=1e-6, maxiter=m)[1])  # noqa: E731
    if not ok(10_000):
        for m in (20_000, 40_000):
            if ok(m):
                return f"{m // 2:,}-{m:,}"
        return "> 40,000"
    lo, hi = 0, 10_000
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if ok(mid) else (mid, hi)
    return str(hi)


RUNNERS = {"causalspec.fit": _fit, "causalspec kernel": _kernel, "pyfixest": _pyfixest}


def worker(tool: str, folder: Path) -> dict:
    data = _load(folder)
    go = RUNNERS[tool](folder)
    go(data.iloc[:5000].copy())  # warm-up: imports, numba compilation, thread pools
    base = _rss_mb()
    t0 = time.perf_counter()
    out = go(data)
    out.update(seconds=time.perf_counter() - t0, peak_growth_mb=max(_rss_mb() - base, 0.0))
    if tool == "pyfixest":
        out["iterations"] = _pyfixest_iterations(data)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", nargs="+", default=["2e4", "1e5"])
    ap.add_argument("--move", nargs="+", type=float, default=[0.01, 0.05])
    ap.add_argument("--timeout", type=float, default=3600.0)
    ap.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        tool, folder = args.worker
        print(json.dumps(worker(tool, Path(folder))))
        return 0
    print("| workers | rows | firms | movers | cs.fit | cs kernel | pyfixest | cs.fit / pyfixest | kernel / pyfixest | "
          "iterations (cs, pyfixest) | x: coefficient (cs, pyfixest) |")
    print("|---" * 11 + "|")
    for size in args.workers:
        for move in args.move:
            with tempfile.TemporaryDirectory(prefix="csbench_akm_") as tmp:
                folder = Path(tmp)
                info = simulate(int(float(size)), move, folder)
                res = {t: run_worker(__file__, [t, str(folder)], args.timeout) for t in TOOLS}
                ok = [r for r in res.values() if "coef" in r]
                for r in ok[1:]:
                    assert abs(r["coef"] - ok[0]["coef"]) <= 1e-6 * max(1.0, abs(ok[0]["coef"])), (res,)
                sec = {t: r.get("seconds") for t, r in res.items()}
                cells = [f"{sec[t]:.2f} s" if sec[t] is not None else res[t]["error"] for t in TOOLS]
                if "failed" in res["pyfixest"]:
                    cells[-1] += " (did not converge in its default 10,000 iterations)"
                ratio = (lambda a: f"{sec[a] / sec['pyfixest']:.2f}x" if sec[a] and "coef" in res["pyfixest"] else "-")
                its = ", ".join(str(res[t].get("iterations", "-")) for t in ("causalspec kernel", "pyfixest"))
                coefs = ", ".join(f"{res[t]['coef']:.8f}" if "coef" in res[t] else "-"
                                  for t in ("causalspec.fit", "pyfixest"))
                print(f"| {float(size):.0e} | {info['rows']:.0e} | {info['firms']} | {info['movers']:.1%} | "
                      f"{' | '.join(cells)} | {ratio('causalspec.fit')} | {ratio('causalspec kernel')} | {its} | "
                      f"{coefs} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
