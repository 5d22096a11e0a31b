"""Aggregations of group-time ATTs: overall, event-study, by cohort, by calendar time.

``aggte`` matches ``did::aggte`` (did 2.5.1; ``compute.aggte``).  Each summary
is a weighted average of ATT(g,t) with weights proportional to cohort size, and
its influence function adds the term for estimating those weights (Callaway &
Sant'Anna 2021, section 4 and appendix), so analytical standard errors equal R's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from causalspec.errors import EstimationError, Problem, SpecError
from causalspec.estimators.callaway_santanna._attgt import AttGtResult, _frozen
from causalspec.estimators.callaway_santanna._mboot import multiplier_bootstrap

__all__ = ["AggteResult", "aggte"]

_SE_ZERO = math.sqrt(np.finfo(float).eps) * 10
_TYPES = ("simple", "dynamic", "group", "calendar")


@dataclass(frozen=True)
class AggteResult:
    """An aggregated treatment effect and, except for ``simple``, its components (immutable).

    Attributes
    ----------
    type : str
        "simple", "dynamic" (event time), "group" (cohort) or "calendar".
    overall_att, overall_se : float
        The overall summary and its standard error (NaN where did reports NA).
    egt, att_egt, se_egt : numpy.ndarray
        Event times / cohorts / calendar periods with their effects and standard errors
        (empty for ``simple``).
    crit_val_egt : float
        Critical value for the components' bands (pointwise qnorm(1 - alp/2) unless a bootstrap band).
    influence_overall, influence_egt : numpy.ndarray
        Unit influence functions of the overall effect (n) and of the components (n x k).
    """

    type: str
    overall_att: float
    overall_se: float
    egt: np.ndarray
    att_egt: np.ndarray
    se_egt: np.ndarray
    crit_val_egt: float
    influence_overall: np.ndarray
    influence_egt: np.ndarray
    alp: float
    n_units: int
    min_e: float
    max_e: float
    balance_e: int | None
    unit_weights: np.ndarray | None = None  # units each influence row stands for (None: one each)

    @property
    def overall_conf_int(self) -> tuple[float, float]:
        """Pointwise interval of the overall effect, ``att -/+ qnorm(1 - alp/2) * se`` as did prints."""
        z = float(stats.norm.ppf(1 - self.alp / 2))
        return (self.overall_att - z * self.overall_se, self.overall_att + z * self.overall_se)

    def to_frame(self) -> pd.DataFrame:
        """One row per component: egt, att, se, conf_low, conf_high."""
        half = self.crit_val_egt * self.se_egt
        return pd.DataFrame({"egt": self.egt, "att": self.att_egt, "se": self.se_egt,
                             "conf_low": self.att_egt - half, "conf_high": self.att_egt + half})


def _se(psi: np.ndarray, w: np.ndarray | None = None) -> float:
    # did's getSE: sqrt(mean(psi^2) / n); tiny values are reported as NA.  With row weights (rows standing for
    # w units each, identical influence within a row's units in their first two moments), the same sums.
    if not np.all(np.isfinite(psi)):
        return math.nan
    if w is None:
        se = math.sqrt(float(np.mean(psi ** 2)) / psi.shape[0])
    else:
        n = float(w.sum())
        se = math.sqrt(float(w @ psi ** 2) / n / n)
    return se if se > _SE_ZERO else math.nan


def _weight_if(keepers: np.ndarray, pg: np.ndarray, in_group: np.ndarray) -> np.ndarray:
    """Influence function of estimated cohort-share weights pg[k] / sum(pg[keepers]) (n x len(keepers)).

    ``in_group[:, j]`` is the indicator that a unit belongs to the cohort of keeper j.
    Matches did's internal ``wif`` (did 2.5.1, compute.aggte.R).
    """
    p = pg[keepers]
    s = p.sum()
    dev = in_group - p[None, :]
    return dev / s - np.outer(dev.sum(axis=1), p / s ** 2)


@dataclass(frozen=True)
class _Cells:
    """The ATT(g,t) cells entering an aggregation, with did's consecutive recoding of periods."""

    group: np.ndarray      # cohort of each cell (original units)
    t: np.ndarray          # period of each cell (original units)
    att: np.ndarray
    inf: np.ndarray        # units x cells
    glist: np.ndarray      # cohorts, ascending
    gtlist: np.ndarray     # periods and cohorts, ascending: code k is gtlist[k - 1]
    group_r: np.ndarray    # recoded cohort of each cell
    t_r: np.ndarray        # recoded period of each cell
    unit_in_cell: np.ndarray  # units x cells: unit belongs to the cell's cohort
    unit_in_cohort: np.ndarray  # units x cohorts
    pg: np.ndarray         # cohort share of each cell's cohort
    pgg: np.ndarray        # share of each cohort in glist
    w: np.ndarray | None = None  # units per row of inf (None: one each)

    def summary(self, which: np.ndarray, estimated_weights: bool = True) -> tuple[float, np.ndarray]:
        """Cohort-share weighted average of the cells ``which`` and its influence function."""
        w = self.pg[which] / self.pg[which].sum()
        psi = self.inf[:, which] @ w
        if estimated_weights:
            psi = psi + _weight_if(which, self.pg, self.unit_in_cell[:, which]) @ self.att[which]
        return float(np.sum(self.att[which] * w)), psi


