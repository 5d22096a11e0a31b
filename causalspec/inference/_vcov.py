"""Variance estimators for least-squares fits: iid, HC0-HC3, cluster CR0/CR1/CR2 and Stata CR1.

Each kind is a small record (:class:`Vcov`) naming the R call it matches, so a
result can say exactly which standard errors it reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any

from itertools import combinations

import numpy as np
import pandas as pd

from causalspec.errors import SpecError
from causalspec.inference._clusters import Clusters, make_clusters, scaled_cluster_sums, scaled_meat
from causalspec.inference._cr2 import cr2_vcov
from causalspec.errors import EstimationError, Problem

if TYPE_CHECKING:  # the fit type lives with the estimators; only its attributes are used here
    from causalspec.estimators._linear import LinearFit

__all__ = ["Vcov", "VcovKind", "vcov", "VCOV_KINDS"]


class VcovKind(str, Enum):
    """The variance estimators :func:`vcov` implements."""

    IID = "iid"
    HC0 = "HC0"
    HC1 = "HC1"
    HC2 = "HC2"
    HC3 = "HC3"
    CR0 = "CR0"
    CR1 = "CR1"
    CR2 = "CR2"
    STATA = "stata"


VCOV_KINDS = tuple(k.value for k in VcovKind)

_DESCRIPTION = {
    VcovKind.IID: "stats::vcov(lm) (classical, sigma^2 (X'WX)^-1); t with n - k df",
    VcovKind.HC0: 'sandwich::vcovHC(type = "HC0"); White (1980); t with n - k df',
    VcovKind.HC1: 'sandwich::vcovHC(type = "HC1") = estimatr se_type = "HC1"; t with n - k df',
    VcovKind.HC2: 'sandwich::vcovHC(type = "HC2") = estimatr::lm_robust default "HC2"; t with n - k df',
    VcovKind.HC3: 'sandwich::vcovHC(type = "HC3"); MacKinnon & White (1985); t with n - k df',
    VcovKind.CR0: 'sandwich::vcovCL(type = "HC0", cadjust = TRUE): G/(G-1); t with n - k df (lmtest)',
    VcovKind.CR1: 'sandwich::vcovCL(type = "HC1"): G/(G-1) (N-1)/(N-K); t with n - k df (lmtest)',
    VcovKind.CR2: 'estimatr::lm_robust(se_type = "CR2"); Bell & McCaffrey (2002) with per-coefficient df',
    VcovKind.STATA: 'estimatr::lm_robust(se_type = "stata"): G/(G-1) (N-1)/(N-K); t with G - 1 df',
}


@dataclass(frozen=True)
class Vcov:
    """A covariance matrix with the degrees of freedom its t tests use.

    ``matrix`` is ``p x p`` over ``terms`` (all design columns); rows and
    columns of aliased terms are NaN, as ``vcov(lm)`` shows them.  ``df`` is a
    scalar or one value per term (``inf`` means normal inference).
    """

    matrix: np.ndarray
    terms: tuple[str, ...]
    kind: str
    df: float | np.ndarray
    n_clusters: int | None
    description: str

    @property
    def se(self) -> np.ndarray:
        return np.sqrt(np.diag(self.matrix))

    def df_for(self) -> np.ndarray:
        """Degrees of freedom per term."""
        return np.broadcast_to(np.asarray(self.df, dtype=float), (len(self.terms),)).copy()

    def kept(self) -> tuple[tuple[str, ...], np.ndarray]:
        """Terms and covariance block without the aliased (NaN) terms, as sandwich returns it."""
        ok = ~np.isnan(np.diag(self.matrix))
        return tuple(t for t, o in zip(self.terms, ok) if o), self.matrix[np.ix_(ok, ok)]


def _parse_kind(kind: Any) -> VcovKind:
    if isinstance(kind, VcovKind):
        return kind
    lookup = {k.value.lower(): k for k in VcovKind}
    lookup.update({"classical": VcovKind.IID, "const": VcovKind.IID})
    key = str(kind).strip().lower()
    if key not in lookup:
        raise SpecError(f"unknown variance estimator {kind!r}.", loc="vcov",
                        fix=f"Use one of {', '.join(VCOV_KINDS)}.")
    return lookup[key]


def _embed(fit: "LinearFit", Vk: np.ndarray) -> np.ndarray:
    p = len(fit.terms)
    V = np.full((p, p), np.nan)
    idx = np.asarray(fit.kept)
    V[np.ix_(idx, idx)] = Vk
    return V


def _embed_df(fit: "LinearFit", dfk: np.ndarray) -> np.ndarray:
    df = np.full(len(fit.terms), np.nan)
    df[np.asarray(fit.kept)] = dfk
    return df


def vcov(fit: "LinearFit", kind: str | VcovKind = "iid", cluster: Any = None, *,
         flavour: str = "sandwich", multiway: bool = True) -> Vcov:
    """The covariance of a least-squares fit's coefficients.

    Matches, by ``kind``: ``vcov(lm)`` (iid); ``sandwich::vcovHC`` HC0-HC3
    (White 1980; MacKinnon & White 1985); ``sandwich::vcovCL`` HC0/HC1 as CR0/CR1
    (Liang & Zeger 1986); ``estimatr::lm_robust`` CR2 (Bell & McCaffrey 2002) and
    ``"stata"`` (CR1 with G - 1 df).  Weighted fits use the weighted scores
    ``w_i e_i x_i`` like ``sandwich::estfun.lm``.

    Parameters
    ----------
    fit : LinearFit
    kind : one of ``iid, HC0, HC1, HC2, HC3, CR0, CR1, CR2, stata``
    cluster : for CR kinds, one value per fitted row (array, Series, or a
        DataFrame whose columns are interacted)
    multiway : with several cluster columns and CR0/CR1, cluster on each and
        combine them by inclusion-exclusion like ``sandwich::vcovCL(cluster =
        ~ a + b)`` (Cameron, Gelbach & Miller 2011) -- the default, as in sandwich
        and fixest.  ``multiway=False`` clusters on the columns' interaction instead.
        Several columns with another kind are refused (no package defines them).
    flavour : ``"sandwich"`` (default) or ``"estimatr"``.  They differ only for
        clustered CR0/CR1: estimatr's ``se_type = "CR0"`` has no G/(G-1) factor
        and G - 1 df, and its CR1 is ``"stata"``.

    Examples
    --------
    >>> import numpy as np
    >>> from causalspec.estimators._linear import fit_ols
    >>> X = np.column_stack([np.ones(6), [1., 2, 3, 4, 5, 6]])
    >>> fit = fit_ols(np.array([1., 3, 2, 5, 4, 6]), X, ["(Intercept)", "x"])
    >>> round(float(vcov(fit, "HC1").se[1]), 6)
    0.151217
    """
    if kind == "CR0_estimatr":  # the spec's name for estimatr's CR0 (no small-sample factor, G - 1 df)
        kind, flavour = "CR0", "estimatr"
    k = _parse_kind(kind)
    if flavour not in ("sandwich", "estimatr"):
        raise SpecError(f"unknown vcov flavour {flavour!r}.", loc="vcov", fix="Use 'sandwich' or 'estimatr'.")
    estimatr_cr0 = flavour == "estimatr" and k is VcovKind.CR0
    if flavour == "estimatr" and k is VcovKind.CR1:
        k = VcovKind.STATA
    clustered = k in (VcovKind.CR0, VcovKind.CR1, VcovKind.CR2, VcovKind.STATA)
    if clustered and cluster is None:
        raise SpecError(f"variance estimator {k.value!r} needs a cluster variable.", loc="vcov",
                        fix="Name the cluster column, or choose a heteroskedasticity-robust kind such as HC1.")
    if not clustered and cluster is not None:
        raise SpecError(f"variance estimator {k.value!r} does not use clusters.", loc="vcov",
                        fix="Use CR1, CR2 or stata for cluster-robust standard errors.")
    X = fit.X_kept
    n, r = X.shape
    e = fit.residuals
    w = fit.weights
    df_resid = float(fit.df_resid)
    desc = _DESCRIPTION[k]
    if k is VcovKind.IID:
        V = fit.sigma**2 * fit.xtwx_inv()
        return Vcov(_embed(fit, V), fit.terms, k.value, df_resid, None, desc)
    u = e if w is None else w * e  # sandwich::estfun.lm: the scores w_i e_i x_i = u_i x_i, never formed n x k

    # sandwich scales its bread by the positive-weight count (bread.lm) but divides by all rows
    # (NROW(estfun)); with zero weights this leaves a factor (n_pos / n)^2, kept for parity.
    zero_w_scale = (fit.nobs / n) ** 2 if flavour == "sandwich" and k is not VcovKind.STATA else 1.0

    def sandwich(meat: np.ndarray) -> np.ndarray:
        half = fit.xtwx_solve(meat)
        V = fit.xtwx_solve(half.T)
        return zero_w_scale * (V + V.T) / 2.0

    if not clustered:
        if k in (VcovKind.HC2, VcovKind.HC3):
            # leverage of the weighted design: h_i = w_i x_i'(X'WX)^-1 x_i
            h = np.einsum("ij,ji->i", X, fit.xtwx_solve(X.T))
            if w is not None:
                h = w * h
            if np.any(h > 1.0 - 1e-10):

                raise EstimationError(Problem(
                    "inference.vcov", f"{k.value} divides by 1 - leverage, and {int((h > 1.0 - 1e-10).sum())} "
                    "observation(s) have leverage 1 (each is fitted exactly, e.g. the only row of a factor "
                    "level), so the variance is undefined.",
                    fix="Use vcov HC1 or iid, or drop the factor levels with a single row.", code="leverage_one"))
            scale = 1.0 / np.sqrt(1.0 - h) if k is VcovKind.HC2 else 1.0 / (1.0 - h)
            u = u * scale
        V = sandwich(scaled_meat(X, u))
        if k is VcovKind.HC1:
            V = V * n / (n - r)
        return Vcov(_embed(fit, V), fit.terms, k.value, df_resid, None, desc)
    several = isinstance(cluster, pd.DataFrame) and cluster.shape[1] > 1
    if several and multiway:
        if k not in (VcovKind.CR0, VcovKind.CR1) or flavour != "sandwich":
            raise SpecError(Problem(
                "inference.cluster", f"{k.value} takes one cluster column; several mean multi-way clustering, "
                "which sandwich::vcovCL defines for CR0 and CR1 only.",
                fix="Use vcov CR1 (or CR0) for multi-way clustering, or name one cluster column.",
                code="multiway_unsupported"))
        return _multiway(fit, k, cluster, X, u, sandwich, n, r, df_resid)
    cl: Clusters = make_clusters(cluster, n)
    G = cl.n_groups
    if G < 2:
        raise SpecError("cluster-robust standard errors need at least two clusters; the sample has one.",
                        loc="cluster", fix="Cluster on a coarser-than-everything variable with 2+ values, or use HC1.")
    if k is VcovKind.CR2:
        Vk, dfk = cr2_vcov(X, e, cl, w)
        return Vcov(_embed(fit, Vk), fit.terms, k.value, _embed_df(fit, dfk), G, desc)
    if estimatr_cr0:
        V = sandwich(_cluster_meat(X, u, cl))
        desc = 'estimatr::lm_robust(se_type = "CR0"): no small-sample factor; t with G - 1 df'
        return Vcov(_embed(fit, V), fit.terms, k.value, float(G - 1), G, desc)
    V = sandwich(_cluster_meat(X, u, cl)) * G / (G - 1)
    if k in (VcovKind.CR1, VcovKind.STATA):
        V = V * (n - 1) / (n - r)
    df = float(G - 1) if k is VcovKind.STATA else df_resid
    return Vcov(_embed(fit, V), fit.terms, k.value, df, G, desc)


def _cluster_meat(X: np.ndarray, u: np.ndarray, cl: Clusters) -> np.ndarray:
    """``sum_g S_g S_g'`` with ``S_g`` the cluster sums of the scores ``u_i x_i``."""
    sums = scaled_cluster_sums(X, u, cl)
    return sums.T @ sums


