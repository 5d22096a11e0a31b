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

from ...errors import EstimationError, Problem, SpecError
from ._attgt import AttGtResult, _frozen
from ._mboot import multiplier_bootstrap

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


def _se(psi: np.ndarray) -> float:
    # did's getSE: sqrt(mean(psi^2) / n); tiny values are reported as NA.
    se = math.sqrt(float(np.mean(psi ** 2)) / psi.shape[0])
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


def _agg_if(att: np.ndarray, inf: np.ndarray, which: np.ndarray, w: np.ndarray,
            wif: np.ndarray | None) -> np.ndarray:
    psi = inf[:, which] @ w
    if wif is not None:
        psi = psi + wif @ att[which]
    return psi


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
    min_e, max_e : float
        Event-time window for ``dynamic``; ``max_e`` also limits the periods used by
        ``simple`` and ``group`` (counted in periods, as did does).
    balance_e : int, optional
        For ``dynamic``: keep only cohorts observed for at least ``balance_e`` periods after treatment.
    na_rm : bool
        Drop NA ATT(g,t) instead of refusing them.
    bstrap, cband, biters, rng, boot_weights
        Optional multiplier bootstrap for standard errors and a uniform band over the components.

    Examples
    --------
    >>> es = aggte(att_gt(mpdta, "lemp", "year", "countyreal", "first.treat"), type="dynamic")  # doctest: +SKIP
    >>> es.to_frame()  # doctest: +SKIP
    """
    if not isinstance(result, AttGtResult):
        raise SpecError(Problem("result", f"expected the result of att_gt, got {result.__class__.__name__}.",
                                fix="Pass the AttGtResult returned by att_gt()."))
    if type not in _TYPES:
        raise SpecError(Problem("type", f"{type!r} is not an aggregation.",
                                fix="Use 'simple', 'dynamic', 'group' or 'calendar'."))
    if balance_e is not None and (not isinstance(balance_e, (int, np.integer)) or balance_e < 0):
        raise SpecError(Problem("balance_e", f"balance_e must be a non-negative integer or None, got {balance_e!r}.",
                                fix="Give the number of post-treatment periods every kept cohort must have."))
    if min_e > max_e:
        raise SpecError(Problem("min_e", f"min_e ({min_e}) is larger than max_e ({max_e}).",
                                fix="Choose min_e <= max_e."))
    if cband and not bstrap:
        raise SpecError(Problem("cband", "a uniform band needs the multiplier bootstrap.",
                                fix="Set bstrap=True with a seeded rng, or cband=False."))
    if bstrap and not isinstance(rng, np.random.Generator):
        raise SpecError(Problem("rng", "the multiplier bootstrap needs a seeded numpy.random.Generator.",
                                fix="Pass rng=numpy.random.default_rng(seed)."))

    group = np.asarray(result.group, dtype=float)
    t = np.asarray(result.time, dtype=float)
    att = np.asarray(result.att, dtype=float)
    inf = np.asarray(result.influence, dtype=float)
    glist = np.asarray(result.groups, dtype=float)
    if na_rm:
        keep = ~np.isnan(att)
        if type == "group":
            # Drop cohorts left without any post-treatment ATT(g,t).
            has_post = {g for g in group[keep & (group <= t)]}
            keep &= np.isin(group, list(has_post))
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
    t_r = np.array([code[v] for v in t], dtype=float)
    group_r = np.array([code[v] for v in group], dtype=float)
    unit_g = np.asarray(result.unit_group, dtype=float)
    G_r = np.array([code.get(v, math.nan) if np.isfinite(v) else math.nan for v in unit_g])
    n = inf.shape[0]

    pgg = np.array([np.mean(unit_g == g) for g in glist])
    pg = pgg[np.searchsorted(glist, group)]
    in_cell_group = (G_r[:, None] == group_r[None, :]).astype(float)  # n x cells
    keepers = np.flatnonzero((group_r <= t_r) & (t_r <= group_r + max_e))
    z = float(stats.norm.ppf(1 - result.alp / 2))

    def summary(which: np.ndarray, with_wif: bool) -> tuple[float, np.ndarray]:
        w = pg[which] / pg[which].sum()
        wif = _weight_if(which, pg, in_cell_group[:, which]) if with_wif else None
        return float(np.sum(att[which] * w)), _agg_if(att, inf, which, w, wif)

    egt = np.empty(0)
    comp_att = np.empty(0)
    comp_if = np.empty((n, 0))
    if type == "simple":
        if keepers.size == 0:
            overall, psi = math.nan, np.full(n, math.nan)
        else:
            overall, psi = summary(keepers, True)
    elif type == "group":
        parts = []
        for g in glist:
            gr = code[g]
            which = np.flatnonzero((group_r == gr) & (gr <= t_r) & (t_r <= group_r + max_e))
            if which.size == 0:
                parts.append((math.nan, np.full(n, math.nan)))
            else:
                # Within a cohort the weights are equal: a plain mean, no estimated weights.
                parts.append((float(np.mean(att[which])), inf[:, which] @ (pg[which] / pg[which].sum())))
        egt = glist
        comp_att = np.array([p[0] for p in parts])
        comp_if = np.column_stack([p[1] for p in parts])
        overall = float(np.sum(comp_att * pgg) / pgg.sum())
        # did passes the cell-level cohort vector here, so keeper k's indicator is that of cell k's cohort.
        in_cohort = (G_r[:, None] == np.array([code[g] for g in glist])[None, :]).astype(float)
        wif = _weight_if_explicit(pgg, in_cohort)
        psi = comp_if @ (pgg / pgg.sum()) + wif @ comp_att
    elif type == "dynamic":
        e_all = t - group
        eseq = np.unique(e_all)
        include = np.ones(att.size, dtype=bool)
        if balance_e is not None:
            # Keep cohorts observed at least balance_e periods after adoption, and the event
            # times every kept cohort has (did 2.5.1 recomputes eseq from the kept cells).
            t_max = gtlist[int(t_r.max()) - 1]
            include = (t_max - group) >= balance_e
            eseq = np.unique(e_all[include])
            eseq = eseq[(eseq <= balance_e) & (eseq >= balance_e - t_max + gtlist[0])]
        eseq = eseq[(eseq >= min_e) & (eseq <= max_e)]
        parts = []
        for e in eseq:
            which = np.flatnonzero((e_all == e) & include)
            parts.append(summary(which, True))
        egt = eseq
        comp_att = np.array([p[0] for p in parts])
        comp_if = np.column_stack([p[1] for p in parts]) if parts else np.empty((n, 0))
        pos = eseq >= 0
        if pos.any():
            overall = float(np.mean(comp_att[pos]))
            psi = comp_if[:, pos].mean(axis=1)
        else:
            overall, psi = math.nan, np.full(n, math.nan)
    else:  # calendar
        tlist_r = list(dict.fromkeys(t_r.tolist()))
        cal = [tt for tt in tlist_r if tt >= group_r.min()]
        parts = [summary(np.flatnonzero((t_r == tt) & (group_r <= t_r)), True) for tt in cal]
        egt = np.array([gtlist[int(tt) - 1] for tt in cal])
        comp_att = np.array([p[0] for p in parts])
        comp_if = np.column_stack([p[1] for p in parts])
        overall = float(np.mean(comp_att))
        psi = comp_if.mean(axis=1)

    comp_se = np.array([_se(comp_if[:, j]) for j in range(comp_if.shape[1])])
    overall_se = _se(psi) if np.all(np.isfinite(psi)) else math.nan
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

    return AggteResult(type=type, overall_att=overall, overall_se=overall_se, egt=_frozen(egt),
                       att_egt=_frozen(comp_att), se_egt=_frozen(comp_se), crit_val_egt=crit,
                       influence_overall=_frozen(psi), influence_egt=_frozen(comp_if), alp=result.alp,
                       n_units=n, min_e=float(min_e), max_e=float(max_e), balance_e=balance_e)


def _weight_if_explicit(pg: np.ndarray, in_group: np.ndarray) -> np.ndarray:
    """``_weight_if`` when the keepers are all of ``pg`` (the cohort-level overall effect)."""
    return _weight_if(np.arange(pg.size), pg, in_group)
