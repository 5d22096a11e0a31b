"""Local polynomial regression discontinuity estimation with robust bias-corrected inference.

Matches ``rdrobust::rdrobust`` (R) and its Python port 2.1.1 with their defaults (deriv = 0, scalepar = 1,
masspoints = "adjust", bwrestrict, stdvars, covs_drop): the conventional estimate, the bias-corrected one and the
robust bias-corrected inference of Calonico, Cattaneo & Titiunik (2014), covariate adjustment of Calonico,
Cattaneo, Farrell & Titiunik (2019), fuzzy designs by the ratio of the outcome's and the take-up's jumps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats
from scipy.linalg import qr

from causalspec.estimators.rd._bwselect import BandwidthInputs, select_bandwidths
from causalspec.estimators.rd._cr2 import cr2_meat, cr2_meat_mixed
from causalspec.estimators.rd._local import (
    Side,
    inv_chol,
    kernel_weights,
    leverages,
    meat,
    nn_residuals,
    plug_in_residuals,
    vander,
)

__all__ = ["RDResult", "FirstStage", "rdrobust", "quantile_type2", "drop_collinear"]

LABELS = ("Conventional", "Bias-Corrected", "Robust")
_KERNEL_C = {"epanechnikov": 2.34, "uniform": 1.843, "triangular": 2.576}


@dataclass(frozen=True)
class FirstStage:
    """A fuzzy design's jump in take-up at the cutoff: conventional, bias-corrected, robust."""

    coef: tuple[float, ...]
    se: tuple[float, ...]
    z: tuple[float, ...]
    pv: tuple[float, ...]
    ci: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class RDResult:
    """What rdrobust reports: ``coef``, ``se``, ``z``, ``pv``, ``ci`` in the order Conventional, Bias-Corrected,
    Robust; bandwidths, sample sizes and unique values (left, right); the side-specific limits and biases."""

    coef: tuple[float, float, float]
    se: tuple[float, float, float]
    z: tuple[float, float, float]
    pv: tuple[float, float, float]
    ci: tuple[tuple[float, float], ...]
    h: tuple[float, float]
    b: tuple[float, float]
    N: tuple[int, int]
    N_h: tuple[int, int]
    N_b: tuple[int, int]
    M: tuple[int, int]
    c: float
    p: int
    q: int
    kernel: str
    bwselect: str
    vce: str
    level: float
    tau_cl: tuple[float, float]
    tau_bc: tuple[float, float]
    bias: tuple[float, float]
    beta_y: tuple[tuple[float, ...], tuple[float, ...]]
    first_stage: FirstStage | None = None
    n_clusters: tuple[int, int, int] | None = None
    gamma: tuple[float, ...] | None = None
    covariates_kept: tuple[int, ...] = ()


def quantile_type2(x: np.ndarray, probs) -> np.ndarray:
    """R's quantile(x, type = 2): the inverse of the empirical CDF, averaging at discontinuities."""
    xs = np.sort(np.asarray(x, dtype=float).reshape(-1))
    n = xs.size
    out = []
    for prob in np.atleast_1d(probs):
        hh = n * prob
        j = int(np.floor(hh))
        out.append(xs[0] if prob <= 0 else xs[-1] if prob >= 1 else
                   0.5 * (xs[j - 1] + xs[j]) if hh == j else xs[j])
    return np.asarray(out)


def drop_collinear(z: np.ndarray, tol: float = 1e-5) -> np.ndarray:
    """Indices of the covariate columns rdrobust keeps (covs_drop = TRUE: column-pivoted QR, |R_jj| > tol)."""
    r = np.linalg.qr(z, mode="r")
    if np.all(np.abs(np.diagonal(r)) > tol):
        return np.arange(z.shape[1])
    _, r, pivot = qr(z, pivoting=True)
    return pivot[np.abs(np.diagonal(r)) > tol]


def _normal(coef, se, level: float):
    quant = -stats.norm.ppf(abs((1 - level / 100) / 2))
    coef, se = np.asarray(coef, float), np.asarray(se, float)
    with np.errstate(divide="ignore", invalid="ignore"):  # a zero SE (a take-up without noise) gives inf / NaN
        z = coef / se
    pv = 2 * stats.norm.cdf(-np.abs(z))
    ci = tuple((float(a - quant * s), float(a + quant * s)) for a, s in zip(coef, se))
    return tuple(map(float, z)), tuple(map(float, pv)), ci


