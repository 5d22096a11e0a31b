"""Exact matching, coarsened exact matching and propensity-score subclassification, as ``MatchIt::matchit``
(4.5.1) ``method = "exact"``, ``"cem"`` and ``"subclass"``.

Each forms subclasses instead of pairs and weights every unit in a subclass with both groups by
``weights.subclass()``: for the ATT, treated units 1 and controls (treated / controls in their subclass), the
control weights scaled to sum to the number of controls kept; for the ATC the mirror image; for the ATE each
unit (subclass size / its group's count in the subclass), scaled within each group.  Subclass numbers follow
MatchIt's order so the ids equal R's.
"""

from __future__ import annotations

import math
from typing import Literal, Mapping, Sequence

import numpy as np
import pandas as pd

from causalspec.errors import DataError, SpecError
from causalspec.estimators._mahalanobis import r_sum
from causalspec.estimators._matching import (
    Matching,
    _covariate_matrix,
    fit_score,
    model_variables,
    unit_labels,
)
from causalspec.formula._evaluate import Factor

__all__ = ["match_exact", "match_cem", "match_subclass", "subclass_weights", "format_keys", "quantile7"]

Estimand = Literal["ATT", "ATC", "ATE"]


def format_keys(x: np.ndarray) -> list[str]:
    """The text ``format(x)`` gives each number (R's ``formatReal`` with 7 significant digits): fixed notation
    with the common number of decimals, or scientific when that is narrower.  ``exactify()`` compares units by
    this text, so numbers equal to 7 significant digits in the common format fall in one stratum."""
    x = np.asarray(x, dtype=float)
    rgt, mxsl, mxns, mxe, mne, neg, mxl = 0, 1, 1, -10**6, 10**6, 0, -10**6
    for v in x[np.isfinite(x)]:
        if v == 0:
            kp, nsig, widens, neg_i = 0, 1, False, 0
        else:
            neg_i = int(v < 0)
            mant, exp = f"{abs(v):.6e}".split("e")
            kp = int(exp)
            nsig = max(1, len(mant.replace(".", "").rstrip("0")))
            widens = 0 < kp and abs(v) < 10.0 ** kp  # rounding to 7 digits reached the next power of ten
        left = kp + 1 - int(widens)
        rgt, mxl = max(rgt, nsig - left), max(mxl, left)
        mxsl, mxns = max(mxsl, neg_i + (1 if left <= 0 else left)), max(mxns, nsig)
        mxe, mne, neg = max(mxe, kp), min(mne, kp), max(neg, neg_i)
    if mxl < 0:
        mxsl = 1 + neg
    rgt = max(rgt, 0)
    width_fixed = neg + mxsl + rgt + (rgt != 0)
    e = 2 if (mxe >= 100 or mne <= -99) else 1
    width_sci = neg + (mxns - 1 > 0) + (mxns - 1) + 4 + e
    if width_fixed <= width_sci:
        return [f"{v:.{rgt}f}" for v in x]
    return [f"{v:.{mxns - 1}e}" for v in x]


def _strata(columns: Sequence[tuple[str, np.ndarray | Factor]]) -> list[str]:
    """``exactify(X)``: each unit's values pasted together, numbers as ``format()`` writes them."""
    parts = []
    for _, v in columns:
        if isinstance(v, Factor):
            parts.append([v.levels[c] for c in v.codes])
        elif np.all(v == np.round(v)) and np.all(np.abs(v) < 2**31):
            parts.append([str(int(c)) for c in v])  # bins and integer columns: R formats integers exactly
        else:
            parts.append(format_keys(v))
    return ["|".join(p) for p in zip(*parts)]


def _common(keys: list[str], groups: list[np.ndarray]) -> list[str]:
    """``Reduce(intersect, ...)`` over the groups' keys: the first group's keys, in their order of
    appearance, that every other group has too."""
    first = list(dict.fromkeys(keys[i] for i in groups[0]))
    others = [set(keys[i] for i in g) for g in groups[1:]]
    return [k for k in first if all(k in o for o in others)]


