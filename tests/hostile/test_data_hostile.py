"""Hostile data files (issue #19): each is a located DataError, never silently shifted data, a hang or a traceback."""

from __future__ import annotations

import os
import re
import signal
import sys
from pathlib import Path

import pandas as pd
import pytest

import causalspec as cs
from causalspec import _data, cli
from causalspec._data import check_levels, read_data
from causalspec.errors import DataError

REPO = Path(__file__).resolve().parents[2]
needs_posix = pytest.mark.skipif(sys.platform == "win32", reason="FIFOs and /dev need a POSIX system")


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


def only_problem(info):
    (problem,) = info.value.problems
    return problem


# ------------------------------------------------------------------ row shapes
def test_row_with_an_extra_field_is_refused_not_shifted(tmp_path):
    # pandas alone turns the first column into the index and shifts every value one column left
    path = write(tmp_path, "d.csv", "x,y\n1,2,3\n4,5,6\n")
    with pytest.raises(DataError, match=r"3 fields but the header \(line 1\) has 2; reading it would shift") as info:
        read_data(str(path))
    problem = only_problem(info)
    assert (problem.file, problem.line, problem.code, problem.loc) == (str(path), 2, "ragged_row", "data")


def test_row_with_a_missing_field_is_refused(tmp_path):
    path = write(tmp_path, "d.csv", "x,y,z\n1,2,3\n4,5,6\n7,8\n")
    with pytest.raises(DataError, match="2 fields but the header .* has 3.*fill the missing fields") as info:
        read_data(str(path))
    assert only_problem(info).line == 4


def test_ragged_row_after_a_multiline_quoted_field_names_the_line_where_the_row_starts(tmp_path):
    path = write(tmp_path, "d.csv", 'x,note\n1,"two\nlines"\n2\n')
    with pytest.raises(DataError, match="1 field but") as info:
        read_data(str(path))
    assert only_problem(info).line == 4


def test_ragged_tsv_row_is_refused(tmp_path):
    path = write(tmp_path, "d.tsv", "x\ty\n1\t2\t3\n")
    with pytest.raises(DataError, match="tab separator"):
        read_data(str(path))


def test_quoted_separators_and_blank_lines_are_fine(tmp_path):
    path = write(tmp_path, "d.csv", 'x,note\n1,"a, b"\n\n2,"c"\n')
    frame, source = read_data(str(path))
    assert frame.to_dict("list") == {"x": [1, 2], "note": ["a, b", "c"]}
    assert source.rows == 2


# ------------------------------------------------------------------ column names
def test_duplicate_csv_column_names_are_refused_naming_both(tmp_path):
    path = write(tmp_path, "d.csv", "x,y,x\n1,2,3\n")
    with pytest.raises(DataError, match=r"columns 1 and 3 are both named 'x'.*'x\.1'") as info:
        read_data(str(path))
    problem = only_problem(info)
    assert (problem.line, problem.code) == (1, "duplicate_column")


def test_a_real_column_named_x_dot_1_is_allowed(tmp_path):
    frame, _ = read_data(str(write(tmp_path, "d.csv", "x,x.1\n1,2\n")))
    assert list(frame.columns) == ["x", "x.1"]


def test_duplicate_dataframe_columns_are_refused():
    frame = pd.DataFrame([[1, 2]], columns=["x", "x"])
    with pytest.raises(DataError, match="columns 1 and 2 are both named 'x'"):
        read_data(frame)


def test_too_many_columns_are_refused(tmp_path):
    header = ",".join(f"c{i}" for i in range(_data.MAX_DATA_COLUMNS + 1))
    with pytest.raises(DataError, match="columns; causalspec reads at most"):
        read_data(str(write(tmp_path, "wide.csv", header + "\n")))


# ------------------------------------------------------------------ bytes
def test_invalid_utf8_is_located(tmp_path):
    path = write(tmp_path, "d.csv", b"x,y\n1,2\n\xff,3\n")
    with pytest.raises(DataError, match="not UTF-8 .*0xff") as info:
        read_data(str(path))
    assert only_problem(info).line == 3


def test_invalid_utf8_far_into_the_file_is_located(tmp_path):
    body = "x,y\n" + "é,1\n" * 400_000
    path = write(tmp_path, "d.csv", body.encode() + b"\xc3\xff,2\n")
    with pytest.raises(DataError, match="not UTF-8") as info:
        read_data(str(path))
    assert only_problem(info).line == 400_002


