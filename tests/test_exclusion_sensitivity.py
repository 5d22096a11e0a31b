"""Exclusion-restriction sensitivity for IV (issue 11): Conley, Hansen & Rossi (2012)'s union of confidence
intervals and its breakdown value, instead of only an unmeasured-confounder E-value."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import causalspec as cs
from causalspec.errors import AdjustmentError
from causalspec.estimators._iv import ivreg
from causalspec.sensitivity._plausibly_exogenous import ExclusionInputs, _interval, _uci, plausibly_exogenous

SPECS = Path(__file__).resolve().parents[1] / "specs"
MROZ = Path(__file__).resolve().parent / "parity" / "data" / "mroz.csv"


def _one_instrument_spec(**sensitivity) -> cs.Spec:
    spec = cs.load(SPECS / "mroz_iv.yaml").model_dump()
    spec["design"] = {**spec["design"], "instruments": ["fatheduc"]}
    spec["dag"]["edges"] = [e for e in spec["dag"]["edges"] if "motheduc" not in e]
    return cs.Spec(**{**spec, "sensitivity": sensitivity})


def test_the_uci_shifts_the_2sls_interval_by_gamma_over_the_first_stage_and_the_breakdown_reaches_zero():
    result = cs.run(_one_instrument_spec(exclusion_bound=0.01), data=SPECS / "data" / "mroz.csv", refute=False)
    ex = result.sensitivity.exclusion
    y, X, names, Zm, znames, z, instrument, term, kind = _arrays(result)
    # beta(gamma) = beta_hat - gamma * c, c the 2SLS coefficient of the instrument on the regressors (AER identity)
    c = ivreg(z, X, names, Zm, znames).fit.coef[list(names).index(term)]
    b0 = result.effect.estimate
    b1 = ivreg(y - 0.01 * z, X, names, Zm, znames).fit.coef[list(names).index(term)]
    assert b1 == pytest.approx(b0 - 0.01 * c, rel=1e-10)
    args = (y, X, names, Zm, znames, z, term, kind, 0.95)
    assert _uci(args, ex.breakdown, 41)[0] == pytest.approx(0.0, abs=1e-6)
    assert _uci(args, 0.9 * ex.breakdown, 41)[0] > 0  # just below the breakdown, zero stays outside
    assert ex.uci_low < result.effect.conf_low and ex.uci_high > result.effect.conf_high
    assert any("union of confidence intervals" in line for line in result.sensitivity.summary_lines())
    assert result.to_dict()["sensitivity"]["exclusion"]["breakdown"] == pytest.approx(ex.breakdown)


def _arrays(result):
    from causalspec.designs import fit

    return fit(result.plan, result._data).iv_arrays


def test_the_exclusion_bound_is_refused_outside_iv():
    spec = cs.load(SPECS / "feature_adoption.yaml").model_dump()
    with pytest.raises(AdjustmentError, match=r"sensitivity.exclusion_bound: .* applies to design.type iv only"):
        cs.plan(cs.Spec(**{**spec, "sensitivity": {"exclusion_bound": 0.1}}))




# --- several instruments, fixed effects ------------------------------------------------------------------------

def _two_instrument_spec(level=0.90, **over) -> cs.Spec:
    spec = cs.load(SPECS / "mroz_iv.yaml").model_dump()
    spec.pop("data", None)
    return cs.Spec(**{**spec, "inference": {"level": level}, **over})


@pytest.fixture(scope="module")
def mroz():
    return pd.read_csv(MROZ)


@pytest.fixture(scope="module")
def two(mroz):
    result = cs.fit(cs.plan(_two_instrument_spec(sensitivity={"exclusion_bound": 0.005})), mroz)
    return result, _arrays(result)


def _brute_force_uci(frame, bound, level, points=121):
    """2SLS by hand (numpy, no causalspec kernel) of lwage - g1 motheduc - g2 fatheduc on a fine grid of the box,
    with AER's classical variance; the union of the intervals and the intervals at the four corners."""
    d = frame[frame["inlf"] == 1]
    one = np.ones(len(d))
    X = np.column_stack([one, d["exper"], d["expersq"], d["educ"]])
    Z = np.column_stack([one, d["exper"], d["expersq"], d["motheduc"], d["fatheduc"]])
    Zx = d[["motheduc", "fatheduc"]].to_numpy(float)
    Xh = Z @ np.linalg.lstsq(Z, X, rcond=None)[0]
    A = np.linalg.inv(Xh.T @ Xh)
    axis = np.linspace(-bound, bound, points)
    G = np.array([(a, b) for a in axis for b in axis]).T  # 2 x k
    Y = d["lwage"].to_numpy(float)[:, None] - Zx @ G
    B = A @ Xh.T @ Y
    resid = Y - X @ B
    n, k = X.shape
    se = np.sqrt((resid ** 2).sum(axis=0) / (n - k) * A[3, 3])
    q = stats.t.ppf(0.5 + level / 2, n - k)
    lo, hi = B[3] - q * se, B[3] + q * se
    corner = (np.abs(G[0]) == bound) & (np.abs(G[1]) == bound)
    return (lo.min(), hi.max()), (lo[corner].min(), hi[corner].max())


