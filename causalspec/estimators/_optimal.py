"""Optimal pair matching and optimal full matching, as ``MatchIt::matchit(method = "optimal" | "full")`` define them.

MatchIt hands both to optmatch (``fullmatch``: a minimum-cost network flow, RELAX-IV, on distances rounded to
integers by its ``tol``).  Here each is solved exactly on the real distances with scipy's rectangular assignment
solver (``scipy.optimize.linear_sum_assignment``, the shortest augmenting path method of Crouse 2016):

* **optimal pair matching** (k:1, without replacement) minimises the total focal-to-match distance over every
  way of giving each focal unit k distinct units of the other arm (the focal rows repeated k times);
* **optimal full matching** (optmatch's defaults ``min.controls = 0, max.controls = Inf``: every unit placed)
  minimises the total treated-control distance over partitions into sets of one treated unit and one or more
  controls or one control and one or more treated units (Rosenbaum 1991, JRSS-B 53:597; Hansen & Klopfer 2006,
  JCGS 15:609).  Such a partition is a minimum-cost edge cover of the bipartite graph, which is a minimum-cost
  matching on the reduced costs ``d_ij - min_k d_ik - min_k d_kj`` plus each remaining unit's nearest partner
  (Schrijver 2003, Combinatorial Optimization, section 19.1).

Where the optimum is unique (generic for continuous distances), that is the matched sample optmatch returns up to
its ``tol``; optmatch's own rounding can return a different near-optimal one (MatchIt advises ``tol = 1e-7``).
"""

from __future__ import annotations

from typing import Literal, Sequence

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist

from causalspec.errors import DataError, UnsupportedError
from causalspec.estimators._mahalanobis import distance_covariates, mahalanobis_transform
from causalspec.estimators._matching import (Matching, _covariate_matrix, exact_strata, fit_score, matching_weights,
                                             mm_subclass, unit_labels)
from causalspec.estimators._subclassify import subclass_weights

__all__ = ["optimal_pairs", "full_subclasses", "match_optimal", "match_full", "MAX_CELLS"]

# the distance matrices are dense: above this many cells (about 0.4 GB of float64) the problem is refused
MAX_CELLS = 50_000_000


def _check(cost: np.ndarray, copies: int = 1) -> np.ndarray:
    cost = np.asarray(cost, dtype=float)
    if cost.ndim != 2 or 0 in cost.shape:
        raise DataError("both arms need units to match.", loc="design.matching",
                        fix="Check the treatment has treated and control units in every exact stratum.")
    if cost.size * copies > MAX_CELLS:
        raise UnsupportedError(
            f"optimal matching needs a dense {cost.shape[0] * copies} x {cost.shape[1]} distance matrix "
            f"({cost.size * copies:,} cells, more than the {MAX_CELLS:,} causalspec builds).",
            loc="design.matching.method", fix="Add design.matching.exact strata (each stratum is solved alone), or "
                                              "use method nearest.")
    if not np.isfinite(cost).all() or (cost < 0).any():
        raise DataError("matching distances must be finite and non-negative.", loc="design.matching",
                        fix="Check the covariates for infinite values.")
    return cost


