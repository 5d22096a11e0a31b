"""The sensemakr regressions from an outcome fit that is already done (issue #14): no second pass over the
rows, no n x k copy -- the treatment regression is read off the fit's k x k triangular factor."""

from __future__ import annotations

from typing import Sequence

import numpy as np
from scipy import linalg

from causalspec.sensitivity._from_data import LinearFit, Regressions

__all__ = ["regressions_from_factor"]


def regressions_from_factor(names: Sequence[str], r: np.ndarray, coef: np.ndarray, y: np.ndarray,
                            resid: np.ndarray, d: np.ndarray, outcome: str, treatment: str,
                            weights=None) -> Regressions | None:
    """Both sensemakr regressions from an outcome fit that is already done: ``r`` the k x k triangular factor
    of its (sqrt(w)-scaled) full-rank design (X'X = R'R), ``coef`` its coefficients, ``resid`` its residuals,
    ``d`` the treatment column (unscaled), ``weights`` the fit's weights (all positive).

    The treatment regression needs no pass over the rows: moving the treatment column last and triangularising
    the k x k ``r[:, others + [treatment]]`` again (an orthogonal transformation, so X'X is unchanged) gives the
    factor of the other columns, the treatment's coefficients on them, and, as the last diagonal entry, the norm
    of its residual -- the QR R's lm would compute, without the n x k copy.  None when the treatment is the only
    column (the caller fits by QR)."""
    names = [str(c) for c in names]
    k = len(names)
    if k < 2 or treatment not in names:
        return None
    root = None if weights is None else np.sqrt(np.asarray(weights, dtype=float))
    n = len(y)
    ys, ds, es = (y, d, resid) if root is None else (y * root, d * root, resid * root)
    ssr = float(es @ es)

    def tss(v):
        c = v - v.mean()
        return float(c @ c)

    def linear(cols, factor, b, rss, total):
        dof = n - len(cols)
        if dof <= 0:
            return None
        return LinearFit(tuple(cols), np.asarray(b, dtype=float), factor, rss / dof, dof, n, (),
                         1.0 - rss / total if total > 0 else float("nan"))

    fit = linear(names, np.triu(np.asarray(r, dtype=float)), coef, ssr, tss(ys))
    j = names.index(treatment)
    order = [i for i in range(k) if i != j] + [j]
    moved = linalg.qr(np.asarray(r, dtype=float)[:, order], mode="r", check_finite=False)[0]
    rd = np.triu(moved[:k - 1, :k - 1])
    bd = linalg.solve_triangular(rd, moved[:k - 1, k - 1], check_finite=False)
    dfit = linear([names[i] for i in order[:-1]], rd, bd, float(moved[k - 1, k - 1]) ** 2, tss(ds))
    if fit is None or dfit is None:
        return None
    return Regressions(outcome, treatment, fit, dfit, tuple(names))
