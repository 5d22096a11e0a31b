"""Bounds on the strength of confounding from observed benchmark covariates.

"A confounder ``kd`` times as strong as covariate X_j in explaining the treatment and
``ky`` times as strong in explaining the outcome" is turned into the pair
(R²_{D~Z|X}, R²_{Y~Z|D,X}) by Cinelli & Hazlett (2020), Section 6.1 and footnote 10, as
``sensemakr::ovb_partial_r2_bound`` does.  A group of covariates is benchmarked through its
joint partial R² (:func:`group_partial_r2`), exactly like a single covariate.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from causalspec.errors import Problem, SpecError
from causalspec.sensitivity._ovb import floats

__all__ = ["Benchmark", "PartialR2Bound", "ovb_partial_r2_bound", "bound_label", "multipliers"]


@dataclass(frozen=True)
class Benchmark:
    """An observed covariate (or group of covariates) used to calibrate confounding.

    Parameters
    ----------
    name : str
        Label used in bound names (``"female"``, ``"female+pastvoted"``).
    r2dxj_x : float
        Partial R² of the benchmark with the treatment, given the other covariates.
    r2yxj_dx : float
        Partial R² of the benchmark with the outcome, given the treatment and the other covariates.
    covariates : tuple of str
        The model columns that make up the benchmark (one for a single covariate).
    """

    name: str
    r2dxj_x: float
    r2yxj_dx: float
    covariates: tuple[str, ...] = ()


@dataclass(frozen=True)
class PartialR2Bound:
    """Implied confounder strength for one benchmark and one (kd, ky) pair."""

    label: str
    benchmark: str
    kd: float
    ky: float
    r2dz_x: float
    r2yz_dx: float


def _r_number(x: float) -> str:
    # R's paste() of round(x, 2): 15 significant digits, no trailing zeros ("1", "1.5", "0.33").
    return f"{round(float(x), 2):.15g}"


def bound_label(benchmark: str, kd: float, ky: float) -> str:
    """sensemakr's bound label: ``"2x female"`` when kd == ky, else ``"1/2x female"``."""
    text = _r_number(ky) if kd == ky else f"{_r_number(kd)}/{_r_number(ky)}"
    return f"{text}x {benchmark}"


def multipliers(kd, ky=None) -> tuple[np.ndarray, np.ndarray]:
    """Validate and align the multipliers ``kd`` and ``ky`` (``ky`` defaults to ``kd``)."""
    kd_arr = np.atleast_1d(floats(kd, "kd"))
    ky_arr = kd_arr.copy() if ky is None else np.atleast_1d(floats(ky, "ky"))
    for name, arr in (("kd", kd_arr), ("ky", ky_arr)):
        if arr.size == 0 or np.isnan(arr).any() or (arr < 0).any():
            raise SpecError(Problem(f"sensitivity.{name}",
                                    f"{name} must be non-negative multipliers, got {arr.tolist()}.",
                                    fix=f"Use e.g. {name} = [1, 2, 3] for confounders 1-3x as strong as the benchmark."))
    if kd_arr.size != ky_arr.size:
        if kd_arr.size == 1:
            kd_arr = np.repeat(kd_arr, ky_arr.size)
        elif ky_arr.size == 1:
            ky_arr = np.repeat(ky_arr, kd_arr.size)
        else:
            raise SpecError(Problem("sensitivity.ky",
                                    f"kd has {kd_arr.size} values but ky has {ky_arr.size}.",
                                    fix="Give ky as many values as kd (or a single value)."))
    return kd_arr, ky_arr


def ovb_partial_r2_bound(benchmark: Benchmark, kd=1.0, ky=None) -> tuple[PartialR2Bound, ...]:
    """Bounds on (R²_{D~Z|X}, R²_{Y~Z|D,X}) for confounders ``kd``/``ky`` times as strong as a benchmark.

    Matches ``sensemakr::ovb_partial_r2_bound`` (numeric method, 0.1.6): an impossible ``kd``
    is an error and an implied R²_{Y~Z|D,X} above 1 is set to 1 with a warning.
    Cinelli & Hazlett (2020), Section 6.1 and footnote 10.

    Examples
    --------
    >>> b = ovb_partial_r2_bound(Benchmark("female", 0.00908106519, 0.10903391543), kd=[1, 2])
    >>> [x.label for x in b]
    ['1x female', '2x female']
    """
    kd_arr, ky_arr = multipliers(kd, ky)
    r2d = float(floats(benchmark.r2dxj_x, f"benchmarks[{benchmark.name!r}].r2dxj_x"))
    r2y = float(floats(benchmark.r2yxj_dx, f"benchmarks[{benchmark.name!r}].r2yxj_dx"))
    for name, value in (("r2dxj_x", r2d), ("r2yxj_dx", r2y)):
        if not (0.0 <= value < 1.0):
            raise SpecError(Problem(f"sensitivity.benchmarks[{benchmark.name!r}].{name}",
                                    f"the benchmark's partial R² must lie in [0, 1), got {value!r}.",
                                    fix="Check the benchmark covariate: it should not perfectly explain the "
                                        "treatment or the outcome."))
    r2dz = kd_arr * r2d / (1.0 - r2d)
    if (r2dz >= 1).any():
        raise SpecError(Problem("sensitivity.kd",
                                f"kd = {kd_arr[r2dz >= 1].tolist()} times {benchmark.name!r} implies "
                                "R²_{D~Z|X} >= 1, which is impossible.",
                                fix="Use a smaller kd."))
    with np.errstate(divide="ignore", invalid="ignore"):
        # Footnote 10: partial R² of Z with X_j given X_{-j} and D, implied by the kd assumption.
        r2zxj = kd_arr * r2d ** 2 / ((1.0 - kd_arr * r2d) * (1.0 - r2d))
    if (r2zxj >= 1).any() or (r2zxj < 0).any():
        raise SpecError(Problem("sensitivity.kd",
                                f"kd = {kd_arr.tolist()} times {benchmark.name!r} is impossible "
                                "(the implied partial R² of the confounder with the benchmark reaches 1).",
                                fix="Use a smaller kd."))
    r2yz = ((np.sqrt(ky_arr) + np.sqrt(r2zxj)) / np.sqrt(1.0 - r2zxj)) ** 2 * (r2y / (1.0 - r2y))
    if (r2yz > 1).any():
        warnings.warn(f"Implied bound on R²_{{Y~Z|D,X}} for {benchmark.name!r} is greater than 1; "
                      "it is set to 1. Try a lower kd and/or ky.", UserWarning, stacklevel=2)
        r2yz = np.minimum(r2yz, 1.0)
    return tuple(
        PartialR2Bound(bound_label(benchmark.name, float(a), float(b)), benchmark.name,
                       float(a), float(b), float(x), float(y))
        for a, b, x, y in zip(kd_arr, ky_arr, r2dz, r2yz)
    )
