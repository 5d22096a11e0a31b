"""Regression discontinuity parity (issue 16): rdrobust's estimates, bandwidths and sample sizes, rddensity's
manipulation test, rdplot's bins and the falsification tests, against the rdpackages' Python ports (which reproduce
R and Stata) on the U.S. Senate data.  Reference: tools/reference/build_rd_cases.py (rdrobust 2.1.1, rddensity
3.0); no port is needed here."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import causalspec as cs
from causalspec.estimators.rd import LABELS, rddensity, rdplot_bins, rdrobust

from ._cases import assert_close, case_data, case_ids, load_case, tolerance

SPECS = Path(__file__).resolve().parents[2] / "specs"
RDROBUST_CASES = [c for c in case_ids("rd_senate_") if "rdrobust" in load_case(c)["expected"]]


def _frame(case) -> pd.DataFrame:
    """The case's data with the columns its ``derived_columns`` describe."""
    d = case_data(case)
    d["democrat_won"] = (d.margin >= 0).astype(int)
    treated = (d.margin >= 0) & ~((d["class"] == 1) & (d.margin < 1))
    crossed = (d["class"] == 3) & (d.margin > -1) & (d.margin < 0)
    d["takeup"] = (treated | crossed).astype(float)
    return d


def _spec(overrides: dict, falsification: bool = False) -> cs.Spec:
    body = cs.load(SPECS / "rd_senate.yaml").model_dump()
    for key, value in overrides.items():
        body[key] = {**body[key], **value} if isinstance(value, dict) else value
    if "treatment" in overrides or "covariates" in overrides:
        body["dag"] = None  # the design's DAG is optional (treatment -> outcome); the bundled one names neither
    if not falsification:
        body["design"]["falsification"] = {"enabled": False}
    return cs.Spec(**body)


def _compare_rdrobust(got: dict, exp: dict, rel: float, what: str) -> None:
    for key in ("coef", "se", "z", "pv"):
        assert_close([got["estimates"][lab][key] for lab in LABELS], [exp[key][lab] for lab in LABELS], rel=rel,
                     what=f"{what} {key}")
    assert_close([got["estimates"][lab]["ci"] for lab in LABELS], [exp["ci"][lab] for lab in LABELS], rel=rel,
                 what=f"{what} ci")
    for key in ("h", "b", "tau_cl", "tau_bc", "bias"):
        assert_close(got[key], exp[key], rel=rel, what=f"{what} {key}")
    for key in ("N", "N_h", "N_b", "M"):
        assert got[key] == exp[key], f"{what} {key}: {got[key]} != {exp[key]}"
    if "first_stage" in exp:
        for key in ("coef", "se", "pv"):
            assert_close([got["first_stage"][lab][key] for lab in LABELS], [exp["first_stage"][key][lab]
                                                                             for lab in LABELS],
                         rel=rel, what=f"{what} first stage {key}")


@pytest.mark.parametrize("case_id", RDROBUST_CASES)
def test_rdrobust_through_the_spec_matches_the_port(case_id):
    case = load_case(case_id)
    rel, _ = tolerance(case)
    assert rel <= 1e-6
    result = cs.fit(cs.plan(_spec(case["spec"])), _frame(case))
    exp = case["expected"]["rdrobust"]
    _compare_rdrobust(result.extras["rdrobust"], exp, rel, case_id)
    # the effect is the robust row; the coefficient rows are rdrobust's three
    assert [r.term for r in result.coefficients] == list(LABELS)
    assert_close([result.effect.estimate, result.effect.std_error, result.effect.conf_low, result.effect.conf_high],
                 [exp["coef"]["Robust"], exp["se"]["Robust"], *exp["ci"]["Robust"]], rel=rel, what="effect")
    assert result.nobs == sum(exp["N"])


def test_the_kernel_alone_matches_the_default_case():
    case = load_case("rd_senate_default")
    d = case_data(case).dropna(subset=["vote"])
    r = rdrobust(d.vote.to_numpy(), d.margin.to_numpy())
    exp = case["expected"]["rdrobust"]
    assert_close(r.coef, [exp["coef"][lab] for lab in LABELS], rel=tolerance(case)[0], what="coef")
    assert_close(r.se, [exp["se"][lab] for lab in LABELS], rel=tolerance(case)[0], what="se")
    assert r.N_h == tuple(exp["N_h"])


