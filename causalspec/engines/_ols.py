"""Least squares from sufficient statistics computed by the engine, with the in-memory path's variances.

Three passes over the rows, each an aggregate query; only k x k matrices come back to Python:

1. means of the outcome and regressors (the model has an intercept: everything is centred, which makes the
   cross-product matrix as well conditioned as the QR the in-memory path uses);
2. the cross products of the centred (or fixed-effect demeaned) columns, ``X'X`` and ``X'y``; numpy solves;
3. with the coefficients as literals, the residual ``e`` per row and, by the variance asked for, ``sum e^2``,
   ``sum e^2 x x'`` (HC0 / HC1; HC2 / HC3 divide by ``1 - h`` with the leverage ``h = x'(X'X)^-1 x`` written
   as a quadratic form in the row's columns), or the per-cluster score sums ``S_g = sum_g e x`` with
   ``GROUP BY`` and ``sum_g S_g S_g'`` (CR, one subquery per intersection of the cluster variables; ``sum e^2``
   then comes from the first of them, each cluster's sum of squares summed, so a one-way CR1 fit reads the rows
   three times in all).

CR2 needs each cluster's block of the hat matrix and is refused (``inference.vcov``).  Two conventions, as in
memory: ``sandwich`` (``inference.vcov`` / ``sandwich::vcovHC`` and ``vcovCL``: each intersection of a
multi-way clustering scaled by its own G/(G-1), df n - k; ``estimatr`` CR0 / stata with G - 1 df) and
``fixest`` (``fixest::vcov`` with ``ssc()``: K counts the fixed effects not nested in a cluster, one
G_min/(G_min - 1), t on G_min - 1 df).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
import pandas as pd
from scipy import linalg, stats

from causalspec.engines._sql import Sample, lit
from causalspec.errors import EstimationError, Problem, UnsupportedError

__all__ = ["LinearDesign", "EngineFit", "solve", "ENGINE_VCOV", "refuse_vcov"]

ENGINE_VCOV = ("iid", "HC0", "HC1", "HC2", "HC3", "CR0", "CR1", "stata", "CR0_estimatr")
_LEVERAGE_ONE = 1e-10


def refuse_vcov(kind: str, engine: str) -> None:
    """CR2 (and anything else the engine cannot aggregate) is refused at ``inference.vcov``, with the way out."""
    if kind not in ENGINE_VCOV:
        raise UnsupportedError(Problem(
            "inference.vcov", f"{kind} cannot be computed by the {engine} engine: it needs each cluster's block of "
            "the hat matrix (I - H_gg)^(-1/2), which is not a sum over rows.",
            fix="Use vcov: CR1 (or HC1 / HC2 without clusters) on the engine, or engine: memory on data that fit.",
            code="engine_vcov_unsupported"))


@dataclass(frozen=True)
class LinearDesign:
    """A linear model as SQL: ``select`` names the (already demeaned, or raw) columns of a FROM clause."""

    sample: Sample
    frm: str                         # FROM clause (the sample view, or the sample joined to FE coefficients)
    y: str                           # SQL expression of the outcome
    x: tuple[str, ...]               # SQL expressions of the regressors (no intercept column)
    names: tuple[str, ...]           # R term names of the regressors
    intercept: bool                  # with an intercept: the columns are centred and "(Intercept)" is reported
    extra_params: int = 0            # fixed-effect levels in K (fixest: sum(sizes) - (Q - 1))
    nested_params: int = 0           # levels of FEs nested in the cluster, removed from K (fixest "nested")


@dataclass(frozen=True)
class EngineFit:
    """Coefficients, variance and tests of a fit computed by an engine (same fields for DuckDB and Spark)."""

    names: tuple[str, ...]
    coef: np.ndarray
    vcov: np.ndarray
    df: float
    nobs: int
    n_input: int
    dropped: tuple[tuple[str, int], ...]
    kind: str
    n_clusters: tuple[int, ...] = ()
    stats: tuple[tuple[str, float], ...] = ()
    notes: tuple[str, ...] = ()
    level: float = 0.95
    extras: dict = field(default_factory=dict)

    @property
    def se(self) -> np.ndarray:
        return np.sqrt(np.diag(self.vcov))

    def table(self) -> pd.DataFrame:
        """``term, estimate, std_error, statistic, p_value, conf_low, conf_high, df`` (t on ``df``)."""
        se = self.se
        t = self.coef / se
        q = stats.t.ppf(0.5 + self.level / 2, self.df)
        return pd.DataFrame({"term": list(self.names), "estimate": self.coef, "std_error": se, "statistic": t,
                             "p_value": 2 * stats.t.sf(np.abs(t), self.df), "conf_low": self.coef - q * se,
                             "conf_high": self.coef + q * se, "df": self.df})


def solve(design: LinearDesign, kind: str = "iid", cluster: tuple[str, ...] = (), *, convention: str = "sandwich",
          level: float = 0.95) -> EngineFit:
    """Fit ``design`` and its variance ``kind`` (``ENGINE_VCOV``; with ``cluster`` for the CR kinds)."""
    s, b = design.sample, design.sample.backend
    refuse_vcov(kind, b.name)
    k = len(design.x)
    means = np.zeros(k + 1)
    if design.intercept:  # pass 1
        means = b.sums(design.frm, [*design.x, design.y]) / s.nobs
    cols = [f"({e} - {lit(m)})" if design.intercept else f"({e})" for e, m in zip([*design.x, design.y], means)]
    dv = b.fresh("design")
    keep = ", ".join(b.quote(c) for c in cluster)
    b.view(dv, "SELECT " + ", ".join(f"{c} AS cs_x{j}" for j, c in enumerate(cols)) + (f", {keep}" if keep else "")
           + f" FROM {design.frm}")
    xs = [f"cs_x{j}" for j in range(k)]
    ycol = f"cs_x{k}"
    pairs = [(i, j) for i in range(k + 1) for j in range(i, k + 1)]  # pass 2
    flat = b.sums(dv, [f"{[*xs, ycol][i]} * {[*xs, ycol][j]}" for i, j in pairs])
    C = np.empty((k + 1, k + 1))
    for (i, j), v in zip(pairs, flat):
        C[i, j] = C[j, i] = v
    xtx, xty = C[:k, :k], C[:k, k]
    R, beta = _cholesky_solve(xtx, xty, design.names)
    e = f"({ycol} - (" + " + ".join(f"{lit(bj)} * {x}" for bj, x in zip(beta, xs)) + "))" if k else ycol
    z = (["1.0"] if design.intercept else []) + xs   # score columns in centred coordinates
    n, p = s.nobs, len(z)
    rank = p
    bread = linalg.cho_solve((R, False), np.eye(k))
    if design.intercept:
        bread = linalg.block_diag([[1.0 / n]], bread)
    # pass 3: sum e^2, and the variance's own sums; with clusters both come from the first GROUP BY pass
    clustered = bool(cluster) and kind in ("CR0", "CR1", "stata", "CR0_estimatr")
    rss = None if clustered else float(b.sums(dv, [f"{e} * {e}"])[0])
    K = rank + design.extra_params
    if convention == "fixest":
        V, df, G, rss = _fixest(b, dv, z, e, kind, cluster, bread, rss, n, K, design.nested_params)
        if kind == "CR1":
            K -= design.nested_params  # fixest's degrees_freedom(fit, "k") when clustered
    else:
        V, df, G, rss = _sandwich(b, dv, z, e, kind, cluster, bread, rss, n, rank, xs)
    coef = beta
    names = design.names
    if design.intercept:  # back from centred coordinates: b0 = ybar - m'b, V = T Vc T'
        T = np.eye(p)
        T[0, 1:] = -means[:k]
        coef = np.concatenate([[means[k] - means[:k] @ beta], beta])
        V = T @ V @ T.T
        names = ("(Intercept)", *names)
    mss = float(beta @ xtx @ beta)
    df_int = 1 if design.intercept else 0
    r2 = mss / (mss + rss) if mss + rss > 0 else 0.0
    df_resid = n - rank - design.extra_params
    stats_ = (("r2", r2), ("adj_r2", 1 - (1 - r2) * (n - df_int) / (n - rank)),
              ("sigma", float(np.sqrt(rss / df_resid))), ("ssr", rss), ("mss", mss), ("df_residual", float(df_resid)),
              ("rank", float(rank)))
    numdf = rank - df_int
    if design.intercept and numdf > 0 and df_resid > 0 and rss > 0:  # lm's F test that every slope is zero
        fval = (mss / numdf) / (rss / df_resid)
        stats_ += (("fstat", float(fval)), ("fstat_p_value", float(stats.f.sf(fval, numdf, df_resid))))
    return EngineFit(tuple(names), coef, (V + V.T) / 2, float(df), n, s.n_input, s.dropped, kind, tuple(G),
                     stats_, level=level, extras={"fixest_K": K} if convention == "fixest" else {})


def _cholesky_solve(xtx: np.ndarray, xty: np.ndarray, names) -> tuple[np.ndarray, np.ndarray]:
    """Solve on the equilibrated system; a column collinear with the others is refused (memory drops it)."""
    k = xtx.shape[0]
    if k == 0:
        return np.zeros((0, 0)), np.zeros(0)
    d = np.sqrt(np.diag(xtx))
    bad = [names[j] for j in range(k) if not d[j] > 0]
    corr = xtx / np.outer(np.where(d > 0, d, 1), np.where(d > 0, d, 1))
    if not bad:
        for j in range(k):  # the remaining norm of column j after those before it, as R's pivoting measures it
            sub = corr[:j + 1, :j + 1]
            r = np.linalg.cholesky(sub)[j, j] if np.all(np.linalg.eigvalsh(sub) > 0) else 0.0
            if r < 1e-7:
                bad.append(names[j])
                break
    if bad:
        raise EstimationError(Problem("adjustment", f"{', '.join(map(repr, bad))} is constant or collinear with the "
                                      "other regressors (or the fixed effects) in the sample.",
                                      fix="Remove it from the model; engine: memory drops such columns as R does.",
                                      code="engine_collinear"))
    L = linalg.cholesky(corr, lower=False)
    beta = linalg.cho_solve((L, False), xty / d) / d
    R = L * d[None, :]  # upper factor of xtx itself
    return R, beta


def _meat_hc(b, dv, z, weight: str) -> np.ndarray:
    p = len(z)
    pairs = [(i, j) for i in range(p) for j in range(i, p)]
    flat = b.sums(dv, [f"{weight} * {z[i]} * {z[j]}" for i, j in pairs])
    M = np.empty((p, p))
    for (i, j), v in zip(pairs, flat):
        M[i, j] = M[j, i] = v
    return M


def _meat_cluster(b, dv, z, e, cols: tuple[str, ...], rss: float | None = None) -> tuple[np.ndarray, int, float]:
    """``sum_g S_g S_g'`` over the clusters of ``cols`` and their count; when ``rss`` is None, ``sum e^2`` from
    the same pass (each cluster's sum of squares, then their sum), so a clustered fit reads the rows once."""
    p = len(z)
    keys = ", ".join(b.quote(c) for c in cols)
    inner = ", ".join(f"{b.sum_fn}({e} * {zj}) AS cs_s{j}" for j, zj in enumerate(z))
    pairs = [(i, j) for i in range(p) for j in range(i, p)]
    outer = ", ".join(f"{b.sum_fn}(cs_s{i} * cs_s{j})" for i, j in pairs)
    if rss is None:
        inner += f", {b.sum_fn}({e} * {e}) AS cs_e2"
        outer += f", {b.sum_fn}(cs_e2)"
    row = b.one(f"SELECT COUNT(*), {outer} FROM (SELECT {inner} FROM {dv} GROUP BY {keys}) cs_g")
    M = np.empty((p, p))
    for (i, j), v in zip(pairs, row[1:]):
        M[i, j] = M[j, i] = v
    return M, int(row[0]), (float(row[-1]) if rss is None else rss)


def _leverage(dv: str, z, xs, bread: np.ndarray, n: int) -> str:
    """``h_i = z_i' (Z'Z)^-1 z_i`` as SQL (centred coordinates: ``1/n + xc' (Xc'Xc)^-1 xc``)."""
    A = bread[-len(xs):, -len(xs):] if xs else np.zeros((0, 0))
    terms = [lit(1.0 / n)] if len(z) > len(xs) else []
    for i in range(len(xs)):
        for j in range(i, len(xs)):
            c = A[i, j] * (1 if i == j else 2)
            terms.append(f"{lit(c)} * {xs[i]} * {xs[j]}")
    return "(" + " + ".join(terms or ["0.0"]) + ")"


def _sandwich(b, dv, z, e, kind, cluster, bread, rss, n, r, xs):
    """sandwich / estimatr conventions, as ``inference.vcov(flavour=...)``."""
    df = float(n - r)
    if kind == "iid":
        return rss / (n - r) * bread, df, (), rss
    if kind in ("HC0", "HC1", "HC2", "HC3"):
        if cluster:
            raise UnsupportedError(Problem("inference.cluster", f"{kind} does not use clusters.",
                                           fix="Use CR1 for cluster-robust standard errors.", code="vcov_cluster"))
        weight = f"({e} * {e})"
        if kind in ("HC2", "HC3"):
            h = _leverage(dv, z, xs, bread, n)
            hmax = float(b.one(f"SELECT MAX({h}) FROM {dv}")[0])
            if hmax > 1 - _LEVERAGE_ONE:
                raise EstimationError(Problem("inference.vcov", f"{kind} divides by 1 - leverage, and some "
                                              "observations have leverage 1, so the variance is undefined.",
                                              fix="Use vcov HC1 or iid.", code="leverage_one"))
            weight = f"({weight} / (1.0 - {h}))" if kind == "HC2" else f"({weight} / ((1.0 - {h}) * (1.0 - {h})))"
        V = bread @ _meat_hc(b, dv, z, weight) @ bread
        return (V * n / (n - r) if kind == "HC1" else V), df, (), rss
    if not cluster:
        raise UnsupportedError(Problem("inference.cluster", f"{kind} needs a cluster variable.",
                                       fix="Name the cluster column(s) in inference.cluster.", code="vcov_cluster"))
    if kind in ("stata", "CR0_estimatr") and len(cluster) > 1:
        raise UnsupportedError(Problem("inference.cluster", f"{kind} takes one cluster column.",
                                       fix="Use CR1 for multi-way clustering.", code="multiway_unsupported"))
    meat = np.zeros((len(z), len(z)))
    sizes = []
    for size in range(1, len(cluster) + 1):
        for subset in combinations(cluster, size):
            M, G, rss = _meat_cluster(b, dv, z, e, subset, rss)
            if G < 2:
                raise EstimationError(Problem("inference.cluster", f"{' x '.join(subset)} has a single cluster.",
                                              fix="Cluster on a variable with two or more values.",
                                              code="single_cluster"))
            sizes.append(G)
            factor = 1.0 if kind == "CR0_estimatr" else G / (G - 1)
            meat += (-1) ** (size + 1) * factor * M
    V = bread @ meat @ bread
    if kind in ("CR1", "stata"):
        V = V * (n - 1) / (n - r)
    if kind in ("stata", "CR0_estimatr"):
        df = float(sizes[0] - 1)
    return V, df, (min(sizes[:len(cluster)]),) if len(cluster) > 1 else (sizes[0],), rss


def _fixest(b, dv, z, e, kind, cluster, bread, rss, n, K, nested):
    """fixest conventions (``fixest::vcov`` with the default ``ssc()``), as ``inference.fixest_vcov``."""
    if kind == "iid":
        return bread * (rss / (n - 1)) * ((n - 1) / (n - K)), float(max(n - K, 1)), (), rss
    if kind == "HC1":
        V = bread @ _meat_hc(b, dv, z, f"({e} * {e})") @ bread
        return V * n / (n - 1) * (n - 1) / (n - K), float(max(n - K, 1)), (), rss
    if kind != "CR1" or not cluster:
        raise UnsupportedError(Problem("inference.vcov", f"{kind} is not one of fixest's variances (iid, HC1, CR1).",
                                       fix="Use iid, HC1 or CR1 with inference.cluster.", code="engine_vcov_unsupported"))
    K = K - nested
    meat = np.zeros((len(z), len(z)))
    Gs = []
    for size in range(1, len(cluster) + 1):
        for subset in combinations(cluster, size):
            M, G, rss = _meat_cluster(b, dv, z, e, subset, rss)
            if size == 1:
                Gs.append(G)
            meat += (-1) ** (size + 1) * M
    G_min = min(Gs)
    if G_min < 2:
        raise EstimationError(Problem("inference.cluster", "a cluster variable has a single cluster in the sample.",
                                      fix="Cluster by a variable with at least two groups.", code="single_cluster"))
    V = bread @ meat @ bread * G_min / (G_min - 1) * (n - 1) / (n - K)
    if np.any(np.diag(V) < 0):
        vals, vecs = np.linalg.eigh((V + V.T) / 2)
        V = (vecs * np.clip(vals, 0, None)) @ vecs.T
    return V, float(max(G_min - 1, 1)), tuple(Gs), rss
