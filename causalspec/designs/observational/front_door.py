"""Fitting Pearl's front-door formula with linear models.

With mediators M that satisfy the front-door criterion (Pearl 1995, Biometrika 82(4)), the effect of X on Y is
identified even with an unmeasured X-Y confounder.  In a linear structural model it is the product of the
X -> M slopes (``lm(M ~ X)``) and the M -> Y slopes given X (``lm(Y ~ M + X)``), summed over the mediators.
The standard error is the nonparametric bootstrap of that product (rows resampled, draws seeded from the
spec); re-fits inside refutations (sensitivity off) use the delta method instead, which is what the bootstrap
approximates, so that a hundred refutation draws do not each bootstrap a thousand times.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from causalspec.designs._common import estimate
from causalspec.designs._family import Fit
from causalspec.errors import EstimationError, Problem

__all__ = ["fit_front_door"]


def _product(x: np.ndarray, M: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """(effect, the X -> M slopes a, the M -> Y slopes b) from the two least-squares fits."""
    n = len(y)
    Xa = np.column_stack([np.ones(n), x])
    a = np.linalg.lstsq(Xa, M, rcond=None)[0][1]  # one slope per mediator
    Xb = np.column_stack([np.ones(n), M, x])
    b = np.linalg.lstsq(Xb, y, rcond=None)[0][1:1 + M.shape[1]]
    return float(a @ b), a, b


def _delta_se(x: np.ndarray, M: np.ndarray, y: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """Delta-method SE of sum(a * b) with the two regressions' classical variances (independent fits)."""
    n, k = M.shape
    Xa = np.column_stack([np.ones(n), x])
    ra = M - Xa @ np.linalg.lstsq(Xa, M, rcond=None)[0]
    var_a = (ra ** 2).sum(axis=0) / (n - 2) * np.linalg.inv(Xa.T @ Xa)[1, 1]
    Xb = np.column_stack([np.ones(n), M, x])
    rb = y - Xb @ np.linalg.lstsq(Xb, y, rcond=None)[0]
    Vb = (rb @ rb) / (n - Xb.shape[1]) * np.linalg.inv(Xb.T @ Xb)[1:1 + k, 1:1 + k]
    return float(math.sqrt(float(np.sum(b ** 2 * var_a)) + float(a @ Vb @ a)))


def fit_front_door(plan, frame: pd.DataFrame) -> Fit:
    """The front-door effect and its bootstrap SE; the naive contrast is ``lm(Y ~ X)``."""
    s = plan.settings
    x = frame[plan.treatment].to_numpy(float)
    y = frame[plan.outcome].to_numpy(float)
    M = frame[list(s.mediators)].to_numpy(float)
    n = len(y)
    if n < M.shape[1] + 4:
        raise EstimationError(Problem("data", f"{n} rows are too few for the front-door regressions.",
                                      fix="Check the data.", code="too_few_rows"))
    est, a, b = _product(x, M, y)
    level = plan.vcov.level
    extras = {"front_door": {"mediators": list(s.mediators), "treatment_to_mediator": a.tolist(),
                             "mediator_to_outcome": b.tolist()}}
    if plan.sensitivity.enabled:
        rng = np.random.default_rng(plan.seed)
        draws = np.empty(s.draws)
        for i in range(s.draws):
            rows = rng.integers(0, n, n)
            draws[i] = _product(x[rows], M[rows], y[rows])[0]
        se = float(draws.std(ddof=1))
        lo, hi = np.quantile(draws, [(1 - level) / 2, (1 + level) / 2])
        extras["front_door"].update(bootstrap_draws=int(s.draws), percentile_ci=[float(lo), float(hi)],
                                    seed=int(plan.seed))
    else:
        se = _delta_se(x, M, y, a, b)
        extras["front_door"]["se_method"] = "delta method (refit)"
    effect = estimate(plan.treatment, est, se, level)
    Xn = np.column_stack([np.ones(n), x])
    coef = np.linalg.lstsq(Xn, y, rcond=None)[0]
    resid = y - Xn @ coef
    naive_se = math.sqrt((resid @ resid) / (n - 2) * np.linalg.inv(Xn.T @ Xn)[1, 1])
    naive = estimate(plan.treatment, float(coef[1]), naive_se, level, df=n - 2)
    return Fit(effect, naive, (effect,), (plan.treatment,), [[se ** 2]], n, (), (), (), extras=extras,
               outcome_sd=float(np.std(y, ddof=1)))
