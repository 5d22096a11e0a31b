"""Reading the data a spec names, and checking it against the plan before any numbers are computed."""

from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from . import datasets
from .errors import DataError, Problem

__all__ = ["DataSource", "read_data", "check_columns"]

_READERS = {".csv": "csv", ".tsv": "tsv", ".parquet": "parquet", ".pq": "parquet"}


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
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    return path


def read_data(data: "str | Path | pd.DataFrame | None", base_dir: Path | None = None,
              loc: str = "data") -> tuple[pd.DataFrame, DataSource]:
    """Read a CSV / Parquet file, a bundled data set, or take a DataFrame as it is."""
    if data is None:
        raise DataError(Problem(loc, "the spec names no data.",
                                fix="Add 'data: <path.csv>' to the spec, or pass --data PATH / data=DataFrame."))
    if isinstance(data, pd.DataFrame):
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
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(Problem(loc, f"the data file {str(path)!r} does not exist.",
                                fix="Check the path; a relative path is read from the spec file's folder.")) from None
    except OSError as exc:
        raise DataError(Problem(loc, f"cannot read {str(path)!r}: {exc.strerror}.", fix="Check the path.")) from None
    digest = hashlib.sha256(raw).hexdigest()
    try:
        if kind == "parquet":
            try:
                frame = pd.read_parquet(path)
            except ImportError:
                raise DataError(Problem(loc, "reading Parquet needs pyarrow, which is not installed.",
                                        fix="pip install 'causalspec[parquet]' (or pyarrow), or use a CSV.")) from None
        else:
            import io

            frame = pd.read_csv(io.BytesIO(raw), sep="\t" if kind == "tsv" else ",", na_values=["NA"])
    except DataError:
        raise
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise DataError(Problem(loc, f"cannot parse {str(path)!r} as {kind.upper()}: {exc}.",
                                fix="Check the file's format and encoding (UTF-8).")) from None
    return frame, DataSource(str(data), digest, len(frame), tuple(map(str, frame.columns)))


def check_columns(frame: pd.DataFrame, columns: dict[str, str], outcome: str | None = None,
                  treatment: str | None = None) -> None:
    """Check that every column the plan uses exists and that the outcome and treatment are numeric.

    ``columns`` maps a column name to the spec field that names it (for the error's location).
    """
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
        elif role == "treatment" and col.dropna().nunique() < 2:
            problems.append(Problem(role, f"the treatment {name!r} takes a single value in the data.",
                                    fix="Check the data: an effect needs treated and untreated units.",
                                    code="constant_treatment"))
        elif pd.api.types.is_numeric_dtype(col) and np.isinf(col.to_numpy(dtype=float, na_value=np.nan)).any():
            problems.append(Problem(role, f"the {role} column {name!r} contains infinite values.",
                                    fix="Replace them with missing values or finite numbers.", code="infinite"))
    if problems:
        raise DataError(problems)