def test_nul_byte_is_refused(tmp_path):
    with pytest.raises(DataError, match="NUL byte") as info:
        read_data(str(write(tmp_path, "d.csv", b"x,y\n1,\x002\n")))
    assert only_problem(info).line == 2


# ------------------------------------------------------------------ files that are not regular files
@needs_posix
def test_fifo_data_path_is_refused_without_blocking(tmp_path, no_hang):
    fifo = tmp_path / "d.csv"
    os.mkfifo(fifo)
    with pytest.raises(DataError, match=r"is a named pipe \(FIFO\), not a data file") as info:
        read_data(str(fifo))
    assert only_problem(info).code == "not_a_file"


@needs_posix
@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_symlink_to_a_device_is_refused(tmp_path, no_hang):
    link = tmp_path / "d.csv"
    link.symlink_to("/dev/zero")  # st_size 0 and endless: a size check on stat() alone reads forever
    with pytest.raises(DataError, match="is a device, not a data file"):
        read_data(str(link))


@needs_posix
def test_symlink_to_a_fifo_is_refused(tmp_path, no_hang):
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "d.parquet").symlink_to(tmp_path / "pipe")
    with pytest.raises(DataError, match="named pipe"):
        read_data(str(tmp_path / "d.parquet"))


def test_symlink_to_a_regular_csv_is_read(tmp_path):
    real = write(tmp_path, "real.csv", "x,y\n1,2\n")
    (tmp_path / "d.csv").symlink_to(real)
    assert read_data(str(tmp_path / "d.csv"))[0].shape == (1, 2)


def test_folder_named_like_a_csv_is_refused(tmp_path):
    (tmp_path / "d.csv").mkdir()
    with pytest.raises(DataError, match="is a folder"):
        read_data(str(tmp_path / "d.csv"))


# ------------------------------------------------------------------ size
def test_file_over_max_bytes_is_refused_with_how_to_raise_the_limit(tmp_path):
    path = write(tmp_path, "d.csv", "x,y\n" + "1,2\n" * 100)
    with pytest.raises(DataError, match=r"reads at most 100 bytes.*CAUSALSPEC_MAX_DATA_BYTES.*max_bytes") as info:
        read_data(str(path), max_bytes=100)
    assert only_problem(info).code == "data_too_large"
    assert read_data(str(path), max_bytes=1000)[0].shape == (100, 2)


def test_environment_variable_sets_the_limit(tmp_path, monkeypatch):
    path = write(tmp_path, "d.csv", "x,y\n" + "1,2\n" * 100)
    monkeypatch.setenv("CAUSALSPEC_MAX_DATA_BYTES", "50")
    with pytest.raises(DataError, match="reads at most 50 bytes"):
        read_data(str(path))
    monkeypatch.setenv("CAUSALSPEC_MAX_DATA_BYTES", "lots")
    with pytest.raises(DataError, match="CAUSALSPEC_MAX_DATA_BYTES: 'lots' is not a positive whole number"):
        read_data(str(path))


def test_default_limit_is_documented():
    assert _data.max_data_bytes() == _data.MAX_DATA_BYTES
    text = (REPO / "docs" / "security.md").read_text() if (REPO / "docs" / "security.md").exists() else ""
    if not text:
        pytest.skip("docs/security.md is not written yet")
    assert "CAUSALSPEC_MAX_DATA_BYTES" in text and f"{_data.MAX_DATA_BYTES // 2**20} MiB" in text


def test_reading_stops_after_limit_plus_one_bytes_whatever_stat_says(tmp_path, monkeypatch):
    path = write(tmp_path, "d.csv", "x\n" + "1\n" * 5000)
    reads = []
    real_read = os.read
    monkeypatch.setattr(_data.os, "read", lambda fd, n: reads.append(n) or real_read(fd, n))
    monkeypatch.setattr(_data.os, "fstat", lambda fd: os.stat_result((0o100644,) + (0,) * 9))  # claims 0 bytes
    with pytest.raises(DataError, match="larger than the limit"):
        read_data(str(path), max_bytes=100)
    assert sum(reads) <= 101


