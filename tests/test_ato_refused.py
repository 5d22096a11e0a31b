"""The ATO (overlap weights, Li, Morgan & Zaslavsky 2018) is estimated by the observational ipw estimator only.

Every bundled spec, with every estimator its design offers that plans with the spec's own estimand (or the
design's default), is planned again with ``estimand: ATO``: each is refused with a located error at ``estimand``
(``unsupported_estimand``), except ``ipw``, which plans the overlap-weighted contrast.  Designs that relabel the
default estimand (the interrupted time series and the synthetic control report the ATE as the ATT) must refuse the
ATO too, never relabel it.
"""

from __future__ import annotations

import typing
from pathlib import Path

import pytest

import causalspec as cs
from causalspec.errors import CausalSpecError

SPECS = Path(__file__).resolve().parents[1] / "specs"
BUNDLED = sorted(SPECS.glob("*.yaml"))


def _estimators(spec) -> tuple[str, ...]:
    field = type(spec.design).model_fields.get("estimator")
    return typing.get_args(field.annotation) if field is not None else ("",)


def _with(spec, estimator: str, estimand: str):
    data = spec.model_dump(exclude_none=True, by_alias=True)
    if estimator:
        data["design"]["estimator"] = estimator
    data["estimand"] = estimand
    return type(spec).model_validate(data)


def _load(path):
    """The bundled spec, or None when this environment cannot load it (an optional extra it needs is missing)."""
    try:
        return cs.load(path)
    except CausalSpecError:
        return None


def _combinations():
    out = []
    for path in BUNDLED:
        spec = _load(path)
        if spec is None:
            out.append(pytest.param(path.name, "", id=f"{path.stem}-unloadable"))
            continue
        for est in _estimators(spec):
            out.append(pytest.param(path.name, est, id=f"{path.stem}-{est or 'default'}"))
    return out


@pytest.mark.parametrize("name,estimator", _combinations())
def test_ato_is_refused_at_estimand_except_by_ipw(name, estimator):
    spec = _load(SPECS / name)
    if spec is None:
        pytest.skip(f"{name} does not load here (an optional extra is missing)")
    base = None
    for estimand in (spec.estimand, "ATE", "ATT"):
        try:
            base = cs.plan(_with(spec, estimator, estimand))
            break
        except (CausalSpecError, ValueError):
            continue
    if base is None:
        pytest.skip(f"{estimator or 'the design'} does not plan on {name} with any other estimand either")
    ato = _with(spec, estimator, "ATO")
    if spec.design.type == "observational" and estimator == "ipw":
        plan = cs.plan(ato)
        assert plan.estimand == "ATO" and plan.estimator.value == "ipw"
        return
    with pytest.raises(CausalSpecError) as info:
        cs.plan(ato)
    problem = info.value.problems[0]
    assert problem.loc == "estimand", (name, estimator, problem.loc, problem.message)
    assert problem.code == "unsupported_estimand", (name, estimator, problem.code)


def _plans(spec, estimator) -> bool:
    for estimand in (spec.estimand, "ATE", "ATT"):
        try:
            cs.plan(_with(spec, estimator, estimand))
            return True
        except (CausalSpecError, ValueError):
            continue
    return False


def test_the_walk_covers_every_design_family_and_every_observational_estimator():
    walked = {}
    for path in BUNDLED:
        spec = _load(path)
        for est in _estimators(spec) if spec is not None else ():
            if _plans(spec, est):
                walked.setdefault(spec.design.type, set()).add(est)
    assert set(walked) >= {"experiment", "observational", "did", "event_study", "iv", "panel",
                           "regression_discontinuity", "synthetic_control", "interrupted_time_series"}, walked
    assert walked["observational"] >= {"auto", "ols", "ra", "ipw", "ipw_ra", "aipw", "aipw_wls", "matching",
                                       "ps_regression"}, walked["observational"]


def test_ipw_fits_the_ato_with_overlap_weights():
    import numpy as np

    spec = cs.load(SPECS / "churn_offer.yaml")
    data = cs.datasets.churn_offer()
    result = cs.fit(cs.plan(_with(spec, "ipw", "ATO")), data)
    w = result.extras["ipw_weights"]
    assert w["estimand"] == "ATO"
    e = np.asarray(w["propensity"])
    t = data.loc[w["rows"], spec.treatment].to_numpy() == 1
    assert np.allclose(np.asarray(w["unnormalized"]), np.where(t, 1 - e, e))
    normalized = np.asarray(w["normalized"])
    assert np.isclose(normalized[t].sum(), 1.0) and np.isclose(normalized[~t].sum(), 1.0)
