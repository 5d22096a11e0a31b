"""Coverage study: do the 95% CIs of each estimator cover the truth in 95% of replications?

Run: ``python benchmarks/coverage_study.py [--reps 500] [--workers 2]``.  Not part of the test suite.

Two simulators with known truth:

* feature adoption (``causalspec.datasets.feature_adoption``, n = 5000): a constant effect of +10 on spend,
  so every estimator's target (ATE, ATT, the OLS variance-weighted average) is 10;
* churn offer (``causalspec.datasets.churn_offer``, n = 4000): the offer's effect on the churn probability
  differs by contract (-0.12 / -0.05 / -0.02), so the ATE (-0.0825) and the ATT (about -0.096) differ, and
  main-effects OLS targets neither exactly (a variance-weighted average; reported against the ATE).

Each replication draws a new data set (seed = base + replication), runs the same plans through
``causalspec.fit`` (sensitivity off), and records estimate and CI.  Matching: 1:1 nearest neighbour on the
propensity score with replacement (each treated unit keeps its best match; with many treated units and
without replacement the controls run out), HC3 as the MatchIt docs advise, ATT.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import causalspec as cs  # noqa: E402
from causalspec.datasets import CHURN_ATE, TRUE_EFFECT, churn_att, churn_offer, feature_adoption  # noqa: E402
from causalspec.planner import SensitivityPlan  # noqa: E402

FEATURE_EDGES = ["account_age -> activity", "account_age -> feature_usage", "activity -> feature_usage",
                 "promo_email -> feature_usage", "account_age -> spend", "activity -> spend", "region_index -> spend",
                 "feature_usage -> spend"]
CHURN_EDGES = ["tenure -> retention_offer", "monthly_charges -> retention_offer", "contract -> retention_offer",
               "tenure -> churned", "monthly_charges -> churned", "contract -> churned", "contract -> tenure",
               "retention_offer -> churned"]

ESTIMATORS = [("ols", "ATE"), ("ipw", "ATE"), ("aipw", "ATE"), ("matching", "ATT")]
# What a user gets who only writes the estimand (design.estimator: auto): issue 11's ATT / ATC rows.
DEFAULTS = [("auto_att", "ATT"), ("auto_atc", "ATC")]


def _plans(name):
    treatment, outcome, edges = (("feature_usage", "spend", FEATURE_EDGES) if name == "feature_adoption"
                                 else ("retention_offer", "churned", CHURN_EDGES))
    plans = {}
    for est, estimand in ESTIMATORS + DEFAULTS:
        design = {"type": "observational", "estimator": "auto" if est.startswith("auto") else est}
        if est == "matching":
            design["matching"] = {"replace": True, "algorithm": "exact"}
        spec = cs.Spec(name=f"{name}_{est}", treatment=treatment, outcome=outcome, estimand=estimand,
                       dag={"edges": edges}, design=design, sensitivity={"enabled": False})
        plans[est] = replace(cs.plan(spec), sensitivity=SensitivityPlan(False, "coverage study"))
    return plans


def _truth(name, estimand):
    if name == "feature_adoption":
        return TRUE_EFFECT  # a constant effect: ATE = ATT = ATC
    return {"ATE": CHURN_ATE, "ATT": churn_att()}.get(estimand)  # the churn ATC has no closed form here


def _one(args):
    name, rep, base = args
    data = feature_adoption(5000, base + rep) if name == "feature_adoption" else churn_offer(4000, base + rep)
    out = {}
    for est, plan in _plans_cached(name).items():
        if _truth(name, plan.estimand) is None:
            continue
        r = cs.fit(plan, data)
        out[est] = (r.effect.estimate, r.effect.conf_low, r.effect.conf_high)
        if est == "ols":
            out["naive"] = (r.naive.estimate, r.naive.conf_low, r.naive.conf_high)
    return name, rep, out


_CACHE: dict = {}


def _plans_cached(name):
    if name not in _CACHE:
        _CACHE[name] = _plans(name)
    return _CACHE[name]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=500)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=100_000)
    args = ap.parse_args()
    t0 = time.perf_counter()
    jobs = [(name, r, args.seed) for name in ("feature_adoption", "churn_offer") for r in range(args.reps)]
    results: dict = {}
    with mp.Pool(args.workers) as pool:
        for i, (name, rep, out) in enumerate(pool.imap_unordered(_one, jobs, chunksize=4), 1):
            results.setdefault(name, []).append(out)
            if i % 50 == 0:
                print(f"  {i}/{len(jobs)} replications, {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    seconds = time.perf_counter() - t0
    print(f"{args.reps} replications per simulator, seeds {args.seed}..{args.seed + args.reps - 1}, "
          f"{seconds:.0f} s on {args.workers} workers\n")
    print("| simulator | estimator | target | truth | coverage of 95% CI | mean bias | mean CI width |")
    print("|---|---|---|---|---|---|---|")
    for name in ("feature_adoption", "churn_offer"):
        for est, estimand in [("naive", "ATE")] + ESTIMATORS + DEFAULTS:
            truth = _truth(name, estimand)
            if truth is None:
                continue
            rows = np.array([r[est] for r in results[name]])
            cover = np.mean((rows[:, 1] <= truth) & (truth <= rows[:, 2]))
            bias = np.mean(rows[:, 0] - truth)
            width = np.mean(rows[:, 2] - rows[:, 1])
            target = {"naive": "ATE", "ols": "ATE (OLS: variance-weighted)",
                      "auto_att": "ATT (estimator auto)", "auto_atc": "ATC (estimator auto)"}.get(est, estimand)
            print(f"| {name} | {est} | {target} | {truth:.4g} | {cover:.1%} | {bias:+.4f} | {width:.4f} |")


if __name__ == "__main__":
    main()
