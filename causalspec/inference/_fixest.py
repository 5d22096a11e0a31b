"""fixest's variance estimators and small-sample corrections.

``fixest_vcov`` reproduces ``vcov(fit, vcov = ...)`` of fixest 0.12 with its
default ``ssc(adj = TRUE, fixef.K = "nested", cluster.adj = TRUE,
cluster.df = "min", t.df = "min")``:

* iid: SSR / (n - K) * (X'WX)^-1;
* hetero: n / (n - 1) * (n - 1) / (n - K) * B S'S B (HC1 when there is no FE);
* cluster (one or more ways): the Cameron-Gelbach-Miller inclusion-exclusion sum
  of B (sum_g s_g s_g') B over every intersection of the cluster variables,
  times G_min / (G_min - 1) and (n - 1) / (n - K); a result with a negative
  diagonal is made positive semi-definite by zeroing negative eigenvalues.

K counts the coefficients plus the fixed-effect levels, minus the levels of
every FE nested in a cluster variable (``fixef.K = "nested"``); t tests use
G_min - 1 degrees of freedom when clustered and n - K otherwise.

Matches fixest::vcov.fixest / fixest::ssc (R/VCOV.R); Cameron, Gelbach & Miller (2011).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import Literal, Mapping

import numpy as np
import pandas as pd
from scipy import linalg, stats

from causalspec._arrays import dense_codes
from causalspec.errors import DataError, EstimationError, SpecError

__all__ = ["SSC", "FixestVcov", "fixest_vcov", "coeftable", "wald_test", "default_vcov_kind"]


@dataclass(frozen=True)
class SSC:
    """fixest's small-sample correction settings (``fixest::ssc``); defaults are fixest's."""

    adj: bool = True
    fixef_k: Literal["nested", "full", "none"] = "nested"
    cluster_adj: bool = True
    cluster_df: Literal["min", "conventional"] = "min"
    t_df: Literal["min", "conventional"] | int = "min"


@dataclass(frozen=True)
class FixestVcov:
    """A variance matrix with the degrees of freedom fixest attaches to it."""

    matrix: np.ndarray
    names: tuple[str, ...]
    kind: str            # "iid", "hetero" or "cluster"
    label: str           # fixest's vcov type string, e.g. "Clustered (nr & year)"
    df_t: int            # t degrees of freedom (fixest degrees_freedom(fit, "t"))
    df_k: int            # K in the small-sample factor (degrees_freedom(fit, "k"))
    n_clusters: tuple[int, ...] = ()

    @property
    def se(self) -> np.ndarray:
        return np.sqrt(np.diag(self.matrix))


def default_vcov_kind(fit) -> tuple[str, tuple[str, ...]]:
    """fixest's default: clustered by the first fixed effect when there is one, iid otherwise."""
    if fit.fe is not None:
        return "cluster", (fit.fe.names[0],)
    return "iid", ()


def _bread_apply(fit, M: np.ndarray) -> np.ndarray:
    """(X'WX)^-1 M, by triangular solves on the stored Cholesky factor."""
    return linalg.cho_solve((fit.xwx_chol, False), M)


def _cluster_codes(fit, cluster) -> tuple[list[np.ndarray], list[str]]:
    """Integer cluster codes on the estimation sample, from FE names or data columns."""
    if isinstance(cluster, str):
        cluster = (cluster,)
    if isinstance(cluster, (pd.DataFrame, Mapping)):
        frame = cluster if isinstance(cluster, pd.DataFrame) else pd.DataFrame(dict(cluster))
        items = [(str(c), frame[c].to_numpy()) for c in frame.columns]
    else:
        items = []
        fe = fit.fe
        for name in cluster:
            if fe is not None and name in fe.names:
                items.append((name, fe.codes[fe.names.index(name)]))
                continue
            else:
                raise SpecError(f"cluster '{name}' is not a fixed effect of the fit.", loc="cluster",
                                fix="Pass the cluster ids as a DataFrame column, or name one of the fit's FEs.")
    if not 1 <= len(items) <= 4:
        raise SpecError(f"{len(items)} cluster variables given; fixest allows one to four.", loc="cluster",
                        fix="Cluster by one to four variables.")
    codes, names = [], []
    fe = fit.fe
    for name, values in items:
        if fe is not None and any(values is c for c in fe.codes):
            codes.append(values)  # already dense codes on the sample: no copy
            names.append(name)
            continue
        values = np.asarray(values)
        if values.shape[0] == fit.nobs_origin:
            values = values[fit.sample.mask]
        elif values.shape[0] != fit.nobs:
            raise DataError(f"cluster '{name}' has {values.shape[0]} rows; the fit used {fit.nobs} "
                            f"of {fit.nobs_origin}.", loc=f"cluster.{name}",
                            fix="Pass cluster ids aligned with the original data or with the estimation sample.")
        dense = dense_codes(values)
        c = dense[0] if dense is not None else pd.factorize(pd.Series(values), use_na_sentinel=True)[0]
        if np.any(c < 0):
            raise DataError(f"cluster '{name}' has missing values in the estimation sample.",
                            loc=f"cluster.{name}", fix="Fill or drop the rows with a missing cluster id.")
        codes.append(c.astype(np.intp))
        names.append(name)
    return codes, names


