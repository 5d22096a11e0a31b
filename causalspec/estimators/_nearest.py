"""Greedy nearest-neighbour matching on a scalar distance, as MatchIt 4.5.1's ``nn_matchC_vec``; the weights
(``weights_matrixC``) and pair labels (``mm2subclass``) MatchIt derives from a match matrix.

The algorithm is MatchIt 4.5.1's: all units are sorted by the distance (a stable sort, so equal distances keep
data order); treated units are visited in ``m.order`` (default: largest distance first), and each takes the
closest still-available control found by walking left and right in that sorted order, preferring the left one
when both are equally close.  This fixes how exact ties are broken, so matched sets are identical to MatchIt's.
"""

from __future__ import annotations

import bisect
from typing import Literal

import numpy as np

__all__ = ["nearest_neighbor", "matching_weights", "mm_subclass", "INT_MAX"]

INT_MAX = 2**31 - 1
_INT_MAX = INT_MAX

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
        if len(got) == 0:
            continue
        np.add.at(w, got, 1.0 / len(got))  # a control can fill several slots of one row
        w[unit] = 1.0
    c = t == 0
    total = float(np.cumsum(w[c])[-1]) if c.any() else 0.0  # Rcpp's sum(): left to right
    if total > 0:
        w[c] = w[c] * np.count_nonzero(w[c] > 0) / total
    return w


def mm_subclass(mm: np.ndarray, treat: np.ndarray) -> np.ndarray:
    """Pair (subclass) labels as MatchIt 4.5.1's ``mm2subclass`` gives them; 0 for units in no pair.

    A pair is first named by its treated unit's (1-based) row number, as text; the factor of those names then
    numbers them in text order, so with treated rows 1..185 pair 2 is labelled 98, and with treated rows
    2, 5, 10 the pairs are labelled 2, 3, 1.  Reproduced so the ids equal R's.
    """
    t = np.asarray(treat).astype(int)
    sub = np.zeros(len(t), dtype=int)
    treated_rows = np.flatnonzero(t == 1)
    pairs = [(int(unit), mm[row][mm[row] >= 0]) for row, unit in enumerate(treated_rows) if mm[row, 0] >= 0]
    text_rank = {name: i + 1 for i, name in enumerate(sorted(str(u + 1) for u, _ in pairs))}
    for unit, ctrls in pairs:
        sub[unit] = text_rank[str(unit + 1)]
        sub[ctrls] = text_rank[str(unit + 1)]
    return sub
