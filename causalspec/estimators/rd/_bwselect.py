"""Bandwidth selection for local polynomial RD estimation, as ``rdrobust::rdbwselect`` computes it.

MSE-optimal bandwidths (Calonico, Cattaneo & Titiunik 2014; Calonico, Cattaneo & Farrell 2020) and their
coverage-error-rate counterparts (Calonico, Cattaneo & Farrell 2018, 2020): a pilot bandwidth ``d`` for the
(q + 1)-th derivative, the bias bandwidth ``b`` from it, the main bandwidth ``h`` from ``b``; one common bandwidth
for the difference (``*rd``), one per side (``*two``), one for the sum (``*sum``), and their combinations.
Matches rdbwselect(bwselect = ...) with rdrobust's defaults (masspoints = "adjust", bwrestrict, scaleregul = 1,
stdvars; the R package and its Python port 2.1.1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from causalspec.estimators.rd._cr2 import cr2_meat
from causalspec.estimators.rd._local import (
    Side,
    leverages,
    meat,
    nn_residuals,
    partial_out_covariates,
    plug_in_residuals,
    window_fit,
)

__all__ = ["BWSELECT", "BandwidthInputs", "select_bandwidths"]

BWSELECT = ("mserd", "msetwo", "msesum", "msecomb1", "msecomb2", "cerrd", "certwo", "cersum", "cercomb1",
            "cercomb2")
_EPS = float(np.sqrt(np.finfo(float).eps))


@dataclass(frozen=True)
class BandwidthInputs:
    """Both sides (already scaled as rdrobust scales them for selection) and the constants the selector needs."""

    left: Side
    right: Side
    c: float
    p: int
    q: int
    deriv: int
    kernel: str
    vce: str
    nnmatch: int
    C_c: float
    BWp: float
    N: int
    M: int
    x_min: float
    x_max: float
    range_l: float
    range_r: float
    x_sd: float
    bwcheck: int | None = None
    uniq_l: np.ndarray | None = None  # distinct values nearest the cutoff first
    uniq_r: np.ndarray | None = None
    n_clusters: int | None = None
    scaleregul: float = 1.0


def _residuals(fit, order: int, vce: str, nnmatch: int) -> np.ndarray:
    if vce == "nn":
        return nn_residuals(fit.x, fit.D, nnmatch)
    hii = leverages(fit.R, fit.invG, fit.w) if vce in ("hc2", "hc3") else None
    return plug_in_residuals(fit.D, fit.R @ fit.beta, vce, k=order + 1, hii=hii, clustered=fit.clusters is not None)


def _variance(fit, res, s, vce: str) -> np.ndarray:
    RW = fit.R * fit.w[:, None]
    if vce == "cr2" and fit.clusters is not None:
        M = cr2_meat(fit.R * np.sqrt(fit.w)[:, None], np.sqrt(fit.w), res, s, fit.clusters, fit.invG)
    else:
        M = meat(RW, res, s, fit.clusters)
    return fit.invG @ M @ fit.invG


def _combination(fit, side: Side, nu: int):
    """rdrobust's s: the outcome's coefficient net of the covariates, or the fuzzy ratio's delta-method weights."""
    dT, dZ = side.dT, side.dZ
    s = np.ones(1)
    gamma = None
    if dZ:
        U = (fit.R * fit.w[:, None]).T @ fit.D
        ZWD = (fit.D[:, 1 + dT:] * fit.w[:, None]).T @ fit.D
        ZWZ, ZWY = partial_out_covariates(U, fit.invG, ZWD, dT, dZ)
        gamma = np.linalg.pinv(ZWZ) @ ZWY
        s = np.r_[1.0, -gamma[:, 0]]
    if dT:
        f = math.factorial(nu)
        cols = np.arange(1 + dT, 1 + dT + dZ)
        if dZ:
            tau_y = f * (s @ np.r_[fit.beta[nu, 0], fit.beta[nu, cols]])
            tau_t = f * (np.r_[1.0, -gamma[:, 1]] @ np.r_[fit.beta[nu, 1], fit.beta[nu, cols]])
            s = np.r_[1 / tau_t, -(tau_y / tau_t ** 2), -(1 / tau_t) * gamma[:, 0] + (tau_y / tau_t ** 2) * gamma[:, 1]]
        else:
            tau_y, tau_t = f * fit.beta[nu, 0], f * fit.beta[nu, 1]
            s = np.array([1 / tau_t, -(tau_y / tau_t ** 2)])
    return s


