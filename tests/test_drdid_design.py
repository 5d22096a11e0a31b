"""The two-period DR-DiD design (issue 13): the kernels on simulated data with a known ATT, the options each
change the plan or are refused where they are written, and DRDID's data checks as located errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import causalspec as cs
from causalspec.errors import CausalSpecError, DataError, UnsupportedError
from causalspec.estimators.drdid import (
    METHODS,
    DrDidFailure,
    cross_sections,
    drdid_imp,
    drdid_se,
    panel_data,
)
from causalspec.estimators.drdid._nuisance import pscore_ipt

ATT = 2.0
COVS = ["x1", "x2"]


def _simulate(n: int, seed: int, panel: bool = True) -> pd.DataFrame:
    """Selection on x, trends that depend on x (so unconditional DiD is biased), a constant ATT of 2."""
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.binomial(1, 0.4, size=n).astype(float)
    d = (rng.uniform(size=n) < 1 / (1 + np.exp(-(-0.5 + 0.8 * x1 - 0.5 * x2)))).astype(float)
    level = 1 + x1 + x2 + rng.normal(size=n) + 0.5 * d
    y0 = level + rng.normal(size=n)
    y1 = level + 1 + 1.5 * x1 - x2 + ATT * d + rng.normal(size=n)
    if panel:
        ids = np.arange(n)
        return pd.DataFrame({"id": np.r_[ids, ids], "year": np.r_[np.full(n, 2000), np.full(n, 2001)],
                             "y": np.r_[y0, y1], "d": np.r_[d, d], "x1": np.r_[x1, x1], "x2": np.r_[x2, x2]})
    post = (rng.uniform(size=n) < 0.5).astype(float)
    return pd.DataFrame({"post": post, "y": np.where(post == 1, y1, y0), "d": d, "x1": x1, "x2": x2})


PANEL = _simulate(4000, 1)
RC = _simulate(8000, 2, panel=False)


def _spec(panel: bool = True, **design) -> cs.Spec:
    base = ({"unit": "id", "time": "year"} if panel else {"post": "post", "panel": False})
    edges = ["d -> y"] + [f"{c} -> d" for c in COVS] + [f"{c} -> y" for c in COVS]
    return cs.Spec(name="drdid_sim", treatment="d", outcome="y", covariates=COVS, dag={"edges": edges},
                   design={"type": "did", "estimator": "drdid", **base, **design}, sensitivity={"enabled": False})


def _arrays(frame: pd.DataFrame):
    pre, post = frame[frame.year == 2000], frame[frame.year == 2001]
    x = np.column_stack([np.ones(len(pre)), pre[COVS].to_numpy()])
    return post.y.to_numpy(), pre.y.to_numpy(), pre.d.to_numpy(), x


# ------------------------------------------------------------------------------------------------ kernels
@pytest.mark.parametrize("method", list(METHODS))
def test_every_estimator_recovers_the_att_on_panel_data(method):
    y1, y0, d, x = _arrays(PANEL)
    res = METHODS[method](panel_data(y1, y0, d, x))
    assert abs(res.att - ATT) < 4 * res.se
    assert 0 < res.se < 0.2
    assert res.influence.shape == (4000,)
    assert res.se == pytest.approx(drdid_se(res.influence), rel=1e-12)
    assert abs(res.influence.mean()) < 1e-8 * np.abs(res.influence).max()


@pytest.mark.parametrize("method", list(METHODS))
def test_every_estimator_recovers_the_att_with_repeated_cross_sections(method):
    x = np.column_stack([np.ones(len(RC)), RC[COVS].to_numpy()])
    res = METHODS[method](cross_sections(RC.y, RC.post, RC.d, x))
    assert abs(res.att - ATT) < 4 * res.se
    assert res.influence.shape == (8000,)


def test_the_unconditional_did_is_biased_here_so_the_covariates_matter():
    y1, y0, d, _ = _arrays(PANEL)
    naive = METHODS["reg"](panel_data(y1, y0, d))  # intercept only: the plain difference in mean changes
    assert abs(naive.att - ATT) > 10 * naive.se


def test_without_covariates_the_five_estimators_agree():
    # DRDID's tests/testthat/test_nocovariates.R: with an intercept only every estimator is the 2x2 DiD
    y1, y0, d, _ = _arrays(PANEL)
    data = panel_data(y1, y0, d)
    ref = METHODS["reg"](data)
    for method in ("imp", "trad", "std_ipw", "ipw"):
        res = METHODS[method](data)
        assert res.att == pytest.approx(ref.att, rel=1e-9), method
        if method != "ipw":  # Horvitz-Thompson weights estimate P(D = 1) too, which changes the SE
            assert res.se == pytest.approx(ref.se, rel=1e-9), method


def test_inverse_probability_tilting_solves_its_moment_conditions_exactly():
    _, _, d, x = _arrays(PANEL)
    w = np.ones_like(d)
    ps, trim, _ = pscore_ipt(x, d, w, 0.995)
    odds = ps / (1 - ps)
    lhs, rhs = x.T @ ((1 - d) * odds), x.T @ d  # the tilted comparison group reproduces the treated totals
    assert np.max(np.abs(lhs - rhs) / np.abs(rhs)) < 1e-10
    assert trim.all()


def test_weights_are_normalised_and_a_constant_weight_changes_nothing():
    y1, y0, d, x = _arrays(PANEL)
    a = drdid_imp(panel_data(y1, y0, d, x))
    b = drdid_imp(panel_data(y1, y0, d, x, w=np.full(len(d), 3.0)))
    assert b.att == pytest.approx(a.att, rel=1e-12) and b.se == pytest.approx(a.se, rel=1e-10)


def test_trimming_gives_comparison_units_with_a_high_score_weight_zero():
    y1, y0, d, x = _arrays(PANEL)
    loose, tight = (METHODS["trad"](panel_data(y1, y0, d, x), trim_level=t) for t in (0.995, 0.6))
    assert loose.att != tight.att
    assert any("trimmed" in n for n in tight.notes)


def test_the_kernels_refuse_bad_input():
    y1, y0, d, x = _arrays(PANEL)
    with pytest.raises(DrDidFailure, match="constant"):
        panel_data(y1, y0, np.zeros_like(d), x)
    with pytest.raises(DrDidFailure, match="0 or 1"):
        panel_data(y1, y0, d * 2, x)
    with pytest.raises(DrDidFailure, match="no treated observations in the pre"):
        cross_sections(RC.y, RC.post, RC.d * RC.post, None)
    with pytest.raises(DrDidFailure, match="collinear"):
        METHODS["reg"](panel_data(y1, y0, d, np.column_stack([x, x[:, 1]])))
    with pytest.raises(DrDidFailure, match="trim_level"):
        drdid_imp(panel_data(y1, y0, d, x), trim_level=0.0)


# ------------------------------------------------------------------------------------------ through the spec
def test_the_spec_fits_what_the_kernel_fits():
    result = cs.fit(cs.plan(_spec(drdid_method="trad")), PANEL)
    y1, y0, d, x = _arrays(PANEL)
    direct = METHODS["trad"](panel_data(y1, y0, d, x))
    assert result.effect.estimate == pytest.approx(direct.att, rel=1e-12)
    assert result.effect.std_error == pytest.approx(direct.se, rel=1e-12)
    assert result.plan.estimator.value == "drdid"
    assert result.plan.formula.startswith('DRDID::drdid(yname = "y", tname = "year", idname = "id"')
    assert 'estMethod = "trad"' in result.plan.formula
    assert dict(result.fit_stats)["n_units"] == 4000


def test_repeated_cross_sections_through_the_spec():
    result = cs.fit(cs.plan(_spec(panel=False, drdid_method="std_ipw")), RC)
    assert abs(result.effect.estimate - ATT) < 4 * result.effect.std_error
    assert "DRDID::ipwdid(" in result.plan.formula and "panel = FALSE" in result.plan.formula


def test_the_result_runs_end_to_end_with_refutations():
    spec = _spec(panel=False).model_dump()
    spec["sensitivity"] = {"simulations": 3}
    result = cs.run(cs.Spec(**spec), RC.iloc[:2000])
    out = json.loads(json.dumps(result.to_dict()))
    assert out["plan"]["estimator"] == "drdid"
    assert "drdid" in result.summary()


def test_another_variance_is_refused_where_it_is_asked_for():
    result = cs.fit(cs.plan(_spec()), PANEL)
    with pytest.raises(UnsupportedError) as exc:
        result.with_vcov("HC1")
    assert exc.value.problems[0].loc == "inference.vcov"


@pytest.mark.parametrize("name,value", [("drdid_method", "trad"), ("drdid_method", "ipw"),
                                        ("drdid_method", "std_ipw"), ("drdid_method", "reg"),
                                        ("trim_level", 0.9), ("panel", False)])
def test_every_drdid_option_changes_the_plan_or_is_refused_where_written(name, value):
    base = _spec()
    body = base.model_dump()
    body["design"][name] = value
    try:
        changed = cs.plan(cs.Spec(**body))
    except CausalSpecError as exc:
        assert exc.problems[0].loc.startswith("design."), exc
        return
    assert changed.to_dict() != cs.plan(base).to_dict()


# --------------------------------------------------------------------------------------- planning refusals
@pytest.mark.parametrize("design,loc,code", [
    ({"estimator": "2x2", "post": "year", "drdid_method": "trad"}, "design.drdid_method", "option_not_read"),
    ({"estimator": "twfe", "unit": "id", "time": "year", "panel": False}, "design.panel", "option_not_read"),
    ({"estimator": "2x2", "post": "year", "trim_level": 0.9}, "design.trim_level", "option_not_read"),
    ({"estimator": "drdid", "unit": "id", "time": "year", "drdid_method": "reg", "trim_level": 0.9},
     "design.trim_level", "option_not_read"),
    ({"estimator": "drdid", "time": "year"}, "design.unit", "drdid_columns"),
    ({"estimator": "drdid", "unit": "id"}, "design.time", "drdid_columns"),
    ({"estimator": "drdid", "unit": "id", "time": "year", "post": "year"}, "design.post", "drdid_columns"),
    ({"estimator": "drdid", "unit": "id", "post": "year", "panel": False}, "design.unit", "option_not_read"),
    ({"estimator": "drdid", "unit": "id", "time": "year", "fixed_effects": ["id"]}, "design.fixed_effects",
     "option_not_read"),
])
def test_misplaced_options_are_refused_with_a_location(design, loc, code):
    body = _spec().model_dump()
    body["design"] = {"type": "did", **design}
    with pytest.raises(UnsupportedError) as exc:
        cs.plan(cs.Spec(**body))
    assert (exc.value.problems[0].loc, exc.value.problems[0].code) == (loc, code)


@pytest.mark.parametrize("change,loc", [({"adjustment": ["x1"]}, "adjustment"),
                                        ({"inference": {"vcov": "HC1"}}, "inference.vcov"),
                                        ({"inference": {"cluster": ["id"]}}, "inference.cluster"),
                                        ({"weights": "x1"}, "weights")])
def test_what_drdid_does_not_take_is_refused(change, loc):
    body = {**_spec().model_dump(), **change}
    with pytest.raises(CausalSpecError) as exc:
        cs.plan(cs.Spec(**body))
    assert exc.value.problems[0].loc == loc


def test_a_covariate_affected_by_the_treatment_is_refused():
    body = _spec().model_dump()
    body["dag"] = {"edges": ["d -> y", "x1 -> d", "x1 -> y", "d -> x2", "x2 -> y"]}
    with pytest.raises(CausalSpecError) as exc:
        cs.plan(cs.Spec(**body))
    assert exc.value.problems[0].loc == "covariates[1]"


# ------------------------------------------------------------------------------------------------ bad data
def _fit_error(frame, spec=None, kind=DataError):
    with pytest.raises(kind) as exc:
        cs.fit(cs.plan(spec or _spec()), frame)
    return exc.value.problems[0]


def test_more_than_two_periods_are_refused():
    extra = PANEL[PANEL.year == 2001].assign(year=2002)
    p = _fit_error(pd.concat([PANEL, extra]))
    assert (p.loc, p.code) == ("design.time", "drdid_periods")
    assert "3 (2000, 2001, 2002)" in p.message and "callaway_santanna" in p.fix


def test_an_unbalanced_panel_is_refused():
    p = _fit_error(PANEL.drop(index=PANEL.index[[3, 10]]))
    assert (p.loc, p.code) == ("design.unit", "drdid_unbalanced")
    assert "2 of 4000 units" in p.message and "design.panel: false" in p.fix


def test_a_unit_seen_twice_in_a_period_is_refused():
    p = _fit_error(pd.concat([PANEL, PANEL.iloc[[0]]]))
    assert (p.loc, p.code) == ("design.unit", "drdid_unbalanced")


def test_a_constant_group_is_refused():
    body = _spec().model_dump()
    body["design"]["group"] = "g"
    p = _fit_error(PANEL.assign(g=1.0), cs.Spec(**body))
    assert (p.loc, p.code) == ("design.group", "drdid_group")
    assert "is 1 in every row" in p.message
    # the group is the treatment: the spine refuses it at the treatment
    p = _fit_error(PANEL.assign(d=0.0))
    assert (p.loc, p.code) == ("treatment", "constant_treatment")


def test_a_group_that_is_not_0_1_or_changes_within_a_unit_is_refused():
    p = _fit_error(PANEL.assign(d=PANEL.d * 2))
    assert (p.loc, p.code) == ("treatment", "drdid_group")
    flipped = PANEL.copy()
    flipped.loc[flipped.index[0], "d"] = 1 - flipped.loc[flipped.index[0], "d"]
    p = _fit_error(flipped)
    assert (p.loc, p.code) == ("treatment", "drdid_group") and "time-invariant" in p.message


def test_covariates_that_change_between_the_periods_are_refused():
    moved = PANEL.copy()
    moved.loc[moved.year == 2001, "x1"] += 1.0
    p = _fit_error(moved)
    assert (p.loc, p.code) == ("covariates", "drdid_covariates_vary")


def test_a_non_numeric_period_is_refused():
    p = _fit_error(PANEL.assign(year=PANEL.year.map({2000: "before", 2001: "after"})))
    assert (p.loc, p.code) == ("design.time", "drdid_periods")


def test_a_tiny_group_is_refused_as_drdid_does():
    small = PANEL[(PANEL.d == 0) | PANEL.id.isin(PANEL.id[PANEL.d == 1].unique()[:5])]
    p = _fit_error(small)
    assert (p.loc, p.code) == ("treatment", "drdid_group") and "at least 7" in p.message


def test_collinear_covariates_are_dropped_with_a_note():
    body = _spec().model_dump()
    body["covariates"] = ["x1", "x2", "x3"]
    body["dag"] = {"edges": [*_spec().model_dump()["dag"]["edges"], "x3 -> y"]}
    result = cs.fit(cs.plan(cs.Spec(**body)), PANEL.assign(x3=2 * PANEL.x1))
    assert result.extras["drdid"]["dropped_covariates"] == ["x3"]
    assert any("collinear" in n for n in result.notes)
    plain = cs.fit(cs.plan(_spec()), PANEL)
    assert result.effect.estimate == pytest.approx(plain.effect.estimate, rel=1e-10)
