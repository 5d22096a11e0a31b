"""sensemakr 0.1.6 parity: every ``sensemakr_*`` case, fitted from the data with numpy least squares.

Cases are classified by what they record (sensitivity statistics and bounds, contour grids,
bias functions on a user grid), so new cases of the same shape are picked up automatically.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
import pytest

from causalspec.sensitivity import (
    adjusted_ci,
    adjusted_estimate,
    adjusted_se,
    adjusted_t,
    bias,
    contour_grid_for,
    regressions_from_data,
    regressions_from_formula,
    sensemakr_from_regressions,
)
from parity._cases import assert_close, case_data, case_ids, load_case, tolerance

CASES = case_ids("sensemakr_", family="sensemakr")
ANALYSIS = [c for c in CASES if "estimate" in load_case(c)["expected"]]
CONTOURS = [(c, k) for c in CASES for k in load_case(c)["expected"] if k.startswith("contour_")]

GRID_FUNCTIONS = {
    "adjusted_estimate": lambda r, a, b: adjusted_estimate(r.estimate, r.se, r.dof, a, b),
    "adjusted_se": lambda r, a, b: adjusted_se(r.se, r.dof, a, b),
    "adjusted_t": lambda r, a, b: adjusted_t(r.estimate, r.se, r.dof, a, b),
    "adjusted_ci_lwr": lambda r, a, b: adjusted_ci(r.estimate, r.se, r.dof, a, b, which="lwr", alpha=0.05),
    "adjusted_ci_upr": lambda r, a, b: adjusted_ci(r.estimate, r.se, r.dof, a, b, which="upr", alpha=0.05),
    "bias": lambda r, a, b: bias(r.se, r.dof, a, b),
    "adjusted_estimate_reduce_false": lambda r, a, b: adjusted_estimate(r.estimate, r.se, r.dof, a, b, reduce=False),
}
GRIDS = [(c, k) for c in CASES if "grid" in load_case(c)["expected"]
         for k in GRID_FUNCTIONS if k in load_case(c)["expected"]["grid"]]


def _formula(model: dict) -> tuple[str, list[str]]:
    lhs, rhs = model["formula"].split("~")
    terms = [t.strip() for t in rhs.split("+")]
    return lhs.strip(), [t for t in terms if t != model["treatment"]]


_REGRESSIONS: dict = {}


def _regressions(case: dict):
    # One fit per (data, formula, treatment): the cases ask different questions of the same lm.
    model = case["model"]
    key = (case["data"]["file"], case["data"].get("sha256"), model["formula"], model["treatment"])
    if key not in _REGRESSIONS:
        outcome, covariates = _formula(model)
        if all(re.fullmatch(r"[A-Za-z.][\w.]*", v) for v in [outcome, *covariates]):
            reg = regressions_from_data(case_data(case), outcome, model["treatment"], covariates)
        else:  # transformed terms (log(x), I(x^2), factor(g), interactions): R's model matrix
            reg = regressions_from_formula(case_data(case), model["formula"], model["treatment"])
        _REGRESSIONS[key] = reg
    return _REGRESSIONS[key]


def _fit(case: dict):
    model = case["model"]
    kd = model.get("kd", 1)
    opts = dict(kd=kd, ky=model.get("ky", kd), q=model.get("q", 1), alpha=model.get("alpha", 0.05),
                reduce=model.get("reduce", True))
    if model.get("r2dz.x") is not None:
        opts.update(r2dz_x=model["r2dz.x"], r2yz_dx=model.get("r2yz.dx", model["r2dz.x"]))
    return sensemakr_from_regressions(_regressions(case), model.get("benchmark_covariates"), **opts)


@lru_cache(maxsize=None)
def _run(case_id: str):
    return _fit(load_case(case_id))


def test_every_sensemakr_case_is_exercised():
    covered = set(ANALYSIS) | {c for c, _ in CONTOURS} | {c for c, _ in GRIDS}
    assert covered == set(CASES) and len(CASES) >= 7


@pytest.mark.parametrize("case_id", ANALYSIS)
def test_sensitivity_statistics_match_sensemakr(case_id):
    case, res = load_case(case_id), _run(case_id)
    exp = case["expected"]
    rel, abs_ = tolerance(case)
    assert res.treatment == exp["treatment"] and res.outcome == exp["outcome"]
    assert res.nobs == exp["nobs"] and res.dof == exp["dof"]
    assert (res.q, res.alpha, res.reduce) == (exp["q"], exp["alpha"], exp["reduce"])
    got = [res.estimate, res.se, res.t_statistic, res.r2yd_x, res.f2yd_x, res.rv_q, res.rv_qa]
    want = [exp[k] for k in ("estimate", "se", "t_statistic", "r2yd.x", "f2yd.x", "rv_q", "rv_qa")]
    assert_close(got, want, rel=rel, abs_=abs_, what=f"{case_id} sensitivity_stats")


@pytest.mark.parametrize("case_id", ANALYSIS)
def test_bounds_table_matches_sensemakr(case_id):
    case, res = load_case(case_id), _run(case_id)
    rel, abs_ = tolerance(case)
    exp = case["expected"].get("bounds") or []
    assert [b.label for b in res.bounds] == [e["bound_label"] for e in exp]
    fields = [("r2dz_x", "r2dz.x"), ("r2yz_dx", "r2yz.dx"), ("adjusted_estimate", "adjusted_estimate"),
              ("adjusted_se", "adjusted_se"), ("adjusted_t", "adjusted_t"),
              ("adjusted_lower_ci", "adjusted_lower_CI"), ("adjusted_upper_ci", "adjusted_upper_CI")]
    for ours, theirs in fields:
        assert_close([getattr(b, ours) for b in res.bounds], [e[theirs] for e in exp], rel=rel, abs_=abs_,
                     what=f"{case_id} bounds.{theirs}")


@pytest.mark.parametrize("case_id", [c for c in ANALYSIS if "benchmark_r2" in load_case(c)["expected"]])
def test_benchmark_partial_r2_match_sensemakr(case_id):
    case, res = load_case(case_id), _run(case_id)
    rel, abs_ = tolerance(case)
    exp = case["expected"]["benchmark_r2"]
    assert [b.name for b in res.benchmarks] == [e["benchmark"] for e in exp]
    assert [list(b.covariates) for b in res.benchmarks] == [list(e["covariates"]) for e in exp]
    assert_close([b.r2dxj_x for b in res.benchmarks], [e["r2dxj.x"] for e in exp], rel=rel, abs_=abs_,
                 what=f"{case_id} r2dxj.x")
    assert_close([b.r2yxj_dx for b in res.benchmarks], [e["r2yxj.dx"] for e in exp], rel=rel, abs_=abs_,
                 what=f"{case_id} r2yxj.dx")


@pytest.mark.parametrize("case_id", [c for c in ANALYSIS if "extreme_robustness_value" in load_case(c)["expected"]])
def test_extreme_robustness_value_matches_sensemakr(case_id):
    case, res = load_case(case_id), _run(case_id)
    rel, abs_ = tolerance(case)
    exp = case["expected"]["extreme_robustness_value"]
    assert_close([res.xrv_q, res.xrv_qa], [exp["xrv_q"], exp["xrv_qa"]], rel=rel, abs_=abs_, what="xrv")


@pytest.mark.parametrize("case_id", [c for c in ANALYSIS if "minimal_reporting" in load_case(c)["expected"]])
@pytest.mark.parametrize("fmt", ["latex", "pure_html"])
def test_minimal_reporting_table_is_identical_to_sensemakr(case_id, fmt):
    case, res = load_case(case_id), _run(case_id)
    expected = case["expected"]["minimal_reporting"]
    if fmt not in expected:
        pytest.skip(f"{case_id} records no {fmt} table")
    assert res.minimal_reporting(fmt) == expected[fmt]


@pytest.mark.parametrize("case_id, key", CONTOURS)
def test_contour_grid_matches_ovb_contour_plot(case_id, key):
    case, res = load_case(case_id), _run(case_id)
    rel, abs_ = tolerance(case)
    exp = case["expected"][key]
    grid = contour_grid_for(res, exp["sensitivity.of"])
    idx = np.asarray(exp["grid_index_1based"]) - 1
    assert grid.value.shape == (exp["n_grid"], exp["n_grid"])
    assert_close([grid.lim_x, grid.lim_y], [exp["lim.x"], exp["lim.y"]], rel=rel, abs_=abs_, what=f"{key} lims")
    assert_close(grid.r2dz_x[idx], exp["r2dz.x"], rel=rel, abs_=abs_, what=f"{key} r2dz.x")
    assert_close(grid.r2yz_dx[idx], exp["r2yz.dx"], rel=rel, abs_=abs_, what=f"{key} r2yz.dx")
    assert_close(grid.value[np.ix_(idx, idx)], exp["value"], rel=rel, abs_=abs_, what=f"{key} value")
    assert_close([grid.value.min(), grid.value.max()], exp["value_range"], rel=rel, abs_=abs_, what=f"{key} range")
    assert_close([grid.threshold], [exp["threshold"]], rel=rel, abs_=abs_, what=f"{key} threshold")
    assert_close(grid.levels, exp["default_levels"], rel=rel, abs_=abs_, what=f"{key} levels")


@pytest.mark.parametrize("case_id, key", GRIDS)
def test_bias_functions_on_user_grid_match_sensemakr(case_id, key):
    case, res = load_case(case_id), _run(case_id)
    rel, abs_ = tolerance(case)
    grid = case["expected"]["grid"]
    got = [GRID_FUNCTIONS[key](res, a, np.asarray(grid["r2yz.dx"])) for a in grid["r2dz.x"]]
    assert_close(got, grid[key], rel=rel, abs_=abs_, what=f"{case_id} grid.{key}")
