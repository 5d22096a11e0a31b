"""Reading the data a spec names, and checking it against the plan before any numbers are computed.

A data file is as untrusted as the spec that names it, so reading refuses what would silently change the numbers
or exhaust the machine: a CSV row with more or fewer fields than the header (pandas would shift every column or fill
the gap), two columns with one name (pandas would rename the second ``x.1``), a path that is not a regular file (a
FIFO or device blocks or never ends), a file larger than :data:`MAX_DATA_BYTES` (raise it with the environment
variable ``CAUSALSPEC_MAX_DATA_BYTES`` or ``read_data(max_bytes=...)``), and more than :data:`MAX_DATA_COLUMNS`
columns.  :func:`check_levels` bounds the levels of a text column once its role is known.  :func:`as_pandas` takes
Polars and Arrow tables."""

from __future__ import annotations

import codecs
import csv
import difflib
import hashlib
import io
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from causalspec import datasets
from causalspec._arrays import all_finite, dense_codes  # noqa: F401  (re-exported)
from causalspec._files import Refusal, read_regular
from causalspec.errors import DataError, Problem

__all__ = ["DataSource", "all_finite", "dense_codes", "read_data", "as_pandas", "check_columns", "check_levels", "FRAMES",
           "MAX_DATA_BYTES", "MAX_DATA_COLUMNS", "MAX_LEVELS"]

_READERS = {".csv": "csv", ".tsv": "tsv", ".parquet": "parquet", ".pq": "parquet"}

#: Largest data file read, in bytes (for Parquet also the uncompressed size of its columns).  A frame
#: takes a few times its CSV's size in memory.  Raise it with ``CAUSALSPEC_MAX_DATA_BYTES``.
MAX_DATA_BYTES = 512 * 1024 * 1024
MAX_BYTES_ENV = "CAUSALSPEC_MAX_DATA_BYTES"
#: Most columns a data file may have (a one-row CSV of a million tiny columns is a memory bomb).
MAX_DATA_COLUMNS = 10_000
#: Default most distinct values of a text column used as a regressor (each level becomes a column).
MAX_LEVELS = 1_000


@dataclass(frozen=True)
class DataSource:
    """Where the data came from and a fingerprint of the exact bytes read (for archives)."""

    label: str
    sha256: str
    rows: int
    columns: tuple[str, ...]


def _is_bundled_name(text: str) -> bool:
    return Path(text).suffix == "" and "/" not in text and "\\" not in text


def resolve_path(data: str, base_dir: Path | None) -> Path:
    path = Path(data).expanduser()
    return base_dir / path if not path.is_absolute() and base_dir is not None else path


def max_data_bytes() -> int:
    """The size limit in force: ``CAUSALSPEC_MAX_DATA_BYTES`` when set, else :data:`MAX_DATA_BYTES`."""
    raw = os.environ.get(MAX_BYTES_ENV)
    if raw is None or not raw.strip():
        return MAX_DATA_BYTES
    try:
        value = int(raw.strip().replace("_", ""))
    except ValueError:
        value = 0
    if value <= 0:
        raise DataError(Problem(MAX_BYTES_ENV, f"{raw!r} is not a positive whole number of bytes.",
                                fix=f"Set {MAX_BYTES_ENV} to a number such as 2000000000, or unset it."))
    return value


def _too_large(loc: str, where: str, what: str, limit: int) -> DataError:
    return DataError(Problem(loc, f"{what}; causalspec reads at most {limit:,} bytes.",
                             fix=f"Check that this is the right file, or raise the limit: set {MAX_BYTES_ENV} "
                                 f"(e.g. {MAX_BYTES_ENV}={2 * limit}) or pass read_data(..., max_bytes=N).",
                             code="data_too_large", file=where))


