"""sensemakr's ``reduce`` and named benchmark groups in the spec (issue 12), through spec -> plan -> fit.

sensemakr cannot be installed here (CRAN is unreachable and Debian does not package it), so no new R values
are recorded.  The R reference cases in ``tests/parity/cases/sensemakr_darfur_*.json`` are reused instead:

* labelled groups (``{label: [names]}``, R's named list of ``benchmark_covariates``) must give R's numbers
  and R's labels ("1x <label>");
* none of the cases has ``reduce = FALSE``, so ``reduce: false`` is checked against sensemakr's closed forms
  applied to R's ``reduce = TRUE`` numbers (``adjusted_estimate`` is ``sign(b) (|b| + bias)`` instead of
  ``sign(b) (|b| - bias)``; ``adjusted_se`` does not depend on the direction; ``h0 = b (1 + q)``; the
  robustness values do not depend on it either), and against R's own ``adjusted_estimate(..., reduce = FALSE)``
  grid recorded in ``sensemakr_darfur_contour_grid.json``.
"""

from __future__ import annotations

import json
from functools import lru_cache

import numpy as np
import pytest
from scipy import stats

import causalspec as cs
from causalspec.errors import AdjustmentError, SpecError
from causalspec.sensitivity import adjusted_estimate, bias
from causalspec.sensitivity._reporting import r_num
from parity._cases import assert_close, case_data, case_ids, load_case, tolerance
from parity.test_sensitivity_pipeline_parity import CASES, _spec

GROUP_CASE = "sensemakr_darfur_group_female_pastvoted"  # R: benchmark_covariates = list("female+pastvoted" = ...)
FEMALE_CASE = "sensemakr_darfur_female_kd123"


def _with(case_id: str, **sensitivity) -> cs.Spec:
    data = _spec(load_case(case_id)).model_dump()
    data["sensitivity"].update(sensitivity)
    return cs.Spec(**data)


@lru_cache(maxsize=None)
def _run(case_id: str, options: str):
    """cs.run on the case's data with the case's spec and the sensitivity options given (as JSON, to cache)."""
    return cs.run(_with(case_id, **json.loads(options)), data=case_data(load_case(case_id)))


def _ovb(case_id: str, **options):
    return _run(case_id, json.dumps(options)).sensitivity.ovb


# ------------------------------------------------------------------ labelled benchmark groups

def test_a_labelled_group_names_its_bounds_as_r_and_gives_r_numbers():
    case = load_case(GROUP_CASE)
    rel, abs_ = tolerance(case)
    ovb = _ovb(GROUP_CASE, benchmarks={"gender_vote": ["female", "pastvoted"]})
    assert [b.label for b in ovb.bounds] == ["1x gender_vote", "2x gender_vote", "3x gender_vote"]
    assert [(b.name, b.covariates) for b in ovb.benchmarks] == [("gender_vote", ("female", "pastvoted"))]
    r2 = case["expected"]["benchmark_r2"][0]
    assert_close([ovb.benchmarks[0].r2dxj_x, ovb.benchmarks[0].r2yxj_dx], [r2["r2dxj.x"], r2["r2yxj.dx"]],
                 rel=rel, abs_=abs_, what="group partial R2")
    for row, want in zip(ovb.bounds, case["expected"]["bounds"]):
        assert_close([row.r2dz_x, row.r2yz_dx, row.adjusted_estimate, row.adjusted_se, row.adjusted_t,
                      row.adjusted_lower_ci, row.adjusted_upper_ci],
                     [want[k] for k in ("r2dz.x", "r2yz.dx", "adjusted_estimate", "adjusted_se", "adjusted_t",
                                        "adjusted_lower_CI", "adjusted_upper_CI")], rel=rel, abs_=abs_, what=row.label)


