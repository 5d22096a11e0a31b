"""Convenience entry point: fit the outcome and treatment regressions, then run :func:`sensemakr`.

The two least-squares fits mirror what ``sensemakr`` does with an ``lm`` object: the outcome
regression ``outcome ~ treatment + covariates`` (with an intercept) and the treatment regression
of the treatment on every other column of that model matrix.  Factors (non-numeric columns)
enter as R's treatment contrasts: one dummy per level except the first, named
``<variable><level>`` (levels in R's ``factor()`` order: the categorical's own order, else
sorted with R's en_US collation, as :mod:`causalspec.estimators` does).  Aliased
columns are dropped in order, as R's ``lm`` does (pivoting tolerance 1e-7).

This module is the reference for the later integration with the estimators: once the OLS
estimator exposes a fitted model, the planner should feed its numbers to :func:`sensemakr`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import linalg

from causalspec.errors import DataError, EstimationError, Problem, SpecError
from causalspec.sensitivity._bounds import Benchmark
from causalspec.sensitivity._ovb import group_partial_r2, partial_r2
from causalspec.sensitivity._sensemakr import SensitivityResult, sensemakr
from causalspec.formula._evaluate import r_levels  # R's factor() level order (locale collation)
from causalspec.formula._materialize import materialize

__all__ = ["sensemakr_from_data", "sensemakr_from_formula", "Regressions", "regressions_from_data",
           "regressions_from_formula", "sensemakr_from_regressions", "LinearFit", "fit_linear", "fit_linear_gram", "regressions_by_gram", "design_matrix"]

_TOL = 1e-7  # R's lm() pivoting tolerance (dqrdc2)


def design_matrix(data: pd.DataFrame, columns: Sequence[str], *, intercept: bool = True) -> pd.DataFrame:
    """R-style model matrix: intercept, numeric columns as is, factors as treatment-contrast dummies."""
    parts: dict[str, np.ndarray] = {}
    if intercept:
        parts["(Intercept)"] = np.ones(len(data))
    for col in columns:
        s = data[col]
        if pd.api.types.is_bool_dtype(s):
            parts[f"{col}TRUE"] = s.to_numpy(dtype=float)
        elif pd.api.types.is_numeric_dtype(s):
            parts[col] = s.to_numpy(dtype=float)
        else:

            levels = r_levels(s)
            values = s.astype(str).to_numpy() if not isinstance(s.dtype, pd.CategoricalDtype) else s.to_numpy()
            present = set(pd.unique(values))
            levels = [lv for lv in levels if lv in present]  # drop.unused.levels, as model.frame does
            for level in levels[1:]:  # first level is the reference (R's contr.treatment)
                parts[f"{col}{level}"] = (values == level).astype(float)
    return pd.DataFrame(parts, index=data.index)


@dataclass(frozen=True)
class LinearFit:
    """An OLS fit reduced to what sensitivity analysis needs (classical, iid variance)."""

    names: tuple[str, ...]
    coef: np.ndarray
    r: np.ndarray  # upper-triangular R of the QR of the kept columns
    sigma2: float
    dof: int
    nobs: int
    dropped: tuple[str, ...]
    r_squared: float

    def index(self, name: str) -> int:
        return self.names.index(name)

    def se(self, name: str) -> float:
        e = np.zeros(len(self.names))
        e[self.index(name)] = 1.0
        z = linalg.solve_triangular(self.r, e, trans="T")  # R^-T e: (X'X)^-1_jj = |z|^2
        return float(np.sqrt(self.sigma2 * z @ z))

    def t(self, name: str) -> float:
        return float(self.coef[self.index(name)] / self.se(name))

    def group_f(self, names: Sequence[str]) -> float:
        """Joint Wald F statistic of ``names`` = 0 (``b' V^-1 b / p``), solving rather than inverting."""
        idx = [self.index(n) for n in names]
        e = np.zeros((len(self.names), len(idx)))
        e[idx, range(len(idx))] = 1.0
        z = linalg.solve_triangular(self.r, e, trans="T")
        v = self.sigma2 * (z.T @ z)
        b = self.coef[idx]
        return float(b @ linalg.solve(v, b, assume_a="pos") / len(idx))


def _kept_columns(mat: np.ndarray, norms: np.ndarray) -> list[int]:
    """Indices of the columns R's lm() keeps: Gram-Schmidt in column order, dropping a column
    whose residual norm is below 1e-7 of its own norm (dqrdc2's limited pivoting)."""
    kept: list[int] = []
    basis = np.empty_like(mat)
    for j in range(mat.shape[1]):
        v = mat[:, j].copy()
        qk = basis[:, :len(kept)]
        for _ in range(2):  # twice is enough (Kahan-Parlett re-orthogonalisation)
            v -= qk @ (qk.T @ v)
        norm = np.linalg.norm(v)
        if norms[j] == 0 or norm <= _TOL * norms[j]:
            continue
        basis[:, len(kept)] = v / norm
        kept.append(j)
    return kept


def fit_linear(y: np.ndarray, x: pd.DataFrame) -> LinearFit:
    """Least squares with R's column dropping: a column whose residual norm, after projecting
    out the columns kept before it, is below 1e-7 of its own norm is aliased and dropped."""
    cols = list(x.columns)
    mat = x.to_numpy(dtype=float)
    norms = np.linalg.norm(mat, axis=0)
    kept = list(range(mat.shape[1]))
    q, r = np.linalg.qr(mat)
    if mat.shape[0] < mat.shape[1] or not np.all(np.abs(np.diag(r)) > _TOL * norms):
        # Rank deficient: find R's aliased columns in order, then refit on the rest.
        kept = _kept_columns(mat, norms)
        q, r = np.linalg.qr(mat[:, kept])
    xk = mat[:, kept]
    coef = linalg.solve_triangular(r, q.T @ y)
    resid = y - xk @ coef
    n, p = xk.shape
    dof = n - p
    if dof <= 0:
        raise EstimationError(Problem("sensitivity", f"the regression has {n} rows and {p} parameters, "
                                      "so no residual degrees of freedom.",
                                      fix="Use fewer covariates or more data."))
    tss = float(((y - y.mean()) ** 2).sum())
    return LinearFit(tuple(cols[j] for j in kept), coef, r, float(resid @ resid) / dof, dof, n,
                     tuple(c for i, c in enumerate(cols) if i not in kept),
                     1.0 - float(resid @ resid) / tss if tss > 0 else float("nan"))


#: Above this condition number of X'X the normal equations could lose digits against R's QR: fall back to it.
_GRAM_MAX_COND = 1e6


def fit_linear_gram(names: Sequence[str], gram: np.ndarray, xty: np.ndarray, y: np.ndarray,
                    x: np.ndarray) -> LinearFit | None:
    """:func:`fit_linear` from the k x k cross-products X'X and X'y, with the residuals taken on the rows (no
    n x k QR).

    The coefficients are exact to about cond x 1e-16 (at most 1e-10 here; cond is the condition number of X'X
    with its columns scaled to unit norm, which is what bounds Cholesky's error) and the residual sum of
    squares is summed from the residuals themselves (no cancellation); returns None when that condition number
    is above 1e6 (where a column R's lm drops could hide), and the caller then fits by QR."""
    gram = np.asarray(gram, dtype=float)
    k = gram.shape[0]
    diag = np.diag(gram).copy() if k else np.zeros(0)
    if k == 0 or not np.all(np.isfinite(gram)) or np.any(diag <= 0):
        return None
    scale = 1.0 / np.sqrt(diag)  # Cholesky's accuracy depends on the column-equilibrated condition number
    if np.linalg.cond(gram * scale[:, None] * scale[None, :]) > _GRAM_MAX_COND:
        return None
    try:
        r = linalg.cholesky(gram, lower=False)
    except linalg.LinAlgError:
        return None
    coef = linalg.cho_solve((r, False), np.asarray(xty, dtype=float))
    resid = y - x @ coef
    ssr = float(resid @ resid)
    n = len(y)
    if n - k <= 0:
        return None
    tss = float(((y - y.mean()) ** 2).sum())
    dof = n - k
    return LinearFit(tuple(names), coef, r, ssr / dof, dof, n, (),
                     1.0 - ssr / tss if tss > 0 else float("nan"))


def _benchmark_spec(benchmark) -> list[tuple[str, tuple[str, ...], bool]]:
    """Normalise benchmarks to (label, covariates, is_group)."""
    if benchmark is None:
        return []
    if isinstance(benchmark, str):
        return [(benchmark, (benchmark,), False)]
    if isinstance(benchmark, Mapping):
        out = []
        for name, cols in benchmark.items():
            cols = (cols,) if isinstance(cols, str) else tuple(cols)
            if not cols:
                raise SpecError(Problem(f"sensitivity.benchmark[{name!r}]", "the group is empty.",
                                        fix="List the covariates that form the group."))
            out.append((str(name), cols, True))
        return out
    return [(str(b), (str(b),), False) for b in benchmark]


def sensemakr_from_data(data: pd.DataFrame, outcome: str, treatment: str, covariates: Sequence[str],
                        benchmark=None, kd=1.0, ky=None, q: float = 1.0, alpha: float = 0.05,
                        reduce: bool = True, *, r2dz_x=None, r2yz_dx=None,
                        bound_label: str = "Manual Bound") -> SensitivityResult:
    """Fit ``outcome ~ treatment + covariates`` by least squares and run :func:`sensemakr`.

    Matches ``sensemakr::sensemakr(lm(...), treatment, benchmark_covariates, kd, ky, q, alpha,
    reduce)`` (0.1.6); Cinelli & Hazlett (2020).

    Parameters
    ----------
    benchmark : str, sequence of str, or mapping of name -> sequence of str
        Model-matrix columns to benchmark against, each separately; a mapping benchmarks each
        group jointly (its label is the key).  Factor levels are named like R's
        (``"villageMngao"``).
    r2dz_x, r2yz_dx, bound_label
        Optional manual confounder strengths, reported before the benchmark bounds.

    Examples
    --------
    >>> from causalspec.sensitivity import sensemakr_from_data   # doctest: +SKIP
    >>> res = sensemakr_from_data(darfur, "peacefactor", "directlyharmed",
    ...                           ["age", "female", "village"], benchmark="female", kd=[1, 2, 3])  # doctest: +SKIP
    """
    reg = regressions_from_data(data, outcome, treatment, covariates)
    return sensemakr_from_regressions(reg, benchmark, kd, ky, q, alpha, reduce, r2dz_x=r2dz_x, r2yz_dx=r2yz_dx,
                                      bound_label=bound_label)


def sensemakr_from_formula(data: pd.DataFrame, formula: str, treatment: str, benchmark=None, kd=1.0, ky=None,
                           q: float = 1.0, alpha: float = 0.05, reduce: bool = True, *, r2dz_x=None,
                           r2yz_dx=None, bound_label: str = "Manual Bound") -> SensitivityResult:
    """Like :func:`sensemakr_from_data`, for an R formula (``log(wage) ~ d + I(age^2) + factor(year)``).

    The model matrix is built with R's ``model.matrix`` semantics and column names by
    :func:`causalspec.formula._materialize.materialize`; ``treatment`` and the benchmarks are
    R column names.  Matches ``sensemakr::sensemakr(lm(formula, data), ...)`` (0.1.6).
    """
    reg = regressions_from_formula(data, formula, treatment)
    return sensemakr_from_regressions(reg, benchmark, kd, ky, q, alpha, reduce, r2dz_x=r2dz_x, r2yz_dx=r2yz_dx,
                                      bound_label=bound_label)


@dataclass(frozen=True)
class Regressions:
    """The outcome regression and the treatment-on-covariates regression sensemakr needs.

    Fitting them is the expensive step; one ``Regressions`` serves any number of sensitivity
    questions (benchmarks, kd, ky, q, alpha) through :func:`sensemakr_from_regressions`.
    """

    outcome: str
    treatment: str
    fit: LinearFit
    dfit: LinearFit
    columns: tuple[str, ...]
    factors: frozenset = frozenset()


def regressions_from_data(data: pd.DataFrame, outcome: str, treatment: str, covariates: Sequence[str]) -> Regressions:
    """Outcome and treatment regressions for ``outcome ~ treatment + covariates`` (see :func:`sensemakr_from_data`)."""
    if not isinstance(data, pd.DataFrame):
        raise DataError(Problem("data", f"expected a pandas DataFrame, got {type(data).__name__}.",
                                fix="Pass the analysis data as a DataFrame."))
    variables = [outcome, treatment, *covariates]
    missing = [v for v in variables if v not in data.columns]
    if missing:
        raise DataError(Problem("data", f"column(s) {missing} are missing.",
                                fix=f"Available columns: {sorted(map(str, data.columns))}."))
    if not pd.api.types.is_numeric_dtype(data[outcome]) or pd.api.types.is_bool_dtype(data[outcome]):
        raise DataError(Problem(f"data[{outcome!r}]", "the outcome must be numeric.",
                                fix="Recode the outcome as a number."))
    if not pd.api.types.is_numeric_dtype(data[treatment]):
        raise DataError(Problem(f"data[{treatment!r}]", "the treatment must be a single numeric column.",
                                fix="Recode the treatment as 0/1 or a number."))
    frame = data[variables].dropna()  # R's na.omit: complete cases on the model's variables
    x = design_matrix(frame, [treatment, *covariates])
    return _regressions(frame[outcome].to_numpy(dtype=float), x, outcome, treatment,
                        frozenset(c for c in covariates if c not in x.columns))


def regressions_from_formula(data: pd.DataFrame, formula: str, treatment: str,
                             weights: str | None = None) -> Regressions:
    """Outcome and treatment regressions for an R formula (see :func:`sensemakr_from_formula`).

    ``weights``, a column of ``data``: sensemakr on ``lm(formula, weights = w)``, both regressions by weighted
    least squares, i.e. OLS of sqrt(w) y on sqrt(w) X (the same coefficients, t values and residual df).
    """

    design = materialize(formula, data)
    w = None if weights is None else data.loc[design.rows, weights].to_numpy(dtype=float)
    if treatment not in design.terms:
        raise SpecError(Problem("sensitivity.treatment", f"{treatment!r} is not a column of the model matrix of "
                                f"{formula!r}.", fix=f"Use one of {list(design.terms)}."))
    return regressions_from_design(design.y, design.X, design.terms, _first_variable(formula.split("~", 1)[0]),
                                   treatment, w)


def regressions_from_design(y, X, terms, outcome: str, treatment: str, weights=None) -> Regressions:
    """The sensemakr regressions of a model matrix (R's ``model.matrix(lm(...))``) with the treatment column
    ``treatment``; ``weights`` (an array on the same rows): weighted least squares as OLS on sqrt(w)-scaled rows."""
    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    if weights is not None:
        root = np.sqrt(np.asarray(weights, dtype=float))
        X, y = X * root[:, None], y * root
    return _regressions(y, pd.DataFrame(X, columns=list(terms)), outcome, treatment)


def _first_variable(lhs: str) -> str:
    """R's ``all.vars(lhs)[1]``: the first name that is not a function call (``log(wage)`` -> ``wage``)."""
    for m in re.finditer(r"[A-Za-z.][\w.]*", lhs):
        if not lhs[m.end():].lstrip().startswith("("):
            return m.group(0)
    return lhs.strip()


def _regressions(y: np.ndarray, x: pd.DataFrame, outcome: str, treatment: str, factors=frozenset()) -> Regressions:
    fast = regressions_by_gram(y, x, treatment) if treatment in x.columns else None
    if fast is not None:
        return Regressions(outcome, treatment, *fast, tuple(x.columns), frozenset(factors))
    fit = fit_linear(y, x)
    if treatment not in fit.names:
        raise EstimationError(Problem(f"data[{treatment!r}]", "the treatment is collinear with the covariates "
                                      "(or constant), so its effect is not estimable.",
                                      fix="Remove the covariates that determine the treatment."))
    # sensemakr regresses the treatment on every other column of the outcome model matrix
    others = x[[c for c in fit.names if c != treatment]]
    dfit = fit_linear(x[treatment].to_numpy(dtype=float), others)
    return Regressions(outcome, treatment, fit, dfit, tuple(x.columns), frozenset(factors))


def regressions_by_gram(y: np.ndarray, x: pd.DataFrame, treatment: str):
    """Both regressions from one Gram matrix (no n x k QR), or None when it is ill conditioned or the treatment
    is the only column (then :func:`fit_linear`'s QR, as R)."""
    names = [str(c) for c in x.columns]
    if len(names) < 2:
        return None
    M = x.to_numpy(dtype=float)
    gram = M.T @ M
    fit = fit_linear_gram(names, gram, M.T @ y, y, M)
    if fit is None:
        return None
    j = names.index(treatment)
    o = [i for i in range(len(names)) if i != j]
    dfit = fit_linear_gram([names[i] for i in o], gram[np.ix_(o, o)], gram[o, j], M[:, j], M[:, o])
    return None if dfit is None else (fit, dfit)


def sensemakr_from_regressions(reg: Regressions, benchmark=None, kd=1.0, ky=None, q: float = 1.0,
                               alpha: float = 0.05, reduce: bool = True, *, r2dz_x=None, r2yz_dx=None,
                               bound_label: str = "Manual Bound") -> SensitivityResult:
    """Benchmark partial R²s from fitted :class:`Regressions`, then :func:`sensemakr`.

    Single benchmarks use t-values (``sensemakr::partial_r2``), groups the joint F
    (``sensemakr::group_partial_r2``), in the outcome and in the treatment regression.
    """
    fit, dfit, treatment = reg.fit, reg.dfit, reg.treatment
    benches = []
    for label, cols, is_group in _benchmark_spec(benchmark):
        for c in cols:
            if c not in fit.names or c not in dfit.names:
                hint = (f" {c!r} is a factor: name a level such as {[n for n in reg.columns if n.startswith(c)][:2]}"
                        " or benchmark the levels as a group." if c in reg.factors else "")
                raise SpecError(Problem("sensitivity.benchmark", f"{c!r} is not an estimated coefficient of the "
                                        f"outcome regression.{hint}",
                                        fix=f"Use one of {[n for n in fit.names if n not in ('(Intercept)', treatment)]}."))
        if is_group:
            r2y = group_partial_r2(fit.group_f(cols), len(cols), fit.dof)
            r2d = group_partial_r2(dfit.group_f(cols), len(cols), dfit.dof)
        else:
            r2y = partial_r2(fit.t(cols[0]), fit.dof)
            r2d = partial_r2(dfit.t(cols[0]), dfit.dof)
        benches.append(Benchmark(label, float(r2d), float(r2y), cols))

    i = fit.index(treatment)
    return sensemakr(float(fit.coef[i]), fit.se(treatment), fit.dof, treatment=treatment, outcome=reg.outcome,
                     benchmarks=benches, kd=kd, ky=ky, q=q, alpha=alpha, reduce=reduce, nobs=fit.nobs,
                     r2dz_x=r2dz_x, r2yz_dx=r2yz_dx, bound_label=bound_label)
