"""Hostile spec files (issue #19): every one is a located SpecFileError, never a traceback or a hang."""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

import pytest

import causalspec as cs
from causalspec import cli
from causalspec.errors import CausalSpecError, SpecFileError
from causalspec.spec import _load

GOOD_YAML = """\
name: demo
dag:
  edges: ["w -> x", "x -> y", "w -> y"]
treatment: x
outcome: y
"""

needs_posix = pytest.mark.skipif(sys.platform == "win32", reason="FIFOs and /dev need a POSIX system")


# ------------------------------------------------------------------ duplicate keys
def test_duplicate_yaml_key_is_refused_at_the_second_line():
    text = GOOD_YAML + "treatment: w\n"
    with pytest.raises(SpecFileError, match=r"'treatment' is given twice .*first at line 4.* Remove one") as info:
        cs.loads(text, "yaml", source="specs/a.yaml")
    (problem,) = info.value.problems
    assert (problem.file, problem.line) == ("specs/a.yaml", 6)


def test_duplicate_yaml_key_in_a_nested_mapping_is_refused():
    text = GOOD_YAML + "design:\n  type: observational\n  type: experiment\n"
    with pytest.raises(SpecFileError, match="'type' is given twice") as info:
        cs.loads(text, "yaml", source="a.yaml")
    assert info.value.problems[0].line == 8


def test_duplicate_yaml_key_in_a_flow_mapping_is_refused():
    with pytest.raises(SpecFileError, match="'a' is given twice"):
        cs.loads("name: {a: 1, a: 2}\n", "yaml")


def test_yaml_merge_key_is_refused():
    # `<<` would let a hidden mapping supply fields a reviewer does not see as keys
    with pytest.raises(SpecFileError, match=r"merge keys \(<<\)") as info:
        cs.loads(GOOD_YAML + "<<: {treatment: w}\n", "yaml", source="a.yaml")
    assert info.value.problems[0].line == 6


def test_duplicate_json_key_is_refused_at_the_second_line():
    text = ('{"name": "demo", "dag": {"edges": ["w -> x", "x -> y", "w -> y"]},\n'
            ' "treatment": "x",\n "outcome": "y",\n "treatment": "w"}\n')
    with pytest.raises(SpecFileError, match=r"'treatment' is given twice .*first at line 2") as info:
        cs.loads(text, "json", source="a.json")
    assert info.value.problems[0].line == 4


def test_duplicate_json_key_spelt_with_an_escape_is_refused():
    text = '{"treatment": "x",\n "tre\\u0061tment": "w"}'
    with pytest.raises(SpecFileError, match="'treatment' is given twice") as info:
        cs.loads(text, "json")
    assert info.value.problems[0].line == 2


def test_same_key_in_different_json_objects_is_allowed():
    spec = cs.loads(json.dumps({"name": "demo", "treatment": "x", "outcome": "y",
                                "dag": {"edges": ["w -> x", "x -> y", "w -> y"]},
                                "design": {"type": "observational"}}), "json")
    assert spec.treatment == "x"


@pytest.mark.parametrize("text, line", [
    ('name = "demo"\ntreatment = "x"\ntreatment = "w"\n', 3),
    ('name = "demo"\ntreatment = "x"\ntreatment = "w"', 3),  # at the end of the document
    ('name = "demo"\n[dag]\nedges = []\n[dag]\nlatent = []\n', 4),
])
def test_duplicate_toml_key_is_refused_with_its_line(text, line):
    with pytest.raises(SpecFileError, match="defined twice.*Remove one") as info:
        cs.loads(text, "toml", source="a.toml")
    assert info.value.problems[0].line == line


# ------------------------------------------------------------------ YAML features
def test_alias_bomb_is_refused_before_expansion():
    lol = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for k in range(1, 12):
        prev, cur = chr(ord("a") + k - 1), chr(ord("a") + k)
        lol.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    with pytest.raises(SpecFileError, match=r"aliases \(\*name\) are not allowed") as info:
        cs.loads("\n".join(lol) + "\n", "yaml", source="bomb.yaml")
    assert info.value.problems[0].line == 2


