"""R's default random numbers, reproduced: ``set.seed(seed); runif(n)``, ``rnorm(n)`` and ``mvtnorm::rmvnorm``.

HonestDiD draws simulated critical values with ``set.seed(0)`` (the folded-normal quantile of the FLCI, the
least-favourable critical value of the hybrid test).  To give R's numbers rather than numbers near them, the
draws must be R's: the Mersenne-Twister with R's seeding (50 rounds of ``seed = 69069 * seed + 1`` to scramble,
then one more round per state word, the state read as full), uniforms ``u = int32 / 2^32`` kept inside (0, 1),
and normals by inversion from two uniforms (``u = floor(2^27 u1) + u2``, ``qnorm(u / 2^27)``) — R's
``RNGkind("Mersenne-Twister", "Inversion")``, the default since R 1.7.  The generator itself is numpy's MT19937
(the same recurrence and tempering), started from R's state.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtri

__all__ = ["r_rmvnorm", "r_rnorm", "r_runif"]

_FIXUP = 2.328306437080797e-10  # R's i2_32m1: a draw of exactly 0 or 1 becomes half of it (or 1 minus)


def _mt_state(seed: int) -> np.ndarray:
    s = int(seed) & 0xFFFFFFFF
    for _ in range(50):
        s = (69069 * s + 1) & 0xFFFFFFFF
    words = np.empty(625, dtype=np.uint32)
    for j in range(625):
        s = (69069 * s + 1) & 0xFFFFFFFF
        words[j] = s
    return words[1:]  # words[0] is R's position word, reset to 624 (the state is full)


def r_runif(seed: int, n: int) -> np.ndarray:
    """``set.seed(seed); runif(n)``."""
    gen = np.random.MT19937(0)
    gen.state = {"bit_generator": "MT19937", "state": {"key": _mt_state(seed), "pos": 624}}
    u = gen.random_raw(int(n)).astype(np.float64) * 2.3283064365386963e-10
    u[u <= 0.0] = 0.5 * _FIXUP
    u[1.0 - u <= 0.0] = 1.0 - 0.5 * _FIXUP
    return u


def r_rnorm(seed: int, n: int) -> np.ndarray:
    """``set.seed(seed); rnorm(n)``: inversion from two uniforms per draw."""
    u = r_runif(seed, 2 * int(n)).reshape(-1, 2)
    big = 134217728.0  # 2^27
    return ndtri((np.floor(big * u[:, 0]) + u[:, 1]) / big)


def r_rmvnorm(seed: int, n: int, sigma: np.ndarray) -> np.ndarray:
    """``set.seed(seed); mvtnorm::rmvnorm(n, sigma = sigma)``: rows of standard normals (filled by row) times
    the symmetric square root of ``sigma`` from its eigen-decomposition (negative eigenvalues set to zero)."""
    sigma = np.asarray(sigma, dtype=float)
    k = sigma.shape[0]
    values, vectors = np.linalg.eigh(sigma)
    root = (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T
    return r_rnorm(seed, n * k).reshape(n, k) @ root
