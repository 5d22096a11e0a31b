"""Standard errors of a synthdid / SC / DiD estimate as ``vcov.synthdid_estimate`` computes them.

Matches ``synthdid::vcov(estimate, method = "placebo" | "bootstrap" | "jackknife", replications = 200)``;
Arkhangelsky et al. (2021), Algorithms 2 (bootstrap), 3 (fixed-weights jackknife) and 4 (placebo).  Every
replicate re-runs the estimator with the original estimate's options (its zeta, intercepts, stopping rule),
its weights as the starting values (omega restricted to the resampled controls and renormalised), as R's
``do.call(synthdid_estimate, c(list(..., weights = weights.boot), opts))`` does.  The draws come from a seeded
``numpy.random.Generator`` (R's ``sample()`` stream cannot be reproduced), or are passed in (``draws``) so a
test can replay a reference's draws exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from causalspec._progress import Progress
from causalspec.estimators.synth._sdid import SDIDFit, estimate_stack, estimate_with, sum_normalize

__all__ = ["SEResult", "placebo_se", "bootstrap_se", "jackknife_se", "placebo_draws", "bootstrap_draws"]


@dataclass(frozen=True)
class SEResult:
    """A standard error with its replicates; ``se`` is None and ``reason`` says why when it is not defined."""

    method: str
    se: float | None
    replicates: tuple[float, ...] = ()
    reason: str = ""


def _sd_root(values: np.ndarray) -> float:
    # sqrt((r - 1) / r) * sd(x): the replicates' SD with divisor r
    r = len(values)
    return float(np.sqrt((r - 1) / r) * np.std(values, ddof=1))


def placebo_draws(rng: np.random.Generator, N0: int, replications: int) -> np.ndarray:
    """One permutation of the controls per replicate (R's ``sample(1:N0)``), zero-based."""
    return np.array([rng.permutation(N0) for _ in range(replications)], dtype=int)


def bootstrap_draws(rng: np.random.Generator, N: int, N0: int, replications: int) -> np.ndarray:
    """Unit resamples with replacement, redrawn while one has only controls or only treated units (R's loop)."""
    out = []
    while len(out) < replications:
        ind = rng.integers(0, N, size=N)
        if np.all(ind < N0) or np.all(ind >= N0):
            continue
        out.append(np.sort(ind))
    return np.array(out, dtype=int)


CHUNK = 64  # replicates run together (see _sdid._fw); the progress bar advances per chunk


def _replicates(fit: SDIDFit, panels, label: str, progress: bool) -> np.ndarray:
    """The estimator re-run on each ``(Y, N0, omega start)`` with the fit's options and lambda, as R's
    ``do.call(synthdid_estimate, c(list(Y, N0, T0, weights = weights.boot), opts))``; panels with the same
    number of controls (the same shape) are stacked and run together."""
    values = np.empty(len(panels))
    groups: dict[int, list[int]] = {}
    for r, (_, n0, _) in enumerate(panels):
        groups.setdefault(n0, []).append(r)
    bar = Progress(len(panels), label, enabled=progress)
    for n0, members in groups.items():
        for lo in range(0, len(members), CHUNK):
            chunk = members[lo:lo + CHUNK]
            Ys = np.stack([panels[r][0] for r in chunk])
            omega = np.stack([sum_normalize(panels[r][2]) for r in chunk])
            values[chunk] = estimate_stack(Ys, n0, fit.T0, fit.options, omega, fit.lambda_)[0]
            bar.step(len(chunk))
    bar.close()
    return values


def placebo_se(fit: SDIDFit, Y: np.ndarray, replications: int = 200, rng: np.random.Generator | None = None,
               draws: np.ndarray | None = None, progress: bool = False) -> SEResult:
    """Algorithm 4: the last N1 controls of each permutation play the treated units (controls only)."""
    Y = np.asarray(Y, dtype=float)
    N0 = fit.N0
    N1 = Y.shape[0] - N0
    if N0 <= N1:
        return SEResult("placebo", None, reason=f"the placebo standard error needs more controls ({N0}) than "
                                                f"treated units ({N1})")
    if draws is None:
        draws = placebo_draws(rng if rng is not None else np.random.default_rng(0), N0, replications)
    n0 = N0 - N1
    values = _replicates(fit, [(Y[ind], n0, fit.omega[ind[:n0]]) for ind in draws], "synthdid placebo SE", progress)
    return SEResult("placebo", _sd_root(values), tuple(float(v) for v in values))


def bootstrap_se(fit: SDIDFit, Y: np.ndarray, replications: int = 200, rng: np.random.Generator | None = None,
                 draws: np.ndarray | None = None, progress: bool = False) -> SEResult:
    """Algorithm 2: units resampled with replacement, the estimator re-run on each resample."""
    Y = np.asarray(Y, dtype=float)
    N, N0 = Y.shape[0], fit.N0
    if N0 == N - 1:
        return SEResult("bootstrap", None, reason="the bootstrap standard error needs more than one treated unit "
                                                  "(synthdid returns NA); use the placebo standard error")
    if draws is None:
        draws = bootstrap_draws(rng if rng is not None else np.random.default_rng(0), N, N0, replications)
    panels = []
    for ind in draws:
        ind = np.sort(ind)
        controls = ind[ind < N0]
        panels.append((Y[ind], len(controls), fit.omega[controls]))
    values = _replicates(fit, panels, "synthdid bootstrap SE", progress)
    return SEResult("bootstrap", _sd_root(values), tuple(float(v) for v in values))


def jackknife_se(fit: SDIDFit, Y: np.ndarray) -> SEResult:
    """Algorithm 3: the fixed-weights jackknife, each unit left out in turn (omega renormalised)."""
    Y = np.asarray(Y, dtype=float)
    N, N0 = Y.shape[0], fit.N0
    if N0 == N - 1:
        return SEResult("jackknife", None, reason="the jackknife standard error needs more than one treated unit "
                                                  "(synthdid returns NA); use the placebo standard error")
    if np.sum(fit.omega != 0) == 1:
        return SEResult("jackknife", None, reason="only one control has a nonzero unit weight, so the "
                                                  "fixed-weights jackknife is not defined (synthdid returns NA)")
    fixed = replace(fit.options, update_omega=False, update_lambda=False)
    u = []
    for i in range(N):
        ind = np.delete(np.arange(N), i)
        controls = ind[ind < N0]
        u.append(estimate_with(Y[ind], len(controls), fit.T0, fixed, omega=sum_normalize(fit.omega[controls]),
                               lambda_=fit.lambda_, kind=fit.kind).estimate)
    u = np.asarray(u)
    return SEResult("jackknife", float(np.sqrt((N - 1) / N * (N - 1) * np.var(u, ddof=1))), tuple(map(float, u)))
