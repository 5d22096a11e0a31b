"""The public entry points: load, plan, fit, run, check.  Each is a thin step of the one flow."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from causalspec._data import check_columns
from causalspec._data import read_data as _read
from causalspec.errors import CausalSpecError, Problem, SpecError, UnsupportedError
from causalspec.designs import fit as _fit_plan
from causalspec.designs import plan as _plan
from causalspec.designs import used_columns
from causalspec.planner import Plan
from causalspec.result import Result, build_result
from causalspec.robustness import dag_checks, dag_tests
from causalspec.robustness import refute as _refute
from causalspec.robustness import specification_curve
from causalspec.spec import Spec
from causalspec.spec import load as _load
from causalspec.spec._load import follows_from_removed, locate

__all__ = ["load", "plan", "fit", "run", "check", "check_dag"]

load = _load


@contextmanager
def _located(spec: Spec):
    """Name the spec file and line in errors raised after loading (planning, data checks)."""
    try:
        yield
    except CausalSpecError as exc:
        raise locate(exc, spec) from None


def plan(spec: Spec) -> Plan:
    """Plan an analysis: identification, adjustment set, estimator, formula, variance, assumptions.

    Needs no data.  Deterministic: the same spec gives the same plan (``plan.to_json()`` byte for byte).

    Raises
    ------
    AdjustmentError
        An explicit adjustment set or covariate is invalid for the DAG (the message names the path).
    UnsupportedError
        The spec asks for an estimand / estimator / variance combination that is not implemented.

    Examples
    --------
    >>> import causalspec as cs
    >>> spec = cs.Spec(name="demo", treatment="x", outcome="y",
    ...                dag={"edges": ["z -> x", "z -> y", "x -> y"]})
    >>> cs.plan(spec).adjustment_set
    ('z',)
    """
    with _located(spec):
        return _plan(spec)


def fit(plan: Plan, data: pd.DataFrame) -> Result:
    """Estimate a :class:`Plan` on a DataFrame and return a :class:`Result`.

    Examples
    --------
    >>> import causalspec as cs
    >>> spec = cs.load("specs/feature_adoption.yaml")              # doctest: +SKIP
    >>> result = cs.fit(cs.plan(spec), cs.datasets.feature_adoption())  # doctest: +SKIP
    >>> round(result.effect.estimate)                               # doctest: +SKIP
    10
    """
    return _fit(plan, data)


def _fit(plan: Plan, data: pd.DataFrame, *, data_source: str = "") -> Result:
    """fit, then the sensitivity step (inside build_result): the pipeline's first two steps after planning."""
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"fit() needs a pandas DataFrame, got {type(data).__name__}; use causalspec.run for files.")
    return build_result(plan, _fit_plan(plan, data), data, data_source=data_source)


def run(spec: "Spec | str | os.PathLike[str]", data: "pd.DataFrame | str | os.PathLike[str] | None" = None,
        *, plan_: Plan | None = None, refute: bool = True, all_adjustment_sets: bool = False,
        progress: bool = False) -> Result:
    """Load (if given a path), plan, fit, then run the robustness steps the plan lists.

    ``data`` overrides the spec's ``data`` field: a DataFrame, or a CSV / Parquet path (read relative to the
    current folder).  The spec's own ``data`` path is read relative to the spec file.

    After the fit: the refutation tests in ``plan.sensitivity.refutations`` (unless ``refute=False``) and,
    when ``all_adjustment_sets`` or the spec's ``sensitivity.all_adjustment_sets`` is set, the specification
    curve across every valid adjustment set.  ``progress=True`` draws progress bars on stderr.
    """
    if not isinstance(spec, Spec):
        spec = _load(spec)
    the_plan = plan_ if plan_ is not None else plan(spec)
    with _located(spec):
        if data is None:
            frame, source = _read(spec.data, spec.origin)
        else:
            frame, source = _read(data if isinstance(data, pd.DataFrame) else Path(data), None, loc="--data")
        result = _fit(the_plan, frame, data_source=source.label).replace(spec=spec)
        return robustness(result, frame, refute=refute, all_adjustment_sets=all_adjustment_sets,
                          progress=progress)


def robustness(result: Result, data: pd.DataFrame, *, refute: bool = True, all_adjustment_sets: bool = False,
               progress: bool = False) -> Result:
    """The result with its refutation tests and (if asked) specification curve attached (a new Result)."""
    sp = result.plan.sensitivity
    checks = dag_tests(result, data)
    changes = {"dag_tests": checks}
    if hasattr(checks, "omitted_lines") and checks.omitted_lines():
        changes["warnings"] = tuple(result.warnings) + tuple(
            line.removeprefix("WARNING: ") for line in checks.omitted_lines())
    if refute and sp.enabled and sp.refutations:
        changes["refutations"] = _refute(result, data, progress=progress)
    if all_adjustment_sets or sp.all_adjustment_sets:
        if result.plan.design != "observational":
            raise UnsupportedError(Problem(
                "sensitivity.all_adjustment_sets", "the specification curve compares adjustment sets of an "
                "observational design.", fix="Leave --all-adjustment-sets off for this design.",
                code="spec_curve_not_observational"))
        changes["specification_curve"] = specification_curve(result, data, progress=progress)
    return result.replace(**changes) if changes else result


def check(spec: "Spec | str | os.PathLike[str]", *, read_data: bool = True) -> Plan:
    """Validate a spec completely without estimating: the file, the model, the plan and (if it names data that
    can be read) the columns.  Returns the plan; raises a :class:`CausalSpecError` listing every problem."""
    if not isinstance(spec, Spec):
        try:
            spec = _load(spec)
        except SpecError as exc:
            raise _with_plan_problems(exc) from None
    the_plan = plan(spec)
    with _located(spec):
        _check_data(spec, the_plan, read_data)
    return the_plan


def _with_plan_problems(error: SpecError) -> SpecError:
    """One pass lists every problem: the spec's own, then the plan's of the spec without the fields at fault."""
    partial = getattr(error, "partial_spec", None)
    if partial is None:
        return error
    try:
        plan(partial)
    except CausalSpecError as exc:
        known = {(p.loc, p.message) for p in error.problems}
        removed = getattr(error, "removed_fields", ())
        news = [p for p in exc.problems if (p.loc, p.message) not in known and not follows_from_removed(p, removed)]
        return SpecError(list(error.problems) + news)
    return error


def check_dag(spec: "Spec | str | os.PathLike[str]"):
    """The spec's DAG tested against its data (``dagitty::localTests``): implied independencies the data reject
    and confounders the DAG leaves out.  Reads the spec's data; returns LocalTests (or NotComputed, saying why)."""
    if not isinstance(spec, Spec):
        spec = _load(spec)
    the_plan = plan(spec)
    with _located(spec):
        frame, _ = _read(spec.data, spec.origin)
    return dag_checks(spec, the_plan, frame)


def _check_data(spec: Spec, the_plan: Plan, read_data: bool) -> None:
    if not the_plan.identified:
        raise the_plan.identification_error()
    if read_data and spec.data is not None:
        frame, _ = _read(spec.data, spec.origin)
        columns = used_columns(the_plan)
        check_columns(frame, columns, outcome=the_plan.outcome, treatment=the_plan.treatment)
