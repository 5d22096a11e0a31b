"""Planning an experiment, in the words people use: power, sample size and minimum detectable effect for a
difference in means or in proportions, and the sample-ratio-mismatch test of a running one.

Each function checks its inputs (a located :class:`~causalspec.errors.SpecError` naming the argument and the
fix) and then calls the R mirrors :func:`power_t_test` / :func:`power_prop_test` with the one quantity left
out, so every number is R's ``stats::power.t.test`` / ``stats::power.prop.test`` at R's root-finding tolerance
(pass ``tol=1e-12`` for the nearly exact root).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Literal, Sequence

import numpy as np

from causalspec.errors import EstimationError, Problem, SpecError
from causalspec.power._abtest import srm_check
from causalspec.power._power import R_TOL, PowerResult, power_prop_test, power_t_test
from causalspec.power._text import srm_summary

__all__ = [
    "power_means",
    "sample_size_means",
    "mde_means",
    "power_proportions",
    "sample_size_proportions",
    "mde_proportions",
    "SRMTest",
    "srm_test",
]

TType = Literal["two.sample", "one.sample", "paired"]
Sided = Literal["two.sided", "one.sided"]


# ------------------------------------------------------------------ checks (every one names its argument)
def _finite(value, name: str, fix: str) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise SpecError(Problem(name, f"{value!r} is not a number.", fix=fix)) from None
    if not math.isfinite(x):
        raise SpecError(Problem(name, f"{value!r} is not a finite number.", fix=fix))
    return x


def _open_unit(value, name: str, what: str) -> float:
    x = _finite(value, name, f"Give {what} strictly between 0 and 1.")
    if not 0.0 < x < 1.0:
        raise SpecError(Problem(name, f"{name} = {x:g} is not strictly between 0 and 1.",
                                fix=f"Give {what} strictly between 0 and 1."))
    return x


def _levels(sig_level, power=None, alternative: str = "two.sided") -> tuple[float, float | None]:
    if alternative not in ("two.sided", "one.sided"):
        raise SpecError(Problem("alternative", f"unknown alternative {alternative!r}.",
                                fix="Use two.sided or one.sided."))
    a = _open_unit(sig_level, "sig_level", "the significance level (e.g. 0.05)")
    if power is None:
        return a, None
    p = _open_unit(power, "power", "the power (e.g. 0.8)")
    if p <= a:
        raise SpecError(Problem("power", f"power = {p:g} is not above the significance level {a:g}: a test with "
                                         "no data already rejects that often.",
                                fix="Ask for a power above sig_level, usually 0.8 or 0.9."))
    return a, p


def _n(value, minimum: float, what: str = "per arm") -> float:
    x = _finite(value, "n", f"Give the number of units {what}.")
    if x < minimum:
        raise SpecError(Problem("n", f"n = {x:g} {what}: at least {minimum:g} {'are' if minimum != 1 else 'is'} "
                                     "needed.", fix=f"Give n >= {minimum:g}."))
    return x


def _sd(value) -> float:
    x = _finite(value, "sd", "Give the outcome's standard deviation, a positive number.")
    if x <= 0:
        raise SpecError(Problem("sd", f"sd = {x:g}: a standard deviation must be positive.",
                                fix="Give the outcome's standard deviation (from past data), a positive number."))
    return x


def _delta(value) -> float:
    x = _finite(value, "delta", "Give the difference in means to detect, in the outcome's units.")
    if x == 0:
        raise SpecError(Problem("delta", "delta = 0: no sample size detects a zero difference.",
                                fix="Give the smallest difference in means worth detecting."))
    return x


def _unattainable(exc: EstimationError, loc: str, fix: str) -> SpecError:
    message = exc.problems[0].message.removeprefix("no solution: ")
    return SpecError(Problem(loc, f"no solution: {message}", fix=fix))


# ------------------------------------------------------------------ means
def power_means(n: float, delta: float, sd: float = 1.0, *, sig_level: float = 0.05, type: TType = "two.sample",
                alternative: Sided = "two.sided", strict: bool = False) -> PowerResult:
    """Power of a t test with ``n`` per arm (pairs when paired) to detect a difference ``delta``.

    Matches ``stats::power.t.test(n, delta, sd, sig.level)``; Cohen (1988), ch. 2.

    Examples
    --------
    >>> round(power_means(50, 0.5).power, 6)
    0.696889
    """
    a, _ = _levels(sig_level, None, alternative)
    return power_t_test(n=_n(n, 2), delta=_delta(delta), sd=_sd(sd), sig_level=a, type=type,
                        alternative=alternative, strict=strict)


def sample_size_means(delta: float, sd: float = 1.0, *, power: float = 0.8, sig_level: float = 0.05,
                      type: TType = "two.sample", alternative: Sided = "two.sided", strict: bool = False,
                      tol: float = R_TOL) -> PowerResult:
    """The ``n`` per arm (pairs when paired) a t test needs to detect ``delta`` with ``power``; round ``.n`` up.

    Matches ``stats::power.t.test(delta, sd, sig.level, power)``; Cohen (1988), ch. 2.

    Examples
    --------
    >>> round(sample_size_means(0.5, power=0.8).n, 4)
    63.7658
    """
    a, p = _levels(sig_level, power, alternative)
    d, s = _delta(delta), _sd(sd)
    try:
        return power_t_test(delta=d, sd=s, sig_level=a, power=p, type=type, alternative=alternative,
                            strict=strict, tol=tol)
    except EstimationError as exc:
        raise _unattainable(exc, "delta", "A one-sided test detects a positive delta only; check the sign and "
                                          "the power asked for.") from None


def mde_means(n: float, sd: float = 1.0, *, power: float = 0.8, sig_level: float = 0.05,
              type: TType = "two.sample", alternative: Sided = "two.sided", strict: bool = False,
              tol: float = R_TOL) -> PowerResult:
    """The minimum detectable effect: the smallest difference in means ``delta`` that ``n`` per arm detect
    with ``power``.

    Matches ``stats::power.t.test(n, sd, sig.level, power)`` (``delta = NULL``).

    Examples
    --------
    >>> round(mde_means(40).delta, 4)
    0.6343
    """
    a, p = _levels(sig_level, power, alternative)
    size, s = _n(n, 2), _sd(sd)
    try:
        return power_t_test(n=size, sd=s, sig_level=a, power=p, type=type, alternative=alternative,
                            strict=strict, tol=tol)
    except EstimationError as exc:
        raise _unattainable(exc, "n", "Increase n or lower the power asked for.") from None


# ------------------------------------------------------------------ proportions
def _pair(p1, p2) -> tuple[float, float]:
    a = _open_unit(p1, "p1", "the control (baseline) proportion")
    b = _open_unit(p2, "p2", "the treated proportion")
    if a == b:
        raise SpecError(Problem("p2", f"p1 = p2 = {a:g}: there is no difference to detect.",
                                fix="Give the treated proportion you want to be able to detect as p2."))
    return a, b


def power_proportions(n: float, p1: float, p2: float, *, sig_level: float = 0.05,
                      alternative: Sided = "two.sided", strict: bool = False) -> PowerResult:
    """Power of the two-sample test of proportions with ``n`` per arm to detect ``p1`` vs ``p2``.

    Matches ``stats::power.prop.test(n, p1, p2, sig.level)``; Fleiss, Levin & Paik (2003), ch. 4.

    Examples
    --------
    >>> round(power_proportions(500, 0.10, 0.13).power, 6)
    0.317883
    """
    a, _ = _levels(sig_level, None, alternative)
    q1, q2 = _pair(p1, p2)
    return power_prop_test(n=_n(n, 1), p1=q1, p2=q2, sig_level=a, alternative=alternative, strict=strict)


def sample_size_proportions(p1: float, p2: float, *, power: float = 0.8, sig_level: float = 0.05,
                            alternative: Sided = "two.sided", strict: bool = False,
                            tol: float = R_TOL) -> PowerResult:
    """The ``n`` per arm needed to detect ``p1`` vs ``p2`` with ``power``; round ``.n`` up.

    Matches ``stats::power.prop.test(p1, p2, sig.level, power)``.

    Examples
    --------
    >>> round(sample_size_proportions(0.10, 0.12).n, 3)
    3840.847
    """
    a, p = _levels(sig_level, power, alternative)
    q1, q2 = _pair(p1, p2)
    try:
        return power_prop_test(p1=q1, p2=q2, sig_level=a, power=p, alternative=alternative, strict=strict, tol=tol)
    except EstimationError as exc:
        raise _unattainable(exc, "power", "Lower the power asked for or detect a larger difference.") from None


def mde_proportions(n: float, p1: float, *, power: float = 0.8, sig_level: float = 0.05,
                    direction: Literal["increase", "decrease"] = "increase", alternative: Sided = "two.sided",
                    strict: bool = False, tol: float = R_TOL) -> PowerResult:
    """The minimum detectable treated proportion ``p2`` (above ``p1``, or below it with
    ``direction="decrease"``) that ``n`` per arm detect with ``power``.

    Matches ``stats::power.prop.test(n, p1, sig.level, power)`` (``p2 = NULL``, searched in ``[p1, 1]``); a
    decrease is R's ``power.prop.test(n, p2 = p1, ...)`` solving ``p1`` in ``[0, p1]`` (the power is
    symmetric in the two proportions), reported as ``p2``.

    Examples
    --------
    >>> round(mde_proportions(1000, 0.20).p2, 5)
    0.2524
    """
    a, p = _levels(sig_level, power, alternative)
    base = _open_unit(p1, "p1", "the control (baseline) proportion")
    size = _n(n, 1)
    if direction not in ("increase", "decrease"):
        raise SpecError(Problem("direction", f"unknown direction {direction!r}.", fix="Use increase or decrease."))
    bound = "1" if direction == "increase" else "0"
    fix = f"Increase n, lower the power asked for, or change direction (no p2 up to {bound} is enough)."
    try:
        if direction == "increase":
            return power_prop_test(n=size, p1=base, sig_level=a, power=p, alternative=alternative, strict=strict,
                                   tol=tol)
        res = power_prop_test(n=size, p2=base, sig_level=a, power=p, alternative=alternative, strict=strict,
                              tol=tol)
    except EstimationError as exc:
        raise _unattainable(exc, "n", fix) from None
    return replace(res, p1=base, p2=res.p1, solved_for="p2")


# ------------------------------------------------------------------ sample-ratio mismatch
@dataclass(frozen=True)
class SRMTest:
    """A sample-ratio-mismatch check: the arm sizes against the planned ratio (Pearson chi-square)."""

    counts: tuple[float, ...]
    shares: tuple[float, ...]  # the planned ratio, normalised to shares
    expected: tuple[float, ...]
    statistic: float
    df: int
    p_value: float
    alpha: float
    warnings: tuple[str, ...] = ()
    r_equivalent: str = "stats::chisq.test(counts, p = ratio, rescale.p = TRUE)"

    @property
    def mismatch(self) -> bool:
        """True when the p-value is below ``alpha``: the split is not the planned one."""
        return self.p_value < self.alpha

    def summary(self) -> str:
        return srm_summary(self)

    def to_dict(self) -> dict:
        return {**asdict(self), "mismatch": self.mismatch}


def srm_test(counts: Sequence[float], ratio: Sequence[float] | None = None, *, alpha: float = 0.001) -> SRMTest:
    """Sample-ratio mismatch: are the arm sizes ``counts`` consistent with the planned ``ratio`` (default equal)?

    ``ratio`` is any positive weights (``[1, 1]``, ``[2, 1]``, ``[0.5, 0.5]``).  The default ``alpha = 0.001``
    is the usual threshold: a real mismatch is large, and a looser one raises false alarms in every large test.
    Matches ``stats::chisq.test(counts, p = ratio, rescale.p = TRUE)`` (= ``scipy.stats.chisquare``); Fabijan
    et al. (2019), KDD, "Diagnosing sample ratio mismatch in online controlled experiments".

    Examples
    --------
    >>> round(srm_test([5012, 4988]).p_value, 4)
    0.8103
    """
    c = np.array([_finite(v, f"counts[{i}]", "Give the number of units in each arm.") for i, v in
                  enumerate(counts)], dtype=float)
    if c.ndim != 1 or len(c) < 2:
        raise SpecError(Problem("counts", f"{len(c)} arm size{'s' if len(c) != 1 else ''} given: the check "
                                "compares at least two arms.", fix="Give one count per arm, e.g. 5012 4988."))
    for i, v in enumerate(c):
        if v < 0:
            raise SpecError(Problem(f"counts[{i}]", f"{v:g} is negative.", fix="Give the number of units in each arm."))
    if c.sum() == 0:
        raise SpecError(Problem("counts", "every arm is empty.", fix="Give the number of units in each arm."))
    if ratio is None:
        w = np.ones(len(c))
    else:
        w = np.array([_finite(v, f"ratio[{i}]", "Give a positive weight per arm, e.g. 1 1.") for i, v in
                      enumerate(ratio)], dtype=float)
        if len(w) != len(c):
            raise SpecError(Problem("ratio", f"{len(w)} weights for {len(c)} arms.",
                                    fix="Give one weight per arm, in the order of the counts (e.g. 1 1)."))
        for i, v in enumerate(w):
            if v <= 0:
                raise SpecError(Problem(f"ratio[{i}]", f"{v:g}: every arm's planned weight must be positive.",
                                        fix="Give a positive weight per arm, e.g. 1 1 or 2 1."))
    a = _open_unit(alpha, "alpha", "the threshold (usually 0.001)")
    shares = w / w.sum()
    test = srm_check(c, shares)
    return SRMTest(tuple(float(v) for v in c), tuple(float(v) for v in shares), test.expected, test.statistic,
                   int(test.df), test.p_value, a, test.warnings)