def subclass_weights(sub: np.ndarray, treat: np.ndarray, estimand: Estimand) -> np.ndarray:
    """``MatchIt:::weights.subclass``: stratification weights from subclasses (0 = in none, weight 0).

    Matches ``weights.subclass(psclass, treat, estimand)``; Hong (2010), J. Educ. Behav. Stat. 35:499 (marginal
    mean weighting through stratification).
    """
    t = np.asarray(treat).astype(int)
    k = int(sub.max()) if sub.size else 0
    i1, i0 = (t == 1) & (sub > 0), (t == 0) & (sub > 0)
    n_t = np.bincount(sub[i1], minlength=k + 1).astype(float)
    n_c = np.bincount(sub[i0], minlength=k + 1).astype(float)
    w = np.zeros(len(t))
    with np.errstate(divide="ignore", invalid="ignore"):
        if estimand == "ATT":
            w[i1] = 1.0
            w[i0] = (n_t / n_c)[sub[i0]]
            w[i0] = w[i0] * i0.sum() / r_sum(w[i0])
        elif estimand == "ATC":
            w[i1] = (n_c / n_t)[sub[i1]]
            w[i0] = 1.0
            w[i1] = w[i1] * i1.sum() / r_sum(w[i1])
        else:
            total = n_t + n_c
            w[i1] = (total / n_t)[sub[i1]]
            w[i0] = (total / n_c)[sub[i0]]
            w[i1] = w[i1] * i1.sum() / r_sum(w[i1])
            w[i0] = w[i0] * i0.sum() / r_sum(w[i0])
    if not (w[t == 1] > 0).any() or not (w[t == 0] > 0).any():
        raise DataError("no treated or no control units were matched (no subclass holds both).", loc="matching",
                        fix="Match on fewer covariates, coarsen them more, or use method nearest.")
    return w


def _result(formula: str, data: pd.DataFrame, labels, treat, sub, estimand, method, *, distance=None, ps=None,
            kind=None, q_cut=None, notes=()) -> Matching:
    w = subclass_weights(sub, treat, estimand)
    return Matching(labels, treat, distance, None, w, sub, 1, False, None, None, np.zeros(len(treat), dtype=bool),
                    ps, _covariate_matrix(formula, data), tuple(notes), method, estimand, kind, (),
                    q_cut)


def _treat(formula: str, data: pd.DataFrame) -> np.ndarray:
    lhs = formula.split("~", 1)[0].strip().strip("`")
    t = np.asarray(data[lhs], dtype=float)
    if not np.all(np.isin(t, (0.0, 1.0))) or len(np.unique(t)) != 2:
        raise DataError("the treatment must be coded 0/1 with both values present.", loc="treatment",
                        fix="Recode the treatment as 0 (control) and 1 (treated).")
    return t.astype(int)


def _number(keys: list[str], common: list[str]) -> np.ndarray:
    pos = {k: i + 1 for i, k in enumerate(common)}
    return np.array([pos.get(k, 0) for k in keys], dtype=int)


def match_exact(formula: str, data: pd.DataFrame, *, id_column: str | None = None,
                estimand: Estimand = "ATT") -> Matching:
    """Exact matching: a subclass per covariate pattern present in both groups; the other units get weight 0.

    Matches ``MatchIt::matchit(formula, data, method = "exact", estimand)`` (4.5.1); Iacus, King & Porro (2012),
    Political Analysis 20:1 (exact matching as the limit of coarsening).
    """
    labels = unit_labels(data, id_column)
    treat = _treat(formula, data)
    cols = model_variables(formula, data)
    if not cols:
        raise SpecError("exact matching needs covariates.", loc="design.matching.method",
                        fix="Adjust for at least one variable, or use another method.")
    keys = _strata(cols)
    groups = [np.flatnonzero(treat == g) for g in dict.fromkeys(treat.tolist())]  # unique(treat): data order
    common = _common(keys, groups)
    if not common:
        raise DataError("no exact matches were found (no covariate pattern occurs in both groups).",
                        loc="design.matching.method", fix="Match on fewer covariates, or use method cem.")
    return _result(formula, data, labels, treat, _number(keys, common), estimand, "exact")