def test_a_labelled_group_gives_the_same_numbers_as_the_unlabelled_group():
    labelled = _ovb(GROUP_CASE, benchmarks={"gender_vote": ["female", "pastvoted"]})
    unlabelled = _ovb(GROUP_CASE, benchmarks=[["female", "pastvoted"]])
    assert [b.label for b in unlabelled.bounds] == ["1x female+pastvoted", "2x female+pastvoted",
                                                    "3x female+pastvoted"]
    for a, b in zip(labelled.bounds, unlabelled.bounds):
        assert a.label == b.label.replace("female+pastvoted", "gender_vote")
        assert (a.r2dz_x, a.r2yz_dx, a.adjusted_estimate, a.adjusted_se, a.adjusted_t, a.adjusted_lower_ci,
                a.adjusted_upper_ci) == (b.r2dz_x, b.r2yz_dx, b.adjusted_estimate, b.adjusted_se, b.adjusted_t,
                                         b.adjusted_lower_ci, b.adjusted_upper_ci)


def test_labelled_groups_keep_their_order_and_a_one_variable_group_matches_the_single_benchmark():
    ovb = _ovb(FEMALE_CASE, benchmarks={"sex": "female", "gender_vote": ["female", "pastvoted"]}, kd=[1, 2],
               ky=[1, 2])
    assert [b.label for b in ovb.bounds] == ["1x sex", "2x sex", "1x gender_vote", "2x gender_vote"]
    single = _ovb(FEMALE_CASE, benchmarks=["female"])
    case = load_case(FEMALE_CASE)
    rel, abs_ = tolerance(case)
    for row, alone, want in zip(ovb.bounds[:2], single.bounds, case["expected"]["bounds"]):
        assert alone.label == want["bound_label"] == row.label.replace("sex", "female")
        for field in ("r2dz_x", "r2yz_dx", "adjusted_estimate", "adjusted_se", "adjusted_t", "adjusted_lower_ci",
                      "adjusted_upper_ci"):
            assert getattr(row, field) == pytest.approx(getattr(alone, field), rel=1e-12, abs=1e-15)
        assert_close(row.adjusted_estimate, want["adjusted_estimate"], rel=rel, abs_=abs_, what=row.label)


def test_an_impossible_multiplier_is_left_out_and_the_bounds_keep_rs_order():
    ovb = _ovb(FEMALE_CASE, benchmarks={"sex": "female", "gender_vote": ["female", "pastvoted"]}, kd=[1, 2, 200],
               ky=[1, 2, 3])
    assert [b.label for b in ovb.bounds] == ["1x sex", "2x sex", "1x gender_vote", "2x gender_vote"]
    assert len(ovb.notes) == 1 and ovb.notes[0].startswith("kd = 200, ky = 3 left out")


def test_the_plan_and_the_result_carry_the_labels_and_the_direction():
    result = _run(GROUP_CASE, json.dumps({"benchmarks": {"gender_vote": ["female", "pastvoted"]},
                                          "reduce": False}))
    sp = result.plan.sensitivity
    assert (sp.benchmarks, sp.benchmark_labels, sp.reduce) == ((("female", "pastvoted"),), ("gender_vote",), False)
    plan_json = json.loads(result.plan.to_json())["sensitivity"]
    assert plan_json["benchmark_labels"] == ["gender_vote"] and plan_json["reduce"] is False
    sens = json.loads(result.to_json())["sensitivity"]
    assert sens["reduce"] is False and sens["ovb"]["reduce"] is False
    assert "increases the absolute value" in sens["direction"] and "reduce = FALSE" in sens["direction"]
    assert sens["benchmark"] == "gender_vote = female + pastvoted (named in the spec)"
    text = "\n".join(result.sensitivity.summary_lines())
    assert "bring the estimate to 200% of its value" in text and "reduce = FALSE" in text
    assert "A confounder 1x gender_vote" in text and "away from zero" in text
    default = _run(GROUP_CASE, json.dumps({"benchmarks": {"gender_vote": ["female", "pastvoted"]}}))
    dsens = json.loads(default.to_json())["sensitivity"]
    assert dsens["reduce"] is True and "reduces the absolute value" in dsens["direction"]
    assert "bring the estimate to zero" in "\n".join(default.sensitivity.summary_lines())
    assert "reduce = TRUE" in "\n".join(default.sensitivity.summary_lines())


