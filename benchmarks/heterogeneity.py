"""Speed and memory: causalspec's DR-learner against EconML's DRLearner with the same learners (issue 15).

Run: ``python benchmarks/heterogeneity.py [--sizes 100000 1000000] [--models linear gradient_boosting]``.
Not part of the test suite (needs econml).  Both sides get the same scikit-learn estimators (built by
causalspec's ``make_regressor`` / ``make_classifier``), the same 5 folds (EconML through ``cv=`` splits, its
outcome model an arm-wise regression as in tools/reference/build_hte_cases.py) and the same propensity clipping.
Reports wall time (best of ``--repeat``), the ratio causalspec / EconML, the peak traced memory (tracemalloc,
numpy's allocations included) and that peak as a multiple of the data's size, and the largest CATE difference.
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools" / "reference"))

from causalspec.heterogeneity import ModelChoice, fit_cate, make_folds, renewal_discount  # noqa: E402
from causalspec.heterogeneity._models import make_classifier, make_regressor  # noqa: E402


def _data(n):
    df = renewal_discount(n=n, seed=1, randomized_share=0.3)
    Z = np.column_stack([df.usage, df.segment == "new", df.segment == "loyal"]).astype(float)
    W = (df.age.to_numpy(float)[:, None] - 45) / 15
    return Z, W, df.discount.to_numpy(float), df.renewed.to_numpy(float)


def _timed(fn, repeat):
    best, out, peak = np.inf, None, 0
    for _ in range(repeat):
        tracemalloc.start()
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
        peak = max(peak, tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    return best, out, peak


def run(n, model, repeat):
    from build_hte_cases import ArmwiseRegression
    from econml.dr import DRLearner

    Z, W, t, y = _data(n)
    X = np.column_stack([Z, W])
    data_bytes = X.nbytes + t.nbytes + y.nbytes
    folds = make_folds(t, 5, 0)
    oc = ModelChoice.of(model, {"max_iter": 50} if model == "gradient_boosting" else {})
    pc = ModelChoice.of("gradient_boosting", {"max_iter": 50}) if model == "gradient_boosting" else \
        ModelChoice.of("logistic", {"C": 1.0})
    fc = ModelChoice.of("linear")

    def ours():
        return fit_cate("dr", X, Z, t, y, outcome=oc, propensity=pc, final=fc, folds=folds, seed=0).cate

    def econml():
        splits = [(np.flatnonzero(folds != k), np.flatnonzero(folds == k)) for k in range(5)]
        est = DRLearner(model_propensity=make_classifier(pc, 0), model_regression=ArmwiseRegression(
            make_regressor(oc, 0)), model_final=make_regressor(fc, 0), cv=splits, min_propensity=0.01,
            random_state=0)
        est.fit(y, t, X=Z, W=W)
        return est.effect(Z)

    t_ours, c_ours, m_ours = _timed(ours, repeat)
    t_eml, c_eml, m_eml = _timed(econml, repeat)
    diff = float(np.max(np.abs(c_ours - c_eml)))
    print(f"n={n:>8,} {model:<17} causalspec {t_ours:7.2f}s  econml {t_eml:7.2f}s  ratio {t_ours / t_eml:5.2f}  "
          f"peak mem causalspec {m_ours / 2**20:7.1f} MiB ({m_ours / data_bytes:4.1f}x data)  econml "
          f"{m_eml / 2**20:7.1f} MiB ({m_eml / data_bytes:4.1f}x)  max |cate diff| {diff:.1e}", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--models", nargs="+", default=["linear"])
    ap.add_argument("--repeat", type=int, default=1)
    a = ap.parse_args()
    import econml
    import sklearn
    print(f"econml {econml.__version__}, scikit-learn {sklearn.__version__}, numpy {np.__version__}")
    for model in a.models:
        for n in a.sizes:
            run(n, model, a.repeat)


if __name__ == "__main__":
    main()