def _is_nested(fe_code: np.ndarray, fe_size: int, cl: np.ndarray) -> bool:
    # Nested: every level of the FE falls in a single cluster.
    first = np.full(fe_size, -1, dtype=np.intp)
    first[fe_code[::-1]] = cl[::-1]
    return bool(np.all(first[fe_code] == cl))


def _dof_k(fit, kind: str, cl_codes: list[np.ndarray], ssc: SSC) -> int:
    K = fit.nparams
    fe = fit.fe
    if fe is None:
        return K
    sizes = np.asarray(fe.sizes)
    n_fe = len(sizes)
    if ssc.fixef_k == "none":
        return K - (int(sizes.sum()) - (n_fe - 1))
    if ssc.fixef_k == "full" or kind != "cluster":
        return K
    nested = np.array([any(_is_nested(c, g, cl) for cl in cl_codes) for c, g in zip(fe.codes, fe.sizes)])
    if nested.all():
        K = K - (int(sizes.sum()) - (n_fe - 1)) + 1
    else:
        K = K - (int(sizes[nested].sum()) - int(nested.sum()))
    return max(K, len(fit.names) + 1)


def _group_sum(codes: np.ndarray, X: np.ndarray, e: np.ndarray) -> np.ndarray:
    """Per-cluster sums of the scores x_i e_i, one column at a time (no n x k score matrix)."""
    G = int(codes.max()) + 1
    out = np.empty((G, X.shape[1]))
    for j in range(X.shape[1]):
        out[:, j] = np.bincount(codes, weights=X[:, j] * e, minlength=G)
    return out


def _posdef_fix(V: np.ndarray) -> np.ndarray:
    vals, vecs = np.linalg.eigh((V + V.T) / 2)
    return (vecs * np.clip(vals, 0, None)) @ vecs.T


