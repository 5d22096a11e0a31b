"""Power and sample size: ``power.t.test``, ``power.prop.test`` and cluster-randomised designs.

R solves for the missing quantity with ``uniroot`` (Brent's zeroin) at tolerance
``.Machine$double.eps^0.25``, which leaves its answer up to ~1e-4 from the exact
root.  :func:`uniroot` reproduces R's iterations step for step, so the default
answers are R's own; pass ``tol=1e-12`` for the (nearly) exact root.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Callable, Literal

import numpy as np
from scipy import stats

from causalspec.errors import EstimationError, SpecError
from causalspec.power._text import power_summary

__all__ = [
    "R_TOL",
    "uniroot",
    "PowerResult",
    "power_t_test",
    "power_prop_test",
    "design_effect",
    "ClusterDesign",
    "cluster_design",
    "cluster_power",
]

R_TOL = float(2.220446049250313e-16 ** 0.25)
_DBL_EPS = 2.220446049250313e-16
_DBL_MAX = 1.7976931348623157e308


@dataclass(frozen=True)
class Root:
    root: float
    f_root: float
    iterations: int
    init_iterations: int
    estim_prec: float


def _zeroin(f: Callable[[float], float], ax: float, bx: float, fa: float, fb: float, tol: float,
            maxit: int) -> tuple[float, int, float]:
    """Brent (1973)'s zeroin exactly as R's ``R_zeroin2`` (src/library/stats/src/zeroin.c)."""
    a, b, c = ax, bx, ax
    fc = fa
    if fa == 0.0:
        return a, 0, 0.0
    if fb == 0.0:
        return b, 0, 0.0
    left = maxit + 1
    while left:
        left -= 1
        prev_step = b - a
        if abs(fc) < abs(fb):
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol_act = 2.0 * _DBL_EPS * abs(b) + tol / 2.0
        new_step = (c - b) / 2.0
        if abs(new_step) <= tol_act or fb == 0.0:
            return b, maxit + 1 - left - 1, abs(c - b)
        if abs(prev_step) >= tol_act and abs(fa) > abs(fb):
            cb = c - b
            if a == c:
                t1 = fb / fa
                p = cb * t1
                q = 1.0 - t1
            else:
                q = fa / fc
                t1 = fb / fc
                t2 = fb / fa
                p = t2 * (cb * q * (q - t1) - (b - a) * (t1 - 1.0))
                q = (q - 1.0) * (t1 - 1.0) * (t2 - 1.0)
            if p > 0.0:
                q = -q
            else:
                p = -p
            if p < (0.75 * cb * q - abs(tol_act * q) / 2.0) and p < abs(prev_step * q / 2.0):
                new_step = p / q
        if abs(new_step) < tol_act:
            new_step = tol_act if new_step > 0.0 else -tol_act
        a, fa = b, fb
        b += new_step
        fb = f(b)
        if (fb > 0 and fc > 0) or (fb < 0 and fc < 0):
            c, fc = a, fa
    return b, -1, -1.0


def uniroot(f: Callable[[float], float], lower: float, upper: float, *, tol: float = R_TOL,
            extend_int: Literal["no", "yes", "downX", "upX"] = "no", maxiter: int = 1000) -> Root:
    """A root of ``f`` in ``[lower, upper]``, as R's ``uniroot`` (including ``extendInt``).

    Matches ``stats::uniroot``; Brent (1973), Algorithms for Minimization without Derivatives, ch. 4.
    """
    f_lower, f_upper = f(lower), f(upper)

    def trunc(v: float) -> float:
        return max(min(v, _DBL_MAX), -_DBL_MAX)

    sig = {"yes": None, "downX": -1.0, "no": 0.0, "upX": 1.0}[extend_int]
    fl, fu = trunc(f_lower), trunc(f_upper)
    do_x = (sig is None and fl * fu > 0) or (sig is not None and (sig * fl > 0 or sig * fu < 0))
    it = 0
    if do_x and extend_int != "no":
        def delta_of(u: float) -> float:
            return 0.01 * max(1e-4, abs(u))

        if sig is None:
            dl, du = delta_of(lower), delta_of(upper)
            while f_lower * f_upper > 0 and (math.isfinite(lower) or math.isfinite(upper)):
                it += 1
                if it > maxiter:
                    raise EstimationError("uniroot: no sign change found after extending the interval.",
                                          fix="Check that the requested power is attainable.")
                if math.isfinite(lower):
                    ol, of = lower, f_lower
                    lower -= dl
                    f_lower = f(lower)
                    if math.isnan(f_lower):
                        lower, f_lower, dl = ol, of, dl / 4.0
                if math.isfinite(upper):
                    ou, of = upper, f_upper
                    upper += du
                    f_upper = f(upper)
                    if math.isnan(f_upper):
                        upper, f_upper, du = ou, of, du / 4.0
                dl, du = 2.0 * dl, 2.0 * du
        else:
            d = delta_of(lower)
            while sig * f_lower > 0:
                it += 1
                if it > maxiter:
                    raise EstimationError("uniroot: no sign change found after extending the interval.",
                                          fix="Check that the requested power is attainable.")
                lower -= d
                f_lower = f(lower)
                d *= 2.0
            d = delta_of(upper)
            while sig * f_upper < 0:
                it += 1
                if it > maxiter:
                    raise EstimationError("uniroot: no sign change found after extending the interval.",
                                          fix="Check that the requested power is attainable.")
                upper += d
                f_upper = f(upper)
                d *= 2.0
    if math.isnan(f_lower) or math.isnan(f_upper) or not (
            math.copysign(1, f_lower) * math.copysign(1, f_upper) <= 0 or f_lower == 0 or f_upper == 0):
        raise EstimationError("no solution: the target is not reached anywhere in the search interval "
                              f"[{lower:g}, {upper:g}].", fix="Check the inputs: the power asked for may be unattainable.")
    root, iters, prec = _zeroin(f, lower, upper, f_lower, f_upper, tol, maxiter)
    if iters < 0:
        raise EstimationError(f"uniroot did not converge in {maxiter} iterations.", fix="Loosen tol.")
    return Root(root, f(root), iters, it, prec)


@dataclass(frozen=True)
class PowerResult:
    """A ``power.htest``: every quantity, with the one solved for filled in."""

    method: str
    solved_for: str
    n: float
    sig_level: float
    power: float
    alternative: str
    delta: float | None = None
    sd: float | None = None
    p1: float | None = None
    p2: float | None = None
    note: str | None = None
    iterations: int = 0
    type: str | None = None  # power.t.test's type (two.sample, one.sample, paired); None for proportions

    def summary(self) -> str:
        """The answer in one sentence, then the block R's ``print.power.htest`` shows."""
        return power_summary(self)

    def to_dict(self) -> dict:
        return asdict(self)