def _vce_for(vce: str, clustered: bool) -> str:
    """rdrobust 2.1's switch: with a cluster nn / hc0 / hc1 are CR1 and hc2 is CR2; without one CR1 is hc1."""
    if clustered:
        return {"nn": "cr1", "hc0": "cr1", "hc1": "cr1", "hc2": "cr2"}.get(vce, vce)
    return {"cr1": "hc1", "cr2": "hc2"}.get(vce, vce)


def _pair(value) -> tuple[float, float] | None:
    if value is None:
        return None
    if np.isscalar(value):
        return float(value), float(value)
    a, b = value
    return float(a), float(b)


def rdrobust(y, x, c: float = 0.0, *, fuzzy=None, covs=None, cluster=None, p: int = 1, q: int | None = None,
             h=None, b=None, rho: float | None = None, kernel: str = "triangular", bwselect: str = "mserd",
             vce: str = "nn", nnmatch: int = 3, level: float = 95.0) -> RDResult:
    """rdrobust(y, x, c, fuzzy, covs, cluster, p, q, h, b, rho, kernel, bwselect, vce, nnmatch, level).

    ``vce``: "nn" (nearest neighbours), "hc0"-"hc3", "cr1" or "cr2" (with ``cluster``).  ``h`` and ``b`` are one
    number or (left, right); without ``h`` both are selected by ``bwselect``; ``rho`` sets b = h / rho.
    Rows must be complete (no missing values).  Raises ValueError on inputs rdrobust refuses.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = rng.uniform(-1, 1, 1000); y = 5 + 3 * x + 2 * (x >= 0) + rng.uniform(size=1000)
    >>> round(rdrobust(y, x).coef[0], 1)
    2.0
    """
    q = p + 1 if q is None else q
    vce = _vce_for(vce, cluster is not None)
    if q <= p:
        raise ValueError("q must be greater than p")
    order = np.argsort(np.asarray(x, float), kind="stable")
    x = np.asarray(x, float)[order]
    y = np.asarray(y, float)[order]
    T = None if fuzzy is None else np.asarray(fuzzy, float)[order]
    Z = None if covs is None else np.asarray(covs, float).reshape(len(order), -1)[order]
    C = None if cluster is None else np.asarray(cluster)[order]
    x_min, x_max = float(x.min()), float(x.max())
    if c <= x_min or c >= x_max:
        raise ValueError("c should be set within the range of x")
    left = x < c
    N_l, N_r = int(left.sum()), int((~left).sum())
    uniq_l, uniq_r = np.unique(x[left])[::-1], np.unique(x[~left])
    M_l, M_r = uniq_l.size, uniq_r.size
    if min(M_l, M_r) < q + 1:
        raise ValueError(f"not enough distinct values of the running variable on the {'left' if M_l < q + 1 else 'right'}"
                         f" side ({min(M_l, M_r)}) for a polynomial of order q = {q}")
    kept: tuple[int, ...] = ()
    if Z is not None:
        kept_idx = drop_collinear(Z)
        Z, kept = Z[:, kept_idx], tuple(int(i) for i in kept_idx)
    dT, dZ = int(T is not None), 0 if Z is None else Z.shape[1]
    clustered = C is not None
    bwcheck = 10 if (1 - M_l / N_l >= 0.2 or 1 - M_r / N_r >= 0.2) else None
    D = np.column_stack([y] + ([T] if T is not None else []) + ([Z] if Z is not None else []))
    hh, bb = _pair(h), _pair(b)
    if hh is None:
        hh, bb = _select(x, y, T, Z, C, D, left, c, p, q, kernel, bwselect, vce, nnmatch, uniq_l, uniq_r,
                         M_l + M_r, bwcheck)
        bwselect_used = bwselect
    else:
        bwselect_used = "Manual"
        bb = bb if bb is not None and rho is None else hh
    if rho is not None:
        bb = (hh[0] / rho, hh[1] / rho)
    sides = [_side_fit(x[m], D[m], None if C is None else C[m], c, hl, bl, p, q, kernel)
             for m, hl, bl in ((left, hh[0], bb[0]), (~left, hh[1], bb[1]))]
    est = _estimates(sides[0], sides[1], dT, dZ)
    s_Y, sV_T = est["s_Y"], est["sV_T"]
    hb_match = hh[0] == bb[0] and hh[1] == bb[1]
    V_cl = V_rb = VT_cl = VT_rb = 0.0
    for sf in sides:
        res_h, res_b = _residuals(sf, vce, nnmatch, p, q, clustered)
        V_cl = V_cl + _v_conventional(sf, res_h, s_Y, vce)[0, 0]
        V_rb = V_rb + _v_robust(sf, res_b, s_Y, vce, hb_match, q)[0, 0]
        if dT:
            VT_cl = VT_cl + _v_conventional(sf, res_h, sV_T, vce)[0, 0]
            VT_rb = VT_rb + _v_robust(sf, res_b, sV_T, vce, hb_match, q)[0, 0]
    coef = (est["tau_cl"], est["tau_bc"], est["tau_bc"])
    se = (math.sqrt(V_cl), math.sqrt(V_cl), math.sqrt(V_rb))
    z, pv, ci = _normal(coef, se, level)
    first = None
    if dT:
        t_coef = (est["tau_T_cl"], est["tau_T_bc"], est["tau_T_bc"])
        t_se = (math.sqrt(VT_cl), math.sqrt(VT_cl), math.sqrt(VT_rb))
        first = FirstStage(tuple(map(float, t_coef)), t_se, *_normal(t_coef, t_se, level))
    n_cl = None
    if clustered:
        cl_l, cl_r = sides[0]["C"], sides[1]["C"]
        n_cl = (int(np.unique(cl_l).size), int(np.unique(cl_r).size), int(np.unique(np.r_[cl_l, cl_r]).size))
    return RDResult(
        tuple(map(float, coef)), se, z, pv, ci, (float(hh[0]), float(hh[1])), (float(bb[0]), float(bb[1])),
        (N_l, N_r), (sides[0]["N_h"], sides[1]["N_h"]), (sides[0]["N_b"], sides[1]["N_b"]), (M_l, M_r),
        float(c), p, q, kernel, bwselect_used, vce, float(level), est["side_cl"], est["side_bc"], est["bias"],
        (tuple(map(float, sides[0]["beta_p"][:, 0])), tuple(map(float, sides[1]["beta_p"][:, 0]))),
        first, n_cl, None if est["gamma"] is None else tuple(map(float, est["gamma"][:, 0])), kept)


