"""The interrupted series read from the data: periods parsed and indexed, each series checked (no duplicate
periods, no gaps), the interruptions resolved against the treatment column.  Every refusal is located."""

from __future__ import annotations

import datetime as _dt
import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from causalspec.errors import DataError, Problem

__all__ = ["Series", "read_series", "period_index"]

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


@dataclass(frozen=True)
class Series:
    """The rows analysed, in order (by series, then period), with what the fitter needs."""

    rows: np.ndarray  # positions in the frame, in analysis order
    time: np.ndarray  # 1-based period index of each row (shared by every series)
    labels: tuple[str, ...]  # the label of period index 1, 2, ... (as the time column writes it)
    y: np.ndarray
    d: np.ndarray
    series: np.ndarray | None  # the series name of each row (comparative ITS)
    group: np.ndarray | None  # 1 for the interrupted series' rows
    treated: str | None
    interruptions: tuple[int, ...]  # period index at which each post segment begins
    source: str  # where the interruptions came from
    covariates: np.ndarray | None
    scale: object  # how the time column's values map to the period index

    def resolve(self, periods, field: str) -> list[int]:
        """Periods written in the spec (as the time column writes them) as period indices; located errors."""
        return _resolve(periods, self.scale, field, len(self.labels))

    def label(self, t: int) -> str:
        return self.labels[int(t) - 1]

    @property
    def treated_rows(self) -> np.ndarray:
        return np.arange(len(self.y)) if self.group is None else np.flatnonzero(self.group == 1)

    @property
    def n_pre(self) -> int:
        return int(np.sum(self.time[self.treated_rows] < self.interruptions[0]))

    def groups(self) -> list[np.ndarray]:
        """Row indices of each series, in period order."""
        if self.series is None:
            return [np.arange(len(self.y))]
        return [np.flatnonzero(self.series == s) for s in dict.fromkeys(self.series)]


def _fail(loc: str, message: str, fix: str, code: str) -> DataError:
    return DataError(Problem(loc, message, fix=fix, code=code))


class _Scale:
    """How a period column's values map to an integer index: a kind, the first key and the step."""

    def __init__(self, kind: str, keys: np.ndarray, loc: str):
        self.kind = kind
        uniq = np.unique(keys)
        self.first = uniq[0]
        diffs = np.diff(uniq)
        self.step = float(diffs.min()) if len(diffs) else 1.0
        if kind != "number":
            self.step = float(round(self.step))
        idx = (keys - self.first) / self.step
        if not np.allclose(idx, np.round(idx), atol=1e-6):
            bad = keys[np.flatnonzero(~np.isclose(idx, np.round(idx), atol=1e-6))[0]]
            raise _fail(loc, f"the periods are not equally spaced: {self.text(bad)} is not a whole number of steps "
                        f"of {self.step:g} from the first period {self.text(self.first)}.", "Give one row per "
                        "period of a regular series (monthly, quarterly, yearly, ...).", "irregular_periods")

    def index(self, key: float) -> float:
        return (key - self.first) / self.step

    def text(self, key: float) -> str:
        if self.kind == "month":
            return f"{int(key) // 12}-{int(key) % 12 + 1:02d}"
        if self.kind == "quarter":
            return f"{int(key) // 4}-Q{int(key) % 4 + 1}"
        if self.kind == "date":
            return _dt.date.fromordinal(int(key)).isoformat()
        return f"{key:g}" if float(key) != int(key) else str(int(key))


def _key(value, kind: str) -> float | None:
    """A period's sortable key for its kind (None when it is not of that kind)."""
    if kind == "number":
        if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
            return float(value)
        try:
            return float(str(value))
        except ValueError:
            return None
    text = str(value).strip()
    if kind == "month" and (m := _MONTH.match(text)) and 1 <= int(m[2]) <= 12:
        return float(int(m[1]) * 12 + int(m[2]) - 1)
    if kind == "quarter" and (m := _QUARTER.match(text)):
        return float(int(m[1]) * 4 + int(m[2]) - 1)
    if kind in ("date", "month") and (m := _DATE.match(text)):
        try:
            day = _dt.date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            return None
        return float(day.year * 12 + day.month - 1) if kind == "month" else float(day.toordinal())
    return None


