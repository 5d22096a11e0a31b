"""Experiments with clustered assignment against estimatr, through the public API (a spec, ``cs.plan``, ``cs.fit``).

The cases (``tests/parity/cases/experiment_clustered_*.json``, made by ``tools/rparity/build_experiment_clusters.R``)
hold ``estimatr::difference_in_means(clusters = )``, ``lm_robust(y ~ d, clusters, se_type = CR2 / stata / CR0)``,
``lm_lin(clusters = )`` and the sample-ratio ``chisq.test`` over clusters; every number is checked here from the
Result a spec produces.  (``test_experiment_parity.py`` walks the same cases' unclustered and lm_lin entries
through the kernels.)
"""

from __future__ import annotations

import numpy as np
import pytest

import causalspec as cs
from causalspec.errors import DataError

from ._cases import assert_close, case_data, case_ids, load_case, tolerance

CASES = case_ids("experiment_clustered_")
SPEC_VCOV = {"CR2": "CR2", "stata": "stata", "CR0": "CR0_estimatr"}  # estimatr's se_type -> the spec's vcov


def _run(case, *, covariates=(), vcov=None, cluster=True, **design):
    m = case["model"]
    inference = {"cluster": [m["cluster"]]} if cluster else {}
    if vcov is not None:
        inference["vcov"] = vcov
    spec = cs.Spec(name=case["id"], treatment=m["treatment"], outcome=m["outcome"], covariates=list(covariates),
                   design={"type": "experiment", "planned_split": m["planned_split"], **design},
                   inference=inference)
    return cs.fit(cs.plan(spec), case_data(case))


def _row_matches(row, exp, term, case, what):
    rel, abs_ = tolerance(case)
    assert_close([row.estimate, row.std_error, row.statistic, row.p_value, row.df, row.conf_low, row.conf_high],
                 [exp["coef"][term], exp["se"][term], exp["tstat"][term], exp["pvalue"][term], exp["df"][term],
                  *exp["conf_int"][term]], rel=rel, abs_=abs_, what=what)


def _dict_matches(row: dict, exp, term, case, what):
    rel, abs_ = tolerance(case)
    assert_close([row["estimate"], row["std_error"], row["p_value"], row["df"], *row["conf_int"]],
                 [exp["coef"][term], exp["se"][term], exp["pvalue"][term], exp["df"][term], *exp["conf_int"][term]],
                 rel=rel, abs_=abs_, what=what)


def _need(case, key):
    if key not in case["expected"]:
        pytest.skip(f"{case['id']} has no {key}")
    return case["expected"][key]


@pytest.mark.parametrize("case_id", CASES)
def test_clustered_difference_in_means_matches_estimatr(case_id):
    case = load_case(case_id)
    exp = _need(case, "difference_in_means_clustered")
    d = case["model"]["treatment"]
    result = _run(case)  # estimator auto, no covariates, a cluster column: the clustered difference in means
    assert result.plan.estimator.value == "difference_in_means" and result.plan.vcov.kind == "CR2"
    assert exp["design"] == "Clustered" and result.nobs == exp["nobs"]
    assert dict(result.fit_stats)["n_clusters"] == exp["nclusters"]
    _row_matches(result.effect, exp, d, case, "difference_in_means(clusters = )")
    assert [e.term for e in result.coefficients] == list(exp["coef"])
    row = result.to_dict()["design"]["effects"][0]
    assert row["role"] == "effect" and row["method"] == "difference in means (cluster-robust CR2 SE, Bell-McCaffrey df)"
    assert_close([row["estimate"], row["std_error"], row["df"]], [exp["coef"][d], exp["se"][d], exp["df"][d]],
                 rel=tolerance(case)[0], what="design.effects[0]")


