"""OLS with absorbed fixed effects, as fixest::feols computes it.

The sample rules (rows with a missing value dropped; optionally FE singletons
dropped repeatedly), the demeaning (``_demean``), the collinearity rule (an
in-order Cholesky of X'WX that drops a column whose remaining pivot is below
``collin_tol``, exactly fixest's ``cpp_cholesky``) and the parameter count
(``nparams`` = coefficients + FE levels - (number of FEs - 1)) all follow fixest.

Matches fixest::feols (fixef.rm, fixef.tol, collin.tol); Berge (2018).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np
from scipy import linalg

from causalspec.errors import DataError, EstimationError, UnsupportedError
from causalspec.estimators.fixest._demean import FixedEffects, demean_columns, encode_fixed_effects, singleton_mask

__all__ = ["FixestFit", "Sample", "feols", "fit_on_sample", "prepare_sample", "ols_fit", "fit_stats",
           "collinear_cholesky", "assemble_fit", "wssq"]


@dataclass(frozen=True)
class Sample:
    """The estimation sample: which original rows are used and why the others are not."""

    mask: np.ndarray            # bool over the original rows
    nobs_origin: int
    n_na_removed: int
    n_singletons: int
    fixef_removed: Mapping[str, tuple]
    fe: FixedEffects | None     # coded on the kept rows
    weights: np.ndarray | None  # on the kept rows
    n_zero_weight: int = 0

    @property
    def nobs(self) -> int:
        return int(self.mask.sum())


@dataclass(frozen=True)
class FixestFit:
    """A fitted fixest-style linear model (frozen; the numbers variance estimators need).

    Attributes
    ----------
    coef : ndarray
        Estimates of the kept (non-collinear) regressors, in ``names`` order.
    names : tuple of str
        R term names of the kept regressors.
    collinear : tuple of str
        Regressors removed because they are collinear (fixest ``collin.var``).
    notes : tuple of str
        Human-readable notes (dropped rows, removed variables), as fixest prints them.
    X : ndarray
        Demeaned (and, for IV, first-stage fitted) regressors the score uses.
    resid : ndarray
        Residuals (for IV, the structural residuals y - X b with the actual regressors).
    xwx_chol : ndarray
        Upper Cholesky factor of X'WX (the bread is its inverse, applied by solves).
    nparams : int
        fixest's parameter count: coefficients + sum(FE sizes) - (number of FEs - 1).
    """

    coef: np.ndarray
    names: tuple[str, ...]
    collinear: tuple[str, ...]
    notes: tuple[str, ...]
    sample: Sample
    X: np.ndarray
    y: np.ndarray
    resid: np.ndarray
    xwx_chol: np.ndarray
    ssr: float
    ssr_null: float
    ssr_fe_only: float | None
    nparams: int
    has_intercept: bool
    iterations: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))

    @property
    def nobs(self) -> int:
        return self.sample.nobs

    @property
    def nobs_origin(self) -> int:
        return self.sample.nobs_origin

    @property
    def fe(self) -> FixedEffects | None:
        return self.sample.fe

    @property
    def weights(self) -> np.ndarray | None:
        return self.sample.weights

    @property
    def fixef_sizes(self) -> dict[str, int]:
        fe = self.sample.fe
        return {} if fe is None else dict(zip(fe.names, fe.sizes))

    def coef_dict(self) -> dict[str, float]:
        return dict(zip(self.names, map(float, self.coef)))


def _as_2d(X, n: int, what: str) -> np.ndarray:
    if X is None:
        return np.empty((n, 0))
    try:
        arr = np.asarray(X, dtype=float)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{what} is not numeric ({exc}).", loc=what,
                        fix="Convert text or categorical columns to numbers (e.g. dummies) first.") from None
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.shape[0] != n:
        raise DataError(f"{what} has {arr.shape[0]} rows but y has {n}.", loc=what,
                        fix="Pass regressors aligned with y, one row per observation.")
    return arr


def _columns(X, n: int, what: str) -> list[np.ndarray]:
    """The columns of X as float vectors, without copying DataFrame columns that are already float64."""
    if X is None:
        return []
    if hasattr(X, "columns") and hasattr(X, "dtypes"):
        out = []
        for c in X.columns:
            try:
                out.append(np.asarray(X[c].to_numpy(), dtype=float))
            except (TypeError, ValueError) as exc:
                raise DataError(f"{what} column '{c}' is not numeric ({exc}).", loc=f"{what}.{c}",
                                fix="Convert text or categorical columns to numbers (e.g. dummies) first.") from None
        if out and out[0].shape[0] != n:
            raise DataError(f"{what} has {out[0].shape[0]} rows but y has {n}.", loc=what,
                            fix="Pass regressors aligned with y, one row per observation.")
        return out
    arr = _as_2d(X, n, what)
    return [arr[:, j] for j in range(arr.shape[1])]


def prepare_sample(blocks: list[np.ndarray], fe, weights, fixef_rm: str) -> Sample:
    """Decide the estimation sample from numeric blocks (n-vectors or n x k), FE ids and weights."""
    n = blocks[0].shape[0]
    bad = np.zeros(n, dtype=bool)
    for b in blocks:
        if b.ndim == 1:
            bad |= ~np.isfinite(b)
        elif b.size:
            bad |= ~np.isfinite(b).all(axis=1)
    fe_coded = None
    if fe is not None:
        fe_coded, fe_missing = encode_fixed_effects(fe, n)
        bad |= fe_missing
    w = None
    n_zero = 0
    if weights is not None:
        w = _as_2d(weights, n, "weights")[:, 0]
        bad |= ~np.isfinite(w)
        if np.any(w[~bad] < 0):
            raise DataError("weights: some weights are negative.", loc="weights",
                            fix="Use non-negative (precision or frequency) weights.")
        zero = (w == 0) & ~bad
        n_zero = int(zero.sum())
    keep = ~bad
    n_na = int(bad.sum())
    if n_zero:
        keep &= w != 0
    if fixef_rm not in ("none", "singleton"):
        raise DataError(f"fixef_rm = '{fixef_rm}' is not supported.", loc="fixef_rm",
                        fix="Use 'none' (fixest's default) or 'singleton'.")
    n_single = 0
    removed: dict[str, tuple] = {}
    if fe_coded is not None and fixef_rm == "singleton":
        keep2 = singleton_mask(fe_coded, keep)
        n_single = int(keep.sum() - keep2.sum())
        for name, c, lev in zip(fe_coded.names, fe_coded.codes, fe_coded.levels):
            before = np.unique(c[keep])
            after = np.unique(c[keep2])
            gone = np.setdiff1d(before, after)
            if gone.size:
                removed[name] = tuple(lev[gone].tolist())
        keep = keep2
    if not keep.any():
        raise DataError("no observation is left after removing missing values"
                        + (" and singletons" if n_single else "") + ".",
                        fix="Check the variables for missing values.")
    fe_sub = None if fe_coded is None else fe_coded.subset(keep)
    w_sub = None if w is None else (w if keep.all() else w[keep])
    return Sample(keep, n, n_na, n_single, removed, fe_sub, w_sub, n_zero)


def collinear_cholesky(xtx: np.ndarray, tol: float = 1e-10) -> tuple[np.ndarray, np.ndarray]:
    """In-order Cholesky that skips (drops) columns whose remaining pivot is below ``tol``.

    Matches fixest's cpp_cholesky (collin.tol): a column is dropped when it is
    (numerically) a combination of the columns before it.  Returns the upper
    factor of the kept columns and the boolean mask of kept columns.
    """
    K = xtx.shape[0]
    R = np.zeros((K, K))
    keep = np.ones(K, dtype=bool)
    for j in range(K):
        rjj = xtx[j, j] - R[:j, j] @ R[:j, j]
        if rjj < tol:
            keep[j] = False
            continue
        rjj = np.sqrt(rjj)
        R[j, j] = rjj
        if j + 1 < K:
            R[j, j + 1:] = (xtx[j, j + 1:] - R[:j, j] @ R[:j, j + 1:]) / rjj
    return R[np.ix_(keep, keep)], keep


def ols_fit(y: np.ndarray, X: np.ndarray, w: np.ndarray | None, collin_tol: float = 1e-10):
    """Weighted least squares with fixest's collinearity rule: (coef, kept mask, chol factor, resid)."""
    Xw = X if w is None else X * w[:, None]
    xtx = Xw.T @ X
    R, keep = collinear_cholesky(xtx, collin_tol)
    xty = Xw.T @ y
    coef = linalg.cho_solve((R, False), xty[keep]) if keep.any() else np.zeros(0)
    # np.dot, not @: numpy's matmul of a column-major matrix and a vector skips BLAS (4x slower, same sums)
    resid = y - np.dot(X if keep.all() else X[:, keep], coef)
    return coef, keep, R, resid


