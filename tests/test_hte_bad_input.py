"""Bad input to the heterogeneity kernels and the spec section: located causalspec errors, never a traceback
from numpy or scikit-learn (issue 15)."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from causalspec.errors import CausalSpecError, DataError, SpecError, UnsupportedError
from causalspec.heterogeneity import (MODEL_PARAMS, ModelChoice, check_budget, check_model, check_modifiers, fit_cate,
                                      group_ates, make_folds, policy, renewal_discount, uplift_at_k)
from causalspec.heterogeneity._policy import Policy
from causalspec.spec import heterogeneity_ml as hml

LIN, LOGIT = ModelChoice.of("linear"), ModelChoice.of("logistic")


def _data(n=400):
    df = renewal_discount(n=n, seed=5)
    X = np.column_stack([df.usage, df.age]).astype(float)
    return X, df.discount.to_numpy(float), df.renewed.to_numpy(float)


def test_a_treatment_that_is_not_binary_is_refused():
    pytest.importorskip("sklearn")
    X, t, y = _data()
    t[:5] = 2
    with pytest.raises(DataError, match=r"treatment: heterogeneous effects need a binary 0/1 treatment"):
        fit_cate("dr", X, X, t, y, outcome=LIN, propensity=LOGIT, final=LIN, folds=np.arange(400) % 3, seed=0)


def test_a_modifier_with_one_value_is_refused_at_its_field():
    Z = np.column_stack([np.arange(10.0), np.ones(10)])
    with pytest.raises(DataError, match=r"heterogeneity.modifiers\[1\]: the modifier 'plan' takes one value"):
        check_modifiers(Z, ["usage", "plan"])


def test_too_many_folds_for_the_smaller_arm_is_refused():
    with pytest.raises(DataError, match=r"heterogeneity.folds: 5-fold cross-fitting needs at least 10"):
        make_folds(np.r_[np.ones(6), np.zeros(50)], 5, 0)


def test_a_segment_with_no_treated_units_is_an_error_not_an_empty_row():
    scores, t = np.zeros(8), np.array([0, 1, 0, 1, 0, 0, 0, 0])
    with pytest.raises(DataError, match="segment 'b' has 0 treated and 4 control units"):
        group_ates(scores, t, np.array(list("aaaabbbb")))


def test_a_segment_without_overlap_gets_a_warning():
    scores, t = np.zeros(8), np.array([0, 1, 0, 1, 0, 1, 0, 1])
    e = np.r_[np.full(4, 0.5), np.full(4, 0.001)]
    _, notes = group_ates(scores, t, np.array(list("aaaabbbb")), e)
    assert notes and "segment 'b': propensity scores near 0 or 1" in notes[0]


@pytest.mark.parametrize("budget, message", [(1.5, r"a budget share of 1.5 is not in \(0, 1\] \(150% of"),
                                             (0.0, "a budget share of 0 is not in"),
                                             (5000, "a budget of 5000 units is outside 1..400")])
def test_a_budget_over_100_percent_or_the_rows_is_refused(budget, message):
    with pytest.raises(DataError, match=message):
        check_budget(budget, 400)
    with pytest.raises(DataError, match="heterogeneity.policy.budget"):
        policy(np.zeros(400), np.zeros(400), budget=budget)


def test_uplift_at_k_with_one_arm_in_the_top_k_is_an_error_not_nan():
    y, s, t = np.array([1, 0, 1, 0]), np.array([4.0, 3, 2, 1]), np.array([1, 1, 0, 0])
    with pytest.raises(DataError, match="hold only one arm"):
        uplift_at_k(y, s, t, "overall", 2)


def test_unknown_models_and_parameters_are_located():
    assert check_model(ModelChoice.of("svm"), "m")[0].code == "model_unknown"
    bad = check_model(ModelChoice.of("ridge", {"alpha": -1, "gamma": 2}), "heterogeneity.outcome_model")
    assert [p.loc for p in bad] == ["heterogeneity.outcome_model.alpha", "heterogeneity.outcome_model.gamma"]
    with pytest.raises(SpecError, match=r"outcome_model.name: 'sklearn.svm.SVR' is not an allowed model"):
        hml.HeterogeneityML(modifiers=["usage"], learner="dr", outcome_model={"name": "sklearn.svm.SVR"})


def test_a_model_failure_is_an_estimation_error():
    pytest.importorskip("sklearn")
    X, t, y = _data()
    X[:, 0] = np.nan  # sklearn would raise ValueError deep inside
    with pytest.raises(CausalSpecError, match="heterogeneity.outcome_model: the model could not be fitted"):
        fit_cate("t", X, X, t, y, outcome=LIN, propensity=LOGIT, final=LIN, folds=np.arange(400) % 3, seed=0)


def test_the_spec_refuses_an_ml_learner_without_scikit_learn(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "sklearn" else real(name, *a))
    with pytest.raises(UnsupportedError, match=r'^learner: .*pip install "causalspec\[ml\]"'):  # in a Spec: heterogeneity.learner
        hml.HeterogeneityML(modifiers=["usage"], learner="dr")
    assert hml.HeterogeneityML(modifiers=["usage"]).learner == "linear"  # the OLS path needs no scikit-learn


def test_spec_budget_over_100_percent_and_causal_forest_are_refused():
    with pytest.raises(SpecError, match="budget.share"):
        hml.HeterogeneityML(modifiers=["u"], learner="dr", policy={"budget": {"share": 1.2}})
    with pytest.raises(UnsupportedError, match="causal_forest is not available yet"):
        hml.HeterogeneityML(modifiers=["u"], learner="causal_forest")
    with pytest.raises(SpecError, match="segments, policy and holdout need a CATE learner"):
        hml.HeterogeneityML(modifiers=["u"], policy={"value": 1})


def test_the_spec_model_table_equals_the_kernel_allow_list():
    union = {m.model_fields["name"].annotation.__args__[0]: set(m.model_fields) - {"name"}
             for m in (hml._Linear, hml._Ridge, hml._Lasso, hml._Logistic, hml._GradientBoosting, hml._RandomForest)}
    assert union == {name: set(params) for name, params in MODEL_PARAMS.items()}
    assert set(hml.MODEL_NAMES) == set(MODEL_PARAMS)
    h = hml.HeterogeneityML(modifiers=["u"], learner="dr", outcome_model={"name": "gradient_boosting", "max_iter": 50},
                            segments=[{"name": "plan", "column": "segment"}], holdout={"column": "randomized"})
    assert hml.model_params(h.outcome_model) == {"max_iter": 50}
    assert not check_model(ModelChoice.of("gradient_boosting", hml.model_params(h.outcome_model)), "x")
    assert h.data_columns()[-1] == ("randomized", "heterogeneity.holdout.column")
    assert isinstance(Policy, type)


def test_effects_equal_up_to_rounding_get_one_histogram_bin_not_a_numpy_error():
    from causalspec.designs._heterogeneity import _histogram

    cate = 3.2 + np.array([0.0, 4.4e-16, -4.4e-16, 8.8e-16] * 50)  # an S-learner's "one number", last bits apart
    assert _histogram(cate) == {"counts": [200], "edges": [float(cate.min()), float(cate.max())]}
    spread = np.linspace(-1.0, 2.0, 81)
    h = _histogram(spread)
    assert len(h["counts"]) == 40 and sum(h["counts"]) == 81 and h["edges"][0] == -1.0 and h["edges"][-1] == 2.0