# ------------------------------------------------------------------ Parquet
def _source_install_hints() -> set[str]:
    return set(re.findall(r"causalspec's (\w+) extra", (REPO / "causalspec" / "_data.py").read_text()))


def test_every_install_hint_names_an_extra_that_exists():
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    hints = _source_install_hints()
    assert hints, "the Parquet error should name an extra"
    assert hints <= set(extras)
    assert any(dep.startswith("pyarrow") for dep in extras["parquet"])


def test_parquet_without_pyarrow_suggests_an_extra_that_exists(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow now raises ImportError
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    path = write(tmp_path, "d.parquet", b"PAR1")
    with pytest.raises(DataError, match=r"pip install pyarrow \(causalspec's parquet extra: pip install '\.\[parquet\]'") as info:
        read_data(str(path))
    assert only_problem(info).code == "parquet_unavailable"


def test_hostile_parquet_bytes_are_a_data_error(tmp_path):
    pytest.importorskip("pyarrow")
    with pytest.raises(DataError, match="cannot parse .* as Parquet"):
        read_data(str(write(tmp_path, "d.parquet", b"PAR1 not really PAR1")))


def test_parquet_expanding_past_the_limit_is_refused(tmp_path):
    pytest.importorskip("pyarrow")
    path = tmp_path / "d.parquet"
    pd.DataFrame({"x": [0] * 200_000}).to_parquet(path)  # compresses to a few kB
    assert path.stat().st_size < 100_000
    with pytest.raises(DataError, match="uncompressed"):
        read_data(str(path), max_bytes=100_000)


# ------------------------------------------------------------------ levels
def test_text_column_with_too_many_levels_is_refused_where_it_is_used():
    frame = pd.DataFrame({"user_id": [f"u{i}" for i in range(5_000)], "age": range(5_000)})
    with pytest.raises(DataError, match=r"'user_id' has 5,000 distinct values.*4,999 indicator columns") as info:
        check_levels(frame, "user_id", "adjustment[1]", limit=1_000)
    problem = only_problem(info)
    assert (problem.loc, problem.code) == ("adjustment[1]", "too_many_levels")
    assert "Recode" in problem.fix


def test_levels_within_the_limit_are_counted():
    frame = pd.DataFrame({"region": ["n", "s", None, "n"], "age": [1, 2, 3, 4], "flag": [True, False] * 2,
                          "tier": pd.Categorical(["a", "a", "a", "a"], categories=["a", "b", "c"])})
    assert check_levels(frame, "region", "covariates[0]", limit=2) == 2
    assert check_levels(frame, "age", "covariates[1]", limit=1) is None
    assert check_levels(frame, "flag", "covariates[2]", limit=1) is None
    assert check_levels(frame, "tier", "covariates[3]", limit=3) == 3  # unused categories still become columns
    with pytest.raises(DataError, match="3 distinct values"):
        check_levels(frame, "tier", "covariates[3]", limit=2)


def test_check_levels_on_a_missing_column_is_located():
    with pytest.raises(DataError, match="'nope' is not in the data") as info:
        check_levels(pd.DataFrame({"a": [1]}), "nope", "adjustment[0]", limit=10)
    assert only_problem(info).loc == "adjustment[0]"


# ------------------------------------------------------------------ through the API and the CLI
SPEC = """\
name: demo
data: data.csv
dag:
  edges: ["w -> x", "x -> y", "w -> y"]
treatment: x
outcome: y
"""


def test_ragged_data_through_check_names_the_data_file_and_line(tmp_path):
    (tmp_path / "spec.yaml").write_text(SPEC)
    write(tmp_path, "data.csv", "w,x,y\n1,0,2\n2,1,3,9\n")
    with pytest.raises(DataError) as info:
        cs.check(tmp_path / "spec.yaml")
    problem = only_problem(info)
    assert problem.file == str(tmp_path / "data.csv") and problem.line == 3


def test_cli_prints_data_errors_without_traceback_and_exits_1(tmp_path, capsys):
    (tmp_path / "spec.yaml").write_text(SPEC)
    write(tmp_path, "data.csv", "w,x,x\n1,0,2\n")
    code = cli.main(["validate", str(tmp_path / "spec.yaml")])
    out = capsys.readouterr()
    assert code == 1
    assert "Traceback" not in out.out + out.err
    assert "error[duplicate_column]" in out.out and "data.csv:1" in out.out
