"""The command line: run, plan, schema, and the JSON contract (docs/json.md)."""

from __future__ import annotations

import json

from causalspec.cli import main

CONTRACT_KEYS = {"version", "name", "treatment", "outcome", "estimand", "effect", "naive", "estimates", "nobs", "n_input",
                 "dropped", "plan", "vcov", "diagnostics", "notes", "sensitivity", "data", "warnings", "design",
                 "refutations", "specification_curve", "dag_tests"}
ROW_KEYS = ["term", "estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high", "df"]


def test_run_prints_plan_naive_and_adjusted(capsys):
    assert main(["run", "specs/feature_adoption.yaml"]) == 0
    out = capsys.readouterr().out
    assert "Adjust for account_age, activity, region_index" in out
    naive = next(line for line in out.splitlines() if line.strip().startswith("naive (unadjusted)"))
    adjusted = next(line for line in out.splitlines() if line.strip().startswith("adjusted"))
    assert float(naive.split()[2]) > 14 and 9.5 < float(adjusted.split()[1]) < 10.5


def test_run_json_follows_the_contract(capsys):
    assert main(["run", "specs/feature_adoption.yaml", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == CONTRACT_KEYS
    assert list(data["effect"]) == ROW_KEYS
    assert all(list(row) == ROW_KEYS for row in data["estimates"])
    assert {"identified", "adjustment_set", "estimator", "vcov"} <= set(data["plan"])
    assert data["plan"]["adjustment_set"] == ["account_age", "activity", "region_index"]
    assert data["nobs"] == data["n_input"] == 5000


def test_run_data_override(tmp_path, capsys):
    import causalspec as cs

    cs.datasets.feature_adoption(n=800, seed=3).to_csv(tmp_path / "d.csv", index=False)
    assert main(["run", "specs/feature_adoption.yaml", "--data", str(tmp_path / "d.csv"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["nobs"] == 800


def test_plan_json_needs_no_data(tmp_path, capsys):
    spec = tmp_path / "p.yaml"
    spec.write_text("name: p\ntreatment: x\noutcome: y\ndag:\n  edges: [z -> x, z -> y, x -> y, w -> x]\n")
    assert main(["plan", str(spec), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["identified"] is True
    assert data["adjustment_set"] == ["z"]
    assert data["minimal_adjustment_sets"] == [["z"]]


def test_schema_is_json(capsys):
    assert main(["schema"]) == 0
    assert json.loads(capsys.readouterr().out)["title"] == "causalspec analysis spec"


def test_no_command_prints_help_and_exits_2(capsys):
    assert main([]) == 2


def test_validate_lists_problems_of_every_layer_in_one_run(tmp_path, capsys):
    """Field types, whole-spec checks and the plan used to be reported one layer per run (issue 11)."""
    path = tmp_path / "three.yaml"
    path.write_text("name: three\ntreatment: feature_usage\noutcome: spend\ndag:\n  edges:\n"
                    "    - account_age -> feature_usage\n    - account_age -> spend\n"
                    "    - feature_usage -> sessions\n    - sessions -> spend\n"
                    "covariates: [nonexistent_node]\nadjustment: [sessions]\ninference: {vcov: hc2}\n")
    assert main(["validate", "--no-data", str(path)]) == 1
    out = capsys.readouterr().out
    assert "INVALID (3 problems)" in out
    assert "three.yaml:12 inference.vcov: 'hc2'" in out
    assert "three.yaml:10 covariates[0]: 'nonexistent_node' is not a node" in out
    assert "adjustment[0]: 'sessions' is a mediator" in out
