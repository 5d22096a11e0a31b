"""Omitted-variable-bias sensitivity statistics in the partial-R² parameterisation.

Pure functions of summary statistics (estimate, standard error, residual degrees of
freedom, t-values), vectorised over the hypothetical confounder strengths.  They
follow Cinelli & Hazlett (2020), "Making Sense of Sensitivity: Extending Omitted
Variable Bias", JRSS-B 82(1), and match ``sensemakr`` 0.1.6 number for number,
including its conventions:

* the robustness value with significance uses the critical value of a t with
  ``dof - 1`` degrees of freedom (the confounder costs one degree of freedom);
* the bias-adjusted standard error carries the factor ``sqrt(dof / (dof - 1))``
  for the same reason, and so does :func:`adjusted_ci`;
* the adjusted t-value tests ``h0`` (zero by default).
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from scipy import stats

from causalspec.errors import Problem, SpecError

__all__ = [
    "partial_r2",
    "partial_f2",
    "group_partial_r2",
    "robustness_value",
    "extreme_robustness_value",
    "bias",
    "adjusted_estimate",
    "adjusted_se",
    "adjusted_t",
    "adjusted_ci",
]

ArrayLike = "float | np.ndarray"


# --- argument checks (every message names the argument and the fix) -------------------------

def floats(values, name: str) -> np.ndarray:
    """``values`` as a float array, or a SpecError naming the argument (never a numpy traceback)."""
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise SpecError(Problem(f"sensitivity.{name}", f"{name} must be a number or a list of numbers, "
                                f"got {values!r}.", fix=f"Pass {name} as numbers.")) from None
    return arr


def _scalar(value, name: str, what: str, *, valid, rule: str, fix_type: str, fix_range: str) -> float:
    """``value`` as one float, or a SpecError at ``sensitivity.<name>`` saying what it must be and how to fix it."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise SpecError(Problem(f"sensitivity.{name}", f"{what} must be a single number, got {value!r}.",
                                fix=fix_type)) from None
    if not valid(number):
        raise SpecError(Problem(f"sensitivity.{name}", f"{what} must {rule}, got {number!r}.", fix=fix_range))
    return number


def _check_dof(dof: float, *, minimum: float = 0.0) -> float:
    return _scalar(dof, "dof", "residual degrees of freedom", valid=lambda v: math.isfinite(v) and v > minimum,
                   rule=f"be finite and > {minimum:g}", fix_type="Pass the residual degrees of freedom of the outcome "
                   "regression.", fix_range="The regression needs more observations than parameters.")


def _check_se(se: float) -> float:
    return _scalar(se, "se", "the standard error", valid=lambda v: math.isfinite(v) and v >= 0,
                   rule="be finite and >= 0", fix_type="Pass the coefficient's standard error.",
                   fix_range="Pass the coefficient's (non-negative) standard error.")


def _check_estimate(estimate: float) -> float:
    return _scalar(estimate, "estimate", "the estimate", valid=math.isfinite, rule="be finite",
                   fix_type="Pass the treatment coefficient as a float.",
                   fix_range="Check that the treatment coefficient was estimated (not aliased).")


def check_q(q: float) -> float:
    """Validate ``q`` (the fraction of the estimate deemed problematic): a number >= 0."""
    return _scalar(q, "q", "q", valid=lambda v: math.isfinite(v) and v >= 0, rule="be a finite number >= 0",
                   fix_type="Use q = 1 to ask what brings the estimate to zero.",
                   fix_range="Use q = 1 to ask what brings the estimate to zero, q = 0.5 to halve it.")


def check_alpha(alpha: float | None) -> float:
    """Validate ``alpha`` (significance level) in [0, 1]; ``None`` means 1 (no sampling uncertainty)."""
    if alpha is None:
        return 1.0
    return _scalar(alpha, "alpha", "alpha", valid=lambda v: 0.0 <= v <= 1.0, rule="lie in [0, 1]",
                   fix_type="Use alpha = 0.05 for 95% confidence.", fix_range="Use alpha = 0.05 for 95% confidence.")


def _check_r2(values, name: str) -> np.ndarray:
    arr = floats(values, name)
    if arr.size and (np.isnan(arr).any() or (arr < 0).any() or (arr > 1).any()):
        bad = arr[np.isnan(arr) | (arr < 0) | (arr > 1)]
        raise SpecError(Problem(f"sensitivity.{name}",
                                f"{name} must be partial R² values in [0, 1]; got {bad.tolist()}.",
                                fix="A partial R² is a share of residual variance, between 0 and 1."))
    return arr