def _check_prob(value: float | None, name: str) -> None:
    if value is not None and not 0.0 <= value <= 1.0:
        raise SpecError(f"{name} = {value!r} is not a probability.", loc=name, fix="Use a number in [0, 1].")


def _one_missing(names: dict[str, object]) -> str:
    missing = [k for k, v in names.items() if v is None]
    if len(missing) != 1:
        raise SpecError(f"exactly one of {', '.join(names)} must be left empty (None); got {len(missing)}.",
                        loc="power", fix="Give all quantities but the one to solve for.")
    return missing[0]


def _solve(body, vals: dict, solved: str, power, brackets: dict, tol: float, *,
           unit_interval: bool = False) -> tuple[float, int]:
    """R's power.*.test solving step: the power from the other values, or uniroot for the one left out (in
    place in ``vals``) over the bracket R uses for it.  Returns (power, iterations)."""
    if solved == "power":
        return body(vals), 0
    lower, upper, extend = brackets[solved]

    def f(x: float) -> float:
        return body({**vals, solved: x}) - power

    r = uniroot(f, lower, upper, tol=tol, extend_int=extend)
    if unit_interval and not 0.0 <= r.root <= 1.0:
        raise EstimationError(f"no {solved} in [0, 1] reaches power {power:g} (R warns and returns "
                              f"{r.root:.4g}).", loc=f"power.{solved}", fix="Increase n or lower the power asked for.")
    vals[solved] = r.root
    return power, r.iterations


