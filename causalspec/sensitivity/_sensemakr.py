"""The sensitivity analysis of one linear estimate: statistics, benchmark bounds, report.

:func:`sensemakr` takes summary statistics (estimate, standard error, residual degrees of
freedom) and benchmark partial R²s, and returns a frozen :class:`SensitivityResult`.  The
numbers match ``sensemakr::sensemakr`` 0.1.6; see :mod:`._ovb` for the formulas.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Iterable, Literal

import numpy as np
from scipy import stats

from causalspec.errors import Problem, SpecError
from causalspec.sensitivity import _ovb
from causalspec.sensitivity._bounds import Benchmark, ovb_partial_r2_bound
from causalspec.sensitivity._reporting import interpretation
from causalspec.sensitivity._reporting import minimal_reporting
import pandas as pd

__all__ = ["BoundRow", "SensitivityResult", "sensemakr", "h0_of"]


@dataclass(frozen=True)
class BoundRow:
    """One row of the bounds table: a hypothetical confounder and the estimate adjusted for it."""

    label: str
    r2dz_x: float
    r2yz_dx: float
    adjusted_estimate: float
    adjusted_se: float
    adjusted_t: float
    adjusted_lower_ci: float
    adjusted_upper_ci: float
    benchmark: str | None = None
    kd: float | None = None
    ky: float | None = None


def h0_of(estimate: float, q: float, reduce: bool) -> float:
    """The value the estimate is moved to: b (1 - q) if ``reduce`` else b (1 + q) (sensemakr's h0)."""
    return estimate * (1.0 - q) if reduce else estimate * (1.0 + q)


@dataclass(frozen=True)
class SensitivityResult:
    """Cinelli–Hazlett sensitivity analysis of one coefficient (numbers only).

    ``t_statistic`` is sensemakr's (estimate - h0) / se; ``r2yd_x``, ``f2yd_x``, ``rv_q``,
    ``rv_qa``, ``xrv_q`` and ``xrv_qa`` use the plain t = estimate / se.  ``bounds`` lists
    manual bounds first, then one row per benchmark and multiplier, as R does.
    """

    treatment: str
    outcome: str
    estimate: float
    se: float
    dof: float
    q: float
    alpha: float
    reduce: bool
    t_statistic: float
    r2yd_x: float
    f2yd_x: float
    rv_q: float
    rv_qa: float
    xrv_q: float
    xrv_qa: float
    bounds: tuple[BoundRow, ...] = ()
    benchmarks: tuple[Benchmark, ...] = ()
    nobs: int | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def h0(self) -> float:
        """The value the question moves the estimate to (0 when q = 1 and reduce)."""
        return h0_of(self.estimate, self.q, self.reduce)

    def bounds_table(self):
        """The bounds as a pandas DataFrame (one row per hypothetical confounder)."""

        columns = ["label", "r2dz_x", "r2yz_dx", "adjusted_estimate", "adjusted_se", "adjusted_t",
                   "adjusted_lower_ci", "adjusted_upper_ci"]
        return pd.DataFrame([{c: getattr(b, c) for c in columns} for b in self.bounds], columns=columns)

    def minimal_reporting(self, format: Literal["latex", "pure_html"] = "latex", digits: int = 3) -> str:
        """Cinelli & Hazlett's minimal sensitivity reporting table (``sensemakr::ovb_minimal_reporting``)."""

        return minimal_reporting(self, format=format, digits=digits)

    def interpretation(self) -> str:
        """Plain-language reading of the robustness values and of each bound."""

        return interpretation(self)

    def to_dict(self) -> dict:
        """JSON-ready dict (tuples become lists)."""
        return asdict(self)


def _benchmarks(benchmarks: Iterable[Benchmark] | None) -> tuple[Benchmark, ...]:
    out = []
    for i, b in enumerate(benchmarks or ()):
        if not isinstance(b, Benchmark):
            raise SpecError(Problem(f"sensitivity.benchmarks[{i}]",
                                    f"expected a Benchmark(name, r2dxj_x, r2yxj_dx), got {type(b).__name__}.",
                                    fix="Build benchmarks with causalspec.sensitivity.Benchmark."))
        out.append(b)
    return tuple(out)


def _row(label, r2dz, r2yz, estimate, se, dof, reduce, h0, crit, benchmark=None, kd=None, ky=None) -> BoundRow:
    est = _ovb.adjusted_estimate(estimate, se, dof, r2dz, r2yz, reduce=reduce)
    s = _ovb.adjusted_se(se, dof, r2dz, r2yz)
    t = _ovb.adjusted_t(estimate, se, dof, r2dz, r2yz, reduce=reduce, h0=h0)
    return BoundRow(label, float(r2dz), float(r2yz), float(est), float(s), float(t),
                    float(est - crit * s), float(est + crit * s), benchmark, kd, ky)


def sensemakr(estimate: float, se: float, dof: float, *, treatment: str = "treatment",
              outcome: str = "outcome", benchmarks: Iterable[Benchmark] | None = None,
              kd=1.0, ky=None, q: float = 1.0, alpha: float = 0.05, reduce: bool = True,
              r2dz_x=None, r2yz_dx=None, bound_label: str = "manual_bound",
              nobs: int | None = None) -> SensitivityResult:
    """Sensitivity analysis of a regression coefficient to omitted variables.

    Matches ``sensemakr::sensemakr`` 0.1.6 (numbers of ``sensitivity_stats`` and ``bounds``);
    Cinelli & Hazlett (2020), JRSS-B 82(1):39-67.

    Parameters
    ----------
    estimate, se, dof : float
        Treatment coefficient, its (classical) standard error and the residual degrees of freedom.
    benchmarks : iterable of Benchmark, optional
        Observed covariates (or groups) whose partial R²s calibrate the confounder.
    kd, ky : float or sequence
        How many times stronger than each benchmark the confounder is with the treatment (kd)
        and with the outcome (ky, default kd).
    q, alpha, reduce
        Fraction of the estimate deemed problematic, significance level, and whether the bias
        is assumed to shrink (True) or grow the estimate.
    r2dz_x, r2yz_dx : float or sequence, optional
        Manual confounder strengths to add as bounds (``r2yz_dx`` defaults to ``r2dz_x``).

    Examples
    --------
    >>> res = sensemakr(0.0973158, 0.0232565, 783, treatment="directlyharmed",
    ...                 benchmarks=[Benchmark("female", 0.0090811, 0.1090339)], kd=[1, 2, 3])
    >>> round(res.rv_q, 3), [b.label for b in res.bounds]
    (0.139, ['1x female', '2x female', '3x female'])
    """
    estimate = _ovb._check_estimate(estimate)
    se = _ovb._check_se(se)
    dof = _ovb._check_dof(dof, minimum=1.0)
    q = _ovb.check_q(q)
    alpha = _ovb.check_alpha(alpha)
    if se == 0:
        raise SpecError(Problem("sensitivity.se", "the standard error is 0, so t-values are undefined.",
                                fix="Check the regression: a zero standard error means a perfect fit."))
    reduce = bool(reduce)
    h0 = h0_of(estimate, q, reduce)
    t_plain = estimate / se
    crit = stats.t.ppf(1.0 - alpha / 2.0, dof)  # the bounds' CI uses dof, not dof - 1 (sensemakr)

    rows: list[BoundRow] = []
    if r2dz_x is not None:
        r2dz = np.atleast_1d(_ovb.floats(r2dz_x, "r2dz_x"))
        r2yz = r2dz if r2yz_dx is None else np.atleast_1d(_ovb.floats(r2yz_dx, "r2yz_dx"))
        r2dz, r2yz = np.broadcast_arrays(_ovb._check_r2(r2dz, "r2dz_x"), _ovb._check_r2(r2yz, "r2yz_dx"))
        rows += [_row(bound_label, a, b, estimate, se, dof, reduce, h0, crit) for a, b in zip(r2dz, r2yz)]
    bench = _benchmarks(benchmarks)
    for b in bench:
        for bound in ovb_partial_r2_bound(b, kd, ky):
            rows.append(_row(bound.label, bound.r2dz_x, bound.r2yz_dx, estimate, se, dof, reduce, h0, crit,
                             benchmark=b.name, kd=bound.kd, ky=bound.ky))

    return SensitivityResult(
        treatment=treatment, outcome=outcome, estimate=estimate, se=se, dof=dof, q=q, alpha=alpha,
        reduce=reduce, t_statistic=(estimate - h0) / se,
        r2yd_x=_ovb.partial_r2(t_plain, dof), f2yd_x=_ovb.partial_f2(t_plain, dof),
        rv_q=_ovb.robustness_value(t_plain, dof, q=q, alpha=1.0),
        rv_qa=_ovb.robustness_value(t_plain, dof, q=q, alpha=alpha),
        xrv_q=_ovb.extreme_robustness_value(t_plain, dof, q=q, alpha=1.0),
        xrv_qa=_ovb.extreme_robustness_value(t_plain, dof, q=q, alpha=alpha),
        bounds=tuple(rows), benchmarks=bench, nobs=nobs,
    )
