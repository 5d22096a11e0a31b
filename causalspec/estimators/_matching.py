"""Greedy nearest-neighbour propensity-score matching, as ``MatchIt::matchit(method = "nearest")``.

The algorithm is MatchIt 4.5.1's (``nn_matchC_vec``): all units are sorted by
the distance (a stable sort, so equal distances keep data order); treated
units are visited in ``m.order`` (default: largest distance first), and each
takes the closest still-available control found by walking left and right in
that sorted order, preferring the left one when both are equally close.  This
fixes how exact ties are broken, so matched sets are identical to MatchIt's.
Weights, subclasses and the balance table follow MatchIt's conventions
(``summary.matchit``); the effect is the weighted regression on the matched data.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from causalspec.estimators._balance import BALANCE_COLUMNS, balance_table, sample_sizes  # noqa: F401
from causalspec.errors import DataError, SpecError, UnsupportedError
from causalspec.formula._evaluate import Factor, evaluate
from causalspec.estimators._propensity import PropensityModel, fit_propensity, r_summary
from causalspec.formula._terms import variable_nodes
from causalspec.formula._parse import parse_formula

__all__ = [
    "Matching",
    "nearest_neighbor",
    "match_nearest",
    "matching_weights",
    "mm_subclass",
    "balance_table",
    "sample_sizes",
    "distance_summaries",
    "BALANCE_COLUMNS",
]

MOrder = Literal["largest", "smallest", "data", "random"]
_SQRT_EPS = math.sqrt(np.finfo(float).eps)
_INT_MAX = 2**31 - 1


def _int_abs(x: float) -> float:
    """``abs()`` as MatchIt 4.5.1's C++ evaluates it on a double: converted to int, so truncated."""
    return float(min(int(abs(x)), _INT_MAX))


def nearest_neighbor(distance: np.ndarray, treat: np.ndarray, *, ratio: int = 1, reuse_max: int = 1,
                     caliper: float | None = None, order: np.ndarray | None = None,
                     discarded: np.ndarray | None = None,
                     algorithm: Literal["matchit-4.5.1", "exact"] = "matchit-4.5.1") -> np.ndarray:
    """Greedy nearest-neighbour matching on a scalar distance.

    Matches MatchIt 4.5.1's ``nn_matchC_vec`` (used by ``matchit(method = "nearest")`` when
    matching on a propensity score); Rubin (1973), Biometrics 29:159.

    Parameters
    ----------
    distance, treat : (n,) arrays; ``treat`` is 1 for the focal group.
    ratio : controls per treated unit.
    reuse_max : times a control may be used (1 = without replacement; large = with replacement).
    caliper : maximum |distance difference| in distance units, or None.
    order : the treated units' visiting order, as positions 0..n1-1 among the treated (data order).
    discarded : (n,) bool; discarded units are neither matched nor used.
    algorithm : "matchit-4.5.1" reproduces MatchIt 4.5.1 bit for bit: its C++ compares
        ``abs()`` of distance differences after conversion to int, so differences below 1
        all count as 0 -- the lower-distance neighbour always wins, and a caliper on a
        propensity score is never enforced (kosukeimai/MatchIt#163); and for ``ratio > 1`` it
        skips, instead of the controls already matched to a treated unit, the data rows just
        after them (so with replacement a control can fill several slots of one treated unit).
        "exact" compares the real differences (the intended algorithm).

    Returns
    -------
    (n1, ratio) int array of matched control row indices (data order), -1 where unmatched.
    """
    d = np.asarray(distance, dtype=float)
    t = np.asarray(treat).astype(int)
    n = len(d)
    disc = np.zeros(n, dtype=bool) if discarded is None else np.asarray(discarded, dtype=bool)
    treated_rows = np.flatnonzero(t == 1)
    n1 = len(treated_rows)
    order = np.arange(n1) if order is None else np.asarray(order, dtype=int)
    mm = np.full((n1, ratio), -1, dtype=int)
    # sort.list(distance): stable ascending, so ties stay in data order
    d_ord = np.argsort(d, kind="stable")
    pos_of = np.empty(n, dtype=int)
    pos_of[d_ord] = np.arange(n)
    ds = d[d_ord]
    # sorted positions of controls still available, kept sorted for bisection
    avail = [int(p) for p in range(n) if t[d_ord[p]] == 0 and not disc[d_ord[p]]]
    times = np.zeros(n, dtype=int)
    absd = _int_abs if algorithm == "matchit-4.5.1" else abs
    if not avail:
        return mm
    for r in range(ratio):
        for i in order:
            row = int(i)
            unit = treated_rows[row]
            if disc[unit]:
                continue
            ii = pos_of[unit]
            dti = ds[ii]
            if algorithm == "matchit-4.5.1":
                # MatchIt 4.5.1 compares 0-based candidates with the 1-based ids stored in the row, so
                # it skips the unit *after* each control already matched to this treated unit.
                taken = set(int(pos_of[c + 1]) for c in mm[row, :r] if 0 <= c < n - 1)
            else:
                taken = set(int(pos_of[c]) for c in mm[row, :r] if c >= 0)
            j = bisect.bisect_left(avail, ii)
            k_left = k_right = -1
            jl = j - 1
            while jl >= 0:
                k = avail[jl]
                if k in taken:
                    jl -= 1
                    continue
                if caliper is not None and absd(dti - ds[k]) > caliper:
                    break
                k_left = k
                break
            jr = j
            while jr < len(avail):
                k = avail[jr]
                if k in taken:
                    jr += 1
                    continue
                if caliper is not None and absd(dti - ds[k]) > caliper:
                    break
                k_right = k
                break
            if k_left >= 0 and k_right >= 0:
                k = k_left if absd(ds[k_left] - dti) <= absd(ds[k_right] - dti) else k_right
            elif k_left >= 0:
                k = k_left
            elif k_right >= 0:
                k = k_right
            else:
                continue
            mm[row, r] = d_ord[k]
            times[k] += 1
            if times[k] >= reuse_max:
                del avail[bisect.bisect_left(avail, k)]
                if not avail:
                    return mm
    return mm