def wssq(v: np.ndarray, w: np.ndarray | None) -> float:
    return float(v @ v) if w is None else float((w * v) @ v)


def feols(y, X, names, fe=None, *, weights=None, fixef_rm: str = "none", tol: float = 1e-6,
          maxiter: int = 10_000, collin_tol: float = 1e-10) -> FixestFit:
    """Linear regression with absorbed fixed effects, as ``fixest::feols``.

    Matches fixest::feols(y ~ X | fe, weights, fixef.rm, fixef.tol, fixef.iter, collin.tol);
    Berge (2018), "Efficient estimation of maximum likelihood models with multiple fixed-effects".

    Parameters
    ----------
    y : array_like, shape (n,)
    X : array_like, shape (n, k)
        Regressors; include a ``"(Intercept)"`` column yourself when there is no FE.
    names : sequence of str
        R term names of the columns of ``X``.
    fe : DataFrame or mapping, optional
        One id column per fixed effect (use :func:`interact` for ``a^b``).
    weights : array_like, optional
        Analytic weights (weighted least squares and weighted demeaning).
    fixef_rm : {"none", "singleton"}
        ``"singleton"`` drops observations whose FE level occurs once, repeatedly.
    tol, maxiter : float, int
        Demeaning tolerance and iteration cap (fixest ``fixef.tol``, ``fixef.iter``).
    collin_tol : float
        fixest ``collin.tol``.

    Returns
    -------
    FixestFit

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> g = np.repeat(np.arange(50), 4); x = rng.normal(size=200)
    >>> y = 2 * x + g * 0.1 + rng.normal(size=200) * 0.01
    >>> fit = feols(y, x[:, None], ["x"], pd.DataFrame({"g": g}))
    >>> round(fit.coef_dict()["x"], 2)
    2.0
    """
    y = np.asarray(_as_2d(y, np.asarray(y).shape[0], "y")[:, 0])
    n = y.shape[0]
    cols = _columns(X, n, "X")
    del X  # the columns are views of the caller's data: no second copy while we demean
    names = tuple(str(s) for s in names)
    if len(names) != len(cols):
        raise DataError(f"names has {len(names)} entries but X has {len(cols)} columns.", loc="names",
                        fix="Give one R term name per column of X.")
    if not cols:
        raise UnsupportedError("X has no column: a model with fixed effects only is not supported.",
                               loc="X", fix="Add at least one regressor.")
    sample = prepare_sample([y, *cols], fe, weights, fixef_rm)
    if sample.nobs < n:
        y = y[sample.mask]
        cols = [c[sample.mask] for c in cols]
    iterations = np.zeros(0, dtype=int)
    if sample.fe is not None:
        both, iterations = demean_columns([y, *cols], sample.fe, sample.weights, tol=tol, maxiter=maxiter)
        y_dm, X_dm = both[:, 0], both[:, 1:]
    else:
        y_dm, X_dm = y, np.column_stack(cols)
    del cols
    return _solve(y, y_dm, X_dm, names, sample, iterations, maxiter, collin_tol)


