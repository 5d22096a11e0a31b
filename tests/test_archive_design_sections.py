"""An archive keeps what the design reports: the matched sample, the IPW weights and the DR-DiD details are in
results.json's design section exactly as in the Result's JSON (a reader a year later needs them to audit)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

import causalspec as cs
from causalspec.archive import archive, verify

DATA = Path(__file__).parent / "parity" / "data"
CONF = ["age", "educ", "married", "nodegree", "race", "re74", "re75"]
LALONDE_DAG = {"edges": ["treat -> re78"] + [f"{c} -> {v}" for c in CONF for v in ("treat", "re78")]}
SPECS = {
    "optimal_matching": ({"treatment": "treat", "outcome": "re78", "estimand": "ATT", "dag": LALONDE_DAG,
                          "adjustment": CONF, "design": {"type": "observational", "estimator": "matching",
                                                         "matching": {"method": "optimal", "ratio": 2}}},
                         "lalonde.csv", ("matched_sample", "propensity_model", "outcome_model", "balance_after")),
    "ipw": ({"treatment": "treat", "outcome": "re78", "estimand": "ATE", "dag": LALONDE_DAG, "adjustment": CONF,
             "design": {"type": "observational", "estimator": "ipw", "ipw": {"weights": "horvitz_thompson"}}},
            "lalonde.csv", ("ipw_weights", "teffects", "po_means", "propensity_model", "balance_after")),
    "drdid_rc": ({"treatment": "d", "outcome": "y", "covariates": ["x1", "x2", "x3", "x4"],
                  "dag": {"edges": ["d -> y"] + [f"x{k} -> {v}" for k in range(1, 5) for v in ("d", "y")]},
                  "design": {"type": "did", "estimator": "drdid", "post": "post", "panel": False}},
                 "sim_rc.csv", ("drdid",)),
}


@pytest.mark.parametrize("name", sorted(SPECS))
def test_the_design_section_is_archived_and_verifies(name, tmp_path):
    body, data, keys = SPECS[name]
    shutil.copy(DATA / data, tmp_path / data)
    spec_file = tmp_path / f"{name}.yaml"
    spec_file.write_text(yaml.safe_dump({"version": 1, "name": name, "data": data, **body,
                                         "sensitivity": {"refutations": []}}))
    out = archive(spec_file, tmp_path / "archive")
    assert verify(out).exit_code == 0
    archived = json.loads((out / "results.json").read_text())["design"]
    direct = json.loads(cs.run(spec_file).to_json())["design"]
    for key in keys:
        assert key in archived, f"{key} missing from the archive's design section"
        assert archived[key] == direct[key], key
