"""Sensitivity of an IV estimate to the exclusion restriction: Conley, Hansen & Rossi (2012), "Plausibly
exogenous", Review of Economics and Statistics 94(1), the union-of-confidence-intervals (UCI) method.

The structural equation is ``y = x beta + Z_excl gamma + W delta + u`` with ``Z_excl`` the m excluded
instruments; exclusion says gamma = 0.  For a vector ``gamma`` of direct effects, beta is estimated by 2SLS of
``y - Z_excl gamma`` with the same estimator and the same variance as the design's main estimate:

* without fixed effects, ``AER::ivreg`` with ``vcov(ivreg)`` or ``sandwich::vcovHC`` (iid, HC0-HC3; HC2/HC3 with
  AER's ``hatvalues.ivreg``), or fixest's feols IV with its clustered variance (CR1);
* with fixed effects, ``fixest::feols(y - Z gamma ~ W | fe | x ~ Z_excl)`` (:func:`iv2sls`) with fixest's iid,
  heteroskedasticity-robust or clustered (CR1, one or more ways) variance, as the IV design computes it;
* with the design's observation weights when the spec names ``weights`` (``AER::ivreg(weights = w)``,
  ``fixest::feols(weights = ~w)``): weighted 2SLS is 2SLS on rows scaled by sqrt(w).

``sensitivity.exclusion_bound`` = b bounds every instrument's direct effect: ``|gamma_j| <= b`` for each j (in
outcome units per unit of that instrument).  The UCI is the union of the intervals over that box.  With one
instrument it is evaluated on ``grid`` = 41 equally spaced values of gamma in [-b, b]; with m instruments on the
product of per-instrument grids of g points each, g the largest odd number <= 41 with g**m <= 2000 (41 x 41 for
two instruments, 11**3 for three, 5**4, 3**5 and 3**6; for seven or more only the 2**m corners), so the budget is
at most 2000 points and the corners are always included.  The 2SLS point estimate is linear in gamma, so its
extremes are at corners; the standard error varies with gamma too.  For the iid, HC and one-way clustered variances
the standard error is the norm of a vector affine in gamma (a convex function), so the upper end of the interval
is convex and the lower end concave in gamma and both extremes are at corners as well; with multi-way clustering
(inclusion-exclusion, and fixest's eigenvalue fix) that need not hold, which is why a grid is evaluated rather
than only the corners.

The breakdown value is the smallest common bound b whose UCI contains zero: how large a direct effect of each
instrument would have to be for the conclusion to change.  It is found by bisection on b, each step evaluating
the box on a coarser grid (11 points for one instrument, 3 per instrument -- corners, edge midpoints and the
centre -- for up to six, the corners beyond that).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import product
from typing import Any, Iterator

import numpy as np
import pandas as pd

from causalspec._values import NotComputed
from causalspec.errors import CausalSpecError
from causalspec.estimators._iv import iv2sls, ivreg, ivreg_leverage_vcov, ivreg_vcov
from causalspec.inference._fixest import coeftable, fixest_vcov

__all__ = ["ExclusionSensitivity", "ExclusionInputs", "ExclusionVariance", "plausibly_exogenous", "GRID_BUDGET",
           "grid_points"]

GRID_BUDGET = 2000  # most gamma points evaluated for the reported UCI (the 2**m corners always are)
MAX_INSTRUMENTS = 12  # beyond this even the corners (2**m refits per bisection step) are too many


@dataclass(frozen=True, eq=False)
class ExclusionVariance:
    """How the design computed its main estimate, so that each gamma is refitted the same way.

    ``fixest`` False: ``AER::ivreg`` with ``kind`` one of iid, HC0, HC1, HC2, HC3 (sandwich's names).  ``fixest``
    True: fixest's feols IV (:func:`causalspec.estimators._iv.iv2sls`) with the ``fixed_effects`` id columns (or
    none) and fixest's ``kind`` iid, hetero or cluster (``cluster``: the id columns, aligned with ``y``).
    ``weights``: the observation weights of the main fit (aligned with ``y``, all > 0), or None; every refit is
    then weighted as the main one (``AER::ivreg(weights = w)``, ``fixest::feols(weights = ~w)``).
    """

    kind: str
    fixest: bool = False
    fixed_effects: pd.DataFrame | None = None
    cluster: pd.DataFrame | None = None
    weights: np.ndarray | None = None

    @property
    def label(self) -> str:
        if not self.fixest:
            wt = "(weights = w)" if self.weights is not None else ""
            return f"AER::ivreg{wt}" + (f' with sandwich::vcovHC(type = "{self.kind}")' if self.kind != "iid" else "")
        fe = (" | " + " + ".join(map(str, self.fixed_effects.columns))) if self.fixed_effects is not None else ""
        cl = (f" ~{' + '.join(map(str, self.cluster.columns))}" if self.kind == "cluster" and self.cluster is not None
              else f' "{self.kind}"')
        wt = ", weights = ~w" if self.weights is not None else ""
        return f"fixest::feols(y - Z gamma ~ W{fe} | x ~ Z{wt}), vcov ={cl}"


@dataclass(frozen=True, eq=False)
class ExclusionInputs:
    """What the IV fit hands to the sensitivity step (plain arrays and frames, so a Result pickles).

    ``X`` = [exogenous, treatment] named ``names``; ``Zm`` = [exogenous, excluded instruments] named ``znames``
    (the excluded instruments are the columns of ``Zm`` not in ``names``, AER's convention); ``z`` the excluded
    instruments' values, 1-D for one instrument, (n, m) for several; ``instrument`` their names joined by ", ";
    ``term`` the treatment; ``vcov`` an :class:`ExclusionVariance` (or an AER kind as a string).  Iterating gives
    the nine fields in that order, so ``y, X, names, Zm, znames, z, instrument, term, kind = inputs`` works.
    """

    y: np.ndarray
    X: np.ndarray
    names: tuple[str, ...]
    Zm: np.ndarray
    znames: tuple[str, ...]
    z: np.ndarray
    instrument: str
    term: str
    vcov: Any

    def __iter__(self) -> Iterator[Any]:
        return iter((self.y, self.X, self.names, self.Zm, self.znames, self.z, self.instrument, self.term,
                     self.vcov))

    @property
    def instruments(self) -> tuple[str, ...]:
        return tuple(n for n in self.znames if n not in self.names)


@dataclass(frozen=True)
class ExclusionSensitivity:
    """The UCI for a stated bound on each instrument's direct effect (or None), and the breakdown bound."""

    instrument: str  # the excluded instruments' names joined by ", "
    bound: float | None
    uci_low: float | None
    uci_high: float | None
    breakdown: float | None  # smallest common |gamma_j| bound whose UCI contains 0 (None: none up to the limit)
    level: float
    notes: tuple[str, ...] = field(default=())
    instruments: tuple[str, ...] = field(default=())
    grid: tuple[int, ...] = field(default=())  # points per instrument of the reported UCI's grid
    estimator: str = ""

    def _names(self) -> tuple[str, ...]:
        return self.instruments or (self.instrument,)

    def summary_lines(self) -> list[str]:
        lines = []
        several = len(self._names()) > 1
        who = f"each of {self.instrument}" if several else self.instrument
        if self.breakdown is not None:
            lines.append(f"Exclusion restriction (Conley, Hansen & Rossi 2012): a direct effect of {who} "
                         f"on the outcome of {self.breakdown:.4g} per unit (either sign"
                         + (", bounding every instrument at once" if several else "") + ") would make the "
                         f"{self.level:.0%} union of confidence intervals include zero.")
        if self.bound is not None:
            what = "each instrument's direct effect" if several else "the direct effect"
            lines.append(f"With {what} bounded by {self.bound:g}: {self.level:.0%} UCI {self.uci_low:.4g} "
                         f"to {self.uci_high:.4g}.")
        return lines + [f"Note: {n}" for n in self.notes]

    def to_dict(self) -> dict[str, Any]:
        return {"computed": True, "method": "Conley, Hansen & Rossi (2012) union of confidence intervals",
                "instrument": self.instrument, "bound": self.bound, "uci": [self.uci_low, self.uci_high]
                if self.bound is not None else None, "breakdown": self.breakdown, "level": self.level,
                "notes": list(self.notes), "instruments": list(self._names()),
                "bound_applies_to": "each instrument" if len(self._names()) > 1 else "the instrument",
                "grid": list(self.grid), "estimator": self.estimator}


def _variance(vcov) -> ExclusionVariance:
    return vcov if isinstance(vcov, ExclusionVariance) else ExclusionVariance(str(vcov))


def _interval(y, X, names, Zm, znames, z, gamma, term, vcov, level) -> tuple[float, float]:
    """The design's interval for the treatment from 2SLS of ``y - z gamma`` (gamma a number or an m-vector)."""
    g = np.atleast_1d(np.asarray(gamma, dtype=float))
    yg = y - (g[0] * z if z.ndim == 1 else z @ g)
    vc = _variance(vcov)
    if not vc.fixest:
        aer = ivreg(yg, X, names, Zm, znames, weights=vc.weights)
        fit = aer.fit
        V = ivreg_leverage_vcov(aer, vc.kind) if vc.kind in ("HC2", "HC3") else ivreg_vcov(fit, vc.kind)
        name = term
    else:
        names, znames = list(names), list(znames)
        exog = [i for i, n in enumerate(names) if n in znames]
        endog = [i for i, n in enumerate(names) if n not in znames]
        excl = [j for j, n in enumerate(znames) if n not in names]
        iv = iv2sls(yg, X[:, exog], [names[i] for i in exog], X[:, endog], [names[i] for i in endog], Zm[:, excl],
                    [znames[j] for j in excl], vc.fixed_effects, weights=vc.weights)
        fit = iv.second
        V = fixest_vcov(fit, vc.kind, vc.cluster)
        name = f"fit_{term}"
    row = coeftable(fit, V, level).set_index("term").loc[name]
    return float(row["conf_low"]), float(row["conf_high"])


def grid_points(m: int, grid: int = 41, budget: int = GRID_BUDGET) -> int:
    """Points per instrument: ``grid`` if ``grid**m`` fits the budget, else the largest odd g >= 3 that does,
    else 2 (the corners only)."""
    if grid ** m <= budget:
        return grid
    g = grid - 1 if grid % 2 == 0 else grid
    while g >= 3 and g ** m > budget:
        g -= 2
    return max(g, 2)


def _box(bound: float, m: int, points: int) -> list:
    axis = np.linspace(-bound, bound, points)
    return list(axis) if m == 1 else [np.array(p) for p in product(axis, repeat=m)]


def _uci(args, bound: float, grid: int, budget: int = GRID_BUDGET) -> tuple[float, float]:
    """min/max of the interval ends over the box ``|gamma_j| <= bound`` (``grid`` points per instrument, reduced
    to fit ``budget`` with several instruments).  ``args`` = (y, X, names, Zm, znames, z, term, vcov, level)."""
    z = args[5]
    m = 1 if z.ndim == 1 else z.shape[1]
    ends = [_interval(*args[:6], g, *args[6:]) for g in _box(bound, m, grid_points(m, grid, budget))]
    return min(lo for lo, _ in ends), max(hi for _, hi in ends)


def _scale(y, Zm, znames, instruments, weights=None) -> float:
    """The scale of a direct effect that matters: the largest (weighted) reduced-form coefficient of an
    instrument; it only starts the bisection."""
    Zr = Zm if "(Intercept)" in znames else np.column_stack([np.ones(len(y)), Zm])
    offset = 0 if "(Intercept)" in znames else 1
    root = np.ones(len(y)) if weights is None else np.sqrt(weights)
    coef = np.linalg.lstsq(Zr * root[:, None], y * root, rcond=None)[0]
    return max(abs(float(coef[offset + list(znames).index(i)])) for i in instruments)


def plausibly_exogenous(y, X, names, Zm, znames, z, instrument: str, term: str, *, vcov: Any = "iid",
                        level: float = 0.95, bound: float | None = None, grid: int = 41, search: int = 40,
                        budget: int = GRID_BUDGET) -> ExclusionSensitivity | NotComputed:
    """The UCI for ``|gamma_j| <= bound`` for every instrument j and the breakdown bound (bisection on the
    common bound, ``search`` steps).  ``vcov`` is an :class:`ExclusionVariance` or an AER kind (iid, HC0-HC3).
    A failure of the refits is reported as :class:`NotComputed`, never raised past the main estimate."""
    y = np.asarray(y, dtype=float)
    z = np.asarray(z, dtype=float)
    instruments = tuple(n for n in znames if n not in names)
    m = 1 if z.ndim == 1 else z.shape[1]
    if len(instruments) != m:
        raise ValueError(f"z has {m} column(s) but Zm has {len(instruments)} excluded instrument(s)")
    if m > MAX_INSTRUMENTS:
        return NotComputed(f"the exclusion-restriction sensitivity evaluates the 2**m corners of the box of direct "
                           f"effects, too many with {m} instruments (at most {MAX_INSTRUMENTS})")
    vc = _variance(vcov)
    try:
        return _compute(y, X, names, Zm, znames, z, instrument, term, vc, level, bound, grid, search, budget,
                        instruments)
    except CausalSpecError as exc:
        return NotComputed(f"the exclusion-restriction sensitivity could not refit 2SLS of y - Z gamma: {exc}")


def _compute(y, X, names, Zm, znames, z, instrument, term, vc, level, bound, grid, search, budget, instruments):
    m = len(instruments)
    args = (y, X, names, Zm, znames, z, term, vc, level)
    lo0, hi0 = _interval(*args[:6], 0.0 if m == 1 else np.zeros(m), *args[6:])
    uci = _uci(args, bound, grid, budget) if bound is not None else (None, None)
    breakdown = 0.0 if lo0 <= 0 <= hi0 else None
    notes: list[str] = []
    points = grid_points(m, grid, budget)
    if m > 1:
        notes.append(f"the bound applies to each of the {m} instruments at once (the box |gamma_j| <= bound); "
                     f"the UCI is evaluated on a {' x '.join([str(points)] * m)} grid over it, corners included")
        if 2 ** m > budget:
            notes.append(f"{m} instruments: the {2 ** m} corners exceed the {budget}-point budget and are all "
                         "evaluated")
    if vc.fixest or vc.weights is not None:
        notes.append(f"each direct effect is refitted as the main estimate: {vc.label}")
    if breakdown is None:
        high = max(_scale(y, Zm, znames, instruments, vc.weights), 1e-12) * 4
        coarse = 11 if m == 1 else 3

        def covers_zero(b: float) -> bool:
            u = _uci(args, b, coarse, budget)
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
        notes.insert(0, f"breakdown found by bisection to a relative width {(high - low) / high:.1e}")
    return ExclusionSensitivity(instrument, bound, *uci, breakdown, level, tuple(notes), instruments,
                                (points,) * m if bound is not None else (), vc.label)
