"""Ordinary and weighted least squares with R's rank-deficiency handling.

The fit follows R's ``lm.fit`` / ``lm.wfit``: a Householder QR with *limited*
column pivoting (LINPACK ``dqrdc2`` as modified for R, tolerance ``1e-7``).  A
column whose norm, after removing the columns kept to its left, falls below
``tol`` times its original norm is aliased: it is moved to the end, its
coefficient is NaN (R's NA) and it takes no part in the variance.  Columns are
never reordered for any other reason, so the kept columns and their names are
exactly R's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
from scipy import linalg, stats
from scipy.linalg import lapack

from causalspec._arrays import all_finite
from causalspec.errors import DataError, EstimationError

__all__ = ["LinearFit", "FStatistic", "fit_ols", "r_pivot"]

_LINPACK_TOL = 1e-7


@dataclass(frozen=True)
class FStatistic:
    """The overall F test of ``summary.lm`` (all slopes zero; intercept-aware)."""

    value: float
    numdf: int
    dendf: int
    p_value: float


@dataclass(frozen=True)
class LinearFit:
    """A least-squares fit with R's names, aliasing and summary statistics.

    ``coef`` has one entry per design column (NaN where aliased).  The
    quantities every variance estimator needs live on the *kept* columns:
    ``X_kept`` (unweighted design, aliased columns removed), ``weights`` and
    ``R_kept``, the triangular factor of ``sqrt(W) X_kept`` so that
    ``(X'WX)^-1`` is obtained by two triangular solves, never an inversion.
    """

    terms: tuple[str, ...]
    coef: np.ndarray
    aliased: tuple[str, ...]
    rank: int
    nobs: int
    df_resid: int
    residuals: np.ndarray
    fitted: np.ndarray
    weights: np.ndarray | None
    X_kept: np.ndarray
    kept: tuple[int, ...]
    R_kept: np.ndarray
    has_intercept: bool
    r2: float
    adj_r2: float
    sigma: float
    fstat: FStatistic | None
    notes: tuple[str, ...] = field(default=())

    @property
    def kept_terms(self) -> tuple[str, ...]:
        """Names of the non-aliased columns, in design order."""
        return tuple(self.terms[i] for i in self.kept)

    @property
    def coef_kept(self) -> np.ndarray:
        return self.coef[list(self.kept)]

    def xtwx_solve(self, B: np.ndarray) -> np.ndarray:
        """``(X'WX)^-1 B`` on the kept columns, by two triangular solves with R."""
        tmp = linalg.solve_triangular(self.R_kept, B, trans="T", lower=False)
        return linalg.solve_triangular(self.R_kept, tmp, lower=False)

    def xtwx_inv(self) -> np.ndarray:
        """``(X'WX)^-1`` (R's ``chol2inv(qr.R)``), the unscaled covariance."""
        return self.xtwx_solve(np.eye(self.rank))

    @property
    def rss(self) -> float:
        w = 1.0 if self.weights is None else self.weights
        return float(np.sum(w * self.residuals**2))


def r_pivot(X: np.ndarray, tol: float = _LINPACK_TOL) -> tuple[np.ndarray, int]:
    """Column order and rank chosen by R's LINPACK ``dqrdc2`` (limited pivoting).

    Returns ``(pivot, rank)``: the first ``rank`` entries of ``pivot`` are the
    kept columns in their original order, the rest the aliased ones in the
    order R moves them to the end.  Matches ``qr(X, LAPACK = FALSE)$pivot``;
    Dongarra et al. (1979) LINPACK Users' Guide, ch. 9, with R's modification.

    dqrdc2 walks the columns left to right and moves column ``j`` to the end
    when the norm of what is left of it, after removing the kept columns to
    its left, is below ``tol`` times its original norm.  That remaining norm is
    ``|R_jj|`` of an unpivoted QR of the kept columns, so the rule is applied
    with LAPACK's blocked QR: find the first failing column, drop it, refactor.
    """
    X = np.asarray(X, dtype=float)
    n, p = X.shape
    norms = np.sqrt(np.einsum("ij,ij->j", X, X))
    yardstick = np.where(norms == 0.0, 1.0, norms) * tol
    remaining = list(range(p))
    kept: list[int] = []
    aliased: list[int] = []
    A = np.asfortranarray(X)
    while remaining and len(kept) < n:
        (h, tau), R = linalg.qr(A, mode="raw", check_finite=False)
        m = min(A.shape)
        resid = np.abs(np.diag(R[:m, :m]))
        bad = np.flatnonzero(resid < yardstick[remaining[:m]])
        if bad.size == 0:
            kept += remaining
            break
        i = int(bad[0])
        kept += remaining[:i]
        aliased.append(remaining[i])
        trailing = A[:, i + 1:]
        if i > 0 and trailing.shape[1]:
            # apply the first i reflectors: what is left of the later columns after the kept ones
            trailing = lapack.dormqr("L", "T", h[:, :i], tau[:i], np.asfortranarray(trailing),
                                     lwork=max(1, trailing.shape[1]) * 64)[0]
        A = np.asfortranarray(trailing[i:, :])
        remaining = remaining[i + 1:]
    kept += [c for c in remaining if c not in kept]
    rank = min(len(kept), n)
    return np.array(kept + aliased, dtype=np.intp), rank


def _r_factor(a: np.ndarray) -> np.ndarray:
    """The k x k upper triangle R of the Householder QR of the n x k (Fortran-ordered, overwritten) ``a``: LAPACK's
    dgeqrf in place, as ``scipy.linalg.qr(mode="r")`` computes it, without that function's n x k copy of R."""
    (h, _), = linalg.qr(a, mode="raw", overwrite_a=True, check_finite=False)[:1]
    k = min(h.shape)
    return np.triu(h[:k, :])


#: Rows per block of the blocked QR: a block of [X | y] stays in cache and is the only copy made.
_QR_BLOCK = 1 << 15


def _blocked_r_factor(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """R of the Householder QR of ``[X | y]`` without copying all of it: the rows are taken in blocks, each block
    stacked under the R of the rows before it and triangularised again (TSQR; Demmel et al. 2012).  An
    orthogonal reduction like one QR of the whole matrix, so as accurate (no squared condition number), but
    the only copy is one block.  Equal to the one-shot R up to rounding and the signs of its rows."""
    n, p = X.shape
    if n <= 2 * _QR_BLOCK:
        aug = np.empty((n, p + 1), order="F")
        aug[:, :p] = X
        aug[:, p] = y
        return _r_factor(aug)
    k = p + 1
    R = np.zeros((0, k))
    for start in range(0, n, _QR_BLOCK):
        stop = min(start + _QR_BLOCK, n)
        block = np.empty((len(R) + stop - start, k), order="F")
        block[:len(R)] = R
        block[len(R):, :p] = X[start:stop]
        block[len(R):, p] = y[start:stop]
        R = _r_factor(block)
    return R


def _qr_full_rank(X: np.ndarray, y: np.ndarray, tol: float) -> np.ndarray | None:
    """R of the QR of ``[X | y]`` when dqrdc2 would keep every column of ``X`` (each |R_jj| at least ``tol``
    times its column's norm), else None.  The leading block is the QR of X itself, so this is
    :func:`r_pivot`'s first factorisation and the fit's QR in one."""
    n, p = X.shape
    norms = np.sqrt(np.einsum("ij,ij->j", X, X))
    R = _blocked_r_factor(X, y)
    if np.any(norms == 0.0) or np.any(np.abs(np.diag(R[:p, :p])) < norms * tol):
        return None
    return R


def _collinear_note(beta: np.ndarray, kept: Sequence[int], j: int, terms: Sequence[str]) -> str:
    """Say which kept columns an aliased column is a combination of (``beta``: its coefficients on them)."""
    scale = np.max(np.abs(beta)) if beta.size else 0.0
    partners = [terms[kept[i]] for i, b in enumerate(beta) if scale and abs(b) > 1e-8 * scale]
    shown = ", ".join(f"'{t}'" for t in partners[:6])
    if len(partners) > 6:
        shown += f" and {len(partners) - 6} more columns"
    with_ = shown if partners else "the other columns"
    return (f"dropped '{terms[j]}': collinear with {with_} (coefficient NA, as R's lm reports). "
            "Remove one of them from the model to silence this note.")


def fit_ols(y: np.ndarray, X: np.ndarray, terms: Sequence[str], weights: np.ndarray | None = None,
            *, tol: float = _LINPACK_TOL) -> LinearFit:
    """Least squares with R's aliasing rule and ``summary.lm`` statistics.

    Matches ``stats::lm`` / ``lm.wfit`` (coefficients, NA for aliased columns,
    ``summary.lm`` R², adjusted R², sigma and F); Householder (1958) QR with
    LINPACK's limited pivoting.

    Parameters
    ----------
    y : (n,) array
    X : (n, p) array, the design (intercept column included if wanted)
    terms : the p column names; ``"(Intercept)"`` marks the intercept
    weights : optional (n,) non-negative weights, as ``lm(weights = )``;
        rows with weight 0 are kept in the data but carry no information.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.column_stack([np.ones(4), [1., 2, 3, 4], [2., 4, 6, 8]])
    >>> fit = fit_ols(np.array([1., 3, 2, 5]), X, ["(Intercept)", "x", "x2"])
    >>> fit.aliased, fit.rank
    (('x2',), 2)
    """
    y = np.asarray(y, dtype=float)
    X = np.asarray(X, dtype=float)
    terms = tuple(terms)
    n, p = X.shape
    if y.shape != (n,) or len(terms) != p:
        raise EstimationError(f"fit_ols: y has shape {y.shape}, X {X.shape} and there are {len(terms)} "
                              "term names; they must agree.", fix="Pass y (n,), X (n, p) and p names.")
    if n == 0:
        raise DataError("no rows left to fit the model.", fix="Check the missing values and the sample filters.")
    if not (all_finite(y) and all_finite(X)):
        raise DataError("the outcome or design contains NaN or infinite values (R: 'NA/NaN/Inf in x').",
                        fix="Drop or fix the non-finite values (for example log of 0) before fitting.")
    if weights is not None:
        w = np.asarray(weights, dtype=float)
        if w.shape != (n,) or not np.all(np.isfinite(w)) or np.any(w < 0):
            raise DataError("weights must be finite, non-negative and one per row.",
                            fix="Fix or drop the rows with missing or negative weights.")
        pos = w > 0
    else:
        w = None
        pos = np.ones(n, dtype=bool)
    R_aug = _qr_full_rank(X, y, tol) if w is None and n > p else None
    if R_aug is not None:  # no column aliased: the one QR of [X | y] is the one below, found in one pass
        kept, aliased_idx, rank = tuple(range(p)), [], p
    else:
        sw = np.ones(n) if w is None else np.sqrt(w)
        Xw = X * sw[:, None]
        yw = y * sw
        # lm.wfit fits on the positive-weight rows only; zero-weight rows get fitted values.
        pivot, rank = r_pivot(Xw[pos], tol)
        kept = tuple(sorted(int(i) for i in pivot[:rank]))
        aliased_idx = [int(i) for i in pivot[rank:]]
        if rank == 0:
            raise EstimationError("every column of the design is zero or aliased; nothing can be estimated.",
                                  fix="Check that the regressors vary in the estimation sample.")
        # One QR of [X_kept | y | X_aliased]: R, Q'y and Q'X_aliased without forming Q.
        aug = np.column_stack([Xw[pos][:, list(kept)], yw[pos], Xw[pos][:, aliased_idx]])
        R_aug = _r_factor(np.asfortranarray(aug))
    r = len(kept)
    R = np.triu(R_aug[:r, :r])
    beta_kept = linalg.solve_triangular(R, R_aug[:r, r], lower=False)
    coef = np.full(p, np.nan)
    coef[list(kept)] = beta_kept
    fitted = (X if r == p else X[:, list(kept)]) @ beta_kept
    resid = y - fitted
    n_eff = int(pos.sum())
    df_resid = n_eff - rank
    has_intercept = "(Intercept)" in terms
    if w is None:  # the same sums without an n-vector of ones
        rss = float(resid @ resid)
        if has_intercept:
            centred = fitted - float(np.sum(fitted) / n)
            mss = float(centred @ centred)
        else:
            mss = float(fitted @ fitted)
    else:
        rss = float(np.sum(w * resid**2))
        if has_intercept:
            m = float(np.sum(w * fitted) / np.sum(w))
            mss = float(np.sum(w * (fitted - m) ** 2))
        else:
            mss = float(np.sum(w * fitted**2))
    df_int = 1 if has_intercept else 0
    resvar = rss / df_resid if df_resid > 0 else np.nan
    if rank != df_int and mss + rss > 0:
        r2 = mss / (mss + rss)
        adj_r2 = 1.0 - (1.0 - r2) * ((n_eff - df_int) / df_resid) if df_resid > 0 else np.nan
        numdf = rank - df_int
        if df_resid > 0 and resvar > 0:
            fval = (mss / numdf) / resvar
            fstat = FStatistic(float(fval), numdf, df_resid, float(stats.f.sf(fval, numdf, df_resid)))
        else:
            fstat = None
    else:
        r2, adj_r2, fstat = 0.0, 0.0, None
    partners = linalg.solve_triangular(R, R_aug[:r, r + 1:], lower=False) if aliased_idx else None
    notes = tuple(_collinear_note(partners[:, i], kept, j, terms) for i, j in enumerate(aliased_idx))
    return LinearFit(
        terms=terms, coef=coef, aliased=tuple(terms[j] for j in aliased_idx), rank=rank, nobs=n_eff,
        df_resid=df_resid, residuals=resid, fitted=fitted, weights=w, X_kept=X if r == p else np.ascontiguousarray(X[:, list(kept)]),
        kept=kept, R_kept=R, has_intercept=has_intercept, r2=float(r2), adj_r2=float(adj_r2),
        sigma=float(np.sqrt(resvar)), fstat=fstat, notes=notes,
    )
