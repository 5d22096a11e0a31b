"""Read the R reference cases kept in ``tests/parity/cases`` and compare numbers.

The cases are copies of the project's R reference values, with their provenance
(``r_call``, ``r_versions``, ``data.origin``, ``data.sha256``) unchanged.  Tests
never read ``../shared`` at run time.
"""

from __future__ import annotations

import hashlib
import json
import math
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

PARITY_DIR = Path(__file__).resolve().parent
CASES_DIR = PARITY_DIR / "cases"


def case_ids(prefix: str = "", family: str | None = None) -> list[str]:
    """Ids of the stored cases whose id starts with ``prefix`` (and whose family matches)."""
    ids = []
    for path in sorted(CASES_DIR.glob(f"{prefix}*.json")):
        if family is None or json.loads(path.read_text())["family"] == family:
            ids.append(path.stem)
    return ids


@lru_cache(maxsize=None)
def _load(case_id: str) -> str:
    return (CASES_DIR / f"{case_id}.json").read_text()


def load_case(case_id: str) -> dict[str, Any]:
    """The case as a fresh dict (safe to mutate)."""
    return json.loads(_load(case_id))


@lru_cache(maxsize=None)
def _read_csv(rel: str, sha256: str | None) -> pd.DataFrame:
    path = PARITY_DIR / rel
    raw = path.read_bytes()
    if sha256 is not None:
        digest = hashlib.sha256(raw).hexdigest()
        assert digest == sha256, f"{path}: sha256 {digest} differs from the case's {sha256}"
    # R wrote NA for missing values; keep strings such as "NA" in factor columns missing too.
    return pd.read_csv(path, na_values=["NA"], keep_default_na=True)


def case_data(case: dict[str, Any]) -> pd.DataFrame:
    """The case's data set as R read it (``read.csv``), checked against the recorded sha256."""
    data = case["data"]
    return _read_csv(data["file"], data.get("sha256")).copy()


def tolerance(case: dict[str, Any], key: str = "rel") -> tuple[float, float]:
    tol = case.get("tolerance", {}) or {}
    return float(tol.get(key, tol.get("rel", 1e-6))), float(tol.get("abs", 1e-12))


def assert_close(actual: Any, expected: Any, *, rel: float, abs_: float = 1e-12, what: str = "") -> None:
    """Assert ``actual`` matches R's ``expected`` elementwise: |a - e| <= max(rel * |e|, abs_).

    ``None`` in ``expected`` (R's NA) must be NaN/None in ``actual``.
    """
    exp = np.asarray([np.nan if v is None else v for v in np.ravel(np.asarray(expected, dtype=object))], dtype=float)
    act = np.asarray([np.nan if v is None else v for v in np.ravel(np.asarray(actual, dtype=object))], dtype=float)
    assert exp.shape == act.shape, f"{what}: shape {act.shape} != expected {exp.shape}"
    both_nan = np.isnan(exp) & np.isnan(act)
    bound = np.maximum(rel * np.abs(exp), abs_)
    ok = both_nan | (np.abs(act - exp) <= bound)
    if not ok.all():
        i = int(np.flatnonzero(~ok)[0])
        rel_err = abs(act[i] - exp[i]) / abs(exp[i]) if exp[i] != 0 else math.inf
        raise AssertionError(
            f"{what}: element {i}: got {act[i]!r}, R has {exp[i]!r} (relative error {rel_err:.3g}, tolerance {rel:g})"
        )


def assert_named_close(actual: dict[str, float], expected: dict[str, float], *, rel: float, abs_: float = 1e-12,
                       what: str = "") -> None:
    """Compare two ``{R term name: value}`` mappings: same names, values within tolerance."""
    assert set(actual) == set(expected), f"{what}: terms {sorted(actual)} != R's {sorted(expected)}"
    names = list(expected)
    assert_close([actual[n] for n in names], [expected[n] for n in names], rel=rel, abs_=abs_, what=what)
