"""The spec's ``data:`` opened in an engine, sandboxed, and its fingerprint computed by the engine.

A spec file is untrusted text.  Its data are opened on a DuckDB connection that can read only what the spec
names: the files of ``path`` are resolved in Python (a glob is expanded relative to the spec file), listed in
DuckDB's ``allowed_paths``, and then ``enable_external_access`` is turned off and the configuration locked, so
a query can read no other file or URL, cannot ATTACH, COPY, INSTALL or LOAD, and cannot change a setting back.
A database file is opened read-only.  A query must parse (DuckDB's own parser) as exactly one SELECT; it is
parsed when the spec is planned (:func:`check_query`) and runs only here, at fit time.

The fingerprint (:func:`fingerprint`) is an aggregate the engine computes in one pass: the row count, the
column types and an order-free hash of every row (the sum and the XOR of the engine's 64-bit row hash), so an
archive of a 1e8-row Parquet data set is verified without reading it into Python.
"""

from __future__ import annotations

import glob as _glob
import hashlib
import os
from pathlib import Path

from causalspec import datasets
from causalspec._data import DataSource, max_data_bytes
from causalspec.engines import duckdb as _duck
from causalspec.engines import spark as _spark
from causalspec.engines._sql import Source
from causalspec.errors import DataError, Problem, UnsupportedError
from causalspec.spec import DataSpec

__all__ = ["open_source", "check_query", "fingerprint", "data_bytes", "resolve_files", "is_glob", "to_frame",
           "choose_engine", "budget"]

_SUFFIXES = (".parquet", ".pq", ".csv")


def is_glob(text: str) -> bool:
    return any(ch in text for ch in "*?[")


def _where(data) -> str:
    return "data.path" if isinstance(data, DataSpec) else "data"


def resolve_files(data, base_dir: "Path | None") -> list[str]:
    """The files ``data`` names (a glob expanded, sorted), absolute; a located error when there are none."""
    text = data.path if isinstance(data, DataSpec) else str(data)
    path = Path(text).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = Path(base_dir) / path
    pattern = str(path)
    files = sorted(_glob.glob(pattern)) if is_glob(pattern) else ([pattern] if path.exists() else [])
    files = [os.path.abspath(f) for f in files if os.path.isfile(f)]
    if not files:
        raise DataError(Problem(_where(data), f"no file matches {text!r}.",
                                fix="Check the path or glob; a relative path is read from the spec file's folder "
                                    "(tools/make_scale_data.py makes the scale example's data).",
                                code="engine_no_files"))
    database = isinstance(data, DataSpec) and data.is_database
    if not database and not all(f.lower().endswith(_SUFFIXES) for f in files):
        bad = next(f for f in files if not f.lower().endswith(_SUFFIXES))
        raise DataError(Problem(_where(data), f"{bad!r} is not a Parquet or CSV file.",
                                fix="Give Parquet files (or CSV), or a DuckDB database with table or query.",
                                code="engine_bad_source"))
    return files


def data_bytes(data, base_dir: "Path | None") -> int | None:
    """The size on disk of the files ``data`` names (None for a bundled data set), for ``engine: auto``."""
    if isinstance(data, str) and data in datasets.names():
        return None
    return sum(os.path.getsize(f) for f in resolve_files(data, base_dir))


def check_query(data: DataSpec) -> None:
    """Parse (never run) the spec's query: exactly one SELECT, or a located ``engine_bad_query``."""
    if data.query is not None:
        _duck.validate_select(data.query, where="data.query")


def _sandboxed(database: str | None, files: list[str]):
    duckdb = _duck._require()
    config = {"autoload_known_extensions": False, "autoinstall_known_extensions": False}
    try:
        con = (duckdb.connect(database, read_only=True, config=config) if database
               else duckdb.connect(config=config))
    except duckdb.Error as exc:
        raise DataError(Problem("data.path", f"DuckDB cannot open {database!r}: {_duck._first_line(exc)}",
                                fix="Give a DuckDB database file.", code="engine_bad_source")) from None
    if files:
        con.execute("SET allowed_paths = ?", [files])  # a parameter: the paths are never SQL text
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return con


def _duckdb_source(data, base_dir: "Path | None") -> Source:
    duckdb = _duck._require()
    if isinstance(data, str) and data in datasets.names():  # a bundled data set: already in memory
        return _duck.source(datasets.load(data))
    files = resolve_files(data, base_dir)
    database = files[0] if isinstance(data, DataSpec) and data.is_database else None
    con = _sandboxed(database, [] if database else files)
    backend = _duck.DuckDBBackend(con)
    label = data.path if isinstance(data, DataSpec) else str(data)
    if database is None:
        try:
            reader = con.read_csv if all(f.lower().endswith(".csv") for f in files) else con.read_parquet
            reader(files).create_view("data")  # the relation API: the paths never become SQL text
        except duckdb.Error as exc:
            raise DataError(Problem(_where(data), f"DuckDB cannot read {label!r}: {_duck._first_line(exc)}",
                                    fix="Give Parquet files (or CSV) with the same columns.",
                                    code="engine_bad_source")) from None
    view = backend.fresh("source")
    if isinstance(data, DataSpec) and data.query is not None:
        query, where = _duck.validate_select(data.query, where="data.query"), "data.query"
        label = f"the query on {label}"
    elif isinstance(data, DataSpec) and data.table is not None:
        query, where = "SELECT * FROM " + ".".join(backend.quote(p) for p in data.table.split(".")), "data.table"
        label = f"table {data.table} of {label}"
    else:
        query, where = "SELECT * FROM data", "data"
    try:
        backend.view(view, query)
    except duckdb.Error as exc:
        raise DataError(Problem(where, f"DuckDB refused the data source: {_duck._first_line(exc)}",
                                fix="Read only the files or database the spec names (the query runs without "
                                    "access to any other file), with one SELECT.", code="engine_bad_query")) from None
    return Source(backend, view, label)


