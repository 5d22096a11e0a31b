"""fixest's numbers beyond the coefficients in the Result (issue 12): degrees_freedom(fit, "k") and "t",
fixed-effect sizes, clusters per variable and the singleton levels removed — through the spec, against the
fixest reference cases (fe_wagepan_feols_vcov: fixest 0.11, see the case's r_versions)."""

from __future__ import annotations

import json

import pandas as pd

import pytest

import causalspec as cs
from parity._cases import case_data, load_case

ROOT = __import__('pathlib').Path(__file__).resolve().parents[2]


def _spec(inference) -> cs.Spec:
    spec = cs.load(str(ROOT / "specs/wagepan_fe.yaml")).model_dump()
    return cs.Spec(**{**spec, "inference": inference, "sensitivity": {"enabled": False}})


@pytest.mark.parametrize("variant,inference", [
    ("default", {}), ("iid", {"vcov": "iid"}), ("hetero", {"vcov": "HC1"}),
    ("cluster_nr", {"vcov": "CR1", "cluster": ["nr"]}), ("twoway_nr_year", {"vcov": "CR1", "cluster": ["nr", "year"]})])
def test_degrees_of_freedom_and_fixed_effects_are_fixest_s(variant, inference):
    case = load_case("fe_wagepan_feols_vcov")
    want = case["expected"]
    result = cs.run(_spec(inference), data=case_data(case), refute=False)
    got = json.loads(json.dumps(result.to_dict()))["extras"] if "extras" in result.to_dict() else result.extras
    v = want["vcov_variants"][variant]
    assert got["degrees_freedom"]["k"] == v["df_k"] and got["degrees_freedom"]["t"] == v["df_t"]
    assert got["fixed_effects"] == want["fixef_sizes"]
    if "cluster" in inference:
        assert got["clusters"] == {c: int(case_data(case)[c].nunique()) for c in inference["cluster"]}
    assert got["singleton_levels_removed"] == {}


def test_removed_singleton_levels_are_listed():
    frame = case_data(load_case("fe_wagepan_feols_vcov"))
    lonely = frame.iloc[:1].assign(nr=999999)  # a worker seen once: a singleton of the nr fixed effect
    data = pd.concat([frame, lonely], ignore_index=True)
    spec = cs.load(str(ROOT / "specs/wagepan_fe.yaml")).model_dump()
    spec["design"] = {**spec["design"], "singletons": "drop"}
    result = cs.run(cs.Spec(**{**spec, "sensitivity": {"enabled": False}}), data=data, refute=False)
    assert result.extras["singleton_levels_removed"] == {"nr": [999999]}
    assert result.extras["fixed_effects"]["nr"] == frame["nr"].nunique()
    assert result.nobs == len(frame)
