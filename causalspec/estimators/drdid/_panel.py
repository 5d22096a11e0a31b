"""The five two-period DiD estimators of the ATT with panel data (DRDID 1.2.3's ``*_panel`` functions).

Each takes the outcome change ``dy = y1 - y0``, the 0/1 group ``d``, the covariate matrix ``x`` (with the
intercept column first, as DRDID's wrappers build it from ``xformla``) and weights normalised to mean one, and
returns the ATT, DRDID's analytical SE and the influence function of every unit.
"""

from __future__ import annotations

import numpy as np

from causalspec.estimators.drdid._nuisance import (
    DrDidResult,
    drdid_result,
    ols_linear_rep,
    ps_linear_rep,
    pscore_ipt,
    pscore_logit,
    wls,
)

__all__ = ["imp_panel", "trad_panel", "ipw_panel", "std_ipw_panel", "reg_panel"]


def imp_panel(dy, d, x, w, trim_level: float = 0.995) -> DrDidResult:
    """Improved locally efficient doubly robust DiD ATT with panel data.

    Matches DRDID::drdid_imp_panel (DRDID 1.2.3), DRDID::drdid(panel = TRUE)'s default.
    Sant'Anna & Zhao (2020), "Doubly robust difference-in-differences estimators", section 3.1, eq. (3.3).
    """
    ps, trim, notes = pscore_ipt(x, d, w, trim_level)
    ctrl = d == 0
    odds = ps / (1.0 - ps)
    # the outcome regression weighted by the tilted odds, so the estimation effects cancel (no extra IF terms)
    beta = wls(x[ctrl], dy[ctrl], (w * odds)[ctrl])
    resid = dy - x @ beta
    summand = trim * (1.0 - (1.0 - d) / (1.0 - ps)) * resid
    pi = np.mean(d * w)
    att = np.mean(w * summand) / pi
    psi = w * trim * (summand - d * att) / pi
    return drdid_result(att, psi, notes + ("propensity score by inverse probability tilting; outcome regression by "
                                      "weighted least squares",))


def trad_panel(dy, d, x, w, trim_level: float = 0.995, logit=None) -> DrDidResult:
    """Locally efficient doubly robust DiD ATT with panel data (logit propensity score, OLS outcome model).

    Matches DRDID::drdid_panel (DRDID 1.2.3): DRDID::drdid(estMethod = "trad"), did::att_gt(est_method = "dr").
    Sant'Anna & Zhao (2020), "Doubly robust difference-in-differences estimators", eq. (3.1).  ``logit``: the
    propensity fit ``fit_logit(x, d, w)`` when the caller has it.
    """
    ps, trim, notes = pscore_logit(x, d, w, trim_level, logit)
    ctrl = d == 0
    beta = wls(x[ctrl], dy[ctrl], w[ctrl])
    resid = dy - x @ beta
    w_t = trim * w * d
    w_c = trim * w * ps * (1.0 - d) / (1.0 - ps)
    eta_t = np.mean(w_t * resid) / np.mean(w_t)
    eta_c = np.mean(w_c * resid) / np.mean(w_c)

    lin_ols = ols_linear_rep(x, resid, w * (1.0 - d))
    lin_ps = ps_linear_rep(x, d, ps, w)
    inf_t = (w_t * resid - w_t * eta_t) - lin_ols @ np.mean(w_t[:, None] * x, axis=0)
    m2 = np.mean((w_c * (resid - eta_c))[:, None] * x, axis=0)
    m3 = np.mean(w_c[:, None] * x, axis=0)
    inf_c = (w_c * resid - w_c * eta_c) + lin_ps @ m2 - lin_ols @ m3
    psi = inf_t / np.mean(w_t) - inf_c / np.mean(w_c)
    return drdid_result(eta_t - eta_c, psi, notes)


def ipw_panel(dy, d, x, w, trim_level: float = 0.995) -> DrDidResult:
    """Inverse-probability-weighted DiD ATT with panel data, weights not normalised (Horvitz-Thompson).

    Matches DRDID::ipw_did_panel (DRDID 1.2.3): DRDID::ipwdid(panel = TRUE, normalized = FALSE).
    Abadie (2005), "Semiparametric difference-in-differences estimators", eq. (10).
    """
    ps, trim, notes = pscore_logit(x, d, w, trim_level)
    treat = trim * w * d * dy
    cont = trim * w * ps * (1.0 - d) / (1.0 - ps) * dy
    pi = np.mean(w * d)
    att = (np.mean(treat) - np.mean(cont)) / pi
    lin_ps = ps_linear_rep(x, d, ps, w)
    psi = (treat - cont - lin_ps @ np.mean(cont[:, None] * x, axis=0) - w * d * att) / pi
    return drdid_result(att, psi, notes)


def std_ipw_panel(dy, d, x, w, trim_level: float = 0.995, logit=None) -> DrDidResult:
    """Normalised (Hajek) inverse-probability-weighted DiD ATT with panel data.

    Matches DRDID::std_ipw_did_panel (DRDID 1.2.3): DRDID::ipwdid(panel = TRUE), did::att_gt(est_method = "ipw").
    Abadie (2005), "Semiparametric difference-in-differences estimators"; Sant'Anna & Zhao (2020), section 2.
    ``logit``: the propensity fit ``fit_logit(x, d, w)`` when the caller has it.
    """
    ps, trim, notes = pscore_logit(x, d, w, trim_level, logit)
    w_t = trim * w * d
    w_c = trim * w * ps * (1.0 - d) / (1.0 - ps)
    eta_t = np.mean(w_t * dy) / np.mean(w_t)
    eta_c = np.mean(w_c * dy) / np.mean(w_c)

    lin_ps = ps_linear_rep(x, d, ps, w)
    inf_t = (w_t * dy - w_t * eta_t) / np.mean(w_t)
    m2 = np.mean((w_c * (dy - eta_c))[:, None] * x, axis=0)
    inf_c = ((w_c * dy - w_c * eta_c) + lin_ps @ m2) / np.mean(w_c)
    return drdid_result(eta_t - eta_c, inf_t - inf_c, notes)


def reg_panel(dy, d, x, w) -> DrDidResult:
    """Outcome-regression DiD ATT with panel data.

    Matches DRDID::reg_did_panel (DRDID 1.2.3): DRDID::ordid(panel = TRUE), did::att_gt(est_method = "reg").
    Heckman, Ichimura & Todd (1997); Sant'Anna & Zhao (2020), section 2, eq. (2.2).
    """
    ctrl = d == 0
    beta = wls(x[ctrl], dy[ctrl], w[ctrl])
    out = x @ beta
    w_t = w * d
    eta_t = np.mean(w_t * dy) / np.mean(w_t)
    eta_c = np.mean(w_t * out) / np.mean(w_t)

    lin_ols = ols_linear_rep(x, dy - out, w * (1.0 - d))
    inf_t = (w_t * dy - w_t * eta_t) / np.mean(w_t)
    inf_c = ((w_t * out - w_t * eta_c) + lin_ols @ np.mean(w_t[:, None] * x, axis=0)) / np.mean(w_t)
    return drdid_result(eta_t - eta_c, inf_t - inf_c)