def test_two_instruments_are_named_and_the_bound_applies_to_each(two):
    result, inputs = two
    ex = result.sensitivity.exclusion
    assert isinstance(inputs, ExclusionInputs) and inputs.instruments == ("motheduc", "fatheduc")
    assert ex.instrument == "motheduc, fatheduc" and ex.instruments == ("motheduc", "fatheduc")
    assert ex.grid == (41, 41) and ex.estimator == "AER::ivreg"
    d = ex.to_dict()
    assert {"computed", "method", "instrument", "bound", "uci", "breakdown", "level", "notes"} <= set(d)
    assert d["instruments"] == ["motheduc", "fatheduc"] and d["bound_applies_to"] == "each instrument"
    lines = " ".join(ex.summary_lines())
    assert "each of motheduc, fatheduc" in lines and "each instrument's direct effect bounded by 0.005" in lines


def test_with_two_instruments_the_uci_at_bound_zero_is_the_2sls_interval(two):
    result, inputs = two
    y, X, names, Zm, znames, z, instrument, term, kind = inputs
    ex0 = plausibly_exogenous(y, X, names, Zm, znames, z, instrument, term, vcov=kind, level=0.90, bound=0.0)
    assert (ex0.uci_low, ex0.uci_high) == pytest.approx((result.effect.conf_low, result.effect.conf_high),
                                                        rel=1e-12)


def test_with_two_instruments_the_uci_equals_a_brute_force_union_over_the_box(two, mroz):
    result, _ = two
    ex = result.sensitivity.exclusion
    (lo, hi), corners = _brute_force_uci(mroz, 0.005, 0.90)
    assert (ex.uci_low, ex.uci_high) == pytest.approx((lo, hi), rel=1e-10)
    # the extremes are at corners (the interval ends are convex / concave in gamma with this variance)
    assert corners == pytest.approx((lo, hi), rel=1e-12)
    assert ex.uci_low < result.effect.conf_low and ex.uci_high > result.effect.conf_high


def test_with_two_instruments_the_uci_grows_with_the_bound_and_the_breakdown_touches_zero(two):
    result, inputs = two
    y, X, names, Zm, znames, z, instrument, term, kind = inputs
    args = (y, X, names, Zm, znames, z, term, kind, 0.90)
    ucis = [_uci(args, b, 9) for b in (0.0, 0.001, 0.0025, 0.005, 0.01)]
    assert all(a[0] >= b[0] and a[1] <= b[1] for a, b in zip(ucis, ucis[1:]))
    assert ucis[0][0] > ucis[-1][0] and ucis[0][1] < ucis[-1][1]
    ex = result.sensitivity.exclusion
    assert result.effect.conf_low > 0 and ex.breakdown > 0
    assert _uci(args, ex.breakdown, 41)[0] == pytest.approx(0.0, abs=1e-9)
    assert _uci(args, 0.95 * ex.breakdown, 41)[0] > 0
    assert ex.breakdown < 0.005 and ex.uci_low < 0  # consistent with the reported box


def _adjusted(frame, gamma):
    out = frame.copy()
    out["lwage_g"] = out["lwage"] - gamma[0] * out["motheduc"] - gamma[1] * out["fatheduc"]
    return out


def _adjusted_spec(spec: cs.Spec) -> cs.Spec:
    d = spec.model_dump()
    d["dag"]["edges"] = [e.replace("lwage", "lwage_g") for e in d["dag"]["edges"]]
    # the reference fits need only their effect: no sensitivity step (and so no second union of intervals)
    return cs.Spec(**{**d, "outcome": "lwage_g", "sensitivity": {"enabled": False}})


