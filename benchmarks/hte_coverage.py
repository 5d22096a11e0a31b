"""Coverage study of the heterogeneity intervals (issue 15): do the 95% CIs cover the truth in 95% of draws?

Run: ``python benchmarks/hte_coverage.py [--reps 200] [--n 4000] [--workers 4]``.  Not part of the test suite.

Each replication draws ``renewal_discount(n, seed=base + r)`` (half randomized, half targeted), fits the
DR-learner (linear outcome models per arm, logistic propensity, linear final stage on usage and segment, 5
folds) and records whether each interval covers its target:

* segment ATEs (``group_ates``) against the population segment effects (SEGMENT_EFFECTS: +0.12 / +0.04 / -0.08);
* the AIPW ATE against RENEWAL_ATE;
* GATES (k = 4, CATE quartile groups of the out-of-fold CATE) against the mean true CATE of each group's units;
* BLP's ATE coefficient against RENEWAL_ATE;
* the policy value (value 100, cost 5, can_hurt) against the policy's true value on the sample,
  mean(treat x (100 tau - 5)), and the policy-minus-treat-all gain against its true counterpart.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from causalspec.heterogeneity import (RENEWAL_ATE, SEGMENT_EFFECTS, ModelChoice, blp, fit_cate, gates,  # noqa: E402
                                      group_ates, make_folds, policy, quantile_groups, renewal_discount)

LIN, LOGIT = ModelChoice.of("linear"), ModelChoice.of("logistic", {"C": 1.0})


def one(args):
    seed, n = args
    df = renewal_discount(n=n, seed=seed)
    Z = np.column_stack([df.usage, df.segment == "new", df.segment == "loyal"]).astype(float)
    X = np.column_stack([Z, (df.age - 45) / 15])
    t, y, tau = df.discount.to_numpy(float), df.renewed.to_numpy(float), df.true_cate.to_numpy()
    fit = fit_cate("dr", X, Z, t, y, outcome=LIN, propensity=LOGIT, final=LIN, folds=make_folds(t, 5, seed), seed=seed)
    out = {}
    rows, _ = group_ates(fit.scores, t, df.segment, fit.nuisances.e)
    for r in rows:
        out[f"segment {r.group}"] = r.conf_low <= SEGMENT_EFFECTS[r.group] <= r.conf_high
    se = fit.scores.std(ddof=1) / np.sqrt(n)
    out["AIPW ATE"] = abs(fit.scores.mean() - RENEWAL_ATE) <= 1.96 * se
    groups, _ = gates(y, t, fit.nuisances.e, fit.cate_oof, k=4)
    g = quantile_groups(fit.cate_oof, 4)
    for k, r in enumerate(groups, start=1):
        out[f"GATES G{k}"] = r.conf_low <= tau[g == k].mean() <= r.conf_high
    b = blp(y, t, fit.nuisances.e, fit.cate_oof)
    out["BLP ATE"] = abs(b.ate - RENEWAL_ATE) <= 1.96 * b.ate_se
    p = policy(fit.scores, fit.cate_oof, value=100.0, cost=5.0)
    net = 100 * tau - 5
    truth, gain = np.mean(p.treat * net), np.mean(p.treat * net) - net.mean()
    out["policy value"] = p.values[0].conf_low <= truth <= p.values[0].conf_high
    out["policy - treat all"] = p.gains[0].conf_low <= gain <= p.gains[0].conf_high
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--n", type=int, default=4000)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--base", type=int, default=10_000)
    a = ap.parse_args()
    t0 = time.time()
    jobs = [(a.base + r, a.n) for r in range(a.reps)]
    with mp.get_context("spawn").Pool(a.workers) as pool:
        results = pool.map(one, jobs)
    keys = list(results[0])
    print(f"renewal_discount n={a.n}, {a.reps} replications, DR-learner (linear / logistic / linear, 5 folds); "
          f"{time.time() - t0:.0f}s")
    print(f"{'interval':<22}{'coverage':>9}  (Monte Carlo SE)")
    for k in keys:
        c = np.mean([r[k] for r in results])
        print(f"{k:<22}{c:9.3f}  ({np.sqrt(c * (1 - c) / a.reps):.3f})")


if __name__ == "__main__":
    main()
