"""`causalspec validate` on deliberately broken specs: one located, actionable message each, exit 1."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from causalspec.cli import main

BROKEN = Path(__file__).parent / "specs" / "broken"
EXPECTED = yaml.safe_load((BROKEN / "expected.yaml").read_text())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_broken_spec_gives_located_actionable_message(name, capsys, monkeypatch):
    monkeypatch.chdir(BROKEN)
    want = EXPECTED[name]
    code = main(["validate", name])
    out = capsys.readouterr()
    assert code == 1
    assert "Traceback" not in out.out + out.err
    lines = [line.strip() for line in out.out.splitlines() if line.strip().startswith("error[")]
    assert len(lines) == 1, out.out
    line = lines[0]
    where = f"error[{want['code']}]: {name}" + (f":{want['line']}" if want["line"] else "")
    assert line.startswith(where) and line[len(where)] in " :", line
    assert re.search(want["match"], line), line


def test_broken_specs_give_distinct_messages(capsys, monkeypatch):
    monkeypatch.chdir(BROKEN)
    code = main(["validate", *sorted(EXPECTED)])
    out = capsys.readouterr().out
    messages = [re.sub(r"^error\[\w+\]: \S+ ", "", line.strip()) for line in out.splitlines()
                if line.strip().startswith("error[")]
    assert code == 1
    assert len(messages) == len(EXPECTED) == len(set(messages))
    assert out.rstrip().endswith(f"0 valid, {len(EXPECTED)} invalid")


def test_hostile_yaml_tag_is_never_executed(tmp_path, monkeypatch):
    marker = tmp_path / "pwned"
    spec = tmp_path / "evil.yaml"
    spec.write_text(f'name: !!python/object/apply:os.system ["touch {marker}"]\ntreatment: x\noutcome: y\n')
    assert main(["validate", str(spec)]) == 1
    assert not marker.exists()


def test_validate_github_format_annotates_the_line(capsys, monkeypatch):
    monkeypatch.chdir(BROKEN)
    assert main(["validate", "--format", "github", "09_mediator_adjusted.yaml"]) == 1
    out = capsys.readouterr().out.strip()
    assert out.startswith("::error file=09_mediator_adjusted.yaml,line=12,title=causalspec mediator_adjusted::")


def test_validate_json_format_lists_every_problem(capsys, monkeypatch):
    import json

    monkeypatch.chdir(BROKEN)
    assert main(["validate", "--format", "json", "01_unknown_treatment.yaml", "04_duplicate_edge.yaml"]) == 1
    records = json.loads(capsys.readouterr().out)
    assert [r["valid"] for r in records] == [False, False]
    assert records[0]["problems"][0]["loc"] == "treatment"
    assert records[1]["problems"][0]["line"] == 8


def test_cli_error_has_no_traceback_in_a_subprocess():
    proc = subprocess.run([sys.executable, "-m", "causalspec.cli", "run", str(BROKEN / "09_mediator_adjusted.yaml")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "error[mediator_adjusted]" in proc.stderr


def test_valid_specs_validate_cleanly(capsys):
    root = Path(__file__).resolve().parents[1] / "specs"
    specs = sorted(str(p) for p in root.glob("*.yaml"))
    assert len(specs) >= 2
    assert main(["validate", *specs]) == 0
    assert "invalid" not in capsys.readouterr().out.replace("0 invalid", "")