def _select(x, y, T, Z, C, D, left, c, p, q, kernel, bwselect, vce, nnmatch, uniq_l, uniq_r, M, bwcheck):
    """rdbwselect on the standardised running variable and outcome (stdvars = TRUE), in x's units."""
    if x.size < 20:
        raise ValueError("bandwidth selection needs at least 20 observations")
    x_sd, y_sd = float(np.std(x, ddof=1)), float(np.std(y, ddof=1))
    q25, q75 = quantile_type2(x, [0.25, 0.75])
    BWp = min(1.0, ((q75 - q25) / x_sd) / 1.349)
    use_T = T is not None and np.var(T[left]) != 0 and np.var(T[~left]) != 0
    cols = [y / y_sd] + ([T] if use_T else []) + ([Z] if Z is not None else [])
    Dbw = np.column_stack(cols)
    dT, dZ = int(use_T), 0 if Z is None else Z.shape[1]
    mk = lambda m: Side(x[m] / x_sd, Dbw[m], dT, dZ, None if C is None else C[m])  # noqa: E731
    n_clusters = None if C is None else int(np.unique(C[left]).size + np.unique(C[~left]).size)
    inp = BandwidthInputs(
        left=mk(left), right=mk(~left), c=c / x_sd, p=p, q=q, deriv=0, kernel=kernel,
        vce={"cr1": "hc1"}.get(vce, vce), nnmatch=nnmatch, C_c=_KERNEL_C[kernel], BWp=BWp, N=x.size, M=M,
        x_min=x.min() / x_sd, x_max=x.max() / x_sd, range_l=abs(c - x[left].min()) / x_sd,
        range_r=abs(c - x[~left].max()) / x_sd, x_sd=x_sd, bwcheck=bwcheck, uniq_l=uniq_l / x_sd,
        uniq_r=uniq_r / x_sd, n_clusters=n_clusters)
    h_l, h_r, b_l, b_r = select_bandwidths(inp, bwselect)
    bws = np.array([h_l, h_r, b_l, b_r])
    if not (np.all(np.isfinite(bws)) and np.all(bws > 0)):
        raise ValueError("not enough variability in the running variable to compute the bandwidth")
    return (h_l, h_r), (b_l, b_r)


