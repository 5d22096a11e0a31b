"""Apache Spark, for data that lives on a cluster: a Spark DataFrame or a Parquet path or glob, as a
:class:`~causalspec.engines.Source`.  The estimators send the same SQL as on DuckDB (only identifier quoting
and the sum function differ) and fetch only aggregates, so the numbers are DuckDB's and the in-memory path's.

A SQL query is not taken as text here: run it yourself (``spark.sql(...)``) and pass the DataFrame, so no query
text of the spec reaches the cluster.
"""

from __future__ import annotations

import os

import pandas as pd

from causalspec.engines._sql import Backend, Source
from causalspec.errors import DataError, EstimationError, Problem, UnsupportedError

try:  # optional: causalspec[spark]
    import pyspark as _pyspark
    from pyspark.sql import DataFrame as _SparkFrame, SparkSession as _SparkSession
except ImportError:  # pragma: no cover - exercised where pyspark is not installed
    _pyspark = _SparkFrame = _SparkSession = None

__all__ = ["SparkBackend", "source", "local_session"]


def _require():
    if _pyspark is None:
        raise UnsupportedError(Problem("engine", "the spark engine needs pyspark, which is not installed.",
                                       fix='pip install "causalspec[spark]", or use engine: duckdb.',
                                       code="engine_unavailable"))


def local_session(cores: int = 2, memory: str = "2g"):
    """A local Spark session (``local[cores]``), as CI and the tests use."""
    _require()
    return (_SparkSession.builder.master(f"local[{int(cores)}]").appName("causalspec")
            .config("spark.driver.memory", memory).config("spark.sql.shuffle.partitions", str(int(cores)))
            .config("spark.ui.enabled", "false").config("spark.sql.execution.arrow.pyspark.enabled", "true")
            .getOrCreate())


class SparkBackend(Backend):
    """A Spark session."""

    name = "spark"
    sum_fn = "SUM"

    def __init__(self, spark):
        _require()
        self.spark = spark

    def quote(self, ident: str) -> str:
        return "`" + str(ident).replace("`", "``") + "`"

    def rows(self, sql: str) -> list[tuple]:
        try:
            return [tuple(r) for r in self.spark.sql(sql).collect()]
        except Exception as exc:  # py4j / AnalysisException: report it as ours, located
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise EstimationError(Problem("data", f"Spark could not compute an aggregate: {first}",
                                          fix="Check the column types of the data source.",
                                          code="engine_query_failed")) from None

    def view(self, name: str, sql: str) -> None:
        self.spark.sql(sql).createOrReplaceTempView(name)

    def register(self, name: str, frame: pd.DataFrame) -> None:
        self.spark.createDataFrame(frame).createOrReplaceTempView(name)

    def types(self, view: str) -> dict[str, str]:
        return dict(self.spark.table(view).dtypes)


def source(data, *, spark=None) -> Source:
    """The data as a Spark temp view: a Spark DataFrame, or a Parquet path / glob (or a list of paths) read by
    ``spark``."""
    _require()
    if isinstance(data, Source):
        return data
    if isinstance(data, _SparkFrame):
        backend = SparkBackend(data.sparkSession)
        view = backend.fresh("source")
        data.createOrReplaceTempView(view)
        return Source(backend, view, "the Spark DataFrame")
    if spark is None:
        raise DataError(Problem("engine", "the spark engine needs a Spark session to read files.",
                                fix="Pass spark= (e.g. causalspec.engines.spark.local_session()).",
                                code="engine_bad_source"))
    backend = SparkBackend(spark)
    view = backend.fresh("source")
    if isinstance(data, pd.DataFrame):
        backend.register(view, data)
        return Source(backend, view, "the DataFrame")
    paths = [os.fspath(p) for p in data] if isinstance(data, (list, tuple)) else data
    if not isinstance(paths, (str, os.PathLike, list)):
        raise DataError(Problem("data", f"the spark engine cannot read a {type(data).__name__}.",
                                fix="Give a Spark DataFrame or a Parquet path / glob.", code="engine_bad_source"))
    paths = paths if isinstance(paths, list) else [os.fspath(paths)]
    label = paths[0] if len(paths) == 1 else f"{len(paths)} Parquet files"
    try:
        spark.read.parquet(*paths).createOrReplaceTempView(view)
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(Problem("data", f"Spark cannot read {label!r}: {first}",
                                fix="Check the path or glob (Parquet files with the same columns).",
                                code="engine_no_files")) from None
    return Source(backend, view, label)
