"""The coefficient table every estimator reports (``tidy()`` columns)."""

from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd
from scipy import stats

from causalspec.errors import SpecError
from causalspec.inference._vcov import Vcov

__all__ = ["coef_table", "TIDY_COLUMNS"]

TIDY_COLUMNS = ("term", "estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high")


def coef_table(coef: np.ndarray | Mapping[str, float], vcov: Vcov, level: float = 0.95) -> pd.DataFrame:
    """Estimates, standard errors, t (or z) tests and intervals, one row per term.

    Matches ``lmtest::coeftest`` / ``lmtest::coefci`` with the Vcov's df (and
    ``estimatr::tidy`` for per-coefficient df); a normal reference is used when
    df is infinite.  Aliased terms get NaN rows, as R prints NA.
    """
    if not 0.0 < level < 1.0:
        raise SpecError(f"confidence level {level!r} is not between 0 and 1.", loc="level",
                        fix="Use for example 0.95.")
    if isinstance(coef, Mapping):
        est = np.array([coef.get(t, np.nan) for t in vcov.terms], dtype=float)
    else:
        est = np.asarray(coef, dtype=float)
    se = np.sqrt(np.diag(vcov.matrix))
    df = vcov.df_for()
    stat = est / se
    with np.errstate(invalid="ignore"):
        p = np.where(np.isinf(df), 2.0 * stats.norm.sf(np.abs(stat)), 2.0 * stats.t.sf(np.abs(stat), df))
        q = np.where(np.isinf(df), stats.norm.ppf(0.5 + level / 2.0), stats.t.ppf(0.5 + level / 2.0, df))
    return pd.DataFrame({
        "term": list(vcov.terms), "estimate": est, "std_error": se, "statistic": stat, "p_value": p,
        "conf_low": est - q * se, "conf_high": est + q * se,
    })