def _read_bounded(path: Path, limit: int, loc: str) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes, or a :class:`DataError` naming the file."""
    where = str(path)
    try:
        return read_regular(path, limit, chunk=1 << 24)
    except Refusal as r:
        if r.reason == "missing":
            raise DataError(Problem(loc, f"the data file {where!r} does not exist.",
                                    fix="Check the path; a relative path is read from the spec file's folder.")) from None
        if r.reason in ("folder", "special"):
            raise DataError(Problem(loc, f"the data path {where!r} is {r.kind}, not a data file.",
                                    fix="Name a regular CSV or Parquet file (pipes and devices are never read).",
                                    code="not_a_file", file=where)) from None
        if r.reason == "too_large":
            what = (f"the data file is {r.size:,} bytes" if r.size is not None
                    else "the data file is larger than the limit")
            raise _too_large(loc, where, what, limit) from None
        raise DataError(Problem(loc, f"cannot read {where!r}: {r.strerror}.", fix="Check the path.")) from None


def _first_bad_utf8(raw: bytes) -> int:
    """Byte offset of the first invalid UTF-8 sequence (without decoding the whole file at once)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    step = 1 << 20
    for start in range(0, len(raw), step):
        pending = len(decoder.getstate()[0])  # bytes of a split character carried from the last chunk
        try:
            decoder.decode(raw[start:start + step], final=start + step >= len(raw))
        except UnicodeDecodeError as exc:
            return min(max(start - pending + exc.start, 0), len(raw) - 1)
    return max(len(raw) - 1, 0)


def _duplicate_problem(names: list[str], loc: str, where: str | None, line: int | None) -> Problem | None:
    first: dict[str, int] = {}
    for i, name in enumerate(names, start=1):
        if name in first:
            return Problem(loc, f"columns {first[name]} and {i} are both named {name!r}; pandas would silently "
                                f"rename the second to '{name}.1'.",
                           fix="Give every column a distinct name.", code="duplicate_column", file=where, line=line)
        first[name] = i
    return None


def _refuse_duplicates(frame: pd.DataFrame, loc: str, where: str | None) -> None:
    if (dup := _duplicate_problem([str(c) for c in frame.columns], loc, where, None)) is not None:
        raise DataError(dup)


def _check_csv(raw: bytes, sep: str, where: str, loc: str) -> None:
    """Refuse ragged rows, duplicate or too many header names, bad UTF-8 and bad quoting, naming file:line.

    pandas shifts every column when a row has one field too many (it becomes the index) and fills missing fields
    with NaN, so row shapes are checked on the raw records first (csv module: pandas' quoting, streamed)."""
    nul = raw.find(b"\x00")
    if nul >= 0:
        raise DataError(Problem(loc, f"the file contains a NUL byte (byte {nul:,}), so it is not CSV text.",
                                fix="Export the data again as UTF-8 CSV.", code="bad_csv", file=where,
                                line=raw.count(b"\n", 0, nul) + 1))
    text = io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8-sig", newline="")
    reader = csv.reader(text, delimiter=sep)
    sep_name = "tab" if sep == "\t" else repr(sep)
    header: list[str] | None = None
    header_line = start = 1
    try:
        for row in reader:
            line, start = start, reader.line_num + 1  # a quoted field may span lines: report where it began
            if not row:
                continue  # a blank line: pandas skips it too
            if header is None:
                header, header_line = row, line
                if len(header) > MAX_DATA_COLUMNS:
                    raise DataError(Problem(loc, f"the header has {len(header):,} columns; causalspec reads at "
                                                 f"most {MAX_DATA_COLUMNS:,}.",
                                            fix="Keep only the columns the spec uses.", code="data_too_large",
                                            file=where, line=line))
                dup = _duplicate_problem(header, loc, where, line)
                if dup is not None:
                    raise DataError(dup)
                continue
            if len(row) != len(header):
                shift = "shift every later column" if len(row) > len(header) else "fill the missing fields with NA"
                raise DataError(Problem(
                    loc, f"this row has {len(row)} field{'s' * (len(row) != 1)} but the header (line "
                         f"{header_line}) has {len(header)}; "
                         f"reading it would {shift}.",
                    fix=f"Give every row one value per column (empty for a missing value), and quote values "
                        f"that contain the {sep_name} separator.", code="ragged_row", file=where, line=line))
    except UnicodeDecodeError:
        at = _first_bad_utf8(raw)
        raise DataError(Problem(loc, f"the file is not UTF-8 text (invalid byte 0x{raw[at]:02x} at byte {at:,}).",
                                fix="Save the data as UTF-8.", code="not_utf8", file=where,
                                line=raw.count(b"\n", 0, at) + 1)) from None
    except csv.Error as exc:
        raise DataError(Problem(loc, f"cannot parse the file as {'TSV' if sep == chr(9) else 'CSV'}: {exc}.",
                                fix="Check the quoting at that line.", code="bad_csv", file=where,
                                line=reader.line_num or None)) from None


