"""Sun-Abraham parity: fixest's sunab() cohort x period coefficients and their period / ATT / cohort aggregates."""

from __future__ import annotations

import pytest

from causalspec.estimators.fixest import feols, fit_stats, sunab, sunab_aggregate
from causalspec.inference._fixest import coeftable, fixest_vcov
from parity._cases import assert_close, assert_named_close, case_data, case_ids, load_case, tolerance


def _compare_table(tab, block, rel, abs_, what, ci=False):
    tab = tab.set_index("term")
    for col, key in (("estimate", "coef"), ("std_error", "se"), ("statistic", "tstat"), ("p_value", "pvalue")):
        assert_named_close(tab[col].to_dict(), block[key], rel=rel, abs_=abs_, what=f"{what} {key}")
    if ci:
        for term, (lo, hi) in block["conf_int"].items():
            assert_close([tab.loc[term, "conf_low"], tab.loc[term, "conf_high"]], [lo, hi], rel=rel, abs_=abs_,
                         what=f"{what} ci {term}")


@pytest.mark.parametrize("case_id", case_ids("sunab_"))
def test_sunab_matches_fixest(case_id):
    case = load_case(case_id)
    rel, abs_ = tolerance(case)
    d = case_data(case)
    exp = case["expected"]
    design = sunab(d["first.treat"], d["year"], period_name="year")
    fit = feols(d["lemp"], design.X, design.names, d[["countyreal", "year"]])
    assert fit.nobs == exp["nobs"] and fit.nobs_origin == exp["nobs_origin"]
    assert fit.fixef_sizes == exp["fixef_sizes"]
    # fixest's coef() on a sunab fit returns the aggregated periods, which its within adjusted R2 counts.
    n_periods = len(sunab_aggregate(fit, fixest_vcov(fit, "iid"), design, "period"))
    st = fit_stats(fit, n_coef=n_periods)
    assert_named_close({k: st[k] for k in exp["r2"]}, exp["r2"], rel=rel, abs_=abs_, what="r2")
    for name, block in exp["vcov_variants"].items():
        kind = "cluster" if name.startswith("cluster") else name
        v = fixest_vcov(fit, kind, d[["countyreal"]] if kind == "cluster" else None)
        assert v.label == block["vcov_type"] and v.df_t == block["df_t"]
        _compare_table(coeftable(fit, v), block["cohort_period"], rel, abs_, f"{name} cohort_period")
        _compare_table(sunab_aggregate(fit, v, design, "period"), block["period"], rel, abs_, f"{name} period",
                       ci=True)
        _compare_table(sunab_aggregate(fit, v, design, "att"), block["att"], rel, abs_, f"{name} att")
        _compare_table(sunab_aggregate(fit, v, design, "cohort"), block["cohort"], rel, abs_, f"{name} cohort")


def test_sunab_fit_statistics_through_the_spec_count_the_aggregated_coefficients():
    """Through the spec, the within adjusted R2 counts the aggregated period coefficients as fixest's r2(fit,
    "war2") does (it used to count the cohort x period ones: 0.00643 instead of R's 0.00892)."""
    import causalspec as cs
    from pathlib import Path

    case = load_case("sunab_mpdta")
    spec = cs.load(Path(__file__).resolve().parents[2] / "specs" / "mpdta_sun_abraham.yaml")
    result = cs.run(spec.model_copy(update={"sensitivity": type(spec.sensitivity)(enabled=False)}),
                    data=case_data(case), refute=False)
    got = result.to_dict()["diagnostics"]
    assert_named_close({k: got[k] for k in case["expected"]["r2"]}, case["expected"]["r2"], rel=1e-9, abs_=0.0,
                       what="r2 through the spec")
