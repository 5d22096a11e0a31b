"""Nearest-neighbour matching: the algorithm's rules on small hand-made data, weights, pairs, errors, plots."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes

from causalspec.errors import DataError, SpecError, UnsupportedError
from causalspec.estimators._matched_effect import matched_effect
from causalspec.report._propensity_plots import love_plot_from_tables
from causalspec.estimators._matching import (
    balance_table,
    match_nearest,
    matching_weights,
    mm_subclass,
    nearest_neighbor,
)

# treated at 0.50 and 0.80; controls around them
DIST = np.array([0.50, 0.80, 0.45, 0.52, 0.79, 0.90, 0.10])
TREAT = np.array([1, 1, 0, 0, 0, 0, 0])


def test_exact_algorithm_takes_the_closest_control():
    mm = nearest_neighbor(DIST, TREAT, algorithm="exact", order=np.array([1, 0]))
    assert mm[:, 0].tolist() == [3, 4]  # 0.52 for 0.50, 0.79 for 0.80


def test_matchit_451_prefers_the_lower_neighbour_as_its_integer_abs_does():
    mm = nearest_neighbor(DIST, TREAT, order=np.array([1, 0]))
    assert mm[:, 0].tolist() == [2, 4]  # 0.45 (left) beats the closer 0.52 (right)


def test_without_replacement_each_control_is_used_once_and_largest_goes_first():
    d = np.array([0.60, 0.61, 0.59, 0.10])
    t = np.array([1, 1, 0, 0])
    mm = nearest_neighbor(d, t, order=np.argsort(-d[t == 1], kind="stable"), algorithm="exact")
    # the treated unit with 0.61 chooses first and takes 0.59; the other gets what is left
    assert mm[:, 0].tolist() == [3, 2]


def test_with_replacement_a_control_can_serve_several_treated_units():
    d = np.array([0.50, 0.51, 0.505, 0.10])
    t = np.array([1, 1, 0, 0])
    mm = nearest_neighbor(d, t, reuse_max=2**31 - 1, algorithm="exact")
    assert mm[:, 0].tolist() == [2, 2]
    w = matching_weights(mm, t)
    assert w.tolist() == [1.0, 1.0, 1.0, 0.0]  # 2 uses rescaled to the 1 matched control


@pytest.mark.parametrize("seed", range(5))
def test_exact_algorithm_agrees_with_brute_force_greedy_matching(seed):
    rng = np.random.default_rng(seed)
    n = 60
    d = rng.uniform(size=n)
    t = (rng.uniform(size=n) < 0.3).astype(int)
    order = rng.permutation(int(t.sum()))
    got = nearest_neighbor(d, t, ratio=2, order=order, algorithm="exact")
    avail = set(np.flatnonzero(t == 0).tolist())
    treated = np.flatnonzero(t == 1)
    want = np.full((len(treated), 2), -1)
    for r in range(2):
        for i in order:
            cand = [c for c in avail if c not in want[i, :r]]
            if cand:
                best = min(cand, key=lambda c: abs(d[c] - d[treated[i]]))
                want[i, r] = best
                avail.discard(best)
    assert got.tolist() == want.tolist()


def test_ratio_two_weights_sum_to_the_matched_controls():
    rng = np.random.default_rng(5)
    d = rng.uniform(size=30)
    t = np.zeros(30, dtype=int)
    t[:6] = 1
    mm = nearest_neighbor(d, t, ratio=2, algorithm="exact")
    assert (mm >= 0).all()
    assert all(len(set(row)) == 2 for row in mm.tolist())
    w = matching_weights(mm, t)
    assert w[t == 1].tolist() == [1.0] * 6
    assert w[t == 0].sum() == pytest.approx(np.count_nonzero(w[t == 0]))


def test_matchit_451_with_replacement_can_reuse_a_control_within_one_treated_unit():
    d = np.array([0.50, 0.49, 0.30, 0.10])
    t = np.array([1, 0, 0, 0])
    mm = nearest_neighbor(d, t, ratio=2, reuse_max=2**31 - 1)
    assert mm.tolist() == [[1, 1]]  # R 4.5.1 fills both slots with the same control
    assert matching_weights(mm, t).tolist() == [1.0, 1.0, 0.0, 0.0]
    fixed = nearest_neighbor(d, t, ratio=2, reuse_max=2**31 - 1, algorithm="exact")
    assert fixed.tolist() == [[1, 2]]


def test_exact_caliper_leaves_far_treated_units_unmatched():
    d = np.array([0.50, 0.95, 0.49, 0.20, 0.10])
    t = np.array([1, 1, 0, 0, 0])
    mm = nearest_neighbor(d, t, caliper=0.05, algorithm="exact")
    assert mm[:, 0].tolist() == [2, -1]
    assert matching_weights(mm, t).tolist() == [1.0, 0.0, 1.0, 0.0, 0.0]


def test_subclass_ids_follow_matchits_text_sorted_labels():
    t = np.array([1] * 12 + [0] * 12)
    mm = np.arange(12, 24)[:, None]
    sub = mm_subclass(mm, t)
    # pairs 1..12 are relabelled by the text order "1" < "10" < "11" < "12" < "2" < ...
    assert sub[:12].tolist() == [1, 5, 6, 7, 8, 9, 10, 11, 12, 2, 3, 4]
    assert (sub[12:] == sub[:12]).all()


def _toy(n: int = 200, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    g = rng.choice(["a", "b", "c"], size=n)
    t = (rng.uniform(size=n) < 1 / (1 + np.exp(-(x - 1)))).astype(int)
    y = 1 + 2 * t + x + rng.normal(size=n)
    return pd.DataFrame({"id": [f"u{i}" for i in range(n)], "t": t, "x": x, "g": g, "y": y})


def test_match_nearest_improves_balance_and_estimates_the_att():
    d = _toy(600)
    m = match_nearest("t ~ x + g", d, id_column="id")
    before, after = m.balance()
    assert list(before.index) == ["distance", "x", "ga", "gb", "gc"]
    assert abs(after.loc["x", "Std. Mean Diff."]) < abs(before.loc["x", "Std. Mean Diff."])
    eff = matched_effect(m, d, "y")
    row = eff.table.set_index("term").loc["treat"]
    assert abs(row["estimate"] - 2.0) < 4 * row["std_error"]
    assert eff.vcov_kind == "CR1"


def test_caliper_in_matchit_mode_is_reported_as_not_enforced():
    d = _toy()
    m = match_nearest("t ~ x", d, caliper=0.01)
    assert any("not enforced" in note for note in m.notes)
    exact = match_nearest("t ~ x", d, caliper=0.01, algorithm="exact")
    tr = np.flatnonzero(exact.treat == 1)
    gaps = [abs(exact.distance[u] - exact.distance[c]) for r, u in enumerate(tr) for c in exact.mm[r] if c >= 0]
    assert max(gaps) <= exact.caliper


def test_discard_both_drops_units_outside_common_support():
    d = _toy()
    m = match_nearest("t ~ x", d, discard="both")
    nn = m.sample_sizes()
    assert nn.loc["Discarded"].sum() == m.discarded.sum() > 0
    assert not (m.matched & m.discarded).any()


def test_matching_inputs_are_validated():
    d = _toy(50)
    with pytest.raises(SpecError, match="ratio must be a whole number"):
        match_nearest("t ~ x", d, ratio=0)
    with pytest.raises(SpecError, match="caliper must be positive"):
        match_nearest("t ~ x", d, caliper=-1)
    with pytest.raises(SpecError, match="unknown m_order"):
        match_nearest("t ~ x", d, m_order="biggest")  # type: ignore[arg-type]
    with pytest.raises(DataError, match="missing values are not allowed"):
        match_nearest("t ~ x", d.assign(x=np.where(np.arange(50) == 3, np.nan, d["x"])))
    dup = d.assign(id="same")
    with pytest.raises(DataError, match="labels are not unique"):
        match_nearest("t ~ x", dup, id_column="id")


def test_pair_clustering_is_refused_after_matching_with_replacement():
    d = _toy()
    m = match_nearest("t ~ x", d, replace=True)
    assert m.subclass is None
    with pytest.raises(UnsupportedError, match="pair-clustered"):
        matched_effect(m, d, "y", vcov="CR1")
    assert matched_effect(m, d, "y").vcov_kind == "HC3"


def test_balance_rows_are_the_formula_variables_with_every_factor_level():
    d = _toy()
    m = match_nearest("t ~ x + I(x^2) + g + x:g", d)
    before, _ = m.balance()
    # MatchIt reports variables, not terms: no row for the interaction, all levels of g
    assert list(before.index) == ["distance", "x", "I(x^2)", "ga", "gb", "gc"]
    assert before.loc["I(x^2)", "Means Treated"] == pytest.approx((d["x"][d["t"] == 1] ** 2).mean())
    assert "x:gb" in m.propensity.terms


def test_love_plot_returns_a_figure_with_one_row_per_covariate():
    d = _toy()
    m = match_nearest("t ~ x + g", d)
    ax = love_plot_from_tables(*m.balance())
    assert isinstance(ax, Axes)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["distance", "x", "ga", "gb", "gc"]


def test_balance_of_a_binary_covariate_uses_p_times_one_minus_p():
    X = pd.DataFrame({"b": [1.0, 1, 0, 0, 1, 0]})
    t = np.array([1, 1, 1, 0, 0, 0])
    tab = balance_table(X, t)
    p1, p0 = 2 / 3, 1 / 3
    assert tab.loc["b", "Std. Mean Diff."] == pytest.approx((p1 - p0) / np.sqrt(p1 * (1 - p1)))
    assert np.isnan(tab.loc["b", "Var. Ratio"])
    assert tab.loc["b", "eCDF Max"] == pytest.approx(p1 - p0)
