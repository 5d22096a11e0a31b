"""Balance after weighting as cobalt's bal.tab reports it (causalspec.estimators._weighted_balance), checked against
MatchIt's bal1var on lalonde (case matching_lalonde_weighting_balance), and the love plot drawn from it."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from causalspec.estimators._propensity import fit_propensity
from causalspec.estimators._weighted_balance import cobalt_covariates, weighted_balance
from causalspec.report._propensity_plots import love_plot

from parity._cases import assert_close, case_data, load_case, tolerance

CASE = load_case("matching_lalonde_weighting_balance")
COLUMNS = {"M1": "M.1", "M0": "M.0", "Diff": "Diff", "V.Ratio": "V.Ratio", "KS": "KS"}


def _fit(estimand):
    data = case_data(CASE).set_index("id")
    ps = fit_propensity(CASE["formula"], data)
    e, t = ps.score, ps.treat
    w = np.where(t == 1, 1 / e, 1 / (1 - e)) if estimand == "ATE" else np.where(t == 1, 1.0, e / (1 - e))
    return weighted_balance(cobalt_covariates(CASE["formula"], data), t, w, estimand=estimand, score=e), w


@pytest.mark.parametrize("estimand", ["ATE", "ATT"])
def test_weighted_balance_matches_the_reference_statistics(estimand):
    bal, w = _fit(estimand)
    exp = CASE["expected"][estimand]
    rel, abs_ = tolerance(CASE)
    assert_close(w[:5], exp["weights_head"], rel=rel, abs_=abs_, what="weights")
    assert list(bal.table.index) == list(exp["balance"])
    for cov, e in exp["balance"].items():
        row = bal.table.loc[cov]
        assert row["Type"] == e["type"]
        for sfx, side in (("Un", "un"), ("Adj", "adj")):
            for key, col in COLUMNS.items():
                assert_close([row[f"{col}.{sfx}"]], [e[side].get(key)], rel=rel, abs_=abs_, what=f"{cov} {col}.{sfx}")
    ess = bal.sample_sizes.loc["Adjusted"]
    assert_close([ess["Treated"], ess["Control"]], [exp["ess"]["treated"], exp["ess"]["control"]], rel=rel)


def test_the_denominator_is_the_unweighted_sd_the_estimand_names():
    X = pd.DataFrame({"x": [1.0, 2.0, 3.0, 5.0, 4.0, 9.0]})
    t = np.array([1, 1, 1, 0, 0, 0])
    w = np.array([1.0, 2.0, 1.0, 1.0, 1.0, 3.0])
    diff = (np.average([1, 2, 3], weights=[1, 2, 1]) - np.average([5, 4, 9], weights=[1, 1, 3]))
    sd_t, sd_c = np.std([1, 2, 3], ddof=1), np.std([5, 4, 9], ddof=1)
    for estimand, sd in (("ATT", sd_t), ("ATC", sd_c), ("ATE", np.sqrt((sd_t**2 + sd_c**2) / 2))):
        bal = weighted_balance(X, t, w, estimand=estimand)
        assert bal.table.loc["x", "Diff.Adj"] == pytest.approx(diff / sd)
        assert bal.s_d_denom == {"ATT": "treated", "ATC": "control", "ATE": "pooled"}[estimand]


def test_binary_covariates_get_raw_differences_and_no_variance_ratio():
    X = pd.DataFrame({"b": [1.0, 0.0, 1.0, 0.0, 0.0, 1.0], "two": [3.0, 3.0, 7.0, 7.0, 7.0, 3.0]})
    t = np.array([1, 1, 1, 0, 0, 0])
    bal = weighted_balance(X, t, np.ones(6))
    assert bal.table.loc["b", "Diff.Adj"] == pytest.approx(2 / 3 - 1 / 3)
    assert np.isnan(bal.table.loc["b", "V.Ratio.Adj"]) and bal.table.loc["b", "KS.Adj"] == pytest.approx(1 / 3)
    assert bal.table.loc["two", "Type"] == "Binary"  # two distinct values: binary, 1 for the larger
    assert bal.table.loc["two", "M.1.Un"] == pytest.approx(1 / 3)


def test_factors_are_split_as_cobalt_splits_them():
    d = pd.DataFrame({"t": [1, 0, 1, 0], "g": ["a", "b", "c", "a"], "s": ["m", "f", "f", "m"], "x": [1.0, 2, 3, 4]})
    assert list(cobalt_covariates("t ~ g + s + x", d)) == ["g_a", "g_b", "g_c", "s_m", "x"]


def test_the_love_plot_draws_weighted_balance():
    bal, _ = _fit("ATE")
    result = SimpleNamespace(extras=bal.extras(), plan=SimpleNamespace(estimator=SimpleNamespace(value="ipw")))
    ax = love_plot(result)
    assert len(ax.collections) == 2 and len(ax.get_yticks()) == len(bal.table)
    assert "binary covariates raw" in ax.get_xlabel()
    assert ax.get_legend().get_texts()[1].get_text() == "Weighted"
    assert result.extras["balance_after"][0]["covariate"] == "prop.score"
