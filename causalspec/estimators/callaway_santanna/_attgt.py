"""Group-time average treatment effects ATT(g,t) for staggered adoption (panel data).

``att_gt`` matches ``did::att_gt`` (did 2.5.1) with ``panel = TRUE``: each
(g, t) cell is a 2x2 DiD of group g against the never-treated or the
not-yet-treated units between period t and its base period, estimated by a
DRDID panel estimator, with analytical standard errors from the stacked
influence functions (clustered by unit) and the Wald pre-test of parallel trends.
The variance is ``influence' influence / n**2`` (divided by n, not n - 1): Stata's csdid 1.0+ / drdid 1.36+
compute the same from their centred RIFs, so there is no second convention to offer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from causalspec.errors import Problem, SpecError
from causalspec.estimators.callaway_santanna._drdid import Cell2x2, CellFailure, drdid_panel, fit_logit, reg_did_panel, std_ipw_did_panel, _rcond
from causalspec.estimators.callaway_santanna._mboot import multiplier_bootstrap
from causalspec.estimators.callaway_santanna._panel import PanelData, prepare_panel

__all__ = ["AttGtResult", "att_gt"]

_EPS = np.finfo(float).eps
_SE_ZERO = math.sqrt(_EPS) * 10  # did reports standard errors at or below this as NA
_CONTROL_GROUPS = ("nevertreated", "notyettreated")
_EST_METHODS = ("dr", "ipw", "reg")
_BASE_PERIODS = ("varying", "universal")


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.array(a)
    a.setflags(write=False)
    return a


@dataclass(frozen=True)
class AttGtResult:
    """Group-time ATTs with their influence functions (immutable).

    Attributes
    ----------
    group, time : numpy.ndarray
        The cohort g and the period t of each ATT(g,t), in did's order (g-major).
    att, se : numpy.ndarray
        Estimates and analytical (or bootstrap) standard errors; NaN where did reports NA.
    influence : numpy.ndarray
        Units x cells influence functions; ``se = sqrt(mean(influence**2, 0) / n_units)``.
    vcov : numpy.ndarray
        Analytical covariance of the ATT(g,t) estimates, ``influence' influence / n_units**2``.
    crit_val : float
        Critical value of the bands: qnorm(1 - alp/2), or the bootstrap sup-t value with ``cband``.
    n_units : int
        Units in the balanced panel.
    pretest_W, pretest_Wpval : float or None
        did's Wald pre-test of parallel trends (p-value rounded to 5 decimals, as did does).
    pretest_note : str
        Why the pre-test is missing when it is.
    """

    group: np.ndarray
    time: np.ndarray
    att: np.ndarray
    se: np.ndarray
    influence: np.ndarray
    vcov: np.ndarray
    crit_val: float
    n_units: int
    alp: float
    pretest_W: float | None
    pretest_Wpval: float | None
    pretest_note: str
    ids: np.ndarray
    unit_group: np.ndarray
    periods: np.ndarray
    groups: np.ndarray
    yname: str
    tname: str
    idname: str
    gname: str
    xformla: str | None
    control_group: str
    est_method: str
    anticipation: float
    base_period: str
    bootstrap: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)
    pretest_df: int | None = None  # the pre-test's chi-square degrees of freedom
    # Rows of ``influence`` that stand for several units (an engine's cohort moments: see
    # causalspec.engines._cs): each row's unit count; None when every row is one unit.
    unit_weights: np.ndarray | None = None

    @property
    def post(self) -> np.ndarray:
        """True for post-treatment cells (g <= t)."""
        return self.group <= self.time

    def conf_int(self) -> np.ndarray:
        """Pointwise (or uniform, with a bootstrap band) limits, cells x 2."""
        half = self.crit_val * self.se
        return np.column_stack([self.att - half, self.att + half])

    def to_frame(self) -> pd.DataFrame:
        """One row per ATT(g,t): group, time, att, se, conf_low, conf_high, post."""
        ci = self.conf_int()
        return pd.DataFrame({"group": self.group, "time": self.time, "att": self.att, "se": self.se,
                             "conf_low": ci[:, 0], "conf_high": ci[:, 1], "post": self.post})


def _check_options(control_group, est_method, base_period, anticipation, alp, bstrap, cband, rng) -> None:
    problems = []
    if control_group not in _CONTROL_GROUPS:
        problems.append(Problem("control_group", f"{control_group!r} is not a control group.",
                                fix="Use 'nevertreated' or 'notyettreated'."))
    if est_method not in _EST_METHODS:
        problems.append(Problem("est_method", f"{est_method!r} is not an estimation method.",
                                fix="Use 'dr' (doubly robust), 'ipw' or 'reg'."))
    if base_period not in _BASE_PERIODS:
        problems.append(Problem("base_period", f"{base_period!r} is not a base period.",
                                fix="Use 'varying' (did's default) or 'universal'."))
    if not isinstance(anticipation, (int, float)) or isinstance(anticipation, bool) or not anticipation >= 0:
        problems.append(Problem("anticipation", f"anticipation must be a number >= 0, got {anticipation!r}.",
                                fix="Set anticipation to the number of periods units anticipate treatment (0 if none)."))
    if not isinstance(alp, (int, float)) or not 0 < alp < 1:
        problems.append(Problem("alp", f"alp must lie strictly between 0 and 1, got {alp!r}.",
                                fix="Use a significance level such as 0.05."))
    if cband and not bstrap:
        problems.append(Problem("cband", "a uniform confidence band needs the multiplier bootstrap.",
                                fix="Set bstrap=True (with a seeded rng) or cband=False."))
    if bstrap and not isinstance(rng, np.random.Generator):
        problems.append(Problem("rng", "the multiplier bootstrap needs a seeded numpy.random.Generator.",
                                fix="Pass rng=numpy.random.default_rng(seed)."))
    if problems:
        raise SpecError(problems)


def _estimate_cell(panel: PanelData, d_all: np.ndarray, cur: int, pret: int, xidx: int,
                   est_method: str) -> tuple[float, np.ndarray | None, str]:
    """One ATT(g,t) and its unit influence function (zeros outside the cell); NaN when did gives NA."""
    n = panel.n
    valid = ~np.isnan(d_all)
    d = d_all[valid]
    n1 = int(valid.sum())
    x = panel.x[xidx][valid] if panel.x is not None else np.ones((n1, 1))
    cell = Cell2x2(panel.y[valid, cur], panel.y[valid, pret], d, x)
    try:
        # did's pre-checks: near-perfect prediction of treatment, or too few comparison units.  The check's logit
        # is the estimator's (the cell's weights are one), so it is fitted once per cell.
        logit = None
        if est_method in ("dr", "ipw"):
            logit = fit_logit(cell.x, d, cell.w)
            if logit[1].max() >= 0.999:
                return math.nan, None, "overlap condition violated"
        if est_method in ("dr", "reg"):
            xc = x[d == 0]
            if _rcond(xc.T @ xc) < _EPS:
                return math.nan, None, "not enough comparison units to run the outcome regression"
        if est_method == "dr":
            att, psi = drdid_panel(cell, logit=logit)
        elif est_method == "ipw":
            att, psi = std_ipw_did_panel(cell, logit=logit)
        else:
            att, psi = reg_did_panel(cell)
    except (CellFailure, np.linalg.LinAlgError, ValueError) as exc:
        return math.nan, None, str(exc)
    if not math.isfinite(att):
        return math.nan, None, "the 2x2 estimate is not finite"
    inf = np.zeros(n)
    # did rescales by n/n1 because the cell uses only the units of g and its comparison group.
    inf[valid] = (n / n1) * psi
    return att, inf, ""


def _all_cells(panel: PanelData, control_group: str, est_method: str, anticipation: float, base_period: str,
               notes: list[str]) -> tuple[list, list, list, list]:
    """Every ATT(g,t) in did's order (cohort-major), with its unit influence function (NaN when NA)."""
    periods, g_unit, n = panel.periods, panel.unit_group, panel.n
    tfac = 0 if base_period == "universal" else 1
    cells_g, cells_t, atts, infs = [], [], [], []
    for g in panel.groups:
        before = np.flatnonzero(periods + anticipation < g)
        pret_g = int(before[-1]) if before.size else None  # last period before (anticipated) treatment
        treated = g_unit == g
        for t in range(periods.size - tfac):
            cur = t + tfac
            # Post-treatment cells (and all cells with a universal base) compare with g - 1 - anticipation;
            # pre-treatment cells with a varying base compare with the period just before.
            pret = pret_g if (base_period == "universal" or g <= periods[cur]) else t
            cells_g.append(g)
            cells_t.append(periods[cur])
            if pret is None:
                atts.append(math.nan)
                infs.append(np.full(n, np.nan))
                continue
            if base_period == "universal" and pret == cur:
                # The base period itself: ATT normalised to zero by construction.
                atts.append(0.0)
                infs.append(np.zeros(n))
                continue
            if control_group == "nevertreated":
                control = np.isinf(g_unit)
            else:
                # Not yet treated by the later of the two periods (plus anticipation), never treated included.
                control = (g_unit > periods[max(t, pret) + tfac] + anticipation) & ~treated
            if not treated.any() or not control.any():
                atts.append(math.nan)
                infs.append(np.full(n, np.nan))
                notes.append(f"ATT({g:g},{periods[cur]:g}) is NA: no treated or no comparison units.")
                continue
            d_all = np.full(n, np.nan)
            d_all[control] = 0.0
            d_all[treated] = 1.0
            # Covariates come from the earlier of the two periods (the base period unless t precedes it).
            att, inf, why = _estimate_cell(panel, d_all, cur, pret, min(pret, t), est_method)
            if inf is None:
                inf = np.full(n, np.nan)
                notes.append(f"ATT({g:g},{periods[cur]:g}) is NA: {why}.")
            atts.append(att)
            infs.append(inf)
    return cells_g, cells_t, atts, infs


