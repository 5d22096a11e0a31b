"""High-dimensional fixed effects on an engine: fixest's demeaning, run on aggregates, then one join pass.

fixest's algorithm (``estimators.fixest._demean``: a fixed point on the FE *coefficients*, Irons-Tuck
accelerated, fixest's stopping rule and ``fixef.tol``) never needs a row once the data are compressed
("you only compress once"): every step is a per-level sum of the other FEs' coefficients, that is a product
with the table of counts of each *pair* of FE levels, and the start is the per-level sums of each column.  So
the engine sends, once,

* ``GROUP BY fe_q``: the count and the sum of every column per level (one query per fixed effect), and
* ``GROUP BY fe_q, fe_h``: the count of each observed pair of levels (one query per pair of fixed effects),

numpy runs exactly the in-memory iterations on these (sparse) tables, and the demeaned columns are written back
as SQL: ``x - (a_x[fe_1] + b_x[fe_2])``, with the coefficient tables registered in the engine and joined.
Memory is the pair tables: at most the number of distinct (fe_1, fe_2) pairs, never the number of rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse

from causalspec.engines._ols import LinearDesign
from causalspec.engines._sql import Sample
from causalspec.errors import UnsupportedError, Problem
# the same accelerated iteration, stopping rules and staging as the memory path (one copy: fixest's algorithm)
from causalspec.estimators.fixest._demean import _ITER_WARMUP, accelerate

__all__ = ["Compressed", "demean_coefficients", "fe_design"]


class Compressed:
    """Per-level counts and sums and the pair-count tables of the fixed effects (largest FE first, as fixest)."""

    def __init__(self, sample: Sample, fes: tuple[str, ...], columns: tuple[str, ...]):
        b, q = sample.backend, sample.q
        self.sample, self.columns = sample, columns
        per = []
        for name in fes:
            aggs = ", ".join(["COUNT(*)"] + [f"{b.sum_fn}({q(c)})" for c in columns])
            rows = b.rows(f"SELECT {q(name)}, {aggs} FROM {sample.view} GROUP BY {q(name)} ORDER BY {q(name)}")
            per.append((name, rows))
        order = sorted(range(len(fes)), key=lambda i: -len(per[i][1]))  # stable: largest first
        self.names = tuple(fes[i] for i in order)
        self.levels = [pd.Index([r[0] for r in per[i][1]]) for i in order]
        self.counts = [np.array([r[1] for r in per[i][1]], dtype=float) for i in order]
        self.sums = [np.array([r[2:] for r in per[i][1]], dtype=float).reshape(len(per[i][1]), len(columns))
                     for i in order]
        self.sw = [np.where(c == 0, 1.0, c) for c in self.counts]
        self.sizes = tuple(len(lv) for lv in self.levels)
        self.ssq = b.sums(sample.view, [f"{q(c)} * {q(c)}" for c in columns])
        self.pair: dict[tuple[int, int], sparse.csr_matrix] = {}
        Q = len(fes)
        for i in range(Q):
            for j in range(i + 1, Q):
                a, c = q(self.names[i]), q(self.names[j])
                rows = b.rows(f"SELECT {a}, {c}, COUNT(*) FROM {sample.view} GROUP BY {a}, {c}")
                gi = self.levels[i].get_indexer([r[0] for r in rows])
                gj = self.levels[j].get_indexer([r[1] for r in rows])
                M = sparse.csr_matrix((np.array([r[2] for r in rows], dtype=float), (gi, gj)),
                                      shape=(self.sizes[i], self.sizes[j]))
                self.pair[(i, j)] = M
                self.pair[(j, i)] = M.T.tocsr()

    def cross(self, q: int, coefs: dict[int, np.ndarray], skip: int | None = None) -> np.ndarray:
        """Per-level sums (levels of FE ``q``) of ``sum_h coef_h[code_h]`` over the FEs ``h`` in ``coefs``."""
        out = np.zeros(self.sizes[q])
        for h, v in coefs.items():
            if h == skip:
                continue
            out += self.counts[q] * v if h == q else self.pair[(q, h)] @ v
        return out

    def ssr(self, col: int, coefs: dict[int, np.ndarray]) -> float:
        """``sum_i (x_i - sum_q coef_q[code_q,i])^2`` from the aggregates (fixest's every-40-iterations check)."""
        total = float(self.ssq[col])
        for q, v in coefs.items():
            total -= 2.0 * float(v @ self.sums[q][:, col])
            total += float(v @ self.cross(q, coefs))  # mu'mu, one FE's rows at a time
        return total


def _stage(cz: Compressed, col: int, fes: tuple[int, ...], fitted: dict[int, np.ndarray], tol: float,
           maxiter: int) -> tuple[int, bool, dict[int, np.ndarray]]:
    """One accelerated stage (``_demean._acc_loop``) over the FEs ``fes``; returns the coefficients it adds."""
    all_q = tuple(range(len(cz.sizes)))
    in_out = {q: cz.sums[q][:, col] - cz.cross(q, {h: fitted[h] for h in all_q if h in fitted}) for q in fes}
    two = len(fes) == 2
    starts = np.concatenate([[0], np.cumsum([cz.sizes[q] for q in fes])]).astype(int)

    def split(x):
        return {q: x[starts[i]:starts[i + 1]] for i, q in enumerate(fes)}

    def beta_from_alpha(a):
        return (in_out[fes[1]] - cz.pair[(fes[1], fes[0])] @ a) / cz.sw[fes[1]]

    def alpha_from_beta(bb):
        return (in_out[fes[0]] - cz.pair[(fes[0], fes[1])] @ bb) / cz.sw[fes[0]]

    def step(origin):
        dest = np.empty_like(origin)
        src_o, Q = split(origin), len(fes)
        out: dict[int, np.ndarray] = {}
        for i in range(Q - 1, -1, -1):
            q = fes[i]
            other = {fes[h]: (src_o[fes[h]] if h < i else out[fes[h]]) for h in range(Q) if h != i}
            out[q] = (in_out[q] - cz.cross(q, other)) / cz.sw[q]
            dest[starts[i]:starts[i + 1]] = out[q]
        return dest

    if two:
        G = lambda a: alpha_from_beta(beta_from_alpha(a))  # noqa: E731
        m = n_coef = cz.sizes[fes[0]]
    else:
        G = step
        n_coef, m = int(starts[-1]), int(starts[-2])
    def ssr_of(GX):  # against the raw column, as fixest
        coefs = {fes[0]: GX, fes[1]: beta_from_alpha(GX)} if two else split(GX)
        return cz.ssr(col, coefs)

    GX, it = accelerate(G, n_coef, m, ssr_of, tol, maxiter)
    if two:
        beta = beta_from_alpha(GX)
        return it, it != maxiter, {fes[0]: alpha_from_beta(beta), fes[1]: beta}
    return it, it != maxiter, split(GX)


def demean_coefficients(cz: Compressed, col: int, tol: float = 1e-6, maxiter: int = 10_000):
    """The FE coefficients whose sum fixest subtracts from column ``col`` (``demean_columns``' staging)."""
    Q = len(cz.sizes)
    if Q == 1:
        return {0: cz.sums[0][:, col] / cz.sw[0]}, 0
    fitted: dict[int, np.ndarray] = {}

    def add(part):
        for q, v in part.items():
            fitted[q] = fitted[q] + v if q in fitted else v.copy()

    if Q == 2:
        it, _, part = _stage(cz, col, (0, 1), fitted, tol, maxiter)
        add(part)
        return fitted, it
    it, conv, part = _stage(cz, col, tuple(range(Q)), fitted, tol, min(_ITER_WARMUP, maxiter))
    add(part)
    total = it
    if not conv and maxiter > _ITER_WARMUP:
        it2, _, part = _stage(cz, col, (0, 1), fitted, tol, maxiter // 2)
        add(part)
        total += it2
        it3, _, part = _stage(cz, col, tuple(range(Q)), fitted, tol, maxiter - total)
        add(part)
        total += it3
    return fitted, total


def fe_design(sample: Sample, y: str, x: tuple[str, ...], names: tuple[str, ...], fes: tuple[str, ...],
              cluster: tuple[str, ...] = (), *, tol: float = 1e-6,
              maxiter: int = 10_000) -> tuple[LinearDesign, dict]:
    """The demeaned design as SQL joins, with fixest's parameter count (K) for the variance."""
    bad = [f for f in fes if "^" in f]
    if bad:
        raise UnsupportedError(Problem("design.fixed_effects", f"interacted fixed effects ({', '.join(bad)}) are "
                                       "not computed by the engine in this version.",
                                       fix="Add the interaction as one id column in the data source (a SELECT with "
                                           "a || '_' || b), or use engine: memory.", code="engine_fe_interaction"))
    b, q = sample.backend, sample.q
    cols = (y, *x)
    cz = Compressed(sample, fes, cols)
    tables, frm = [], sample.view + " s"
    for qi, name in enumerate(cz.names):
        tables.append({"cs_level": cz.levels[qi]})
    iterations = []
    for j in range(len(cols)):
        coefs, it = demean_coefficients(cz, j, tol, maxiter)
        iterations.append(it)
        for qi in range(len(cz.names)):
            tables[qi][f"cs_c{j}"] = coefs.get(qi, np.zeros(cz.sizes[qi]))
    for qi, name in enumerate(cz.names):
        t = b.fresh("fe")
        frame = pd.DataFrame({"cs_level": np.asarray(cz.levels[qi])})
        for j in range(len(cols)):
            frame[f"cs_c{j}"] = tables[qi][f"cs_c{j}"]
        b.register(t, frame)
        frm += f" JOIN {t} f{qi} ON s.{q(name)} = f{qi}.cs_level"
    exprs = [f"(s.{q(c)} - (" + " + ".join(f"f{qi}.cs_c{j}" for qi in range(len(cz.names))) + "))"
             for j, c in enumerate(cols)]
    extra = sum(cz.sizes) - (len(cz.sizes) - 1)
    nested = _nested_params(sample, cz, cluster, len(x)) if cluster else 0
    d = LinearDesign(sample, frm, exprs[0], tuple(exprs[1:]), names, False, extra, nested)
    return d, {"fixed_effects": dict(zip(cz.names, cz.sizes)), "iterations": iterations}


def _nested_params(sample: Sample, cz: Compressed, cluster: tuple[str, ...], k: int) -> int:
    """How many FE parameters fixest's ``fixef.K = "nested"`` removes from K when clustering by ``cluster``."""
    b, q = sample.backend, sample.q
    nested = []
    for name in cz.names:
        inside = False
        for c in cluster:
            if c == name:
                inside = True
                break
            row = b.one(f"SELECT COUNT(*) FROM (SELECT {q(name)} FROM {sample.view} GROUP BY {q(name)} "
                        f"HAVING COUNT(DISTINCT {q(c)}) > 1) cs_n")
            if int(row[0]) == 0:
                inside = True
                break
        nested.append(inside)
    sizes = np.array(cz.sizes)
    n_fe = len(sizes)
    K = k + int(sizes.sum()) - (n_fe - 1)
    if all(nested):
        Kc = K - (int(sizes.sum()) - (n_fe - 1)) + 1
    else:
        Kc = K - (int(sizes[np.array(nested)].sum()) - int(sum(nested)))
    Kc = max(Kc, k + 1)
    return K - Kc