def power_t_test(n: float | None = None, delta: float | None = None, sd: float | None = 1.0,
                 sig_level: float | None = 0.05, power: float | None = None,
                 type: Literal["two.sample", "one.sample", "paired"] = "two.sample",
                 alternative: Literal["two.sided", "one.sided"] = "two.sided", strict: bool = False,
                 tol: float = R_TOL) -> PowerResult:
    """Power of a t test, or the n / delta / sd / sig.level giving a target power.

    Matches ``stats::power.t.test`` (noncentral t; ``uniroot`` as R); Cohen (1988), ch. 2.
    ``n`` is per group (two.sample) or the number of pairs (paired).

    Examples
    --------
    >>> round(power_t_test(n=50, delta=0.5).power, 6)
    0.696889
    """
    solved = _one_missing({"n": n, "delta": delta, "sd": sd, "power": power, "sig_level": sig_level})
    _check_prob(sig_level, "sig_level")
    _check_prob(power, "power")
    if type not in ("two.sample", "one.sample", "paired") or alternative not in ("two.sided", "one.sided"):
        raise SpecError(f"unknown type {type!r} or alternative {alternative!r}.", loc="power",
                        fix="type: two.sample, one.sample or paired; alternative: two.sided or one.sided.")
    tsample = 2.0 if type == "two.sample" else 1.0
    tside = 2.0 if alternative == "two.sided" else 1.0
    if tside == 2 and delta is not None:
        delta = abs(delta)
    vals = {"n": n, "delta": delta, "sd": sd, "sig_level": sig_level}

    def body(v: dict) -> float:
        nu = (v["n"] - 1.0) * tsample
        ncp = math.sqrt(v["n"] / tsample) * v["delta"] / v["sd"]
        qu = stats.t.isf(v["sig_level"] / tside, nu)
        p = stats.nct.sf(qu, nu, ncp)
        if strict and tside == 2:
            p += stats.nct.cdf(-qu, nu, ncp)
        return float(p)

    brackets = {"n": (2.0, 1e7, "upX"), "sd": (delta and delta * 1e-7, delta and delta * 1e7, "downX"),
                "delta": (sd and sd * 1e-7, sd and sd * 1e7, "upX"), "sig_level": (1e-10, 1 - 1e-10, "yes")}
    power, iters = _solve(body, vals, solved, power, brackets, tol)
    note = {"paired": "n is number of *pairs*, sd is std.dev. of *differences* within pairs",
            "two.sample": "n is number in *each* group"}.get(type)
    method = {"one.sample": "One-sample", "two.sample": "Two-sample", "paired": "Paired"}[type] + " t test power calculation"
    return PowerResult(method, solved, vals["n"], vals["sig_level"], float(power), alternative,
                       delta=vals["delta"], sd=vals["sd"], note=note, iterations=iters, type=type)


