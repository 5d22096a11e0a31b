"""The five two-period DiD estimators of the ATT with (stationary) repeated cross-sections (DRDID 1.2.3's
``*_rc`` functions).

Each takes the outcome ``y``, the 0/1 post-period indicator ``post``, the 0/1 group ``d``, the covariate matrix
``x`` (intercept first) and weights normalised to mean one, one row per observation, and returns the ATT,
DRDID's analytical SE and every row's influence function.
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

__all__ = ["imp_rc", "trad_rc", "ipw_rc", "std_ipw_rc", "reg_rc"]


def _hajek(wx: np.ndarray, v: np.ndarray) -> tuple[float, np.ndarray]:
    """A weighted mean ``mean(wx v) / mean(wx)`` and its influence function (no estimation effect)."""
    m = np.mean(wx)
    eta = wx * v / m
    att = float(np.mean(eta))
    return att, eta - wx * att / m


def _cells(d, post):
    """The four group-by-period indicators: treated pre, treated post, comparison pre, comparison post."""
    return d * (1.0 - post), d * post, (1.0 - d) * (1.0 - post), (1.0 - d) * post


def _fitted(x, y, w, rows) -> tuple[np.ndarray, np.ndarray]:
    """An outcome regression on ``rows`` with weights ``w``: fitted values everywhere, and the coefficients."""
    keep = rows > 0
    beta = wls(x[keep], y[keep], w[keep])
    return x @ beta, beta


def _dr_pieces(y, post, d, w, w_c_pre, w_c_post, out_c_pre, out_c_post, out_t_pre, out_t_post):
    """The locally efficient DR estimator's eight weighted means and their influence functions (DRDID's
    ``drdid_rc`` / ``drdid_imp_rc``: Sant'Anna & Zhao (2020), eq. (3.4)); the treated weights are untrimmed."""
    tpre, tpost, _, _ = _cells(d, post)
    out_c = post * out_c_post + (1.0 - post) * out_c_pre
    a_tpre, i_tpre = _hajek(w * tpre, y - out_c)
    a_tpost, i_tpost = _hajek(w * tpost, y - out_c)
    a_cpre, i_cpre = _hajek(w_c_pre, y - out_c)
    a_cpost, i_cpost = _hajek(w_c_post, y - out_c)
    a_dpost, i_dpost = _hajek(w * d, out_t_post - out_c_post)
    a_dt1, i_dt1 = _hajek(w * tpost, out_t_post - out_c_post)
    a_dpre, i_dpre = _hajek(w * d, out_t_pre - out_c_pre)
    a_dt0, i_dt0 = _hajek(w * tpre, out_t_pre - out_c_pre)
    att = (a_tpost - a_tpre) - (a_cpost - a_cpre) + (a_dpost - a_dt1) - (a_dpre - a_dt0)
    psi = (i_tpost - i_tpre) - (i_cpost - i_cpre) + (i_dpost - i_dt1) - (i_dpre - i_dt0)
    return att, psi, {"cpre": a_cpre, "cpost": a_cpost, "out_c": out_c}


def imp_rc(y, post, d, x, w, trim_level: float = 0.995) -> DrDidResult:
    """Improved locally efficient doubly robust DiD ATT with repeated cross-sections.

    Matches DRDID::drdid_imp_rc (DRDID 1.2.3), DRDID::drdid(panel = FALSE)'s default.
    Sant'Anna & Zhao (2020), "Doubly robust difference-in-differences estimators", section 3.2.
    """
    ps, trim, notes = pscore_ipt(x, d, w, trim_level)
    tpre, tpost, cpre, cpost = _cells(d, post)
    odds = w * ps / (1.0 - ps)
    out_c_pre, _ = _fitted(x, y, odds, cpre)
    out_c_post, _ = _fitted(x, y, odds, cpost)
    out_t_pre, _ = _fitted(x, y, w, tpre)
    out_t_post, _ = _fitted(x, y, w, tpost)
    w_c = trim * w * ps * (1.0 - d) / (1.0 - ps)
    att, psi, _ = _dr_pieces(y, post, d, w, w_c * (1.0 - post), w_c * post, out_c_pre, out_c_post,
                             out_t_pre, out_t_post)
    return drdid_result(att, psi, notes + ("propensity score by inverse probability tilting; comparison-group outcome "
                                      "regressions by weighted least squares",))


