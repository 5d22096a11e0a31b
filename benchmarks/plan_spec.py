"""Time ``causalspec.plan`` (spec validation + planning) on seeded random DAGs, beside DoWhy.

Run: ``python benchmarks/plan_spec.py [--graphs 10] [--sizes 15,100] [--limit 60]``.

DoWhy is optional (``pip install dowhy``).  When it is installed, ``CausalModel.identify_effect`` runs on the
same graphs, each in a child process stopped after ``--limit`` seconds (DoWhy enumerates candidate backdoor sets
and on 100-node graphs may not finish); a stopped run is counted at the limit, so the reported ratio is a lower
bound.  Times are wall-clock medians per graph on this machine; nothing here is asserted.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import causalspec as cs  # noqa: E402
from plan_dag import random_dag  # noqa: E402


def time_causalspec(dag, x, y) -> float:
    edges = [f"{a} {arrow} {b}" for a, arrow, b in dag.edges]
    t0 = time.perf_counter()
    spec = cs.Spec(name="bench", treatment=x, outcome=y, dag={"edges": edges, "nodes": list(dag.nodes)})
    cs.plan(spec)
    return time.perf_counter() - t0


def _dowhy_child(edges, nodes, x, y, out) -> None:
    import networkx as nx
    import pandas as pd
    from dowhy import CausalModel

    g = nx.DiGraph([(a, b) for a, _, b in edges])
    g.add_nodes_from(nodes)
    data = pd.DataFrame(np.zeros((2, len(nodes))), columns=list(nodes))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        model = CausalModel(data=data, treatment=x, outcome=y, graph=g)
        model.identify_effect(proceed_when_unidentifiable=True)
        out.put(time.perf_counter() - t0)


def time_dowhy(dag, x, y, limit: float) -> tuple[float, bool] | None:
    """(seconds, finished) or None when DoWhy is not installed."""
    try:
        import dowhy  # noqa: F401
    except ImportError:
        return None
    out: mp.Queue = mp.Queue()
    proc = mp.Process(target=_dowhy_child, args=(list(dag.edges), list(dag.nodes), x, y, out))
    proc.start()
    proc.join(limit)
    if proc.is_alive():
        proc.kill()
        proc.join()
        return limit, False
    return out.get(), True


def run_size(n: int, graphs: int, seed: int, limit: float) -> None:
    rng = np.random.default_rng(seed)
    ours, theirs, stopped = [], [], 0
    for _ in range(graphs):
        dag, x, y = random_dag(rng, n=n, m=2 * n)
        ours.append(time_causalspec(dag, x, y))
        t = time_dowhy(dag, x, y, limit)
        if t is not None:
            theirs.append(t[0])
            stopped += not t[1]
    print(f"{graphs} random DAGs, {n} nodes, {2 * n} edges (seed {seed})")
    print(f"  causalspec.plan (validate + plan): median {statistics.median(ours):.4f} s   max {max(ours):.4f} s")
    if theirs:
        ratio = statistics.median(theirs) / statistics.median(ours)
        note = f"; {stopped} of {graphs} stopped at the {limit:.0f} s limit" if stopped else ""
        print(f"  dowhy identify_effect:             median {statistics.median(theirs):.4f} s   "
              f"max {max(theirs):.4f} s   dowhy / causalspec = {'>=' if stopped else ''}{ratio:.0f}x{note}")
    else:
        print("  dowhy not installed: pip install dowhy to time it side by side")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--graphs", type=int, default=10)
    ap.add_argument("--sizes", default="15,100")
    ap.add_argument("--limit", type=float, default=60.0)
    ap.add_argument("--seed", type=int, default=20261122)
    args = ap.parse_args()
    for n in (int(s) for s in args.sizes.split(",")):
        run_size(n, args.graphs, args.seed, args.limit)


if __name__ == "__main__":
    main()