def _out(x: np.ndarray):
    """Return a Python float for scalar input, an array otherwise."""
    return float(x) if np.ndim(x) == 0 else x


# --- partial R² and friends -------------------------------------------------------------------

def partial_r2(t_statistic, dof):
    """Partial R² of a regressor with the outcome from its t-value: t² / (t² + dof).

    Matches ``sensemakr::partial_r2`` (numeric method); Cinelli & Hazlett (2020), eq. (20).

    Examples
    --------
    >>> round(partial_r2(4.18445, 783), 5)
    0.02187
    """
    dof = _check_dof(dof)
    t = floats(t_statistic, "t_statistic")
    return _out(t ** 2 / (t ** 2 + dof))


def partial_f2(t_statistic, dof):
    """Partial Cohen's f² from a t-value: t² / dof.

    Matches ``sensemakr::partial_f2``; Cinelli & Hazlett (2020), Section 4.
    """
    dof = _check_dof(dof)
    t = floats(t_statistic, "t_statistic")
    return _out(t ** 2 / dof)


def group_partial_r2(f_statistic, p, dof):
    """Partial R² of a group of ``p`` regressors from their joint F-statistic: F·p / (F·p + dof).

    Matches ``sensemakr::group_partial_r2`` (numeric method); Cinelli & Hazlett (2020), Section 6.
    """
    dof = _check_dof(dof)
    if int(p) != p or p < 1:
        raise SpecError(Problem("sensitivity.p", f"p must be a positive integer (the group size), got {p!r}.",
                                fix="Pass the number of coefficients tested jointly."))
    f = floats(f_statistic, "f_statistic")
    return _out(f * p / (f * p + dof))


def _critical_f(alpha: float, dof: float) -> float:
    # The confounder is one more regressor, so its critical t has dof - 1 degrees of freedom
    # (sensemakr's convention, Cinelli & Hazlett 2020, eq. 18).
    if alpha >= 1.0:
        return 0.0
    return abs(stats.t.ppf(alpha / 2.0, dof - 1.0)) / math.sqrt(dof - 1.0)


def robustness_value(t_statistic, dof, q: float = 1.0, alpha: float | None = None):
    """Robustness value RV_q (``alpha`` None or 1) or RV_{q,alpha}.

    The minimal strength of association (equal partial R² with treatment and outcome) that
    confounding would need to reduce the estimate by ``100 q %`` (or, with ``alpha``, to make
    the adjusted estimate no longer significantly different from that value).

    Matches ``sensemakr::robustness_value`` (0.1.6, including the non-binding case that
    returns the extreme robustness value); Cinelli & Hazlett (2020), eqs. (18)-(19).

    Examples
    --------
    >>> round(robustness_value(4.18445, 783), 4)
    0.1388
    """
    q = check_q(q)
    alpha = check_alpha(alpha)
    dof = _check_dof(dof, minimum=1.0 if alpha < 1 else 0.0)
    t = floats(t_statistic, "t_statistic")
    fq = q * np.abs(t / math.sqrt(dof))
    fcrit = _critical_f(alpha, dof)
    fqa = fq - fcrit
    rv = 0.5 * (np.sqrt(fqa ** 4 + 4.0 * fqa ** 2) - fqa ** 2)
    rv = np.where(fqa < 0, 0.0, rv)
    if fcrit > 0:
        # When f_q > 1 / f_crit the constraint R²_{Y~Z|D,X} <= 1 binds: an extreme confounder
        # that explains all residual outcome variance is the cheapest one (C&H 2020, App. A).
        xrv = (fq ** 2 - fcrit ** 2) / (1.0 + fq ** 2)
        rv = np.where((fqa > 0) & (fq > 1.0 / fcrit), xrv, rv)
    return _out(rv)


def extreme_robustness_value(t_statistic, dof, q: float = 1.0, alpha: float | None = None):
    """Extreme robustness value XRV: minimal partial R² with the treatment of a confounder
    that explains all residual variance of the outcome, to reduce the estimate by ``100 q %``.

    Matches ``sensemakr::extreme_robustness_value`` (like R, it is not truncated at 0);
    Cinelli & Hazlett (2020), Section 4.2.
    """
    q = check_q(q)
    alpha = check_alpha(alpha)
    dof = _check_dof(dof, minimum=1.0 if alpha < 1 else 0.0)
    t = floats(t_statistic, "t_statistic")
    fq = q * np.abs(t / math.sqrt(dof))
    fcrit = _critical_f(alpha, dof)
    return _out((fq ** 2 - fcrit ** 2) / (1.0 + fq ** 2))


