"""Synthetic difference in differences, and the SC and DiD estimators on the same panel (R's synthdid).

Matches ``synthdid::synthdid_estimate``, ``sc_estimate`` and ``did_estimate`` (synthdid 0.0.9) without
covariates; Arkhangelsky, Athey, Hirshberg, Imbens & Wager (2021), "Synthetic Difference-in-Differences",
AER 111(12), Algorithm 1.  ``Y`` is the N x T outcome matrix with the N0 control units first and the T0
pre-treatment periods first (one common adoption time).

Unit weights omega and time weights lambda are found by Frank-Wolfe with exact line search on the
collapsed panel (``sc.weight.fw``): a first run of ``max.iter.pre.sparsify = 100`` iterations, the weights
sparsified (those at most a quarter of the largest set to zero, R's ``sparsify_function``), then a second run
from there, each stopped when an iteration lowers the penalised loss by less than ``min.decrease^2`` or after
``max.iter`` iterations.  The regularisation is R's: ``zeta.omega = (N_tr T_post)^(1/4) sigma`` and
``zeta.lambda = 1e-6 sigma``, sigma the SD of the controls' first differences before treatment.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["SDIDOptions", "SDIDFit", "synthdid_estimate", "sc_estimate", "did_estimate", "estimate_with",
           "noise_level", "sum_normalize", "effect_curve", "estimate_stack"]

PRE_SPARSIFY_ITER = 100


@dataclass(frozen=True)
class SDIDOptions:
    """What R keeps in ``attr(estimate, "opts")``: the options every replicate of a standard error reuses."""

    zeta_omega: float
    zeta_lambda: float
    omega_intercept: bool
    lambda_intercept: bool
    update_omega: bool
    update_lambda: bool
    min_decrease: float
    max_iter: int = 10_000


@dataclass(frozen=True)
class SDIDFit:
    """One estimate with its weights: ``omega`` over the N0 controls, ``lambda_`` over the T0 pre-periods."""

    kind: str  # "synthdid" | "sc" | "did"
    estimate: float
    omega: np.ndarray
    lambda_: np.ndarray
    N0: int
    T0: int
    options: SDIDOptions
    noise_level: float
    iterations: tuple[int, int] = (0, 0)  # Frank-Wolfe iterations of the final (omega, lambda) runs


def sum_normalize(x: np.ndarray) -> np.ndarray:
    """R's ``sum_normalize``: x / sum(x), or uniform weights when x sums to zero."""
    s = float(np.sum(x))
    return x / s if s != 0 else np.full(len(x), 1.0 / len(x))


def noise_level(Y: np.ndarray, N0: int, T0: int) -> float:
    """``sd(apply(Y[1:N0, 1:T0], 1, diff))``: the SD of the controls' first differences before treatment."""
    d = np.diff(Y[:N0, :T0], axis=1).ravel()
    return float(np.std(d, ddof=1)) if d.size > 1 else 0.0


def _collapsed(Y: np.ndarray, N0: int, T0: int) -> np.ndarray:
    """R's ``collapsed.form`` of each panel in a stack (B x N x T): treated rows and post columns averaged."""
    top = np.concatenate([Y[:, :N0, :T0], Y[:, :N0, T0:].mean(axis=2, keepdims=True)], axis=2)
    bottom = np.concatenate([Y[:, N0:, :T0].mean(axis=1), Y[:, N0:, T0:].mean(axis=(1, 2))[:, None]], axis=1)
    return np.concatenate([top, bottom[:, None, :]], axis=1)


