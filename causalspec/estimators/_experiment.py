"""Estimators for randomised experiments: difference in means and Lin's (2013) adjustment.

``difference_in_means`` matches ``estimatr::difference_in_means``: without clusters the
Neyman variance with Welch-Satterthwaite df (= ``t.test(var.equal = FALSE)``); with clusters
``lm_robust(y ~ d, clusters, se_type = "CR2")`` with the Bell-McCaffrey df, which is what
estimatr computes for a clustered design (no blocks: blocked designs are not offered).
``lm_lin`` matches ``estimatr::lm_lin``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from causalspec.errors import DataError, EstimationError, Problem
from causalspec.formula._materialize import Design, materialize
from causalspec.estimators._linear import LinearFit, fit_ols
from causalspec.inference import Vcov, coef_table, make_clusters, vcov
from causalspec.formula._parse import quote_name

__all__ = ["DiffInMeans", "WelchTest", "LinFit", "ArmMoments", "DIM_METHODS", "difference_in_means",
           "arms_nested_in_clusters", "welch_t_test", "welch_from_moments", "neyman_difference", "lm_lin"]


@dataclass(frozen=True)
class WelchTest:
    """Welch's two-sample t test of ``mean(x) - mean(y)`` (``stats::t.test``)."""

    statistic: float
    df: float
    p_value: float
    conf_int: tuple[float, float]
    estimate: tuple[float, float]
    stderr: float
    level: float


@dataclass(frozen=True)
class DiffInMeans:
    """Difference in means of treated minus control, with its Neyman standard error."""

    term: str
    estimate: float
    std_error: float
    statistic: float
    p_value: float
    conf_low: float
    conf_high: float
    df: float
    nobs: int
    n_treated: int
    n_control: int
    mean_treated: float
    mean_control: float
    level: float
    table: pd.DataFrame
    vcov: Vcov
    dropped: tuple[tuple[str, int], ...] = ()
    stats: tuple[tuple[str, float], ...] = field(default=())
    n_clusters: int | None = None
    method: str = "difference in means (Neyman SE, Welch df)"


@dataclass(frozen=True)
class LinFit:
    """Lin's (2013) interacted regression: fit, variance and tidy table (with a ``df`` column)."""

    fit: LinearFit
    vcov: Vcov
    table: pd.DataFrame
    terms: tuple[str, ...]
    nobs: int
    dropped: tuple[tuple[str, int], ...]
    notes: tuple[str, ...]
    stats: tuple[tuple[str, float], ...]
    covariate_means: tuple[tuple[str, float], ...]


def _binary(y: Any, d: Any, what: str) -> tuple[np.ndarray, np.ndarray, tuple[tuple[str, int], ...]]:
    y, d, dropped, _ = _binary_kept(y, d, what)
    return y, d, dropped


def _binary_kept(y: Any, d: Any, what: str):
    """Outcome and 0/1 treatment without their missing rows, the rows dropped by reason, and the kept mask."""
    y = np.asarray(y, dtype=float)
    d = np.asarray(d, dtype=float)
    if y.shape != d.shape or y.ndim != 1:
        raise DataError(f"{what}: outcome and treatment must be 1-d and of equal length "
                        f"(got {y.shape} and {d.shape}).", loc="data", fix="Pass one value per unit.")
    dropped = []
    ny, nd = int(np.isnan(y).sum()), int((np.isnan(d) & ~np.isnan(y)).sum())
    if ny:
        dropped.append(("missing values in the outcome", ny))
    if nd:
        dropped.append(("missing values in the treatment", nd))
    keep = ~(np.isnan(y) | np.isnan(d))
    y, d = y[keep], d[keep]
    levels = set(np.unique(d).tolist())
    if not levels <= {0.0, 1.0}:
        raise DataError(f"{what}: the treatment must be 0/1 (or logical); it has values "
                        f"{sorted(levels)[:5]}.", loc="treatment", fix="Recode the treatment as 0 = control, 1 = treated.")
    if levels != {0.0, 1.0}:
        raise EstimationError(f"{what}: the treatment does not vary (only {sorted(levels)} in the sample).",
                              loc="treatment", fix="Both arms need at least two units.")
    return y, d, tuple(dropped), keep