@pytest.mark.parametrize("cutoff", ["0", "5"])
def test_the_density_test_matches_rddensity(cutoff):
    case = load_case("rd_senate_density")
    rel, _ = tolerance(case)
    exp = case["expected"][cutoff]
    d = rddensity(case_data(case).margin.to_numpy(), float(cutoff))
    for key in ("h", "f", "se"):
        assert_close(getattr(d, key), exp[key], rel=rel, what=f"c = {cutoff} {key}")
    assert_close([d.difference, d.statistic, d.p_value], [exp["difference"], exp["statistic"], exp["p_value"]],
                 rel=rel, what=f"c = {cutoff} test")
    assert list(d.n) == exp["n"] and list(d.n_h) == exp["n_h"]


@pytest.mark.parametrize("binselect", ["esmv", "es", "qs", "qsmv"])
def test_the_rd_plot_bins_match_rdplot(binselect):
    case = load_case("rd_senate_rdplot")
    rel, _ = tolerance(case)
    exp = case["expected"][binselect]
    d = case_data(case).dropna(subset=["vote"])
    b = rdplot_bins(d.vote.to_numpy(), d.margin.to_numpy(), 0.0, binselect=binselect)
    assert list(b.J) == exp["J"] and list(b.count) == exp["count"]
    assert_close(b.J_IMSE, exp["J_IMSE"], rel=rel, what="J_IMSE")
    assert_close(b.J_MV, exp["J_MV"], rel=rel, what="J_MV")
    for key in ("mid", "mean_x", "mean_y"):
        assert_close(getattr(b, key), exp[key], rel=rel, what=key)
    poly = case["tolerance"]["poly"]  # an ill-conditioned quartic in raw powers (see the case's description)
    assert_close(b.poly_left, exp["poly_left"], rel=poly, what="poly_left")
    assert_close(b.poly_right, exp["poly_right"], rel=poly, what="poly_right")


def _compare_summary(got: dict, exp: dict, rel: float, what: str) -> None:
    assert "error" not in got, f"{what}: {got.get('error')}"
    for key in ("estimate", "robust_estimate", "robust_std_error", "robust_p_value", "robust_ci", "h"):
        assert_close(got[key], exp[key], rel=rel, what=f"{what} {key}")
    assert got["n_effective"] == exp["n_effective"], what


def test_the_bundled_specs_falsification_tests_match_the_ports():
    case = load_case("rd_senate_falsification")
    rel, _ = tolerance(case)
    exp = case["expected"]
    result = cs.fit(cs.plan(_spec({}, falsification=True)), _frame(case))
    f = result.extras["falsification"]
    assert f["ran"] == ["density", "balance", "placebo_cutoffs", "donut", "bandwidths"] and f["not_run"] == {}
    assert_close([f["density"]["statistic"], f["density"]["p_value"], *f["density"]["h"]],
                 [exp["density"]["statistic"], exp["density"]["p_value"], *exp["density"]["h"]], rel=rel,
                 what="density")
    for name, e in exp["balance"].items():
        _compare_summary(f["balance"][name], e, rel, f"balance {name}")
    for key in ("placebo_cutoffs", "donut", "bandwidths"):
        assert len(f[key]) == len(exp[key]), key
        for got, e in zip(f[key], exp[key]):
            label = {"placebo_cutoffs": "cutoff", "donut": "radius", "bandwidths": "multiple"}[key]
            assert_close(got[label], e[label], rel=rel, what=f"{key} {label}")
            _compare_summary(got, e, rel, f"{key} {e[label]}")
    assert json.dumps(result.to_dict()["design"]["falsification"], allow_nan=False)  # JSON-safe
    bins = load_case("rd_senate_rdplot")["expected"]["esmv"]
    assert result.extras["rdplot"]["J"] == bins["J"]
    assert_close(result.extras["rdplot"]["mean_y"], bins["mean_y"], rel=rel, what="rdplot means through the spec")