def _solve(y, y_dm, X_dm, names, sample, iterations, maxiter, collin_tol) -> FixestFit:
    coef, keep, R, resid = ols_fit(y_dm, X_dm, sample.weights, collin_tol)
    if not keep.any():
        raise EstimationError("all regressors are collinear with the fixed effects (or constant).",
                              fix="Remove variables that do not vary within the fixed effects.")
    X_kept = X_dm if keep.all() else X_dm[:, keep]
    return assemble_fit(y, y_dm, X_kept, names, keep, coef, R, resid, sample, iterations, maxiter)


def fit_on_sample(y: np.ndarray, X: np.ndarray, names: tuple[str, ...], sample: Sample, *,
                  tol: float = 1e-6, maxiter: int = 10_000, collin_tol: float = 1e-10,
                  demeaned: tuple[np.ndarray, np.ndarray] | None = None) -> FixestFit:
    """Fit on an already-chosen sample (rows of ``y`` and ``X`` are the kept rows)."""
    iterations = np.zeros(0, dtype=int)
    if demeaned is not None:
        y_dm, X_dm = demeaned
    elif sample.fe is not None:
        both, iterations = demean_columns([y, *X.T], sample.fe, sample.weights, tol=tol, maxiter=maxiter)
        y_dm, X_dm = both[:, 0], both[:, 1:]
    else:
        y_dm, X_dm = y, X
    return _solve(y, y_dm, X_dm, names, sample, iterations, maxiter, collin_tol)


