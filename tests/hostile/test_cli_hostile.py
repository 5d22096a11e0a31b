"""The CLI under hostile conditions (issue #19): exit codes survive a closed stdout, wrong kinds of paths are
located errors (never exit 3), and untrusted names cannot forge GitHub workflow commands or PR-comment lines."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import causalspec as cs
from causalspec import cli

needs_posix = pytest.mark.skipif(sys.platform == "win32", reason="needs POSIX pipes and file names")

from _tiny import SPEC  # noqa: E402  (tests/hostile is on sys.path, as pytest puts it)
INVALID = 'name: demo\ntreatment: x\noutcome: zz\ndag:\n  edges: ["x -> y"]\n'


@pytest.fixture(scope="module")
def archived(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    (root / "d.csv").write_text("x,y\n" + "".join(f"{i % 2},{1 + 2 * (i % 2) + (i % 7) / 7:.4f}\n"
                                                  for i in range(40)))
    (root / "s.yaml").write_text(SPEC)
    out = cs.archive(root / "s.yaml", root / "a")
    tampered = root / "tampered"
    cs.archive(root / "s.yaml", tampered)
    results = json.loads((tampered / "results.json").read_text())
    results["nobs"] = 1
    (tampered / "results.json").write_text(json.dumps(results))
    return {"root": root, "spec": root / "s.yaml", "archive": out, "tampered": tampered}


def _run_with_closed_stdout(argv: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """Run the CLI with stdout a pipe whose reader is already gone: every write fails with EPIPE."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run([sys.executable, "-m", "causalspec.cli", *argv], stdout=write_end,
                              stderr=subprocess.PIPE, cwd=cwd, check=False)
    finally:
        os.close(write_end)


# --- exit codes do not depend on stdout ------------------------------------------------------------------


@needs_posix
@pytest.mark.parametrize("which, code", [("tampered", 5), ("archive", 0)])
def test_verify_keeps_its_exit_code_when_stdout_is_closed(archived, which, code):
    proc = _run_with_closed_stdout(["verify", str(archived[which])], archived["root"])
    assert proc.returncode == code, proc.stderr.decode()
    assert b"Traceback" not in proc.stderr and b"BrokenPipe" not in proc.stderr


@needs_posix
def test_validate_of_an_invalid_spec_still_fails_when_stdout_is_closed(tmp_path):
    (tmp_path / "bad.yaml").write_text(INVALID)
    proc = _run_with_closed_stdout(["validate", "--no-data", "bad.yaml"], tmp_path)
    assert proc.returncode == 1 and b"Traceback" not in proc.stderr


class _GonePipe:
    """A stdout whose reader has gone: every write and flush raises BrokenPipeError."""

    def write(self, text):
        raise BrokenPipeError(32, "Broken pipe")

    def flush(self):
        raise BrokenPipeError(32, "Broken pipe")

    def isatty(self):
        return False


def test_broken_pipe_in_process_returns_the_real_status_not_zero(archived, tmp_path, monkeypatch):
    (tmp_path / "bad.yaml").write_text(INVALID)
    monkeypatch.setattr(sys, "stdout", _GonePipe())
    assert cli.main(["verify", str(archived["tampered"])]) == 5
    assert cli.main(["validate", "--no-data", str(tmp_path / "bad.yaml")]) == 1
    assert cli.main(["verify", str(archived["archive"])]) == 0


# --- wrong kinds of paths: located errors, never exit 3 ---------------------------------------------------


def _cases(root: Path, archive: Path) -> dict[str, tuple[list[str], int, str]]:
    (root / "plain").mkdir(exist_ok=True)
    (root / "plain" / "notes.txt").write_text("notes")
    (root / "file.txt").write_text("not an archive")
    (root / "file.zip").write_text("not a zip")
    missing = str(root / "missing")
    return {
        "verify missing path": (["verify", missing], 1, "archive_not_found"),
        "verify folder not an archive": (["verify", str(root / "plain")], 5, "manifest.json"),
        "verify file not a zip": (["verify", str(root / "file.txt")], 5, "archive_not_zip"),
        "verify .zip not a zip": (["verify", str(root / "file.zip")], 5, "archive_not_zip"),
        "diff missing path": (["diff", missing, str(archive)], 1, "missing"),
        "diff folder not an archive": (["diff", str(archive), str(root / "plain")], 1, "manifest.json"),
        "diff file not a spec": (["diff", str(root / "file.txt"), str(archive)], 1, "file.txt"),
        "diff .zip not a zip": (["diff", str(root / "file.zip"), str(archive)], 1, "archive_not_zip"),
        "run archive onto a file": (["run", "s.yaml", "--archive", str(root / "file.txt")], 1, "archive_exists"),
        "run archive onto a file, force": (["run", "s.yaml", "--archive", str(root / "file.txt"), "--force"], 1,
                                           "archive_exists"),
        "run archive into a folder": (["run", "s.yaml", "--archive", str(root / "plain")], 1, "archive_exists"),
    }


