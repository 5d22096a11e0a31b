"""End-to-end parity: a spec, planned and fitted by causalspec's public API, reproduces R's numbers.

The numerical parity of each building block is tested in test_ols_parity.py and
test_experiment_parity.py; here the same R cases go through spec -> plan -> fit -> Result, so the planner's
formula, the sample it keeps and the variance it names are all checked against R.
"""

from __future__ import annotations

import pytest

import causalspec as cs
from parity._cases import assert_close, case_data, load_case, tolerance

# (case id, vcov variant in the case, causalspec vcov kind, cluster)
OLS_VARIANTS = [
    ("ols_wage1_vcovhc", "iid", "iid", ()),
    ("ols_wage1_vcovhc", "HC0", "HC0", ()),
    ("ols_wage1_vcovhc", "HC1", "HC1", ()),
    ("ols_wage1_vcovhc", "HC2", "HC2", ()),
    ("ols_wage1_vcovhc", "HC3", "HC3", ()),
    ("ols_mroz_missing", "iid", "iid", ()),
    ("ols_mroz_missing", "HC1", "HC1", ()),
    ("ols_wagepan_vcovcl_hc1", "vcovCL_HC1", "CR1", ("nr",)),
    ("ols_wagepan_vcovcl_hc1", "vcovCL_HC0", "CR0", ("nr",)),
    ("ols_wagepan_vcovcl_hc1", "iid", "iid", ()),
    ("ols_wagepan_lm_robust", "HC2_default", "HC2", ()),
    ("ols_wagepan_lm_robust", "HC1", "HC1", ()),
    ("ols_wagepan_lm_robust", "CR2_nr", "CR2", ("nr",)),
    ("ols_wagepan_lm_robust", "stata_nr", "stata", ("nr",)),
]

# treatment and the other regressors of each case's formula (R: lm(y ~ treatment + others))
MODELS = {
    "ols_wage1_vcovhc": ("lwage", "educ", ["exper", "tenure"]),
    "ols_mroz_missing": ("lwage", "educ", ["exper", "expersq"]),
    "ols_wagepan_vcovcl_hc1": ("lwage", "educ", ["exper", "expersq", "black", "hisp", "married", "union"]),
    "ols_wagepan_lm_robust": ("lwage", "educ", ["exper", "expersq", "black", "hisp", "married", "union"]),
}


def spec_for(case_id: str, vcov: str, cluster: tuple[str, ...]) -> cs.Spec:
    y, x, others = MODELS[case_id]
    edges = [f"{x} -> {y}"] + [f"{v} -> {x}" for v in others] + [f"{v} -> {y}" for v in others]
    return cs.Spec(name=case_id, treatment=x, outcome=y, dag={"edges": edges}, adjustment=others,
                   inference={"vcov": vcov, "cluster": list(cluster)})


def _per_term(value, terms):
    return [value[t] for t in terms] if isinstance(value, dict) else [value] * len(terms)


@pytest.mark.parametrize("case_id, variant, kind, cluster", OLS_VARIANTS,
                         ids=[f"{c}-{v}" for c, v, _, _ in OLS_VARIANTS])
def test_spec_run_matches_r(case_id, variant, kind, cluster):
    case = load_case(case_id)
    rel, abs_ = tolerance(case)
    data = case_data(case)
    result = cs.fit(cs.plan(spec_for(case_id, kind, cluster)), data)
    exp = case["expected"]["vcov_variants"][variant]
    terms = list(exp["coef"])
    rows = {e.term: e for e in result.coefficients}
    assert set(rows) == set(terms)
    assert_close([rows[t].estimate for t in terms], [exp["coef"][t] for t in terms], rel=rel, abs_=abs_,
                 what="coef")
    assert_close([rows[t].std_error for t in terms], [exp["se"][t] for t in terms], rel=rel, abs_=abs_, what="se")
    assert_close([rows[t].statistic for t in terms], [exp["tstat"][t] for t in terms], rel=rel, abs_=abs_,
                 what="t")
    assert_close([rows[t].p_value for t in terms], [exp["pvalue"][t] for t in terms], rel=rel, abs_=abs_, what="p")
    assert_close([[rows[t].conf_low, rows[t].conf_high] for t in terms], [exp["conf_int"][t] for t in terms],
                 rel=rel, abs_=abs_, what="conf_int")
    assert_close([rows[t].df for t in terms], _per_term(exp["df"], terms), rel=rel, abs_=abs_, what="df")
    vc = result.vcov().loc[exp["vcov"]["terms"], exp["vcov"]["terms"]].to_numpy()
    assert_close(vc, exp["vcov"]["matrix"], rel=rel, abs_=abs_, what="vcov")
    nobs = case["expected"]["nobs"]
    assert result.nobs == nobs
    assert result.n_dropped == case["expected"].get("n_dropped_na", 0)
    assert result.effect.term == MODELS[case_id][1]


def _star():
    case = load_case("experiment_star_kindergarten")
    d = case_data(case)
    k = d[d["stark"].isin(["small", "regular"])].copy()
    k["small"] = (k["stark"] == "small").astype(float)
    k["score"] = k["readk"] + k["mathk"]
    return case, k


def test_experiment_spec_difference_in_means_matches_estimatr():
    case, k = _star()
    rel, abs_ = tolerance(case)
    spec = cs.Spec(name="star", treatment="small", outcome="score", design={"type": "experiment"})
    result = cs.fit(cs.plan(spec), k)
    exp = case["expected"]["difference_in_means"]
    e = result.effect
    assert_close([e.estimate, e.std_error, e.statistic, e.p_value, e.df, e.conf_low, e.conf_high],
                 [exp["coef"]["small"], exp["se"]["small"], exp["tstat"]["small"], exp["pvalue"]["small"],
                  exp["df"]["small"], *exp["conf_int"]["small"]], rel=rel, abs_=abs_, what="difference_in_means")
    # the 351 students without a score are dropped and counted, as R's subset(!is.na(score)) did
    assert result.nobs == exp["nobs"]
    assert dict(result.dropped) == {"missing values in 'score'": len(k) - exp["nobs"]}


def test_experiment_spec_lin_matches_estimatr_lm_lin():
    case, k = _star()
    rel, abs_ = tolerance(case)
    spec = cs.Spec(name="star", treatment="small", outcome="score", design={"type": "experiment", "estimator": "lin"},
                   covariates=["gender", "lunchk", "birth"])
    result = cs.fit(cs.plan(spec), k)
    exp = case["expected"]["lm_lin"]
    rows = {e.term: e for e in result.coefficients}
    terms = list(exp["coef"])
    assert set(rows) == set(terms)
    for key, attr in (("coef", "estimate"), ("se", "std_error"), ("tstat", "statistic"), ("pvalue", "p_value"),
                      ("df", "df")):
        assert_close([getattr(rows[t], attr) for t in terms], [exp[key][t] for t in terms], rel=rel, abs_=abs_,
                     what=key)
    assert_close([[rows[t].conf_low, rows[t].conf_high] for t in terms], [exp["conf_int"][t] for t in terms],
                 rel=rel, abs_=abs_, what="conf_int")
    assert result.nobs == exp["nobs"]
    assert result.n_dropped == len(k) - exp["nobs"]
