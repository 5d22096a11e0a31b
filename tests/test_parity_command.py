"""`causalspec parity`: the shipped R cases pass on this machine, and a wrong number is caught."""

from __future__ import annotations

import json
import shutil

import pytest

import causalspec.parity as parity
from causalspec.cli import main


def test_every_shipped_case_passes_and_the_table_names_the_r_function(capsys):
    assert main(["parity"]) == 0
    out = capsys.readouterr().out
    assert "estimatr::lm_robust(se_type = 'CR2')" in out and "fixest::feols" in out and "sensemakr" in out
    assert "25/25 shipped R cases passed" in out
    # what a shipped case declares causalspec does not compute is listed, and does not fail the case
    assert "R results not produced by causalspec" in out and "DeltaSDRM" in out


def test_shipped_cases_keep_their_provenance():
    for path in parity.CASES_DIR.glob("*.json"):
        case = json.loads(path.read_text())
        assert case["source_case"] and case["r_function"] and "tolerance" in case
        assert case["r_versions"], path.name


def _one_case(tmp_path):
    """A copy of one case (every shipped case runs in the test above; running all again would only repeat it)."""
    cases = tmp_path / "cases"
    cases.mkdir()
    shutil.copy(parity.CASES_DIR / "ols_wage1_HC2.json", cases / "ols_wage1_HC2.json")
    return cases


def test_a_perturbed_reference_value_fails(tmp_path, monkeypatch):
    cases = _one_case(tmp_path)
    path = cases / "ols_wage1_HC2.json"
    case = json.loads(path.read_text())
    case["checks"][1]["expected"] *= 1 + 1e-5  # 10x the tolerance
    path.write_text(json.dumps(case))
    monkeypatch.setattr(parity, "CASES_DIR", cases)
    report = parity.run_parity()
    bad = [r for r in report.results if not r.passed]
    assert [r.case for r in bad] == ["ols_wage1_HC2"]
    assert bad[0].worst_rel_error == pytest.approx(1e-5, rel=1e-3)
    assert main(["parity"]) == 1


def test_a_result_causalspec_cannot_produce_is_reported_missing_not_skipped(tmp_path, monkeypatch, capsys):
    cases = _one_case(tmp_path)
    path = cases / "ols_wage1_HC2.json"
    case = json.loads(path.read_text())
    case["checks"].append({"path": "coef:no_such_term:estimate", "expected": 1.0})
    path.write_text(json.dumps(case))
    monkeypatch.setattr(parity, "CASES_DIR", cases)
    report = parity.run_parity()
    bad = {r.case: r for r in report.results if not r.passed}
    assert list(bad) == ["ols_wage1_HC2"] and bad["ols_wage1_HC2"].missing == ("coef:no_such_term:estimate",)
    assert ("ols_wage1_HC2", "coef:no_such_term:estimate") in report.missing
    assert main(["parity"]) == 1
    out = capsys.readouterr().out
    assert "R results not produced by causalspec" in out and "coef:no_such_term:estimate" in out
    assert "not produced by causalspec" in report.summary_line()