def _bw_terms(side: Side, inp: BandwidthInputs, o: int, nu: int, o_B: int, h_V: float, h_B: float, scale: float,
              cache: dict):
    """rdrobust_bw: the variance constant V, bias constant B and regularisation R of one side, and the rate."""
    nan = (math.nan, math.nan, math.nan, 1 / (2 * o + 3))
    key = (o, nu)
    if key not in cache:
        cache[key] = _v_fit(side, inp, o, nu, h_V)
    V_V, BConst, s = cache[key]
    if not math.isfinite(V_V) or not (math.isfinite(h_B) and h_B > 0):
        return nan
    fit = window_fit(side, inp.c, h_B, o_B, inp.kernel)
    if fit is None:
        return nan
    BWreg = 0.0
    if scale > 0:
        res = _residuals(fit, o_B, inp.vce, inp.nnmatch)
        V_B = _variance(fit, res, s, inp.vce)[-1, -1]
        BWreg = 3 * BConst ** 2 * V_B
    B = math.sqrt(2 * (o + 1 - nu)) * BConst * float(np.dot(s, fit.beta[-1, :]))
    V = (2 * nu + 1) * h_V ** (2 * nu + 1) * V_V
    R = scale * (2 * (o + 1 - nu)) * BWreg
    return np.float64(V), np.float64(B), np.float64(R), 1 / (2 * o + 3)  # a negative base gives NaN, not complex


def _v_fit(side: Side, inp: BandwidthInputs, o: int, nu: int, h_V: float):
    fit = window_fit(side, inp.c, h_V, o, inp.kernel)
    if fit is None:
        return math.nan, math.nan, 1.0
    s = _combination(fit, side, nu)
    res = _residuals(fit, o, inp.vce, inp.nnmatch)
    V_V = _variance(fit, res, s, inp.vce)[nu, nu]
    v = (fit.R * fit.w[:, None]).T @ (((fit.x - inp.c) / h_V) ** (o + 1))
    BConst = (h_V ** np.arange(o + 1) * (fit.invG @ v))[nu]
    return float(V_V), float(BConst), s


