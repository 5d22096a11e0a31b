"""Sensitivity of an IV estimate to the exclusion restriction: Conley, Hansen & Rossi (2012), "Plausibly
exogenous", Review of Economics and Statistics 94(1), the union-of-confidence-intervals (UCI) method.

The structural equation is ``y = x beta + z gamma + w'delta + u``; exclusion says gamma = 0.  For a direct effect
``gamma`` of the instrument on the outcome, beta is estimated by 2SLS of ``y - z gamma`` (AER::ivreg with the same
variance); the UCI over ``gamma`` in ``[-bound, bound]`` is the union of those intervals.  The breakdown value is
the smallest ``bound`` whose UCI contains zero: how large a direct effect of the instrument would have to be for
the conclusion to change.  One instrument, no fixed effects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from causalspec.estimators._iv import ivreg, ivreg_vcov
from causalspec.inference._fixest import coeftable

__all__ = ["ExclusionSensitivity", "plausibly_exogenous"]


@dataclass(frozen=True)
class ExclusionSensitivity:
    """The UCI for a stated bound on the instrument's direct effect (or None), and the breakdown bound."""

    instrument: str
    bound: float | None
    uci_low: float | None
    uci_high: float | None
    breakdown: float | None  # smallest |gamma| bound whose UCI contains 0 (None: none up to the search limit)
    level: float
    notes: tuple[str, ...] = field(default=())

    def summary_lines(self) -> list[str]:
        lines = []
        if self.breakdown is not None:
            lines.append(f"Exclusion restriction (Conley, Hansen & Rossi 2012): a direct effect of {self.instrument} "
                         f"on the outcome of {self.breakdown:.4g} per unit (either sign) would make the "
                         f"{self.level:.0%} union of confidence intervals include zero.")
        if self.bound is not None:
            lines.append(f"With the direct effect bounded by {self.bound:g}: {self.level:.0%} UCI {self.uci_low:.4g} "
                         f"to {self.uci_high:.4g}.")
        return lines + [f"Note: {n}" for n in self.notes]

    def to_dict(self) -> dict[str, Any]:
        return {"computed": True, "method": "Conley, Hansen & Rossi (2012) union of confidence intervals",
                "instrument": self.instrument, "bound": self.bound, "uci": [self.uci_low, self.uci_high]
                if self.bound is not None else None, "breakdown": self.breakdown, "level": self.level,
                "notes": list(self.notes)}


def _interval(y, X, names, Zm, znames, z, gamma, term, vcov, level) -> tuple[float, float]:
    fit = ivreg(y - gamma * z, X, names, Zm, znames)
    V = ivreg_vcov(fit.fit, vcov)
    row = coeftable(fit.fit, V, level).set_index("term").loc[term]
    return float(row["conf_low"]), float(row["conf_high"])


def _uci(args, bound: float, grid: int) -> tuple[float, float]:
    ends = [_interval(*args[:6], g, *args[6:]) for g in np.linspace(-bound, bound, grid)]
    return min(lo for lo, _ in ends), max(hi for _, hi in ends)


def plausibly_exogenous(y, X, names, Zm, znames, z, instrument: str, term: str, *, vcov: str = "iid",
                        level: float = 0.95, bound: float | None = None, grid: int = 41,
                        search: int = 40) -> ExclusionSensitivity:
    """The UCI for ``|gamma| <= bound`` and the breakdown bound (bisection on the bound, ``search`` steps)."""
    args = (y, X, names, Zm, znames, np.asarray(z, dtype=float), term, vcov, level)
    lo0, hi0 = _interval(*args[:6], 0.0, *args[6:])
    uci = _uci(args, bound, grid) if bound is not None else (None, None)
    breakdown = 0.0 if lo0 <= 0 <= hi0 else None
    notes = ()
    if breakdown is None:
        # the scale of a direct effect that matters: the reduced-form coefficient of the instrument
        reduced_form = np.linalg.lstsq(Zm, y, rcond=None)[0][list(znames).index(instrument)]
        high = max(abs(float(reduced_form)), 1e-12) * 4

        def covers_zero(b: float) -> bool:
            u = _uci(args, b, 11)
            return u[0] <= 0 <= u[1]

        while not covers_zero(high) and high < 1e12:
            high *= 2
        low = 0.0
        for _ in range(search):
            mid = (low + high) / 2
            if covers_zero(mid):
                high = mid
            else:
                low = mid
        breakdown = high
        notes = (f"breakdown found by bisection to a relative width {(high - low) / high:.1e}",)
    return ExclusionSensitivity(instrument, bound, *uci, breakdown, level, notes)
