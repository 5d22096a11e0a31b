"""MatchIt::matchit(method = "nearest") parity: propensity model, matched sets, weights, balance, ATT."""

from __future__ import annotations

import math

import numpy as np
import pytest

from parity._cases import assert_close, assert_named_close, case_data, case_ids, load_case, tolerance

from causalspec.estimators._matched_effect import matched_effect
from causalspec.estimators._matching import distance_summaries, match_nearest

CASES = case_ids("matching_", family="matching")  # nearest on the propensity score; the other methods: test_matching_methods_parity.py


def _r_call_option(case: dict, name: str, default):
    """Read a matchit() option from the case's model description (ratio, replace, caliper)."""
    call = case["r_call"].split("matchit(", 1)[1].split(")\n", 1)[0]
    for part in call.replace("\n", " ").split(","):
        key, _, value = part.partition("=")
        if key.strip() == name:
            value = value.strip()
            return {"TRUE": True, "FALSE": False}.get(value, value)
    return default


def _fit(case: dict):
    data = case_data(case)
    formula = case["model"]["ps_formula"]
    replace = bool(_r_call_option(case, "replace", False))
    ratio = int(_r_call_option(case, "ratio", 1))
    caliper = _r_call_option(case, "caliper", None)
    m = match_nearest(formula, data, id_column=data.columns[0], ratio=ratio, replace=replace,
                      caliper=None if caliper is None else float(caliper))
    return data, m


@pytest.fixture(scope="module", params=CASES)
def fitted(request):
    case = load_case(request.param)
    data, m = _fit(case)
    return case, data, m


def test_propensity_model_matches_glm(fitted):
    case, _, m = fitted
    rel, abs_ = tolerance(case, "rel_propensity")
    assert_named_close(m.propensity.coef_dict(), case["expected"]["ps_model_coef"], rel=rel, abs_=abs_,
                       what="ps_model_coef")
    exp = case["expected"]
    if "distance" in exp:
        assert_close([m.distance[m.labels.index(k)] for k in exp["distance"]], list(exp["distance"].values()),
                     rel=rel, abs_=abs_, what="distance")
    ds = distance_summaries(m)
    for group, values in exp["distance_summary"].items():
        assert_named_close(ds[group], values, rel=rel, abs_=abs_, what=f"distance_summary.{group}")


def test_match_matrix_and_matched_ids_are_identical(fitted):
    case, _, m = fitted
    exp = case["expected"]
    mm = {k: [v for v in vals] for k, vals in m.match_matrix.items()}
    assert mm == {k: list(v) if v is not None else [None] for k, v in exp["match_matrix"].items()}
    kept = sorted((m.labels[i] for i in np.flatnonzero(m.matched)), key=lambda s: s.encode())
    assert kept == exp["matched_ids_sorted"]
    assert int(m.matched.sum()) == exp["n_matched"]
    assert int((m.matched & (m.treat == 1)).sum()) == exp["n_matched_treated"]
    assert int((m.matched & (m.treat == 0)).sum()) == exp["n_matched_control"]


def test_weights_and_subclasses_are_identical(fitted):
    case, _, m = fitted
    exp = case["expected"]
    w = {m.labels[i]: m.weights[i] for i in np.flatnonzero(m.matched)}
    assert set(w) == set(exp["weights"])
    assert_named_close(w, exp["weights"], rel=1e-12, abs_=1e-12, what="weights")
    if exp["subclass"] is None:
        assert m.subclass is None
    else:
        assert {m.labels[i]: int(m.subclass[i]) for i in np.flatnonzero(m.matched)} == exp["subclass"]
    if exp["caliper_distance_units"] is None:
        assert m.caliper is None
    else:
        assert_close([m.caliper], exp["caliper_distance_units"], rel=tolerance(case, "rel_propensity")[0])


def test_sample_size_table_matches_summary_nn(fitted):
    case, _, m = fitted
    nn = m.sample_sizes()
    rel, abs_ = tolerance(case)
    for row, vals in case["expected"]["nn"].items():
        assert_named_close({g: nn.loc[row, g] for g in vals}, vals, rel=rel, abs_=abs_, what=f"nn.{row}")


@pytest.mark.parametrize("which", ["balance_all", "balance_matched"])
def test_balance_tables_match_summary_matchit(fitted, which):
    case, _, m = fitted
    before, after = m.balance()
    table = before if which == "balance_all" else after
    exp = case["expected"][which]
    assert list(table.index) == list(exp)
    for row, vals in exp.items():
        rel, abs_ = tolerance(case, "rel_propensity" if row == "distance" else "rel")
        got = {c: (None if math.isnan(table.loc[row, c]) else table.loc[row, c]) for c in vals}
        assert_named_close(got, vals, rel=rel, abs_=abs_, what=f"{which}.{row}")


def test_matched_att_and_standard_errors(fitted):
    case, data, m = fitted
    outcome = case["model"]["outcome_model"].split("~")[0].strip()
    rel, abs_ = tolerance(case)
    names = {"vcovCL_subclass": "CR1"}
    for vname, exp in case["expected"]["effect"].items():
        eff = matched_effect(m, data, outcome, vcov=names.get(vname, vname))
        tab = eff.table.set_index("term")
        for col, key in (("estimate", "coef"), ("std_error", "se"), ("statistic", "tstat"), ("p_value", "pvalue")):
            assert_named_close(tab[col].to_dict(), exp[key], rel=rel, abs_=abs_, what=f"{vname}.{key}")
        for term, (lo, hi) in exp["conf_int"].items():
            assert_close([tab.loc[term, "conf_low"], tab.loc[term, "conf_high"]], [lo, hi], rel=rel, abs_=abs_,
                         what=f"{vname}.conf_int.{term}")
        assert eff.df == exp["df"] and eff.nobs == exp["nobs"]
