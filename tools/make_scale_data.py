"""Simulated Parquet for the scale benchmark and the engine docs: y, d, three covariates, two fixed effects and a
cluster id, written in parts of at most 10 million rows (so it never has to fit in memory).

    python tools/make_scale_data.py --rows 1e7 --out /tmp/scale_1e7   # -> /tmp/scale_1e7/part-0000.parquet ...
    python tools/make_scale_data.py          # 2e6 rows (~100 MB) into specs/scale/data/, for specs/scale/scale_events.yaml

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
DEFAULT_ROWS = 2e6  # a laptop's size: ~100 MB of Parquet, seconds to write and to fit
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "specs" / "scale" / "data"


def columns(n: int, seed: int, a: np.ndarray, b: np.ndarray, shock: np.ndarray) -> tuple[dict, np.ndarray]:
    """The part's columns and the mask of missing y."""
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
    return {"y": y, "d": d, "x1": x1, "x2": x2, "x3": x3, "fe1": fe1, "fe2": fe2, "cl": cl}, mask


def write_part(path: Path, n: int, seed: int, a: np.ndarray, b: np.ndarray, shock: np.ndarray) -> None:
    """One Parquet part: with pyarrow when it is installed, else with DuckDB (the same values, y NULL where
    missing, row groups of 1e6 rows)."""
    cols, mask = columns(n, seed, a, b, shock)
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        import duckdb
        import pandas as pd

        frame = pd.DataFrame(cols)
        frame["y"] = frame["y"].where(~mask)
        con = duckdb.connect()
        con.register("part", frame)
        con.execute("COPY (SELECT * REPLACE (CASE WHEN isnan(y) THEN NULL ELSE y END AS y) FROM part) TO ? "
                    "(FORMAT parquet, ROW_GROUP_SIZE 1000000)", [str(path)])
        con.close()
        return
    cols["y"] = pa.array(cols["y"], mask=mask)
    pq.write_table(pa.table(cols), path, row_group_size=1_000_000)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=float, default=DEFAULT_ROWS, help="number of rows, e.g. 1e7 (default 2e6)")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT,
                    help="folder for part-NNNN.parquet (default specs/scale/data, read by specs/scale/scale_events.yaml)")
    ap.add_argument("--seed", type=int, default=2024)
    args = ap.parse_args(argv)
    rows = int(args.rows)
    args.out.mkdir(parents=True, exist_ok=True)
    for old in args.out.glob("part-*.parquet"):  # a smaller data set must not keep a larger one's later parts
        old.unlink()
    rng = np.random.default_rng(args.seed)
    a, b, shock = rng.normal(size=N_FE1), rng.normal(size=N_FE2), 0.5 * rng.normal(size=N_CL)
    done, part = 0, 0
    while done < rows:
        n = min(CHUNK, rows - done)
        write_part(args.out / f"part-{part:04d}.parquet", n, args.seed + 1 + part, a, b, shock)
        done += n
        part += 1
    print(f"wrote {rows:,} rows in {part} file(s) to {args.out}")


if __name__ == "__main__":
    main()