def select_bandwidths(inp: BandwidthInputs, bwselect: str) -> tuple[float, float, float, float]:
    """(h_left, h_right, b_left, b_right) by ``bwselect``, in the running variable's units (NaN when a pilot fit
    is undefined, as rdbwselect returns it; the caller refuses it)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return _select(inp, bwselect)


def _select(inp: BandwidthInputs, bwselect: str) -> tuple[float, float, float, float]:
    c, p, q = inp.c, inp.p, inp.q
    c_bw = inp.C_c * inp.BWp * inp.M ** (-1 / 5)
    bw_max_l, bw_max_r = abs(c - inp.x_min), abs(c - inp.x_max)
    bw_max = max(bw_max_l, bw_max_r)
    c_bw = min(c_bw, bw_max)
    bw_min_l = bw_min_r = 0.0
    if inp.bwcheck is not None:
        bw_min_l = abs(inp.uniq_l - c)[min(inp.bwcheck, inp.uniq_l.size) - 1] * (1 + _EPS)
        bw_min_r = abs(inp.uniq_r - c)[min(inp.bwcheck, inp.uniq_r.size) - 1] * (1 + _EPS)
        c_bw = max(c_bw, bw_min_l, bw_min_r)
    checked = inp.bwcheck is not None
    cache_l: dict = {}
    cache_r: dict = {}
    reg = inp.scaleregul

    def terms(side, cache, o, nu, o_B, h_B, scale):
        return _bw_terms(side, inp, o, nu, o_B, c_bw, h_B, scale, cache)

    d_l = terms(inp.left, cache_l, q + 1, q + 1, q + 2, inp.range_l * (1 + _EPS), 0)
    d_r = terms(inp.right, cache_r, q + 1, q + 1, q + 2, inp.range_r * (1 + _EPS), 0)
    out: dict[str, tuple[float, float, float, float]] = {}

    def chain(d_bw_l, d_bw_r, combine, cap_l, cap_r):
        """b from the pilot d, then h from b: each side's constants combined by ``combine``."""
        b_l = terms(inp.left, cache_l, q, p + 1, q + 1, d_bw_l, reg)
        b_r = terms(inp.right, cache_r, q, p + 1, q + 1, d_bw_r, reg)
        bb = combine(b_l, b_r, reg)
        bb = (min(bb[0], cap_l), min(bb[1], cap_r))
        h_l = terms(inp.left, cache_l, p, inp.deriv, q, bb[0], reg)
        h_r = terms(inp.right, cache_r, p, inp.deriv, q, bb[1], reg)
        hh = combine(h_l, h_r, reg)
        hh = (min(hh[0], cap_l), min(hh[1], cap_r))
        return hh, bb

    family = bwselect[3:]
    if family in ("two", "comb2"):
        dl = min((d_l[0] / d_l[1] ** 2) ** d_l[3], bw_max_l)
        dr = min((d_r[0] / d_r[1] ** 2) ** d_r[3], bw_max_r)
        if checked:
            dl, dr = max(dl, bw_min_l), max(dr, bw_min_r)
        hh, bb = chain(dl, dr, _each, bw_max_l, bw_max_r)
        out["two"] = (hh[0], hh[1], bb[0], bb[1])
    if family in ("sum", "comb1", "comb2"):
        d = min(((d_l[0] + d_r[0]) / (d_r[1] + d_l[1]) ** 2) ** d_l[3], bw_max)
        if checked:
            d = max(d, bw_min_l, bw_min_r)
        hh, bb = chain(d, d, _summed, bw_max, bw_max)
        out["sum"] = (hh[0], hh[0], bb[0], bb[0])
    if family in ("rd", "comb1", "comb2"):
        d = min(((d_l[0] + d_r[0]) / (d_r[1] - d_l[1]) ** 2) ** d_l[3], bw_max)
        if checked:
            d = max(d, bw_min_l, bw_min_r)
        hh, bb = chain(d, d, _differenced, bw_max, bw_max)
        out["rd"] = (hh[0], hh[0], bb[0], bb[0])
    if family == "comb1":
        rd, sm = out["rd"], out["sum"]
        out["comb1"] = tuple(float(np.min([a, b])) for a, b in zip(rd, sm))  # np.min passes a NaN through
    if family == "comb2":
        rd, sm, tw = out["rd"], out["sum"], out["two"]
        out["comb2"] = tuple(float(np.median([rd[i], sm[i], tw[i]])) for i in range(4))
    h_l, h_r, b_l, b_r = (inp.x_sd * v for v in out[family])
    if bwselect.startswith("cer"):
        count = inp.n_clusters if inp.n_clusters is not None else inp.N
        cer = count ** (-(p / ((3 + p) * (3 + 2 * p))))
        h_l, h_r = h_l * cer, h_r * cer
    return float(h_l), float(h_r), float(b_l), float(b_r)


def _each(left, right, reg):
    return ((left[0] / (left[1] ** 2 + reg * left[2])) ** left[3],
            (right[0] / (right[1] ** 2 + reg * right[2])) ** right[3])


def _summed(left, right, reg):
    v = ((left[0] + right[0]) / ((right[1] + left[1]) ** 2 + reg * (right[2] + left[2]))) ** left[3]
    return v, v


def _differenced(left, right, reg):
    v = ((left[0] + right[0]) / ((right[1] - left[1]) ** 2 + reg * (right[2] + left[2]))) ** left[3]
    return v, v