def welch_t_test(x: Any, y: Any, level: float = 0.95) -> WelchTest:
    """Welch two-sample t test of ``mean(x) - mean(y)``.

    Matches ``stats::t.test(x, y)`` (``var.equal = FALSE``); Welch (1947).
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    x, y = x[~np.isnan(x)], y[~np.isnan(y)]
    if len(x) < 2 or len(y) < 2:
        raise EstimationError("Welch's t test needs at least two observations in each group.", loc="data",
                              fix="Check the treatment coding and missing outcomes.")
    return welch_from_moments(ArmMoments(len(x), float(x.mean()), float(x.var(ddof=1))),
                              ArmMoments(len(y), float(y.mean()), float(y.var(ddof=1))), level)


@dataclass(frozen=True)
class ArmMoments:
    """One arm's count, mean and sample variance (``ddof = 1``) of a metric: all Welch's test reads."""

    n: int
    mean: float
    var: float


def welch_from_moments(x: ArmMoments, y: ArmMoments, level: float = 0.95) -> WelchTest:
    """Welch's test of ``mean(x) - mean(y)`` from each group's moments (numpy's in memory, an engine's GROUP BY
    out of core): one formula for both."""
    if x.n < 2 or y.n < 2:
        raise EstimationError("Welch's t test needs at least two observations in each group.", loc="data",
                              fix="Check the treatment coding and missing outcomes.")
    vx, vy = x.var / x.n, y.var / y.n
    se = float(np.sqrt(vx + vy))
    df = float((vx + vy) ** 2 / (vx**2 / (x.n - 1) + vy**2 / (y.n - 1)))
    diff = float(x.mean - y.mean)
    t = diff / se
    q = sps.t.ppf(0.5 + level / 2.0, df)
    return WelchTest(t, df, float(2 * sps.t.sf(abs(t), df)), (diff - q * se, diff + q * se), (x.mean, y.mean), se,
                     level)


def neyman_difference(w: WelchTest, *, term: str, n_treated: int, n_control: int,
                      dropped: tuple[tuple[str, int], ...] = ()) -> DiffInMeans:
    """``estimatr::difference_in_means(y ~ d)`` (Neyman SE, Welch df) from Welch's test of treated vs control."""
    V = Vcov(np.array([[w.stderr**2]]), (term,), "neyman", w.df, None,
             "estimatr::difference_in_means (Neyman SE, Welch-Satterthwaite df)")
    est = w.estimate[0] - w.estimate[1]
    table = coef_table(np.array([est]), V, w.level)
    table["df"] = w.df
    return DiffInMeans(
        term=term, estimate=est, std_error=w.stderr, statistic=w.statistic, p_value=w.p_value,
        conf_low=w.conf_int[0], conf_high=w.conf_int[1], df=w.df, nobs=n_treated + n_control, n_treated=n_treated,
        n_control=n_control, mean_treated=w.estimate[0], mean_control=w.estimate[1], level=w.level, table=table,
        vcov=V, dropped=dropped,
        stats=(("mean_treated", w.estimate[0]), ("mean_control", w.estimate[1]), ("n_treated", float(n_treated)),
               ("n_control", float(n_control)), ("df", w.df)),
    )


# The method labels a result's rows carry (docs/experiments.md); one per variance the difference in means offers.
DIM_METHODS = {
    "neyman": "difference in means (Neyman SE, Welch df)",
    "CR2": "difference in means (cluster-robust CR2 SE, Bell-McCaffrey df)",
    "stata": "difference in means (cluster-robust stata SE, G - 1 df)",
    "CR0_estimatr": "difference in means (cluster-robust CR0 SE, G - 1 df)",
}


def difference_in_means(y: Any, d: Any, *, level: float = 0.95, term: str = "d", cluster: Any = None,
                        se_type: str = "CR2", nested: bool = True) -> DiffInMeans:
    """Difference in means, treated minus control.

    Without ``cluster``: the Neyman variance with Welch-Satterthwaite df; matches
    ``estimatr::difference_in_means(y ~ d)`` (= ``t.test(y[d == 1], y[d == 0])``); Neyman (1923),
    Welch (1947).

    With ``cluster``: the coefficient of ``d`` in ``y ~ 1 + d`` with a cluster-robust variance;
    ``se_type = "CR2"`` (the default) matches ``estimatr::difference_in_means(y ~ d, clusters = g)``,
    which is ``lm_robust(y ~ d, clusters = g, se_type = "CR2")`` with the Bell-McCaffrey df
    (Bell & McCaffrey 2002; Pustejovsky & Tipton 2018); ``"stata"`` and ``"CR0_estimatr"`` match
    ``lm_robust(y ~ d, clusters = g, se_type = "stata" / "CR0")`` (G - 1 df).  Like estimatr,
    every unit of a cluster must be in the same arm (``nested=False`` lifts that check: the numbers
    are then ``lm_robust``'s, for clusters that do not carry the assignment).

    Examples
    --------
    >>> r = difference_in_means([1., 2, 3, 4, 6, 8], [0, 0, 0, 1, 1, 1], term="treat")
    >>> round(r.estimate, 6)
    4.0
    """
    y, d, dropped, keep = _binary_kept(y, d, "difference_in_means")
    if cluster is not None:
        cl = cluster.loc[keep] if isinstance(cluster, (pd.Series, pd.DataFrame)) else np.asarray(cluster)[keep]
        return _clustered(y, d, cl, level=level, term=term, se_type=se_type, nested=nested, dropped=dropped)
    t1, t0 = y[d == 1], y[d == 0]
    return neyman_difference(welch_t_test(t1, t0, level), term=term, n_treated=len(t1), n_control=len(t0),
                             dropped=dropped)