CASES = ["verify missing path", "verify folder not an archive", "verify file not a zip", "verify .zip not a zip",
         "diff missing path", "diff folder not an archive", "diff file not a spec", "diff .zip not a zip",
         "run archive onto a file", "run archive onto a file, force", "run archive into a folder"]


@pytest.mark.parametrize("case", CASES)
def test_wrong_kind_of_path_is_a_located_error_not_an_internal_one(archived, case, capsys, monkeypatch):
    monkeypatch.chdir(archived["root"])
    argv, code, needle = _cases(archived["root"], archived["archive"])[case]
    before = {p: p.read_bytes() for p in archived["root"].rglob("*.txt")}
    assert cli.main(argv) == code
    captured = capsys.readouterr()
    assert "internal error" not in captured.err and needle in captured.err
    assert re.search(r"^error\[\w+\]: ", captured.err, re.M)
    assert {p: p.read_bytes() for p in archived["root"].rglob("*.txt")} == before  # nothing overwritten


def test_run_refuses_an_existing_target_before_running_the_analysis(archived, capsys, monkeypatch):
    monkeypatch.chdir(archived["root"])
    assert cli.main(["run", "s.yaml", "--archive", str(archived["archive"])]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and "--force" in captured.err


# --- GitHub annotations cannot be forged -------------------------------------------------------------------

_ANNOTATION = re.compile(r"^::error file=(?P<file>[^,:]*)(?:,line=\d+)?,title=(?P<title>[^,:]*)::(?P<msg>.*)$")


def _unescape(text: str) -> str:
    return (text.replace("%0D", "\r").replace("%0A", "\n").replace("%3A", ":").replace("%2C", ",")
            .replace("%25", "%"))


@needs_posix
def test_github_annotations_escape_hostile_file_names_and_keys(tmp_path, capsys):
    name = "a::b,c%d\r\n::warning file=x::e,line=1.yaml"
    path = tmp_path / name
    path.write_text('name: demo\ntreatment: x\noutcome: y\ndag:\n  edges: ["x -> y"]\n'
                    '"k::e,y%25\\r\\n::error file=forged::forged": 1\n')
    assert cli.main(["validate", "--no-data", "--format", "github", str(path)]) == 1
    out = capsys.readouterr().out
    assert cli.main(["validate", "--no-data", "--format", "json", str(path)]) == 1
    problems = json.loads(capsys.readouterr().out)[0]["problems"]
    assert "\r" not in out
    lines = out.splitlines()
    assert len(lines) == len(problems) >= 1, out  # one annotation per problem: no line was injected
    for line in lines:
        match = _ANNOTATION.match(line)
        assert match, line
        assert _unescape(match["file"]) == str(path)
        assert _unescape(match["title"]).startswith("causalspec ")
        assert "%0A" in match["msg"] and "%2525" in match["msg"]  # the key's LF and '%' arrive escaped


def test_text_output_escapes_control_characters_in_keys(tmp_path, capsys):
    path = tmp_path / "s.yaml"
    path.write_text('name: demo\ntreatment: x\noutcome: y\ndag:\n  edges: ["x -> y"]\n'
                    '"k\\n::error::forged\\u001b[2J": 1\n')
    assert cli.main(["validate", "--no-data", str(path)]) == 1
    out = capsys.readouterr().out
    assert "forged" in out and "\x1b" not in out
    assert not any(line.startswith("::") for line in out.splitlines())


# --- diff output is safe to post as a pull-request comment ---------------------------------------------------


def test_diff_markdown_cannot_gain_lines_or_break_out_of_code_spans(tmp_path, capsys):
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    base = 'version: 1\nname: demo\ndata: d.csv\ntreatment: x\noutcome: y\ndag:\n  edges: ["x -> y"]\n'
    a.write_text(base + 'description: "plain"\n')
    b.write_text(base + 'description: "x` ![img](http://evil/) `\\n::error::forged\\n@someone"\n')
    assert cli.main(["diff", str(a), str(b)]) == 0
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if "description" in line)
    assert "``" in line and "\\n::error::forged" in line
    assert not any(line.startswith(("::", "@")) for line in out.splitlines())
