"""Data in every form users have (issue 18): pandas, Polars, Arrow, Parquet give the same numbers and the same sample."""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import causalspec as cs
from causalspec._data import FRAMES, as_pandas, read_data
from causalspec.errors import DataError

pl = pytest.importorskip("polars")
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

ROOT = Path(__file__).resolve().parents[1]
NUMBERS = ["estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high"]


@pytest.fixture(scope="module")
def plan():
    return cs.plan(cs.load(ROOT / "specs" / "feature_adoption.yaml"))


@pytest.fixture(scope="module")
def frame():
    return cs.datasets.feature_adoption()


class _Capsule:
    """Only the Arrow PyCapsule interface: no pandas, Polars or pyarrow type."""

    def __init__(self, table):
        self._table = table

    def __arrow_c_stream__(self, requested_schema=None):
        return self._table.__arrow_c_stream__(requested_schema)


def _same_numbers(a, b):
    ta, tb = a.tidy(), b.tidy()
    assert list(ta["term"]) == list(tb["term"])
    np.testing.assert_allclose(ta[NUMBERS].to_numpy(float), tb[NUMBERS].to_numpy(float), rtol=0, atol=1e-12)
    assert (a.nobs, a.dropped) == (b.nobs, b.dropped)


def _with_nulls(frame: pd.DataFrame) -> pl.DataFrame:
    """Nulls in the treatment (an integer), the outcome, a confounder, and a column the model does not use."""
    out = pl.from_pandas(frame).with_row_index("row")
    for col, every in (("feature_usage", 53), ("spend", 71), ("activity", 97), ("support_tickets", 7)):
        out = out.with_columns(pl.when(pl.col("row") % every == 0).then(None).otherwise(pl.col(col)).alias(col))
    return out.drop("row")


def test_pandas_polars_and_arrow_inputs_give_the_same_estimates(plan, frame):
    reference = cs.fit(plan, frame)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    inputs = {"polars": pl.from_pandas(frame), "lazy": pl.from_pandas(frame).lazy(), "arrow": table,
              "batch": pa.RecordBatch.from_pandas(frame, preserve_index=False),
              "capsule": _Capsule(table)}
    for name, data in inputs.items():
        result = cs.fit(plan, data)
        _same_numbers(reference, result)
        assert result.effect.estimate == reference.effect.estimate, name


def test_run_takes_a_polars_frame_with_the_spec_and_its_refutations_unchanged(frame):
    spec = cs.load(ROOT / "specs" / "feature_adoption.yaml")
    a = cs.run(spec, data=frame, refute=False)
    b = cs.run(spec, data=pl.from_pandas(frame), refute=False)
    _same_numbers(a, b)
    assert a.data_source == b.data_source == "DataFrame"


def test_missing_values_are_dropped_and_counted_as_in_the_csv(plan, frame, tmp_path):
    polars = _with_nulls(frame)
    path = tmp_path / "with_nulls.csv"
    path.write_text(polars.write_csv(null_value="NA"))
    from_csv, _ = read_data(str(path))
    reference = cs.fit(plan, from_csv)
    assert reference.n_dropped > 0
    assert len(from_csv) - reference.nobs == reference.n_dropped  # the unused column's nulls drop nothing
    for data in (polars, polars.lazy(), polars.to_arrow(), _Capsule(polars.to_arrow())):
        _same_numbers(reference, cs.fit(plan, data))


def _mixed() -> pl.DataFrame:
    return pl.DataFrame({
        "n": [1, 2, 3], "n_null": [1, None, 3], "x": [1.5, None, 2.0], "s": ["x", "y", None],
        "b": [True, False, True], "b_null": [True, None, False],
        "cat": pl.Series(["b", "a", None], dtype=pl.Categorical),
        "enum": pl.Series(["lo", "hi", "lo"], dtype=pl.Enum(["lo", "hi"]))})


def test_polars_dtypes_become_what_read_csv_gives_the_same_values():
    polars = _mixed()
    got = as_pandas(polars)
    csv = pd.read_csv(io.StringIO(polars.drop("cat", "enum").write_csv(null_value="NA")), na_values=["NA"])
    for col in csv.columns:  # the same dtype, the same missing cells (None or NaN: both are missing), same values
        assert got[col].dtype == csv[col].dtype, col
        assert got[col].isna().tolist() == csv[col].isna().tolist(), col
        assert got[col].dropna().tolist() == csv[col].dropna().tolist(), col
    assert got["n"].dtype == np.int64
    assert list(got["cat"].cat.categories) == ["a", "b"] and not got["cat"].cat.ordered  # sorted, as factor()
    assert got["cat"].isna().tolist() == [False, False, True]
    assert list(got["enum"].cat.categories) == ["lo", "hi"] and got["enum"].cat.ordered  # the Enum's own order


