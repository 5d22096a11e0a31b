"""Properties of att_gt / aggte that hold whatever the data: invariances, identities and the bootstrap."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from causalspec.estimators.callaway_santanna import aggte, att_gt, multiplier_bootstrap
from parity._cases import case_data, load_case

LAYOUT = dict(yname="lemp", tname="year", idname="countyreal", gname="first.treat")


@pytest.fixture(scope="module")
def mpdta() -> pd.DataFrame:
    return case_data(load_case("cs_mpdta_nevertreated_lpop"))


@pytest.fixture(scope="module")
def varying(mpdta):
    return att_gt(mpdta, **LAYOUT, xformla="~ lpop", control_group="notyettreated")


def test_standard_errors_are_the_root_mean_square_of_the_influence_functions(varying):
    n = varying.n_units
    assert np.allclose(varying.se, np.sqrt(np.mean(varying.influence ** 2, axis=0) / n), rtol=1e-12)
    assert np.allclose(np.sqrt(np.diag(varying.vcov)), varying.se, rtol=1e-12)


def test_results_do_not_depend_on_row_order(mpdta, varying):
    shuffled = mpdta.sample(frac=1.0, random_state=7).reset_index(drop=True)
    again = att_gt(shuffled, **LAYOUT, xformla="~ lpop", control_group="notyettreated")
    assert np.allclose(again.att, varying.att, rtol=1e-10, atol=0)
    assert np.allclose(again.se, varying.se, rtol=1e-10, atol=0)


def test_universal_base_period_keeps_post_treatment_effects_and_zeroes_the_base_cell(mpdta, varying):
    uni = att_gt(mpdta, **LAYOUT, xformla="~ lpop", control_group="notyettreated", base_period="universal")
    post_u = dict(zip(zip(uni.group[uni.post], uni.time[uni.post]), uni.att[uni.post]))
    post_v = dict(zip(zip(varying.group[varying.post], varying.time[varying.post]), varying.att[varying.post]))
    assert post_u.keys() == post_v.keys()
    assert np.allclose([post_u[k] for k in post_v], list(post_v.values()), rtol=1e-10)
    # The period before treatment is the reference: zero by construction, no standard error.
    base = uni.time == uni.group - 1
    assert np.all(uni.att[base] == 0) and np.all(np.isnan(uni.se[base]))
    assert len(uni.att) == len(uni.groups) * len(uni.periods)


def test_universal_pre_period_effects_accumulate_the_varying_ones(mpdta):
    # With never-treated controls (a fixed comparison group) the long differences to g-1 are
    # sums of the short, period-by-period differences.
    kw = dict(**LAYOUT, control_group="nevertreated")
    v = att_gt(mpdta, **kw)
    u = att_gt(mpdta, **kw, base_period="universal")
    cell_v = dict(zip(zip(v.group, v.time), v.att))
    g = 2007.0
    for t in (2003.0, 2004.0, 2005.0):
        want = -sum(cell_v[(g, s)] for s in np.arange(t + 1, g))
        got = u.att[(u.group == g) & (u.time == t)][0]
        assert got == pytest.approx(want, rel=1e-9)


def test_anticipation_moves_the_base_period_back(mpdta):
    res = att_gt(mpdta, **LAYOUT, anticipation=1)
    # With one period of anticipation cohort 2007's effects are measured against 2005.
    wide = mpdta.pivot(index="countyreal", columns="year", values="lemp")
    g = mpdta.drop_duplicates("countyreal").set_index("countyreal")["first.treat"]
    dy = wide[2007] - wide[2005]
    want = dy[g == 2007].mean() - dy[g == 0].mean()
    got = res.att[(res.group == 2007) & (res.time == 2007)][0]
    assert got == pytest.approx(want, rel=1e-12)
    assert 2004 not in res.groups  # treated within the anticipation window of the first period


def test_two_periods_without_covariates_is_the_classic_difference_in_differences():
    rng = np.random.default_rng(3)
    n = 400
    g = np.where(rng.random(n) < 0.4, 2, 0)
    y1 = rng.normal(size=n)
    y2 = y1 + 0.5 + 1.5 * (g == 2) + rng.normal(size=n)
    data = pd.DataFrame({"id": np.tile(np.arange(n), 2), "t": np.repeat([1, 2], n),
                         "g": np.tile(g, 2), "y": np.concatenate([y1, y2])})
    res = att_gt(data, "y", "t", "id", "g")
    d = y2 - y1
    assert res.att[0] == pytest.approx(d[g == 2].mean() - d[g == 0].mean(), rel=1e-12)
    # Unit-clustered SE of a difference in means: sqrt(var1/n1 + var0/n0) with 1/n variances.
    se = np.sqrt(d[g == 2].var() / (g == 2).sum() + d[g == 0].var() / (g == 0).sum())
    assert res.se[0] == pytest.approx(se, rel=1e-12)
    assert res.pretest_W is None and res.pretest_note


def test_dynamic_window_and_balancing_select_event_times(varying):
    full = aggte(varying, type="dynamic")
    window = aggte(varying, type="dynamic", min_e=-1, max_e=1)
    assert list(window.egt) == [-1, 0, 1]
    assert np.allclose(window.att_egt, full.att_egt[np.isin(full.egt, [-1, 0, 1])], rtol=1e-12)
    bal = aggte(varying, type="dynamic", balance_e=1)
    # Only cohorts seen for at least two post periods (2004, 2006) remain; event times -2..1.
    assert list(bal.egt) == [-2, -1, 0, 1]
    e0 = varying.att[(varying.time == varying.group) & (varying.group <= 2006)]
    w = np.array([np.mean(varying.unit_group == g) for g in (2004, 2006)])
    assert bal.att_egt[2] == pytest.approx(np.sum(w * e0) / w.sum(), rel=1e-12)


def test_calendar_and_group_overall_effects_are_their_stated_averages(varying):
    cal = aggte(varying, type="calendar")
    assert cal.overall_att == pytest.approx(np.mean(cal.att_egt), rel=1e-12)
    grp = aggte(varying, type="group")
    pg = np.array([np.mean(varying.unit_group == g) for g in grp.egt])
    assert grp.overall_att == pytest.approx(np.sum(pg * grp.att_egt) / pg.sum(), rel=1e-12)


def test_multiplier_bootstrap_is_reproducible_and_close_to_the_analytical_errors(mpdta, varying):
    a = att_gt(mpdta, **LAYOUT, xformla="~ lpop", control_group="notyettreated", bstrap=True, cband=True,
               biters=999, rng=np.random.default_rng(11))
    b = att_gt(mpdta, **LAYOUT, xformla="~ lpop", control_group="notyettreated", bstrap=True, cband=True,
               biters=999, rng=np.random.default_rng(11))
    assert np.array_equal(a.se, b.se) and a.crit_val == b.crit_val
    assert np.allclose(a.se, varying.se, rtol=0.15)
    # A band covering 12 estimates jointly is wider than a pointwise interval.
    assert 1.96 < a.crit_val < 4


@pytest.mark.parametrize("weights", ["mammen", "rademacher"])
def test_bootstrap_standard_error_of_a_mean_matches_its_formula(weights):
    rng = np.random.default_rng(5)
    x = rng.normal(size=2000)
    psi = x - x.mean()
    out = multiplier_bootstrap(psi, np.random.default_rng(1), biters=2000, weights=weights)
    assert out.se[0] == pytest.approx(np.sqrt(np.mean(psi ** 2) / psi.size), rel=0.06)
    assert out.crit_val == pytest.approx(1.96, rel=0.08)


def test_aggte_bootstrap_band_is_at_least_pointwise(varying):
    agg = aggte(varying, type="dynamic", bstrap=True, cband=True, rng=np.random.default_rng(2))
    assert agg.crit_val_egt >= 1.959
    assert np.allclose(agg.se_egt, aggte(varying, type="dynamic").se_egt, rtol=0.15)


def test_results_are_immutable(varying):
    with pytest.raises(ValueError):
        varying.att[0] = 1.0
    with pytest.raises(AttributeError):
        varying.crit_val = 3.0  # type: ignore[misc]


def test_time_varying_covariates_are_taken_in_the_base_period(mpdta):
    rng = np.random.default_rng(8)
    data = mpdta.assign(xt=mpdta["lpop"] + rng.normal(scale=0.5, size=len(mpdta)))
    res = att_gt(data, **LAYOUT, xformla="~ xt", est_method="reg")
    wide_y = data.pivot(index="countyreal", columns="year", values="lemp")
    wide_x = data.pivot(index="countyreal", columns="year", values="xt")
    g = data.drop_duplicates("countyreal").set_index("countyreal")["first.treat"]
    # Cohort 2006 in 2007: base period 2005, comparison = never treated, outcome regression on x(2005).
    dy = (wide_y[2007] - wide_y[2005]).to_numpy()
    x = np.column_stack([np.ones(len(g)), wide_x[2005].to_numpy()])
    ctrl, trt = (g == 0).to_numpy(), (g == 2006).to_numpy()
    beta = np.linalg.lstsq(x[ctrl], dy[ctrl], rcond=None)[0]
    want = dy[trt].mean() - (x[trt] @ beta).mean()
    got = res.att[(res.group == 2006) & (res.time == 2007)][0]
    assert got == pytest.approx(want, rel=1e-10)
