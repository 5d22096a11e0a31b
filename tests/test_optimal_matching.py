"""Optimal pair matching and optimal full matching (design.matching.method optimal / full).

optmatch, which MatchIt calls for both, is not packaged for Debian here, so the matched sets are checked against
their definition instead: the smallest total distance found by enumerating every admissible matching of small
problems (hypothesis draws them), and on lalonde against nearest-neighbour matching, which can never do better.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

import causalspec as cs
from causalspec.errors import CausalSpecError
from causalspec.estimators._matching import match_nearest
from causalspec.estimators._optimal import full_subclasses, match_full, match_optimal, optimal_pairs

from test_matching_methods import _spec  # the lalonde matching spec the other MatchIt methods are tested with

DATA = Path(__file__).parent / "parity" / "data" / "lalonde.csv"
FORMULA = "treat ~ age + educ + race + married + nodegree + re74 + re75"


def _costs(draw, n1, n0, integer):
    vals = st.integers(0, 4) if integer else st.floats(0, 10, allow_nan=False, allow_infinity=False)
    return np.array(draw(st.lists(st.lists(vals, min_size=n0, max_size=n0), min_size=n1, max_size=n1)), float)


@st.composite
def pair_problem(draw):
    ratio = draw(st.integers(1, 2))
    n1 = draw(st.integers(1, 3))
    n0 = draw(st.integers(n1 * ratio, n1 * ratio + 2))
    return _costs(draw, n1, n0, draw(st.booleans())), ratio


@given(pair_problem())
@settings(max_examples=150, deadline=None)
def test_optimal_pairs_reach_the_smallest_total_distance_of_any_matching(problem):
    cost, ratio = problem
    n1, n0 = cost.shape
    mm = optimal_pairs(cost, ratio)
    used = mm.ravel()
    assert (used >= 0).all() and len(set(used)) == n1 * ratio  # every slot filled, no unit reused
    total = sum(cost[i, j] for i in range(n1) for j in mm[i])
    best = min(sum(cost[k // ratio, j] for k, j in enumerate(p)) for p in itertools.permutations(range(n0), n1 * ratio))
    assert total == pytest.approx(best, abs=1e-12)


@st.composite
def full_problem(draw):
    n1, n0 = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    return _costs(draw, n1, n0, draw(st.booleans()))


def _is_star_partition(st_, sc_):
    for s in set(st_) | set(sc_):
        nt, nc = int((st_ == s).sum()), int((sc_ == s).sum())
        if nt < 1 or nc < 1 or (nt > 1 and nc > 1):
            return False
    return True


def _full_cost(cost, st_, sc_):
    return sum(cost[i, j] for i in range(cost.shape[0]) for j in range(cost.shape[1]) if st_[i] == sc_[j])


@given(full_problem())
@settings(max_examples=150, deadline=None)
def test_full_matching_reaches_the_smallest_total_distance_of_any_full_matching(cost):
    n1, n0 = cost.shape
    st_, sc_ = full_subclasses(cost)
    assert _is_star_partition(st_, sc_)  # every unit placed; one treated or one control per subclass
    best = np.inf
    for labels in itertools.product(range(1, max(n1, n0) + 1), repeat=n1 + n0):  # every partition (<= max sets)
        a, b = np.array(labels[:n1]), np.array(labels[n1:])
        if _is_star_partition(a, b):
            best = min(best, _full_cost(cost, a, b))
    assert _full_cost(cost, st_, sc_) == pytest.approx(best, abs=1e-12)


def test_a_greedy_match_is_beaten_where_it_should_be():
    # the first treated unit takes control 0 greedily, forcing the second onto a far control; optimal swaps
    assert optimal_pairs(np.array([[1.0, 2.0], [1.5, 10.0]])).ravel().tolist() == [1, 0]
    st_, sc_ = full_subclasses(np.array([[0.1, 0.2, 5.0], [4.0, 4.0, 0.3]]))
    assert st_.tolist() == [1, 2] and sc_.tolist() == [1, 1, 2]


@pytest.fixture(scope="module")
def lalonde():
    return pd.read_csv(DATA).set_index("id", drop=False)


def _total(m):
    fr = np.flatnonzero(m.focal == 1)
    return sum(abs(m.distance[u] - m.distance[c]) for r, u in enumerate(fr) for c in m.mm[r] if c >= 0)


@pytest.mark.parametrize("ratio", [1, 2])
def test_on_lalonde_optimal_pairs_are_never_farther_than_nearest_neighbours(lalonde, ratio):
    opt = match_optimal(FORMULA, lalonde, ratio=ratio)
    near = match_nearest(FORMULA, lalonde, ratio=ratio, algorithm="exact")
    assert _total(opt) <= _total(near) + 1e-9
    assert (opt.mm >= 0).all() and len(set(opt.mm.ravel())) == 185 * ratio
    assert opt.weights[opt.treat == 1].tolist() == [1.0] * 185


def test_exact_strata_are_respected_and_units_without_a_partner_dropped(lalonde):
    m = match_optimal(FORMULA, lalonde, exact=["race"])
    race = lalonde["race"].to_numpy()
    fr = np.flatnonzero(m.treat == 1)
    for r, u in enumerate(fr):
        assert all(race[c] == race[u] for c in m.mm[r] if c >= 0)
    # 156 black treated units, 87 black controls: MatchIt matches every control and drops 69 treated units
    assert int(((m.weights == 0) & (m.treat == 1)).sum()) == 69
    assert any("69 treated units" in n for n in m.notes)


@pytest.mark.parametrize("estimand", ["ATT", "ATC", "ATE"])
def test_full_matching_places_every_unit_and_weights_subclasses_as_matchit(lalonde, estimand):
    m = match_full(FORMULA, lalonde, estimand=estimand)
    assert (m.subclass > 0).all() and (m.weights > 0).all()
    t = m.treat == 1
    for s in np.unique(m.subclass):
        nt, nc = int((t & (m.subclass == s)).sum()), int((~t & (m.subclass == s)).sum())
        assert min(nt, nc) == 1
    if estimand == "ATT":  # weights.subclass: treated 1, controls n_t / n_c of their subclass, scaled to mean 1
        assert (m.weights[t] == 1).all()
        assert m.weights[~t].mean() == pytest.approx(1.0, rel=1e-14)
        s = m.subclass[~t][0]
        ratio = (t & (m.subclass == s)).sum() / (~t & (m.subclass == s)).sum()
        assert m.weights[~t][0] == pytest.approx(ratio * (~t).sum() / sum(
            (t & (m.subclass == k)).sum() / (~t & (m.subclass == k)).sum() * (~t & (m.subclass == k)).sum()
            for k in np.unique(m.subclass)), rel=1e-12)


def test_a_ratio_the_controls_cannot_fill_is_refused_at_the_ratio(lalonde):
    with pytest.raises(CausalSpecError) as e:
        match_optimal(FORMULA, lalonde, ratio=3)
    assert e.value.problems[0].loc == "design.matching.ratio"


def test_the_spec_runs_optimal_and_full_matching_and_reports_the_matched_sample(lalonde):
    formula = "treat ~ age + educ + married + nodegree + race + re74 + re75"  # the spec's adjustment order
    opt = cs.run(_spec(method="optimal", ratio=2), data=lalonde, refute=False)
    m = match_optimal(formula, lalonde, ratio=2)
    from causalspec.estimators._matched_effect import matched_effect
    me = matched_effect(m, lalonde, "re78", vcov="CR1")
    row = me.table.set_index("term").loc["treat"]
    assert opt.effect.estimate == pytest.approx(row["estimate"], rel=1e-12)
    assert opt.effect.std_error == pytest.approx(row["std_error"], rel=1e-12)
    design = json.loads(opt.to_json())["design"]
    assert design["matching"]["method"] == "optimal" and len(design["matched_sample"]["weights"]) == 185 * 3
    assert all(len(v) == 2 for v in design["matched_sample"]["match_matrix"].values())
    full = cs.run(_spec("ATE", method="full"), data=lalonde, refute=False)
    fm = match_full(formula, lalonde, estimand="ATE")
    row = matched_effect(fm, lalonde, "re78", vcov="CR1").table.set_index("term").loc["treat"]
    assert full.effect.estimate == pytest.approx(row["estimate"], rel=1e-12)
    assert "cluster = ~subclass" in full.plan.vcov.r_equivalent
    out = json.loads(full.to_json())["design"]
    assert out["matched_sample"]["match_matrix"] is None and len(out["matched_sample"]["subclass"]) == len(lalonde)


@pytest.mark.parametrize("matching, where", [
    ({"method": "full", "ratio": 2}, "design.matching.ratio"),
    ({"method": "optimal", "caliper": 0.2}, "design.matching.caliper"),
    ({"method": "optimal", "replace": True}, "design.matching.replace"),
    ({"method": "full", "algorithm": "exact"}, "design.matching.algorithm"),
])
def test_options_optimal_and_full_matching_do_not_read_are_refused(matching, where):
    with pytest.raises(CausalSpecError, match=rf"{where}: "):
        cs.plan(_spec(**matching))


def test_optimal_matching_targets_the_att_or_atc_and_full_matching_the_ate_too():
    with pytest.raises(CausalSpecError, match=r"estimand: matching method optimal targets ATT or ATC, not ATE"):
        cs.plan(_spec("ATE", method="optimal"))
    assert cs.plan(_spec("ATE", method="full")).settings.matching.method == "full"


def test_each_option_changes_the_answer(lalonde):
    # the estimate, or (where the same units are kept, paired differently: optimal on the logit keeps the
    # propensity-optimal controls here) the pair-clustered SE
    def answer(r):
        return round(r.effect.estimate, 6), round(r.effect.std_error, 6)

    effects = {k: answer(cs.run(_spec(**kw), data=lalonde, refute=False)) for k, kw in {
        "optimal": {"method": "optimal"}, "optimal2": {"method": "optimal", "ratio": 2},
        "optimal_logit": {"method": "optimal", "distance": "logit"},
        "optimal_mahal": {"method": "optimal", "distance": "mahalanobis"},
        "optimal_exact": {"method": "optimal", "exact": ["race"]}, "full": {"method": "full"},
        "full_logit": {"method": "full", "distance": "logit"}, "full_mahal": {"method": "full", "distance": "mahalanobis"},
        "full_exact": {"method": "full", "exact": ["married"]}}.items()}
    assert len(set(effects.values())) == len(effects)
