"""Check and shape long panel data for Callaway & Sant'Anna group-time ATTs.

This is the data step of ``did::att_gt`` (did 2.5.1, ``pre_process_did``) for
balanced panels: the never-treated code (0) becomes +inf, units first treated
after the last period (plus anticipation) count as never treated, units already
treated in the first period are dropped, rows with missing values are dropped,
and the panel is made balanced.  Every dropped unit or row is counted in a note,
as did's warnings do, so the sample never changes silently.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from causalspec.formula import materialize, parse_formula, quote_name
from causalspec.formula._terms import expand_terms, variable_nodes
from causalspec.errors import DataError, Problem, SpecError

__all__ = ["PanelData", "prepare_panel"]


@dataclass(frozen=True)
class PanelData:
    """A balanced panel in wide form, one row per unit (sorted by id).

    Attributes
    ----------
    ids : numpy.ndarray
        Unit ids, sorted; the row order of every unit-level array.
    periods : numpy.ndarray
        The time periods, ascending.
    unit_group : numpy.ndarray
        Each unit's first treatment period (+inf for never treated).
    groups : numpy.ndarray
        Treated groups for which ATT(g,t) is estimated, ascending.
    y : numpy.ndarray
        Outcomes, units x periods.
    x : tuple of numpy.ndarray or None
        Covariate design matrix for each period (units x k), None without covariates.
    x_names : tuple of str
        Names of the covariate design columns.
    notes : tuple of str
        One line per sample change (dropped rows or units, recoded groups).
    """

    ids: np.ndarray
    periods: np.ndarray
    unit_group: np.ndarray
    groups: np.ndarray
    y: np.ndarray
    x: tuple[np.ndarray, ...] | None
    x_names: tuple[str, ...]
    notes: tuple[str, ...]

    @property
    def n(self) -> int:
        return int(self.ids.shape[0])


def _show(value) -> str:
    """A data value as a user would type it (8001, 2003.5, 'a'), not as numpy prints it."""
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return f"{float(value):g}"
    return repr(value)


def _require_columns(data: pd.DataFrame, names: dict[str, str]) -> None:
    problems = []
    for arg, col in names.items():
        if not isinstance(col, str) or col not in data.columns:
            problems.append(Problem(arg, f"column {col!r} is not in the data.",
                                    fix=f"Set {arg} to one of the data's columns: {', '.join(map(str, data.columns[:12]))}."))
    if problems:
        raise DataError(problems)


def _require_numeric(data: pd.DataFrame, names: dict[str, str]) -> None:
    problems = []
    for arg, col in names.items():
        if not pd.api.types.is_numeric_dtype(data[col]) or pd.api.types.is_bool_dtype(data[col]):
            problems.append(Problem(col, f"{arg} column {col!r} must be numeric (it is {data[col].dtype}).",
                                    fix=f"Convert {col!r} to numbers before fitting."))
    if problems:
        raise DataError(problems)


_ONE = "causalspec_constant_outcome"


def _one_sided(formula: str):
    text = formula.strip()
    if not text.startswith("~"):
        raise SpecError(Problem("xformla", f"{formula!r} must be one-sided, like '~ x1 + x2'.",
                                fix="Remove the outcome from the formula; the outcome is yname."))
    parsed = parse_formula(text, loc="xformla")
    return text, parsed


def _covariate_design(formula: str, data: pd.DataFrame):
    """Materialise ``formula`` (one-sided, R style) on ``data`` with the project's own formula kernel.

    The formula is parsed, never evaluated: only column names, numbers, operators and allow-listed transforms
    are accepted (:mod:`causalspec.formula`).  Returns the design (numpy, rows aligned with ``data``) and its
    column names, R's ``model.matrix`` names.  A missing covariate value is a located error: att_gt never drops
    rows silently.
    """
    text, _ = _one_sided(formula)
    name = _ONE
    while name in data.columns:
        name += "_"
    design = materialize(f"{quote_name(name)} {text}", data.assign(**{name: 0.0}))
    if len(design.rows) != len(data):
        raise DataError(Problem("xformla", f"the covariates of {formula!r} have missing values in "
                                f"{len(data) - len(design.rows)} rows ({', '.join(design.dropped)}).",
                                fix="Remove or impute those rows before fitting."))
    return np.asarray(design.X, dtype=float), tuple(design.terms)


def _formula_variables(formula: str) -> set[str]:
    _, parsed = _one_sided(formula)
    return set(parsed.variables)


def _check_group_sizes(unit_group: np.ndarray, xformla: str | None, gname: str, control_group: str,
                       notes: list[str]) -> None:
    """did's small-group rule: fewer units than (covariate terms + 5) is flagged, fatal for the never treated."""
    if xformla is None:
        n_terms = 0
    else:
        _, parsed = _one_sided(xformla)
        n_terms = len(expand_terms(parsed.rhs, list(variable_nodes(parsed.rhs, {}))).terms)
    required = n_terms + 5
    values, counts = np.unique(unit_group, return_counts=True)
    small = [(v, c) for v, c in zip(values, counts) if c < required]
    if not small:
        return
    label = ", ".join(f"{'never treated' if np.isinf(v) else f'{v:g}'} ({c} units)" for v, c in small)
    if control_group == "nevertreated" and any(np.isinf(v) for v, _ in small):
        n_never = int(np.isinf(unit_group).sum())
        raise DataError(Problem(gname, f"the never-treated group has only {n_never} units, fewer than the "
                                       f"{required} did requires with these covariates.",
                                fix="Use control_group='notyettreated', or fewer covariates."))
    notes.append(f"Small groups (fewer than {required} units) may make estimates unstable: {label}.")