def trad_rc(y, post, d, x, w, trim_level: float = 0.995) -> DrDidResult:
    """Locally efficient doubly robust DiD ATT with repeated cross-sections (logit propensity score, OLS).

    Matches DRDID::drdid_rc (DRDID 1.2.3): DRDID::drdid(panel = FALSE, estMethod = "trad").
    Sant'Anna & Zhao (2020), "Doubly robust difference-in-differences estimators", eq. (3.4).
    """
    ps, trim, notes = pscore_logit(x, d, w, trim_level)
    tpre, tpost, cpre, cpost = _cells(d, post)
    out_c_pre, _ = _fitted(x, y, w, cpre)
    out_c_post, _ = _fitted(x, y, w, cpost)
    out_t_pre, _ = _fitted(x, y, w, tpre)
    out_t_post, _ = _fitted(x, y, w, tpost)
    w_c = trim * w * ps * (1.0 - d) / (1.0 - ps)
    w_cpre, w_cpost = w_c * (1.0 - post), w_c * post
    att, psi, parts = _dr_pieces(y, post, d, w, w_cpre, w_cpost, out_c_pre, out_c_post, out_t_pre, out_t_post)

    # estimation effects of the four outcome regressions and the propensity score
    lin_c_pre = ols_linear_rep(x, y - out_c_pre, w * cpre)
    lin_c_post = ols_linear_rep(x, y - out_c_post, w * cpost)
    lin_t_pre = ols_linear_rep(x, y - out_t_pre, w * tpre)
    lin_t_post = ols_linear_rep(x, y - out_t_post, w * tpost)
    lin_ps = ps_linear_rep(x, d, ps, w)

    def colmean(v):
        return np.mean(v[:, None] * x, axis=0)

    w_tpre, w_tpost = w * tpre, w * tpost
    # DRDID 1.2.3 adds the pre-period regression's estimation effect with the post-period one's sign (its
    # inf.treat.or.post + inf.treat.or.pre, and inf.cont.or likewise), where the delta method subtracts it; the
    # two terms cancel when the propensity score balances the covariates, so the difference vanishes
    # asymptotically.  Kept as DRDID computes it: it reproduces DRDID's documented SE on sim_rc.
    treat_or = (lin_c_post @ (-colmean(w_tpost) / np.mean(w_tpost))
                + lin_c_pre @ (-colmean(w_tpre) / np.mean(w_tpre)))
    resid = y - parts["out_c"]
    m2_pre = colmean(w_cpre * (resid - parts["cpre"])) / np.mean(w_cpre)
    m2_post = colmean(w_cpost * (resid - parts["cpost"])) / np.mean(w_cpost)
    cont_ps = lin_ps @ (m2_post - m2_pre)
    cont_or = (lin_c_post @ (-colmean(w_cpost) / np.mean(w_cpost))
               + lin_c_pre @ (-colmean(w_cpre) / np.mean(w_cpre)))
    w_d = w * d
    mom_post = colmean(w_d / np.mean(w_d) - w_tpost / np.mean(w_tpost))
    mom_pre = colmean(w_d / np.mean(w_d) - w_tpre / np.mean(w_tpre))
    eff_or = (lin_t_post - lin_c_post) @ mom_post - (lin_t_pre - lin_c_pre) @ mom_pre
    return drdid_result(att, psi + treat_or - cont_ps - cont_or + eff_or, notes)


