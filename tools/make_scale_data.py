"""Simulated Parquet for the scale benchmark and the engine docs: y, d, three covariates, two fixed effects and a
cluster id, written in parts of at most 10 million rows (so it never has to fit in memory).

    python tools/make_scale_data.py --rows 1e7 --out /tmp/scale_1e7   # -> /tmp/scale_1e7/part-0000.parquet ...

Columns: ``y`` (float, 0.1% missing), ``d`` (0/1 treatment), ``x1``-``x3`` (float), ``fe1`` (int, 100,000 levels:
the unit), ``fe2`` (int, 50 levels: the period), ``cl`` (int, 5,000 clusters; each fe1 level lies in one).
The model: y = 1 + 0.5 d + 0.3 x1 - 0.2 x2 + 0.1 x3 + a[fe1] + b[fe2] + cluster shock + noise.  Seeded: the same
arguments always write the same files.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

N_FE1, N_FE2, N_CL = 100_000, 50, 5_000
CHUNK = 10_000_000


def make_part(n: int, seed: int, a: np.ndarray, b: np.ndarray, shock: np.ndarray):
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    fe1 = rng.integers(0, N_FE1, n, dtype=np.int32)
    fe2 = rng.integers(0, N_FE2, n, dtype=np.int32)
    cl = (fe1 // (N_FE1 // N_CL)).astype(np.int32)
    x1 = rng.normal(size=n) + 0.2 * a[fe1]
    x2 = rng.normal(size=n) + 0.1 * b[fe2]
    x3 = rng.normal(size=n)
    d = (rng.random(n) < 0.3 + 0.1 * (a[fe1] > 0)).astype(np.int8)
    y = 1 + 0.5 * d + 0.3 * x1 - 0.2 * x2 + 0.1 * x3 + a[fe1] + b[fe2] + shock[cl] + rng.normal(size=n)
    mask = rng.random(n) < 0.001
    cols = {"y": pa.array(y, mask=mask), "d": d, "x1": x1, "x2": x2, "x3": x3, "fe1": fe1, "fe2": fe2, "cl": cl}
    return pa.table(cols)


def main(argv=None) -> None:
    import pyarrow.parquet as pq

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=float, required=True, help="number of rows, e.g. 1e7")
    ap.add_argument("--out", type=Path, required=True, help="folder for part-NNNN.parquet")
    ap.add_argument("--seed", type=int, default=2024)
    args = ap.parse_args(argv)
    rows = int(args.rows)
    args.out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    a, b, shock = rng.normal(size=N_FE1), rng.normal(size=N_FE2), 0.5 * rng.normal(size=N_CL)
    done, part = 0, 0
    while done < rows:
        n = min(CHUNK, rows - done)
        pq.write_table(make_part(n, args.seed + 1 + part, a, b, shock), args.out / f"part-{part:04d}.parquet",
                       row_group_size=1_000_000)
        done += n
        part += 1
    print(f"wrote {rows:,} rows in {part} file(s) to {args.out}")


if __name__ == "__main__":
    main()