def _side_fit(X, D, C, c, h, b, p, q, kernel) -> dict:
    """One side's fits at bandwidths h (order p) and b (order q) on the larger of the two windows."""
    w_h, w_b = kernel_weights(X, c, h, kernel), kernel_weights(X, c, b, kernel)
    ind_h, ind_b = w_h > 0, w_b > 0
    if (np.unique(X[ind_h]).size < p + 1 or np.unique(X[ind_b]).size < q + 1):
        raise ValueError("not enough distinct values of the running variable with positive weight to fit the "
                         "polynomials on each side of the cutoff")
    ind = ind_h if h > b else ind_b
    eX, eD = X[ind], D[ind]
    W_h, W_b = w_h[ind], w_b[ind]
    R_q = vander(eX - c, q)
    R_p = R_q[:, :p + 1]
    RW_p, RW_q = R_p * W_h[:, None], R_q * W_b[:, None]
    L = RW_p.T @ (((eX - c) / h) ** (p + 1))
    sq = np.sqrt(W_b)[:, None] * R_q
    invG_q = inv_chol(sq.T @ sq)
    sp = np.sqrt(W_h)[:, None] * R_p
    invG_p = inv_chol(sp.T @ sp)
    m = (R_q @ invG_q[p + 1, :])[:, None] * W_b[:, None]
    Q_q = RW_p - h ** (p + 1) * m * L[None, :]
    return dict(X=eX, D=eD, C=None if C is None else C[ind], W_h=W_h, W_b=W_b, R_p=R_p, R_q=R_q, RW_p=RW_p,
                RW_q=RW_q, Q_q=Q_q, invG_p=invG_p, invG_q=invG_q, N_h=int(ind_h.sum()), N_b=int(ind_b.sum()),
                beta_p=invG_p @ (RW_p.T @ eD), beta_q=invG_q @ (RW_q.T @ eD), beta_bc=invG_p @ (Q_q.T @ eD),
                h=h, b=b)