#: What ``data=`` may be besides a path; how to install pyarrow (Parquet files, Arrow tables: pyproject's extra).
FRAMES = ("a pandas DataFrame, a Polars DataFrame or LazyFrame, a pyarrow Table or RecordBatch, or any table with "
          "__arrow_c_stream__ (the Arrow PyCapsule interface)")
PYARROW_HINT = ('pip install "causalspec[parquet]" — or pip install pyarrow '
                "(causalspec's parquet extra: pip install '.[parquet]' in a causalspec checkout)")


def as_pandas(data, loc: str = "data") -> pd.DataFrame:
    """``data`` (:data:`FRAMES`) as a pandas DataFrame, converted once with the dtypes ``read_csv`` gives the same
    values, so missing values are dropped and counted as for a CSV (docs/data-and-graphs.md).  Polars goes column
    by column through numpy, without pyarrow (a LazyFrame is collected first; a Categorical gets sorted levels, as
    R's ``factor()``; an Enum keeps its order); Arrow tables go through ``pyarrow.Table.to_pandas``."""
    if isinstance(data, pd.DataFrame):
        return data
    kind = f"{type(data).__module__.split('.')[0]}.{type(data).__name__}"
    if kind in ("polars.LazyFrame", "polars.DataFrame"):
        data = data.collect() if kind == "polars.LazyFrame" else data  # a lazy query runs once, in Polars
        return pd.DataFrame({name: _from_polars(data.get_column(name)) for name in data.columns})
    if not (hasattr(data, "__arrow_c_stream__") or kind.startswith("pyarrow.")):
        raise DataError(Problem(loc, f"data of type {type(data).__module__}.{type(data).__qualname__} is not a "
                                     "table causalspec reads.", fix=f"Pass {FRAMES}, or a CSV / Parquet path.",
                                code="data_type"))
    try:
        import pyarrow as pa

        return (data if isinstance(data, pa.Table) else pa.table(data)).to_pandas()
    except ImportError:
        raise DataError(Problem(loc, f"reading a {type(data).__name__} needs pyarrow, which is not installed.",
                                fix=f"{PYARROW_HINT}; or pass a pandas or Polars DataFrame.",
                                code="pyarrow_unavailable")) from None
    except Exception as exc:  # a stream that is not a table (an array): pyarrow's TypeError / ArrowInvalid
        raise DataError(Problem(loc, f"cannot read the {type(data).__name__} as a table: {exc}.",
                                fix=f"Pass {FRAMES}.", code="data_type")) from None


def _from_polars(col):
    kind, values = type(col.dtype).__name__, col.to_numpy()  # numbers keep their dtype; nulls become NaN / None
    if kind == "Enum":  # its declared order; a Categorical's levels are sorted
        return pd.Categorical(values, categories=list(col.dtype.categories), ordered=True)
    return pd.Categorical(values) if kind == "Categorical" else values


def _read_parquet(raw: bytes, where: str, loc: str, limit: int) -> pd.DataFrame:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise DataError(Problem(loc, "reading Parquet needs pyarrow, which is not installed.",
                                fix=f"{PYARROW_HINT}, or use a CSV.", code="parquet_unavailable", file=where)) from None
    try:
        parquet = pq.ParquetFile(io.BytesIO(raw))
        meta = parquet.metadata
        if meta.num_columns > MAX_DATA_COLUMNS:
            raise DataError(Problem(loc, f"the file has {meta.num_columns:,} columns; causalspec reads at most "
                                         f"{MAX_DATA_COLUMNS:,}.", fix="Keep only the columns the spec uses.",
                                    code="data_too_large", file=where))
        # a small file can expand enormously (compression, run-length and dictionary encoding): bound the
        # memory it will take before reading — the declared size, or at least 8 bytes per cell
        expanded = max(sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups)),
                       8 * meta.num_rows * meta.num_columns)
        if expanded > limit:
            raise _too_large(loc, where, f"the file's {meta.num_rows:,} rows x {meta.num_columns:,} columns take "
                                         f"at least {expanded:,} bytes uncompressed", limit)
        return parquet.read().to_pandas()
    except DataError:
        raise
    except Exception as exc:  # pyarrow's errors on hostile bytes come from deep inside the library
        raise DataError(Problem(loc, f"cannot parse {where!r} as Parquet: {exc}.",
                                fix="Check that the file is Parquet.", code="bad_parquet", file=where)) from None