def open_source(data, base_dir: "Path | None", engine: str, *, spark=None) -> Source:
    """The spec's data (or a Python object standing for it) as a :class:`Source` in ``engine``."""
    if isinstance(data, Source):
        return data
    if data is None:
        raise DataError(Problem("data", "the spec names no data.", fix="Add data: <path> to the spec, or pass "
                                "data= to causalspec.run."))
    if engine == "spark":
        if not isinstance(data, (str, DataSpec, os.PathLike)):
            return _spark.source(data, spark=spark)
        if isinstance(data, DataSpec) and (data.table or data.query):
            raise UnsupportedError(Problem("data", "the spark engine reads Parquet paths; a table or a query is "
                                           "for the duckdb engine.", fix="Run the query in Spark and pass the "
                                           "DataFrame: causalspec.run(spec, data=spark.sql(...)); or engine: duckdb.",
                                           code="engine_bad_source"))
        session = spark if spark is not None else _spark.local_session()
        if isinstance(data, str) and data in datasets.names():  # a bundled data set: sent from memory
            return _spark.source(datasets.load(data), spark=session)
        files = resolve_files(data, base_dir)
        return _spark.source(files if len(files) > 1 else files[0], spark=session)
    if not isinstance(data, (str, DataSpec, os.PathLike)):
        return _duck.source(data)
    return _duckdb_source(str(data) if isinstance(data, os.PathLike) else data, base_dir)


def fingerprint(source: Source) -> DataSource:
    """Rows, column types and an order-free hash of every row, computed by the engine in one pass."""
    b = source.backend
    cols = ", ".join(b.quote(c) for c in source.columns)
    if b.name == "spark":
        h = f"xxhash64({cols})"
        row = b.one(f"SELECT COUNT(*), SUM(CAST({h} AS DECIMAL(38, 0))), bit_xor({h}) FROM {source.view}")
    else:
        h = f"hash({cols})"
        row = b.one(f"SELECT COUNT(*), SUM(CAST({h} AS HUGEINT)), bit_xor({h}) FROM {source.view}")
    types = ";".join(f"{c}:{source.type_of(c)}" for c in source.columns)
    text = f"{b.name}|{int(row[0])}|{int(row[1] or 0)}|{int(row[2] or 0)}|{types}"
    return DataSource(source.label, hashlib.sha256(text.encode()).hexdigest(), int(row[0]), source.columns)


def budget() -> int:
    """The memory budget of ``engine: auto`` (bytes on disk): ``CAUSALSPEC_MAX_DATA_BYTES``, the in-memory
    reader's own limit (default 512 MB)."""
    return max_data_bytes()


def to_frame(source: Source):
    """A DuckDB source's rows as a pandas DataFrame (``engine: memory`` on a table or a query), within the
    in-memory reader's limit (8 bytes a cell, as for Parquet)."""
    b = source.backend
    n = int(b.one(f"SELECT COUNT(*) FROM {source.view}")[0])
    need, limit = 8 * n * max(len(source.columns), 1), budget()
    if need > limit:
        raise DataError(Problem("engine", f"{source.label} has {n:,} rows x {len(source.columns)} columns (at least "
                                f"{need:,} bytes in memory); the in-memory path reads at most {limit:,}.",
                                fix="Set engine: duckdb (or auto), or raise CAUSALSPEC_MAX_DATA_BYTES.",
                                code="data_too_large"))
    return b.con.sql(f"SELECT * FROM {source.view}").df()


def choose_engine(engine: str, data, base_dir: "Path | None") -> str:
    """The engine a run uses: the spec's; for ``auto``, duckdb when the data are a glob, a table, a query, an
    engine's object, or files larger than the memory budget (:func:`budget`), else memory."""
    if engine != "auto":
        return engine
    if isinstance(data, Source):
        return data.backend.name
    if data is None or hasattr(data, "columns") and not isinstance(data, (str, DataSpec)) and hasattr(data, "iloc"):
        return "memory"  # a pandas DataFrame
    if not isinstance(data, (str, DataSpec, os.PathLike)):
        return "spark" if type(data).__module__.startswith("pyspark") else "duckdb"
    if isinstance(data, DataSpec) and (data.table or data.query):
        return "duckdb"
    text = data.path if isinstance(data, DataSpec) else os.fspath(data)
    if is_glob(text):
        return "duckdb"
    size = data_bytes(data if not isinstance(data, os.PathLike) else os.fspath(data), base_dir)
    return "duckdb" if size is not None and size > budget() else "memory"