def power_prop_test(n: float | None = None, p1: float | None = None, p2: float | None = None,
                    sig_level: float | None = 0.05, power: float | None = None,
                    alternative: Literal["two.sided", "one.sided"] = "two.sided", strict: bool = False,
                    tol: float = R_TOL) -> PowerResult:
    """Power of the two-sample test of proportions, or the n / p1 / p2 / sig.level for a target power.

    Matches ``stats::power.prop.test`` (normal approximation, ``uniroot`` as R); Fleiss,
    Levin & Paik (2003), ch. 4.  ``n`` is per group.

    Examples
    --------
    >>> round(power_prop_test(n=500, p1=0.10, p2=0.13).power, 6)
    0.317883
    """
    solved = _one_missing({"n": n, "p1": p1, "p2": p2, "power": power, "sig_level": sig_level})
    for v, name in ((p1, "p1"), (p2, "p2"), (sig_level, "sig_level"), (power, "power")):
        _check_prob(v, name)
    tside = 2.0 if alternative == "two.sided" else 1.0
    vals = {"n": n, "p1": p1, "p2": p2, "sig_level": sig_level}

    def body(v: dict) -> float:
        a, b, nn = v["p1"], v["p2"], v["n"]
        qu = stats.norm.isf(v["sig_level"] / tside)
        d = abs(a - b)
        with np.errstate(invalid="ignore"):  # outside [0, 1] R gets NaN too, and uniroot steps back
            s = np.sqrt(a * (1 - a) + b * (1 - b))
            if strict and tside == 2:
                pbar = (a + b) / 2.0
                vbar = pbar * (1.0 - pbar)
                return float(stats.norm.cdf((np.sqrt(nn) * d - qu * np.sqrt(2 * vbar)) / s)
                             + stats.norm.sf((np.sqrt(nn) * d + qu * np.sqrt(2 * vbar)) / s))
            return float(stats.norm.cdf((np.sqrt(nn) * d - qu * np.sqrt((a + b) * (1 - (a + b) / 2))) / s))

    brackets = {"n": (2.0, 1e7, "upX"), "p1": (0.0, p2, "yes"), "p2": (p1, 1.0, "yes"),
                "sig_level": (1e-10, 1 - 1e-10, "upX")}
    power, iters = _solve(body, vals, solved, power, brackets, tol, unit_interval=solved != "n")
    return PowerResult("Two-sample comparison of proportions power calculation", solved, vals["n"],
                       vals["sig_level"], float(power), alternative, p1=vals["p1"], p2=vals["p2"],
                       note="n is number in *each* group", iterations=iters)


def design_effect(cluster_size: float, icc: float) -> float:
    """Kish's design effect ``1 + (m - 1) * ICC`` for equal clusters of size m (Donner & Klar 2000, ch. 5)."""
    if cluster_size < 1:
        raise SpecError(f"cluster_size {cluster_size!r} must be at least 1.", loc="cluster_size",
                        fix="Give the average number of units per cluster.")
    _check_prob(icc, "icc")
    return 1.0 + (cluster_size - 1.0) * icc


@dataclass(frozen=True)
class ClusterDesign:
    """A cluster-randomised design from an individually randomised one via the design effect."""

    design_effect: float
    n_individual: float
    n_per_arm: float
    clusters_per_arm: int
    cluster_size: float
    icc: float
    power: float


def cluster_design(base: PowerResult, cluster_size: float, icc: float) -> ClusterDesign:
    """Inflate a per-arm sample size (from :func:`power_t_test` / :func:`power_prop_test`) for clustering.

    ``n_per_arm = n * DE``; clusters per arm = ceil(n_per_arm / m).  Donner & Klar (2000);
    no single R function (as ``clusterPower`` / ``CRTSize`` with equal cluster sizes).
    """
    de = design_effect(cluster_size, icc)
    n_arm = base.n * de
    return ClusterDesign(de, base.n, n_arm, int(math.ceil(n_arm / cluster_size - 1e-12)), cluster_size, icc,
                         base.power)


def cluster_power(clusters_per_arm: int, cluster_size: float, icc: float, delta: float, sd: float = 1.0,
                  sig_level: float = 0.05,
                  alternative: Literal["two.sided", "one.sided"] = "two.sided") -> PowerResult:
    """Power of a two-arm cluster-randomised comparison of means with equal clusters.

    The effective per-arm size is ``k m / DE`` with ``DE = 1 + (m - 1) ICC``, fed to
    :func:`power_t_test` (Donner & Klar 2000, ch. 5; the t df use the effective n, a
    common approximation -- exact cluster-level df would be ``2(k - 1)``).
    """
    if clusters_per_arm < 2:
        raise SpecError(f"clusters_per_arm = {clusters_per_arm!r}: at least 2 clusters per arm are needed.",
                        loc="clusters_per_arm", fix="Add clusters.")
    n_eff = clusters_per_arm * cluster_size / design_effect(cluster_size, icc)
    return power_t_test(n=n_eff, delta=delta, sd=sd, sig_level=sig_level, alternative=alternative)
