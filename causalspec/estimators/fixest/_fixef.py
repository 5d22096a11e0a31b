"""The fixed-effect coefficients of a fit, normalised as fixest::fixef() normalises them.

Given ``u = y - X b`` on the estimation rows, the fixed effects are the least-squares coefficients of ``u`` on
the dummies of every fixed effect (weighted when the fit is), i.e. the ``sumFE`` of the fit split by level.
With two or more fixed effects they are identified only up to one free constant per fixed effect after the
first (per connected component of the levels), and fixest fixes them by its ``cpp_get_fe_gnl`` rule
(src/misc_funs.cpp, fixest commit dbe56c5, 2025-05-07): take the first observation, keep its level of the
first fixed effect free and set its levels of the others to 0 (the *references*); propagate -- an observation
all of whose levels but one are known gives that one as ``sumFE`` minus the others -- until nothing more
follows; then set references again at the first remaining observation with the most levels known, and so on.
With two fixed effects that is one reference per connected component: the second fixed effect's level of the
component's first observation.  ``references`` counts them per fixed effect (fixest's
``attr(fixef(fit), "references")``); the values are *regular* (directly comparable) when there are Q - 1.

fixest applies that rule to the ``sumFE`` its demeaning left (``y - X b - resid`` at ``fixef.tol = 1e-6``);
``fixef.tol`` / ``fixef.iter`` of ``fixef()`` itself are used only with varying slopes or when the rule fails
with 3+ fixed effects.  Here ``sumFE`` is the exact projection instead: a closed form for one fixed effect, a
direct solve of the normal equations reduced to the smaller fixed effect for two (exact up to rounding), and
``scipy.sparse.linalg.lsqr`` at ``atol = btol = tol`` (default 1e-14) for three or more.  The values therefore
agree with fixest's to fixest's own demeaning precision, and with an exact solver to ~1e-12.

Matches fixest::fixef.fixest (the reference rule of cpp_get_fe_gnl); Berge (2018), "Efficient estimation of
maximum likelihood models with multiple fixed-effects", section on recovering the fixed-effect coefficients.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg, sparse
from scipy.sparse import csgraph
from scipy.sparse import linalg as splinalg

from causalspec.estimators.fixest._demean import FixedEffects

__all__ = ["FixefValues", "fixef_values"]

_DENSE_MAX = 2000  # below this many levels of the smaller fixed effect, the reduced system is solved densely


@dataclass(frozen=True)
class FixefValues:
    """Fixed-effect coefficients by level, fixest's normalisation.

    Attributes
    ----------
    names : tuple of str
        The fixed effects, in the fit's order.
    values : tuple of ndarray
        ``values[q][k]`` is the coefficient of level ``levels[q][k]``.
    levels : tuple of ndarray
        The level labels (the fit's sorted levels).
    references : tuple of int
        Levels set to 0 per fixed effect (fixest's ``attr(, "references")``; the first is always 0).
    sum_fe : ndarray
        The sum of the fixed effects of each estimation row (fixest ``sumFE``).
    notes : tuple of str
        Said when the values are not regular or the solver stopped early.
    """

    names: tuple[str, ...]
    values: tuple[np.ndarray, ...]
    levels: tuple[np.ndarray, ...]
    references: tuple[int, ...]
    sum_fe: np.ndarray
    notes: tuple[str, ...] = ()

    @property
    def regular(self) -> bool:
        return sum(self.references) <= len(self.names) - 1


def _one(u, codes, size, w):
    v = u if w is None else u * w
    n = np.bincount(codes, weights=w, minlength=size)
    return np.bincount(codes, weights=v, minlength=size) / n


def _two(u, codes, sizes, w) -> tuple[list[np.ndarray], tuple[str, ...]]:
    """Exact least squares on two fixed effects: eliminate the larger one, solve for the smaller one."""
    e, s = (0, 1) if sizes[0] >= sizes[1] else (1, 0)
    ce, cs, Ge, Gs = codes[e], codes[s], sizes[e], sizes[s]
    ww = np.ones(len(u)) if w is None else w
    d_e = np.bincount(ce, weights=ww, minlength=Ge)
    d_s = np.bincount(cs, weights=ww, minlength=Gs)
    r_e = np.bincount(ce, weights=ww * u, minlength=Ge)
    r_s = np.bincount(cs, weights=ww * u, minlength=Gs)
    C = sparse.csr_matrix((ww, (ce, cs)), shape=(Ge, Gs))  # duplicates are summed: C[g, h] = sum of weights
    M = (sparse.diags(d_s) - C.T @ sparse.diags(1.0 / d_e) @ C).tocsc()
    rhs = r_s - C.T @ (r_e / d_e)
    # M has one zero eigenvalue per connected component: pin one level of each to 0 (renormalised afterwards)
    graph = sparse.bmat([[None, C], [C.T, None]], format="csr")
    _, label = csgraph.connected_components(graph, directed=False)
    comp = label[Ge:]
    _, first = np.unique(comp, return_index=True)
    free = np.ones(Gs, dtype=bool)
    free[first] = False
    gamma = np.zeros(Gs)
    notes: tuple[str, ...] = ()
    if free.any():
        Mf, bf = M[free][:, free], rhs[free]
        if free.sum() <= _DENSE_MAX:
            gamma[free] = linalg.solve(Mf.toarray(), bf, assume_a="pos")
        else:
            gamma[free] = splinalg.spsolve(Mf, bf)
    alpha = (r_e - C @ gamma) / d_e
    out = [None, None]
    out[e], out[s] = alpha, gamma
    return out, notes


def _many(u, codes, sizes, w, tol: float, maxiter: int | None) -> tuple[list[np.ndarray], tuple[str, ...]]:
    """Least squares on three or more fixed effects by LSQR on the (weighted) dummy matrix."""
    n = len(u)
    starts = np.concatenate([[0], np.cumsum(sizes)])
    rows = np.tile(np.arange(n), len(sizes))
    cols = np.concatenate([c + starts[q] for q, c in enumerate(codes)])
    root = np.ones(n) if w is None else np.sqrt(w)
    D = sparse.csr_matrix((np.tile(root, len(sizes)), (rows, cols)), shape=(n, int(starts[-1])))
    iter_lim = maxiter if maxiter is not None else max(10_000, 2 * int(starts[-1]))
    sol = splinalg.lsqr(D, u * root, atol=tol, btol=tol, iter_lim=iter_lim)
    notes = ()
    if sol[1] == 7:
        notes = (f"the fixed effects' least-squares solver (LSQR) stopped after {iter_lim} iterations before "
                 f"reaching its tolerance {tol:g}.",)
    coef = sol[0]
    return [coef[starts[q]:starts[q + 1]] for q in range(len(sizes))], notes


def _gather(values, codes, rows=None) -> np.ndarray:
    if rows is None:
        return sum(np.take(v, c) for v, c in zip(values, codes))
    return sum(np.take(v, c[rows]) for v, c in zip(values, codes))


def _references(S: np.ndarray, codes, sizes) -> tuple[list[np.ndarray], list[int]]:
    """fixest's cpp_get_fe_gnl on ``S`` (the sum of the fixed effects of each row): values and references."""
    Q = len(codes)
    done = [np.zeros(g, dtype=bool) for g in sizes]
    values = [np.zeros(g) for g in sizes]
    refs = [0] * Q
    first = True
    while True:
        known = sum(d[c].astype(np.intp) for d, c in zip(done, codes))
        if first:
            obs = 0  # fixest starts from the first observation
        else:
            todo = np.flatnonzero(known < Q)
            if todo.size == 0:
                break
            # the first observation with the most levels known (fixest: Q - 2 at most here)
            obs = int(todo[np.argmax(known[todo] == known[todo].max())])
        first = False
        spared = False
        for q in range(Q):
            level = codes[q][obs]
            if done[q][level]:
                continue
            if not spared:
                spared = True  # the first unknown fixed effect of this row stays free
                continue
            values[q][level] = 0.0
            done[q][level] = True
            refs[q] += 1
        while True:  # propagate: a row with all levels known but one gives that one
            known = sum(d[c].astype(np.intp) for d, c in zip(done, codes))
            rows = np.flatnonzero(known == Q - 1)
            if rows.size == 0:
                break
            for q in range(Q):
                mine = rows[~done[q][codes[q][rows]]]
                if mine.size == 0:
                    continue
                level, at = np.unique(codes[q][mine], return_index=True)  # each level from its first row
                pick = mine[at]
                others = sum(np.take(values[h], codes[h][pick]) for h in range(Q) if h != q)
                values[q][level] = S[pick] - others
                done[q][level] = True
    return values, refs


def fixef_values(u, fe: FixedEffects, weights=None, *, tol: float = 1e-14, maxiter: int | None = None) -> FixefValues:
    """The fixed-effect coefficients of ``u = y - X b`` (the estimation rows), fixest's normalisation.

    Matches fixest::fixef(fit) (cpp_get_fe_gnl's references); Berge (2018).

    Parameters
    ----------
    u : array_like, shape (n,)
        The outcome minus the regressors' part, on the estimation rows.
    fe : FixedEffects
        The fit's fixed effects coded on those rows (``FixestFit.fe``).
    weights : array_like, optional
        The fit's weights (weighted least squares).
    tol, maxiter : float, int
        LSQR's ``atol = btol`` and iteration limit, used with three or more fixed effects only.

    Examples
    --------
    >>> import numpy as np
    >>> from causalspec.estimators.fixest._demean import encode_fixed_effects
    >>> fe, _ = encode_fixed_effects({"a": np.array([0, 0, 1, 1]), "b": np.array([0, 1, 0, 1])}, 4)
    >>> v = fixef_values(np.array([1.0, 3.0, 2.0, 4.0]), fe)
    >>> [x.tolist() for x in v.values], v.references
    ([[1.0, 2.0], [0.0, 2.0]], (0, 1))
    """
    u = np.asarray(u, dtype=float)
    w = None if weights is None else np.asarray(weights, dtype=float)
    codes, sizes = list(fe.codes), list(fe.sizes)
    if len(codes) == 1:
        alpha = _one(u, codes[0], sizes[0], w)
        return FixefValues(fe.names, (alpha,), fe.levels, (0,), np.take(alpha, codes[0]))
    coef, notes = _two(u, codes, sizes, w) if len(codes) == 2 else _many(u, codes, sizes, w, tol, maxiter)
    S = _gather(coef, codes)
    values, refs = _references(S, codes, sizes)
    again = _gather(values, codes)
    scale = max(1.0, float(np.max(np.abs(S))))
    if float(np.max(np.abs(again - S))) > 1e-8 * scale:
        # fixest's rule can over-fix 3+ irregular fixed effects; fixest then falls back to its demeaning's
        # coefficients.  Keep the least-squares solution: a valid decomposition, not fixest's normalisation.
        values = coef
        notes = notes + ("the fixed effects are not regular and fixest's reference rule does not decompose the "
                         "sum of the fixed effects; the values are a least-squares solution, not fixest's "
                         "normalisation (fixest's number of references is approximate here too).",)
    elif sum(refs) > len(codes) - 1:
        notes = notes + ("the fixed effects are not regular (more than one reference per fixed effect after the "
                         "first), so they cannot be compared directly across connected groups of levels.",)
    return FixefValues(fe.names, tuple(values), fe.levels, tuple(refs), S, notes)
