"""The DAG against the data: test the conditional independencies the DAG implies.

Matches ``dagitty::localTests(type = "cis")`` on the implications ``impliedConditionalIndependencies`` lists:
for ``X _||_ Y | Z`` the estimate is the partial correlation of X and Y given Z (from the inverse of their sample
covariance matrix), tested with Fisher's z, ``z = atanh(r)``, ``df = n - |Z| - 3``, p-value
``pchisq(z^2 df, 1, lower.tail = FALSE)``; the interval is ``tanh(z -/+ q / sqrt(df))`` (dagitty's source writes
``atan`` there; the Fisher-z interval is ``tanh``, which is what is reported here).  Textor et al. (2016), Int J
Epidemiol 45(6).  The p-values are adjusted for the number of implications tested (Holm 1979), and a failed
implication names the pair and the conditioning set.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["LocalTest", "LocalTests", "local_tests", "omitted_confounders"]


@dataclass(frozen=True)
class LocalTest:
    """One implied conditional independence ``x _||_ y | given`` and its partial-correlation test."""

    x: str
    y: str
    given: tuple[str, ...]
    estimate: float
    p_value: float
    p_adjusted: float
    conf_low: float
    conf_high: float
    nobs: int

    @property
    def text(self) -> str:
        return f"{self.x} _||_ {self.y}" + (f" | {', '.join(self.given)}" if self.given else "")

    def to_dict(self) -> dict[str, Any]:
        return {"implication": self.text, "x": self.x, "y": self.y, "given": list(self.given),
                "estimate": self.estimate, "p_value": self.p_value, "p_adjusted": self.p_adjusted,
                "conf_low": self.conf_low, "conf_high": self.conf_high, "nobs": self.nobs}


@dataclass(frozen=True)
class LocalTests:
    """Every implication tested, the ones the data reject at ``alpha`` (Holm-adjusted), and what was skipped."""

    tests: tuple[LocalTest, ...]
    alpha: float
    skipped: tuple[str, ...] = field(default=())
    omitted: tuple[LocalTest, ...] = field(default=())  # data columns the DAG leaves out that act like confounders

    @property
    def failed(self) -> tuple[LocalTest, ...]:
        return tuple(t for t in self.tests if t.p_adjusted < self.alpha)

    def summary_lines(self) -> list[str]:
        if not self.tests:
            return ["DAG check: the DAG implies no testable independence among the measured variables."
                    + (f" Skipped: {'; '.join(self.skipped)}." if self.skipped else "")] + self.omitted_lines()
        bad = self.failed
        head = (f"DAG check: {len(self.tests)} implied independenc{'y' if len(self.tests) == 1 else 'ies'} tested (partial correlations, Holm-adjusted, "
                f"alpha = {self.alpha:g}); " + (f"{len(bad)} rejected by the data:" if bad else "none rejected."))
        lines = [head]
        lines += [f"  {t.text}: partial r = {t.estimate:.3f} (CI {t.conf_low:.3f} to {t.conf_high:.3f}), adjusted "
                  f"p = {t.p_adjusted:.3g} -- the DAG says these are independent; an edge or a confounder may be "
                  "missing" for t in bad]
        if self.skipped:
            lines.append(f"  not tested: {'; '.join(self.skipped)}")
        return lines + self.omitted_lines()

    def omitted_lines(self) -> list[str]:
        """Columns of the data the DAG leaves out but that are associated with both the treatment and, given it,
        the outcome (after the adjustment set): the DAG says they are not confounders; the data disagree."""
        names = sorted({t.x for t in self.omitted})
        if not names:
            return []
        return [f"WARNING: {', '.join(map(repr, names))} {'is' if len(names) == 1 else 'are'} in the data but not in "
                "the DAG, and associated with both the treatment and the outcome given the adjustment set "
                "(Holm-adjusted partial correlations): a confounder may be missing from the DAG. Add it to the DAG "
                "with its edges (the planner then adjusts for it if it confounds)."]

    def to_dict(self) -> dict[str, Any]:
        return {"computed": True, "alpha": self.alpha, "method": "partial correlation, Fisher z, Holm adjustment "
                "(dagitty::localTests(type = 'cis'))", "tests": [t.to_dict() for t in self.tests],
                "failed": [t.text for t in self.failed], "skipped": list(self.skipped),
                "omitted_confounders": sorted({t.x for t in self.omitted}),
                "omitted_tests": [t.to_dict() for t in self.omitted]}


def _holm(p: np.ndarray) -> np.ndarray:
    """stats::p.adjust(p, "holm")."""
    m = len(p)
    order = np.argsort(p, kind="stable")
    adjusted = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out = np.empty(m)
    out[order] = adjusted
    return out


def local_tests(frame: pd.DataFrame, implications, *, level: float = 0.95, alpha: float = 0.05,
                max_tests: int = 200) -> LocalTests:
    """Test ``implications`` (``(x, y, given)`` triples) on the numeric columns of ``frame``.

    Rows with a missing value in a test's columns are left out of that test (as ``cov(use = "complete.obs")``
    would); an implication that names a non-numeric column is skipped and said so.
    """
    crit = stats.norm.ppf(0.5 + level / 2)
    results, skipped, raw = [], [], []
    for x, y, given in list(implications)[:max_tests]:
        cols = [x, y, *given]
        if not all(c in frame.columns and pd.api.types.is_numeric_dtype(frame[c]) for c in cols):
            skipped.append(f"{x} _||_ {y}{' | ' + ', '.join(given) if given else ''} (a non-numeric column)")
            continue
        sub = frame[cols].dropna().to_numpy(dtype=float)
        n = len(sub)
        df = n - len(given) - 3
        if df < 1 or np.any(sub.std(axis=0) == 0):
            skipped.append(f"{x} _||_ {y} (too few rows or a constant column)")
            continue
        precision = np.linalg.pinv(np.cov(sub, rowvar=False))
        r = float(np.clip(-precision[0, 1] / math.sqrt(precision[0, 0] * precision[1, 1]), -1 + 1e-15, 1 - 1e-15))
        z = math.atanh(r)
        p = float(stats.chi2.sf(z * z * df, 1))
        half = crit / math.sqrt(df)
        raw.append(p)
        results.append((x, y, tuple(given), r, p, math.tanh(z - half), math.tanh(z + half), n))
    if len(implications) > max_tests:
        skipped.append(f"{len(implications) - max_tests} more implications (only the first {max_tests} are tested)")
    adjusted = _holm(np.asarray(raw)) if raw else np.array([])
    tests = tuple(LocalTest(x, y, g, r, p, float(a), lo, hi, n)
                  for (x, y, g, r, p, lo, hi, n), a in zip(results, adjusted))
    return LocalTests(tests, alpha, tuple(skipped))


def omitted_confounders(frame: pd.DataFrame, candidates, treatment: str, outcome: str, adjust: tuple[str, ...], *,
                        alpha: float = 0.05, level: float = 0.95, max_columns: int = 50) -> tuple[LocalTest, ...]:
    """For each candidate column: its partial correlation with the treatment given ``adjust``, and with the
    outcome given the treatment and ``adjust``.  Both are tested (Fisher z, Holm over all 2k tests); the
    columns for which both reject are returned, as the pair of tests."""
    pairs = [(c, treatment, tuple(adjust)) for c in list(candidates)[:max_columns]]
    pairs += [(c, outcome, (treatment, *adjust)) for c in list(candidates)[:max_columns]]
    found = local_tests(frame, pairs, level=level, alpha=alpha)
    by_column: dict[str, list[LocalTest]] = {}
    for t in found.failed:
        by_column.setdefault(t.x, []).append(t)
    return tuple(t for ts in by_column.values() if len(ts) == 2 for t in ts)