def _breaks(x: np.ndarray, spec) -> np.ndarray | None:
    """``cem_matchit``'s bins for one numeric covariate: None for no coarsening (0), else the break points."""
    if isinstance(spec, (list, tuple)):
        return np.concatenate([[-math.inf], np.unique(np.asarray(spec, dtype=float)), [math.inf]])
    bins = math.ceil(math.log2(len(x)) + 1) if spec in (None, "sturges") else int(spec)
    lo, hi = float(np.min(x)), float(np.max(x))
    if bins + 1 <= 2:
        inner = np.array([], dtype=float)
    elif lo == hi:
        inner = np.full(bins - 1, lo)
    else:  # seq(lo, hi, length.out = bins + 1): lo + (1:(bins - 1)) * ((hi - lo) / bins)
        inner = lo + np.arange(1, bins) * ((hi - lo) / bins)
    return np.concatenate([[-math.inf], inner, [math.inf]])


def match_cem(formula: str, data: pd.DataFrame, *, id_column: str | None = None, estimand: Estimand = "ATT",
              cutpoints: Mapping[str, int | Sequence[float]] | None = None) -> Matching:
    """Coarsened exact matching: numeric covariates binned, then exact matching on the bins (and factors).

    Matches ``MatchIt::matchit(formula, data, method = "cem", estimand, cutpoints)`` (4.5.1, ``k2k = FALSE``);
    Iacus, King & Porro (2012), Political Analysis 20:1.  ``cutpoints`` maps a numeric covariate to a number of
    equal-width bins (0: not coarsened; 1: left out) or to its cut points; every other numeric covariate gets
    Sturges' number of bins, ``ceiling(log2(n) + 1)``, over its range.
    """
    labels = unit_labels(data, id_column)
    treat = _treat(formula, data)
    cols = model_variables(formula, data)
    if not cols:
        raise SpecError("coarsened exact matching needs covariates.", loc="design.matching.method",
                        fix="Adjust for at least one variable, or use another method.")
    cutpoints = dict(cutpoints or {})
    names = [n for n, _ in cols]
    for name, spec in cutpoints.items():
        if name not in names:
            raise SpecError(f"cutpoints names {name!r}, which is not a covariate of the matching model {names}.",
                            loc=f"design.matching.cutpoints.{name}", fix="Name a numeric adjustment variable.")
        if isinstance(dict(cols)[name], Factor):
            raise SpecError(f"{name!r} is a factor; factors are matched exactly, not coarsened.",
                            loc=f"design.matching.cutpoints.{name}", fix=f"Remove {name} from cutpoints.")
    coarse = []
    for name, v in cols:
        spec = cutpoints.get(name)
        if isinstance(v, Factor) or spec == 0:
            coarse.append((name, v))
        elif spec != 1:
            coarse.append((name, np.searchsorted(_breaks(v, spec), v, side="right").astype(float)))  # findInterval
    keys = _strata(coarse)
    groups = [np.flatnonzero(treat == 0), np.flatnonzero(treat == 1)]  # split(xx, treat): level order
    common = _common(keys, groups)
    if not common:
        raise DataError("no units were matched: no coarsened stratum holds both treated and control units.",
                        loc="design.matching.cutpoints", fix="Coarsen the covariates further (fewer bins).")
    return _result(formula, data, labels, treat, _number(keys, common), estimand, "cem")


