"""The data of an archive fitted on an engine (``engine: duckdb | spark | auto``): fingerprinted by the engine.

``data.json`` records the engine, the spec's folder (its ``data:`` is resolved against it, as when it was
run), the row count, the column types and the engine's order-free hash of every row
(:func:`causalspec.engines.fingerprint`), so ``verify`` re-checks a 1e8-row Parquet data set without reading it
into Python.  A table or query with ``engine: memory`` is read through the same sandboxed DuckDB connection.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from causalspec import engines
from causalspec.errors import CausalSpecError, Problem
from causalspec.spec import DataSpec

__all__ = ["engine_data", "reopen"]


def _info(source, fp, engine: str, origin, replaces: bool) -> dict[str, Any]:
    return {"source": fp.label, "sha256": fp.sha256, "rows": fp.rows,
            "columns": {c: source.type_of(c) for c in source.columns}, "included": False,
            "replaces_spec_data": replaces, "engine": engine, "origin": str(Path(origin or ".").resolve())}


def engine_data(the_spec, data: Any = None, *, include_data: bool = False):
    """(data for fit, DataSource, data.json dict) when the spec's data are an engine's; None otherwise."""
    given = the_spec.data if data is None else data
    base = the_spec.origin if data is None else None
    engine = engines.choose_engine(the_spec.engine, given, base)
    if engine == "memory" and not isinstance(given, DataSpec):
        return None  # a path or a DataFrame: read and fingerprinted as always (causalspec._data)
    if include_data and engine != "memory":
        raise CausalSpecError(Problem("include_data", f"the data are fitted on the {engine} engine; copying them "
                                      "into the archive would read them all into memory.",
                                      fix="Archive without --include-data (verify re-reads the recorded data), or "
                                          "use engine: memory.", code="engine_include_data"))
    source = engines.open_source(given, base, "duckdb" if engine == "memory" else engine)
    fp = engines.fingerprint(source)
    info = _info(source, fp, engine, base, data is not None)
    return (engines.to_frame(source) if engine == "memory" else source), fp, info


def reopen(spec, info: dict):
    """(data for fit, DataSource) of an archive's engine data: the spec's data from the recorded folder."""
    source = engines.open_source(spec.data, Path(info["origin"]), "duckdb" if info["engine"] == "memory"
                                 else info["engine"])
    fp = engines.fingerprint(source)
    return (engines.to_frame(source) if info["engine"] == "memory" else source), fp, source
