import json
from pathlib import Path

import pytest

from causalspec.archive import archive, verify

SPECS = sorted((Path(__file__).resolve().parents[1] / "specs").glob("*.yaml"))


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.stem)
def test_archive_then_verify_is_identical(spec, tmp_path):
    out = archive(spec, tmp_path / "a")
    report = verify(out)
    assert report.exit_code == 0, report


def test_verify_detects_a_tampered_results_file(tmp_path):
    out = archive(SPECS[0], tmp_path / "a")
    results = json.loads((out / "results.json").read_text())
    results["nobs"] = -1
    (out / "results.json").write_text(json.dumps(results))
    report = verify(out)
    assert report.tampered == ["results.json"] and report.exit_code == 5


def test_cli_run_archive_then_verify_exits_zero(tmp_path, capsys):
    from causalspec.cli import main

    spec = [p for p in SPECS if p.stem == "feature_adoption"][0]
    assert main(["run", str(spec), "--archive", str(tmp_path / "a")]) == 0
    capsys.readouterr()
    assert main(["verify", str(tmp_path / "a")]) == 0
    assert "identical" in capsys.readouterr().out