def test_polars_is_converted_without_pyarrow(monkeypatch, plan, frame):
    with pd.option_context("mode.string_storage", "python"):  # pandas as it is when pyarrow is not installed
        with_pyarrow = as_pandas(_mixed())
        for name in [m for m in sys.modules if m == "pyarrow" or m.startswith("pyarrow.")]:
            monkeypatch.setitem(sys.modules, name, None)  # import pyarrow now raises ImportError
        pd.testing.assert_frame_equal(as_pandas(_mixed()), with_pyarrow)
        assert cs.fit(plan, pl.from_pandas(frame)).effect.estimate == cs.fit(plan, frame).effect.estimate


def test_an_arrow_table_without_pyarrow_is_refused_with_the_extra_that_installs_it(monkeypatch, frame):
    capsule = _Capsule(pa.Table.from_pandas(frame))
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(DataError, match=re.escape('pip install "causalspec[parquet]"')) as info:
        as_pandas(capsule)
    assert info.value.problems[0].code == "pyarrow_unavailable"


@pytest.mark.parametrize("data", [[1, 2], {"x": [1, 2]}, np.zeros((2, 2)), 3.5], ids=lambda d: type(d).__name__)
def test_an_unsupported_type_is_refused_naming_it_and_the_accepted_ones(plan, data):
    with pytest.raises(DataError) as info:
        cs.fit(plan, data)
    problem = info.value.problems[0]
    assert problem.code == "data_type" and problem.loc == "data"
    assert f"{type(data).__module__}.{type(data).__qualname__}" in problem.message
    assert FRAMES in problem.fix and "Polars" in problem.fix and "__arrow_c_stream__" in problem.fix


def test_run_refuses_an_unsupported_type_the_same_way(frame):
    with pytest.raises(DataError, match="builtins.dict is not a table"):
        cs.run(ROOT / "specs" / "feature_adoption.yaml", data={"spend": [1.0]}, refute=False)


def test_an_arrow_stream_that_is_not_a_table_is_a_data_error():
    with pytest.raises(DataError, match="cannot read the .* as a table") as info:
        as_pandas(pa.chunked_array([[1, 2, 3]]))
    assert info.value.problems[0].code == "data_type"


def test_parquet_is_read_with_pyarrow_and_gives_the_same_numbers(frame, tmp_path):
    path = tmp_path / "feature_adoption.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)
    read, source = read_data(str(path))
    pd.testing.assert_frame_equal(read, frame)
    assert source.rows == len(frame)
    spec = cs.load(ROOT / "specs" / "feature_adoption.yaml")
    _same_numbers(cs.run(spec, data=frame, refute=False), cs.run(spec, data=str(path), refute=False))


def test_parquet_without_pyarrow_names_the_file_and_an_extra_that_exists(monkeypatch, tmp_path):
    path = tmp_path / "d.parquet"
    path.write_bytes(b"PAR1")
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(DataError, match=re.escape('pip install "causalspec[parquet]"')) as info:
        read_data(str(path))
    problem = info.value.problems[0]
    assert problem.code == "parquet_unavailable" and problem.file == str(path)
    assert str(path) in str(info.value)


def _extras() -> set[str]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    return set(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"])


def test_every_install_extra_named_in_the_package_and_docs_exists():
    extras = _extras()
    named: dict[str, set[str]] = {}
    files = [*(ROOT / "causalspec").rglob("*.py"), *(ROOT / "docs").glob("*.md"), ROOT / "README.md"]
    for path in files:
        for extra in re.findall(r"causalspec\[([\w,-]+)\]|'\.\[([\w,-]+)\]'", path.read_text()):
            for name in filter(None, ",".join(extra).split(",")):
                named.setdefault(name, set()).add(str(path.relative_to(ROOT)))
    assert "parquet" in named
    assert {n: where for n, where in named.items() if n not in extras} == {}


def test_the_documented_examples_run_and_print_what_the_page_says(tmp_path, monkeypatch, capsys):
    doc = (ROOT / "docs" / "data-and-graphs.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", doc, re.S)
    monkeypatch.chdir(tmp_path)  # the Parquet example writes a file
    namespace: dict = {}
    for i, block in enumerate(blocks):
        exec(compile(block.replace('"specs/', f'"{ROOT}/specs/'), f"docs/data-and-graphs.md block {i}", "exec"),
             namespace)
    out = capsys.readouterr().out.splitlines()
    printed = re.search(r"prints the same estimate four times:\n\n```\n(.*?)```", doc, re.S).group(1).splitlines()
    assert out[:4] == printed
    assert out[4] == printed[0].split(": ")[1].split(" ")[0]  # the Parquet run: the same estimate
    assert out[5:] == ["True", "('z',)", "https://causalspec.org/schema/spec-v1.json True False"]
