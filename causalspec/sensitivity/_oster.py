"""Coefficient stability: Oster's (2019) delta and bias-adjusted beta*.

Oster, E. (2019), "Unobservable Selection and Coefficient Stability: Theory and Evidence",
Journal of Business & Economic Statistics 37(2):187-204.  Inputs are the treatment
coefficient and R² without controls (b0, R0) and with controls (b1, R1), the hypothetical
R² of the full model R_max, the variance of the outcome, of the treatment, and of the
treatment's residual after the controls.  The exact solutions follow the psacalc/robomit
algorithm (Oster's Proposition 2 and its cubic); the linear approximation of her eq. (3) is
also given.  No R package is the reference here: the tests use known-truth simulations.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from causalspec.errors import DataError, Problem, SpecError
from causalspec.sensitivity._ovb import floats
from causalspec.sensitivity._from_data import design_matrix, fit_linear

__all__ = ["OsterInputs", "OsterResult", "oster_delta", "oster_beta", "oster_beta_approx", "oster_from_data"]


@dataclass(frozen=True)
class OsterInputs:
    """Summary statistics for Oster's method (variances with any common denominator)."""

    beta_uncontrolled: float
    r2_uncontrolled: float
    beta_controlled: float
    r2_controlled: float
    var_y: float
    var_x: float
    var_x_resid: float
    nobs: int | None = None

    def _checked(self, r2_max: float) -> "OsterInputs":
        r2_max = float(floats(r2_max, "oster.r2_max"))
        for name in ("beta_uncontrolled", "r2_uncontrolled", "beta_controlled", "r2_controlled", "var_y", "var_x",
                     "var_x_resid"):
            v = getattr(self, name)
            if not isinstance(v, (int, float, np.floating)) or not math.isfinite(v):
                raise SpecError(Problem(f"sensitivity.oster.{name}", f"{name} must be a finite number, got {v!r}.",
                                        fix="Pass the statistics of the two regressions."))
        if min(self.var_y, self.var_x, self.var_x_resid) <= 0:
            raise SpecError(Problem("sensitivity.oster", "the variances must be positive.",
                                    fix="Check that the outcome and the treatment vary, also after the controls."))
        if not (0 <= self.r2_uncontrolled <= 1 and 0 <= self.r2_controlled <= 1):
            raise SpecError(Problem("sensitivity.oster", "R² values must lie in [0, 1].",
                                    fix="Pass the R² of the regressions without and with controls."))
        if not (self.r2_controlled < r2_max <= 1):
            raise SpecError(Problem("sensitivity.oster.r2_max",
                                    f"R_max must lie in (R² with controls = {self.r2_controlled:.4g}, 1], got {r2_max!r}.",
                                    fix="Oster (2019) suggests R_max = min(1.3 x R² with controls, 1)."))
        return self


def oster_delta(inputs: OsterInputs, r2_max: float, beta: float = 0.0) -> float:
    """Oster's delta: the selection on unobservables, relative to observables, that makes the
    bias-adjusted coefficient equal ``beta`` (0: explain the effect away).

    Exact expression of Oster (2019), Proposition 2 (as in psacalc / ``robomit::o_delta``).
    """
    s = inputs._checked(r2_max)
    bt = s.beta_controlled - float(floats(beta, "beta"))
    b01 = s.beta_uncontrolled - s.beta_controlled
    rt = (s.r2_controlled - s.r2_uncontrolled) * s.var_y
    rm = (r2_max - s.r2_controlled) * s.var_y
    sx, tx = s.var_x, s.var_x_resid
    num = bt * rt * tx + bt * sx * tx * b01 ** 2 + 2 * bt ** 2 * tx * b01 * sx + bt ** 3 * (tx * sx - tx ** 2)
    den = rm * b01 * sx + bt * rm * (sx - tx) + bt ** 2 * tx * b01 * sx + bt ** 3 * (tx * sx - tx ** 2)
    if den == 0:
        raise SpecError(Problem("sensitivity.oster", "delta is undefined: the coefficient does not move with "
                                "the controls and R_max adds nothing.", fix="Check the inputs."))
    return float(num / den)


@dataclass(frozen=True)
class OsterResult:
    """Bias-adjusted coefficient beta* for a given delta and R_max.

    ``beta`` is the root Oster's rule selects (closest to the controlled coefficient and
    moving away from it in the direction the controls moved it); ``alternatives`` are the
    other real roots.
    """

    beta: float
    alternatives: tuple[float, ...]
    delta: float
    r2_max: float
    beta_approx: float

    def to_dict(self) -> dict:
        """JSON-ready dict (tuples become lists)."""
        return asdict(self)


def oster_beta_approx(inputs: OsterInputs, r2_max: float, delta: float = 1.0) -> float:
    """Oster's (2019) approximation, eq. (3): b1 - delta (b0 - b1)(R_max - R1)/(R1 - R0)."""
    s = inputs._checked(r2_max)
    if s.r2_controlled == s.r2_uncontrolled:
        raise SpecError(Problem("sensitivity.oster", "the controls do not raise R², so the approximation is undefined.",
                                fix="Use controls that explain part of the outcome."))
    return float(s.beta_controlled - delta * (s.beta_uncontrolled - s.beta_controlled)
                 * (r2_max - s.r2_controlled) / (s.r2_controlled - s.r2_uncontrolled))


