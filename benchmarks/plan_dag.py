"""Time minimal adjustment sets and the O-set on seeded random 100-node DAGs (~200 edges).

Run: ``python benchmarks/plan_dag.py``.  Prints the median seconds per graph.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from causalspec.graph import DAG, adjustment_sets, optimal_adjustment_set  # noqa: E402


def random_dag(rng: np.random.Generator, n: int = 100, m: int = 200) -> tuple[DAG, str, str]:
    """A random DAG on ``v0..v{n-1}`` (edges follow a random order) and an exposure/outcome pair."""
    order = [f"v{i}" for i in rng.permutation(n)]
    pairs: set[tuple[int, int]] = set()
    while len(pairs) < m:
        i, j = sorted(rng.choice(n, size=2, replace=False))
        pairs.add((int(i), int(j)))
    dag = DAG.from_edges([f"{order[i]} -> {order[j]}" for i, j in sorted(pairs)], nodes=order)
    # an exposure in the upper half of the order with y one of its descendants
    while True:
        x = order[int(rng.integers(0, n // 2))]
        de = [v for v in dag.descendants(x) if v != x]
        if de:
            return dag, x, de[int(rng.integers(0, len(de)))]


def main(n_graphs: int = 20, seed: int = 20261122) -> None:
    rng = np.random.default_rng(seed)
    times, n_sets, n_oset = [], [], 0
    for _ in range(n_graphs):
        dag, x, y = random_dag(rng)
        t0 = time.perf_counter()
        sets = adjustment_sets(dag, x, y, "minimal")
        n_oset += optimal_adjustment_set(dag, x, y) is not None
        times.append(time.perf_counter() - t0)
        n_sets.append(len(sets))
    print(f"{n_graphs} random DAGs (100 nodes, 200 edges): median {statistics.median(times):.4f} s, "
          f"max {max(times):.4f} s per graph (minimal sets + O-set); "
          f"minimal sets per graph: median {statistics.median(n_sets)}, max {max(n_sets)}; "
          f"O-set found for {n_oset}/{n_graphs}")


if __name__ == "__main__":
    main()