IV_VARIANTS = {
    "fe_age_default_cr1": {"design": {"type": "iv", "instruments": ["motheduc", "fatheduc"], "fixed_effects": ["age"]}},
    "fe_age_hetero": {"design": {"type": "iv", "instruments": ["motheduc", "fatheduc"], "fixed_effects": ["age"]},
                      "inference": {"vcov": "HC1", "level": 0.9}},
    "fe_city_iid": {"design": {"type": "iv", "instruments": ["motheduc", "fatheduc"], "fixed_effects": ["city"]},
                    "inference": {"vcov": "iid", "level": 0.9}},
    "no_fe_cr1": {"inference": {"vcov": "CR1", "cluster": ["age"], "level": 0.9}},
    "no_fe_hc2": {"inference": {"vcov": "HC2", "level": 0.9}},
    "no_fe_hc3_one_instrument": {"inference": {"vcov": "HC3", "level": 0.9},
                                 "design": {"type": "iv", "instruments": ["fatheduc"]},
                                 "dag": {"edges": ["fatheduc -> educ", "educ -> lwage", "educ <-> lwage",
                                                   "exper -> lwage", "expersq -> lwage"]}},
}


@pytest.mark.parametrize("variant", list(IV_VARIANTS))
def test_at_a_fixed_direct_effect_the_interval_is_the_designs_own_fit_of_the_adjusted_outcome(mroz, variant):
    spec = _two_instrument_spec(**IV_VARIANTS[variant])
    plan = cs.plan(spec)
    inputs = _arrays(cs.fit(plan, mroz))
    y, X, names, Zm, znames, z, instrument, term, kind = inputs
    m = len(inputs.instruments)
    for gamma in [(0.01, -0.02), (-0.015, 0.005)]:
        g = np.array(gamma[:m]) if m > 1 else gamma[1]
        full = gamma if m > 1 else (0.0, gamma[1])
        own = cs.fit(cs.plan(_adjusted_spec(spec)), _adjusted(mroz, full)).effect
        got = _interval(y, X, names, Zm, znames, z, g, term, kind, plan.vcov.level)
        assert got == pytest.approx((own.conf_low, own.conf_high), rel=1e-9), gamma


def test_with_fixed_effects_the_uci_is_the_union_of_the_designs_intervals_and_is_reported(mroz):
    spec = _two_instrument_spec(level=0.95, **IV_VARIANTS["fe_age_default_cr1"],
                                sensitivity={"exclusion_bound": 0.004})
    result = cs.fit(cs.plan(spec), mroz)
    ex = result.sensitivity.exclusion
    assert result.plan.vcov.kind == "CR1" and result.plan.vcov.cluster == ("age",)
    assert ex.instruments == ("motheduc", "fatheduc") and "| age" in ex.estimator and "~age" in ex.estimator
    corners = [cs.fit(cs.plan(_adjusted_spec(spec)), _adjusted(mroz, (a, b))).effect
               for a in (-0.004, 0.004) for b in (-0.004, 0.004)]
    lo, hi = min(c.conf_low for c in corners), max(c.conf_high for c in corners)
    # the grid contains the corners, so the UCI reaches at least as far; with one-way clusters not farther
    assert ex.uci_low <= lo + 1e-12 and ex.uci_high >= hi - 1e-12
    assert (ex.uci_low, ex.uci_high) == pytest.approx((lo, hi), rel=1e-9)
    inputs = _arrays(result)
    y, X, names, Zm, znames, z, instrument, term, kind = inputs
    ex0 = plausibly_exogenous(y, X, names, Zm, znames, z, instrument, term, vcov=kind, level=0.95, bound=0.0)
    assert (ex0.uci_low, ex0.uci_high) == pytest.approx((result.effect.conf_low, result.effect.conf_high),
                                                        rel=1e-12)
    assert any("each of motheduc, fatheduc" in line for line in result.sensitivity.summary_lines())


def test_a_result_with_the_exclusion_inputs_pickles(two):
    import pickle

    result, _ = two
    back = pickle.loads(pickle.dumps(result))
    assert back.sensitivity.exclusion.uci_low == result.sensitivity.exclusion.uci_low