def fixest_vcov(fit, kind: str | None = None, cluster=None, ssc: SSC = SSC()) -> FixestVcov:
    """Variance of a :class:`FixestFit` as ``vcov(fit, vcov = kind)`` in fixest.

    Matches fixest::vcov.fixest(vcov = "iid" | "hetero" | ~cl1 + cl2) with fixest::ssc();
    White (1980); Cameron, Gelbach & Miller (2011) for multi-way clustering.

    Parameters
    ----------
    fit : FixestFit
    kind : {"iid", "hetero", "cluster"}, optional
        ``None`` gives fixest's default (cluster by the first FE, else iid).
    cluster : str, sequence of str, DataFrame or mapping, optional
        FE names of the fit, or id columns aligned with the original rows or the sample.
    ssc : SSC
        Small-sample correction (fixest defaults).

    Returns
    -------
    FixestVcov
    """
    if kind is None:
        kind, default_cl = default_vcov_kind(fit)
        if cluster is None:
            cluster = default_cl
    if kind not in ("iid", "hetero", "cluster"):
        raise SpecError(f"vcov '{kind}' is not one of 'iid', 'hetero', 'cluster'.", loc="vcov",
                        fix="Choose iid, hetero or cluster.")
    n = fit.nobs
    names = fit.names
    cl_codes: list[np.ndarray] = []
    cl_names: list[str] = []
    if kind == "cluster":
        if cluster is None or (not isinstance(cluster, (str, pd.DataFrame, Mapping)) and len(cluster) == 0):
            if fit.fe is None:
                raise SpecError("vcov 'cluster' needs cluster ids.", loc="cluster",
                                fix="Pass cluster=<column(s)>.")
            cluster = (fit.fe.names[0],)
        cl_codes, cl_names = _cluster_codes(fit, cluster)
    K = _dof_k(fit, kind, cl_codes, ssc)
    ss_adj = (n - 1) / (n - K) if ssc.adj else 1.0
    w = fit.weights
    if kind == "iid":
        bread = _bread_apply(fit, np.eye(len(names)))
        V = bread * (fit.ssr / (n - 1)) * ss_adj
        label = "IID"
        df_t = max(n - K, 1)
        G = ()
    else:
        e = fit.resid if w is None else fit.resid * w
        if kind == "hetero":
            S = fit.X * e[:, None]
            meat = S.T @ S
            adj = n / (n - 1) if ssc.cluster_adj else 1.0
            label = "Heteroskedasticity-robust"
            df_t = max(n - K, 1)
            G = ()
        else:
            meat = np.zeros((len(names), len(names)))
            nway = len(cl_codes)
            Gs = [int(c.max()) + 1 for c in cl_codes]
            for r in range(1, nway + 1):
                for combo in combinations(range(nway), r):
                    if r == 1:
                        idx = cl_codes[combo[0]]
                    else:
                        idx, _ = pd.factorize(pd.MultiIndex.from_arrays([cl_codes[c] for c in combo]))
                    Sg = _group_sum(idx, fit.X, e)
                    term = Sg.T @ Sg
                    if ssc.cluster_adj and ssc.cluster_df == "conventional":
                        Gc = Sg.shape[0]
                        term *= Gc / (Gc - 1)
                    meat += (-1) ** (r + 1) * term
            G_min = min(Gs)
            if G_min < 2:
                raise EstimationError(f"cluster '{cl_names[Gs.index(G_min)]}' has a single cluster in the sample, "
                                      "so a clustered variance cannot be estimated.",
                                      loc="cluster", fix="Cluster by a variable with at least two groups.")
            adj = G_min / (G_min - 1) if (ssc.cluster_adj and ssc.cluster_df == "min") else 1.0
            label = f"Clustered ({' & '.join(cl_names)})"
            df_t = max(G_min - 1, 1) if ssc.t_df == "min" else max(n - K, 1)
            G = tuple(Gs)
        half = _bread_apply(fit, meat)
        V = _bread_apply(fit, half.T).T * adj * ss_adj
        V = (V + V.T) / 2
    if isinstance(ssc.t_df, int) and not isinstance(ssc.t_df, bool):
        df_t = ssc.t_df
    if np.any(np.diag(V) < 0):
        V = _posdef_fix(V)
    return FixestVcov(V, names, kind, label, int(df_t), int(K), G)


def coeftable(fit, vcov: FixestVcov, level: float = 0.95) -> pd.DataFrame:
    """Estimates with t statistics, p-values and intervals on ``vcov.df_t`` degrees of freedom.

    Matches fixest::coeftable / confint (t distribution with degrees_freedom(fit, "t")).
    """
    se = vcov.se
    t = fit.coef / se
    p = 2 * stats.t.sf(np.abs(t), vcov.df_t)
    q = stats.t.ppf(0.5 + level / 2, vcov.df_t)
    return pd.DataFrame({"term": list(fit.names), "estimate": fit.coef, "std_error": se, "statistic": t,
                         "p_value": p, "conf_low": fit.coef - q * se, "conf_high": fit.coef + q * se})


def wald_test(coef: np.ndarray, V: np.ndarray, df2: int) -> dict[str, float]:
    """Joint F-form Wald test that ``coef`` is zero: stat = b' V^-1 b / q on (q, df2) df.

    Matches fixest::wald (F form, df2 = nobs - nparams as the caller passes it).
    """
    coef = np.asarray(coef, dtype=float)
    q = coef.size
    stat = float(coef @ linalg.solve(V, coef, assume_a="sym")) / q
    return {"stat": stat, "p": float(stats.f.sf(stat, q, df2)), "df1": q, "df2": int(df2)}
