"""Known-truth simulations for the Callaway & Sant'Anna estimators (fixed seeds).

The data follow conditional parallel trends: a covariate shifts both the
adoption date and the outcome trend, so the unconditional DiD is biased while
the dr, ipw and reg estimators with the covariate recover the true ATT(g,t).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from causalspec.estimators.callaway_santanna import aggte, att_gt
from causalspec.estimators.callaway_santanna._drdid import Cell2x2, drdid_panel, reg_did_panel, std_ipw_did_panel

PERIODS = np.arange(1, 6)
COHORTS = (3, 4, 5)


def true_att(g: float, t: float) -> float:
    """Effect of cohort g in period t: zero before adoption, growing with exposure after."""
    return 0.0 if t < g else 0.5 + 0.25 * (t - g) + 0.1 * (g - 3)


def simulate(n: int = 3000, seed: int = 20240917) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    # Higher x: more likely in cohorts 3 and 4; cohort 5 and the never treated share one x distribution.
    score = np.column_stack([np.zeros(n), 0.6 * x, 0.3 * x, 0.0 * x])
    p = np.exp(score) / np.exp(score).sum(axis=1, keepdims=True)
    choice = np.array([rng.choice(4, p=row) for row in p])
    g = np.array([0, *COHORTS])[choice]
    alpha = rng.normal(size=n) + x
    rows = []
    for t in PERIODS:
        trend = 0.3 * t + 0.4 * x * t  # x-specific trends: parallel only conditional on x
        eff = np.array([true_att(gi, t) if gi else 0.0 for gi in g])
        y = alpha + trend + eff + rng.normal(scale=0.5, size=n)
        rows.append(pd.DataFrame({"id": np.arange(n), "t": t, "g": g, "x": x, "y": y}))
    return pd.concat(rows, ignore_index=True)


@pytest.fixture(scope="module")
def panel():
    return simulate()


@pytest.mark.parametrize("est_method", ["dr", "ipw", "reg"])
@pytest.mark.parametrize("control_group", ["nevertreated", "notyettreated"])
def test_covariate_adjusted_att_gt_recovers_the_true_effects(panel, est_method, control_group):
    res = att_gt(panel, "y", "t", "id", "g", xformla="~ x", est_method=est_method, control_group=control_group)
    truth = np.array([true_att(g, t) for g, t in zip(res.group, res.time)])
    err = np.abs(res.att - truth)
    assert np.all(np.isfinite(res.att))
    assert np.all(err < 4 * res.se), (res.att, truth, res.se)
    assert err.max() < 0.12


def test_unconditional_did_is_biased_when_trends_depend_on_the_covariate(panel):
    res = att_gt(panel, "y", "t", "id", "g")
    truth = np.array([true_att(g, t) for g, t in zip(res.group, res.time)])
    post = (res.group <= res.time) & (res.group < 5)
    # Cohorts 3 and 4 have higher x and so steeper trends: their post-period estimates are biased upwards.
    bias = res.att[post] - truth[post]
    assert np.all(bias > 0) and bias.mean() > 0.15


def test_aggregations_recover_cohort_share_weighted_truth(panel):
    res = att_gt(panel, "y", "t", "id", "g", xformla="~ x")
    shares = {g: np.mean(res.unit_group == g) for g in res.groups}
    post = [(g, t) for g, t in zip(res.group, res.time) if g <= t]

    simple = aggte(res, type="simple")
    w = np.array([shares[g] for g, _ in post])
    assert abs(simple.overall_att - np.sum(w * [true_att(g, t) for g, t in post]) / w.sum()) < 3 * simple.overall_se

    dyn = aggte(res, type="dynamic")
    for e, est, se in zip(dyn.egt, dyn.att_egt, dyn.se_egt):
        cells = [(g, g + e) for g in res.groups if g + e in PERIODS]
        we = np.array([shares[g] for g, _ in cells])
        assert abs(est - np.sum(we * [true_att(g, t) for g, t in cells]) / we.sum()) < 4 * se

    grp = aggte(res, type="group")
    for g, est, se in zip(grp.egt, grp.att_egt, grp.se_egt):
        assert abs(est - np.mean([true_att(g, t) for t in PERIODS if t >= g])) < 4 * se


def _one_cell(panel):
    wide = panel.pivot(index="id", columns="t", values="y")
    unit = panel.drop_duplicates("id").set_index("id")
    keep = unit["g"].isin([0, 4]).to_numpy()
    d = (unit["g"].to_numpy()[keep] == 4).astype(float)
    x = np.column_stack([np.ones(keep.sum()), unit["x"].to_numpy()[keep]])
    return wide[4].to_numpy()[keep], wide[3].to_numpy()[keep], d, x


def test_two_by_two_estimators_agree_with_statsmodels_fits(panel):
    y1, y0, d, x = _one_cell(panel)
    dy = y1 - y0
    # Outcome regression: mean change of the treated minus their predicted change from the comparison fit.
    beta = sm.OLS(dy[d == 0], x[d == 0]).fit().params
    att_reg, _ = reg_did_panel(Cell2x2(y1, y0, d, x))
    assert att_reg == pytest.approx(dy[d == 1].mean() - (x[d == 1] @ beta).mean(), rel=1e-10)
    # Hajek IPW with a maximum-likelihood logit.
    ps = sm.GLM(d, x, family=sm.families.Binomial()).fit(tol=1e-14).fittedvalues
    w0 = ps * (1 - d) / (1 - ps)
    att_ipw, _ = std_ipw_did_panel(Cell2x2(y1, y0, d, x))
    assert att_ipw == pytest.approx(dy[d == 1].mean() - np.sum(w0 * dy) / w0.sum(), rel=1e-8)
    # Doubly robust: IPW applied to the outcome-regression residuals.
    resid = dy - x @ beta
    att_dr, _ = drdid_panel(Cell2x2(y1, y0, d, x))
    assert att_dr == pytest.approx(resid[d == 1].mean() - np.sum(w0 * resid) / w0.sum(), rel=1e-8)


def test_without_covariates_all_two_by_two_estimators_equal_the_difference_in_mean_changes(panel):
    y1, y0, d, x = _one_cell(panel)
    dy = y1 - y0
    want = dy[d == 1].mean() - dy[d == 0].mean()
    c = Cell2x2(y1, y0, d, x[:, :1])
    for est in (drdid_panel, std_ipw_did_panel, reg_did_panel):
        att, psi = est(c)
        assert att == pytest.approx(want, rel=1e-12)
        # Influence functions are centred: their mean is zero at the estimate.
        assert abs(psi.mean()) < 1e-10
