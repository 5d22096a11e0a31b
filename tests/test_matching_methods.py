"""MatchIt's matching methods on small hand-made data: the rules each reproduces (subclass numbering, weights,
coarsening, quantile strata, the Mahalanobis metric and its ties), the options each reads, and the matched sample
in the Result (R parity on lalonde: tests/parity/test_matching_methods_parity.py)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import causalspec as cs
from causalspec.errors import CausalSpecError, DataError, SpecError, UnsupportedError
from causalspec.estimators._mahalanobis import (
    _partial_sort,
    _pivoted_cholesky,
    distance_covariates,
    mahalanobis_transform,
    nn_match_covariates,
    r_mean,
    r_sum,
)
from causalspec.estimators._matching import match_nearest, mm_subclass
from causalspec.estimators._subclassify import (
    _breaks,
    _scoot,
    format_keys,
    match_cem,
    match_exact,
    match_subclass,
    quantile7,
    subclass_weights,
)

from parity._cases import case_data, load_case


def _lalonde():
    return case_data(load_case("matching_lalonde_cem")).set_index("id")


def test_pair_labels_are_the_treated_row_numbers_in_text_order():
    # treated at rows 2, 5 and 10 (1-based): MatchIt names each pair "2", "5", "10", then numbers them in
    # text order ("10" < "2" < "5"), as mm2subclass's factor() of character labels does
    treat = np.array([0, 1, 0, 0, 1, 0, 0, 0, 0, 1, 0])
    mm = np.array([[0], [2], [3]])
    sub = mm_subclass(mm, treat)
    assert sub.tolist() == [2, 2, 3, 1, 3, 0, 0, 0, 0, 1, 0]
    mm[1, 0] = -1  # an unmatched treated unit gets no pair
    assert mm_subclass(mm, treat)[[1, 4, 9]].tolist() == [2, 0, 1]


def test_subclass_weights_follow_weights_subclass_for_each_estimand():
    treat = np.array([1, 0, 0, 1, 1, 0, 0])
    sub = np.array([1, 1, 1, 2, 2, 2, 0])  # subclass 1: 1 treated, 2 controls; 2: 2 treated, 1 control
    att = subclass_weights(sub, treat, "ATT")
    # controls: treated/controls in their subclass (1/2, 1/2, 2), scaled to sum to the 3 controls kept
    assert att.tolist() == pytest.approx([1, 0.5, 0.5, 1, 1, 2, 0])
    ate = subclass_weights(sub, treat, "ATE")
    raw_t, raw_c = np.array([3.0, 1.5, 1.5]), np.array([1.5, 1.5, 3.0])
    assert ate[[0, 3, 4]] == pytest.approx(raw_t * 3 / raw_t.sum())
    assert ate[[1, 2, 5]] == pytest.approx(raw_c * 3 / raw_c.sum())
    atc = subclass_weights(sub, treat, "ATC")
    assert atc[[1, 2, 5]].tolist() == [1, 1, 1] and atc[6] == 0


def test_numbers_are_compared_as_r_formats_them():
    # format() in R: 7 significant digits in a common fixed or scientific layout
    assert format_keys([1.0000001, 1.0000002, 2.5]) == ["1.0", "1.0", "2.5"]
    assert format_keys([123456.78, 0.001234]) == ["1.234568e+05", "1.234000e-03"]
    assert format_keys([12345678.9, 1.5]) == ["12345678.9", "1.5"]
    assert format_keys([0.1 + 0.2, 0.3]) == ["0.3", "0.3"]


def test_exact_matching_numbers_subclasses_in_order_of_appearance_and_drops_lone_patterns():
    d = pd.DataFrame({"t": [1, 0, 1, 0, 0, 1], "a": ["x", "y", "y", "x", "y", "z"], "b": [1, 2, 2, 1, 2, 3]},
                     index=list("pqrstu"))
    m = match_exact("t ~ a + b", d)
    assert m.subclass.tolist() == [1, 2, 2, 1, 2, 0]  # (x, 1) first among the treated, then (y, 2); z alone
    # ATT: controls get treated / controls of their subclass (1; 1/2, 1/2), scaled to sum to the 3 controls
    assert m.weights.tolist() == pytest.approx([1, 0.75, 1, 1.5, 0.75, 0])
    assert m.mm is None and m.distance is None
    assert m.matched_sample()["subclass"] == {"p": 1, "q": 2, "r": 2, "s": 1, "t": 2}


def test_cem_bins_numeric_covariates_with_sturges_rule_and_user_cut_points():
    x = np.arange(10.0)
    br = _breaks(x, None)  # ceiling(log2(10) + 1) = 5 bins over [0, 9]
    assert br[0] == -np.inf and br[-1] == np.inf and br[1:-1] == pytest.approx([1.8, 3.6, 5.4, 7.2])
    assert _breaks(x, (5, 1, 5)).tolist() == [-np.inf, 1, 5, np.inf]
    d = pd.DataFrame({"t": [1, 0, 1, 0, 1, 0], "age": [20.0, 21, 40, 44, 60, 30]})
    coarse = match_cem("t ~ age", d, cutpoints={"age": 2})  # two bins: [20, 40), [40, 60]
    assert coarse.subclass.tolist() == [1, 1, 2, 2, 2, 1]
    with pytest.raises(DataError, match="no coarsened stratum holds both"):  # 0: age not coarsened at all
        match_cem("t ~ age", d, cutpoints={"age": 0})
    with pytest.raises(SpecError, match=r"design.matching.cutpoints.income"):
        match_cem("t ~ age", d, cutpoints={"income": 3})


def test_quantiles_are_r_type_7():
    x = np.array([0.3, 0.1, 0.7, 0.2, 0.9, 0.5, 0.55])
    probs = np.array([0, 1 / 6, 2 / 6, 0.5, 4 / 6, 5 / 6, 1])
    assert quantile7(x, probs) == pytest.approx(np.quantile(x, probs), rel=1e-15)


def test_scoot_moves_the_extreme_unit_into_a_subclass_without_controls():
    treat = np.array([1, 1, 1, 0, 0, 0, 1])
    sub = np.array([1, 2, 3, 1, 1, 2, 3])  # subclass 3 has no control
    x = np.array([0.1, 0.5, 0.9, 0.2, 0.3, 0.6, 0.8])
    # subclass 3 takes the control with the largest score from subclass 2, which then takes the larger of
    # subclass 1's two controls (the left side has more to spare)
    assert _scoot(sub, treat, x).tolist() == [1, 2, 3, 1, 2, 3, 3]


def test_subclassification_strata_hold_both_groups_and_record_the_cut_points():
    d = _lalonde()
    m = match_subclass("treat ~ age + educ + re74", d, subclasses=4)
    assert len(m.q_cut) == 5 and set(np.unique(m.subclass)) == {1, 2, 3, 4}
    assert all(((m.treat == g) & (m.subclass == s)).any() for g in (0, 1) for s in range(1, 5))
    ate = match_subclass("treat ~ age + educ + re74", d, subclasses=4, estimand="ATE")
    assert ate.q_cut[0] == pytest.approx(float(ate.distance.min()))  # ATE: quantiles of every unit's score


def test_r_sums_accumulate_in_long_double():
    x = np.array([1e16, 1.0, -1e16, 1.0])
    assert r_sum(x) == 2.0  # double accumulation would lose the first 1
    assert r_mean(np.array([0.1, 0.2, 0.3])) == pytest.approx(0.2, rel=1e-16)


def test_pivoted_cholesky_factors_a_full_rank_matrix_and_keeps_the_untouched_block_when_singular():
    rng = np.random.default_rng(1)
    A = rng.normal(size=(4, 4))
    A = A @ A.T
    R, piv = _pivoted_cholesky(A)
    assert np.allclose(R.T @ R, A[np.ix_(piv, piv)])
    B = np.array([[1.0, 1.0], [1.0, 1.0]])  # rank 1: dpstf2 stops, the trailing entry is its Schur pivot
    R, _ = _pivoted_cholesky(B)
    assert R[0].tolist() == [1.0, 1.0] and abs(R[1, 1]) < 1e-15


def test_partial_sort_returns_the_k_smallest_in_order():
    key = np.array([5.0, 1.0, 4.0, 1.0, 3.0, 0.5])
    assert [key[i] for i in _partial_sort(list(range(6)), 3, key)] == [0.5, 1.0, 1.0]


def test_mahalanobis_ties_in_exact_arithmetic_go_to_the_first_control_in_data_order():
    # two controls exactly as far from the treated unit (2 years younger and older, otherwise identical)
    d = pd.DataFrame({"t": [1, 0, 0, 0, 1, 0], "age": [30.0, 32, 28, 50, 45, 44], "educ": [12.0, 12, 12, 8, 16, 15]})
    X, _ = distance_covariates("t ~ age + educ", d)
    mm = nn_match_covariates(X, d["t"].to_numpy())
    assert mm[:, 0].tolist() == [1, 5]
    keep, sd, F = mahalanobis_transform(X, d["t"].to_numpy())
    assert keep.tolist() == [0, 1] and F.shape == (2, 2)


def test_nearest_for_the_atc_matches_each_control_and_orders_by_smallest_score():
    d = _lalonde()
    m = match_nearest("treat ~ age + educ + re74", d, estimand="ATC", replace=True)
    assert m.mm.shape[0] == int((m.treat == 0).sum())  # one row per control
    assert set(m.match_matrix) == set(d.index[d["treat"] == 0])
    assert (m.weights[m.treat == 0] == 1).all()


def test_nearest_within_exact_strata_never_pairs_across_strata():
    d = _lalonde()
    m = match_nearest("treat ~ age + educ + re74", d, exact=("race", "married"))
    lab = list(d.index)
    for t, cs_ in m.match_matrix.items():
        for c in cs_:
            if c is not None:
                assert tuple(d.loc[t, ["race", "married"]]) == tuple(d.loc[c, ["race", "married"]])
    assert any(v == (None,) for v in m.match_matrix.values())  # strata with too few controls
    assert len(lab) == len(m.weights)


# ------------------------------------------------------------------ through the spec

CONF = ["age", "educ", "married", "nodegree", "race", "re74", "re75"]


def _spec(estimand="ATT", **matching):
    edges = ["treat -> re78"] + [f"{c} -> {v}" for c in CONF for v in ("treat", "re78")]
    return cs.Spec(name="lalonde", treatment="treat", outcome="re78", estimand=estimand, dag={"edges": edges},
                   adjustment=CONF, design={"type": "observational", "estimator": "matching", "matching": matching},
                   sensitivity={"refutations": []})


@pytest.mark.parametrize("matching, where", [
    ({"method": "cem", "caliper": 0.2}, "design.matching.caliper"),
    ({"method": "exact", "ratio": 2}, "design.matching.ratio"),
    ({"method": "subclass", "replace": True}, "design.matching.replace"),
    ({"cutpoints": {"age": 4}}, "design.matching.cutpoints"),
    ({"method": "cem", "subclasses": 4}, "design.matching.subclasses"),
    ({"method": "subclass", "exact": ["race"]}, "design.matching.exact"),
    ({"method": "subclass", "distance": "mahalanobis"}, "design.matching.distance"),
    ({"distance": "mahalanobis", "caliper": 0.1}, "design.matching.caliper"),
    ({"distance": "mahalanobis", "algorithm": "exact"}, "design.matching.algorithm"),
    ({"method": "exact", "distance": "logit"}, "design.matching.distance"),
])
def test_an_option_the_method_does_not_read_is_refused_where_it_is_written(matching, where):
    with pytest.raises(UnsupportedError, match=rf"{where}: .*(is read by method|not read|has none)"):
        cs.plan(_spec(**matching))


def test_named_covariates_must_be_adjusted_and_the_estimand_must_suit_the_method():
    with pytest.raises(SpecError, match=r"design.matching.exact\[1\]: 're78' is not adjusted for"):
        cs.plan(_spec(exact=["race", "re78"]))
    with pytest.raises(SpecError, match=r"design.matching.cutpoints.income: 'income' is not adjusted"):
        cs.plan(_spec(method="cem", cutpoints={"income": 3}))
    with pytest.raises(UnsupportedError, match=r"estimand: matching method nearest targets ATT or ATC, not ATE"):
        cs.plan(_spec("ATE"))
    with pytest.raises(SpecError, match=r"cutpoints"):
        _spec(method="cem", cutpoints={"age": 1})


def test_the_plan_records_the_method_and_the_variance_it_implies():
    p = cs.plan(_spec("ATE", method="subclass", subclasses=5))
    s = p.settings.to_dict()
    assert (s["method"], s["subclasses"], s["ratio"], s["exact"]) == ("subclass", 5, None, None)
    assert p.vcov.kind == "HC3" and "method subclass forms no pairs" in p.vcov.r_equivalent
    p = cs.plan(_spec(distance="mahalanobis", exact=["race"]))
    assert p.vcov.kind == "CR1" and p.settings.matching.exact == ("race",)
    assert cs.plan(_spec(method="cem", cutpoints={"re74": [1, 5000]})).settings.matching.cutpoints == (
        ("re74", (1.0, 5000.0)),)


def test_the_result_carries_the_matched_sample_by_row_label_and_the_models():
    data = _lalonde()
    out = json.loads(cs.run(_spec(), data=data, refute=False).to_json())["design"]
    ms = out["matched_sample"]
    assert set(ms["match_matrix"]) == set(data.index[data["treat"] == 1])
    assert all(c in data.index for v in ms["match_matrix"].values() for c in v if c is not None)
    assert set(ms["weights"]) == set(ms["subclass"]) and len(ms["weights"]) == 370
    assert out["propensity_model"]["(Intercept)"] == pytest.approx(out["propensity_table"]["(Intercept)"]["estimate"])
    assert set(out["distance_summary"]) == {"all", "treated", "control"}
    terms = [r["term"] for r in out["outcome_model"]["coefficients"]]
    assert terms == ["(Intercept)", "treat"] and out["outcome_model"]["nobs"] == 370
    cem = json.loads(cs.run(_spec(method="cem"), data=data, refute=False).to_json())["design"]
    assert cem["matched_sample"]["match_matrix"] is None and cem["propensity_used_for_matching"] is False
    assert "not_applicable" in cem["distance_summary"]


def test_every_method_changes_the_answer():
    data = _lalonde()
    effects = {m: cs.run(_spec(**kw), data=data, refute=False).effect.estimate for m, kw in {
        "nearest": {}, "mahalanobis": {"distance": "mahalanobis"}, "exact": {"exact": ["race"]},
        "cem": {"method": "cem"}, "subclass": {"method": "subclass"}, "subclass4": {"method": "subclass", "subclasses": 4},
        "cem_cut": {"method": "cem", "cutpoints": {"age": 3}}}.items()}
    assert len(set(np.round(list(effects.values()), 6))) == len(effects)


def test_units_left_out_are_counted_by_reason():
    data = _lalonde()
    r = cs.run(_spec(method="cem"), data=data, refute=False)
    reasons = dict(r.dropped)
    assert r.nobs + sum(reasons.values()) == len(data)
    assert any(k.startswith("treated units in no cem subclass with control units") for k in reasons)


def test_errors_stay_causalspec_errors():
    d = pd.DataFrame({"t": [1, 0, 1, 0], "a": ["x", "y", "x", "y"]})
    with pytest.raises(CausalSpecError, match="no exact matches"):
        match_exact("t ~ a", d)