def test_labelled_groups_survive_dump_and_load_in_every_format():
    spec = _with(GROUP_CASE, benchmarks={"gender_vote": ["female", "pastvoted"], "sex": ["female"]}, reduce=False)
    for fmt in ("yaml", "toml", "json"):
        again = cs.loads(cs.dumps(spec, fmt), format=fmt)
        assert again == spec and again.sensitivity.benchmarks.groups() == (
            ("gender_vote", ("female", "pastvoted")), ("sex", ("female",)))
    assert isinstance(hash(spec), int)


# ------------------------------------------------------------------ reduce = FALSE

@pytest.mark.parametrize("case_id", CASES)
def test_reduce_false_follows_sensemakrs_closed_forms_on_r_reference_numbers(case_id):
    """R's reduce = TRUE numbers -> reduce = FALSE: the bias is added instead of subtracted, so each adjusted
    estimate and interval is R's mirrored around the estimate; the SE and the robustness values are R's."""
    case = load_case(case_id)
    rel, abs_ = tolerance(case)
    exp, model = case["expected"], case["model"]
    ovb = _ovb(case_id, reduce=False)
    est, se, dof, q, alpha = exp["estimate"], exp["se"], exp["dof"], exp["q"], exp["alpha"]
    assert ovb.reduce is False and ovb.h0 == pytest.approx(est * (1 + q), rel=rel)
    # the statistics that do not depend on the direction are R's; sensemakr's t tests h0 = b (1 + q)
    for ours, theirs in [("estimate", "estimate"), ("se", "se"), ("r2yd_x", "r2yd.x"), ("f2yd_x", "f2yd.x"),
                         ("rv_q", "rv_q"), ("rv_qa", "rv_qa")]:
        assert_close(getattr(ovb, ours), exp[theirs], rel=rel, abs_=abs_, what=f"{case_id}: {ours}")
    assert_close(ovb.t_statistic, -q * est / se, rel=rel, abs_=abs_, what=f"{case_id}: t_statistic")
    crit = stats.t.ppf(1 - alpha / 2, dof)
    tol = rel * 10 * abs(est)
    assert [b.label for b in ovb.bounds] == [b["bound_label"] for b in exp["bounds"]]
    for row, want in zip(ovb.bounds, exp["bounds"]):
        what = f"{case_id}: {row.label}"
        r2dz, r2yz = want["r2dz.x"], want["r2yz.dx"]
        assert_close([row.r2dz_x, row.r2yz_dx], [r2dz, r2yz], rel=rel, abs_=abs_, what=what)
        # sensemakr::bias and adjusted_estimate(reduce = FALSE) = sign(b) (|b| + bias)
        b = np.sqrt(r2yz * r2dz / (1 - r2dz)) * se * np.sqrt(dof)
        assert_close(row.adjusted_estimate, np.sign(est) * (abs(est) + b), rel=rel, abs_=tol, what=what)
        # symmetric around the estimate: R's reduce = TRUE estimate mirrored; the SE is the same for both
        assert_close(row.adjusted_estimate, 2 * est - want["adjusted_estimate"], rel=rel, abs_=tol, what=what)
        assert_close(row.adjusted_se, want["adjusted_se"], rel=rel, abs_=abs_, what=what)
        assert_close(row.adjusted_t, (row.adjusted_estimate - est * (1 + q)) / want["adjusted_se"], rel=rel,
                     abs_=abs_, what=what)
        assert_close([row.adjusted_lower_ci, row.adjusted_upper_ci],
                     [row.adjusted_estimate - crit * want["adjusted_se"], row.adjusted_estimate + crit * want["adjusted_se"]],
                     rel=rel, abs_=abs_, what=what)
        # ... so the interval is R's reduce = TRUE interval mirrored around the estimate
        assert_close([row.adjusted_lower_ci, row.adjusted_upper_ci],
                     [2 * est - want["adjusted_upper_CI"], 2 * est - want["adjusted_lower_CI"]],
                     rel=rel, abs_=tol, what=what)
        assert abs(row.adjusted_estimate) >= abs(est)  # away from zero