def matching_weights(mm: np.ndarray, treat: np.ndarray) -> np.ndarray:
    """Matching weights from a match matrix, as MatchIt's ``weights.matrix``.

    A matched treated unit gets 1; a control gets the sum over its treated
    partners of 1 / (that unit's number of matches); control weights are then
    scaled to sum to the number of matched controls (Stuart 2010, Statistical Science 25:1).
    """
    t = np.asarray(treat).astype(int)
    w = np.zeros(len(t))
    treated_rows = np.flatnonzero(t == 1)
    for row, unit in enumerate(treated_rows):
        got = mm[row][mm[row] >= 0]
        if mm[row, 0] < 0 or len(got) == 0:
            continue
        np.add.at(w, got, 1.0 / len(got))  # a control can fill several slots of one row
        w[unit] += 1.0
    c = t == 0
    total = w[c].sum()
    if total > 0:
        w[c] = w[c] * np.count_nonzero(w[c] > 0) / total
    return w


def mm_subclass(mm: np.ndarray, treat: np.ndarray) -> np.ndarray:
    """Pair (subclass) labels as MatchIt 4.5.1 reports them; 0 for units in no pair.

    Matched treated rows are numbered 1..K in data order; MatchIt's factor then
    relabels each number by its position in the *text* sort of "1".."K" (so with
    K = 185, pair 2 is labelled 98).  Reproduced so the ids equal R's.
    """
    t = np.asarray(treat).astype(int)
    sub = np.zeros(len(t), dtype=int)
    treated_rows = np.flatnonzero(t == 1)
    k = 0
    raw = []
    for row, unit in enumerate(treated_rows):
        if mm[row, 0] < 0:
            continue
        k += 1
        raw.append((unit, mm[row][mm[row] >= 0], k))
    text_rank = {int(s): i + 1 for i, s in enumerate(sorted(str(j) for j in range(1, k + 1)))}
    for unit, ctrls, j in raw:
        sub[unit] = text_rank[j]
        sub[ctrls] = text_rank[j]
    return sub