def quantile7(x: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """``quantile(x, probs, type = 7)`` with R's arithmetic: (1 - h) x[lo] + h x[hi]."""
    xs = np.sort(np.asarray(x, dtype=float))
    n = len(xs)
    index = 1 + max(n - 1, 0) * np.asarray(probs, dtype=float)
    lo, hi = np.floor(index).astype(int), np.ceil(index).astype(int)
    qs = xs[lo - 1].copy()
    i = (index > lo) & (xs[hi - 1] != qs)
    h = (index - lo)[i]
    qs[i] = (1 - h) * qs[i] + h * xs[hi[i] - 1]
    return qs


def _scoot(sub: np.ndarray, treat: np.ndarray, x: np.ndarray, min_n: int = 1) -> np.ndarray:
    """``MatchIt:::subclass_scoot``: move units from neighbouring subclasses into any subclass that lacks a
    group (the nearer side with more units to spare gives, its extreme unit moves)."""
    values = sorted(set(sub.tolist()))
    nsub = len(values)
    sub = np.array([values.index(s) + 1 for s in sub], dtype=int)
    groups = list(dict.fromkeys(treat.tolist()))
    if any((treat == g).sum() < nsub * min_n for g in groups):
        raise DataError("not enough units to put treated and control units in each subclass.",
                        loc="design.matching.subclasses", fix="Ask for fewer subclasses.")
    for g in groups:
        if (treat == g).sum() == nsub:
            sub[treat == g] = np.arange(1, nsub + 1)
    tab = {g: np.array([0] + [int(((treat == g) & (sub == s)).sum()) for s in range(1, nsub + 1)]) for g in groups}
    if not any((tab[g][1:] < min_n).any() for g in groups):
        return sub
    soft = lambda v: np.maximum(v - 1, 0)  # noqa: E731
    for g in groups:
        for _ in range(min_n):
            while (tab[g][1:] == 0).any():
                first0 = int(np.flatnonzero(tab[g][1:] == 0)[0]) + 1
                left_side = first0 == nsub
                if not left_side and first0 != 1:
                    lefts, rights = np.arange(1, first0), np.arange(first0 + 1, nsub + 1)
                    left_side = (np.sum(soft(tab[g][lefts]) / np.abs(first0 - lefts))
                                 >= np.sum(soft(tab[g][rights]) / np.abs(first0 - rights)))
                if left_side:
                    src = max(s for s in range(1, first0) if tab[g][s] > 0)
                    pool = (treat == g) & (sub == src)
                    mover = int(np.flatnonzero((x == x[pool].max()) & pool)[0])
                else:
                    src = min(s for s in range(first0 + 1, nsub + 1) if tab[g][s] > 0)
                    pool = (treat == g) & (sub == src)
                    mover = int(np.flatnonzero((x == x[pool].min()) & pool)[0])
                sub[mover] = first0
                tab[g][first0] = 1
                tab[g][src] -= 1
            tab[g] = tab[g] - 1
    return sub


def match_subclass(formula: str, data: pd.DataFrame, *, id_column: str | None = None, estimand: Estimand = "ATT",
                   subclasses: int = 6, distance: Literal["glm", "linear.logit"] = "glm",
                   link: str = "logit") -> Matching:
    """Subclassification on the propensity score: ``subclasses`` strata cut at the quantiles of the score (of the
    treated for the ATT, the controls for the ATC, everyone for the ATE), each guaranteed both groups.

    Matches ``MatchIt::matchit(formula, data, method = "subclass", distance, subclass, estimand)`` (4.5.1);
    Rosenbaum & Rubin (1984), JASA 79:516.
    """
    if subclasses < 2:
        raise SpecError(f"subclasses must be at least 2, not {subclasses}.", loc="design.matching.subclasses",
                        fix="Use MatchIt's default 6, or another number above 1.")
    labels = unit_labels(data, id_column)
    ps = fit_score(formula, data, link)
    treat = ps.treat
    dist = ps.score if distance == "glm" else ps.linear_predictor
    probs = np.concatenate([[0.0], np.arange(1, subclasses) * (1.0 / subclasses), [1.0]])
    basis = {"ATT": dist[treat == 1], "ATC": dist[treat == 0]}.get(estimand, dist)
    q = quantile7(basis, probs)
    sub = np.clip(np.searchsorted(q, dist, side="right"), 1, len(q) - 1)  # findInterval(all.inside = TRUE)
    notes = list(ps.notes)
    if len(np.unique(sub)) != subclasses:
        notes.append("Due to discreteness in the distance measure, fewer subclasses were generated than were "
                     "requested (MatchIt warns the same).")
    present = sorted(set(sub.tolist()))
    full = all(((treat == g) & (sub == s)).any() for g in (0, 1) for s in present)
    if not full:
        sub = _scoot(sub, treat, dist)
    values = sorted(set(sub.tolist()))
    sub = np.array([values.index(s) + 1 for s in sub], dtype=int)
    return _result(formula, data, labels, treat, sub, estimand, "subclass", distance=dist, ps=ps, kind=distance,
                   q_cut=tuple(float(v) for v in q), notes=notes)