def read_data(data: "str | os.PathLike[str] | pd.DataFrame | None", base_dir: Path | None = None,
              loc: str = "data", *, max_bytes: int | None = None) -> tuple[pd.DataFrame, DataSource]:
    """Read a CSV / Parquet file or a bundled data set, or take an in-memory table (:func:`as_pandas`).

    ``max_bytes`` is the largest file read (default :func:`max_data_bytes`).  Raises a DataError for no data, an
    unknown kind of path, a missing or non-regular file, a file over the size limit, a ragged CSV row or duplicate
    column names (with ``file:line``), an unparseable file, or a table of a type :func:`as_pandas` does not read.
    """
    if data is None:
        raise DataError(Problem(loc, "the spec names no data.",
                                fix="Add 'data: <path.csv>' to the spec, or pass --data PATH / data=DataFrame."))
    if not isinstance(data, (str, os.PathLike)):
        data = as_pandas(data, loc)
        _refuse_duplicates(data, loc, None)
        digest = hashlib.sha256(pd.util.hash_pandas_object(data, index=True).values.tobytes()).hexdigest()
        return data, DataSource("DataFrame", digest, len(data), tuple(map(str, data.columns)))
    text = str(data)
    if isinstance(data, str) and _is_bundled_name(text):
        frame = datasets.load(text)
        digest = hashlib.sha256(frame.to_csv(index=False).encode()).hexdigest()
        return frame, DataSource(f"bundled:{text}", digest, len(frame), tuple(frame.columns))
    path = resolve_path(text, base_dir)
    kind = _READERS.get(path.suffix.lower())
    if kind is None:
        raise DataError(Problem(loc, f"{text!r} is neither a bundled data set nor a .csv / .parquet file.",
                                fix=f"Use a CSV or Parquet path, or one of {', '.join(datasets.names())}."))
    limit = max_data_bytes() if max_bytes is None else max_bytes
    where = str(path)
    raw = _read_bounded(path, limit, loc)
    digest = hashlib.sha256(raw).hexdigest()
    if kind == "parquet":
        frame = _read_parquet(raw, where, loc, limit)
    else:
        sep = "\t" if kind == "tsv" else ","
        _check_csv(raw, sep, where, loc)
        try:
            # index_col=False: a row with an extra field must never turn the first column into the index
            frame = pd.read_csv(io.BytesIO(raw), sep=sep, na_values=["NA"], index_col=False)
        except (ValueError, OverflowError, pd.errors.ParserError) as exc:  # UnicodeDecodeError is a ValueError
            raise DataError(Problem(loc, f"cannot parse {where!r} as {kind.upper()}: {exc}.",
                                    fix="Check the file's format and encoding (UTF-8).", file=where)) from None
        except MemoryError:
            raise DataError(Problem(loc, f"{where!r} does not fit in memory once parsed.",
                                    fix=f"Keep only the columns the spec uses, or lower {MAX_BYTES_ENV}.",
                                    code="data_too_large", file=where)) from None
    _refuse_duplicates(frame, loc, where)
    return frame, DataSource(str(data), digest, len(frame), tuple(map(str, frame.columns)))