def _cells(result: AttGtResult, agg_type: str, na_rm: bool) -> _Cells:
    group = np.asarray(result.group, dtype=float)
    t = np.asarray(result.time, dtype=float)
    att = np.asarray(result.att, dtype=float)
    inf = np.asarray(result.influence, dtype=float)
    glist = np.asarray(result.groups, dtype=float)
    if na_rm:
        keep = ~np.isnan(att)
        if agg_type == "group":
            # Drop cohorts left without any post-treatment ATT(g,t).
            keep &= np.isin(group, group[keep & (group <= t)])
        group, t, att, inf = group[keep], t[keep], att[keep], inf[:, keep]
        glist = np.unique(group)
        if att.size == 0:
            raise EstimationError(Problem("att_gt", "every ATT(g,t) is NA; nothing to aggregate.",
                                          fix="Check the notes of att_gt for why the cells failed."))
    elif np.isnan(att).any():
        bad = [f"ATT({g:g},{tt:g})" for g, tt in zip(group[np.isnan(att)], t[np.isnan(att)])]
        raise EstimationError(Problem("att_gt", f"{len(bad)} group-time ATTs are NA ({', '.join(bad[:4])}"
                                                f"{', ...' if len(bad) > 4 else ''}).",
                                      fix="Pass na_rm=True to aggregate the others, as did::aggte(na.rm = TRUE)."))

    # did recodes periods and cohorts to consecutive integers, so max_e and balance_e count periods.
    gtlist = np.unique(np.concatenate([np.asarray(result.periods, dtype=float), glist]))
    code = {v: i + 1 for i, v in enumerate(gtlist)}
    unit_g = np.asarray(result.unit_group, dtype=float)
    unit_r = np.array([code.get(v, math.nan) for v in unit_g])  # never treated: no code
    group_r = np.array([code[v] for v in group], dtype=float)
    glist_r = np.array([code[v] for v in glist], dtype=float)
    w = result.unit_weights
    pgg = (np.array([np.mean(unit_g == g) for g in glist]) if w is None else
           np.array([float(w[unit_g == g].sum()) / float(w.sum()) for g in glist]))
    return _Cells(group=group, t=t, att=att, inf=inf, glist=glist, gtlist=gtlist, group_r=group_r,
                  t_r=np.array([code[v] for v in t], dtype=float),
                  unit_in_cell=(unit_r[:, None] == group_r[None, :]).astype(float),
                  unit_in_cohort=(unit_r[:, None] == glist_r[None, :]).astype(float),
                  pg=pgg[np.searchsorted(glist, group)], pgg=pgg, w=w)


