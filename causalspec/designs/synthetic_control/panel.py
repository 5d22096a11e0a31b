"""The outcome panel a synthetic control is fitted on, from the long data: who is treated, when, the donors.

Every refusal names the field to change; every donor left out is counted in ``dropped`` with the reason.
A donor whose outcome is missing in some period is dropped (a synthetic control needs each donor in every
period it weighs); the treated unit missing a period is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from causalspec.errors import DataError, EstimationError, Problem, UnsupportedError

__all__ = ["SCPanel", "build_panel", "predictor_matrix"]


@dataclass(frozen=True)
class SCPanel:
    """The balanced outcome panel: ``Y`` is T x U (periods x units), the treated columns first, then the donors."""

    units: tuple  # unit labels, column order of Y
    times: np.ndarray
    Y: np.ndarray
    treated: tuple[int, ...]
    donors: tuple[int, ...]
    treatment_time: int
    frame: pd.DataFrame  # the rows of the units kept
    dropped: tuple[tuple[str, int], ...] = ()

    @property
    def pre(self) -> np.ndarray:
        return self.times < self.treatment_time

    @property
    def post(self) -> np.ndarray:
        return self.times >= self.treatment_time


def _match(ids, present: dict, field: str, what: str) -> list:
    out = []
    for i, u in enumerate(ids):
        if str(u) not in present:
            raise DataError(Problem(f"{field}[{i}]", f"the {what} {u!r} is not in the panel's unit column.",
                                    fix="Check the spelling against the unit column, or remove it.",
                                    code="unit_not_in_panel"))
        out.append(present[str(u)])
    return out


def _periods(values: pd.Series, field: str) -> np.ndarray:
    if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        raise DataError(Problem(field, f"the period column {values.name!r} is not numeric ({values.dtype}).",
                                fix="Use integer periods (years, or period numbers).", code="time_not_numeric"))
    v = values.to_numpy(dtype=float)
    if not np.all(v == np.round(v)):
        raise DataError(Problem(field, f"the period column {values.name!r} has non-integer values.",
                                fix="Use integer periods (years, or period numbers).", code="time_not_integer"))
    return v.astype(np.int64)


def build_panel(plan, frame: pd.DataFrame, *, one_treated: bool) -> SCPanel:
    """The panel of the plan's outcome: treated units and time from the treatment column, checked against the
    spec's ``treated_units`` / ``treatment_time``; donors without a full outcome series dropped and counted."""
    s = plan.settings
    x, y = plan.treatment, plan.outcome
    d = frame[x].to_numpy(dtype=float)
    if not np.all((d == 0) | (d == 1)):
        raise DataError(Problem("treatment", f"the treatment {x!r} must be 1 in the treated unit-periods and 0 "
                                "elsewhere; it has other values.", fix="Recode it as 0/1.",
                                code="treatment_not_binary"))
    times = _periods(frame[s.time], "design.time")
    units = frame[s.unit].to_numpy()
    present = {str(u): u for u in pd.unique(units)}
    if frame.duplicated([s.unit, s.time]).any():
        first = frame.loc[frame.duplicated([s.unit, s.time], keep=False), [s.unit, s.time]].iloc[0].tolist()
        raise DataError(Problem("design.time", f"unit {first[0]!r} has more than one row for period {first[1]!r}.",
                                fix="Keep one row per unit and period.", code="duplicate_unit_period"))
    on = pd.Series(d == 1, index=frame.index)
    treated = sorted(pd.unique(units[on.to_numpy()]), key=str)
    if s.treated_units is not None:
        given = _match(s.treated_units, present, "design.treated_units", "treated unit")
        if set(map(str, given)) != set(map(str, treated)):
            raise DataError(Problem("design.treated_units", f"the treated units {list(s.treated_units)} disagree "
                                    f"with the treatment column {x!r}, which is 1 for {[str(u) for u in treated]}.",
                                    fix=f"Make {x!r} 1 in the treated unit-periods, or correct treated_units.",
                                    code="treated_units_contradict"))
    if one_treated and len(treated) != 1:
        raise UnsupportedError(Problem("treatment", f"Synth fits one treated unit; {x!r} is 1 for {len(treated)} "
                                       f"units ({', '.join(map(str, treated[:5]))}).",
                                       fix="Set design.estimator: synthdid for several treated units with a common "
                                           "adoption time, or keep one treated unit.", code="several_treated_units"))
    starts = {}
    for u in treated:
        mine = units == u
        starts[u] = int(times[mine & on.to_numpy()].min())
        if np.any(mine & (times >= starts[u]) & (d == 0)):
            raise DataError(Problem("treatment", f"the treatment of {u!r} switches off after {starts[u]}; a "
                                    "synthetic control needs treatment to stay on once it starts.",
                                    fix="Code the treatment 1 in every period from its start.",
                                    code="treatment_reverses"))
    if len(set(starts.values())) > 1:
        raise UnsupportedError(Problem("treatment", f"the treated units start in different periods "
                                       f"({sorted(set(starts.values()))}); synthdid and Synth need one adoption time.",
                                       fix="Use design.type event_study (callaway_santanna) for staggered adoption.",
                                       code="staggered_adoption"))
    t0 = next(iter(starts.values()))
    if s.treatment_time is not None and s.treatment_time != t0:
        raise DataError(Problem("design.treatment_time", f"treatment_time is {s.treatment_time}, but {x!r} first "
                                f"becomes 1 in {t0}.", fix=f"Set treatment_time: {t0}, or fix the treatment column.",
                                code="treatment_time_contradicts"))
    all_times = np.unique(times)
    n_pre = int(np.sum(all_times < t0))
    if n_pre == 0:
        raise EstimationError(Problem("treatment", f"the treatment starts in the first period ({t0}): there is no "
                                      "pre-treatment period to fit the donors on.",
                                      fix="Add earlier periods to the data.", code="treatment_at_first_period"))
    if n_pre < 2:
        raise EstimationError(Problem("treatment", f"only one period ({all_times[0]}) comes before the treatment "
                                      f"time {t0}; a synthetic control needs at least 2 pre-treatment periods.",
                                      fix="Add earlier periods to the data.", code="too_few_pre_periods"))
    if s.donors is not None:
        donors = _match(s.donors, present, "design.donors", "donor")
        for i, u in enumerate(donors):
            if str(u) in set(map(str, treated)):
                raise DataError(Problem(f"design.donors[{i}]", f"the donor {u!r} is treated ({x!r} is 1 for it).",
                                        fix="Remove it from donors.", code="donor_treated"))
    else:
        donors = [u for u in present.values() if str(u) not in set(map(str, treated))]  # the data's order
    wide = pd.Series(frame[y].to_numpy(dtype=float), index=pd.MultiIndex.from_arrays([units, times])).unstack()
    wide = wide.reindex(columns=all_times)
    for u in treated:
        missing = all_times[np.isnan(wide.loc[u].to_numpy())]
        if missing.size:
            raise DataError(Problem("outcome", f"the treated unit {u!r} has no {y!r} in {missing.size} period(s) "
                                    f"({', '.join(map(str, missing[:5]))}).", fix="Fill in the treated unit's "
                                    "outcome, or restrict the data to the periods it has.",
                                    code="treated_missing_periods"))
    kept, dropped = [], []
    for u in donors:
        row = wide.loc[u].to_numpy()
        missing = all_times[np.isnan(row)]
        if missing.size:
            dropped.append((f"donor {u!r}: {y!r} missing in {missing.size} of {len(all_times)} periods "
                            f"({', '.join(map(str, missing[:5]))}{', ...' if missing.size > 5 else ''})",
                            int(np.sum(units == u))))
        else:
            kept.append(u)
    if len(kept) < 2:
        raise EstimationError(Problem("design.donors", f"{len(kept)} donor(s) with the outcome in every period are "
                                      "left; a synthetic control needs at least 2.",
                                      fix="Add donors, or fill in their missing periods.", code="too_few_donors"))
    order = list(treated) + kept
    out_units = set(map(str, order))
    others = [u for u in present.values() if str(u) not in out_units and u not in donors]
    if others and s.donors is not None:
        dropped.append((f"units outside design.donors ({len(others)})",
                        int(np.isin(units.astype(str), [str(u) for u in others]).sum())))
    keep_rows = np.isin(units.astype(str), list(out_units))
    return SCPanel(units=tuple(order), times=all_times, Y=wide.loc[order].to_numpy().T,
                   treated=tuple(range(len(treated))), donors=tuple(range(len(treated), len(order))),
                   treatment_time=t0, frame=frame.loc[keep_rows], dropped=tuple(dropped))


