"""AIPW with scikit-learn learners and cross-fitting (the optional `ml` extra)."""

from __future__ import annotations

import pytest

import causalspec as cs
from causalspec.datasets import CHURN_ATE
from causalspec.errors import UnsupportedError


def _spec(**design):
    base = cs.load("specs/churn_offer.yaml")
    spec = cs.Spec(**{**base.model_dump(), "design": {"type": "observational", "estimator": "aipw", **design},
                      "sensitivity": {"refutations": []}})
    spec._origin = base.origin
    return spec


def test_crossfit_aipw_covers_the_churn_truth_and_is_seeded():
    pytest.importorskip("sklearn")
    a = cs.run(_spec(learner="gradient_boosting", folds=3))
    assert a.effect.conf_low < CHURN_ATE < a.effect.conf_high
    assert "3-fold cross-fitting" in a.notes[0]
    b = cs.run(_spec(learner="gradient_boosting", folds=3))
    assert a.effect.estimate == b.effect.estimate  # folds and learners seeded from the spec


def test_learner_is_for_aipw_only_and_missing_sklearn_is_explained(monkeypatch):
    with pytest.raises(UnsupportedError, match="design.learner: flexible learners are used by aipw only"):
        cs.plan(_spec(learner="random_forest").model_copy(update={"design": cs.spec.ObservationalDesign(
            estimator="ipw", learner="random_forest")}))
    import importlib

    real = importlib.import_module

    def no_sklearn(name, *args, **kwargs):
        if name.startswith("sklearn"):
            raise ImportError(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(importlib, "import_module", no_sklearn)
    with pytest.raises(UnsupportedError, match=r"pip install scikit-learn \(causalspec's ml extra"):
        cs.run(_spec(learner="random_forest"))
