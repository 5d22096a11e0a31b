"""DuckDB, the embedded engine: a Parquet file or glob, a table of a DuckDB database file, a read-only SELECT, a
DuckDB relation or a pandas DataFrame, as a :class:`~causalspec.engines.Source`.

DuckDB streams Parquet and spills to disk, so the data never has to fit in memory; the estimators fetch only
aggregates (k x k cross products, per-level sums).  Sums use ``fsum`` (Kahan-Babuska compensated summation), so
a sum over 1e8 rows is as exact as numpy's pairwise sum of the same values in memory.
"""

from __future__ import annotations

import glob as _glob
import os
import re

import pandas as pd

from causalspec.engines._sql import Backend, Source, check_identifier
from causalspec.errors import DataError, EstimationError, Problem, UnsupportedError

try:  # optional: causalspec[duckdb]
    import duckdb as _duckdb
except ImportError:  # pragma: no cover - exercised where duckdb is not installed
    _duckdb = None

__all__ = ["DuckDBBackend", "source", "validate_select"]


def _require():
    if _duckdb is None:
        raise UnsupportedError(Problem("engine", "the duckdb engine needs the duckdb package, which is not installed.",
                                       fix='pip install "causalspec[duckdb]", or use engine: memory.',
                                       code="engine_unavailable"))
    return _duckdb


class DuckDBBackend(Backend):
    """A DuckDB connection (in-memory by default; read-only on a database file)."""

    name = "duckdb"
    sum_fn = "fsum"

    def __init__(self, con=None, *, threads: int | None = None, memory_limit: str | None = None):
        duckdb = _require()
        self.con = con if con is not None else duckdb.connect()
        if threads is not None:
            self.con.execute(f"SET threads = {int(threads)}")  # an int: nothing of the user's text
        if memory_limit is not None:
            self.con.execute(f"SET memory_limit = '{_size(memory_limit)}'")

    def quote(self, ident: str) -> str:
        return '"' + str(ident).replace('"', '""') + '"'

    def rows(self, sql: str) -> list[tuple]:
        try:
            return self.con.execute(sql).fetchall()
        except _duckdb.Error as exc:
            raise EstimationError(Problem("data", f"DuckDB could not compute an aggregate: {_first_line(exc)}",
                                          fix="Check the column types of the data source (numbers for the "
                                              "outcome, treatment and regressors).", code="engine_query_failed"))

    def view(self, name: str, sql: str) -> None:
        self.con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS {sql}")

    def register(self, name: str, frame: pd.DataFrame) -> None:
        self.con.register(name, frame)

    def types(self, view: str) -> dict[str, str]:
        rel = self.con.sql(f"SELECT * FROM {view}")
        return dict(zip(rel.columns, (str(t) for t in rel.types)))


def _size(text: str) -> str:
    """A memory size such as ``4GB`` (checked, so the SET statement holds only digits and a unit)."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*((?:[KMGT]i?)?B)\s*", str(text), re.IGNORECASE)
    if m is None:
        raise DataError(Problem("engine.memory_limit", f"{text!r} is not a size.", fix="Give a size such as 4GB."))
    return m.group(1) + m.group(2).upper().replace("IB", "iB")


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def validate_select(query: str, where: str = "data") -> str:
    """The query if DuckDB's own parser finds exactly one statement and it is a SELECT; a located error otherwise."""
    duckdb = _require()
    try:
        statements = duckdb.extract_statements(query)
    except duckdb.Error as exc:
        raise DataError(Problem(where, f"the query does not parse: {_first_line(exc)}",
                                fix="Give one read-only SELECT (WITH ... SELECT is fine).", code="engine_bad_query"))
    if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
        kinds = ", ".join(str(s.type).split(".")[-1] for s in statements) or "nothing"
        raise DataError(Problem(where, f"the query must be a single SELECT; it is {kinds}.",
                                fix="Give one read-only SELECT; load or change data outside causalspec.",
                                code="engine_bad_query"))
    return statements[0].query.strip().rstrip(";")


def _looks_like_sql(text: str) -> bool:
    head = text.lstrip().lstrip("(").split(None, 1)[0].lower() if text.strip() else ""
    return head in ("select", "with", "from", "values", "table", "delete", "insert", "update", "create", "drop",
                    "copy", "attach", "install", "load", "pragma", "set", "call", "export", "import")


def source(data, *, table: str | None = None, con=None, threads: int | None = None,
           memory_limit: str | None = None) -> Source:
    """The data as a DuckDB view: a Parquet path or glob, ``"file.duckdb"`` with ``table=``, a SELECT (on ``con``
    or on the database file given as ``data`` with ``table`` unset), a DuckDB relation or a pandas DataFrame."""
    duckdb = _require()
    if isinstance(data, Source):
        return data
    if isinstance(data, str) and data.endswith((".duckdb", ".db")) and os.path.exists(data):
        if table is None:
            raise DataError(Problem("data", f"{data} is a DuckDB database; name the table to analyse.",
                                    fix="Give data.table (or a SELECT on the database).", code="engine_table_name"))
        backend = DuckDBBackend(duckdb.connect(data, read_only=True), threads=threads, memory_limit=memory_limit)
        view = backend.fresh("source")
        names = check_identifier(table, "data.table").split(".")
        backend.view(view, "SELECT * FROM " + ".".join(backend.quote(p) for p in names))
        return _described(backend, view, f"table {table} of {data}")
    backend = DuckDBBackend(con, threads=threads, memory_limit=memory_limit)
    view = backend.fresh("source")
    if isinstance(data, pd.DataFrame):
        backend.register(view, data)
        return _described(backend, view, "the DataFrame")
    if isinstance(data, duckdb.DuckDBPyRelation):
        try:
            data.create_view(view)
        except duckdb.Error as exc:
            raise DataError(Problem("data", f"the DuckDB relation cannot be used: {_first_line(exc)}",
                                    fix="Pass con= the connection the relation belongs to."))
        return _described(backend, view, "the DuckDB relation")
    if not isinstance(data, (str, os.PathLike)):
        raise DataError(Problem("data", f"the duckdb engine cannot read a {type(data).__name__}.",
                                fix="Give a Parquet path or glob, a DuckDB database and table, a SELECT, a DuckDB "
                                    "relation or a pandas DataFrame.", code="engine_bad_source"))
    text = os.fspath(data)
    if _looks_like_sql(text) and not os.path.exists(text):
        backend.view(view, validate_select(text))
        return _described(backend, view, "the query")
    files = sorted(_glob.glob(text)) if any(ch in text for ch in "*?[") else ([text] if os.path.exists(text) else [])
    if not files:
        raise DataError(Problem("data", f"no file matches {text!r}.", fix="Check the path or glob.",
                                code="engine_no_files"))
    try:
        rel = backend.con.read_csv(files) if all(f.endswith(".csv") for f in files) else backend.con.read_parquet(files)
        rel.create_view(view)
    except duckdb.Error as exc:
        raise DataError(Problem("data", f"DuckDB cannot read {text!r}: {_first_line(exc)}",
                                fix="Give Parquet files (or CSV) with the same columns.", code="engine_bad_source"))
    return _described(backend, view, text)


def _described(backend: DuckDBBackend, view: str, label: str) -> Source:
    return Source(backend, view, label)