def predictor_matrix(plan, panel: SCPanel, before: int | None = None) -> tuple[np.ndarray, tuple[str, ...]]:
    """Synth's X: one row per predictor (its periods aggregated, missing values left out), one column per unit.

    ``before`` clips every window to the periods before it (the in-time placebo); a predictor left with no
    period is left out.  Without predictors, the outcome in each fit period is one (a 'special predictor').
    """
    s = plan.settings
    f = panel.frame
    times = f[s.time].to_numpy(dtype=float)
    rows, names = [], []
    for i, p in enumerate(s.predictors):
        if p.column not in f.columns:  # designs.fit carries plan.settings.partial_columns; a caller that did not
            raise UnsupportedError(Problem(f"design.predictors[{i}].column", f"the predictor {p.column!r} is not "
                                           "in the rows this fit was given.", fix="Fit through causalspec.fit, "
                                           "which keeps the predictor columns.", code="predictor_not_carried"))
        if before is None and p.last() >= panel.treatment_time:
            raise DataError(Problem(f"design.predictors[{i}]", f"the predictor {p.column!r} reads period {p.last()}, "
                                    f"at or after the treatment time {panel.treatment_time} (the first period "
                                    f"{plan.treatment!r} is 1).", fix=f"Use periods before {panel.treatment_time}.",
                                    code="predictor_after_treatment"))
        want = [t for t in p.times() if before is None or t < before]
        if not want:
            continue
        sub = f.loc[np.isin(times, want)]
        agg = sub.groupby(sub[s.unit].astype(str))[p.column].agg(p.op)
        vals = agg.reindex([str(u) for u in panel.units]).to_numpy(dtype=float)
        if np.isnan(vals[0]):
            raise DataError(Problem(f"design.predictors[{i}]", f"the treated unit has no {p.column!r} in the "
                                    f"periods {want[0]}-{want[-1]}.", fix="Choose periods in which it is "
                                    "measured.", code="predictor_missing"))
        rows.append(vals)
        names.append(f"{p.op}({p.column}, {want[0]}-{want[-1]})" if p.window is not None else
                     f"{p.op}({p.column}, {', '.join(map(str, want))})")
    if not s.predictors:
        fit = fit_mask(plan, panel, before)
        for t, row in zip(panel.times[fit], panel.Y[fit]):
            rows.append(row)
            names.append(f"{plan.outcome} {t}")
    return np.array(rows, dtype=float), tuple(names)