def check_levels(frame: pd.DataFrame, column: str, field: str, limit: int = MAX_LEVELS) -> int | None:
    """Refuse a text column with more than ``limit`` distinct values before it is expanded into indicators.

    A text (object, string or categorical) column used as a regressor becomes one indicator column per
    level, so 10^6 distinct ids would ask for a 10^6-column design matrix.  Call this once the column's
    role is known (a confounder, covariate or other regressor); reading cannot know it.  ``field`` (the spec field
    naming the column, ``"adjustment[2]"``) locates the error.  Returns the levels of a text column (categories of a
    categorical one), None for a numeric or boolean one.  Raises a DataError: ``column_missing``, or
    ``too_many_levels`` above ``limit`` (default :data:`MAX_LEVELS`).

    Examples
    --------
    >>> frame = pd.DataFrame({"region": ["n", "s", "n"], "age": [30, 41, 52]})
    >>> check_levels(frame, "region", "adjustment[0]"), check_levels(frame, "age", "adjustment[1]")
    (2, None)
    """
    if column not in frame.columns:
        raise DataError(Problem(field, f"column {column!r} is not in the data.",
                                fix="Rename the column, or fix the name in the spec.", code="column_missing"))
    col = frame[column]
    if isinstance(col, pd.DataFrame):
        raise DataError(_duplicate_problem([str(c) for c in frame.columns], field, None, None)
                        or Problem(field, f"column {column!r} appears more than once.", code="duplicate_column"))
    if isinstance(col.dtype, pd.CategoricalDtype):
        levels = len(col.cat.categories)
    elif pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
        return None
    else:
        levels = int(col.nunique(dropna=True))
    if levels > limit:
        raise DataError(Problem(
            field, f"the text column {column!r} has {levels:,} distinct values; as a regressor it would become "
                   f"{levels - 1:,} indicator columns (the limit is {limit:,}).",
            fix=f"Recode {column!r} as a number, group its rare values, or leave it out of the model "
                "(an identifier belongs in inference.cluster or a fixed effect, not the adjustment set).",
            code="too_many_levels"))
    return levels


def is_constant(values: pd.Series) -> bool:
    """Fewer than two distinct non-missing values: a min / max comparison for numbers (one pass, no hashing of
    millions of floats), ``nunique`` for the rest."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        v = values.to_numpy()
        if v.dtype.kind == "f":  # NaN-skipping reductions on the column itself (no copy)
            with np.errstate(invalid="ignore"):
                lo, hi = np.fmin.reduce(v), np.fmax.reduce(v)
            return bool(np.isnan(lo)) or float(lo) == float(hi)
        if v.dtype.kind not in "iu":
            v = values.to_numpy(dtype=float, na_value=np.nan)
            v = v[~np.isnan(v)]
        return len(v) == 0 or float(v.min()) == float(v.max())
    return values.dropna().nunique() < 2


def check_columns(frame: pd.DataFrame, columns: dict[str, str], outcome: str | None = None,
                  treatment: str | None = None) -> None:
    """Check that every column the plan uses exists and that the outcome and treatment are numeric; ``columns``
    maps a column name to the spec field that names it (for the error's location)."""
    present = [str(c) for c in frame.columns]
    problems = []
    for name, where in columns.items():
        if name not in frame.columns:
            close = difflib.get_close_matches(name, present, n=1, cutoff=0.6)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            what = f"column {name!r}" if where != "data" else f"column {name!r} (in the adjustment set the planner chose)"
            problems.append(Problem(where, f"{what} is not in the data.",
                                    fix=f"Rename the column, or fix the name in the spec.{hint}",
                                    code="column_missing"))
    for name, role in ((outcome, "outcome"), (treatment, "treatment")):
        if name is None or name not in frame.columns:
            continue
        col = frame[name]
        if not (pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col)):
            sample = ", ".join(repr(v) for v in col.dropna().astype(str).unique()[:3])
            problems.append(Problem(
                role, f"the {role} column {name!r} is not numeric (values such as {sample}).",
                fix=f"Recode {name!r} as numbers (e.g. 0/1 for a binary {role}).", code="not_numeric"))
        elif role == "treatment" and is_constant(col):
            problems.append(Problem(role, f"the treatment {name!r} takes a single value in the data.",
                                    fix="Check the data: an effect needs treated and untreated units.",
                                    code="constant_treatment"))
        elif pd.api.types.is_numeric_dtype(col) and np.isinf(col.to_numpy(dtype=float, na_value=np.nan)).any():
            problems.append(Problem(role, f"the {role} column {name!r} contains infinite values.",
                                    fix="Replace them with missing values or finite numbers.", code="infinite"))
    if problems:
        raise DataError(problems)
