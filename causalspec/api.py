"""The public entry points: load, plan, fit, run, check.  Each is a thin step of the one flow."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from causalspec import engines as _engines
from causalspec._data import as_pandas, check_columns
from causalspec._data import read_data as _read
from causalspec._values import NotComputed
from causalspec.errors import CausalSpecError, Problem, SpecError, UnsupportedError
from causalspec.designs import fit as _fit_plan
from causalspec.designs import plan as _plan
from causalspec.designs import used_columns
from causalspec.planner import Plan
from causalspec.result import Result, build_result
from causalspec.robustness import dag_checks, dag_tests
from causalspec.robustness import refute as _refute
from causalspec.robustness import specification_curve
from causalspec.spec import DataSpec, Spec
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
        the_plan = _plan(spec)
        _refuse_for_engine(spec, the_plan, spec.engine)
        return the_plan


def _refuse_for_engine(spec: Spec, the_plan: Plan, engine: str) -> None:
    """Plan time: what the spec's engine cannot compute, every problem located at its field (docs/scale.md)."""
    if engine in ("duckdb", "spark"):
        problems = _engines.refusals(spec, the_plan, engine)
    elif engine == "memory":
        problems = _engines.memory_data_problems(spec.data) + _engines.query_problems(spec.data)
    else:  # auto: the engine is chosen from the data at run time (and refused then); a query is parsed now
        problems = _engines.query_problems(spec.data)
    if problems:
        raise UnsupportedError(problems)


def _engine_data(data) -> bool:
    """Data an engine holds: a causalspec.engines.Source, a DuckDB relation or a Spark DataFrame."""
    return isinstance(data, _engines.Source) or type(data).__module__.split(".")[0] in ("duckdb", "_duckdb",
                                                                                        "pyspark")


def fit(plan: Plan, data) -> Result:
    """Estimate a :class:`Plan` on a DataFrame (or on an engine's data: a ``causalspec.engines`` Source, a
    DuckDB relation or a Spark DataFrame; see docs/scale.md) and return a :class:`Result`.

    ``data`` may be a pandas, Polars (a LazyFrame is collected) or Arrow table, converted once to pandas
    (docs/data-and-graphs.md).

    Examples
    --------
    >>> import causalspec as cs
    >>> spec = cs.load("specs/feature_adoption.yaml")              # doctest: +SKIP
    >>> result = cs.fit(cs.plan(spec), cs.datasets.feature_adoption())  # doctest: +SKIP
    >>> round(result.effect.estimate)                               # doctest: +SKIP
    10
    """
    if _engine_data(data):
        return _fit_engine(plan, data)
    return _fit(plan, as_pandas(data))


def _fit_engine(plan: Plan, data, *, spec: Spec | None = None) -> Result:
    """The plan fitted by an engine: refused as at plan time (what the engine cannot compute), else the
    in-memory result's numbers.  Nothing row-level runs after it (sensitivity and refutations are refused)."""
    source = data if isinstance(data, _engines.Source) else _engines.open_source(
        data, None, "spark" if type(data).__module__.startswith("pyspark") else "duckdb")
    problems = _engines.refusals(spec, plan, source.backend.name)
    if problems:
        raise UnsupportedError(problems)
    result = build_result(plan, _engines.fit_plan(plan, source), None, data_source=source.label)
    return result.replace(dag_tests=NotComputed(f"the DAG's implications are tested on rows in memory; this fit "
                                                f"ran on the {source.backend.name} engine"))


def _fit(plan: Plan, data: pd.DataFrame, *, data_source: str = "") -> Result:
    """fit, then the sensitivity step (inside build_result): the pipeline's first two steps after planning."""
    return build_result(plan, _fit_plan(plan, data), data, data_source=data_source)


