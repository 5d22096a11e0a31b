"""The connection layer: a data source in a query engine, the estimation sample, and the SQL the estimators send.

A :class:`Backend` is the few things the estimators need from an engine: run a query and fetch its (small)
result, make a view from a query, register a small table (fixed-effect coefficients), quote an identifier and
write a double literal.  :class:`Source` is the user's data as a view in that engine; :meth:`Source.sample` is
the complete-case estimation sample, with the rows dropped counted by the first missing column exactly as the
in-memory path counts them (``designs.complete_cases``: R's ``na.omit``).

Nothing the user wrote is ever pasted into SQL: a column name is quoted as an identifier (and must be a column
of the source), a file path or table name goes through the engine's own API, a query is checked by the
engine's parser to be one ``SELECT``.  The only literals the estimators write are numbers they computed, as
exact ``CAST('<repr>' AS DOUBLE)`` (``repr`` of a float round-trips).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from causalspec.errors import DataError, Problem, UnsupportedError

__all__ = ["Backend", "Source", "Sample", "lit", "FLOAT_TYPES", "NUMERIC_TYPES"]

FLOAT_TYPES = ("double", "float", "real", "float4", "float8", "decimal")
NUMERIC_TYPES = FLOAT_TYPES + ("tinyint", "smallint", "integer", "int", "bigint", "hugeint", "utinyint",
                               "usmallint", "uinteger", "ubigint", "long", "short", "byte", "boolean", "int8",
                               "int4", "int2", "int1")

_names = itertools.count()


def lit(x: float) -> str:
    """An exact double literal both engines parse the same way (not DECIMAL, as a bare ``1.5`` would be)."""
    x = float(x)
    if not math.isfinite(x):
        raise DataError(Problem("data", f"a computed constant is {x!r}; the data have infinite or extreme values.",
                                fix="Check the columns the plan uses for infinite values."))
    return f"CAST('{x!r}' AS DOUBLE)"


class Backend:
    """What an estimator needs from a query engine (see :mod:`causalspec.engines.duckdb` and ``spark``)."""

    name = "engine"
    sum_fn = "SUM"          # DuckDB: fsum (Kahan-Babuska compensated), Spark: SUM

    def quote(self, ident: str) -> str:
        raise NotImplementedError

    def rows(self, sql: str) -> list[tuple]:
        raise NotImplementedError

    def view(self, name: str, sql: str) -> None:
        raise NotImplementedError

    def register(self, name: str, frame: pd.DataFrame) -> None:
        raise NotImplementedError

    def types(self, view: str) -> dict[str, str]:
        raise NotImplementedError

    def fresh(self, stem: str) -> str:
        return f"cs_{stem}_{next(_names)}"

    def one(self, sql: str) -> tuple:
        return self.rows(sql)[0]

    def sums(self, view: str, exprs: Sequence[str]) -> np.ndarray:
        """The sum of each SQL expression over ``view``, in one pass."""
        aggs = ", ".join(f"{self.sum_fn}({e})" for e in exprs)
        return np.asarray(self.one(f"SELECT {aggs} FROM {view}"), dtype=float)


@dataclass(frozen=True)
class Sample:
    """The complete-case estimation sample as a view: rows used, rows read, rows dropped by reason."""

    backend: Backend
    view: str
    columns: tuple[str, ...]
    nobs: int
    n_input: int
    dropped: tuple[tuple[str, int], ...]

    def q(self, column: str) -> str:
        return self.backend.quote(column)


class Source:
    """The user's data as a view in an engine; build one with ``duckdb.source`` or ``spark.source``."""

    def __init__(self, backend: Backend, view: str, label: str):
        self.backend = backend
        self.view = view
        self.label = label
        self._types = {k: v.lower() for k, v in backend.types(view).items()}

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self._types)

    def type_of(self, column: str) -> str:
        return self._types[column]

    def check(self, columns: dict[str, str], numeric: Iterable[str] = ()) -> None:
        """Every column exists (located at the spec field that names it); ``numeric`` ones are numbers."""
        absent = [(c, f) for c, f in columns.items() if c not in self._types]
        if absent:
            raise DataError([Problem(f, f"{c!r} is not a column of {self.label} (it has {', '.join(self.columns)}).",
                                     fix="Fix the spelling, or select the column in the data source.",
                                     code="column_not_found") for c, f in absent])
        for c in numeric:
            base = self._types[c].split("(")[0].strip()
            if base not in NUMERIC_TYPES:
                raise UnsupportedError(Problem(
                    columns.get(c, "data"), f"{c!r} is {self._types[c]} in {self.label}; the {self.backend.name} "
                    "engine takes numeric (or boolean) regressors, outcomes and treatments.",
                    fix="Cast it in the data source (a SELECT with CAST or 0/1 dummies), absorb it as a fixed "
                        "effect, or use engine: memory.", code="engine_column_type"))

    def _missing(self, column: str) -> str:
        q = self.backend.quote(column)
        if self._types[column].split("(")[0].strip() in ("double", "float", "real", "float4", "float8"):
            return f"({q} IS NULL OR isnan({q}))"  # pandas counts NaN as missing, as R counts NA and NaN
        return f"({q} IS NULL)"

    def sample(self, columns: Sequence[str], fields: dict[str, str] | None = None,
               numeric: Iterable[str] = ()) -> Sample:
        """Drop rows with a missing value in ``columns``, counting each by the first missing column."""
        columns = tuple(dict.fromkeys(columns))
        self.check({c: (fields or {}).get(c, "data") for c in columns}, numeric)
        b = self.backend
        miss = [self._missing(c) for c in columns]
        counts = []
        for i, m in enumerate(miss):
            before = " AND ".join(f"NOT {p}" for p in miss[:i])
            counts.append(f"SUM(CASE WHEN {m}{' AND ' + before if before else ''} THEN 1 ELSE 0 END)")
        row = b.one(f"SELECT COUNT(*), {', '.join(counts)} FROM {self.view}")
        n_input = int(row[0])
        dropped = tuple((f"missing values in {c!r}", int(k)) for c, k in zip(columns, row[1:]) if k)
        nobs = n_input - sum(k for _, k in dropped)
        if nobs == 0:
            raise DataError(Problem("data", f"no rows are left after removing rows with missing values "
                                    f"({', '.join(f'{k} for {r}' for r, k in dropped) or 'the source is empty'}).",
                                    fix="Check the columns the plan uses for missing values."))
        select = ", ".join(self._cast(c, c in set(numeric)) for c in columns)
        where = " AND ".join(f"NOT {m}" for m in miss)
        view = b.fresh("sample")
        b.view(view, f"SELECT {select} FROM {self.view} WHERE {where}")
        return Sample(b, view, columns, nobs, n_input, dropped)

    def _cast(self, column: str, numeric: bool) -> str:
        q = self.backend.quote(column)
        return f"CAST({q} AS DOUBLE) AS {q}" if numeric else q


def check_identifier(name: str, where: str) -> str:
    """A table or view name given by the user: letters, digits, ``_`` and dots only (it is passed to the
    engine's API, never into SQL text, but a clear error beats the engine's)."""
    parts = str(name).split(".")
    if not all(p and (p[0].isalpha() or p[0] == "_") and all(ch.isalnum() or ch == "_" for ch in p) for p in parts):
        raise DataError(Problem(where, f"{name!r} is not a table name.", fix="Give a table name such as "
                                "events or analytics.events (letters, digits and _).", code="engine_table_name"))
    return name