@pytest.mark.parametrize("case_id", CASES)
@pytest.mark.parametrize("se_type", ["CR2", "stata", "CR0"])
def test_clustered_difference_in_means_variances_match_lm_robust(case_id, se_type):
    case = load_case(case_id)
    exp = _need(case, "lm_robust_clustered")[se_type]
    rel, abs_ = tolerance(case)
    d = case["model"]["treatment"]
    if "difference_in_means_clustered" not in case["expected"]:  # the clusters do not carry the assignment
        with pytest.raises(DataError, match="All units within a cluster must have the same treatment condition"):
            _run(case, vcov=SPEC_VCOV[se_type])
        return
    result = _run(case, vcov=SPEC_VCOV[se_type])
    assert exp["se_type"] == se_type and result.nobs == exp["nobs"]
    _row_matches(result.effect, exp, d, case, f"lm_robust(se_type = {se_type!r})")
    i = exp["vcov"]["terms"].index(d)
    assert_close(result.vcov().loc[d, d], exp["vcov"]["matrix"][i][i], rel=rel, abs_=abs_, what="vcov")
    # the same through with_vcov, from a fit with another variance
    other = _run(case, vcov="stata" if se_type != "stata" else "CR2").with_vcov(SPEC_VCOV[se_type],
                                                                                cluster=case["model"]["cluster"])
    _row_matches(other.effect, exp, d, case, f"with_vcov({se_type!r})")


def _lin_expected(case, se_type):
    exp = case["expected"]
    return exp["lm_lin"] if se_type == "CR2" else exp["lm_lin_variants"][se_type]


@pytest.mark.parametrize("case_id", CASES)
@pytest.mark.parametrize("se_type", ["CR2", "stata", "CR0"])
def test_lin_with_clusters_matches_lm_lin(case_id, se_type):
    case = load_case(case_id)
    exp = _lin_expected(case, se_type)
    rel, abs_ = tolerance(case)
    result = _run(case, covariates=case["model"]["covariates"], vcov=None if se_type == "CR2" else SPEC_VCOV[se_type])
    assert result.plan.estimator.value == "lin" and result.plan.vcov.kind == SPEC_VCOV[se_type]
    assert exp["se_type"] == se_type and result.nobs == exp["nobs"]
    rows = {e.term: e for e in result.coefficients}
    assert list(rows) == list(exp["coef"])
    for term in exp["coef"]:
        _row_matches(rows[term], exp, term, case, f"lm_lin {se_type} {term}")
    V = result.vcov()
    terms = exp["vcov"]["terms"]
    assert_close(V.loc[terms, terms].to_numpy(), exp["vcov"]["matrix"], rel=rel, abs_=abs_, what="lm_lin vcov")
    effects = result.to_dict()["design"]["effects"]
    assert effects[0]["method"].startswith("Lin (2013)") and effects[1]["role"] == "unadjusted"


@pytest.mark.parametrize("case_id", CASES)
@pytest.mark.parametrize("se_type", ["CR2", "stata", "CR0"])
def test_lin_unadjusted_contrast_is_the_clustered_difference_in_means(case_id, se_type):
    case = load_case(case_id)
    exp = _need(case, "lm_robust_clustered")[se_type]
    result = _run(case, covariates=case["model"]["covariates"], vcov=SPEC_VCOV[se_type])
    _row_matches(result.naive, exp, case["model"]["treatment"], case, f"naive {se_type}")


@pytest.mark.parametrize("case_id", CASES)
def test_guardrail_with_clusters_matches_estimatr(case_id):
    case = load_case(case_id)
    key = next((k for k in case["expected"] if k.startswith("guardrail_")), None)
    if key is None:
        pytest.skip(f"{case_id} has no guardrail")
    exp, column = case["expected"][key], key.removeprefix("guardrail_")
    d = case["model"]["treatment"]
    # a Lin fit when the clusters do not carry the assignment (the clustered difference in means is refused)
    nested = "difference_in_means_clustered" in case["expected"]
    result = _run(case, covariates=() if nested else case["model"]["covariates"],
                  guardrails=[{"column": column, "direction": "decrease", "threshold": 0}])
    g = result.extras["guardrails"][0]
    _dict_matches(g, exp, d, case, f"guardrail {column}")
    assert g["method"] == "difference in means (cluster-robust CR2 SE, Bell-McCaffrey df)"
    row = next(r for r in result.to_dict()["design"]["effects"] if r["role"] == "guardrail")
    assert row["term"] == column and row["method"] == g["method"]


