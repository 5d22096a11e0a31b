"""Covariate balance of a weighted sample as ``cobalt::bal.tab`` reports it (cobalt 4.x / 5.0 formulas): mean
differences, variance ratios and Kolmogorov-Smirnov statistics before and after weighting, and effective sample
sizes -- for inverse-probability weighting (matching reports MatchIt's ``summary()``, :mod:`._balance`).

cobalt is not in Debian, so the formulas are those of its source (``R/balance-summary.R``: ``col_w_smd``,
``col_w_vr``, ``col_w_ks``; ``R/utils.R``: ``col.w.v``), checked against MatchIt's ``bal1var``, which computes the
same statistics for continuous covariates (``tools/rparity/build_matching_methods.R``, case
``matching_lalonde_weighting_balance``):

* ``Diff``: weighted mean of the treated minus that of the controls; for a continuous covariate divided by the
  standardisation factor of the **unweighted** sample chosen by the estimand (cobalt's ``s.d.denom``): the
  treated units' SD for the ATT, the controls' for the ATC, and for the ATE ``sqrt((var_treated +
  var_control) / 2)`` ("pooled"); binary covariates (two distinct values) are left raw (cobalt's default
  ``binary = "raw"``: a difference in proportions).  A difference below sqrt(machine epsilon) is not divided.
* ``V.Ratio``: weighted variance of the treated over that of the controls, continuous covariates only; the
  weighted variance is ``sum(w (x - m)^2) / (1 - sum(w^2))`` with w normalised to sum to 1 (cobalt's
  ``col.w.v``; the sample variance without weights).
* ``KS``: the largest difference between the two weighted empirical CDFs; for a binary covariate the absolute
  difference in proportions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from causalspec.estimators._matching import model_variables
from causalspec.formula._evaluate import Factor

__all__ = ["WeightedBalance", "weighted_balance", "cobalt_covariates", "BALANCE_STATS"]

BALANCE_STATS = ("Type", "M.1.Un", "M.0.Un", "Diff.Un", "V.Ratio.Un", "KS.Un", "M.1.Adj", "M.0.Adj", "Diff.Adj",
                 "V.Ratio.Adj", "KS.Adj")
_SQRT_EPS = math.sqrt(np.finfo(float).eps)
_DENOM = {"ATT": "treated", "ATC": "control", "ATE": "pooled", "ATO": "pooled"}  # cobalt's s.d.denom defaults


def cobalt_covariates(formula: str, data: pd.DataFrame) -> pd.DataFrame:
    """The covariates of ``bal.tab(formula, data)``: each right-hand-side variable; a factor split into one
    indicator per level named ``variable_level`` (a two-level factor: the second level only, cobalt's
    ``drop.first = "if2"``)."""
    out: dict[str, np.ndarray] = {}
    for label, v in model_variables(formula, data):
        if isinstance(v, Factor):
            levels = list(enumerate(v.levels))
            for i, level in levels[1:] if len(levels) == 2 else levels:
                out[f"{label}_{level}"] = (v.codes == i).astype(float)
        else:
            out[label] = v
    return pd.DataFrame(out, index=data.index)


def _is_binary(x: np.ndarray) -> bool:
    return len(np.unique(x)) == 2


def _var(x: np.ndarray, w: np.ndarray | None, binary: bool) -> float:
    """cobalt's ``col.w.v``: reliability-weighted variance (sample variance unweighted); p(1-p) for binary."""
    w = np.ones(len(x)) if w is None else np.asarray(w, dtype=float)
    w = w / w.sum()
    m = float(np.sum(w * x))
    if binary:
        return m * (1.0 - m)
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.sum(w * (x - m) ** 2) / (1.0 - np.sum(w**2)))


def _ks(x: np.ndarray, t: np.ndarray, w: np.ndarray) -> float:
    """``col_w_ks``: max |F_treated(x) - F_control(x)| of the weighted eCDFs, over the distinct values."""
    w_ = np.where(t == 1, w / w[t == 1].sum(), -w / w[t == 0].sum())
    o = np.argsort(x, kind="stable")
    cum = np.abs(np.cumsum(w_[o]))[np.append(np.diff(x[o]) != 0, True)]
    return float(cum.max()) if cum.size else 0.0


def _stats(x: np.ndarray, t: np.ndarray, w: np.ndarray | None, binary: bool, denom: float) -> list[float]:
    ww = np.ones(len(x)) if w is None else np.asarray(w, dtype=float)
    m1 = float(np.sum(x[t == 1] * ww[t == 1]) / np.sum(ww[t == 1]))
    m0 = float(np.sum(x[t == 0] * ww[t == 0]) / np.sum(ww[t == 0]))
    diff = m1 - m0
    if not binary and abs(diff) >= _SQRT_EPS:
        diff = diff / denom
    if binary:
        return [m1, m0, diff, math.nan, abs(m1 - m0)]
    with np.errstate(divide="ignore", invalid="ignore"):
        vr = float(np.float64(_var(x[t == 1], ww[t == 1], False)) / np.float64(_var(x[t == 0], ww[t == 0], False)))
    return [m1, m0, diff, vr, _ks(x, t, ww)]


