"""The synthetic control of Abadie, Diamond & Hainmueller: donor weights W and predictor weights V.

Matches ``Synth::synth()`` (Abadie, Diamond & Hainmueller 2011, J. Stat. Softw. 42(13)); Abadie & Gardeazabal
(2003), Abadie, Diamond & Hainmueller (2010).  The nested optimisation as ``synth()`` runs it:

1. every predictor row of ``[X0, X1]`` is divided by its standard deviation across the donors and the treated
   unit (R's ``sqrt(apply(big.dataframe, 1, var))``);
2. for a candidate ``v`` the predictor weights are ``V = diag(|v| / sum|v|)`` and the donor weights ``W(V)`` minimise
   ``(X1 - X0 W)' V (X1 - X0 W)`` over the simplex (``fn.V``; solved exactly by :func:`simplex_qp` where
   Synth calls ``kernlab::ipop``; ties between equally good W broken by the outcome fit, :func:`donor_weights`);
3. ``v`` minimises the fit-period outcome MSPE ``|Z1 - Z0 W(V)|^2 / T`` (Synth's ``loss.v``), searched from
   Synth's two starting values - equal weights ``1/k`` and the regression-based ``diag(B B') / sum`` from the OLS
   of the outcomes on the scaled predictors - with each of Synth's default ``optimxmethod = c("Nelder-Mead",
   "BFGS")``; the run with the lowest loss is kept, as Synth keeps it;
4. (not in Synth) each run's end point is polished by Nelder-Mead restarted from it with tight tolerances
   until a restart no longer lowers the loss by a relative 1e-9 (at most five restarts), and the lowest
   polished loss is kept.  Nelder-Mead in 10-20 dimensions stops early, and where it stops depends on the
   optimiser, the inner solver's rounding and even the donor order; restarting only ever lowers the loss, and
   often by a lot (``runs`` records every run before and after its polish).

The outer problem is not convex: different optimisers stop at different local optima.  Every run's loss is
returned (``runs``) so a result can say which optimum it reports and how it compares.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from causalspec.estimators.synth._simplex import simplex_qp

__all__ = ["SynthFit", "synth", "scale_predictors", "donor_weights"]

#: the outer optimisers and their iteration limits: scipy's Nelder-Mead with pysyncon's maxiter (1000), BFGS
#: with R optim's default maxit (100)
METHODS = {"Nelder-Mead": {"maxiter": 1000}, "BFGS": {"maxiter": 100}}
STARTS = ("equal", "regression")
POLISH = {"maxiter": 1000, "xatol": 1e-8, "fatol": 1e-12}
POLISH_RESTARTS = 5
TIE = 1e-8


@dataclass(frozen=True)
class SynthFit:
    """One synthetic control: donor weights, predictor weights and the two losses Synth reports.

    ``loss_v`` is the fit-period outcome MSPE (Synth's ``loss.v``); ``loss_w`` the V-weighted predictor loss on
    the scaled predictors (``loss.w``); ``runs`` one ``(start, method, loss_v)`` per outer search; ``start`` and
    ``method`` name the run kept.
    """

    weights: np.ndarray
    v: np.ndarray
    loss_v: float
    loss_w: float
    start: str
    method: str
    runs: tuple[tuple[str, str, float], ...]

    @property
    def rmspe(self) -> float:
        """The fit-period root mean squared prediction error."""
        return float(np.sqrt(self.loss_v))


def scale_predictors(X1: np.ndarray, X0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each predictor divided by its SD over the donors and the treated unit (Synth's normalisation)."""
    big = np.column_stack([X0, X1])
    sd = big.std(axis=1, ddof=1)
    sd = np.where(sd > 0, sd, 1.0)  # a constant predictor cannot separate donors; leave it unscaled
    return X1 / sd, X0 / sd[:, None]


def donor_weights(v: np.ndarray, X1s: np.ndarray, X0s: np.ndarray, start: np.ndarray | None = None,
                  outcome: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """W(V): the simplex weights minimising ``(X1 - X0 W)' V (X1 - X0 W)`` for ``V = diag(v)`` (v >= 0).

    ``outcome = (Z0'Z0 / T, Z0'Z1 / T)`` adds the fit-period outcome loss with a relative weight of ``TIE``:
    when several W fit the predictors equally well (the treated unit inside the donors' convex hull in
    predictor space, common with many donors and few predictors) the one that fits the outcomes best is
    taken, instead of whichever the solver happens to reach (Synth's ipop returns an interior one, pysyncon's
    SLSQP wherever it stops); a unique W moves by a relative ~1e-8.
    """
    VX0 = v[:, None] * X0s
    H, c = X0s.T @ VX0, VX0.T @ X1s
    if outcome is not None:
        ZZ, Zc = outcome
        d = TIE * np.trace(H) / max(float(np.trace(ZZ)), 1e-300)
        H, c = H + d * ZZ, c + d * Zc
    return simplex_qp(H, c, start)


def _regression_start(X1s, X0s, Z1, Z0) -> np.ndarray | None:
    """Synth's regression-based starting values: OLS of each unit's outcomes on its scaled predictors."""
    Xall = np.column_stack([np.ones(X0s.shape[1] + 1), np.column_stack([X1s, X0s]).T])
    Zall = np.column_stack([Z1, Z0])
    xtx = Xall.T @ Xall
    if np.linalg.matrix_rank(xtx) < xtx.shape[0]:  # R's solve() fails: Synth keeps the equal-weights run
        return None
    beta = np.linalg.solve(xtx, Xall.T @ Zall.T)[1:]
    sv = np.diag(beta @ beta.T)
    return sv / sv.sum()


def synth(X1, X0, Z1, Z0, *, custom_v=None, starts=STARTS, methods=tuple(METHODS), polish: bool = True) -> SynthFit:
    """Fit the synthetic control of one treated unit (``X1``: k predictors; ``Z1``: T fit-period outcomes).

    ``X0`` is k x J and ``Z0`` T x J (one column per donor).  ``custom_v`` fixes the predictor weights (Synth's
    ``custom.v``); otherwise V is searched as :mod:`this module <causalspec.estimators.synth._synth>` describes.
    """
    X1, X0 = np.asarray(X1, float), np.asarray(X0, float)
    Z1, Z0 = np.asarray(Z1, float), np.asarray(Z0, float)
    X1s, X0s = scale_predictors(X1, X0)
    k = X0s.shape[0]
    memo: dict = {"w": None}
    outcome = (Z0.T @ Z0 / len(Z1), Z0.T @ Z1 / len(Z1))

    def weights_for(x):
        v = np.abs(x) / np.sum(np.abs(x))
        w = donor_weights(v, X1s, X0s, memo["w"], outcome)
        memo["w"] = w
        return v, w

    def loss(x):
        if not np.all(np.isfinite(x)) or np.sum(np.abs(x)) == 0:
            return np.inf
        _, w = weights_for(x)
        r = Z1 - Z0 @ w
        return float(r @ r) / len(Z1)

    def polished(x, value):
        for _ in range(POLISH_RESTARTS):
            memo["w"] = None
            res = minimize(loss, x, method="Nelder-Mead", options=dict(POLISH))
            if not res.fun < value * (1 - 1e-9):
                break
            value, x = float(res.fun), np.asarray(res.x, float)
        return x, value

    runs = []
    best = None
    if custom_v is not None:
        candidates = [("custom", "none", np.asarray(custom_v, float))]
    else:
        candidates = []
        for start in starts:
            x0 = np.full(k, 1.0 / k) if start == "equal" else _regression_start(X1s, X0s, Z1, Z0)
            if x0 is None:
                continue
            for method in methods:
                memo["w"] = None
                res = minimize(loss, x0, method=method, options=dict(METHODS[method]))
                candidates.append((start, method, np.asarray(res.x, float)))
    for start, method, x in candidates:
        memo["w"] = None
        value = loss(x)
        runs.append((start, method, value))
        if polish and custom_v is None:
            x, value = polished(x, value)
            method = method + " + polish"
            runs.append((start, method, value))
        if best is None or value < best[2]:
            best = (start, method, value, x)
    start, method, value, x = best
    memo["w"] = None
    v, w = weights_for(x)
    d = X1s - X0s @ w
    r = Z1 - Z0 @ w
    return SynthFit(weights=w, v=v, loss_v=float(r @ r) / len(Z1), loss_w=float(d @ (v * d)), start=start,
                    method=method, runs=tuple(runs))