def optimal_pairs(cost: np.ndarray, ratio: int = 1) -> np.ndarray:
    """Each focal unit's ``ratio`` matches, minimising the total distance (``cost[i, j]``: focal i to unit j).

    Returns the match matrix: row i holds the columns matched to focal unit i, in increasing order; ``-1`` for a
    focal unit left unmatched, which happens only when the other arm has fewer units than the focal one (with
    ``ratio = 1``; MatchIt then matches every unit of the smaller arm and drops the rest, as here).

    >>> optimal_pairs(np.array([[1.0, 2.0], [1.5, 10.0]]))   # greedy would pair row 0 with column 0
    array([[1],
           [0]])
    """
    cost = _check(cost, ratio)
    n1, n0 = cost.shape
    if ratio > 1 and n0 < n1 * ratio:
        raise DataError(f"{n0} units to match {n1} focal units {ratio} times each: optimal {ratio}:1 matching "
                        "without replacement needs ratio x focal units.", loc="design.matching.ratio",
                        fix=f"Lower design.matching.ratio to {max(1, n0 // n1)} or less, or use method full.")
    rows, cols = linear_sum_assignment(np.repeat(cost, ratio, axis=0))
    mm = np.full((n1, ratio), -1, dtype=int)
    for i in range(n1):
        got = np.sort(cols[(rows // ratio) == i])
        mm[i, :len(got)] = got
    return mm


def _star_forest(edges: set[tuple[int, int]], n1: int, n0: int) -> set[tuple[int, int]]:
    """Drop edges whose both ends are covered by other edges (zero-cost ties can leave a path of three edges):
    the cover stays a cover, costs never rise, and every component becomes a star (one centre)."""
    deg_t, deg_c = np.zeros(n1, int), np.zeros(n0, int)
    for i, j in edges:
        deg_t[i] += 1
        deg_c[j] += 1
    for i, j in sorted(edges):
        if deg_t[i] > 1 and deg_c[j] > 1:
            edges.discard((i, j))
            deg_t[i] -= 1
            deg_c[j] -= 1
    return edges


def full_subclasses(cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Optimal full matching: the subclass (1, 2, ...) of every treated row and every control column.

    ``cost[i, j]`` is treated unit i to control j.  Every unit is placed; each subclass holds one treated unit
    with one or more controls or one control with one or more treated units, and the total within-subclass
    treated-control distance is the smallest possible.  Subclasses are numbered by their first treated unit.

    >>> full_subclasses(np.array([[0.1, 0.2, 5.0], [4.0, 4.0, 0.3]]))
    (array([1, 2]), array([1, 1, 2]))
    """
    cost = _check(cost)
    n1, n0 = cost.shape
    a = cost.min(axis=1)
    b = cost.min(axis=0)
    reduced = np.minimum(cost - a[:, None] - b[None, :], 0.0)
    rows, cols = linear_sum_assignment(reduced)
    edges = {(int(i), int(j)) for i, j in zip(rows, cols) if reduced[i, j] < 0}
    covered_t = {i for i, _ in edges}
    covered_c = {j for _, j in edges}
    nearest_c, nearest_t = cost.argmin(axis=1), cost.argmin(axis=0)
    edges |= {(i, int(nearest_c[i])) for i in range(n1) if i not in covered_t}
    edges |= {(int(nearest_t[j]), j) for j in range(n0) if j not in covered_c}
    edges = _star_forest(edges, n1, n0)
    # connected components of a star forest: label each star by a union-find over its edges
    parent = list(range(n1 + n0))

    def find(u: int) -> int:
        while parent[u] != u:
            parent[u] = parent[parent[u]]
            u = parent[u]
        return u

    for i, j in edges:
        parent[find(i)] = find(n1 + j)
    roots = [find(u) for u in range(n1 + n0)]
    number: dict[int, int] = {}
    for r in roots[:n1] + roots[n1:]:
        number.setdefault(r, len(number) + 1)
    sub = np.array([number[r] for r in roots], dtype=int)
    return sub[:n1], sub[n1:]


def _distance_matrix(formula: str, data: pd.DataFrame, ps, distance: str, focal: np.ndarray) -> np.ndarray:
    """Focal-by-other distances: |score difference| (``eucdist_internal`` of MatchIt's scalar distance) or
    MatchIt's Mahalanobis distance (:func:`mahalanobis_transform` over the whole sample, as matchit2optimal)."""
    f, o = focal == 1, focal == 0
    if distance == "mahalanobis":
        X = distance_covariates(formula, data)[0]
        keep, sd, F = mahalanobis_transform(X, focal)
        Z = (np.asarray(X, float)[:, keep] / sd) @ F.T
        return cdist(Z[f], Z[o])
    d = _scalar(ps, distance)
    return np.abs(d[f][:, None] - d[o][None, :])


def _scalar(ps, distance: str) -> np.ndarray | None:
    """The scalar matching distance (the score, or its linear predictor); None for the Mahalanobis distance."""
    return None if distance == "mahalanobis" else (ps.score if distance == "glm" else ps.linear_predictor)


def _strata(data: pd.DataFrame, exact: Sequence[str]) -> np.ndarray:
    return exact_strata(data, exact) if exact else np.zeros(len(data), dtype=int)


def match_optimal(formula: str, data: pd.DataFrame, *, id_column: str | None = None, ratio: int = 1,
                  distance: Literal["glm", "linear.logit", "mahalanobis"] = "glm",
                  estimand: Literal["ATT", "ATC"] = "ATT", exact: Sequence[str] = (), link: str = "logit") -> Matching:
    """Optimal k:1 pair matching, ``matchit(method = "optimal", ratio, distance, exact, estimand)``.

    Within each exact stratum (the whole sample without ``exact``) the total distance between focal units and
    their matches is minimised (:func:`optimal_pairs`).  Weights are MatchIt's (``weights.matrix``), the pair
    numbers those :func:`mm_subclass` gives (optmatch's set labels, which MatchIt's numbering follows, are not
    reproduced; the effect, its variance and the balance do not depend on them).
    """
    labels = unit_labels(data, id_column)
    ps = fit_score(formula, data, link)
    treat = ps.treat
    focal = 1 - treat if estimand == "ATC" else treat
    cost = _distance_matrix(formula, data, ps, distance, focal)
    strata = _strata(data, exact)
    f_rows, o_rows = np.flatnonzero(focal == 1), np.flatnonzero(focal == 0)
    mm = np.full((len(f_rows), ratio), -1, dtype=int)
    notes = list(ps.notes) if distance != "mahalanobis" else []
    for s in np.unique(strata):
        fi, oi = np.flatnonzero(strata[f_rows] == s), np.flatnonzero(strata[o_rows] == s)
        if len(fi) == 0 or len(oi) == 0:
            continue
        local = optimal_pairs(cost[np.ix_(fi, oi)], ratio)
        mm[fi] = np.where(local >= 0, o_rows[oi][np.maximum(local, 0)], -1)
    w = matching_weights(mm, focal)
    if not (w[focal == 1] > 0).any():
        raise DataError("no pairs could be formed (no exact stratum holds both arms).", loc="design.matching.exact",
                        fix="Match exactly on fewer variables.")
    arms = ("treated units", "controls") if estimand == "ATT" else ("controls", "treated units")
    unmatched = int(((w == 0) & (focal == 1)).sum())
    if unmatched:
        notes.append(f"{unmatched} {arms[0]} had no {arms[1][:-1]} left in their "
                     f"{'exact stratum' if exact else 'sample'} and were dropped (MatchIt drops them too).")
    return Matching(labels, treat, _scalar(ps, distance),
                    mm, w, mm_subclass(mm, focal), int(ratio), False, None, None, np.zeros(len(treat), dtype=bool),
                    ps, _covariate_matrix(formula, data), tuple(notes), "optimal", estimand, distance, tuple(exact))


def match_full(formula: str, data: pd.DataFrame, *, id_column: str | None = None,
               distance: Literal["glm", "linear.logit", "mahalanobis"] = "glm",
               estimand: Literal["ATT", "ATC", "ATE"] = "ATT", exact: Sequence[str] = (),
               link: str = "logit") -> Matching:
    """Optimal full matching, ``matchit(method = "full", distance, exact, estimand)`` with optmatch's default
    ``min.controls = 0, max.controls = Inf``: every unit in an exact stratum holding both arms is placed in a
    subclass (:func:`full_subclasses`), weighted by MatchIt's ``weights.subclass`` for the estimand.  Subclasses
    are numbered stratum by stratum in order of their first unit in the data."""
    labels = unit_labels(data, id_column)
    ps = fit_score(formula, data, link)
    treat = ps.treat
    cost = _distance_matrix(formula, data, ps, distance, treat)
    strata = _strata(data, exact)
    t_rows, c_rows = np.flatnonzero(treat == 1), np.flatnonzero(treat == 0)
    raw = np.zeros(len(treat), dtype=int)
    offset = 0
    for s in np.unique(strata):
        ti, ci = np.flatnonzero(strata[t_rows] == s), np.flatnonzero(strata[c_rows] == s)
        if len(ti) == 0 or len(ci) == 0:
            continue
        st, sc = full_subclasses(cost[np.ix_(ti, ci)])
        raw[t_rows[ti]], raw[c_rows[ci]] = st + offset, sc + offset
        offset += int(max(st.max(), sc.max()))
    first = {}
    for r in raw:
        if r > 0:
            first.setdefault(int(r), len(first) + 1)
    sub = np.array([first.get(int(r), 0) for r in raw], dtype=int)
    w = subclass_weights(sub, treat, estimand)
    notes = list(ps.notes) if distance != "mahalanobis" else []
    left = int((sub == 0).sum())
    if left:
        notes.append(f"{left} units are in exact strata without both arms and were left out (weight 0).")
    return Matching(labels, treat, _scalar(ps, distance),
                    None, w, sub, 1, False, None, None, np.zeros(len(treat), dtype=bool), ps,
                    _covariate_matrix(formula, data), tuple(notes), "full", estimand, distance, tuple(exact))