@dataclass(frozen=True)
class Matching:
    """A matched sample: who was matched to whom, the weights, pairs and the settings used.

    ``match_matrix`` maps each treated unit's label to its matched control labels
    (``None`` for an empty slot), like ``m$match.matrix``; ``weights`` and
    ``subclass`` (0 = not in a pair; None with replacement) are per row of the data.
    """

    labels: tuple[str, ...]
    treat: np.ndarray
    distance: np.ndarray
    mm: np.ndarray
    weights: np.ndarray
    subclass: np.ndarray | None
    ratio: int
    replace: bool
    caliper: float | None
    m_order: str
    discarded: np.ndarray
    propensity: PropensityModel | None = None
    covariates: pd.DataFrame | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def match_matrix(self) -> dict[str, tuple[str | None, ...]]:
        tr = np.flatnonzero(self.treat == 1)
        return {self.labels[u]: tuple(self.labels[c] if c >= 0 else None for c in self.mm[r])
                for r, u in enumerate(tr)}

    @property
    def matched(self) -> np.ndarray:
        """Boolean mask of the rows kept (weight > 0)."""
        return self.weights > 0

    def balance(self, *, standardize: bool = True, pair_dist: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
        """``summary(m)$sum.all`` and ``summary(m)$sum.matched`` (distance row first)."""
        X = self.covariates if self.covariates is not None else pd.DataFrame(index=range(len(self.treat)))
        X = pd.concat([pd.DataFrame({"distance": self.distance}, index=X.index), X], axis=1)
        before = balance_table(X, self.treat, standardize=standardize)
        after = balance_table(X, self.treat, self.weights, subclass=self.subclass,
                              mm=None if self.subclass is not None else self.mm, standardize=standardize,
                              pair_dist=pair_dist)
        return before, after

    def sample_sizes(self) -> pd.DataFrame:
        return sample_sizes(self.treat, self.weights, self.discarded)


def _covariate_matrix(formula: str, data: pd.DataFrame) -> pd.DataFrame:
    """MatchIt's balance covariates: each model-frame variable of the formula's right-hand side, in order
    of appearance, factors expanded to one column per level (``get.covs.matrix``, contrasts = FALSE).

    Interaction terms of the formula are not variables, so (as in MatchIt) they get no row.
    """
    parsed = parse_formula(formula)
    columns = {str(c): c for c in data.columns}
    out: dict[str, np.ndarray] = {}
    for label, node in variable_nodes(parsed.rhs, {}).items():
        v = evaluate(node, data, columns)
        if isinstance(v, Factor):
            v = v.drop_unused()
            for i, level in enumerate(v.levels):
                out[label + level] = (v.codes == i).astype(float)
        else:
            for k, sfx in enumerate(v.suffixes):
                out[label + sfx] = np.asarray(v.values[:, k], dtype=float)
    return pd.DataFrame(out, index=data.index)


def match_nearest(formula: str, data: pd.DataFrame, *, id_column: str | None = None, ratio: int = 1,
                  replace: bool = False, caliper: float | None = None, std_caliper: bool = True,
                  m_order: MOrder | None = None, distance: Literal["glm", "linear.logit"] = "glm",
                  discard: Literal["none", "both", "treated", "control"] = "none",
                  seed: int | None = None,
                  algorithm: Literal["matchit-4.5.1", "exact"] = "matchit-4.5.1") -> Matching:
    """Propensity-score nearest-neighbour matching for the ATT.

    Matches ``MatchIt::matchit(formula, data, method = "nearest", distance = "glm")`` (4.5.1);
    Ho, Imai, King & Stuart (2007), Political Analysis 15:199.

    Parameters
    ----------
    formula : ``"treat ~ x1 + x2"``: the propensity model and the balance covariates.
    id_column : column holding unit labels (R's row names); default: the DataFrame index.
    ratio, replace : k:1 matching, with or without replacement.
    caliper : caliper width; in standard deviations of the distance when ``std_caliper``
        (MatchIt: ``caliper * sd(distance)`` over the non-discarded units).
    m_order : treated visiting order; default "largest" (MatchIt's default for a propensity score).
    distance : "glm" matches on the fitted probability (MatchIt's default); "linear.logit" on its logit.
    discard : drop units outside the common support of the distance before matching.
    seed : only for ``m_order="random"`` (numpy Generator; R's order cannot be reproduced).
    algorithm : "matchit-4.5.1" (default) gives MatchIt 4.5.1's matched sets exactly, including its
        integer ``abs()`` (see :func:`nearest_neighbor`); "exact" uses real distance differences.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"t": [1, 1, 0, 0, 0, 0], "x": [1., 2., 0.9, 2.2, 5., 1.5]})
    >>> m = match_nearest("t ~ x", d)
    >>> sorted(m.match_matrix.items())
    [('0', ('5',)), ('1', ('3',))]
    """
    if ratio < 1 or int(ratio) != ratio:
        raise SpecError(f"ratio must be a whole number >= 1, not {ratio!r}.", loc="matching.ratio",
                        fix="Use 1 for pair matching or k for k:1 matching.")
    ps = fit_propensity(formula, data)
    if ps.dropped:
        raise DataError("missing values are not allowed in the treatment or covariates of a matching model "
                        f"({', '.join(f'{k}: {v} row(s)' for k, v in ps.dropped.items())}).", loc="matching.formula",
                        fix="Drop or impute those rows before matching (MatchIt refuses them too).")
    if distance == "glm":
        dist = ps.score
    elif distance == "linear.logit":
        dist = ps.linear_predictor
    else:
        raise UnsupportedError(f"distance {distance!r} is not implemented.", loc="matching.distance",
                               fix="Use 'glm' (propensity score) or 'linear.logit'.")
    treat = ps.treat
    labels = tuple(str(v) for v in (data[id_column] if id_column else data.index))
    if len(set(labels)) != len(labels):
        raise DataError("unit labels are not unique.", loc=id_column or "index",
                        fix="Pass an id_column whose values identify each row once.")
    disc = _discard(dist, treat, discard)
    n1 = int(treat.sum())
    reuse_max = _INT_MAX if replace else 1
    cal = None
    if caliper is not None:
        if not caliper > 0:
            raise SpecError(f"caliper must be positive, not {caliper!r}.", loc="matching.caliper",
                            fix="Use for example 0.2 (standard deviations of the distance).")
        cal = float(caliper * np.std(dist[~disc], ddof=1)) if std_caliper else float(caliper)
    order_name = "data" if reuse_max >= n1 else (m_order or "largest")
    dt = dist[treat == 1]
    if order_name == "largest":
        order = np.argsort(-dt, kind="stable")
    elif order_name == "smallest":
        order = np.argsort(dt, kind="stable")
    elif order_name == "random":
        order = np.random.default_rng(seed).permutation(n1)
    elif order_name == "data":
        order = np.arange(n1)
    else:
        raise SpecError(f"unknown m_order {m_order!r}.", loc="matching.m_order",
                        fix="Use largest, smallest, data or random.")
    notes = list(ps.notes)
    n0_avail = int(((treat == 0) & ~disc).sum())
    if not replace and n0_avail < n1 * ratio:
        notes.append(f"only {n0_avail} controls for {n1} treated units at ratio {ratio}: "
                     "not every treated unit gets all its matches (MatchIt warns the same).")
    if cal is not None and algorithm == "matchit-4.5.1" and np.ptp(dist) < 1.0:
        notes.append("caliper: MatchIt 4.5.1 compares distance differences as integers, so a caliper on "
                     "the propensity-score scale is not enforced (kosukeimai/MatchIt#163); the match reproduces "
                     "that. Use algorithm='exact' to enforce the caliper.")
    mm = nearest_neighbor(dist, treat, ratio=ratio, reuse_max=reuse_max, caliper=cal, order=order,
                          discarded=disc, algorithm=algorithm)
    w = matching_weights(mm, treat)
    if not (w[treat == 1] > 0).any() or not (w[treat == 0] > 0).any():
        raise DataError("no pairs could be formed (check the caliper and the common support).",
                        loc="matching", fix="Widen the caliper or drop discard.")
    unmatched_t = int(((w == 0) & (treat == 1) & ~disc).sum())
    if unmatched_t:
        why = "within the caliper" if cal is not None else "left to match (each control is used once)"
        notes.append(f"{unmatched_t} treated unit(s) found no control {why} and were dropped.")
    sub = None if replace else mm_subclass(mm, treat)
    return Matching(labels, treat, dist, mm, w, sub, int(ratio), bool(replace), cal, order_name, disc, ps,
                    _covariate_matrix(formula, data), tuple(notes))


def _discard(dist: np.ndarray, treat: np.ndarray, rule: str) -> np.ndarray:
    """MatchIt's ``discard``: drop units whose distance lies outside the other group's range."""
    t = treat == 1
    lo_t, hi_t, lo_c, hi_c = dist[t].min(), dist[t].max(), dist[~t].min(), dist[~t].max()
    out_c = ~t & ((dist < lo_t) | (dist > hi_t))
    out_t = t & ((dist < lo_c) | (dist > hi_c))
    if rule == "none":
        return np.zeros(len(dist), dtype=bool)
    if rule == "both":
        return out_c | out_t
    if rule == "control":
        return out_c
    if rule == "treated":
        return out_t
    raise SpecError(f"unknown discard rule {rule!r}.", loc="matching.discard", fix="Use none, both, treated or control.")


# ------------------------------------------------------------------ balance


def distance_summaries(m: Matching) -> dict[str, dict[str, float]]:
    """``summary()`` of the distance overall and by group."""
    return {"all": r_summary(m.distance), "treated": r_summary(m.distance[m.treat == 1]),
            "control": r_summary(m.distance[m.treat == 0])}


# ------------------------------------------------------------------ effect