# Each aggregation returns (overall, its influence function, egt, component effects, their IFs).
_Parts = tuple[float, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _stack(parts: list[tuple[float, np.ndarray]], n: int) -> tuple[np.ndarray, np.ndarray]:
    if not parts:
        return np.empty(0), np.empty((n, 0))
    return np.array([p[0] for p in parts]), np.column_stack([p[1] for p in parts])


def _simple(c: _Cells, max_e: float) -> _Parts:
    n = c.inf.shape[0]
    keepers = np.flatnonzero((c.group_r <= c.t_r) & (c.t_r <= c.group_r + max_e))
    overall, psi = c.summary(keepers) if keepers.size else (math.nan, np.full(n, math.nan))
    return overall, psi, np.empty(0), np.empty(0), np.empty((n, 0))


def _by_group(c: _Cells, max_e: float) -> _Parts:
    n = c.inf.shape[0]
    parts = []
    for g in c.glist:
        which = np.flatnonzero((c.group == g) & (c.group_r <= c.t_r) & (c.t_r <= c.group_r + max_e))
        # Within a cohort the weights are equal and known: a plain mean, no weight term.
        parts.append(c.summary(which, estimated_weights=False) if which.size else (math.nan, np.full(n, math.nan)))
    comp_att, comp_if = _stack(parts, n)
    share = c.pgg / c.pgg.sum()
    overall = float(np.sum(comp_att * share))
    wif = _weight_if(np.arange(c.pgg.size), c.pgg, c.unit_in_cohort)
    return overall, comp_if @ share + wif @ comp_att, c.glist, comp_att, comp_if


def _dynamic(c: _Cells, min_e: float, max_e: float, balance_e: int | None) -> _Parts:
    n = c.inf.shape[0]
    e_all = c.t - c.group
    include = np.ones(c.att.size, dtype=bool)
    eseq = np.unique(e_all)
    if balance_e is not None:
        # Keep cohorts observed at least balance_e periods after adoption, and the event
        # times every kept cohort has (did 2.5.1 recomputes eseq from the kept cells).
        t_max = c.gtlist[int(c.t_r.max()) - 1]
        include = (t_max - c.group) >= balance_e
        eseq = np.unique(e_all[include])
        eseq = eseq[(eseq <= balance_e) & (eseq >= balance_e - t_max + c.gtlist[0])]
    eseq = eseq[(eseq >= min_e) & (eseq <= max_e)]
    comp_att, comp_if = _stack([c.summary(np.flatnonzero((e_all == e) & include)) for e in eseq], n)
    pos = eseq >= 0
    if not pos.any():
        return math.nan, np.full(n, math.nan), eseq, comp_att, comp_if
    # The overall event-study effect is the plain mean over non-negative event times.
    return float(np.mean(comp_att[pos])), comp_if[:, pos].mean(axis=1), eseq, comp_att, comp_if


def _calendar(c: _Cells) -> _Parts:
    n = c.inf.shape[0]
    periods = [tt for tt in dict.fromkeys(c.t_r.tolist()) if tt >= c.group_r.min()]
    comp_att, comp_if = _stack([c.summary(np.flatnonzero((c.t_r == tt) & (c.group_r <= c.t_r)))
                                for tt in periods], n)
    egt = np.array([c.gtlist[int(tt) - 1] for tt in periods])
    return float(np.mean(comp_att)), comp_if.mean(axis=1), egt, comp_att, comp_if


def _check(result, agg_type, min_e, max_e, balance_e, bstrap, cband, rng) -> None:
    problems = []
    if not isinstance(result, AttGtResult):
        problems.append(Problem("result", f"expected the result of att_gt, got {result.__class__.__name__}.",
                                fix="Pass the AttGtResult returned by att_gt()."))
    if agg_type not in _TYPES:
        problems.append(Problem("type", f"{agg_type!r} is not an aggregation.",
                                fix="Use 'simple', 'dynamic', 'group' or 'calendar'."))
    if balance_e is not None and (not isinstance(balance_e, (int, np.integer)) or balance_e < 0):
        problems.append(Problem("balance_e", f"balance_e must be a non-negative integer or None, got {balance_e!r}.",
                                fix="Give the number of post-treatment periods every kept cohort must have."))
    if min_e > max_e:
        problems.append(Problem("min_e", f"min_e ({min_e}) is larger than max_e ({max_e}).",
                                fix="Choose min_e <= max_e."))
    if cband and not bstrap:
        problems.append(Problem("cband", "a uniform band needs the multiplier bootstrap.",
                                fix="Set bstrap=True with a seeded rng, or cband=False."))
    if bstrap and getattr(result, "unit_weights", None) is not None:
        problems.append(Problem("bstrap", "the multiplier bootstrap draws one weight per unit; these influence rows "
                                "stand for cohorts of units (an engine's moments).",
                                fix="Use analytical standard errors (bstrap=False), or fit in memory."))
    if bstrap and not isinstance(rng, np.random.Generator):
        problems.append(Problem("rng", "the multiplier bootstrap needs a seeded numpy.random.Generator.",
                                fix="Pass rng=numpy.random.default_rng(seed)."))
    if problems:
        raise SpecError(problems)


def aggte(result: AttGtResult, type: str = "group", min_e: float = -math.inf, max_e: float = math.inf,
          balance_e: int | None = None, na_rm: bool = False, *, bstrap: bool = False, cband: bool = False,
          biters: int = 1000, rng: np.random.Generator | None = None,
          boot_weights: str = "mammen") -> AggteResult:
    """Aggregate group-time ATTs into overall, event-study, cohort or calendar-time effects.

    Matches did::aggte (did 2.5.1) with analytical standard errors (bstrap = FALSE, cband = FALSE).
    Callaway & Sant'Anna (2021), "Difference-in-differences with multiple time periods", section 3.

    Parameters
    ----------
    result : AttGtResult
        Output of :func:`att_gt`.
    type : {"simple", "dynamic", "group", "calendar"}
        did's default is "group".
    min_e, max_e : float
        Event-time window for ``dynamic``; ``max_e`` also limits the periods used by
        ``simple`` and ``group`` (counted in periods, as did does).
    balance_e : int, optional
        For ``dynamic``: keep only cohorts observed for at least ``balance_e`` periods after treatment.
    na_rm : bool
        Drop NA ATT(g,t) instead of refusing them.
    bstrap, cband, biters, rng, boot_weights
        Optional multiplier bootstrap for standard errors and a uniform band over the components.

    Returns
    -------
    AggteResult

    Examples
    --------
    >>> es = aggte(att_gt(mpdta, "lemp", "year", "countyreal", "first.treat"), type="dynamic")  # doctest: +SKIP
    >>> es.to_frame()  # doctest: +SKIP
    """
    agg_type = type  # the name mirrors did's argument; keep the builtin out of the body
    _check(result, agg_type, min_e, max_e, balance_e, bstrap, cband, rng)
    c = _cells(result, agg_type, na_rm)
    if agg_type == "simple":
        overall, psi, egt, comp_att, comp_if = _simple(c, max_e)
    elif agg_type == "group":
        overall, psi, egt, comp_att, comp_if = _by_group(c, max_e)
    elif agg_type == "dynamic":
        overall, psi, egt, comp_att, comp_if = _dynamic(c, min_e, max_e, balance_e)
    else:
        overall, psi, egt, comp_att, comp_if = _calendar(c)

    comp_se = np.array([_se(comp_if[:, j], c.w) for j in range(comp_if.shape[1])])
    overall_se = _se(psi, c.w)
    z = float(stats.norm.ppf(1 - result.alp / 2))
    crit = z
    if bstrap:
        if comp_if.shape[1]:
            boot = multiplier_bootstrap(comp_if, rng, biters=biters, weights=boot_weights, alp=result.alp)
            comp_se = np.where(np.isnan(comp_se), comp_se, boot.se)
            if cband and np.isfinite(boot.crit_val):
                # did falls back to the pointwise value when the band would be narrower.
                crit = max(boot.crit_val, z)
        if np.isfinite(overall_se):
            overall_se = float(multiplier_bootstrap(psi, rng, biters=biters, weights=boot_weights).se[0])

    return AggteResult(type=agg_type, overall_att=overall, overall_se=overall_se, egt=_frozen(egt),
                       att_egt=_frozen(comp_att), se_egt=_frozen(comp_se), crit_val_egt=crit,
                       influence_overall=_frozen(psi), influence_egt=_frozen(comp_if), alp=result.alp,
                       n_units=c.inf.shape[0] if c.w is None else int(round(float(c.w.sum()))), min_e=float(min_e),
                       max_e=float(max_e), balance_e=balance_e, unit_weights=c.w)