def arms_nested_in_clusters(d: Any, cluster: Any) -> bool:
    """Whether every cluster lies in one arm (the assignment was by cluster), as estimatr requires."""
    codes = make_clusters(cluster, len(np.asarray(d))).codes
    frame = pd.DataFrame({"g": codes, "d": np.asarray(d, dtype=float)})
    return bool((frame.groupby("g")["d"].nunique() <= 1).all())


def _clustered(y: np.ndarray, d: np.ndarray, cluster: Any, *, level: float, term: str, se_type: str,
               nested: bool, dropped) -> DiffInMeans:
    if se_type not in ("CR2", "stata", "CR0_estimatr"):
        raise DataError(f"difference_in_means: {se_type!r} is not a cluster-robust variance estimatr offers "
                        "for the difference in means.", loc="inference.vcov",
                        fix="Use CR2 (estimatr's default with clusters), stata or CR0_estimatr.")
    if isinstance(cluster, pd.DataFrame) and cluster.shape[1] > 1:
        raise DataError("difference_in_means: estimatr clusters on one column.", loc="inference.cluster",
                        fix="Name one cluster column (the unit of assignment).")
    if nested and not arms_nested_in_clusters(d, cluster):
        # estimatr:::difference_in_means_internal's own check and wording
        raise DataError(Problem(
            "inference.cluster", "All units within a cluster must have the same treatment condition: some "
            "clusters have units in both arms, so the clusters are not the units of assignment "
            "(estimatr::difference_in_means(clusters = ) refuses them too).",
            fix="Cluster on the column the treatment was assigned by, or, if the assignment was by unit, "
                "remove inference.cluster (or add pre-treatment covariates and use design.estimator lin, "
                "whose clustered variance does not need nested arms).", code="arms_not_nested"))
    X = np.column_stack([np.ones(len(y)), d])
    fit = fit_ols(y, X, ("(Intercept)", term))
    V = vcov(fit, se_type, cluster, flavour="estimatr")
    se = float(np.sqrt(V.matrix[1, 1]))
    df = float(V.df_for()[1])
    est = float(fit.coef[1])
    Vd = Vcov(V.matrix[1:, 1:].copy(), (term,), V.kind, df, V.n_clusters, V.description)
    table = coef_table(np.array([est]), Vd, level)
    table["df"] = df
    r = table.iloc[0]
    n1, n0 = int((d == 1).sum()), int((d == 0).sum())
    m1, m0 = float(y[d == 1].mean()), float(y[d == 0].mean())
    return DiffInMeans(
        term=term, estimate=est, std_error=se, statistic=float(r["statistic"]), p_value=float(r["p_value"]),
        conf_low=float(r["conf_low"]), conf_high=float(r["conf_high"]), df=df, nobs=len(y), n_treated=n1,
        n_control=n0, mean_treated=m1, mean_control=m0, level=level, table=table, vcov=Vd, dropped=dropped,
        stats=(("mean_treated", m1), ("mean_control", m0), ("n_treated", float(n1)), ("n_control", float(n0)),
               ("df", df), ("n_clusters", float(V.n_clusters))),
        n_clusters=V.n_clusters, method=DIM_METHODS[se_type],
    )


