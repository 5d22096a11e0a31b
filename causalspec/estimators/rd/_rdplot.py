"""The binned means of a regression discontinuity plot, with the number of bins ``rdrobust::rdplot`` selects.

Matches rdplot(y, x, c) with its defaults: p = 4 global polynomials on each side (uniform kernel over the whole
support), binselect = "esmv" (evenly spaced bins, as many as mimic the variability of the data), masspoints =
"adjust" (the polynomial-regression variants when a side has 20% or more repeated values); the evenly-spaced
IMSE-optimal ("es") and quantile-spaced ("qs", "qsmv") choices as well (Calonico, Cattaneo & Titiunik 2015, JASA).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from causalspec.estimators.rd._local import inv_chol, kernel_weights

__all__ = ["RDPlotBins", "BINSELECT", "rdplot_bins"]

BINSELECT = ("es", "espr", "esmv", "esmvpr", "qs", "qspr", "qsmv", "qsmvpr")


@dataclass(frozen=True)
class RDPlotBins:
    """Bins (left of the cutoff first, empty bins left out): their midpoints, limits, mean of x and y, counts;
    the number of bins chosen, the IMSE-optimal and mimicking-variance numbers (left, right); the global
    polynomial coefficients on (x - c)^j for each side."""

    binselect: str
    J: tuple[int, int]
    J_IMSE: tuple[float, float]
    J_MV: tuple[float, float]
    mid: tuple[float, ...]
    low: tuple[float, ...]
    high: tuple[float, ...]
    mean_x: tuple[float, ...]
    mean_y: tuple[float, ...]
    count: tuple[int, ...]
    poly_left: tuple[float, ...]
    poly_right: tuple[float, ...]
    p: int
    c: float
    x_min: float
    x_max: float


def _global_fit(x, y, c, h, p) -> np.ndarray:
    R = np.column_stack([(x - c) ** j for j in range(p + 1)])
    W = kernel_weights(x, c, h, "uniform")
    invG = inv_chol((np.sqrt(W)[:, None] * R).T @ (np.sqrt(W)[:, None] * R))
    return invG @ ((R * W[:, None]).T @ y)


def _spacings(x, y, n):
    """The ingredients of the bin selectors on one side: polynomial fits of y and y^2 (order 4, or lower if the
    raw powers are too collinear), the spacings of the sorted data and the estimated conditional variances."""
    for k in range(4, 1, -1):
        rk = np.column_stack([x ** i for i in range(k + 1)])
        try:
            invG = inv_chol(rk.T @ rk)
            break
        except np.linalg.LinAlgError:
            continue
    g1, g2 = invG @ (rk.T @ y), invG @ (rk.T @ y ** 2)
    order = np.argsort(x, kind="stable")
    xs, ys = x[order], y[order]
    dx, dy = np.diff(xs), np.diff(ys)
    bar = (xs[1:] + xs[:-1]) / 2
    rb = np.column_stack([bar ** i for i in range(k + 1)])
    d_at = lambda v: np.column_stack([(j + 1) * v ** j for j in range(k)]) @ g1[1:]  # noqa: E731
    var_y = float(np.var(y, ddof=1))
    s2_bar = rb @ g2 - (rb @ g1) ** 2
    s2_bar[s2_bar < 0] = var_y
    s2 = rk @ g2 - (rk @ g1) ** 2
    s2[s2 < 0] = var_y
    return dict(mu1=d_at(x), mu1_bar=d_at(bar), dx=dx, dy=dy, s2_bar=s2_bar, s2=s2, var_y=var_y, n=x.size)


def _numbers(sides, lengths, n) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Each binselect's (chosen, IMSE-optimal, mimicking-variance) numbers of bins, left and right."""
    J = lambda B, V: np.ceil((((2 * B) / V) * n) ** (1 / 3))  # noqa: E731
    mv = lambda V: np.array([math.ceil((s["var_y"] / v) * (n / math.log(n) ** 2)) for s, v in zip(sides, V)])  # noqa: E731
    B_es = np.array([(L ** 2 / (12 * n)) * np.sum(s["mu1"] ** 2) for s, L in zip(sides, lengths)])
    V_es_hat = np.array([(0.5 / L) * np.sum(s["dx"] * s["dy"] ** 2) for s, L in zip(sides, lengths)])
    V_es_chk = np.array([(1 / L) * np.sum(s["dx"] * s["s2_bar"]) for s, L in zip(sides, lengths)])
    B_qs = np.array([(s["n"] ** 2 / (24 * n)) * np.sum(s["dx"] ** 2 * s["mu1_bar"] ** 2) for s in sides])
    V_qs_hat = np.array([(1 / (2 * s["n"])) * np.sum(s["dy"] ** 2) for s in sides])
    V_qs_chk = np.array([(1 / s["n"]) * np.sum(s["s2"]) for s in sides])
    es, espr, qs, qspr = J(B_es, V_es_hat), J(B_es, V_es_chk), J(B_qs, V_qs_hat), J(B_qs, V_qs_chk)
    es_mv, espr_mv, qs_mv, qspr_mv = mv(V_es_hat), mv(V_es_chk), mv(V_qs_hat), mv(V_qs_chk)
    return {"es": (es, es, es_mv), "espr": (espr, espr, espr_mv), "esmv": (es_mv, es, es_mv),
            "esmvpr": (espr_mv, espr, espr_mv), "qs": (qs, qs, qs_mv), "qspr": (qspr, qspr, qspr_mv),
            "qsmv": (qs_mv, qs, qs_mv), "qsmvpr": (qspr_mv, qspr, qspr_mv)}


