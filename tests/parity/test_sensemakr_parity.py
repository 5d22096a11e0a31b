"""sensemakr 0.1.6 parity: every ``sensemakr_*`` case, fitted from the data with numpy least squares."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pytest

from causalspec.sensitivity import contour_grid_for, sensemakr_from_data
from causalspec.sensitivity import adjusted_ci, adjusted_estimate, adjusted_se, adjusted_t, bias
from parity._cases import assert_close, case_data, case_ids, load_case, tolerance

CASES = case_ids("sensemakr_", family="sensemakr")
ANALYSIS_CASES = [c for c in CASES if c != "sensemakr_darfur_contour_grid"]


def _formula(model: dict) -> tuple[str, list[str]]:
    lhs, rhs = model["formula"].split("~")
    terms = [t.strip() for t in rhs.split("+")]
    return lhs.strip(), [t for t in terms if t != model["treatment"]]


@lru_cache(maxsize=None)
def _run(case_id: str):
    case = load_case(case_id)
    model = case["model"]
    outcome, covariates = _formula(model)
    bench = model.get("benchmark_covariates")
    return sensemakr_from_data(case_data(case), outcome, model["treatment"], covariates, benchmark=bench,
                               kd=model["kd"], ky=model["ky"], q=model["q"], alpha=model["alpha"],
                               reduce=model["reduce"])


def test_all_sensemakr_cases_are_covered():
    assert len(CASES) == 7


@pytest.mark.parametrize("case_id", ANALYSIS_CASES)
def test_sensitivity_statistics_match_sensemakr(case_id):
    case, res = load_case(case_id), _run(case_id)
    exp = case["expected"]
    rel, abs_ = tolerance(case)
    assert res.treatment == exp["treatment"] and res.outcome == exp["outcome"]
    assert res.nobs == exp["nobs"]
    assert res.dof == exp["dof"]
    got = [res.estimate, res.se, res.t_statistic, res.r2yd_x, res.f2yd_x, res.rv_q, res.rv_qa]
    want = [exp[k] for k in ("estimate", "se", "t_statistic", "r2yd.x", "f2yd.x", "rv_q", "rv_qa")]
    assert_close(got, want, rel=rel, abs_=abs_, what=f"{case_id} sensitivity_stats")


@pytest.mark.parametrize("case_id", ANALYSIS_CASES)
def test_bounds_table_matches_sensemakr(case_id):
    case, res = load_case(case_id), _run(case_id)
    rel, abs_ = tolerance(case)
    exp = case["expected"]["bounds"]
    assert [b.label for b in res.bounds] == [e["bound_label"] for e in exp]
    fields = [("r2dz_x", "r2dz.x"), ("r2yz_dx", "r2yz.dx"), ("adjusted_estimate", "adjusted_estimate"),
              ("adjusted_se", "adjusted_se"), ("adjusted_t", "adjusted_t"),
              ("adjusted_lower_ci", "adjusted_lower_CI"), ("adjusted_upper_ci", "adjusted_upper_CI")]
    for ours, theirs in fields:
        assert_close([getattr(b, ours) for b in res.bounds], [e[theirs] for e in exp], rel=rel, abs_=abs_,
                     what=f"{case_id} bounds.{theirs}")


@pytest.mark.parametrize("case_id", [c for c in ANALYSIS_CASES if "benchmark_r2" in load_case(c)["expected"]])
def test_benchmark_partial_r2_match_sensemakr(case_id):
    case, res = load_case(case_id), _run(case_id)
    rel, abs_ = tolerance(case)
    exp = case["expected"]["benchmark_r2"]
    assert [b.name for b in res.benchmarks] == [e["benchmark"] for e in exp]
    assert [list(b.covariates) for b in res.benchmarks] == [e["covariates"] for e in exp]
    assert_close([b.r2dxj_x for b in res.benchmarks], [e["r2dxj.x"] for e in exp], rel=rel, abs_=abs_,
                 what=f"{case_id} r2dxj.x")
    assert_close([b.r2yxj_dx for b in res.benchmarks], [e["r2yxj.dx"] for e in exp], rel=rel, abs_=abs_,
                 what=f"{case_id} r2yxj.dx")


@pytest.mark.parametrize("case_id", [c for c in ANALYSIS_CASES
                                     if "extreme_robustness_value" in load_case(c)["expected"]])
def test_extreme_robustness_value_matches_sensemakr(case_id):
    case, res = load_case(case_id), _run(case_id)
    rel, abs_ = tolerance(case)
    exp = case["expected"]["extreme_robustness_value"]
    assert_close([res.xrv_q, res.xrv_qa], [exp["xrv_q"], exp["xrv_qa"]], rel=rel, abs_=abs_, what="xrv")


@pytest.mark.parametrize("case_id", [c for c in ANALYSIS_CASES if "minimal_reporting" in load_case(c)["expected"]])
@pytest.mark.parametrize("fmt", ["latex", "pure_html"])
def test_minimal_reporting_table_is_identical_to_sensemakr(case_id, fmt):
    case, res = load_case(case_id), _run(case_id)
    assert res.minimal_reporting(fmt) == case["expected"]["minimal_reporting"][fmt]


@pytest.fixture(scope="module")
def contour_case():
    case = load_case("sensemakr_darfur_contour_grid")
    model = case["model"]
    outcome, covariates = _formula(model)
    res = sensemakr_from_data(case_data(case), outcome, model["treatment"], covariates,
                              benchmark=model["benchmark_covariates"], kd=model["kd"], ky=model["ky"],
                              q=model["q"], alpha=model["alpha"], reduce=model["reduce"])
    return case, res


@pytest.mark.parametrize("key", ["contour_estimate", "contour_t_value", "contour_lwr", "contour_upr"])
def test_contour_grid_matches_ovb_contour_plot(contour_case, key):
    case, res = contour_case
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


GRID_FUNCTIONS = {
    "adjusted_estimate": lambda r, a, b: adjusted_estimate(r.estimate, r.se, r.dof, a, b),
    "adjusted_se": lambda r, a, b: adjusted_se(r.se, r.dof, a, b),
    "adjusted_t": lambda r, a, b: adjusted_t(r.estimate, r.se, r.dof, a, b),
    "adjusted_ci_lwr": lambda r, a, b: adjusted_ci(r.estimate, r.se, r.dof, a, b, which="lwr", alpha=0.05),
    "adjusted_ci_upr": lambda r, a, b: adjusted_ci(r.estimate, r.se, r.dof, a, b, which="upr", alpha=0.05),
    "bias": lambda r, a, b: bias(r.se, r.dof, a, b),
    "adjusted_estimate_reduce_false": lambda r, a, b: adjusted_estimate(r.estimate, r.se, r.dof, a, b, reduce=False),
}


@pytest.mark.parametrize("key", sorted(GRID_FUNCTIONS))
def test_bias_functions_on_user_grid_match_sensemakr(contour_case, key):
    case, res = contour_case
    rel, abs_ = tolerance(case)
    grid = case["expected"]["grid"]
    got = [GRID_FUNCTIONS[key](res, a, np.asarray(grid["r2yz.dx"])) for a in grid["r2dz.x"]]
    assert_close(got, grid[key], rel=rel, abs_=abs_, what=f"grid.{key}")
