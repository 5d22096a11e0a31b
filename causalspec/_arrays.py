"""Array checks and codings that every layer uses: one pass over the values, no hashing, no temporaries the
size of the data (issue #14)."""

from __future__ import annotations

import numpy as np

__all__ = ["all_finite", "dense_codes"]


def all_finite(a: np.ndarray) -> bool:
    """Every value of an array finite, from its column minima and maxima (NaN propagates through both and an
    infinity is one of them): two passes and no boolean temporary the size of the array."""
    a = np.asarray(a)
    if a.size == 0:
        return True
    return bool(np.all(np.isfinite(np.min(a, axis=0))) and np.all(np.isfinite(np.max(a, axis=0))))


def dense_codes(values) -> "tuple[np.ndarray, np.ndarray] | None":
    """Sorted codes and levels of non-negative integer ids without hashing, or None when the ids are not dense
    enough (then factorize as usual).  Equal to ``pandas.factorize(values, sort=True)`` for such ids, in O(n + max
    id): a presence table, its running count as the recoding, one gather.  Worker, firm or year ids are dense."""
    values = np.asarray(values)
    if values.dtype.kind not in "iu" or values.ndim != 1 or values.size == 0:
        return None
    lo, hi = int(values.min()), int(values.max())
    if lo < 0 or hi >= 4 * values.size + 1024:
        return None
    present = np.zeros(hi + 1, dtype=bool)
    present[values] = True
    recode = np.cumsum(present, dtype=np.intp) - 1
    return recode[values], np.flatnonzero(present).astype(values.dtype, copy=False)