def test_reduce_false_and_true_differ_only_in_the_direction_of_the_bias():
    up, down = _ovb(GROUP_CASE, reduce=False), _ovb(GROUP_CASE)
    assert (up.rv_q, up.rv_qa, up.r2yd_x, up.estimate, up.se) == (down.rv_q, down.rv_qa, down.r2yd_x, down.estimate,
                                                                  down.se)
    assert up.t_statistic == pytest.approx(-down.t_statistic, rel=1e-14)
    for a, b in zip(up.bounds, down.bounds):
        assert (a.label, a.r2dz_x, a.r2yz_dx, a.adjusted_se) == (b.label, b.r2dz_x, b.r2yz_dx, b.adjusted_se)
        assert a.adjusted_estimate - up.estimate == pytest.approx(up.estimate - b.adjusted_estimate, rel=1e-12)


def test_reduce_false_bias_function_equals_rs_own_reduce_false_grid():
    """The contour case records sensemakr's adjusted_estimate(fit, ..., reduce = FALSE) on a grid: the estimate,
    SE and dof the spec pipeline reports give R's values there."""
    grid_case = load_case("sensemakr_darfur_contour_grid")
    rel, abs_ = tolerance(grid_case)
    grid = grid_case["expected"]["grid"]
    ovb = _ovb(FEMALE_CASE, reduce=False)
    for a, row in zip(grid["r2dz.x"], grid["adjusted_estimate_reduce_false"]):
        got = adjusted_estimate(ovb.estimate, ovb.se, ovb.dof, a, grid["r2yz.dx"], reduce=ovb.reduce)
        assert_close(got, row, rel=rel, abs_=abs_, what=f"r2dz.x = {a}")
        assert_close(got, ovb.estimate + bias(ovb.se, ovb.dof, a, grid["r2yz.dx"]), rel=rel, abs_=abs_,
                     what=f"estimate + bias at r2dz.x = {a}")


@pytest.mark.parametrize("case_id", [c for c in case_ids("sensemakr_", family="sensemakr")
                                     if "minimal_reporting" in load_case(c)["expected"]])
def test_minimal_reporting_table_with_reduce_false_is_rs_with_sensemakrs_t_for_h0(case_id):
    """ovb_minimal_reporting prints sensitivity_stats$t_statistic = (b - h0) / se: with reduce = FALSE,
    h0 = b (1 + q), so the t-value is -q b / se; every other cell (RVs, partial R2, first bound) is unchanged."""
    case = load_case(case_id)
    exp, model = case["expected"], case["model"]
    bench = model["benchmark_covariates"]
    options = {"benchmarks": ({k: list(v) for k, v in bench.items()} if isinstance(bench, dict) else list(bench))}
    ovb = _ovb(case_id, reduce=False, **options)
    t_true, t_false = r_num(exp["t_statistic"], 3), r_num(-model["q"] * exp["estimate"] / exp["se"], 3)
    se = r_num(exp["se"], 3)
    latex = exp["minimal_reporting"]["latex"]
    assert latex.count(f" & {se} & {t_true} & ") == 1
    assert ovb.minimal_reporting("latex") == latex.replace(f" & {se} & {t_true} & ", f" & {se} & {t_false} & ")
    html = exp["minimal_reporting"]["pure_html"]
    cell = '\t<td style="text-align:right;border-bottom: 1px solid black">'
    assert html.count(f"{cell}{t_true} </td>") == 1
    assert ovb.minimal_reporting("pure_html") == html.replace(f"{cell}{t_true} </td>", f"{cell}{t_false} </td>")
    # and with the default direction the table is R's, character for character
    assert _ovb(case_id, **options).minimal_reporting("latex") == latex