def _fw(Y: np.ndarray, zeta: float, intercept: bool, x: np.ndarray | None, min_decrease: float,
        max_iter: int) -> tuple[np.ndarray, np.ndarray]:
    """R's ``sc.weight.fw`` on a stack of problems (``Y`` is B x n x (k + 1), A = its first k columns, b the
    last): Frank-Wolfe with exact line search for min ||A x - b||^2 / n + zeta^2 ||x||^2, each problem stopped
    by R's rule on its own (an iteration lowering the loss by less than ``min_decrease^2``, or ``max_iter``).
    The stack runs together (a standard error's replicates), so the loop is paid once, not once per replicate;
    each problem's iterates are those of R's loop for it alone."""
    B, n, k1 = Y.shape
    k = k1 - 1
    x = np.full((B, k), 1.0 / k) if x is None else np.array(x, dtype=float).reshape(B, k)
    if intercept:
        Y = Y - Y.mean(axis=1, keepdims=True)
    z2 = zeta ** 2
    eta = n * z2
    threshold = min_decrease ** 2
    iters = np.zeros(B, dtype=int)
    live = np.arange(B)  # the problems still iterating, and their working copies
    A, b, xa = Y[:, :, :k], Y[:, :, k], x.copy()
    prev = np.full(B, np.nan)
    val = np.full(B, np.nan)
    t = 0
    with np.errstate(invalid="ignore", divide="ignore"):
        while live.size and t < max_iter:
            t += 1
            rows = np.arange(live.size)
            Ax = np.einsum("bnk,bk->bn", A, xa)
            half_grad = np.einsum("bn,bnk->bk", Ax - b, A) + eta * xa
            i = np.argmin(half_grad, axis=1)
            d_x = -xa
            d_x[rows, i] = 1.0 - xa[rows, i]
            d_err = A[rows, :, i] - Ax
            step = -np.einsum("bk,bk->b", half_grad, d_x) / (np.einsum("bn,bn->b", d_err, d_err)
                                                              + eta * np.einsum("bk,bk->b", d_x, d_x))
            step = np.where(np.any(d_x != 0, axis=1), np.clip(step, 0.0, 1.0), 0.0)
            xa = xa + step[:, None] * d_x
            err = np.einsum("bnk,bk->bn", A, xa) - b
            prev, val = val, z2 * np.einsum("bk,bk->b", xa, xa) + np.einsum("bn,bn->b", err, err) / n
            going = (t < 2) | (prev - val > threshold)
            if not going.all():  # write the finished problems back and drop them from the stack
                done = ~going
                x[live[done]], iters[live[done]] = xa[done], t
                live, A, b, xa, prev, val = live[going], A[going], b[going], xa[going], prev[going], val[going]
    x[live], iters[live] = xa, t
    return x, iters


def _sparsify(v: np.ndarray) -> np.ndarray:
    """R's ``sparsify_function`` on each row: weights at most a quarter of the row's largest set to zero."""
    v = np.where(v <= np.max(v, axis=1, keepdims=True) / 4, 0.0, v)
    return v / np.sum(v, axis=1, keepdims=True)


def _weights(Yc: np.ndarray, zeta: float, intercept: bool, init, min_decrease: float, max_iter: int):
    first, _ = _fw(Yc, zeta, intercept, init, min_decrease, PRE_SPARSIFY_ITER)
    return _fw(Yc, zeta, intercept, _sparsify(first), min_decrease, max_iter)


def estimate_stack(Y: np.ndarray, N0: int, T0: int, options: SDIDOptions, omega=None, lambda_=None):
    """:func:`estimate_with` on a stack of panels of one shape (B x N x T), e.g. a standard error's replicates:
    the estimates (B), the weights (B x N0, B x T0) and the final Frank-Wolfe iterations (B x 2)."""
    B, N, T = Y.shape
    N1, T1 = N - N0, T - T0
    iters = np.zeros((B, 2), dtype=int)
    lam = None if lambda_ is None else np.broadcast_to(np.asarray(lambda_, dtype=float), (B, T0)).copy()
    om = None if omega is None else np.broadcast_to(np.asarray(omega, dtype=float), (B, N0)).copy()
    if options.update_lambda or options.update_omega:
        Yc = _collapsed(Y, N0, T0)
    if options.update_lambda:
        lam, iters[:, 1] = _weights(Yc[:, :N0, :], options.zeta_lambda, options.lambda_intercept, lam,
                                    options.min_decrease, options.max_iter)
    if options.update_omega:
        om, iters[:, 0] = _weights(np.swapaxes(Yc[:, :, :T0], 1, 2), options.zeta_omega, options.omega_intercept,
                                   om, options.min_decrease, options.max_iter)
    row = np.concatenate([-om, np.full((B, N1), 1.0 / N1)], axis=1)
    col = np.concatenate([-lam, np.full((B, T1), 1.0 / T1)], axis=1)
    return np.einsum("bn,bnt,bt->b", row, Y, col), om, lam, iters