def period_index(column: pd.Series, loc: str) -> tuple[np.ndarray, _Scale]:
    """The key of every row's period and the column's scale; a located error when the column is not a period."""
    if pd.api.types.is_bool_dtype(column):
        raise _fail(loc, f"the period column {column.name!r} is true/false.", "Name the column of periods.",
                    "bad_period")
    if pd.api.types.is_numeric_dtype(column):
        kind = "number"
    else:
        text = column.astype(str)
        if text.str.match(_MONTH).all():
            kind = "month"
        elif text.str.match(_QUARTER).all():
            kind = "quarter"
        elif text.str.match(_DATE).all():
            days = text.str.slice(8, 10)
            kind = "month" if (days == "01").all() and len(text) > 1 else "date"
        else:
            bad = next(v for v in text if not (_MONTH.match(v) or _QUARTER.match(v) or _DATE.match(v)))
            raise _fail(loc, f"the period column {column.name!r} has values such as {bad!r} that are neither numbers "
                        "nor months 'YYYY-MM', quarters 'YYYY-Qn' or dates 'YYYY-MM-DD'.",
                        "Write the periods in one of those forms.", "bad_period")
    keys = np.array([_key(v, kind) for v in column], dtype=object)
    if any(k is None for k in keys):
        bad = column.iloc[int(np.flatnonzero([k is None for k in keys])[0])]
        raise _fail(loc, f"{bad!r} is not a valid period.", "Fix the value.", "bad_period")
    keys = keys.astype(float)
    return keys, _Scale(kind, keys, loc)


def _resolve(spec_periods, scale: _Scale, field: str, n_max: int) -> list[int]:
    out = []
    for i, v in enumerate(spec_periods):
        key = _key(v, scale.kind)
        idx = None if key is None else scale.index(key)
        if idx is None or not math.isclose(idx, round(idx), abs_tol=1e-6) or not 0 <= round(idx) < n_max:
            raise _fail(f"{field}[{i}]", f"{v!r} is not a period of the series (it runs from "
                        f"{scale.text(scale.first)} to {scale.text(scale.first + (n_max - 1) * scale.step)}).",
                        "Write the period as the time column does.", "interruption_not_in_data")
        out.append(int(round(idx)) + 1)
    if out != sorted(out):
        raise _fail(field, "the periods are not listed in time order.", "List them from the earliest.",
                    "interruptions_unordered")
    return out


def _check_series(time: np.ndarray, scale: _Scale, loc: str, name: str) -> None:
    uniq, counts = np.unique(time, return_counts=True)
    if (counts > 1).any():
        dup = [scale.text(scale.first + (t - 1) * scale.step) for t in uniq[counts > 1][:5]]
        raise _fail(loc, f"{name}has more than one row for the period(s) {', '.join(dup)}.",
                    "Keep one row per period (aggregate the rows, or name the series column in design.comparison).",
                    "duplicate_periods")
    missing = sorted(set(range(int(uniq[0]), int(uniq[-1]) + 1)) - set(int(t) for t in uniq))
    if missing:
        shown = ", ".join(scale.text(scale.first + (t - 1) * scale.step) for t in missing[:8])
        more = f" and {len(missing) - 8} more" if len(missing) > 8 else ""
        raise _fail(loc, f"{name}has gaps: {len(missing)} period(s) are missing ({shown}{more}); rows with a missing "
                    "value in a column the plan uses are removed before fitting, which also leaves gaps. "
                    "Newey-West and AR(1) errors assume consecutive periods.",
                    "Add the missing periods (or impute the missing values), or analyse a span without gaps.",
                    "series_gaps")