def test_object_constructing_tag_is_refused_with_its_line():
    text = GOOD_YAML + 'description: !!python/object/apply:os.system ["echo pwned"]\n'
    with pytest.raises(SpecFileError, match="tag .*python/object/apply:os.system.* not allowed") as info:
        cs.loads(text, "yaml", source="a.yaml")
    assert info.value.problems[0].line == 6


@pytest.mark.parametrize("fmt, text", [
    ("yaml", "name: " + "[" * 50_000 + "]" * 50_000),
    ("yaml", "name: " + "{a: " * 5_000 + "}" * 5_000),
    ("yaml", "name:\n" + "".join("  " * i + "a:\n" for i in range(1, 400))),
    ("json", '{"name": ' + "[" * 200_000 + "]" * 200_000 + "}"),
    ("json", '{"a": ' * 50_000 + "1" + "}" * 50_000),
    ("toml", "name = " + "[" * 50_000 + "]" * 50_000),
    ("toml", "name = " + "{a = " * 5_000 + "1" + "}" * 5_000),
])
def test_deep_nesting_is_a_located_error_not_recursion(fmt, text):
    with pytest.raises(SpecFileError, match=f"nested more than {_load.MAX_SPEC_DEPTH} levels") as info:
        cs.loads(text, fmt, source=f"deep.{fmt}")
    assert info.value.problems[0].line is not None


def test_brackets_inside_toml_strings_do_not_count_as_nesting():
    text = 'name = "demo"\ntreatment = "x"\noutcome = "y"\ndescription = """' + "[" * 500 + '"""\n' \
           "[dag]\nedges = ['w -> x', \"x -> y\", 'w -> y'] # [[[[[[\n"
    assert cs.loads(text, "toml").treatment == "x"


def test_a_number_too_long_to_convert_is_a_spec_file_error():
    with pytest.raises(SpecFileError, match="more than 4,300 digits"):
        cs.loads("name: " + "9" * 10_000 + "\n", "yaml")


# ------------------------------------------------------------------ bytes
@pytest.mark.parametrize("text", [GOOD_YAML.encode() + b"description: a\x00b\n", GOOD_YAML + "description: a\x00b\n"])
def test_nul_byte_is_a_located_error(text):
    with pytest.raises(SpecFileError, match="NUL") as info:
        cs.loads(text, "yaml", source="a.yaml")
    assert info.value.problems[0].line == 6


def test_invalid_utf8_is_a_located_error():
    with pytest.raises(SpecFileError, match=r"not UTF-8 .*0xff.* Save the spec as UTF-8") as info:
        cs.loads(GOOD_YAML.encode() + b"description: caf\xff\n", "yaml", source="a.yaml")
    assert info.value.problems[0].line == 6


# ------------------------------------------------------------------ files that are not regular files
@needs_posix
def test_fifo_spec_is_refused_without_blocking(tmp_path, no_hang):
    fifo = tmp_path / "spec.yaml"
    os.mkfifo(fifo)
    with pytest.raises(SpecFileError, match=r"named pipe \(FIFO\), not a spec file") as info:
        cs.load(fifo)
    assert info.value.problems[0].file == str(fifo)


@needs_posix
def test_symlink_to_a_fifo_is_refused_without_blocking(tmp_path, no_hang):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    link = tmp_path / "spec.yaml"
    link.symlink_to(fifo)
    with pytest.raises(SpecFileError, match="named pipe"):
        cs.load(link)


@needs_posix
@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_symlink_to_a_device_is_refused(tmp_path, no_hang):
    # /dev/zero has st_size 0, so a size check on stat() alone would read it forever
    link = tmp_path / "spec.yaml"
    link.symlink_to("/dev/zero")
    with pytest.raises(SpecFileError, match="this is a device, not a spec file"):
        cs.load(link)


def test_folder_named_like_a_spec_is_refused(tmp_path):
    (tmp_path / "spec.yaml").mkdir()
    with pytest.raises(SpecFileError, match="folder"):
        cs.load(tmp_path / "spec.yaml")


def test_file_over_the_size_limit_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(_load, "MAX_SPEC_BYTES", 100)
    big = tmp_path / "big.yaml"
    big.write_text(GOOD_YAML + "description: " + "x" * 200 + "\n")
    with pytest.raises(SpecFileError, match="a spec is at most 100"):
        cs.load(big)