def _covariate_design(covariates: Any) -> tuple[np.ndarray, tuple[str, ...], pd.Index, dict[str, int], int]:
    if isinstance(covariates, Design):
        keep = [i for i, t in enumerate(covariates.terms) if t != "(Intercept)"]
        return (covariates.X[:, keep], tuple(covariates.terms[i] for i in keep), covariates.rows,
                dict(covariates.dropped), covariates.n_input)
    if not isinstance(covariates, pd.DataFrame):
        raise DataError("lm_lin: covariates must be a pandas DataFrame or a Design.", loc="covariates",
                        fix="Pass data[[...covariate columns...]].")
    if covariates.shape[1] == 0:
        raise DataError("lm_lin needs at least one covariate.", loc="covariates",
                        fix="Use difference_in_means when there are no covariates.")
    frame = covariates.copy()
    frame.columns = [str(c) for c in frame.columns]
    outcome = "lin_outcome_placeholder"
    while outcome in frame.columns:
        outcome += "_"
    frame[outcome] = 0.0
    formula = f"{outcome} ~ " + " + ".join(quote_name(c) for c in covariates.columns.map(str))
    des = materialize(formula, frame)
    keep = [i for i, t in enumerate(des.terms) if t != "(Intercept)"]
    return des.X[:, keep], tuple(des.terms[i] for i in keep), des.rows, dict(des.dropped), des.n_input


def _lin_name(term: str) -> str:
    """estimatr's centred-covariate name: ``x_c``; ``(log(x))_c`` when the name has ':' or a call."""
    if re.search(r":|(^.+\()", term):
        return f"({term})_c"
    return f"{term}_c"


def lm_lin(y: Any, d: Any, covariates: Any, *, se_type: str | None = None, cluster: Any = None,
           level: float = 0.95, treatment: str = "d", weights: Any = None) -> LinFit:
    """Lin's (2013) regression: treatment, mean-centred covariates and their interactions.

    Matches ``estimatr::lm_lin(y ~ d, covariates = ~ ...)`` (covariates expanded
    with R's contrasts, centred, named ``<column>_c``; HC2 by default, CR2 with
    clusters); Lin (2013), Ann. Appl. Stat. 7(1).

    ``covariates`` is a DataFrame aligned with ``y`` (rows with a missing
    covariate are dropped and counted) or a :class:`Design`.
    """
    y = np.asarray(y, dtype=float)
    d = np.asarray(d, dtype=float)
    Xc, cov_terms, rows, dropped, n_input = _covariate_design(covariates)
    if isinstance(covariates, Design):
        # a Design's rows are the units y and d describe, already aligned
        n_input = len(rows)
        pos = np.arange(n_input)
    else:
        if not covariates.index.is_unique:
            covariates = covariates.reset_index(drop=True)
            Xc, cov_terms, rows, dropped, n_input = _covariate_design(covariates)
        pos = covariates.index.get_indexer(rows)
    if len(y) != n_input or len(d) != n_input:
        raise DataError(f"lm_lin: outcome ({len(y)}), treatment ({len(d)}) and covariates ({n_input}) "
                        "have different lengths.", loc="data", fix="Pass columns of the same data frame.")
    yy, dd = y[pos], d[pos]
    extra = {}
    ny = int(np.isnan(yy).sum())
    nd = int((np.isnan(dd) & ~np.isnan(yy)).sum())
    if ny:
        extra["missing values in the outcome"] = ny
    if nd:
        extra["missing values in the treatment"] = nd
    ok = ~(np.isnan(yy) | np.isnan(dd))
    yy, dd, Xc = yy[ok], dd[ok], Xc[ok]
    _binary(yy, dd, "lm_lin")
    w = None
    if weights is not None:
        w = np.asarray(weights, dtype=float)[pos][ok]
    means = Xc.mean(axis=0) if w is None else (w[:, None] * Xc).sum(axis=0) / w.sum()
    centred = Xc - means
    names_c = tuple(_lin_name(t) for t in cov_terms)
    X = np.column_stack([np.ones(len(yy)), dd, centred, dd[:, None] * centred])
    terms = ("(Intercept)", treatment, *names_c, *(f"{treatment}:{t}" for t in names_c))
    fit = fit_ols(yy, X, terms, weights=w)
    kind = se_type or ("CR2" if cluster is not None else "HC2")
    cl = None
    if cluster is not None:
        cl = cluster.iloc[pos[ok]] if isinstance(cluster, (pd.Series, pd.DataFrame)) else np.asarray(cluster)[pos][ok]
    V = vcov(fit, kind, cl, flavour="estimatr")
    table = coef_table(fit.coef, V, level)
    table["df"] = V.df_for()
    all_dropped = {**dropped, **extra}
    return LinFit(
        fit=fit, vcov=V, table=table, terms=terms, nobs=fit.nobs, dropped=tuple(all_dropped.items()),
        notes=tuple(fit.notes) + tuple(f"{c} row(s) dropped: {r}" for r, c in all_dropped.items()),
        stats=(("r2", fit.r2), ("adj_r2", fit.adj_r2)),
        covariate_means=tuple(zip(cov_terms, (float(m) for m in means))),
    )
