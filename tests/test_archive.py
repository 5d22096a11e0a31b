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
    assert report.tampered == ["results.json"] and report.exit_code == 2