def att_gt(data: pd.DataFrame, yname: str, tname: str, idname: str, gname: str, xformla: str | None = None,
           control_group: str = "nevertreated", est_method: str = "dr", anticipation: float = 0,
           base_period: str = "varying", alp: float = 0.05, *, balance_panel: bool = False,
           bstrap: bool = False, cband: bool = False, biters: int = 1000,
           rng: np.random.Generator | None = None, boot_weights: str = "mammen") -> AttGtResult:
    """Callaway & Sant'Anna group-time average treatment effects on panel data.

    Matches did::att_gt (did 2.5.1, DRDID 1.2.3) with panel = TRUE, bstrap = FALSE, cband = FALSE.
    Callaway & Sant'Anna (2021), "Difference-in-differences with multiple time periods", J. Econometrics 225(2).

    Parameters
    ----------
    data : pandas.DataFrame
        Long panel: one row per unit and period.
    yname, tname, idname, gname : str
        Outcome, time period, unit id, and first-treatment period (0 = never treated) columns.
    xformla : str, optional
        One-sided covariate formula such as ``"~ lpop"``; covariates are taken in the base period.
    control_group : {"nevertreated", "notyettreated"}
    est_method : {"dr", "ipw", "reg"}
        DRDID's doubly robust, normalised IPW, or outcome-regression 2x2 estimator.
    anticipation : float
        Periods of treatment anticipation.
    base_period : {"varying", "universal"}
    alp : float
        Significance level.
    balance_panel : bool
        Drop units not observed in every period (did does this silently); otherwise refuse them.
    bstrap, cband, biters, rng, boot_weights
        Optional multiplier bootstrap (standard errors, and a uniform band with ``cband``);
        ``rng`` must be a seeded ``numpy.random.Generator``.

    Returns
    -------
    AttGtResult

    Examples
    --------
    >>> res = att_gt(mpdta, "lemp", "year", "countyreal", "first.treat", xformla="~ lpop")  # doctest: +SKIP
    >>> res.to_frame().head()  # doctest: +SKIP
    """
    _check_options(control_group, est_method, base_period, anticipation, alp, bstrap, cband, rng)
    panel = prepare_panel(data, yname, tname, idname, gname, xformla, control_group, float(anticipation),
                          balance_panel=balance_panel)
    notes = list(panel.notes)
    cells_g, cells_t, atts, infs = _all_cells(panel, control_group, est_method, float(anticipation),
                                              base_period, notes)
    n = panel.n
    group = np.asarray(cells_g, dtype=float)
    time = np.asarray(cells_t, dtype=float)
    att = np.asarray(atts, dtype=float)
    influence = np.column_stack(infs)
    V = influence.T @ influence / n  # did's V_analytical
    se = np.sqrt(np.diag(V) / n)
    se[~(se > _SE_ZERO)] = np.nan
    zero_na = np.isnan(se)

    crit = float(stats.norm.ppf(1 - alp / 2))
    if bstrap:
        boot = multiplier_bootstrap(influence, rng, biters=biters, weights=boot_weights, alp=alp)
        se = np.where(zero_na, se, boot.se)
        se[~(se > _SE_ZERO)] = np.nan
        if cband:
            crit = boot.crit_val

    W, Wpval, why, W_df = _pretest(group, time, att, V, zero_na, n)
    return AttGtResult(
        group=_frozen(group), time=_frozen(time), att=_frozen(att), se=_frozen(se),
        influence=_frozen(influence), vcov=_frozen(V / n), crit_val=crit, n_units=n, alp=float(alp),
        pretest_W=W, pretest_Wpval=Wpval, pretest_note=why, pretest_df=W_df, ids=_frozen(panel.ids),
        unit_group=_frozen(panel.unit_group), periods=_frozen(panel.periods), groups=_frozen(panel.groups),
        yname=yname, tname=tname, idname=idname, gname=gname, xformla=xformla, control_group=control_group,
        est_method=est_method, anticipation=float(anticipation), base_period=base_period,
        bootstrap=bool(bstrap), notes=tuple(notes))


def _pretest(group, time, att, V, zero_na, n) -> tuple[float | None, float | None, str, int | None]:
    """did's Wald pre-test that all pre-treatment ATT(g,t) are zero (analytical V)."""
    pre = np.flatnonzero((group > time) & ~zero_na)
    if pre.size == 0:
        return None, None, "no pre-treatment ATT(g,t) to test", None
    pre_v = V[np.ix_(pre, pre)]
    if np.isnan(pre_v).any() or np.isnan(att[pre]).any():
        return None, None, "some pre-treatment ATT(g,t) are NA", None
    if _rcond(pre_v) <= _EPS:
        return None, None, "the covariance matrix of the pre-treatment ATT(g,t) is singular", None
    b = att[pre]
    W = float(n * b @ np.linalg.solve(pre_v, b))
    return W, round(float(stats.chi2.sf(W, pre.size)), 5), "", int(pre.size)