def _multiway(fit: "LinearFit", k: VcovKind, frame: pd.DataFrame, X: np.ndarray, u: np.ndarray, sandwich, n: int,
              r: int, df_resid: float) -> Vcov:
    """``sandwich::vcovCL`` with several cluster variables: sum over every non-empty subset of the
    variables of (-1)^(|S|+1) G_S/(G_S-1) times the meat clustered on their intersection."""
    meat = np.zeros((r, r))
    cols = list(frame.columns)
    sizes = []
    for size in range(1, len(cols) + 1):
        for subset in combinations(cols, size):
            cl = make_clusters(frame.loc[:, list(subset)], n)
            sizes.append(cl.n_groups)
            meat += (-1) ** (size + 1) * cl.n_groups / (cl.n_groups - 1) * _cluster_meat(X, u, cl)
    V = sandwich(meat)
    if k is VcovKind.CR1:
        V = V * (n - 1) / (n - r)
    desc = (f'sandwich::vcovCL(cluster = ~ {" + ".join(map(str, cols))}, type = "{"HC1" if k is VcovKind.CR1 else "HC0"}")'
            "; multiway (Cameron, Gelbach & Miller 2011); t with n - k df")
    return Vcov(_embed(fit, V), fit.terms, k.value, df_resid, min(sizes[: len(cols)]), desc)
