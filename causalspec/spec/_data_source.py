"""Where the data are and which engine fits them: the spec's ``data:`` forms and ``engine:``.

``data:`` is a path (CSV / Parquet file, a bundled data set's name, or a Parquet glob) or a mapping: a DuckDB
database file with a ``table``, or a read-only SQL ``query`` over the files or database that ``path`` names.
Loading a spec only checks the shape of these fields; a query is parsed (never run) by the engine's own parser
when the spec is planned (``causalspec.engines``), and runs only at fit time, on a connection that can read
nothing but what ``path`` names (docs/scale.md, "Security").
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import Discriminator, Field, Tag, model_validator

from causalspec.errors import Problem, SpecError
from causalspec.spec._base import _Model

__all__ = ["DataSpec", "DataField", "Engine", "ENGINES", "DATABASE_SUFFIXES", "data_label"]

ENGINES = ("memory", "duckdb", "spark", "auto")
Engine = Literal["memory", "duckdb", "spark", "auto"]
DATABASE_SUFFIXES = (".duckdb", ".db")
_TABLE = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$"


class DataSpec(_Model):
    """The data as files, a database table or a query (``data: {path: ..., table: ...}``).

    ``path`` is read relative to the spec file.  With a DuckDB database (``.duckdb`` / ``.db``) give ``table``
    or ``query``; with Parquet or CSV files (a glob such as ``events/*.parquet`` is fine) a ``query`` reads
    them as the table ``data``.
    """

    path: Annotated[str, Field(min_length=1, max_length=4096)] = Field(
        ..., description="A CSV or Parquet file, a Parquet glob (events/*.parquet) or a DuckDB database file "
                         "(.duckdb, .db), relative to the spec file.")
    table: Annotated[str, Field(max_length=200, pattern=_TABLE)] | None = Field(
        None, description="The table (or schema.table) of the DuckDB database in path to analyse.")
    query: Annotated[str, Field(min_length=1, max_length=100_000)] | None = Field(
        None, description="One read-only SQL SELECT (WITH ... SELECT is fine) over the database's tables, or over "
                          "the files in path as the table data. Parsed by DuckDB's parser when the spec is "
                          "planned; it runs at fit time on a connection that can read only the files path names "
                          "(no other files, no ATTACH, COPY, INSTALL or LOAD, no writes).")

    @model_validator(mode="after")
    def _one_form(self) -> "DataSpec":
        database = self.path.lower().endswith(DATABASE_SUFFIXES)
        if self.table is not None and self.query is not None:
            raise SpecError(Problem("table", "give either a table or a query, not both.",
                                    fix="Keep table (the whole table) or query (a SELECT over it).",
                                    code="data_table_and_query"))
        if database and self.table is None and self.query is None:
            raise SpecError(Problem("path", f"{self.path} is a database; name the table to analyse.",
                                    fix="Add table: <name>, or query: SELECT ... FROM <table>.",
                                    code="engine_table_name"))
        if not database and self.table is not None:
            raise SpecError(Problem("table", "a table is read from a DuckDB database (.duckdb or .db).",
                                    fix="Point path at the database file, or use query: SELECT ... FROM data "
                                        "on these files.", code="engine_table_name"))
        return self

    @property
    def is_database(self) -> bool:
        return self.path.lower().endswith(DATABASE_SUFFIXES)


def data_label(data: "str | DataSpec | None") -> str | None:
    """One line naming the data (a Plan records it): the path, and the table or the query."""
    if data is None or isinstance(data, str):
        return data
    if data.table is not None:
        return f"{data.path} table {data.table}"
    if data.query is not None:
        return f"{data.path} query {' '.join(data.query.split())}"
    return data.path


def _form(value: Any) -> str:
    return "path" if isinstance(value, str) else "source"


#: ``data:`` as a path or a mapping; errors come from the form given (not "is not a string" for a mapping).
DataField = Annotated[Union[Annotated[Annotated[str, Field(max_length=4096)], Tag("path")],
                            Annotated[DataSpec, Tag("source")]], Discriminator(_form)]
