"""Hostile archives and archive targets (issue #19): writing never destroys a file, verify cannot be fooled.

One tiny spec (40 rows, no sensitivity steps) keeps every archive and verify well under a second.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import stat
import sys
import zipfile
from pathlib import Path

import pytest

import causalspec as cs
from causalspec import cli
from causalspec.archive import _core, _write
from causalspec.archive._core import unpack
from causalspec.archive._read import read_archive
from causalspec.errors import ArchiveError, ArchiveExistsError, CausalSpecError

needs_posix = pytest.mark.skipif(sys.platform == "win32", reason="symlinks and FIFOs need a POSIX system")

from _tiny import SPEC  # noqa: E402  (tests/hostile is on sys.path, as pytest puts it)


def _csv(n: int, seed: int) -> str:
    import numpy as np

    rng = np.random.default_rng(seed)
    x = np.arange(n) % 2
    y = 1 + 2 * x + rng.normal(size=n)
    return "x,y\n" + "".join(f"{a},{b:.6f}\n" for a, b in zip(x, y))


def _project(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "d.csv").write_text(_csv(40, 1))
    (folder / "s.yaml").write_text(SPEC)
    return folder / "s.yaml"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """One folder archive and one zip of the tiny spec, copied by each test that alters them."""
    root = tmp_path_factory.mktemp("built")
    spec = _project(root / "proj")
    return {"spec": spec, "folder": cs.archive(spec, root / "a"), "zip": cs.archive(spec, root / "a.zip")}


@pytest.fixture
def spec(tmp_path):
    return _project(tmp_path / "proj")


@pytest.fixture
def arc(built, tmp_path):
    out = tmp_path / "arc"
    shutil.copytree(built["folder"], out)
    return out


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _rehash(folder: Path) -> None:
    """What a forger does: recompute manifest.json over whatever files are there."""
    files = {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
             for p in sorted(folder.iterdir()) if p.name != "manifest.json"}
    (folder / "manifest.json").write_text(json.dumps({"files": files}, indent=2) + "\n")


def _leftovers(parent: Path) -> list[str]:
    return [p.name for p in parent.iterdir() if p.name.startswith(".")]


# --- writing: user files are never destroyed ------------------------------------------------------------


def test_existing_folder_of_user_files_is_refused_and_left_byte_identical(spec, tmp_path):
    target = tmp_path / "mine"
    target.mkdir()
    (target / "report.html").write_text("my report")
    (target / "spec.yaml").write_text("my spec")
    before = _snapshot(target)
    with pytest.raises(ArchiveExistsError, match="not empty") as info:
        cs.archive(spec, target)
    assert info.value.problems[0].code == "archive_exists" and str(target) in str(info.value)
    with pytest.raises(ArchiveExistsError, match="even with --force"):
        cs.archive(spec, target, force=True)
    assert _snapshot(target) == before and _leftovers(tmp_path) == []


def test_spec_folder_with_include_data_is_refused_even_with_force_and_the_data_file_kept(spec):
    before = _snapshot(spec.parent)
    for force in (False, True):
        with pytest.raises(ArchiveExistsError):
            cs.archive(spec, spec.parent, include_data=True, force=force)
    assert _snapshot(spec.parent) == before


def test_an_empty_folder_is_filled_atomically(spec, tmp_path):
    (tmp_path / "empty").mkdir()
    out = cs.archive(spec, tmp_path / "empty")
    assert (out / "manifest.json").is_file() and cs.verify(out).exit_code == 0


def test_earlier_archive_is_refused_without_force_and_replaced_with_it(spec, arc):
    before = _snapshot(arc)
    with pytest.raises(ArchiveExistsError, match="already exists"):
        cs.archive(spec, arc)
    assert _snapshot(arc) == before
    (arc / "stale.txt").write_text("from an older archive")
    cs.archive(spec, arc, force=True)
    assert not (arc / "stale.txt").exists() and cs.verify(arc).exit_code == 0
    assert _leftovers(arc.parent) == []


@needs_posix
def test_force_never_writes_through_a_symlink_inside_the_old_archive(spec, arc, tmp_path):
    outside = tmp_path / "outside.html"
    outside.write_text("precious")
    (arc / "report.html").unlink()
    (arc / "report.html").symlink_to(outside)
    cs.archive(spec, arc, force=True)
    assert outside.read_text() == "precious"
    assert not (arc / "report.html").is_symlink() and (arc / "report.html").read_text().startswith("<!DOCTYPE")


@needs_posix
def test_a_symlinked_target_is_refused_and_with_force_the_link_itself_is_replaced(spec, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("keep")
    link = tmp_path / "out"
    link.symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(ArchiveExistsError, match="symbolic link"):
        cs.archive(spec, link)
    cs.archive(spec, link, force=True)
    assert not link.is_symlink() and (link / "manifest.json").is_file()
    assert _snapshot(elsewhere) == {"keep.txt": b"keep"}


def test_a_regular_file_is_never_replaced_by_an_archive_folder(spec, tmp_path):
    target = tmp_path / "notes.txt"
    target.write_text("notes")
    for force in (False, True):
        with pytest.raises(ArchiveExistsError, match="a file exists"):
            cs.archive(spec, target, force=force)
    assert target.read_text() == "notes"


def test_existing_zip_is_refused_then_replaced_atomically_with_force(spec, tmp_path):
    target = tmp_path / "user.zip"
    target.write_bytes(b"user's bytes")
    with pytest.raises(ArchiveExistsError, match="would be overwritten"):
        cs.archive(spec, target)
    assert target.read_bytes() == b"user's bytes"
    cs.archive(spec, target, force=True)
    assert zipfile.is_zipfile(target) and cs.verify(target).exit_code == 0
    assert _leftovers(tmp_path) == []


@needs_posix
def test_force_on_a_zip_symlink_replaces_the_link_not_the_file_it_points_to(spec, tmp_path):
    outside = tmp_path / "outside.bin"
    outside.write_bytes(b"precious")
    (tmp_path / "user.zip").symlink_to(outside)
    cs.archive(spec, tmp_path / "user.zip", force=True)
    assert outside.read_bytes() == b"precious" and not (tmp_path / "user.zip").is_symlink()


def test_a_folder_is_never_replaced_by_a_zip(spec, tmp_path):
    (tmp_path / "x.zip").mkdir()
    with pytest.raises(ArchiveExistsError, match="folder exists"):
        cs.archive(spec, tmp_path / "x.zip", force=True)


@pytest.mark.parametrize("name", ["a", "a.zip"])
def test_a_second_writer_that_passed_the_checks_cannot_mix_its_files_into_the_first(spec, tmp_path, monkeypatch,
                                                                                     name):
    first = cs.archive(spec, tmp_path / name)
    before = first.read_bytes() if first.is_file() else _snapshot(first)
    # The second writer checked the target while it was still free: only the final rename can stop it.
    monkeypatch.setattr(_core, "check_target", lambda d, force=False: _write.target_path(d))
    monkeypatch.setattr(_write, "check_target", lambda d, force=False: _write.target_path(d))
    (spec.parent / "d.csv").write_text(_csv(60, 2))  # a different analysis
    with pytest.raises(ArchiveExistsError, match="another process"):
        cs.archive(spec, tmp_path / name)
    assert (first.read_bytes() if first.is_file() else _snapshot(first)) == before
    assert _leftovers(tmp_path) == []


def test_a_failure_while_writing_leaves_neither_target_nor_staging_folder(spec, tmp_path, monkeypatch):
    real = _core.contents
    monkeypatch.setattr(_core, "contents", lambda *a, **k: {**real(*a, **k), "sub/escape.txt": b"x"})
    with pytest.raises(FileNotFoundError):
        cs.archive(spec, tmp_path / "a")
    assert not (tmp_path / "a").exists() and _leftovers(tmp_path) == []


# --- the data actually analysed -------------------------------------------------------------------------


@pytest.mark.parametrize("include", [False, True])
def test_run_with_data_archives_and_verifies_the_sample_that_was_analysed(spec, tmp_path, include):
    other = tmp_path / "other.csv"
    other.write_text(_csv(64, 3))
    argv = ["run", str(spec), "--data", str(other), "--archive", str(tmp_path / "a"), "--json"]
    assert cli.main(argv + (["--include-data"] if include else [])) == 0
    info = json.loads((tmp_path / "a" / "data.json").read_text())
    results = json.loads((tmp_path / "a" / "results.json").read_text())
    assert info["rows"] == 64 and results["nobs"] == 64 and info["replaces_spec_data"] is True
    assert info["sha256"] == hashlib.sha256(other.read_bytes()).hexdigest()
    if include:
        assert (tmp_path / "a" / "data.csv").read_text().count("\n") == 65
    else:
        assert info["path"] == str(other.resolve())
    report = cs.verify(tmp_path / "a")
    assert report.exit_code == 0 and not report.data_changed


def test_archiving_a_result_fitted_on_other_data_requires_that_data(spec, tmp_path):
    other = tmp_path / "other.csv"
    other.write_text(_csv(64, 3))
    result = cs.run(spec, data=other)
    with pytest.raises(CausalSpecError, match="pass the data|Pass the data"):
        cs.archive(result, tmp_path / "a")
    assert not (tmp_path / "a").exists()
    out = cs.archive(result, tmp_path / "a", data=other)
    assert json.loads((out / "results.json").read_text())["nobs"] == 64


# --- verify re-derives what the archive shows -----------------------------------------------------------


def test_forged_report_with_recomputed_manifest_is_caught(arc):
    text = (arc / "report.html").read_text()
    assert "Estimated effect of" in text
    (arc / "report.html").write_text(text.replace("Estimated effect of", "A forged claim: estimated effect of", 1))
    _rehash(arc)
    report = cs.verify(arc)
    assert report.exit_code == 4 and any(d.startswith("report.html: line") for d in report.differences)


@pytest.mark.parametrize("name", ["table.md", "table.tex", "table.html"])
def test_forged_table_with_recomputed_manifest_is_caught(arc, name):
    (arc / name).write_text((arc / name).read_text() + "forged row\n")
    _rehash(arc)
    report = cs.verify(arc)
    assert report.exit_code == 4 and any(d.startswith(name) for d in report.differences)


def test_forged_plan_and_data_record_with_recomputed_manifest_are_caught(arc):
    info = json.loads((arc / "data.json").read_text())
    info["rows"] = 4000
    (arc / "data.json").write_text(json.dumps(info))
    plan = json.loads((arc / "plan.json").read_text())
    plan["estimator"] = "forged"
    (arc / "plan.json").write_text(json.dumps(plan))
    _rehash(arc)
    report = cs.verify(arc)
    assert report.exit_code == 4
    assert any(d.startswith("data.json.rows") for d in report.differences)
    assert any(d.startswith("plan.estimator") for d in report.differences)


def test_an_unlisted_extra_file_is_tampering(arc):
    (arc / "table.md.bak").write_text("x")
    report = cs.verify(arc)
    assert report.exit_code == 5 and report.tampered == ["table.md.bak"]
    _rehash(arc)  # listing it does not help: causalspec never writes such a file
    report = cs.verify(arc)
    assert report.exit_code == 5 and "not a file causalspec writes" in report.reasons["table.md.bak"]


@pytest.mark.parametrize("name", ["report.html", "table.tex", "estimates.png", "dag.svg", "environment.json"])
def test_a_removed_file_with_its_manifest_line_is_tampering(arc, name):
    (arc / name).unlink()
    _rehash(arc)
    report = cs.verify(arc)
    assert report.exit_code == 5 and name in report.tampered


def test_a_figure_this_result_does_not_have_is_tampering(arc):
    shutil.copy(arc / "estimates.png", arc / "event_study.png")
    shutil.copy(arc / "estimates.svg", arc / "event_study.svg")
    _rehash(arc)
    report = cs.verify(arc)
    assert report.exit_code == 5 and {"event_study.png", "event_study.svg"} <= set(report.tampered)


def test_verify_output_cannot_forge_lines_from_hostile_keys(arc, capsys):
    results = json.loads((arc / "results.json").read_text())
    results["\n::error::forged"] = 1
    (arc / "results.json").write_text(json.dumps(results))
    _rehash(arc)
    assert cli.main(["verify", str(arc)]) == 4
    out = capsys.readouterr().out
    assert "forged" in out and not any(line.startswith("::") for line in out.splitlines())


# --- unsafe entries ---------------------------------------------------------------------------------------


@needs_posix
def test_results_symlinked_outside_the_archive_is_refused(arc, tmp_path, capsys):
    outside = tmp_path / "outside.json"
    shutil.copy(arc / "results.json", outside)
    (arc / "results.json").unlink()
    (arc / "results.json").symlink_to(outside)  # the manifest still matches the bytes behind the link
    with pytest.raises(ArchiveError, match="symbolic link") as info:
        cs.verify(arc)
    assert info.value.problems[0].code == "archive_not_regular"
    assert info.value.problems[0].file == os.path.join(str(arc), "results.json")
    assert cli.main(["verify", str(arc)]) == 5
    assert "archive_not_regular" in capsys.readouterr().err


@needs_posix
def test_a_fifo_or_subfolder_in_the_archive_is_refused_without_blocking(arc):
    os.mkfifo(arc / "data.csv")
    with pytest.raises(ArchiveError, match="special file"):
        cs.verify(arc)
    os.unlink(arc / "data.csv")
    (arc / "figures").mkdir()
    with pytest.raises(ArchiveError, match="a folder"):
        cs.verify(arc)


def test_limits_bound_the_number_and_size_of_files(arc):
    with pytest.raises(ArchiveError, match="max_files") as info:
        cs.verify(arc, max_files=5)
    assert info.value.problems[0].code == "archive_too_many_files"
    with pytest.raises(ArchiveError, match="max_bytes") as info:
        cs.verify(arc, max_bytes=10_000)
    assert info.value.problems[0].code == "archive_too_large"


# --- malformed archives: ArchiveError (CLI exit 5), never an internal error ----------------------------------


def _malform(arc: Path, how: str) -> None:
    if how == "manifest missing":
        (arc / "manifest.json").unlink()
    elif how == "manifest truncated":
        (arc / "manifest.json").write_bytes((arc / "manifest.json").read_bytes()[:40])
    elif how == "manifest not a mapping":
        (arc / "manifest.json").write_text("[1, 2]")
    elif how == "manifest files not hashes":
        (arc / "manifest.json").write_text(json.dumps({"files": {"results.json": 7}}))
    elif how == "manifest names a path":
        (arc / "manifest.json").write_text(json.dumps({"files": {"../results.json": "0" * 64}}))
    elif how == "results truncated":
        (arc / "results.json").write_bytes((arc / "results.json").read_bytes()[:50])
        _rehash(arc)
    elif how == "results not UTF-8":
        (arc / "results.json").write_bytes(b"\xff\xfe{}")
        _rehash(arc)
    elif how == "results not a mapping":
        (arc / "results.json").write_text('"x"')
        _rehash(arc)
    elif how == "data record wrong type":
        (arc / "data.json").write_text(json.dumps({"source": 1}))
        _rehash(arc)
    elif how == "spec invalid":
        (arc / "spec.yaml").write_text("name: [unclosed\n")
        _rehash(arc)


MALFORMED = ["manifest missing", "manifest truncated", "manifest not a mapping", "manifest files not hashes",
             "manifest names a path", "results truncated", "results not UTF-8", "results not a mapping",
             "data record wrong type", "spec invalid"]


@pytest.mark.parametrize("how", MALFORMED)
def test_a_malformed_archive_is_a_located_archive_error_and_exit_5(arc, how, capsys):
    _malform(arc, how)
    with pytest.raises(ArchiveError) as info:
        cs.verify(arc)
    problem = info.value.problems[0]
    assert problem.file and problem.file.startswith(str(arc)) and problem.fix
    assert cli.main(["verify", str(arc)]) == 5
    err = capsys.readouterr().err
    assert "error[" in err and "internal error" not in err and "Traceback" not in err


# --- zips ---------------------------------------------------------------------------------------------------


def _zip(path: Path, members: dict, *, symlink: str | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.create_system = 3
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, "/etc/passwd")
    return path


@pytest.mark.parametrize("name", ["../evil.txt", "/tmp/evil.txt", "sub/evil.txt", "..\\evil.txt", "C:evil.txt"])
def test_zip_members_outside_the_folder_or_nested_are_refused_and_nothing_written(tmp_path, name):
    bad = _zip(tmp_path / "bad.zip", {"manifest.json": "{}", name: "x"})
    with pytest.raises(ArchiveError) as info:
        unpack(bad, tmp_path / "target" / "t")
    assert info.value.problems[0].code == "archive_zip_unsafe"
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "target").exists()
    assert cli.main(["verify", str(bad)]) == 5


def test_zip_symlink_member_is_refused(tmp_path):
    bad = _zip(tmp_path / "bad.zip", {"manifest.json": "{}"}, symlink="results.json")
    with pytest.raises(ArchiveError, match="symbolic link"):
        read_archive(bad)


def test_zip_bomb_is_refused_before_it_is_expanded(tmp_path):
    bomb = _zip(tmp_path / "bomb.zip", {"data.csv": b"0" * 2_000_000})
    assert bomb.stat().st_size < 20_000
    with pytest.raises(ArchiveError, match="max_bytes") as info:
        read_archive(bomb, max_bytes=1_000_000)
    assert info.value.problems[0].code == "archive_too_large"
    many = _zip(tmp_path / "many.zip", {f"f{i}.txt": "x" for i in range(30)})
    with pytest.raises(ArchiveError, match="max_files"):
        cs.verify(many, max_files=20)


def test_zip_whose_header_understates_the_size_is_still_bounded(tmp_path):
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("data.csv", b"0" * 5000)
    data = bytearray(raw.getvalue())
    # Rewrite the declared uncompressed size (4 bytes at offset 22 of the local header, 24 of the central one).
    central = data.rfind(b"PK\x01\x02")
    for offset in (22, central + 24):
        data[offset:offset + 4] = (10).to_bytes(4, "little")
    lying = tmp_path / "lying.zip"
    lying.write_bytes(bytes(data))
    with pytest.raises(ArchiveError):  # over the budget, or refused as corrupt: never 5000 bytes read as 10
        read_archive(lying, max_bytes=100)


@pytest.mark.parametrize("content", [b"not a zip at all", b"PK\x03\x04truncated"])
def test_a_file_that_is_not_a_zip_is_a_located_archive_error(tmp_path, content):
    path = tmp_path / "a.zip"
    path.write_bytes(content)
    with pytest.raises(ArchiveError, match="not a readable zip") as info:
        cs.verify(path)
    assert info.value.problems[0].file == str(path)


def test_a_truncated_archive_zip_is_refused(built, tmp_path):
    path = tmp_path / "cut.zip"
    path.write_bytes(built["zip"].read_bytes()[:-200])
    with pytest.raises(ArchiveError):
        cs.verify(path)


def test_the_zip_written_by_archive_round_trips_and_is_deterministic(built, tmp_path):
    assert cs.verify(built["zip"]).exit_code == 0
    names = zipfile.ZipFile(built["zip"]).namelist()
    assert names == sorted(names) and all("/" not in n for n in names)
    out = unpack(built["zip"], tmp_path / "u")
    assert set(_snapshot(out)) == set(_snapshot(built["folder"])) and cs.verify(out).exit_code == 0