# --- bias-adjusted quantities -----------------------------------------------------------------

def _grid(r2dz_x, r2yz_dx):
    r2dz = _check_r2(r2dz_x, "r2dz_x")
    r2yz = _check_r2(r2yz_dx, "r2yz_dx")
    try:
        return np.broadcast_arrays(r2dz, r2yz)
    except ValueError:
        raise SpecError(Problem("sensitivity.r2yz_dx",
                                f"r2dz_x (shape {r2dz.shape}) and r2yz_dx (shape {r2yz.shape}) do not match.",
                                fix="Pass equally long vectors, or a scalar for one of them.")) from None


def bias(se, dof, r2dz_x, r2yz_dx):
    """Absolute omitted-variable bias: sqrt(R²_{Y~Z|D,X} R²_{D~Z|X} / (1 - R²_{D~Z|X})) · se · sqrt(dof).

    Matches ``sensemakr::bias`` (numeric method); Cinelli & Hazlett (2020), eq. (14).
    """
    se = _check_se(se)
    dof = _check_dof(dof)
    r2dz, r2yz = _grid(r2dz_x, r2yz_dx)
    with np.errstate(divide="ignore", invalid="ignore"):
        return _out(np.sqrt(r2yz * r2dz / (1.0 - r2dz)) * se * math.sqrt(dof))


def adjusted_estimate(estimate, se, dof, r2dz_x, r2yz_dx, reduce: bool = True):
    """Bias-adjusted estimate: sign(b) · (|b| ∓ bias); ``reduce`` moves it toward zero.

    Matches ``sensemakr::adjusted_estimate``; Cinelli & Hazlett (2020), eq. (14).
    """
    estimate = _check_estimate(estimate)
    b = bias(se, dof, r2dz_x, r2yz_dx)
    step = -b if reduce else b
    return _out(np.sign(estimate) * (abs(estimate) + np.asarray(step)))


def adjusted_se(se, dof, r2dz_x, r2yz_dx):
    """Bias-adjusted standard error: sqrt((1 - R²_{Y~Z|D,X}) / (1 - R²_{D~Z|X})) · se · sqrt(dof / (dof - 1)).

    Matches ``sensemakr::adjusted_se``; Cinelli & Hazlett (2020), eq. (15).
    """
    se = _check_se(se)
    dof = _check_dof(dof, minimum=1.0)
    r2dz, r2yz = _grid(r2dz_x, r2yz_dx)
    with np.errstate(divide="ignore", invalid="ignore"):
        return _out(np.sqrt((1.0 - r2yz) / (1.0 - r2dz)) * se * math.sqrt(dof / (dof - 1.0)))


def adjusted_t(estimate, se, dof, r2dz_x, r2yz_dx, reduce: bool = True, h0: float = 0.0):
    """Bias-adjusted t-value for testing ``h0``: (adjusted estimate - h0) / adjusted se.

    Matches ``sensemakr::adjusted_t``; Cinelli & Hazlett (2020), eq. (16).
    """
    est = np.asarray(adjusted_estimate(estimate, se, dof, r2dz_x, r2yz_dx, reduce=reduce))
    s = np.asarray(adjusted_se(se, dof, r2dz_x, r2yz_dx))
    with np.errstate(divide="ignore", invalid="ignore"):
        return _out((est - float(h0)) / s)


def adjusted_ci(estimate, se, dof, r2dz_x, r2yz_dx, which: Literal["lwr", "upr"] = "lwr",
                reduce: bool = True, alpha: float = 0.05):
    """Bias-adjusted confidence limit: adjusted estimate ∓ t_{1-alpha/2, dof-1} · adjusted se.

    Matches ``sensemakr::adjusted_ci`` (its critical value uses ``dof - 1``);
    Cinelli & Hazlett (2020), Section 4.
    """
    if which not in ("lwr", "upr"):
        raise SpecError(Problem("sensitivity.which", f"which must be 'lwr' or 'upr', got {which!r}.",
                                fix="Ask for the lower ('lwr') or upper ('upr') confidence limit."))
    alpha = check_alpha(alpha)
    dof = _check_dof(dof, minimum=1.0)
    est = np.asarray(adjusted_estimate(estimate, se, dof, r2dz_x, r2yz_dx, reduce=reduce))
    s = np.asarray(adjusted_se(se, dof, r2dz_x, r2yz_dx))
    crit = stats.t.ppf(1.0 - alpha / 2.0, dof - 1.0)
    return _out(est - crit * s if which == "lwr" else est + crit * s)
