"""Value types shared by every layer: one estimate row, a diagnostic that was not computed, JSON conversion."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["Estimate", "NotComputed", "TIDY_COLUMNS", "num", "jsonable"]

TIDY_COLUMNS = ("term", "estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high")


@dataclass(frozen=True)
class Estimate:
    """One row of a coefficient table.  ``df`` is the t degrees of freedom (``inf`` for a normal reference)."""

    term: str
    estimate: float
    std_error: float
    statistic: float
    p_value: float
    conf_low: float
    conf_high: float
    df: float = math.inf

    def to_dict(self) -> dict[str, Any]:
        return {
            "term": self.term,
            "estimate": num(self.estimate),
            "std_error": num(self.std_error),
            "statistic": num(self.statistic),
            "p_value": num(self.p_value),
            "conf_low": num(self.conf_low),
            "conf_high": num(self.conf_high),
            "df": num(self.df),
        }


@dataclass(frozen=True)
class NotComputed:
    """Stands where a diagnostic does not apply or was not run, and says why (never a bare NaN)."""

    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"computed": False, "reason": self.reason}


def num(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def jsonable(value: Any) -> Any:
    """Design extras as JSON types: DataFrames as lists of records, numpy numbers as floats, NaN as null."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, pd.DataFrame):
        return [jsonable(r) for r in value.reset_index(drop=value.index.name is None).to_dict("records")]
    if hasattr(value, "to_dict") and not isinstance(value, pd.Series):
        return jsonable(value.to_dict())
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return num(value)
    if value is None or isinstance(value, str):
        return value
    return str(value)