def ipw_rc(y, post, d, x, w, trim_level: float = 0.995) -> DrDidResult:
    """Inverse-probability-weighted DiD ATT with repeated cross-sections, weights not normalised.

    Matches DRDID::ipw_did_rc (DRDID 1.2.3): DRDID::ipwdid(panel = FALSE, normalized = FALSE).
    Abadie (2005), "Semiparametric difference-in-differences estimators", eq. (11).
    """
    ps, trim, notes = pscore_logit(x, d, w, trim_level)
    tpre, tpost, _, _ = _cells(d, post)
    w_c = trim * w * ps * (1.0 - d) / (1.0 - ps)
    pi, lam = np.mean(w * d), np.mean(w * post)
    share = {1: lam, 0: np.mean(w * (1.0 - post))}  # DRDID's lambda.hat and one.minus.lambda.hat
    in_period = {1: post, 0: 1.0 - post}

    def part(weight, period):
        eta = weight * y / (pi * share[period])
        a = float(np.mean(eta))
        inf = ((eta - a) - (w * d - pi) * a / pi
               - (w * in_period[period] - share[period]) * a / share[period])
        return a, eta, inf

    a_tpre, _, i_tpre = part(w * tpre, 0)
    a_tpost, _, i_tpost = part(w * tpost, 1)
    a_cpre, e_cpre, i_cpre = part(w_c * (1.0 - post), 0)
    a_cpost, e_cpost, i_cpost = part(w_c * post, 1)
    att = (a_tpost - a_tpre) - (a_cpost - a_cpre)
    lin_ps = ps_linear_rep(x, d, ps, w)
    mom = np.mean((e_cpre - e_cpost)[:, None] * x, axis=0)  # d(att)/d(gamma), DRDID's mom.logit.post - pre
    psi = (i_tpost - i_tpre) - (i_cpost - i_cpre) + lin_ps @ mom
    return drdid_result(att, psi, notes)


def std_ipw_rc(y, post, d, x, w, trim_level: float = 0.995) -> DrDidResult:
    """Normalised (Hajek) inverse-probability-weighted DiD ATT with repeated cross-sections.

    Matches DRDID::std_ipw_did_rc (DRDID 1.2.3): DRDID::ipwdid(panel = FALSE).
    Abadie (2005); Sant'Anna & Zhao (2020), section 2.
    """
    ps, trim, notes = pscore_logit(x, d, w, trim_level)
    tpre, tpost, _, _ = _cells(d, post)
    w_c = trim * w * ps * (1.0 - d) / (1.0 - ps)
    w_cpre, w_cpost = w_c * (1.0 - post), w_c * post
    a_tpre, i_tpre = _hajek(trim * w * tpre, y)
    a_tpost, i_tpost = _hajek(trim * w * tpost, y)
    a_cpre, i_cpre = _hajek(w_cpre, y)
    a_cpost, i_cpost = _hajek(w_cpost, y)
    att = (a_tpost - a_tpre) - (a_cpost - a_cpre)
    lin_ps = ps_linear_rep(x, d, ps, w)
    m2_pre = np.mean((w_cpre * (y - a_cpre))[:, None] * x, axis=0) / np.mean(w_cpre)
    m2_post = np.mean((w_cpost * (y - a_cpost))[:, None] * x, axis=0) / np.mean(w_cpost)
    psi = (i_tpost - i_tpre) - (i_cpost - i_cpre + lin_ps @ (m2_post - m2_pre))
    return drdid_result(att, psi, notes)


def reg_rc(y, post, d, x, w) -> DrDidResult:
    """Outcome-regression DiD ATT with repeated cross-sections.

    Matches DRDID::reg_did_rc (DRDID 1.2.3): DRDID::ordid(panel = FALSE).
    Heckman, Ichimura & Todd (1997); Sant'Anna & Zhao (2020), section 2, eq. (2.2).
    """
    tpre, tpost, cpre, cpost = _cells(d, post)
    out_pre, _ = _fitted(x, y, w, cpre)
    out_post, _ = _fitted(x, y, w, cpost)
    a_tpre, i_tpre = _hajek(w * tpre, y)
    a_tpost, i_tpost = _hajek(w * tpost, y)
    w_d = w * d
    a_c, _ = _hajek(w_d, out_post - out_pre)
    att = (a_tpost - a_tpre) - a_c
    lin_pre = ols_linear_rep(x, y - out_pre, w * cpre)
    lin_post = ols_linear_rep(x, y - out_post, w * cpost)
    m1 = np.mean(w_d[:, None] * x, axis=0)
    inf_c = (w_d * (out_post - out_pre) - w_d * a_c + lin_post @ m1 - lin_pre @ m1) / np.mean(w_d)
    return drdid_result(att, (i_tpost - i_tpre) - inf_c)
