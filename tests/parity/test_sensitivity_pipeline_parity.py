"""sensemakr parity through the whole spine: spec -> plan -> fit computes the same sensitivity numbers.

Each ``sensemakr_*`` case that records an analysis is rewritten as a spec (the case's covariates as
confounders in a DAG, adjusted for explicitly; the case's benchmarks, kd, ky, q, alpha and reduce in the spec's
``sensitivity`` field; R's named list of benchmark groups as the spec's labelled groups) and run with
``causalspec.run``.  The numbers in ``Result.sensitivity`` must equal
the R values at the case's tolerance — whatever variance the spec reports for the estimate, sensemakr
uses the classical standard error.
"""

from __future__ import annotations

import pytest

import causalspec as cs
from parity._cases import assert_close, case_data, case_ids, load_case, tolerance

CASES = [c for c in case_ids("sensemakr_", family="sensemakr") if "estimate" in load_case(c)["expected"]]


def _spec(case: dict) -> cs.Spec:
    model = case["model"]
    outcome, rhs = (s.strip() for s in model["formula"].split("~"))
    treatment = model["treatment"]
    covariates = [t.strip() for t in rhs.split("+") if t.strip() != treatment]
    bench = model["benchmark_covariates"]
    # a named list in R is the spec's {label: [names]}: the labels name the bounds, as R's names do
    benchmarks = {k: list(v) for k, v in bench.items()} if isinstance(bench, dict) else list(bench)
    edges = [f"{treatment} -> {outcome}"] + [f"{c} -> {v}" for c in covariates for v in (treatment, outcome)]
    return cs.Spec(
        name=case["id"], treatment=treatment, outcome=outcome, dag={"edges": edges}, adjustment=covariates,
        inference={"vcov": "HC1"},  # deliberately not iid: sensitivity must still use the classical SE
        sensitivity={"benchmarks": benchmarks, "kd": model["kd"], "ky": model["ky"], "q": model["q"],
                     "alpha": model["alpha"], "reduce": model.get("reduce", True), "refutations": []})


@pytest.mark.parametrize("case_id", CASES)
def test_spec_level_sensitivity_matches_sensemakr(case_id):
    case = load_case(case_id)
    rel, abs_ = tolerance(case)
    exp = case["expected"]
    result = cs.run(_spec(case), data=case_data(case))
    ovb = result.sensitivity.ovb
    assert (ovb.q, ovb.alpha, ovb.reduce) == (exp["q"], exp["alpha"], exp["reduce"])
    for ours, theirs in [("estimate", "estimate"), ("se", "se"), ("dof", "dof"), ("t_statistic", "t_statistic"),
                         ("r2yd_x", "r2yd.x"), ("f2yd_x", "f2yd.x"), ("rv_q", "rv_q"), ("rv_qa", "rv_qa")]:
        assert_close(getattr(ovb, ours), exp[theirs], rel=rel, abs_=abs_, what=f"{case_id}: {ours}")
    assert len(ovb.bounds) == len(exp["bounds"])
    # bound labels name the benchmark as sensemakr does; numbers row by row
    for row, want in zip(ovb.bounds, exp["bounds"]):
        assert row.label == want["bound_label"]
        for ours, theirs in [("r2dz_x", "r2dz.x"), ("r2yz_dx", "r2yz.dx"), ("adjusted_estimate", "adjusted_estimate"),
                             ("adjusted_se", "adjusted_se"), ("adjusted_t", "adjusted_t"),
                             ("adjusted_lower_ci", "adjusted_lower_CI"), ("adjusted_upper_ci", "adjusted_upper_CI")]:
            assert_close(getattr(row, ours), want[theirs], rel=rel, abs_=abs_, what=f"{case_id}: {row.label} {ours}")
    # the reported effect keeps the spec's variance (HC1), not sensemakr's classical SE
    assert result.plan.vcov.kind == "HC1"
    assert result.effect.std_error != pytest.approx(ovb.se, rel=1e-3)


def test_without_named_benchmark_the_rule_picks_the_strongest_observed_confounder():
    case = load_case(CASES[0])
    spec = _spec(case).model_copy(update={"sensitivity": cs.spec.SensitivitySpec(refutations=[])})
    spec = cs.Spec(**{**spec.model_dump(), "sensitivity": {"refutations": []}})
    result = cs.run(spec, data=case_data(case))
    reg = result.sensitivity.ovb
    from causalspec.sensitivity import partial_r2, group_partial_r2, regressions_from_formula

    regs = regressions_from_formula(case_data(case).dropna(subset=list(result.plan.columns)), result.plan.formula,
                                    result.effect.term)
    strengths = {}
    for v in result.plan.adjustment_set:
        cols = [n for n in regs.dfit.names if n == v or (n.startswith(v) and v == "village")]
        strengths[v] = (partial_r2(regs.dfit.t(cols[0]), regs.dfit.dof) if len(cols) == 1
                        else group_partial_r2(regs.dfit.group_f(cols), len(cols), regs.dfit.dof))
    best = max(strengths, key=strengths.get)
    assert result.sensitivity.benchmark.startswith(best)
    assert reg.benchmarks[0].name == best
