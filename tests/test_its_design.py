"""The interrupted time series design (issue 16): planning, the checks on the series, the effects, the
falsification checks and the figure.  R parity is in tests/parity/test_its_parity.py."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import causalspec as cs
from causalspec.errors import AdjustmentError, DataError, EstimationError, UnsupportedError
from causalspec.estimators.its import newey_west, segmented_design
from causalspec.report._its_plots import its_plot

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "specs" / "its_seatbelts.yaml"
SEATS = ROOT / "tests" / "parity" / "data" / "seatbelts_seats.csv"


def _spec(design=None, **top):
    body = {"name": "its", "treatment": "d", "outcome": "y",
            "design": {"type": "interrupted_time_series", "time": "t", **(design or {})}, **top}
    return cs.Spec(**body)


def _series(n=60, t0=31, level=-5.0, slope=0.3, seed=1, noise=0.5):
    rng = np.random.default_rng(seed)
    t = np.arange(1, n + 1)
    post = t >= t0
    e = np.zeros(n)
    u = rng.normal(0, noise, n)
    for i in range(n):  # AR(1) errors
        e[i] = (0.3 * e[i - 1] if i else 0.0) + u[i]
    y = 10 + 0.1 * t + level * post + slope * (t - t0) * post + e
    return pd.DataFrame({"t": t, "y": y, "d": post.astype(int)})


def _fit(spec, data):
    return cs.fit(cs.plan(spec), data)


# ------------------------------------------------------------------------------------------------ the bundled spec
def test_the_bundled_seatbelts_spec_runs_and_reports_the_level_change_with_its_effects():
    result = cs.run(SPEC)
    its = result.extras["interrupted_time_series"]
    assert result.effect.term == "level" and result.effect.estimate < 0
    assert its["interruptions"] == ["1983-02"] and its["periods"] == {"first": "1969-01", "last": "1984-12",
                                                                      "pre": 169, "post": 23}
    terms = [e["term"] for e in its["effects"]]
    assert terms == ["level", "trend", "average_effect", "cumulative_effect", "relative_effect"]
    effects = {e["term"]: e for e in its["effects"]}
    assert effects["cumulative_effect"]["estimate"] == pytest.approx(23 * effects["average_effect"]["estimate"])
    assert its["variance"]["lag"] == 1 and "NeweyWest(fit)" in result.plan.vcov.r_equivalent
    assert not result.sensitivity.to_dict()["computed"] if hasattr(result.sensitivity, "to_dict") else True
    assert "average effect over the 23 post-interruption periods" in result.summary()
    result.to_json()  # JSON-safe


def test_explain_states_the_identifying_assumptions_and_why_sensitivity_bounds_do_not_apply():
    plan = cs.plan(cs.load(SPEC))
    text = " ".join(plan.explain().split())
    assert "Strategy interrupted time series (no concurrent change at the interruption)" in text
    assert "No concurrent change: nothing but law changed the level or trend of drivers at 1983-02" in text
    assert "The pre-interruption trend and seasonal pattern would have continued" in text
    assert "Sensitivity off: omitted-variable-bias bounds and E-values" in text
    assert "the spec's estimand ATE (the default) is reported as the ATT" in text
    assert plan.sensitivity.refutations == () and not plan.sensitivity.enabled


def test_comparative_its_states_the_shared_trend_assumption_and_uses_the_group_interactions():
    spec = _spec({"comparison": "seat", "time": "month"}, treatment="law", outcome="killed")
    plan = cs.plan(spec)
    assert "The comparison series (by seat) shares the interrupted series' trend" in plan.explain()
    assert plan.vcov.kind == "panel_newey_west"
    result = cs.fit(plan, pd.read_csv(SEATS))
    its = result.extras["interrupted_time_series"]
    assert result.effect.term == "group_level"
    assert its["interrupted_series"] == "front" and its["comparison_series"] == ["rear"]
    assert its["interruptions_from"] == "the periods at which 'law' changes value"
    assert {b["series"] for b in its["falsification"]["breusch_godfrey"]} == {"front", "rear"}


# ------------------------------------------------------------------------------------------------ the effects
def test_segmented_regression_recovers_known_level_and_slope_changes():
    data = _series(n=400, t0=201, level=-5.0, slope=0.3, noise=0.5, seed=2)
    result = _fit(_spec({"variance": "ar1_gls"}), data)
    rows = {r.term: r for r in result.coefficients}
    assert abs(rows["level"].estimate - (-5.0)) < 4 * rows["level"].std_error
    assert abs(rows["trend"].estimate - 0.3) < 4 * rows["trend"].std_error
    assert abs(result.extras["interrupted_time_series"]["variance"]["phi"] - 0.3) < 0.1


def test_two_interruptions_get_their_own_level_and_slope_terms_and_the_effect_adds_them_up():
    data = _series(n=90, t0=31)
    data["d"] = np.where(data.t >= 61, 2, data.d)  # a second phase from period 61
    spec = _spec({"interruptions": [31, 61], "variance": "ols"})
    result = _fit(spec, data)
    its = result.extras["interrupted_time_series"]
    assert its["model"]["effect_terms"] == ["level_1", "level_2", "trend_1", "trend_2"]
    b = {r.term: r.estimate for r in result.coefficients}
    t = np.arange(31, 91)
    effect = b["level_1"] + b["trend_1"] * (t - 31) + (t >= 61) * (b["level_2"] + b["trend_2"] * (t - 61))
    effects = {e["term"]: e for e in its["effects"]}
    assert effects["average_effect"]["estimate"] == pytest.approx(effect.mean(), rel=1e-12)
    assert effects["cumulative_effect"]["estimate"] == pytest.approx(effect.sum(), rel=1e-12)
    # left out, the interruptions are where the treatment changes
    derived = _fit(_spec({"variance": "ols"}), data)
    assert derived.coefficients == result.coefficients


def test_the_relative_effect_uses_the_delta_method():
    result = _fit(_spec({"variance": "ols"}), _series())
    its = result.extras["interrupted_time_series"]
    rel = next(e for e in its["effects"] if e["term"] == "relative_effect")
    design = segmented_design(np.arange(1, 61), [31])
    b = np.array([r.estimate for r in result.coefficients])
    V = result.vcov().to_numpy()
    post = np.arange(30, 60)

    def ratio(beta):
        eff = design.X[post][:, 2:] @ beta[2:]
        return eff.mean() / (design.X[post][:, :2] @ beta[:2]).mean()
    grad = np.array([(ratio(b + h) - ratio(b - h)) / 2e-6 for h in np.eye(4) * 1e-6])
    assert rel["estimate"] == pytest.approx(ratio(b), rel=1e-12)
    assert rel["std_error"] == pytest.approx(float(np.sqrt(grad @ V @ grad)), rel=1e-6)


def test_numeric_and_text_periods_give_the_same_fit():
    data = pd.read_csv(ROOT / "specs" / "data" / "seatbelts.csv")
    by_month = cs.run(SPEC, refute=False)
    data["decimal"] = 1969 + np.arange(len(data)) / 12
    spec = cs.load(SPEC).model_dump()
    spec["design"].update(time="decimal", interruptions=[1983 + 1 / 12])
    numeric = cs.fit(cs.plan(cs.Spec(**spec)), data)
    assert [r.estimate for r in numeric.coefficients] == pytest.approx([r.estimate for r in by_month.coefficients],
                                                                       rel=1e-12)


def test_quarters_and_dates_are_periods():
    data = _series(n=40, t0=21)
    data["q"] = [f"{2000 + i // 4}-Q{i % 4 + 1}" for i in range(40)]
    data["day"] = [(pd.Timestamp("2020-01-06") + pd.Timedelta(weeks=i)).date().isoformat() for i in range(40)]
    a = _fit(_spec({"time": "q", "interruptions": ["2005-Q1"], "variance": "ols"}), data)
    b = _fit(_spec({"time": "day", "variance": "ols"}), data)
    assert [r.estimate for r in a.coefficients] == pytest.approx([r.estimate for r in b.coefficients], rel=1e-12)


# ------------------------------------------------------------------------------------------------ bad input
def test_an_interruption_the_treatment_contradicts_is_refused_where_it_is_written():
    with pytest.raises(DataError, match=r"design.interruptions\[0\]: 'd' is non-zero at 31, before the first "
                                        r"interruption 35"):
        _fit(_spec({"interruptions": [35]}), _series())
    data = _series()
    data.loc[data.t >= 50, "d"] = 2
    with pytest.raises(DataError, match=r"treatment: 'd' changes value at 50, which is not listed in "
                                        r"design.interruptions"):
        _fit(_spec({"interruptions": [31]}), data)
    with pytest.raises(DataError, match=r"design.interruptions\[0\]: 99 is not a period of the series"):
        _fit(_spec({"interruptions": [99]}), _series())


def test_an_interruption_at_the_first_or_last_period_is_refused():
    data = _series(t0=60)
    with pytest.raises(DataError, match=r"treatment: the interruption 60 is the last period: its segment has 1 "
                                        r"period"):
        _fit(_spec(), data)
    data = _series()
    data["d"] = 1
    data.loc[0, "d"] = 0
    data.loc[1:, "d"] = 1
    with pytest.raises(DataError, match=r"too few|only 1 period"):
        _fit(_spec(), data)
    with pytest.raises(DataError, match=r"treatment: 'd' is 1 in the first period 1"):
        _fit(_spec(), data.assign(d=lambda f: np.where(f.t < 5, 1, np.where(f.t < 31, 0, 1))))


def test_too_few_pre_periods_are_refused_and_a_short_pre_period_is_warned_about():
    with pytest.raises(DataError, match=r"only 2 period\(s\) precede the first interruption 3"):
        _fit(_spec(), _series(t0=3))
    result = _fit(_spec({"seasonality": {"period": 4}}), _series(t0=9))
    assert any("the pre-period has 8 periods" in w and "seasonal cycles" not in w for w in result.warnings)
    seasonal = _fit(_spec({"seasonality": {"period": 12}}), _series(n=60, t0=21))
    assert any("the pre-period has 20 periods" in w and "two full seasonal cycles (2 x 12 = 24)" in w
               for w in seasonal.warnings)
    assert result.extras["interrupted_time_series"]["falsification"]["pre_period"]["short"]


def test_duplicate_periods_and_gaps_are_refused_with_the_periods_named():
    data = _series()
    with pytest.raises(DataError, match=r"design.time: the series has more than one row for the period\(s\) 5"):
        _fit(_spec(), pd.concat([data, data.iloc[[4]]]))
    with pytest.raises(DataError, match=r"design.time: the series has gaps: 2 period\(s\) are missing \(10, 11\)"):
        _fit(_spec(), data.drop(index=[9, 10]))
    gap = data.copy()
    gap.loc[20, "y"] = np.nan  # the missing outcome is dropped, which leaves a gap
    with pytest.raises(DataError, match=r"missing \(21\).*rows with a missing value"):
        _fit(_spec(), gap)


def test_every_dropped_row_is_counted():
    data = _series()
    data.loc[59, "y"] = np.nan  # the last period: no gap
    result = _fit(_spec({"variance": "ols"}), data)
    assert result.dropped == (("missing values in 'y'", 1),) and result.nobs == 59 and result.n_input == 60


def test_a_text_outcome_and_a_text_period_column_are_refused():
    data = _series()
    with pytest.raises(DataError, match=r"outcome: the outcome column 'y' is not numeric"):
        _fit(_spec(), data.assign(y=data.y.astype(str) + "x"))
    with pytest.raises(DataError, match=r"design.time: the period column 't' has values such as 'p1'"):
        _fit(_spec(), data.assign(t="p" + data.t.astype(str)))
    with pytest.raises(DataError, match=r"design.time: the periods are not equally spaced"):
        _fit(_spec(), data.assign(t=data.t + np.where(data.t > 40, 0.5, 0)))


def test_comparative_its_needs_one_interrupted_series():
    data = pd.read_csv(SEATS)
    spec = _spec({"comparison": "seat", "time": "month"}, treatment="law", outcome="killed")
    with pytest.raises(DataError, match=r"design.comparison: the treatment 'law' is non-zero in 2 series"):
        _fit(spec, data.assign(law=np.where(data.month >= "1983-02", 1, 0)))
    with pytest.raises(DataError, match=r"design.comparison: 'seat' names one series"):
        _fit(spec, data[data.seat == "front"])


# ------------------------------------------------------------------------------------------------ the options
def test_inference_vcov_applies_only_to_ols_and_with_vcov_follows_it():
    with pytest.raises(UnsupportedError, match=r"inference.vcov: HC1 is not available with design.variance: "
                                               r"newey_west"):
        cs.plan(_spec(inference={"vcov": "HC1"}))
    with pytest.raises(UnsupportedError, match=r"inference.cluster: clustered variances need many clusters"):
        cs.plan(_spec({"variance": "ols"}, inference={"vcov": "CR1", "cluster": ["t"]}))
    result = _fit(_spec({"variance": "ols"}, inference={"vcov": "HC1"}), _series())
    assert result.plan.vcov.r_equivalent == 'sandwich::vcovHC(type = "HC1")'
    assert result.with_vcov("HC3").plan.vcov.kind == "HC3"
    with pytest.raises(UnsupportedError, match=r"inference.vcov: HC3 is not available with design.variance: "
                                               r"newey_west"):
        _fit(_spec(), _series()).with_vcov("HC3")


@pytest.mark.parametrize("design, loc", [
    ({"variance": "ar1_gls", "lag": 2}, "design.lag"),
    ({"variance": "ols", "adjust": True}, "design.adjust"),
    ({"comparison": "g", "prewhite": True}, "design.prewhite"),
    ({"ar1_method": "ML"}, "design.ar1_method"),
    ({"seasonality": {"period": 12, "terms": "dummies", "harmonics": 2}}, "design.seasonality.harmonics"),
    ({"seasonality": {"period": 4, "harmonics": 3}}, "design.seasonality.harmonics"),
])
def test_an_option_the_variance_does_not_read_is_refused_where_it_is_written(design, loc):
    with pytest.raises(UnsupportedError, match=rf"^{loc.replace('.', '[.]')}: "):
        cs.plan(_spec(design))


def test_a_covariate_named_like_a_generated_term_and_an_adjustment_set_are_refused():
    with pytest.raises(AdjustmentError, match=r"covariates\[0\]: 'trend' is .* a term the segmented regression"):
        cs.plan(_spec(covariates=["trend"], dag={"edges": ["d -> y", "trend -> y"]}))
    with pytest.raises(AdjustmentError, match=r"adjustment: an interrupted time series"):
        cs.plan(_spec(adjustment=["z"], dag={"edges": ["d -> y", "z -> y", "z -> d"]}))
    with pytest.raises(AdjustmentError, match=r"design.time: the time column 'y' is the outcome"):
        cs.plan(_spec({"time": "y"}))


def test_the_newey_west_options_are_named_in_the_r_call():
    plan = cs.plan(_spec({"lag": 3, "prewhite": False, "adjust": True}))
    assert plan.vcov.r_equivalent == ("lmtest::coeftest(fit, vcov. = sandwich::NeweyWest(fit, lag = 3, prewhite = "
                                      "FALSE, adjust = TRUE))")
    assert cs.plan(_spec({"variance": "ar1_gls", "ar1_method": "ML"})).vcov.r_equivalent == (
        'nlme::gls(correlation = corAR1(form = ~ time), method = "ML")')


def test_a_given_lag_is_used_and_the_automatic_one_follows_bwneweywest():
    data = _series()
    given = _fit(_spec({"lag": 4, "prewhite": False}), data).extras["interrupted_time_series"]["variance"]
    assert given["lag"] == 4 and given["bandwidth"] is None and given["lag_rule"] == "given (design.lag)"
    auto = _fit(_spec(), data).extras["interrupted_time_series"]["variance"]
    assert auto["lag"] == int(np.floor(auto["bandwidth"]))


def test_newey_west_with_lag_zero_and_no_prewhitening_is_hc0():
    data = _series()
    design = segmented_design(data.t.to_numpy(), [31])
    y = data.y.to_numpy()
    beta = np.linalg.lstsq(design.X, y, rcond=None)[0]
    e = y - design.X @ beta
    B = np.linalg.inv(design.X.T @ design.X)
    hc0 = B @ (design.X.T * e**2) @ design.X @ B
    got = newey_west(design.X, e, design.names, lag=0, prewhite=False).matrix
    assert np.allclose(got, hc0, rtol=1e-12, atol=0)


# ------------------------------------------------------------------------------------------------ falsification
def test_placebo_interruptions_default_to_the_pre_period_quartiles_and_can_be_named_or_turned_off():
    data = _series(n=60, t0=41)
    placebo = _fit(_spec(), data).extras["interrupted_time_series"]["falsification"]["placebo"]
    assert [p["period"] for p in placebo] == ["11", "21", "31"]
    assert all(p["computed"] and "level_change" in p for p in placebo)
    named = _fit(_spec({"placebo_interruptions": [15]}), data).extras["interrupted_time_series"]
    assert [p["period"] for p in named["falsification"]["placebo"]] == ["15"]
    off = _fit(_spec({"placebo_interruptions": []}), data).extras["interrupted_time_series"]
    assert off["falsification"]["placebo"] == []
    with pytest.raises(DataError, match=r"design.placebo_interruptions\[0\]: the placebo interruption 45 must fall "
                                        r"in the pre-period"):
        _fit(_spec({"placebo_interruptions": [45]}), data)


def test_autocorrelated_ols_residuals_are_warned_about_when_the_variance_ignores_them():
    data = _series(n=200, t0=101, noise=1.0)
    rng = np.random.default_rng(5)
    e = np.zeros(200)
    for i in range(1, 200):
        e[i] = 0.8 * e[i - 1] + rng.normal()
    data["y"] = data.y + 3 * e
    ols = _fit(_spec({"variance": "ols", "placebo_interruptions": []}), data)
    assert any("the OLS residuals are autocorrelated (Breusch-Godfrey of order 1" in w for w in ols.warnings)
    nw = _fit(_spec({"placebo_interruptions": []}), data)
    assert not any("autocorrelated" in w for w in nw.warnings)
    bg = nw.extras["interrupted_time_series"]["falsification"]["breusch_godfrey"][0]
    assert bg["order"] == 1 and bg["p_value"] < 0.05


# ------------------------------------------------------------------------------------------------ the figure
def test_the_figure_draws_the_series_segments_and_counterfactual_band():
    import matplotlib.axes

    ax = its_plot(cs.run(SPEC, refute=False))
    assert isinstance(ax, matplotlib.axes.Axes)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["drivers", "fitted segments", "counterfactual, 95% CI", "counterfactual (no interruption)"]
    with pytest.raises(UnsupportedError, match="no interrupted time series"):
        its_plot(cs.run(ROOT / "specs" / "mroz_iv.yaml", refute=False))


def test_a_collinear_design_is_refused_with_the_terms_named():
    with pytest.raises(EstimationError, match=r"design: the term\(s\) .* are collinear"):
        _fit(_spec({"seasonality": {"period": 12, "terms": "dummies"}, "variance": "ols"}), _series(n=14, t0=8))