def test_reading_stops_after_limit_plus_one_bytes(tmp_path, monkeypatch):
    monkeypatch.setattr(_load, "MAX_SPEC_BYTES", 100)
    big = tmp_path / "big.yaml"
    big.write_text("x" * 5000)
    reads = []
    real_read = os.read
    monkeypatch.setattr(_load.os, "read", lambda fd, n: reads.append(n) or real_read(fd, n))
    monkeypatch.setattr(_load.os, "fstat", lambda fd: os.stat_result((0o100644,) + (0,) * 9))  # a lying size
    with pytest.raises(SpecFileError, match="more than 100 bytes"):
        cs.load(big)
    assert sum(reads) <= 101


def test_missing_spec_file_is_located(tmp_path):
    with pytest.raises(SpecFileError, match="no such file") as info:
        cs.load(tmp_path / "nope.yaml")
    assert info.value.problems[0].file.endswith("nope.yaml")


# ------------------------------------------------------------------ dump
def _spec():
    return cs.loads(GOOD_YAML, "yaml")


def test_dump_refuses_to_overwrite_a_different_file(tmp_path):
    other = tmp_path / "other.yaml"
    other.write_text("keep me\n")
    with pytest.raises(SpecFileError, match="exists and is not the file this spec was loaded from.*overwrite=True"):
        cs.dump(_spec(), other)
    assert other.read_text() == "keep me\n"


def test_dump_overwrites_a_different_file_when_asked(tmp_path):
    other = tmp_path / "other.yaml"
    other.write_text("old\n")
    os.chmod(other, 0o640)
    cs.dump(_spec(), other, overwrite=True)
    assert cs.load(other) == _spec()
    assert (other.stat().st_mode & 0o777) == 0o640  # the file keeps its permissions


def test_dump_may_replace_the_spec_own_source(tmp_path):
    path = tmp_path / "demo.yaml"
    path.write_text(GOOD_YAML)
    spec = cs.load(path)
    cs.dump(spec, path)
    assert cs.load(path) == spec


def test_dump_leaves_a_users_tmp_file_alone_and_no_temporary_behind(tmp_path):
    user_tmp = tmp_path / "demo.yaml.tmp"
    user_tmp.write_text("my description\n")
    cs.dump(_spec(), tmp_path / "demo.yaml")
    assert user_tmp.read_text() == "my description\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.yaml", "demo.yaml.tmp"]


@needs_posix
def test_dump_never_writes_into_a_fifo(tmp_path, no_hang):
    fifo = tmp_path / "demo.yaml"
    os.mkfifo(fifo)
    with pytest.raises(SpecFileError, match="named pipe"):
        cs.dump(_spec(), fifo, overwrite=True)


def test_dump_through_a_symlink_replaces_its_target(tmp_path):
    real = tmp_path / "real.yaml"
    real.write_text(GOOD_YAML)
    link = tmp_path / "link.yaml"
    link.symlink_to(real)
    spec = cs.load(link)
    cs.dump(spec, link)
    assert link.is_symlink() and cs.load(real) == spec


# ------------------------------------------------------------------ the CLI
@pytest.mark.parametrize("name, content", [
    ("dup.yaml", GOOD_YAML + "treatment: w\n"),
    ("deep.json", '{"name": ' + "[" * 100_000 + "]" * 100_000 + "}"),
    ("bad.yaml", b"name: \xff\xfe\n"),
])
def test_cli_prints_hostile_spec_errors_without_traceback_and_exits_1(tmp_path, capsys, name, content):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    code = cli.main(["validate", "--no-data", str(path)])
    out = capsys.readouterr()
    assert code == 1
    assert "Traceback" not in out.out + out.err
    assert f"{path}:" in out.out and "spec_unreadable" in out.out


def test_every_hostile_spec_error_is_a_causalspec_error():
    for fmt, text in [("yaml", "a: [" * 2000), ("json", "[" * 2000), ("toml", "a = [" * 2000)]:
        with pytest.raises(CausalSpecError):
            cs.loads(text, fmt)