def _select(sols: Sequence[float], b0: float, b1: float) -> tuple[float, tuple[float, ...]]:
    # Oster's rule: among the roots, prefer those whose bias (beta - b1) has the sign of the
    # observed movement (b1 - b0), then the one closest to b1 (psacalc's choice).
    order = sorted(sols, key=lambda b: (np.sign(b - b1) != np.sign(b1 - b0), (b - b1) ** 2))
    return float(order[0]), tuple(float(b) for b in order[1:])


def oster_beta(inputs: OsterInputs, r2_max: float, delta: float = 1.0) -> OsterResult:
    """Bias-adjusted treatment effect beta* for proportional selection ``delta`` and ``r2_max``.

    Exact solution of Oster (2019), Proposition 2 (quadratic for delta = 1, cubic otherwise;
    the root selection of psacalc / ``robomit::o_beta``).
    """
    s = inputs._checked(r2_max)
    delta = float(floats(delta, "delta"))
    b0, b1 = s.beta_uncontrolled, s.beta_controlled
    b01 = b0 - b1
    rt = (s.r2_controlled - s.r2_uncontrolled) * s.var_y
    rm = (r2_max - s.r2_controlled) * s.var_y
    sx, tx = s.var_x, s.var_x_resid
    if delta == 1:
        theta = rm * (sx - tx) - rt * tx - sx * tx * b01 ** 2
        d1 = 4 * rm * b01 ** 2 * sx ** 2 * tx
        d2 = -2 * tx * b01 * sx
        if d2 == 0:
            raise SpecError(Problem("sensitivity.oster", "beta* is undefined when the controls do not move the "
                                    "coefficient (b0 = b1).", fix="There is no movement to extrapolate."))
        r1, r2 = b1 - (-theta - math.sqrt(theta ** 2 + d1)) / d2, b1 - (-theta + math.sqrt(theta ** 2 + d1)) / d2
        best, alt = (r1, r2) if (r1 - b1) ** 2 < (r2 - b1) ** 2 else (r2, r1)
        if np.sign(best - b1) != np.sign(b1 - b0):  # psacalc: the bias must continue the observed movement
            best, alt = alt, best
        return OsterResult(float(best), (float(alt),), 1.0, float(r2_max), oster_beta_approx(s, r2_max, 1.0))
    else:
        scale = (delta - 1) * (tx * sx - tx ** 2)
        a = tx * b01 * sx * (delta - 2) / scale
        b = (delta * rm * (sx - tx) - rt * tx - sx * tx * b01 ** 2) / scale
        c = rm * delta * b01 * sx / scale
        q = (a ** 2 - 3 * b) / 9
        r = (2 * a ** 3 - 9 * a * b + 27 * c) / 54
        disc = r ** 2 - q ** 3
        if disc < 0:  # three real roots (trigonometric form)
            th = math.acos(r / math.sqrt(q ** 3))
            nus = [-2 * math.sqrt(q) * math.cos((th + k) / 3) - a / 3 for k in (0.0, 2 * math.pi, -2 * math.pi)]
        else:  # one real root (Cardano)
            t1, t2 = -r + math.sqrt(disc), -r - math.sqrt(disc)
            nus = [math.copysign(abs(t1) ** (1 / 3), t1) + math.copysign(abs(t2) ** (1 / 3), t2) - a / 3]
        roots = [b1 - nu for nu in nus]
    best, alts = _select(roots, b0, b1)
    return OsterResult(best, alts, float(delta), float(r2_max), oster_beta_approx(s, r2_max, delta))


def oster_from_data(data: pd.DataFrame, outcome: str, treatment: str, controls: Sequence[str]) -> OsterInputs:
    """Fit ``outcome ~ treatment`` and ``outcome ~ treatment + controls`` (and the treatment on the
    controls) by least squares and return the :class:`OsterInputs` (variances with n - 1)."""

    cols = [outcome, treatment, *controls]
    missing = [c for c in cols if c not in data.columns]
    if missing:
        raise DataError(Problem("data", f"column(s) {missing} are missing.",
                                fix=f"Available columns: {sorted(map(str, data.columns))}."))
    frame = data[cols].dropna()
    y = frame[outcome].to_numpy(dtype=float)
    x = frame[treatment].to_numpy(dtype=float)
    short = fit_linear(y, design_matrix(frame, [treatment]))
    long = fit_linear(y, design_matrix(frame, [treatment, *controls]))
    aux = design_matrix(frame, list(controls))
    xfit = fit_linear(x, aux)
    resid_x = x - aux[list(xfit.names)].to_numpy() @ xfit.coef
    return OsterInputs(float(short.coef[short.index(treatment)]), short.r_squared,
                       float(long.coef[long.index(treatment)]), long.r_squared,
                       float(np.var(y, ddof=1)), float(np.var(x, ddof=1)), float(np.var(resid_x, ddof=1)),
                       nobs=len(frame))