def _estimates(sl: dict, sr: dict, dT: int, dZ: int) -> dict:
    """The jumps at the cutoff (rdrobust's tau_cl, tau_bc), side by side, and the weights s of the variance."""
    bp_l, bp_r, bc_l, bc_r = sl["beta_p"][0], sr["beta_p"][0], sl["beta_bc"][0], sr["beta_bc"][0]
    gamma = None
    if dZ:
        cols = np.arange(1 + dT, 1 + dT + dZ)
        ZWZ = ZWY = 0.0
        for sf in (sl, sr):
            U = sf["RW_p"].T @ sf["D"]
            ZWD = (sf["D"][:, cols] * sf["W_h"][:, None]).T @ sf["D"]
            UiGU = U[:, cols].T @ (sf["invG_p"] @ U)
            ZWZ = ZWZ + (ZWD[:, cols] - UiGU[:, cols])
            ZWY = ZWY + (ZWD[:, :1 + dT] - UiGU[:, :1 + dT])
        gamma = np.linalg.pinv(ZWZ) @ ZWY
        s_y = np.r_[1.0, -gamma[:, 0]]
        pick_y = lambda v: s_y @ np.r_[v[0], v[cols]]  # noqa: E731
        s_t = np.r_[1.0, -gamma[:, 1]] if dT else None
        pick_t = (lambda v: s_t @ np.r_[v[1], v[cols]]) if dT else None  # noqa: E731
    else:
        s_y = np.ones(1)
        pick_y = lambda v: v[0]  # noqa: E731
        pick_t = (lambda v: v[1]) if dT else None  # noqa: E731
    side_cl = (float(pick_y(bp_l)), float(pick_y(bp_r)))
    side_bc = (float(pick_y(bc_l)), float(pick_y(bc_r)))
    tau_y_cl, tau_y_bc = pick_y(bp_r - bp_l), pick_y(bc_r - bc_l)
    out = dict(gamma=gamma, side_cl=side_cl, side_bc=side_bc, sV_T=None)
    if not dT:
        return {**out, "tau_cl": float(tau_y_cl), "tau_bc": float(tau_y_bc), "s_Y": s_y,
                "bias": (side_cl[0] - side_bc[0], side_cl[1] - side_bc[1])}
    tau_t_cl, tau_t_bc = pick_t(bp_r - bp_l), pick_t(bc_r - bc_l)
    tau_cl = tau_y_cl / tau_t_cl
    s = np.array([1 / tau_t_cl, -(tau_y_cl / tau_t_cl ** 2)])
    tau_bc = tau_cl - s @ np.array([tau_y_cl - tau_y_bc, tau_t_cl - tau_t_bc])
    bias = tuple(float(s @ np.array([pick_y(bp) - pick_y(bc), pick_t(bp) - pick_t(bc)]))
                 for bp, bc in ((bp_l, bc_l), (bp_r, bc_r)))
    if dZ:
        sV_T = np.r_[0.0, 1.0, -gamma[:, 1]]
        s = np.r_[s, -(1 / tau_t_cl) * gamma[:, 0] + (tau_y_cl / tau_t_cl ** 2) * gamma[:, 1]]
    else:
        sV_T = np.array([0.0, 1.0])
    return {**out, "tau_cl": float(tau_cl), "tau_bc": float(tau_bc), "s_Y": s, "sV_T": sV_T, "bias": bias,
            "tau_T_cl": float(tau_t_cl), "tau_T_bc": float(tau_t_bc)}


def _residuals(sf: dict, vce: str, nnmatch: int, p: int, q: int, clustered: bool):
    if vce == "nn":
        res = nn_residuals(sf["X"], sf["D"], nnmatch)
        return res, res
    kind = {"cr1": "hc1"}.get(vce, vce)
    hii_p = leverages(sf["R_p"], sf["invG_p"], sf["W_h"]) if kind in ("hc2", "hc3") else None
    hii_q = leverages(sf["R_q"], sf["invG_q"], sf["W_b"]) if kind in ("hc2", "hc3") else None
    return (plug_in_residuals(sf["D"], sf["R_p"] @ sf["beta_p"], kind, k=p + 1, hii=hii_p, clustered=clustered),
            plug_in_residuals(sf["D"], sf["R_q"] @ sf["beta_q"], kind, k=q + 1, hii=hii_q, clustered=clustered))


def _v_conventional(sf: dict, res, s, vce: str) -> np.ndarray:
    if vce == "cr2":
        sqw = np.sqrt(sf["W_h"])
        M = cr2_meat(sf["R_p"] * sqw[:, None], sqw, res, s, sf["C"], sf["invG_p"])
    else:
        M = meat(sf["RW_p"], res, s, sf["C"])
    return sf["invG_p"] @ M @ sf["invG_p"]


def _v_robust(sf: dict, res, s, vce: str, hb_match: bool, q: int) -> np.ndarray:
    """The robust variance: from the q-th order fit when h = b and clustered, else through Q_q (rdrobust's V_rb)."""
    C = sf["C"]
    if hb_match and vce == "cr2":
        sqw = np.sqrt(sf["W_h"])
        return sf["invG_q"] @ cr2_meat(sf["R_q"] * sqw[:, None], sqw, res, s, C, sf["invG_q"]) @ sf["invG_q"]
    if hb_match and C is not None:
        return sf["invG_q"] @ meat(sf["R_q"] * sf["W_h"][:, None], res, s, C) @ sf["invG_q"]
    if vce == "cr2":
        M = cr2_meat_mixed(sf["Q_q"], sf["R_q"], sf["W_b"], sf["invG_q"], res, s, C)
    else:
        M = meat(sf["Q_q"], res, s, C, k_df=q + 1)
    return sf["invG_p"] @ M @ sf["invG_p"]