def prepare_panel(data: pd.DataFrame, yname: str, tname: str, idname: str, gname: str,
                  xformla: str | None, control_group: str, anticipation: float,
                  balance_panel: bool = False) -> PanelData:
    """Validate long panel data and return it balanced and in wide form.

    Follows ``did::pre_process_did`` (did 2.5.1) for ``panel = TRUE`` and
    ``allow_unbalanced_panel = FALSE``.  An input that is not a balanced panel
    (a unit without a row for some period) is refused unless ``balance_panel``
    is True, in which case such units are dropped as did does.
    """
    if not isinstance(data, pd.DataFrame):
        raise DataError(Problem("data", f"expected a pandas DataFrame, got {type(data).__name__}.",
                                fix="Pass the panel as a long pandas DataFrame (one row per unit and period)."))
    names = {"yname": yname, "tname": tname, "idname": idname, "gname": gname}
    _require_columns(data, names)
    xvars = sorted(_formula_variables(xformla)) if xformla is not None else []
    missing_x = [v for v in xvars if v not in data.columns]
    if missing_x:
        raise DataError(Problem("xformla", f"variable(s) {', '.join(map(repr, missing_x))} are not in the data.",
                                fix="Fix the spelling in xformla or add the columns to the data."))
    _require_numeric(data, {"yname": yname, "tname": tname, "gname": gname})

    notes: list[str] = []
    cols = list(dict.fromkeys([idname, tname, gname, yname, *xvars]))
    df = data.loc[:, cols].copy()

    # Structure checks run on the data as given, before any row is dropped (did's validate_args).
    if df[idname].isna().any() or df[tname].isna().any():
        col = idname if df[idname].isna().any() else tname
        raise DataError(Problem(col, f"column {col!r} has missing values.",
                                fix=f"Drop or fill the rows with a missing {col!r}."))
    dup = df.duplicated([idname, tname])
    if dup.any():
        first_id, first_t = df.loc[dup, idname].iloc[0], df.loc[dup, tname].iloc[0]
        raise DataError(Problem(idname, f"unit {_show(first_id)} has {int(dup.sum())} duplicated row(s) "
                                        f"(e.g. {tname} = {_show(first_t)}); each unit must appear once per period.",
                                fix=f"Make ({idname}, {tname}) unique, e.g. aggregate duplicated rows."))
    g_per_unit = df.groupby(idname, sort=False)[gname].nunique(dropna=False)
    if (g_per_unit > 1).any():
        bad = g_per_unit.index[g_per_unit > 1]
        raise DataError(Problem(gname, f"{gname!r} is not constant within unit for {len(bad)} unit(s) "
                                       f"(e.g. {idname} = {_show(bad[0])}); treatment must be irreversible.",
                                fix=f"Give each unit one first-treatment period in {gname!r} (0 if never treated); "
                                    "units that switch treatment off are not covered by this estimator."))
    if np.isinf(df[tname].to_numpy(dtype=float)).any():
        raise DataError(Problem(tname, f"{tname!r} has infinite values.", fix="Use finite time periods."))

    # Balanced input is required unless asked to balance, because did would silently drop units.
    n_periods_all = df[tname].nunique()
    per_unit = df.groupby(idname, sort=False)[tname].size()
    short = per_unit.index[per_unit < n_periods_all]
    if len(short):
        if not balance_panel:
            raise DataError(Problem(idname, f"the panel is unbalanced: {len(short)} of {len(per_unit)} units are not "
                                            f"observed in all {n_periods_all} periods of {tname!r} "
                                            f"(e.g. {idname} = {_show(short[0])}).",
                                    fix="Pass balance_panel=True to drop those units (as did::att_gt does), "
                                        "or complete the panel."))
        df = df[~df[idname].isin(short)]
        notes.append(f"Dropped {len(short)} units not observed in every period (balanced panel).")

    # Covariate design on all rows, then drop rows with missing values (did: complete cases).
    design = None
    x_names: tuple[str, ...] = ()
    df = df.reset_index(drop=True)
    keep = np.array(df.notna().all(axis=1).to_numpy(), dtype=bool)
    if xformla is not None:
        design, x_names = _covariate_design(xformla, df)
        keep &= ~np.isnan(design).any(axis=1)
        if np.isinf(design[keep]).any():
            raise DataError(Problem("xformla", f"the covariates of {xformla!r} have infinite values.",
                                    fix="Transform or drop the rows where a covariate is infinite."))
    if not keep.all():
        dropped_rows = int((~keep).sum())
        bad_units = set(df.loc[~keep, idname])
        notes.append(f"Dropped {dropped_rows} rows with missing values; their {len(bad_units)} units are dropped "
                     "to keep the panel balanced.")
        unit_keep = ~df[idname].isin(bad_units).to_numpy()
        df = df[unit_keep].reset_index(drop=True)
        if design is not None:
            design = design[unit_keep]

    if df.empty:
        raise DataError(Problem("data", "no rows are left after dropping missing values and unbalanced units.",
                                fix="Check the data for missing values in yname, gname and the covariates."))

    g = df[gname].to_numpy(dtype=float)
    g = np.where(g == 0, np.inf, g)
    periods = np.sort(df[tname].unique().astype(float))
    # Units first treated after the window (plus anticipation) are never treated within it.
    late = np.isfinite(g) & (g > periods[-1] + anticipation)
    if late.any():
        notes.append(f"{len(set(df.loc[late, idname]))} units first treated after the last period "
                     f"({periods[-1]:g}) are treated as never treated.")
        g[late] = np.inf

    keep_rows = np.ones(len(df), dtype=bool)
    finite = np.unique(g[np.isfinite(g)])
    if not np.isinf(g).any():
        if finite.size == 0:
            raise DataError(Problem(gname, f"no unit is ever treated in {gname!r}.",
                                    fix="Code each unit's first treatment period in gname (0 for never treated)."))
        latest = finite.max()
        cutoff = latest - anticipation
        keep_rows &= df[tname].to_numpy(dtype=float) < cutoff
        if control_group == "nevertreated":
            g[g == latest] = np.inf
            notes.append(f"No never-treated units: the last cohort ({latest:g}) serves as the never-treated group "
                         f"and periods from {cutoff:g} on are dropped.")
        else:
            notes.append(f"No never-treated units: periods from {cutoff:g} on are dropped and cohort {latest:g} "
                         "only serves as a not-yet-treated control.")
    df = df[keep_rows].reset_index(drop=True)
    g = g[keep_rows]
    if design is not None:
        design = design[keep_rows]
    if df.empty:
        raise DataError(Problem(tname, "no periods are left before the last cohort is treated.",
                                fix="Add a never-treated group or earlier periods."))

    periods = np.sort(df[tname].unique().astype(float))
    first = periods[0]
    early = np.isfinite(g) & (g <= first + anticipation)
    if early.any():
        n_early = len(set(df.loc[early, idname]))
        notes.append(f"Dropped {n_early} units already treated in the first period ({first:g})"
                     + (f", accounting for anticipation = {anticipation:g}." if anticipation else "."))
        df = df[~early].reset_index(drop=True)
        g = g[~early]
        if design is not None:
            design = design[~early]
        periods = np.sort(df[tname].unique().astype(float))
    if periods.size < 2:
        raise DataError(Problem(tname, f"only {periods.size} period(s) left; group-time ATTs need at least two.",
                                fix="Provide data for at least two periods."))

    groups = np.unique(g[np.isfinite(g)])
    groups = groups[groups > periods[0] + anticipation]
    if control_group == "notyettreated" and not np.isinf(g).any() and finite.size:
        groups = groups[groups < finite.max()]
    if groups.size == 0:
        raise DataError(Problem(gname, "no treated group is left to estimate an ATT(g,t) for.",
                                fix="Check gname: it needs units first treated after the first period."))

    # Wide form: units sorted by id, periods ascending.
    order = np.lexsort((df[tname].to_numpy(dtype=float), df[idname].to_numpy()))
    df = df.iloc[order].reset_index(drop=True)
    g = g[order]
    if design is not None:
        design = design[order]
    n_t = periods.size
    n = len(df) // n_t
    ids = df[idname].to_numpy()[::n_t]
    y = df[yname].to_numpy(dtype=float).reshape(n, n_t)
    unit_group = g[::n_t]
    _check_group_sizes(unit_group, xformla, gname, control_group, notes)
    x = None
    if design is not None:
        cube = design.reshape(n, n_t, design.shape[1])
        x = tuple(np.ascontiguousarray(cube[:, j, :]) for j in range(n_t))
    return PanelData(ids=ids, periods=periods, unit_group=unit_group, groups=groups, y=y, x=x,
                     x_names=x_names, notes=tuple(notes))