def _ess(w: np.ndarray) -> float:
    return float(w.sum() ** 2 / np.sum(w**2)) if np.sum(w**2) > 0 else 0.0


@dataclass(frozen=True)
class WeightedBalance:
    """``bal.tab(..., stats = c("m", "v", "ks"), un = TRUE, disp = "means")``: one row per covariate (the
    propensity score first, as ``prop.score``, when given), and the effective sample sizes."""

    table: pd.DataFrame
    sample_sizes: pd.DataFrame
    estimand: str
    s_d_denom: str

    def records(self, when: Literal["before", "after"]) -> list[dict]:
        """The table as JSON records of one side (``Un`` before, ``Adj`` after), for ``result.extras`` and the
        love plot: ``diff`` is cobalt's Diff (standardised for continuous covariates, raw for binary ones)."""
        sfx = "Un" if when == "before" else "Adj"

        def num(v):
            return None if v is None or (isinstance(v, float) and not math.isfinite(v)) else float(v)

        return [{"covariate": str(name), "type": r["Type"], "mean_treated": num(r[f"M.1.{sfx}"]),
                 "mean_control": num(r[f"M.0.{sfx}"]), "diff": num(r[f"Diff.{sfx}"]),
                 "standardized": r["Type"] != "Binary", "var_ratio": num(r[f"V.Ratio.{sfx}"]),
                 "ks": num(r[f"KS.{sfx}"])} for name, r in self.table.iterrows()]

    def extras(self) -> dict:
        """What a weighting fitter adds to ``Fit.extras`` (JSON types; the love plot reads these keys)."""
        return {"balance_before": self.records("before"), "balance_after": self.records("after"),
                "balance_method": f"cobalt::bal.tab formulas: Diff standardised by the unweighted {self.s_d_denom} "
                                  f"SD ({self.estimand}; binary covariates raw), variance ratios, KS",
                "balance_sample_sizes": {str(k): {str(g): float(v) for g, v in r.items()}
                                         for k, r in self.sample_sizes.iterrows()}}


def weighted_balance(covariates: pd.DataFrame, treat: np.ndarray, weights: np.ndarray, *,
                     estimand: Literal["ATT", "ATC", "ATE", "ATO"] = "ATE",
                     score: np.ndarray | None = None) -> WeightedBalance:
    """Balance before and after weighting, as ``cobalt::bal.tab(covs, treat, weights, method = "weighting",
    estimand, stats = c("m", "v", "ks"), un = TRUE)``; Austin & Stuart (2015), Statistics in Medicine 34:3661.

    Parameters
    ----------
    covariates : numeric columns, one per covariate (:func:`cobalt_covariates` builds them from a formula).
    treat : 0/1 per row.  weights : the weights per row (IPW: 1/e and 1/(1-e) for the ATE, 1 and e/(1-e) for the
        ATT).  score : the propensity score, reported first as ``prop.score`` (a "Distance" row).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> X = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0]})
    >>> b = weighted_balance(X, np.array([1, 0, 1, 0]), np.ones(4))
    >>> round(float(b.table.loc["x", "Diff.Un"]), 4)
    -0.7071
    """
    t = np.asarray(treat).astype(int)
    w = np.asarray(weights, dtype=float)
    X = covariates
    if score is not None:
        X = pd.concat([pd.DataFrame({"prop.score": np.asarray(score, float)}, index=covariates.index), covariates],
                      axis=1)
    denom_kind = _DENOM[estimand]
    rows, index = [], []
    for name in X.columns:
        x = np.asarray(X[name], dtype=float)
        binary = _is_binary(x) and name != "prop.score"
        if binary:  # cobalt binarises a two-valued covariate: 1 for the larger value
            x = (x == x.max()).astype(float)
        v1, v0 = _var(x[t == 1], None, binary), _var(x[t == 0], None, binary)
        denom = math.sqrt({"treated": v1, "control": v0, "pooled": (v1 + v0) / 2}[denom_kind])
        kind = "Distance" if name == "prop.score" else "Binary" if binary else "Contin."
        rows.append([kind, *_stats(x, t, None, binary, denom), *_stats(x, t, w, binary, denom)])
        index.append(name)
    table = pd.DataFrame(rows, index=index, columns=list(BALANCE_STATS))
    sizes = pd.DataFrame({"Control": [float((t == 0).sum()), _ess(w[t == 0])],
                          "Treated": [float((t == 1).sum()), _ess(w[t == 1])]}, index=["Unadjusted", "Adjusted"])
    return WeightedBalance(table, sizes, estimand, denom_kind)
