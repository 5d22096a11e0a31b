"""E-values (VanderWeele & Ding 2017, Annals of Internal Medicine 167(4):268-274).

The E-value is the minimum strength of association, on the risk-ratio scale, that an
unmeasured confounder would need with both the treatment and the outcome to move the
estimate (or the confidence limit closer to the true value) to ``true``.  Other effect
measures are first converted to approximate risk ratios, as the ``EValue`` R package
(4.1.3) does: common-outcome odds ratios by their square root, common-outcome hazard ratios
by (1 - 0.5^sqrt(HR)) / (1 - 0.5^sqrt(1/HR)), standardized mean differences d by
exp(0.91 d) with CI exp(0.91 d -/+ 1.78 se), and OLS coefficients through d = delta b / sd(Y).
A missing value (R's ``NA``) is ``None``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

from causalspec.errors import Problem, SpecError
from causalspec.sensitivity._contour import r_seq_by

__all__ = ["EValueResult", "RDEValueResult", "evalue", "evalue_rr", "evalue_or", "evalue_hr",
           "evalue_md", "evalue_ols", "evalue_rd"]

NONNULL_MESSAGE = ('You are calculating a "non-null" E-value, i.e., an E-value for the\n'
                   "minimum amount of unmeasured confounding needed to move the estimate\n"
                   "and confidence interval to your specified true value rather than to the\n"
                   "null value.")
CROSSES_MESSAGE = "Confidence interval crosses the true value, so its E-value is 1."


@dataclass(frozen=True)
class EValueResult:
    """E-values for a point estimate and its confidence limits, on the risk-ratio scale.

    ``rr_*`` are the estimate and limits converted to (approximate) risk ratios; ``evalue_*``
    the E-values, with only the limit closer to ``true`` reported (the other is None).
    """

    measure: str
    rr_point: float
    rr_lower: float | None
    rr_upper: float | None
    evalue_point: float
    evalue_lower: float | None
    evalue_upper: float | None
    true_rr: float
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        """JSON-ready dict (tuples become lists)."""
        return asdict(self)

    @property
    def evalue_ci(self) -> float | None:
        """E-value of the confidence limit closer to the true value (None without a CI)."""
        return self.evalue_lower if self.evalue_lower is not None else self.evalue_upper

    def interpretation(self) -> str:
        text = (f"An unmeasured confounder associated with both the treatment and the outcome by a risk ratio "
                f"of {self.evalue_point:.3g} each, above and beyond the measured covariates, could explain away "
                f"the point estimate (move it to {self.true_rr:.3g} on the risk-ratio scale); weaker confounding "
                "could not.")
        ci = self.evalue_ci
        if ci is not None:
            text += (" The confidence interval already includes the true value." if ci == 1 else
                     f" To move the confidence limit closer to the true value there, a risk ratio of {ci:.3g} each "
                     "would suffice.")
        return text


@dataclass(frozen=True)
class RDEValueResult:
    """E-values for a risk difference from a 2 x 2 table (``EValue::evalues.RD``)."""

    est_evalue: float
    lower_evalue: float | None
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        """JSON-ready dict (tuples become lists)."""
        return asdict(self)


def _num(x, name: str, *, allow_none: bool = False) -> float | None:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        if allow_none:
            return None
        raise SpecError(Problem(f"sensitivity.{name}", f"{name} is required.", fix=f"Pass {name} as a number."))
    try:
        value = float(x)
    except (TypeError, ValueError):
        raise SpecError(Problem(f"sensitivity.{name}", f"{name} must be a number, got {x!r}.",
                                fix=f"Pass {name} as a number.")) from None
    if not math.isfinite(value):
        raise SpecError(Problem(f"sensitivity.{name}", f"{name} must be finite, got {value!r}.",
                                fix=f"Pass a finite {name}."))
    return value


def evalue(x: float | None, true: float = 1.0) -> float | None:
    """E-value of a single risk ratio ``x`` relative to ``true`` (``EValue::threshold``).

    Matches ``EValue::threshold``; VanderWeele & Ding (2017), eq. (1) and its non-null extension.

    Examples
    --------
    >>> round(evalue(3.9), 4)
    7.263
    """
    if x is None:
        return None
    if x <= 1:  # a protective ratio is handled by symmetry
        x, true = 1.0 / x, 1.0 / true
    if true <= x:
        return (x + math.sqrt(x * (x - true))) / true
    rat = true / x
    return rat + math.sqrt(rat * (rat - 1.0))


def evalue_rr(est: float, lo: float | None = None, hi: float | None = None, true: float = 1.0,
              *, measure: str = "RR") -> EValueResult:
    """E-values for a risk ratio (or rate ratio) and its confidence limits.

    Matches ``EValue::evalues.RR`` (4.1.3); VanderWeele & Ding (2017).

    Examples
    --------
    >>> r = evalue_rr(3.9, 1.8, 8.7)
    >>> round(r.evalue_point, 3), r.evalue_lower, r.evalue_upper
    (7.263, 3.0, None)
    """
    est = _num(est, "est")
    lo, hi = _num(lo, "lo", allow_none=True), _num(hi, "hi", allow_none=True)
    true = _num(true, "true")
    if est < 0:
        raise SpecError(Problem("sensitivity.est", f"a risk ratio cannot be negative, got {est!r}.",
                                fix="Pass the ratio itself, not its logarithm."))
    if true < 0:
        raise SpecError(Problem("sensitivity.true", f"the true risk ratio cannot be negative, got {true!r}.",
                                fix="Use true = 1 for the null."))
    if lo is not None and hi is not None and lo > hi:
        raise SpecError(Problem("sensitivity.lo", f"the lower limit {lo} exceeds the upper limit {hi}.",
                                fix="Swap lo and hi."))
    if (lo is not None and est < lo) or (hi is not None and est > hi):
        raise SpecError(Problem("sensitivity.est", f"the estimate {est} is outside its interval ({lo}, {hi}).",
                                fix="Check the estimate and its confidence limits (same scale)."))
    notes = [NONNULL_MESSAGE] if true != 1 else []
    null_ci = None
    if est > true and lo is not None:
        null_ci = lo < true
    if est < true and hi is not None:
        null_ci = hi > true
    e_point, e_lo, e_hi = evalue(est, true), evalue(lo, true), evalue(hi, true)
    if null_ci:
        e_lo = e_hi = 1.0
        notes.append(CROSSES_MESSAGE)
    if lo is not None or hi is not None:
        # only the limit closer to the true value is informative
        if est > true:
            e_hi = None
        elif est < true:
            e_lo = None
        else:
            e_lo, e_hi = 1.0, None
    return EValueResult(measure, est, lo, hi, e_point, e_lo, e_hi, true, tuple(notes))


def _rare(rare, name: str) -> bool:
    if rare is None or not isinstance(rare, (bool, np.bool_, int)):
        raise SpecError(Problem("sensitivity.rare", f"say whether the outcome is rare for the {name} "
                                f"(rare=True if under 15% at the end of follow-up), got {rare!r}.",
                                fix="Pass rare=True or rare=False."))
    return bool(rare)


def _convert(measure: str, est, lo, hi, true, fn) -> EValueResult:
    vals = [None if v is None else fn(v) for v in (est, lo, hi)]
    r = evalue_rr(vals[0], vals[1], vals[2], true=fn(true), measure=measure)
    return r


def evalue_or(est: float, lo: float | None = None, hi: float | None = None, *, rare: bool | None = None,
              true: float = 1.0) -> EValueResult:
    """E-values for an odds ratio: taken as a risk ratio if the outcome is rare, else its square root.

    Matches ``EValue::evalues.OR`` (4.1.3); VanderWeele & Ding (2017), Table.
    """
    rare = _rare(rare, "odds ratio")
    est, lo, hi, true = _num(est, "est"), _num(lo, "lo", allow_none=True), _num(hi, "hi", allow_none=True), _num(true, "true")
    if est < 0:
        raise SpecError(Problem("sensitivity.est", f"an odds ratio cannot be negative, got {est!r}.",
                                fix="Pass the ratio itself, not its logarithm."))
    return _convert("OR", est, lo, hi, true, (lambda v: v) if rare else math.sqrt)


def _hr_to_rr(v: float) -> float:
    # VanderWeele (2020) conversion of a common-outcome hazard ratio to a risk ratio
    return (1.0 - 0.5 ** math.sqrt(v)) / (1.0 - 0.5 ** math.sqrt(1.0 / v))


def evalue_hr(est: float, lo: float | None = None, hi: float | None = None, *, rare: bool | None = None,
              true: float = 1.0) -> EValueResult:
    """E-values for a hazard ratio: as a risk ratio if the outcome is rare, else converted.

    Matches ``EValue::evalues.HR`` (4.1.3); VanderWeele & Ding (2017); VanderWeele (2020) conversion.
    """
    rare = _rare(rare, "hazard ratio")
    est, lo, hi, true = _num(est, "est"), _num(lo, "lo", allow_none=True), _num(hi, "hi", allow_none=True), _num(true, "true")
    if est < 0:
        raise SpecError(Problem("sensitivity.est", f"a hazard ratio cannot be negative, got {est!r}.",
                                fix="Pass the ratio itself, not its logarithm."))
    return _convert("HR", est, lo, hi, true, (lambda v: v) if rare else _hr_to_rr)


def evalue_md(est: float, se: float | None = None, true: float = 0.0, *, measure: str = "MD") -> EValueResult:
    """E-values for a standardized mean difference d: RR = exp(0.91 d), CI exp(0.91 d -/+ 1.78 se).

    Matches ``EValue::evalues.MD`` (4.1.3); VanderWeele & Ding (2017), Table; Chinn (2000).
    """
    est, se, true = _num(est, "est"), _num(se, "se", allow_none=True), _num(true, "true")
    if se is not None and se < 0:
        raise SpecError(Problem("sensitivity.se", f"the standard error cannot be negative, got {se!r}.",
                                fix="Pass the standard error of the standardized difference."))
    point = math.exp(0.91 * est)
    lo = None if se is None else math.exp(0.91 * est - 1.78 * se)
    hi = None if se is None else math.exp(0.91 * est + 1.78 * se)
    return evalue_rr(point, lo, hi, true=math.exp(0.91 * true), measure=measure)


def evalue_ols(est: float, se: float | None = None, *, sd: float, delta: float = 1.0,
               true: float = 0.0) -> EValueResult:
    """E-values for a linear-regression coefficient: d = delta * est / sd(Y), then :func:`evalue_md`.

    Matches ``EValue::evalues.OLS`` (4.1.3); VanderWeele & Ding (2017).  ``sd`` is the outcome's
    standard deviation and ``delta`` the contrast in the exposure (a negative delta is recoded).
    """
    est, se, sd, delta = _num(est, "est"), _num(se, "se", allow_none=True), _num(sd, "sd"), _num(delta, "delta")
    if sd <= 0:
        raise SpecError(Problem("sensitivity.sd", f"the outcome's standard deviation must be > 0, got {sd!r}.",
                                fix="Pass sd(Y), the outcome's (residual or marginal) standard deviation."))
    notes = ()
    if delta < 0:
        delta, notes = -delta, ("Recoding delta to be positive",)
    r = evalue_md(est * delta / sd, None if se is None else se * delta / sd, true=true, measure="OLS")
    return EValueResult(**{**r.__dict__, "notes": notes + r.notes})


def evalue_rd(n11: float, n10: float, n01: float, n00: float, true: float = 0.0, alpha: float = 0.05,
              grid: float = 1e-4) -> RDEValueResult:
    """E-values for a risk difference from a 2 x 2 table (exposed/unexposed x diseased/not).

    Matches ``EValue::evalues.RD`` (4.1.3): closed form for the point estimate and, for the
    lower confidence limit, the same grid search over the bias factor with step ``grid``
    (so it is exact only to that step).  Ding & VanderWeele (2016), Epidemiology 27(3).
    """
    counts = [_num(v, n) for v, n in ((n11, "n11"), (n10, "n10"), (n01, "n01"), (n00, "n00"))]
    if any(c < 0 for c in counts):
        raise SpecError(Problem("sensitivity.counts", "negative cell counts are impossible.",
                                fix="Pass the four cell counts of the 2 x 2 table."))
    n11, n10, n01, n00 = counts
    n1, n0 = n10 + n11, n00 + n01
    if n1 == 0 or n0 == 0:
        raise SpecError(Problem("sensitivity.counts", "both exposure groups need at least one unit.",
                                fix="Check the 2 x 2 table."))
    n = n1 + n0
    f = n1 / n
    p1, p0 = n11 / n1, n01 / n0
    if p1 < p0:
        raise SpecError(Problem("sensitivity.counts", "the risk difference is negative.",
                                fix="Relabel the exposure so that the risk difference is positive."))
    if p1 - p0 <= true:
        raise SpecError(Problem("sensitivity.true", "the true risk difference must be below the estimate.",
                                fix="Choose true smaller than the observed risk difference."))
    s2_p1, s2_p0 = p1 * (1 - p1) / n1, p0 * (1 - p0) / n0
    s2_f = f * (1 - f) / n
    diff = p0 * (1 - f) - p1 * f
    est_bf = (math.sqrt((true + diff) ** 2 + 4 * p1 * p0 * f * (1 - f)) - (true + diff)) / (2 * p0 * f)
    est_e = evalue(est_bf)
    z = stats.norm.ppf(1 - alpha / 2)
    lower_ci = p1 - p0 - z * math.sqrt(s2_p1 + s2_p0)
    if lower_ci <= true:
        return RDEValueResult(est_e, 1.0)

    bf = r_seq_by(1.0, est_bf, grid)  # R's seq(1, est.BF, grid)
    rd = p1 - p0 * bf
    fs = f + (1 - f) / bf
    low = rd * fs - z * np.sqrt((s2_p1 + s2_p0 * bf ** 2) * fs ** 2 + rd ** 2 * (1 - 1 / bf) ** 2 * s2_f)
    hit = np.flatnonzero(low <= true)
    return RDEValueResult(est_e, evalue(float(bf[hit[0]])) if hit.size else None)