@pytest.mark.parametrize("case_id", CASES)
def test_cuped_with_clusters_is_the_clustered_difference_in_means_of_the_adjusted_outcome(case_id):
    case = load_case(case_id)
    exp = _need(case, "cuped")
    rel, abs_ = tolerance(case)
    d = case["model"]["treatment"]
    result = _run(case, cuped=case["model"]["covariates"][0])
    c = result.extras["cuped"]
    assert_close(c["theta"], exp["theta"], rel=rel, abs_=abs_, what="theta")
    _dict_matches(c, exp["adjusted"], d, case, "cuped")
    assert_close(c["unadjusted_std_error"], exp["unadjusted_se"], rel=rel, abs_=abs_, what="unadjusted se")


def _srm_matches(srm, exp, case):
    rel, abs_ = tolerance(case)
    assert srm["planned_split"] == exp["planned_split"]
    assert srm["method"] == exp["method"]
    assert [srm["observed"]["control"], srm["observed"]["treatment"]] == [exp["observed"]["0"], exp["observed"]["1"]]
    assert_close([srm["chi_square"], srm["df"], srm["p_value"], srm["expected"]["control"],
                  srm["expected"]["treatment"]],
                 [exp["statistic"], exp["parameter"]["df"], exp["p_value"], exp["expected"]["0"],
                  exp["expected"]["1"]], rel=rel, abs_=abs_, what="chisq.test")


@pytest.mark.parametrize("case_id", CASES)
def test_sample_ratio_check_counts_clusters_under_clustered_assignment(case_id):
    case = load_case(case_id)
    exp = _need(case, "srm_clusters")
    srm = _run(case).extras["sample_ratio"]
    assert srm["counted"] == "clusters" and sum(srm["units"].values()) == exp["n_units"]
    _srm_matches(srm, exp, case)


@pytest.mark.parametrize("case_id", CASES)
def test_sample_ratio_check_counts_units_without_clustered_assignment(case_id):
    case = load_case(case_id)
    exp = _need(case, "srm_units")
    nested = "difference_in_means_clustered" in case["expected"]
    # no cluster column: units; a cluster column that does not carry the assignment: units, with a note
    for cluster in (False,) if nested else (False, True):
        result = _run(case, covariates=case["model"]["covariates"], cluster=cluster)
        srm = result.extras["sample_ratio"]
        assert srm["counted"] == "units"
        _srm_matches(srm, exp, case)
        if cluster:
            assert any(n.startswith("sample-ratio check: counted units") for n in result.notes)


@pytest.mark.parametrize("case_id", CASES)
def test_clustered_difference_in_means_is_refused_as_estimatr_refuses_it(case_id):
    case = load_case(case_id)
    message = _need(case, "difference_in_means_clustered_error")
    with pytest.raises(DataError, match=message.rstrip(".")) as info:
        _run(case)
    assert info.value.problems[0].loc == "inference.cluster" and info.value.problems[0].code == "arms_not_nested"


@pytest.mark.parametrize("case_id", CASES)
def test_unclustered_rows_match_estimatr_and_t_test(case_id):
    case = load_case(case_id)
    exp, welch = case["expected"]["difference_in_means"], case["expected"]["welch_t_test"]
    rel, abs_ = tolerance(case)
    d = case["model"]["treatment"]
    result = _run(case, cluster=False)
    _row_matches(result.effect, exp, d, case, "difference_in_means()")
    rows = {r["role"]: r for r in result.to_dict()["design"]["effects"]}
    assert rows["effect"]["method"] == "difference in means (Neyman SE, Welch df)"
    w = rows["welch_t_test"]
    assert w["method"] == "Welch t-test"
    assert_close([w["statistic"], w["df"], w["p_value"], w["std_error"], w["conf_low"], w["conf_high"]],
                 [welch["statistic"], welch["parameter"]["df"], welch["p_value"], welch["stderr"],
                  *welch["conf_int"]], rel=rel, abs_=abs_, what="welch")
    assert np.isclose(w["estimate"], np.subtract(*welch["estimate"].values()), rtol=rel)