def fit_mask(plan, panel: SCPanel, before: int | None = None) -> np.ndarray:
    """The periods whose outcome MSPE V minimises: design.fit_periods, else every pre-treatment period."""
    s = plan.settings
    end = panel.treatment_time if before is None else before
    mask = panel.times < end
    if s.fit_periods is not None:
        first, last = s.fit_periods
        inside = (panel.times >= first) & (panel.times <= last)
        if before is None and last >= panel.treatment_time:
            raise DataError(Problem("design.fit_periods", f"the fit periods end in {last}, at or after the treatment "
                                    f"time {panel.treatment_time}: V must be chosen on pre-treatment outcomes.",
                                    fix=f"End the fit periods before {panel.treatment_time}.",
                                    code="fit_periods_invalid"))
        if before is None:
            wanted = set(range(first, last + 1)) - set(panel.times.tolist())
            if wanted:
                raise DataError(Problem("design.fit_periods", f"the fit periods include {sorted(wanted)[:5]}, which "
                                        "are not in the panel.", fix="Choose periods the data has.",
                                        code="fit_periods_invalid"))
        mask = mask & inside
    if mask.sum() < 1:
        raise EstimationError(Problem("design.fit_periods", "no fit period comes before the (placebo) treatment "
                                      "date.", fix="Choose earlier fit periods.", code="fit_periods_invalid"))
    return mask