def rdplot_bins(y, x, c: float = 0.0, *, p: int = 4, binselect: str = "esmv") -> RDPlotBins:
    """rdplot(y, x, c, p, binselect): bins, their means and the global polynomial fits (no drawing here)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    n = x.size
    if n < 20:
        raise ValueError("not enough observations to perform bin calculations")
    x_min, x_max = float(x.min()), float(x.max())
    if c <= x_min or c >= x_max:
        raise ValueError("c should be set within the range of x")
    lm = x < c
    xl, xr, yl, yr = x[lm], x[~lm], y[lm], y[~lm]
    if 1 - np.unique(xl).size / xl.size >= 0.2 or 1 - np.unique(xr).size / xr.size >= 0.2:
        binselect = {"es": "espr", "esmv": "esmvpr", "qs": "qspr", "qsmv": "qsmvpr"}.get(binselect, binselect)
    poly_l, poly_r = _global_fit(xl, yl, c, c - x_min, p), _global_fit(xr, yr, c, x_max - c, p)
    sides = (_spacings(xl, yl, n), _spacings(xr, yr, n))
    chosen, imse, mvar = _numbers(sides, (c - x_min, x_max - c), n)[binselect]
    J_l, J_r = (1 if s["var_y"] == 0.0 else int(v) for s, v in zip(sides, chosen))
    if binselect.startswith("es"):
        jl, jr = np.linspace(x_min, c, J_l + 1), np.linspace(c, x_max, J_r + 1)
    else:
        jl, jr = np.quantile(xl, np.linspace(0, 1, J_l + 1)), np.quantile(xr, np.linspace(0, 1, J_r + 1))
    # 0-based bins, findInterval's left-closed ones; the last bin on each side is closed (quantile bins end at
    # the side's largest value)
    bl = np.minimum(np.searchsorted(jl, xl, side="right"), J_l) - 1
    br = np.minimum(np.searchsorted(jr, xr, side="right"), J_r) - 1  # rightmost.closed
    rows = []
    for edges, bins, xs, ys in ((jl, bl, xl, yl), (jr, br, xr, yr)):
        for j in np.unique(bins):
            m = bins == j
            rows.append(((edges[j] + edges[j + 1]) / 2, edges[j], edges[j + 1], xs[m].mean(), ys[m].mean(),
                         int(m.sum())))
    cols = list(zip(*rows))
    return RDPlotBins(binselect, (J_l, J_r), (float(imse[0]), float(imse[1])), (float(mvar[0]), float(mvar[1])),
                      *(tuple(float(v) for v in col) for col in cols[:5]), tuple(int(v) for v in cols[5]),
                      tuple(map(float, poly_l)), tuple(map(float, poly_r)), p, float(c), x_min, x_max)