def estimate_with(Y: np.ndarray, N0: int, T0: int, options: SDIDOptions, omega=None, lambda_=None,
                  kind: str = "synthdid", noise: float = np.nan) -> SDIDFit:
    """``synthdid_estimate(Y, N0, T0, weights = list(omega, lambda), <options>)``: weights that are updated
    start from the ones given (uniform when None); the others are used as given."""
    est, om, lam, iters = estimate_stack(np.asarray(Y, dtype=float)[None], N0, T0, options, omega, lambda_)
    return SDIDFit(kind, float(est[0]), om[0], lam[0], N0, T0, options, noise, tuple(int(v) for v in iters[0]))


def synthdid_estimate(Y: np.ndarray, N0: int, T0: int) -> SDIDFit:
    """``synthdid::synthdid_estimate(Y, N0, T0)`` with R's defaults."""
    Y = np.asarray(Y, dtype=float)
    sigma = noise_level(Y, N0, T0)
    eta_omega = ((Y.shape[0] - N0) * (Y.shape[1] - T0)) ** 0.25
    opts = SDIDOptions(zeta_omega=eta_omega * sigma, zeta_lambda=1e-6 * sigma, omega_intercept=True,
                       lambda_intercept=True, update_omega=True, update_lambda=True, min_decrease=1e-5 * sigma)
    return estimate_with(Y, N0, T0, opts, kind="synthdid", noise=sigma)


def sc_estimate(Y: np.ndarray, N0: int, T0: int) -> SDIDFit:
    """``synthdid::sc_estimate(Y, N0, T0)``: eta.omega = 1e-6, no intercept, time weights fixed at zero."""
    Y = np.asarray(Y, dtype=float)
    sigma = noise_level(Y, N0, T0)
    opts = SDIDOptions(zeta_omega=1e-6 * sigma, zeta_lambda=1e-6 * sigma, omega_intercept=False,
                       lambda_intercept=True, update_omega=True, update_lambda=False, min_decrease=1e-5 * sigma)
    return estimate_with(Y, N0, T0, opts, lambda_=np.zeros(T0), kind="sc", noise=sigma)


def did_estimate(Y: np.ndarray, N0: int, T0: int) -> SDIDFit:
    """``synthdid::did_estimate(Y, N0, T0)``: uniform unit and time weights (plain difference in differences)."""
    Y = np.asarray(Y, dtype=float)
    sigma = noise_level(Y, N0, T0)
    eta_omega = ((Y.shape[0] - N0) * (Y.shape[1] - T0)) ** 0.25
    opts = SDIDOptions(zeta_omega=eta_omega * sigma, zeta_lambda=1e-6 * sigma, omega_intercept=True,
                       lambda_intercept=True, update_omega=False, update_lambda=False, min_decrease=1e-5 * sigma)
    return estimate_with(Y, N0, T0, opts, omega=np.full(N0, 1.0 / N0), lambda_=np.full(T0, 1.0 / T0), kind="did",
                         noise=sigma)


def effect_curve(fit: SDIDFit, Y: np.ndarray) -> np.ndarray:
    """``synthdid_effect_curve``: the effect in each post-period (their mean is the estimate)."""
    N1 = Y.shape[0] - fit.N0
    tau_sc = np.concatenate([-fit.omega, np.full(N1, 1.0 / N1)]) @ Y
    return tau_sc[fit.T0:] - tau_sc[:fit.T0] @ fit.lambda_
