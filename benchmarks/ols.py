"""Time OLS with HC1 and CR1 standard errors through ``cs.fit`` against statsmodels and the normal-equations floor.

Usage::

    python benchmarks/ols.py                        # 1e6 rows
    python benchmarks/ols.py --sizes 1e6 1e7        # the issue's table (1e7 needs ~3 GB per process)

Every (rows, variance, tool) runs in its own Python process, so the peak memory growth (``ru_maxrss`` during the
fit over the resident set with the data loaded) is the tool's own.  The model is ``y ~ x1 + ... + x5`` (x1 the
treatment), 1,000 clusters for CR1.  Tools:

* ``causalspec.fit`` -- what the README teaches: ``cs.fit(plan, data)`` with default settings (the naive
  contrast and the sensitivity statistics included), from a DataFrame;
* ``statsmodels`` -- ``sm.OLS(y, X).fit(cov_type="HC1" | "cluster")`` on the numpy arrays (the design matrix
  built outside the timing, which favours statsmodels);
* ``floor`` -- the normal equations: X'X, X'y, a Cholesky solve and the HC1 / CR1 meat, in numpy (no QR, no
  checks, no R statistics): a lower bound for any exact method.

The script checks that the tools agree on the coefficients and the SEs and prints ratios to statsmodels and to
the floor.  Not part of the test suite (no timed assertions anywhere).
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
TOOLS = ("causalspec.fit", "statsmodels", "floor")
K = 5


def simulate(n: int, folder: Path, seed: int = 20241203) -> int:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, K))
    X[:, 0] += 0.5 * X[:, 1] - 0.3 * X[:, 2]  # the treatment depends on the covariates
    cl = rng.integers(0, 1000, n)
    y = X @ np.arange(1.0, K + 1) + rng.normal(size=1000)[cl] + rng.normal(size=n)
    size = 0
    for name, arr in {"X": X, "y": y, "cl": cl}.items():
        np.save(folder / f"{name}.npy", arr)
        size += arr.nbytes
    return size


def _causalspec(folder: Path, vcov: str):
    import pandas as pd

    sys.path.insert(0, str(ROOT))
    import causalspec as cs

    X = np.load(folder / "X.npy")
    d = pd.DataFrame({f"x{j + 1}": X[:, j] for j in range(K)})
    d["y"], d["cl"] = np.load(folder / "y.npy"), np.load(folder / "cl.npy")
    covs = [f"x{j}" for j in range(2, K + 1)]
    edges = ["x1 -> y"] + [f"{c} -> x1" for c in covs] + [f"{c} -> y" for c in covs]
    inference = {"vcov": "HC1"} if vcov == "HC1" else {"vcov": "CR1", "cluster": ["cl"]}
    plan = cs.plan(cs.Spec(name="bench", treatment="x1", outcome="y", dag={"edges": edges}, adjustment=covs,
                           design={"type": "observational", "estimator": "ols"}, inference=inference))

    def go(frame):
        r = cs.fit(plan, frame)
        rows = {c.term: c for c in r.coefficients}
        names = ["x1", *covs]
        return [rows[t].estimate for t in names], [rows[t].std_error for t in names]
    return d, go


def _statsmodels(folder: Path, vcov: str):
    import statsmodels.api as sm

    X = np.column_stack([np.ones(len(np.load(folder / "y.npy"))), np.load(folder / "X.npy")])
    y, cl = np.load(folder / "y.npy"), np.load(folder / "cl.npy")

    def go(data):
        Xd, yd, cd = data
        kw = {"cov_type": "HC1"} if vcov == "HC1" else {"cov_type": "cluster", "cov_kwds": {"groups": cd}}
        res = sm.OLS(yd, Xd).fit(**kw)
        return list(res.params[1:]), list(res.bse[1:])
    return (X, y, cl), go


def _floor(folder: Path, vcov: str):
    from scipy.linalg import cho_factor, cho_solve

    X = np.column_stack([np.ones(len(np.load(folder / "y.npy"))), np.load(folder / "X.npy")])
    y, cl = np.load(folder / "y.npy"), np.load(folder / "cl.npy")

    def go(data):
        Xd, yd, cd = data
        n, k = Xd.shape
        c = cho_factor(Xd.T @ Xd)
        b = cho_solve(c, Xd.T @ yd)
        e = yd - Xd @ b
        s = Xd * e[:, None]
        if vcov == "HC1":
            meat, adj = s.T @ s, n / (n - k)
        else:
            codes, inv = np.unique(cd, return_inverse=True)
            g = np.zeros((len(codes), k))
            np.add.at(g, inv, s)
            G = len(codes)
            meat, adj = g.T @ g, G / (G - 1) * (n - 1) / (n - k)
        half = cho_solve(c, meat)
        V = cho_solve(c, half.T) * adj
        return list(b[1:]), list(np.sqrt(np.diag(V))[1:])
    return (X, y, cl), go


RUNNERS = {"causalspec.fit": _causalspec, "statsmodels": _statsmodels, "floor": _floor}


def worker(tool: str, folder: Path, vcov: str) -> dict:
    data, go = RUNNERS[tool](folder, vcov)
    small = data.iloc[:2000].copy() if hasattr(data, "iloc") else tuple(a[:2000] for a in data)
    go(small)  # warm-up: imports, thread pools
    base = _rss_mb()
    t0 = time.perf_counter()
    coef, se = go(data)
    return {"seconds": time.perf_counter() - t0, "coef": list(map(float, coef)), "se": list(map(float, se)),
            "peak_growth_mb": max(_rss_mb() - base, 0.0)}


def run_one(tool: str, folder: Path, vcov: str, timeout: float) -> dict:
    return run_worker(__file__, [tool, str(folder), vcov], timeout)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="+", default=["1e6"])
    ap.add_argument("--vcov", nargs="+", default=["HC1", "CR1"])
    ap.add_argument("--timeout", type=float, default=1800.0)
    ap.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        tool, folder, vcov = args.worker
        print(json.dumps(worker(tool, Path(folder), vcov)))
        return 0
    print("| rows | variance | causalspec.fit | statsmodels | floor | cs / statsmodels | cs / floor | "
          "peak growth (cs, statsmodels) | data |")
    print("|---|---|---|---|---|---|---|---|---|")
    for size in args.sizes:
        n = int(float(size))
        with tempfile.TemporaryDirectory(prefix="csbench_ols_") as tmp:
            folder = Path(tmp)
            data_mb = simulate(n, folder) / 2**20
            for vcov in args.vcov:
                res = {t: run_one(t, folder, vcov, args.timeout) for t in TOOLS}
                ok = [r for r in res.values() if "coef" in r]
                for r in ok[1:]:  # every tool fits the same model
                    assert np.allclose(r["coef"], ok[0]["coef"], rtol=1e-9), (r["coef"], ok[0]["coef"])
                    assert np.allclose(r["se"], ok[0]["se"], rtol=1e-6), (r["se"], ok[0]["se"])
                sec = {t: r.get("seconds") for t, r in res.items()}
                cells = [f"{sec[t]:.2f} s" if sec[t] is not None else res[t]["error"] for t in TOOLS]
                ratio = (lambda a, b: f"{sec[a] / sec[b]:.2f}x" if sec[a] and sec[b] else "-")
                mem = ", ".join(f"{res[t]['peak_growth_mb']:.0f} MB" if "coef" in res[t] else "-"
                                for t in ("causalspec.fit", "statsmodels"))
                print(f"| {n:.0e} | {vcov} | {' | '.join(cells)} | {ratio('causalspec.fit', 'statsmodels')} | "
                      f"{ratio('causalspec.fit', 'floor')} | {mem} | {data_mb:.0f} MB |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