def assemble_fit(y, y_dm, X_kept, names, keep, coef, R, resid, sample, iterations=None,
                 maxiter: int = 10_000) -> FixestFit:
    """Package a solved regression as a FixestFit (``X_kept`` and ``resid`` are what the score uses)."""
    if iterations is None:
        iterations = np.zeros(0, dtype=int)
    w = sample.weights
    fe = sample.fe
    kept_names = tuple(nm for nm, k in zip(names, keep) if k)
    collinear = tuple(nm for nm, k in zip(names, keep) if not k)
    ybar = float(np.average(y, weights=w))
    ssr_null = wssq(y - ybar, w)
    ssr_fe_only = wssq(y_dm, w) if fe is not None else None
    n_fe_params = 0 if fe is None else sum(fe.sizes) - (len(fe.sizes) - 1)
    notes = []
    if sample.n_na_removed:
        notes.append(f"{sample.n_na_removed} observation{'s' if sample.n_na_removed > 1 else ''} "
                     "removed because of NA values.")
    if sample.n_zero_weight:
        notes.append(f"{sample.n_zero_weight} observations removed because of 0 weights.")
    if sample.n_singletons:
        notes.append(f"{sample.n_singletons} fixed-effect singleton{'s' if sample.n_singletons > 1 else ''} "
                     "removed.")
    if collinear:
        notes.append(f"The variable{'s' if len(collinear) > 1 else ''} {', '.join(repr(c) for c in collinear)} "
                     f"{'have' if len(collinear) > 1 else 'has'} been removed because of collinearity.")
    if iterations.size and np.any(iterations >= maxiter):
        notes.append(f"Demeaning algorithm: absence of convergence after {maxiter} iterations.")
    return FixestFit(
        coef=coef, names=kept_names, collinear=collinear, notes=tuple(notes), sample=sample,
        X=X_kept, y=y_dm, resid=resid, xwx_chol=R, ssr=wssq(resid, w), ssr_null=ssr_null,
        ssr_fe_only=ssr_fe_only, nparams=len(kept_names) + n_fe_params,
        has_intercept=fe is not None or "(Intercept)" in kept_names, iterations=iterations)


def fit_stats(fit: FixestFit, n_coef: int | None = None) -> dict[str, float | None]:
    """R2, adjusted R2, within R2s, RMSE, sigma and SSR as fixest's ``r2()`` / ``fitstat()`` report them.

    Matches fixest::r2(fit, c("r2", "ar2", "wr2", "war2")), fitstat(fit, "rmse"), sigma(fit).

    Parameters
    ----------
    n_coef : int, optional
        The number of coefficients fixest's ``coef()`` reports, which the within
        adjusted R2 counts (a sunab fit reports its aggregated periods, not the
        cohort x period coefficients).  Defaults to the fitted coefficients.
    """
    n, K = fit.nobs, fit.nparams
    df_int = 1 if fit.has_intercept else 0
    r2 = 1 - fit.ssr / fit.ssr_null
    ar2 = 1 - fit.ssr / fit.ssr_null * (n - df_int) / (n - K)
    wr2 = war2 = None
    if fit.ssr_fe_only is not None:
        nb_fe = K - (len(fit.names) if n_coef is None else n_coef)
        wr2 = 1 - fit.ssr / fit.ssr_fe_only
        war2 = 1 - fit.ssr / fit.ssr_fe_only * (n - nb_fe) / (n - K)
    return {"r2": r2, "ar2": ar2, "wr2": wr2, "war2": war2, "rmse": float(np.sqrt(fit.ssr / n)),
            "sigma": float(np.sqrt(fit.ssr / (n - K))), "ssr": fit.ssr}
