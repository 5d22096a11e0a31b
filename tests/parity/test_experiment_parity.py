"""Experiment parity: difference in means, Welch's t test and lm_lin against estimatr / t.test."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from causalspec.formula._materialize import Design, materialize
from causalspec.estimators._experiment import difference_in_means, lm_lin, welch_t_test
from parity._cases import assert_close, assert_named_close, case_data, case_ids, load_case, tolerance


def _star(d: pd.DataFrame) -> pd.DataFrame:
    k = d[d["stark"].isin(["small", "regular"])].copy()
    k["small"] = (k["stark"] == "small").astype(float)
    k["score"] = k["readk"] + k["mathk"]
    return k[k["score"].notna()]


def _resume(d: pd.DataFrame) -> pd.DataFrame:
    d = d.copy()
    d["afam"] = (d["ethnicity"] == "afam").astype(float)
    d["callback"] = (d["call"] == "yes").astype(float)
    return d


# The two stored cases derive their outcome and treatment in R (see each case's r_call);
# extra cases name existing columns in model.outcome / model.treatment / model.covariates.
PREP = {
    "experiment_star_kindergarten": (_star, "score", "small", ["gender", "lunchk", "birth"]),
    "experiment_resume_callback": (_resume, "callback", "afam",
                                   ["gender", "quality", "city", "experience", "jobs", "honors"]),
}
CASES = case_ids("experiment_")


def _setup(case):
    data = case_data(case)
    if case["id"] in PREP:
        prep, y, d, covs = PREP[case["id"]]
        return prep(data), y, d, covs
    m = case["model"]
    return data, m["outcome"], m["treatment"], list(m.get("covariates", []))


@pytest.mark.parametrize("case_id", CASES)
def test_difference_in_means_matches_estimatr(case_id):
    case = load_case(case_id)
    rel, abs_ = tolerance(case)
    data, y, d, _ = _setup(case)
    exp = case["expected"]["difference_in_means"]
    r = difference_in_means(data[y].to_numpy(float), data[d].to_numpy(float), term=d)
    assert r.nobs == exp["nobs"]
    assert_close([r.estimate, r.std_error, r.statistic, r.p_value, r.df],
                 [exp["coef"][d], exp["se"][d], exp["tstat"][d], exp["pvalue"][d], exp["df"][d]],
                 rel=rel, abs_=abs_, what="difference_in_means")
    assert_close([r.conf_low, r.conf_high], exp["conf_int"][d], rel=rel, abs_=abs_, what="conf_int")
    row = r.table.iloc[0]
    assert_close([row.estimate, row.std_error, row.conf_low], [r.estimate, r.std_error, r.conf_low], rel=1e-12)


@pytest.mark.parametrize("case_id", CASES)
def test_welch_t_test_matches_t_test(case_id):
    case = load_case(case_id)
    rel, abs_ = tolerance(case)
    data, y, d, _ = _setup(case)
    exp = case["expected"]["welch_t_test"]
    yy, dd = data[y].to_numpy(float), data[d].to_numpy(float)
    w = welch_t_test(yy[dd == 1], yy[dd == 0])
    assert_close([w.statistic, w.df, w.p_value, w.stderr], [exp["statistic"], exp["parameter"]["df"],
                 exp["p_value"], exp["stderr"]], rel=rel, abs_=abs_, what="welch")
    assert_close(list(w.conf_int), exp["conf_int"], rel=rel, abs_=abs_, what="conf_int")
    assert_close(list(w.estimate), list(exp["estimate"].values()), rel=rel, abs_=abs_, what="means")


def _lin_variants():
    for cid in CASES:
        exp = load_case(cid)["expected"]
        yield pytest.param(cid, "lm_lin", id=f"{cid}-lm_lin")
        for name in exp.get("lm_lin_variants", {}):
            yield pytest.param(cid, name, id=f"{cid}-{name}")


@pytest.mark.parametrize("case_id,variant", list(_lin_variants()))
def test_lm_lin_matches_estimatr(case_id, variant):
    case = load_case(case_id)
    rel, abs_ = tolerance(case)
    data, y, d, covs = _setup(case)
    expected = case["expected"]
    exp = expected["lm_lin"] if variant == "lm_lin" else expected["lm_lin_variants"][variant]
    model = case["model"]
    cluster = model.get("cluster")
    if "covariates_formula" in model:  # covariates with calls: pass the materialised design
        design = materialize(f"{y} {model['covariates_formula']}", data)
        data = data.loc[design.rows]
        covariates = design
    else:
        covariates = data[covs]
    res = lm_lin(data[y].to_numpy(float), data[d].to_numpy(float), covariates, treatment=d,
                 se_type=exp["se_type"], cluster=None if cluster is None else data[cluster])
    assert res.nobs == exp["nobs"]
    if not isinstance(covariates, Design):
        assert sum(c for _, c in res.dropped) == len(data) - exp["nobs"]
    tab = res.table.set_index("term")
    for ours, theirs in (("estimate", "coef"), ("std_error", "se"), ("statistic", "tstat"),
                         ("p_value", "pvalue"), ("df", "df")):
        assert_named_close(tab[ours].to_dict(), exp[theirs], rel=rel, abs_=abs_, what=theirs)
    assert_close([[tab.loc[t, "conf_low"], tab.loc[t, "conf_high"]] for t in exp["conf_int"]],
                 list(exp["conf_int"].values()), rel=rel, abs_=abs_, what="conf_int")
    if "vcov" in exp:
        terms = exp["vcov"]["terms"]
        V = res.vcov
        idx = [V.terms.index(t) for t in terms]
        assert_close(V.matrix[np.ix_(idx, idx)], exp["vcov"]["matrix"], rel=rel, abs_=abs_, what="vcov")
