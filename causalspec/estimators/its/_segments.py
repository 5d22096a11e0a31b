"""The segmented-regression design of an interrupted time series and the effects read from it.

For one series observed at periods ``time = 1, ..., n`` and interruptions beginning at ``t_1 < ... < t_K``:

    y_t = b0 + b1 time + sum_k [ c_k level_k + d_k trend_k ] + seasonal terms + covariates + e_t,
    level_k = 1[time >= t_k],  trend_k = (time - t_k) level_k,

so ``c_k`` is the change in level at ``t_k`` (the jump of the fitted line at the interruption over the line before
it) and ``d_k`` the change in slope (Wagner et al. 2002; Bernal, Cummins & Gasparrini 2017).  With a comparison
series (``group`` = 1 for the interrupted series, 0 for the comparison), every term is also interacted with
``group`` and the ``group_level_k`` / ``group_trend_k`` coefficients are the effects (Linden 2015): the
comparison series' own change at ``t_k`` is taken as what would have happened without the interruption.

Seasonality: Fourier terms ``sin_j = sin(2 pi j time / period)``, ``cos_j`` for j = 1..harmonics (the sine at
j = period / 2 is identically zero and left out, as ``forecast::fourier`` does), or one indicator per season
(``season_2 .. season_P``; season 1 is the season of the first period).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["SegmentedDesign", "segmented_design", "segment_names", "Combination", "effect_combinations",
           "counterfactual_rows"]


@dataclass(frozen=True)
class SegmentedDesign:
    """The design matrix and which of its columns carry the interruption's effect."""

    X: np.ndarray
    names: tuple[str, ...]
    level_terms: tuple[str, ...]
    trend_terms: tuple[str, ...]
    effect_terms: tuple[str, ...]  # set to zero for the counterfactual (level and trend terms of the effect)


def _seasonal(time: np.ndarray, period: int | None, terms: str, harmonics: int | None):
    cols, names = [], []
    if period is None:
        return cols, names
    if terms == "fourier":
        for j in range(1, (harmonics or 2) + 1):
            arg = 2.0 * np.pi * j * time / period
            if 2 * j != period:
                cols.append(np.sin(arg))
                names.append(f"sin_{j}")
            cols.append(np.cos(arg))
            names.append(f"cos_{j}")
    else:
        season = (time.astype(int) - 1) % period + 1
        for s in range(2, period + 1):
            cols.append((season == s).astype(float))
            names.append(f"season_{s}")
    return cols, names


def segment_names(k: int, n: int) -> tuple[str, str]:
    """The level and trend term of interruption k (0-based) of n."""
    return ("level", "trend") if n == 1 else (f"level_{k + 1}", f"trend_{k + 1}")


def segmented_design(time, interruptions, *, period: int | None = None, terms: str = "fourier",
                     harmonics: int | None = None, group=None, covariates=None,
                     covariate_names=()) -> SegmentedDesign:
    """The columns of the segmented regression (names as the R reference scripts give them).

    ``time``: the 1-based period index of each row (shared by every series); ``interruptions``: the period index
    at which each post segment begins; ``group``: None for one series, else 1 for the interrupted series' rows and
    0 for the comparison's; ``covariates``: an (n, m) array entered once, not interacted.
    """
    time = np.asarray(time, float)
    n = len(time)
    base_cols, base_names = [np.ones(n), time], ["(Intercept)", "time"]
    levels, trends = [], []
    for k, t0 in enumerate(interruptions):
        lname, tname = segment_names(k, len(interruptions))
        lev = (time >= t0).astype(float)
        base_cols += [lev, (time - t0) * lev]
        base_names += [lname, tname]
        levels.append(lname)
        trends.append(tname)
    scols, snames = _seasonal(time, period, terms, harmonics)
    cols, names = base_cols + scols, base_names + snames
    effect = tuple(levels) + tuple(trends)
    if group is not None:
        g = np.asarray(group, float)
        gcols = [g] + [g * c for c in cols[1:]]
        gnames = ["group"] + [f"group_{nm}" for nm in names[1:]]
        cols, names = cols + gcols, names + gnames
        levels = [f"group_{nm}" for nm in levels]
        trends = [f"group_{nm}" for nm in trends]
        effect = tuple(levels) + tuple(trends)
    if covariates is not None and len(covariate_names):
        C = np.asarray(covariates, float).reshape(n, -1)
        cols += [C[:, j] for j in range(C.shape[1])]
        names += list(covariate_names)
    return SegmentedDesign(np.column_stack(cols), tuple(names), tuple(levels), tuple(trends), effect)


@dataclass(frozen=True)
class Combination:
    """A linear combination ``a' beta`` of the coefficients, or a ratio ``a' beta / c' beta`` (delta method)."""

    term: str
    description: str
    a: np.ndarray
    c: np.ndarray | None = None

    def value(self, beta: np.ndarray, V: np.ndarray) -> tuple[float, float]:
        """The estimate and its standard error: exact for a linear combination, the delta method for a ratio."""
        num = float(self.a @ beta)
        if self.c is None:
            return num, float(np.sqrt(self.a @ V @ self.a))
        den = float(self.c @ beta)
        grad = self.a / den - num * self.c / den**2
        return num / den, float(np.sqrt(grad @ V @ grad))


def counterfactual_rows(design: SegmentedDesign, rows: np.ndarray) -> np.ndarray:
    """The design rows with the effect terms set to zero: the fitted line without the interruption."""
    Xc = design.X[rows].copy()
    idx = [design.names.index(t) for t in design.effect_terms]
    Xc[:, idx] = 0.0
    return Xc


def effect_combinations(design: SegmentedDesign, post: np.ndarray) -> tuple[Combination, ...]:
    """The average and cumulative effect over the post-interruption rows of the interrupted series (``post``: row
    indices), relative to the counterfactual trend, and the average effect as a share of the counterfactual mean.

    At period t the effect is ``sum_k [c_k + d_k (t - t_k)] 1[t >= t_k]``: the design row's effect terms times
    their coefficients, so the average over the post period is ``a' beta`` with ``a`` the mean of those rows
    (other columns zero) and the cumulative effect ``len(post)`` times it.
    """
    X = design.X[post]
    eff = np.zeros_like(X)
    idx = [design.names.index(t) for t in design.effect_terms]
    eff[:, idx] = X[:, idx]
    a = eff.mean(axis=0)
    cf = counterfactual_rows(design, post).mean(axis=0)
    m = len(post)
    return (Combination("average_effect", f"average effect over the {m} post-interruption periods", a),
            Combination("cumulative_effect", f"cumulative effect over the {m} post-interruption periods", a * m),
            Combination("relative_effect", "average effect as a share of the average counterfactual "
                                           "(delta method)", a, cf))