# ------------------------------------------------------------------ bad input: located, with the fix

def _plan_error(**sensitivity):
    with pytest.raises(AdjustmentError) as info:
        cs.plan(_with(GROUP_CASE, **sensitivity))
    return info.value.problems


def _spec_error(**sensitivity):
    with pytest.raises(SpecError) as info:
        _with(GROUP_CASE, **sensitivity)
    return info.value.problems


def test_an_unknown_name_in_a_labelled_group_names_the_field():
    (p,) = _plan_error(benchmarks={"employment_income": ["age", "inc86"]})
    assert (p.loc, p.code) == ("sensitivity.benchmarks.employment_income[1]", "benchmark_not_in_model")
    assert "'inc86' is not in the model" in p.message and "female" in p.fix
    (p,) = _plan_error(benchmarks=["female", ["pastvoted", "inc86"]])
    assert p.loc == "sensitivity.benchmarks[1][1]"
    (p,) = _plan_error(benchmarks=["female", "inc86"])
    assert p.loc == "sensitivity.benchmarks[1]"


def test_an_unknown_name_in_a_spec_file_is_located_at_its_line():
    text = cs.dumps(_with(GROUP_CASE, benchmarks={"employment_income": ["age", "inc86"]}))
    line = text.splitlines().index("    - inc86") + 1
    with pytest.raises(AdjustmentError) as info:
        cs.plan(cs.loads(text, source="s.yaml"))
    (p,) = info.value.problems
    assert (p.file, p.line, p.loc) == ("s.yaml", line, "sensitivity.benchmarks.employment_income[1]")


@pytest.mark.parametrize("benchmarks, loc", [({"employment_income": []}, "sensitivity.benchmarks.employment_income"),
                                             ([["female"], []], "sensitivity.benchmarks[1]")])
def test_an_empty_group_is_refused_with_the_fix(benchmarks, loc):
    (p,) = _spec_error(benchmarks=benchmarks)
    assert (p.loc, p.code) == (loc, "benchmark_group_empty")
    assert "empty" in p.message and "List the model variables" in p.fix


@pytest.mark.parametrize("value", ["no", "false", 1, None])
def test_reduce_must_be_true_or_false(value):
    (p,) = _spec_error(reduce=value)
    assert (p.loc, p.code) == ("sensitivity.reduce", "reduce_not_bool")
    assert repr(value) in p.message and "reduce: false" in p.fix and "reduce: true" in p.fix


def test_malformed_benchmarks_are_all_reported_where_they_are():
    problems = _spec_error(benchmarks={"a": ["female", 3, " "], "b": []}, reduce="yes")
    assert [(p.loc, p.code) for p in problems] == [
        ("sensitivity.reduce", "reduce_not_bool"),
        ("sensitivity.benchmarks.a[1]", "benchmark_invalid"),
        ("sensitivity.benchmarks.a[2]", "benchmark_invalid"),
        ("sensitivity.benchmarks.b", "benchmark_group_empty")]
    (p,) = _spec_error(benchmarks=5)
    assert p.loc == "sensitivity.benchmarks" and "{employment_income: [qemp86, inc86]}" in p.fix
    (p,) = _spec_error(benchmarks={3: ["female"]})
    assert p.loc == "sensitivity.benchmarks" and "label" in p.message and "Quote" in p.fix
    with pytest.raises(SpecError) as info:
        cs.loads(cs.dumps(_with(GROUP_CASE)).replace("reduce: true", 'reduce: "no"'), source="s.yaml")
    assert [(p.loc, p.file) for p in info.value.problems] == [("sensitivity.reduce", "s.yaml")]
    assert info.value.problems[0].line is not None