def run(spec: "Spec | str | os.PathLike[str]", data: "pd.DataFrame | str | os.PathLike[str] | None" = None,
        *, plan_: Plan | None = None, refute: bool = True, all_adjustment_sets: bool = False,
        progress: bool = False, spark=None, n_jobs: int = 1) -> Result:
    """Load (if given a path), plan, fit, then run the robustness steps the plan lists.

    ``data`` overrides the spec's ``data`` field: a pandas, Polars or Arrow table (converted once to pandas:
    docs/data-and-graphs.md), or a CSV / Parquet path (read relative to the current folder).  The spec's own
    ``data`` path is read relative to the spec file.

    After the fit: the refutation tests in ``plan.sensitivity.refutations`` (unless ``refute=False``) and,
    when ``all_adjustment_sets`` or the spec's ``sensitivity.all_adjustment_sets`` is set, the specification
    curve across every valid adjustment set.  ``progress=True`` draws progress bars on stderr.  ``n_jobs``
    threads (``-1``: one per core) share the refutation replications; the numbers do not depend on it.

    With ``engine: duckdb | spark | auto`` the fit runs on the engine (docs/scale.md); ``data`` may then also be
    a DuckDB relation or a Spark DataFrame, and ``spark`` the SparkSession to read files with (default: a local
    ``local[2]`` session).
    """
    if not isinstance(spec, Spec):
        spec = _load(spec)
    if data is not None and not isinstance(data, (str, os.PathLike)) and not _engine_data(data):
        data = as_pandas(data)  # a Polars or Arrow table: one pandas frame, whatever the engine
    the_plan = plan_ if plan_ is not None else plan(spec)
    with _located(spec):
        given = data if data is not None else spec.data
        base = spec.origin if data is None else None
        engine = _engines.choose_engine(spec.engine, given, base)
        if _engine_data(given) and engine == "memory":
            engine = "spark" if type(given).__module__.startswith("pyspark") else "duckdb"
        if engine != "memory":
            source = _engines.open_source(given, base, engine, spark=spark)
            return _fit_engine(the_plan, source, spec=spec).replace(spec=spec)
        if isinstance(given, DataSpec) and (given.table or given.query):
            source = _engines.open_source(given, base, "duckdb")
            result = _fit(the_plan, _engines.to_frame(source), data_source=source.label).replace(spec=spec)
            return robustness(result, result._data, refute=refute, all_adjustment_sets=all_adjustment_sets,
                              progress=progress, n_jobs=n_jobs)
        if data is None:
            frame, source = _read(spec.data if not isinstance(spec.data, DataSpec) else spec.data.path, spec.origin)
        else:
            frame, source = _read(data if isinstance(data, pd.DataFrame) else Path(data), None, loc="--data")
        result = _fit(the_plan, frame, data_source=source.label).replace(spec=spec)
        return robustness(result, frame, refute=refute, all_adjustment_sets=all_adjustment_sets,
                          progress=progress, n_jobs=n_jobs)


def robustness(result: Result, data: pd.DataFrame, *, refute: bool = True, all_adjustment_sets: bool = False,
               progress: bool = False, n_jobs: int = 1) -> Result:
    """The result with its refutation tests and (if asked) specification curve attached (a new Result);
    ``n_jobs`` threads share the refutation replications."""
    sp = result.plan.sensitivity
    checks = dag_tests(result, data)
    changes = {"dag_tests": checks}
    if hasattr(checks, "omitted_lines") and checks.omitted_lines():
        changes["warnings"] = tuple(result.warnings) + tuple(
            line.removeprefix("WARNING: ") for line in checks.omitted_lines())
    if refute and sp.enabled and sp.refutations:
        changes["refutations"] = _refute(result, data, progress=progress, n_jobs=n_jobs)
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
        if spec.engine != "memory" or isinstance(spec.data, DataSpec):
            raise UnsupportedError(Problem("engine", "testing the DAG against the data needs the rows in memory.",
                                           fix="Run check-dag on a spec with engine: memory (on a sample of the "
                                               "data).", code="engine_dag_tests"))
        frame, _ = _read(spec.data, spec.origin)
    return dag_checks(spec, the_plan, frame)


def _check_data(spec: Spec, the_plan: Plan, read_data: bool) -> None:
    if not the_plan.identified:
        raise the_plan.identification_error()
    if read_data and spec.data is not None:
        engine = _engines.choose_engine(spec.engine, spec.data, spec.origin)
        if engine != "memory" or isinstance(spec.data, DataSpec):
            # the engine checks that the columns exist and are numbers (no rows are read into Python)
            source = _engines.open_source(spec.data, spec.origin, engine)
            columns = used_columns(the_plan)
            source.check(columns, numeric=(the_plan.outcome, the_plan.treatment))
            return
        frame, _ = _read(spec.data, spec.origin)
        columns = used_columns(the_plan)
        check_columns(frame, columns, outcome=the_plan.outcome, treatment=the_plan.treatment)