def read_series(plan, frame: pd.DataFrame) -> Series:
    """The series of the plan's rows, checked; the interruptions resolved against the treatment column."""
    s = plan.settings
    keys, scale = period_index(frame[s.time], "design.time")
    index = np.round(np.array([scale.index(k) for k in keys])).astype(int) + 1
    n_periods = int(index.max())
    labels = tuple(scale.text(scale.first + i * scale.step) for i in range(n_periods))
    if s.comparison is not None:
        names = frame[s.comparison].astype(str).to_numpy()
        order = np.lexsort((index, names))
    else:
        names = None
        order = np.argsort(index, kind="stable")
    time = index[order]
    y = frame[plan.outcome].to_numpy(float)[order]
    d = frame[plan.treatment].to_numpy(float)[order]
    group, treated = None, None
    if names is not None:
        names = names[order]
        levels = list(dict.fromkeys(names))
        if len(levels) < 2:
            raise _fail("design.comparison", f"{s.comparison!r} names one series ({levels[0]!r}); comparative ITS "
                        "needs the interrupted series and at least one comparison series.",
                        "Add the comparison series' rows, or remove design.comparison.", "comparison_series")
        hit = [lv for lv in levels if np.any(d[names == lv] != 0)]
        if len(hit) != 1:
            raise _fail("design.comparison", (f"the treatment {plan.treatment!r} is non-zero in {len(hit)} series "
                        f"({', '.join(map(repr, hit))})" if hit else f"the treatment {plan.treatment!r} is 0 in every "
                        "series") + "; comparative ITS has one interrupted series (treatment non-zero from the "
                        "interruption) and comparison series (treatment 0 throughout).",
                        "Set the treatment to 0 in every comparison series' rows.", "comparison_series")
        treated = hit[0]
        group = (names == treated).astype(float)
        for lv in levels:
            _check_series(time[names == lv], scale, "design.time", f"the series {lv!r} ")
    else:
        _check_series(time, scale, "design.time", "the series ")
    tr = np.flatnonzero(group == 1) if group is not None else np.arange(len(y))
    cuts, source = _interruptions(plan, s, scale, time[tr], d[tr], n_periods, labels)
    covs = frame[list(plan.covariates)].to_numpy(float)[order] if plan.covariates else None
    return Series(np.asarray(order), time, labels, y, d, names, group, treated, tuple(cuts), source, covs,
                  scale)


def _interruptions(plan, s, scale, t, d, n_periods, labels) -> tuple[list[int], str]:
    """The interruptions: as listed (checked against the treatment) or where the treatment changes."""
    x = plan.treatment
    changes = [int(t[i]) for i in range(1, len(t)) if d[i] != d[i - 1]]
    if d[0] != 0:
        raise _fail("treatment", f"{x!r} is {d[0]:g} in the first period {labels[t[0] - 1]}: the series has no period "
                    "before the interruption.", f"{x!r} must be 0 before the interruption and non-zero from it.",
                    "no_pre_period")
    if s.interruptions:
        cuts = _resolve(s.interruptions, scale, "design.interruptions", n_periods)
        first = cuts[0]
        wrong = [int(ti) for ti, di in zip(t, d) if (ti < first) != (di == 0)]
        if wrong:
            w = wrong[0]
            raise _fail("design.interruptions[0]", f"{x!r} is {'0' if w >= first else 'non-zero'} at "
                        f"{labels[w - 1]}, {'after' if w >= first else 'before'} the first interruption "
                        f"{labels[first - 1]}: the treatment column and the interruption disagree.",
                        f"Make {x!r} 0 before the interruption and non-zero from it, or correct design.interruptions.",
                        "interruption_contradicts_treatment")
        extra = [c for c in changes if c not in cuts]
        if extra:
            raise _fail("treatment", f"{x!r} changes value at {labels[extra[0] - 1]}, which is not listed in "
                        "design.interruptions.", f"List {labels[extra[0] - 1]!r} in design.interruptions, or correct "
                        f"{x!r}.", "interruption_contradicts_treatment")
        source = "design.interruptions"
        where = "design.interruptions"
    else:
        cuts = changes
        source = f"the periods at which {x!r} changes value"
        where = "treatment"
    lo, hi = int(t[0]), int(t[-1])
    for k, c in enumerate(cuts):
        loc = f"{where}[{k}]" if where == "design.interruptions" else where
        if c <= lo:
            raise _fail(loc, f"the interruption {labels[c - 1]} is the first period of the series: there is no "
                        "period before it to extrapolate.", "Analyse a series that starts before the interruption.",
                        "interruption_at_edge")
        end = cuts[k + 1] if k + 1 < len(cuts) else hi + 1
        if end - c < 2:
            what = "the last period" if c >= hi else f"followed by the next interruption {labels[end - 1]}"
            raise _fail(loc, f"the interruption {labels[c - 1]} is {what}: its segment has {end - c} period, and a "
                        "level and a slope change need at least 2.", "Remove the interruption, or add periods after "
                        "it.", "interruption_at_edge")
    n_pre = int(np.sum(t < cuts[0]))
    if n_pre < 3:
        raise _fail("design.interruptions[0]" if s.interruptions else "treatment", f"only {n_pre} period(s) precede the first interruption "
                    f"{labels[cuts[0] - 1]}: the pre-period's level and trend need at least 3.",
                    "Add earlier periods to the data.", "too_few_pre_periods")
    return cuts, source
