"""Fixed-effect structure and demeaning by fixest's accelerated alternating projections.

The demeaning mirrors fixest's ``cpp_demean`` (src/demeaning.cpp): for each
variable it finds the fixed-effect coefficients that minimise the (weighted)
sum of squares by a fixed-point iteration on the coefficients, accelerated
with Irons & Tuck (1969), with the same stopping rule (``fixef.tol``) and the
same staging (one FE: closed form; two FEs: iteration on the first FE's
coefficients only; three or more: 15 accelerated warm-up iterations, then the
two largest FEs alone, then all again).  Matching the algorithm, not only the
fixed point, keeps our answer as close to fixest's as fixest is to the exact
projection.

Matches fixest::feols / fixest::demean (demeaning_algo defaults); Berge (2018),
"Efficient estimation of maximum likelihood models with multiple fixed-effects".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from causalspec._arrays import dense_codes
from causalspec.errors import DataError

__all__ = ["FixedEffects", "encode_fixed_effects", "interact", "singleton_mask", "demean", "demean_columns"]

# fixest's demeaning_algo() defaults (fixest >= 0.12).
_ITER_WARMUP = 15
_ITER_PROJ_AFTER_ACC = 40
_ITER_GRAND_ACC = 4


@dataclass(frozen=True)
class FixedEffects:
    """Integer-coded fixed effects on the estimation sample.

    Attributes
    ----------
    names : tuple of str
        The FE names in the user's order (``"a^b"`` for an interaction).
    codes : tuple of ndarray
        ``codes[q][i]`` is the 0-based level of observation ``i`` in FE ``q`` (intp).
    sizes : tuple of int
        Number of levels of each FE.
    levels : tuple of ndarray
        The original level values, indexed by code.
    """

    names: tuple[str, ...]
    codes: tuple[np.ndarray, ...]
    sizes: tuple[int, ...]
    levels: tuple[np.ndarray, ...]

    def subset(self, keep: np.ndarray) -> "FixedEffects":
        """Restrict to the rows ``keep`` (bool mask) and re-code the levels densely."""
        if keep.all():
            return self
        codes, sizes, levels = [], [], []
        for c, g, lev in zip(self.codes, self.sizes, self.levels):
            c = c[keep]
            used = np.bincount(c, minlength=g) > 0
            # Dense re-coding in O(n): levels keep their sorted order.
            recode = np.cumsum(used) - 1
            codes.append(recode[c].astype(np.intp, copy=False))
            sizes.append(int(used.sum()))
            levels.append(lev[used])
        return FixedEffects(self.names, tuple(codes), tuple(sizes), tuple(levels))


def _factorize(values) -> tuple[np.ndarray, np.ndarray]:
    # R sorts factor levels; sorting keeps level order (and reported removed levels) identical.
    dense = dense_codes(values)
    if dense is not None:
        return dense
    codes, uniques = pd.factorize(pd.Series(values), sort=True, use_na_sentinel=True)
    return codes.astype(np.intp, copy=False), np.asarray(uniques)


def encode_fixed_effects(fe, n: int) -> tuple[FixedEffects, np.ndarray]:
    """Encode FE id columns; return the coded FEs and a mask of rows with a missing id.

    Parameters
    ----------
    fe : pandas.DataFrame or mapping of name -> array
        One column per fixed effect.  A column named ``"a^b"`` whose values are
        tuples, or built with :func:`interact`, is an interacted FE.
    n : int
        Expected number of rows.
    """
    if isinstance(fe, pd.DataFrame):
        items = [(str(c), fe[c].to_numpy()) for c in fe.columns]
    elif isinstance(fe, pd.Series):
        items = [(str(fe.name) if fe.name is not None else "fe", fe.to_numpy())]
    else:
        items = [(str(k), np.asarray(v)) for k, v in dict(fe).items()]
    if not items:
        raise DataError("fe: no fixed-effect column was given.", fix="Pass at least one id column or fe=None.")
    names, codes, sizes, levels = [], [], [], []
    missing = np.zeros(n, dtype=bool)
    for name, values in items:
        if len(values) != n:
            raise DataError(f"fe['{name}'] has {len(values)} rows but y has {n}.", loc=f"fe.{name}",
                            fix="Pass fixed-effect ids aligned with y, one per row.")
        c, lev = _factorize(values)
        missing |= c < 0
        names.append(name)
        codes.append(c)
        sizes.append(int(lev.size))
        levels.append(lev)
    return FixedEffects(tuple(names), tuple(codes), tuple(sizes), tuple(levels)), missing


def interact(*columns) -> np.ndarray:
    """Codes of the interaction ``a^b`` of id columns (fixest's ``fe1^fe2``), one level per observed pair."""
    frame = pd.DataFrame({i: pd.Series(np.asarray(c)) for i, c in enumerate(columns)})
    codes = frame.groupby(list(frame.columns), sort=True, dropna=False).ngroup().to_numpy()
    bad = frame.isna().any(axis=1).to_numpy()
    out = codes.astype(float)
    out[bad] = np.nan
    return out


def singleton_mask(fe: FixedEffects, keep: np.ndarray) -> np.ndarray:
    """Rows to keep after removing FE singletons repeatedly (fixest ``fixef.rm = "singleton"``).

    A row is a singleton when its level of some FE occurs once among the kept
    rows; removing it can create new singletons in another FE, so the pass is
    repeated until nothing changes.
    """
    keep = keep.copy()
    while True:
        drop = np.zeros_like(keep)
        for c, g in zip(fe.codes, fe.sizes):
            counts = np.bincount(c[keep], minlength=g)
            drop |= keep & (counts[np.where(keep, c, 0)] == 1)
        if not drop.any():
            return keep
        keep &= ~drop


def _continue(a: np.ndarray, b: np.ndarray, tol: float) -> bool:
    # fixest continue_crit: both the absolute and the relative (to 0.1 + |a|) change exceed tol.
    diff = np.abs(a - b)
    return bool(np.any((diff > tol) & (diff / (0.1 + np.abs(a)) > tol)))


def _stop_ssr(old: float, new: float, tol: float) -> bool:
    diff = abs(old - new)
    return diff < tol or diff / (0.1 + abs(old)) < tol


def _irons_tuck(x: np.ndarray, gx: np.ndarray, ggx: np.ndarray, m: int) -> bool:
    """Irons-Tuck extrapolation of the first ``m`` coefficients, in place in ``x``; True if converged."""
    d_gx = ggx[:m] - gx[:m]
    d2 = d_gx - gx[:m] + x[:m]
    ssq = float(d2 @ d2)
    if ssq == 0.0:
        return True
    x[:m] = ggx[:m] - (float(d_gx @ d2) / ssq) * d_gx
    return False


class _Projector:
    """The fixed-point map on FE coefficients for one set of FEs (optionally weighted)."""

    def __init__(self, codes, sizes, weights, sw):
        self.codes, self.sizes, self.w, self.sw = codes, sizes, weights, sw
        self.starts = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
        self.buf = np.empty(codes[0].shape[0])

    def _wsum(self, q: int, values: np.ndarray) -> np.ndarray:
        return np.bincount(self.codes[q], weights=values, minlength=self.sizes[q])

    def gather(self, q: int, coef: np.ndarray, out: np.ndarray, add: bool = False) -> np.ndarray:
        if add:
            out += np.take(coef, self.codes[q])
        else:
            np.take(coef, self.codes[q], out=out)
        return out

    def in_out(self, resid: np.ndarray) -> list[np.ndarray]:
        v = resid if self.w is None else resid * self.w
        return [self._wsum(q, v) for q in range(len(self.sizes))]

    def beta_from_alpha(self, alpha, in_out):
        """Two-FE step: coefficients of FE 1 given those of FE 0."""
        t = self.gather(0, alpha, self.buf)
        if self.w is not None:
            t *= self.w
        return (in_out[1] - self._wsum(1, t)) / self.sw[1]

    def alpha_from_beta(self, beta, in_out):
        t = self.gather(1, beta, self.buf)
        if self.w is not None:
            t *= self.w
        return (in_out[0] - self._wsum(0, t)) / self.sw[0]

    def step2(self, alpha, in_out):
        return self.alpha_from_beta(self.beta_from_alpha(alpha, in_out), in_out)

    def step(self, origin, in_out):
        """General Q: update FE Q-1 down to 0, each from the others' latest values."""
        dest = np.empty_like(origin)
        s = self.starts
        Q = len(self.sizes)
        for q in range(Q - 1, -1, -1):
            other = self.buf
            other[:] = 0.0
            for h in range(Q):
                if h == q:
                    continue
                src = origin if h < q else dest
                self.gather(h, src[s[h]:s[h + 1]], other, add=True)
            if self.w is not None:
                other *= self.w
            dest[s[q]:s[q + 1]] = (in_out[q] - self._wsum(q, other)) / self.sw[q]
        return dest

    def mu(self, coef) -> np.ndarray:
        out = np.zeros(self.codes[0].shape[0])
        s = self.starts
        for q in range(len(self.sizes)):
            self.gather(q, coef[s[q]:s[q + 1]], out, add=True)
        return out


def accelerate(G, n_coef: int, m: int, ssr_of, tol: float, maxiter: int) -> tuple[np.ndarray, int]:
    """fixest's accelerated fixed-point iteration (demean_acc_gnl) of the map ``G`` on ``n_coef`` coefficients:
    Irons-Tuck on the first ``m`` of them, the grand acceleration every few iterations, and every 40 iterations
    the SSR stopping rule on ``ssr_of(coefficients)``.  Returns the coefficients and the iteration count.  One
    copy of the rule, shared by the in-memory demeaning and the query engines."""
    X = np.zeros(n_coef)
    GX = G(X)
    keep_going = _continue(X, GX, tol)
    Y = GY = GGY = None
    grand = 0
    ssr = 0.0
    it = 0
    while keep_going and it < maxiter:
        it += 1
        GGX = G(GX)
        if _irons_tuck(X, GX, GGX, m):
            break
        if it >= _ITER_PROJ_AFTER_ACC:
            X = G(X.copy())
        GX = G(X)
        keep_going = _continue(X[:m], GX[:m], tol)
        if it % _ITER_GRAND_ACC == 0:
            grand += 1
            if grand == 1:
                Y = GX.copy()
            elif grand == 2:
                GY = GX.copy()
            else:
                GGY = GX.copy()
                if _irons_tuck(Y, GY, GGY, m):
                    break
                GX = G(Y)
                grand = 0
        if it % 40 == 0:
            ssr_old, ssr = ssr, ssr_of(GX)
            if _stop_ssr(ssr_old, ssr, tol):
                break
    return GX, it


def _acc_loop(proj: _Projector, x_in: np.ndarray, resid: np.ndarray, out: np.ndarray,
              tol: float, maxiter: int, two: bool) -> tuple[int, bool]:
    """One accelerated stage (fixest demean_acc_gnl); adds the FE fit to ``out``. Returns (iterations, converged)."""
    in_out = proj.in_out(resid)
    if two:
        G = lambda a: proj.step2(a, in_out)  # noqa: E731
        m = n_coef = proj.sizes[0]
    else:
        G = lambda a: proj.step(a, in_out)  # noqa: E731
        n_coef = int(proj.starts[-1])
        m = int(proj.starts[-2])  # Irons-Tuck and the stopping rule skip the last FE, as fixest does.

    def ssr_of(GX):  # fixest measures this SSR against the stage's raw input, not the running residual
        if two:
            beta = proj.beta_from_alpha(GX, in_out)
            mu = proj.gather(0, GX, np.empty_like(out))
            proj.gather(1, beta, mu, add=True)
        else:
            mu = proj.mu(GX)
        return float(np.sum((x_in - mu) ** 2))

    GX, it = accelerate(G, n_coef, m, ssr_of, tol, maxiter)
    if two:
        beta = proj.beta_from_alpha(GX, in_out)
        alpha = proj.alpha_from_beta(beta, in_out)
        out += np.take(alpha, proj.codes[0])
        out += np.take(beta, proj.codes[1])
    else:
        out += proj.mu(GX)
    return it, it != maxiter


def demean(x: np.ndarray, fe: FixedEffects, weights: np.ndarray | None = None, *,
           tol: float = 1e-6, maxiter: int = 10_000) -> tuple[np.ndarray, np.ndarray]:
    """Demean the columns of ``x`` by the fixed effects, as fixest does.

    Matches fixest::demean / the demeaning inside fixest::feols (fixef.tol, fixef.iter);
    Berge (2018) with Irons & Tuck (1969) acceleration.

    Parameters
    ----------
    x : ndarray, shape (n,) or (n, k)
    fe : FixedEffects
    weights : ndarray, optional
        Positive observation weights (weighted projection).
    tol, maxiter : float, int
        fixest's ``fixef.tol`` and ``fixef.iter``.

    Returns
    -------
    demeaned : ndarray, same shape as ``x``
    iterations : ndarray of int, one per column

    Examples
    --------
    >>> import numpy as np
    >>> fe, _ = encode_fixed_effects({"g": np.array([0, 0, 1, 1])}, 4)
    >>> demean(np.array([1.0, 3.0, 2.0, 6.0]), fe)[0]
    array([-1.,  1., -2.,  2.])
    """
    x = np.asarray(x, dtype=float)
    one_d = x.ndim == 1
    cols = [x] if one_d else [x[:, j] for j in range(x.shape[1])]
    out, iterations = demean_columns(cols, fe, weights, tol=tol, maxiter=maxiter)
    return (out[:, 0] if one_d else np.ascontiguousarray(out)), iterations


def demean_columns(cols, fe: FixedEffects, weights: np.ndarray | None = None, *,
                   tol: float = 1e-6, maxiter: int = 10_000) -> tuple[np.ndarray, np.ndarray]:
    """Demean a list of n-vectors into one Fortran-ordered (n, k) matrix (no stacked copy of the input).

    Same algorithm and arguments as :func:`demean`.
    """
    # fixest puts the largest FE first (stable order), which its 2-FE algorithm and staging rely on.
    order = sorted(range(len(fe.sizes)), key=lambda q: -fe.sizes[q])
    codes = [fe.codes[q] for q in order]
    sizes = [fe.sizes[q] for q in order]
    w = None if weights is None else np.asarray(weights, dtype=float)
    if w is None:
        sw = [np.bincount(c, minlength=g).astype(float) for c, g in zip(codes, sizes)]
    else:
        sw = [np.bincount(c, weights=w, minlength=g) for c, g in zip(codes, sizes)]
    for s in sw:
        s[s == 0] = 1.0  # empty levels (zero weights) would divide by zero, as fixest guards
    proj = _Projector(codes, sizes, w, sw)
    Q = len(sizes)
    n = fe.codes[0].shape[0]
    out = np.empty((n, len(cols)), order="F")
    iterations = np.zeros(len(cols), dtype=int)
    for j in range(len(cols)):
        xj = np.ascontiguousarray(cols[j], dtype=float)
        if Q == 1:
            v = xj if w is None else xj * w
            coef = np.bincount(codes[0], weights=v, minlength=sizes[0]) / sw[0]
            np.subtract(xj, np.take(coef, codes[0]), out=out[:, j])
            continue
        fitted = np.zeros_like(xj)
        if Q == 2:
            it, conv = _acc_loop(proj, xj, xj, fitted, tol, maxiter, two=True)
            iterations[j] = it
        else:
            it, conv = _acc_loop(proj, xj, xj, fitted, tol, min(_ITER_WARMUP, maxiter), two=False)
            total = it
            if not conv and maxiter > _ITER_WARMUP:
                proj2 = _Projector(codes[:2], sizes[:2], w, sw[:2])
                n2 = maxiter // 2
                it2, _ = _acc_loop(proj2, xj, xj - fitted, fitted, tol, n2, two=True)
                total += it2
                it3, conv = _acc_loop(proj, xj, xj - fitted, fitted, tol, maxiter - total, two=False)
                total += it3
            iterations[j] = total
        np.subtract(xj, fitted, out=out[:, j])
    return out, iterations
