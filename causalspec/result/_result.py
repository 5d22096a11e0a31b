"""Stage 4: the Result of a fit — Plan + Fit + the sensitivity step — in plain frozen fields.

Formatting lives in ``causalspec.report`` (one declared deferred call: :meth:`Result.summary`).  A Result never
disagrees with its plan: it is immutable, and :meth:`Result.with_vcov` re-plans the variance through the
design family's own rule and returns a new Result.  A Result pickles (it holds data, not closures); its JSON
(:meth:`to_dict`) is the contract in docs/json.md.
"""

from __future__ import annotations

import copy
import json
import math
import re
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np
import pandas as pd

from causalspec._values import TIDY_COLUMNS, Estimate, NotComputed, jsonable, num
from causalspec.designs import FAMILIES, Fit, family_for
from causalspec.designs import fit as fit_plan
from causalspec.errors import DataError, Problem, UnsupportedError
from causalspec._version import __version__
from causalspec.planner import Estimator, Plan, Strategy, VcovPlan
from causalspec.result._accessors import ResultAccessors
from causalspec.result._sensitivity import SensitivityReport, assess, rosenbaum
from causalspec.result._parallel_trends import ParallelTrendsReport
from causalspec.sensitivity import Benchmark, BoundRow, HonestRow, ParallelTrendsSensitivity, SensitivityResult
from causalspec.sensitivity._evalue import EValueResult, RDEValueResult
from causalspec.sensitivity._plausibly_exogenous import ExclusionSensitivity
from causalspec.spec import Inference

__all__ = ["Result", "build_result", "SensitivityReport"]


@dataclass(frozen=True, repr=False)
class Result(ResultAccessors):
    """What ``causalspec.fit`` returns: the effect, the full table, the sample, diagnostics.

    A Result never disagrees with its plan: it is immutable, and changing the variance estimator
    (:meth:`with_vcov`) returns a new Result.

    Attributes
    ----------
    effect : Estimate
        The treatment effect (the estimand of the plan).
    naive : Estimate
        The unadjusted contrast (outcome on treatment alone), on the same rows, with the same variance type.
    coefficients : tuple of Estimate
        The full coefficient table of the model, R's term names.
    nobs, n_input : int
        Rows used, rows read.
    dropped : tuple of (reason, count)
        Every row not used, counted by reason.
    """

    plan: Plan
    effect: Estimate
    naive: Estimate
    coefficients: tuple[Estimate, ...]
    vcov_terms: tuple[str, ...]
    vcov_matrix: tuple[tuple[float, ...], ...]
    nobs: int
    n_input: int
    dropped: tuple[tuple[str, int], ...] = ()
    notes: tuple[str, ...] = ()
    fit_stats: tuple[tuple[str, float], ...] = ()
    sensitivity: Any = NotComputed("sensitivity analysis was not run")
    refutations: Any = NotComputed("refutation tests were not run")
    specification_curve: Any = NotComputed("run with --all-adjustment-sets for the specification curve")
    dag_tests: Any = NotComputed("the DAG's implications are tested against the data by causalspec.run")
    extras: dict = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    data_source: str = ""
    _data: Any = field(default=None, repr=False, compare=False)  # the data fitted, for with_vcov
    spec: Any = field(default=None, repr=False, compare=False)  # the Spec, when produced by causalspec.run

    # ---------------------------------------------------------------- access
    def tidy(self) -> pd.DataFrame:
        """The coefficient table as a DataFrame with columns term, estimate, std_error, statistic, p_value,
        conf_low, conf_high."""
        rows = [{k: getattr(e, k) for k in TIDY_COLUMNS} for e in self.coefficients]
        return pd.DataFrame(rows, columns=list(TIDY_COLUMNS))

    def vcov(self) -> pd.DataFrame:
        """The variance-covariance matrix of the coefficients (R term names)."""
        return pd.DataFrame(list(self.vcov_matrix), index=list(self.vcov_terms), columns=list(self.vcov_terms))

    @property
    def n_dropped(self) -> int:
        return sum(n for _, n in self.dropped)

    def summary(self) -> str:
        """A text summary laid out like R's: plan, naive vs adjusted, coefficient table, notes."""
        from causalspec.report import summary  # the one declared deferred call into report (stage 6)

        return summary(self)

    def __str__(self) -> str:
        return self.summary()

    def with_vcov(self, vcov: str, cluster: str | tuple[str, ...] = ()) -> "Result":
        """The same fit with another variance estimator (a new Result; this one is unchanged).

        The variance is re-planned by the design family's own rule (the same one :func:`causalspec.plan` uses),
        so the R call it names is the one it matches; a variance the design does not offer is refused with a
        located error that lists the ones it does.
        """
        if self._data is None:
            raise UnsupportedError(Problem(
                "inference.vcov", "this result cannot change its variance estimator (it was read back, not fitted).",
                fix="Fit again with the variance set in the spec's inference field.", code="unsupported_vcov"))
        inference = Inference(vcov=vcov, cluster=(cluster,) if isinstance(cluster, str) else tuple(cluster),
                              level=self.plan.vcov.level)
        new_vcov = family_for(self.plan.design).vcov(inference, self.plan)
        plan = replace(self.plan, vcov=new_vcov, columns=tuple(dict.fromkeys((*self.plan.columns, *inference.cluster))))
        return build_result(plan, fit_plan(plan, self._data), self._data, data_source=self.data_source,
                            spec=self.spec)

    # ---------------------------------------------------------------- output
    def to_dict(self) -> dict[str, Any]:
        """The JSON contract (docs/json.md): estimates, effect, naive, nobs, plan, diagnostics, sensitivity."""
        return {
            "version": __version__,
            "name": self.plan.name,
            "treatment": self.plan.treatment,
            "outcome": self.plan.outcome,
            "estimand": self.plan.estimand,
            "effect": self.effect.to_dict(),
            "naive": self.naive.to_dict(),
            "estimates": [e.to_dict() for e in self.coefficients],
            "nobs": self.nobs,
            "n_input": self.n_input,
            "dropped": [{"reason": r, "rows": n} for r, n in self.dropped],
            "plan": {
                "identified": self.plan.identified,
                "strategy": self.plan.strategy.value,
                "adjustment_set": list(self.plan.adjustment_set),
                "minimal_adjustment_sets": [list(s) for s in self.plan.minimal_adjustment_sets],
                "covariates": list(self.plan.covariates),
                "estimator": self.plan.estimator.value,
                "formula": self.plan.formula,
                "vcov": {"kind": self.plan.vcov.kind, "cluster": list(self.plan.vcov.cluster), "level": self.plan.vcov.level,
                         "r_equivalent": self.plan.vcov.r_equivalent},
            },
            "vcov": {"terms": list(self.vcov_terms), "matrix": [[num(v) for v in row] for row in self.vcov_matrix]},
            "diagnostics": {k: num(v) for k, v in self.fit_stats},
            "notes": list(self.notes),
            "warnings": list(self.warnings),
            "design": jsonable(self.extras),
            "sensitivity": self.sensitivity.to_dict() if hasattr(self.sensitivity, "to_dict") else None,
            "refutations": self.refutations.to_dict() if hasattr(self.refutations, "to_dict") else None,
            "specification_curve": (self.specification_curve.to_dict()
                                    if hasattr(self.specification_curve, "to_dict") else None),
            "dag_tests": self.dag_tests.to_dict(),
            "data": self.data_source,
        }

    def to_json(self) -> str:
        """The result as JSON (NaN and infinity written as null)."""
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False, allow_nan=False) + "\n"

    def replace(self, **changes: Any) -> "Result":
        return replace(self, **changes)

    # ---------------------------------------------------------------- input
    @classmethod
    def from_json(cls, text: "str | bytes") -> "Result":
        """The Result that :meth:`to_json` wrote (a ``results.json`` of an archive too); never unpickles anything.

        The rebuilt Result gives the same ``to_json()``, coefficients, variance, intervals, Wald tests and
        ``summary()`` (the summary's refutation, specification-curve and DAG-test sections excepted: those objects
        belong to the robustness stage and are kept as the JSON they wrote).  It holds no data and no fit
        internals, so ``with_vcov``, ``predict``, ``fixef`` and ``cate`` refuse with that reason.  A JSON written
        by a newer causalspec, or without a version, is refused.

        >>> again = Result.from_json(result.to_json())   # doctest: +SKIP
        >>> again.to_json() == result.to_json()          # doctest: +SKIP
        True
        """
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, UnicodeDecodeError, TypeError) as exc:
            raise DataError(Problem("", f"the text is not a result's JSON ({exc}).", fix="Pass the text that "
                                    "Result.to_json() or causalspec run --json wrote.", code="result_json_invalid"))
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: dict) -> "Result":
        """The Result whose :meth:`to_dict` is ``data`` (see :meth:`from_json`)."""
        return _read_result(cls, data)



def build_result(plan: Plan, fit: Fit, data: pd.DataFrame | None = None, *, data_source: str = "",
                 spec: Any = None) -> Result:
    """The Result of a fit: the Fit's numbers, then the sensitivity step the plan asks for."""
    extras = dict(fit.extras)
    if plan.sensitivity.enabled:
        bounds = rosenbaum(fit)
        if bounds is not None:
            extras["rosenbaum"] = bounds
    return Result(
        plan=plan,
        effect=fit.effect,
        naive=fit.naive,
        coefficients=tuple(fit.rows),
        vcov_terms=tuple(fit.vcov_terms),
        vcov_matrix=tuple(tuple(float(v) for v in row) for row in np.asarray(fit.vcov_matrix)),
        nobs=int(fit.nobs),
        n_input=int(fit.n_input if fit.n_input is not None else fit.nobs),
        dropped=tuple(fit.dropped),
        notes=tuple(fit.notes),
        fit_stats=tuple((k, float(v)) for k, v in fit.stats),
        sensitivity=assess(plan, fit),
        extras=extras,
        warnings=tuple(fit.warnings),
        data_source=data_source,
        _data=data,
        spec=spec,
    )


# ---------------------------------------------------------------------------------------------- from JSON
def _bad(message: str) -> DataError:
    return DataError(Problem("", f"this is not a result's JSON: {message}.", fix="Pass the text that "
                             "Result.to_json() or causalspec run --json wrote.", code="result_json_invalid"))


def _release(text: Any) -> tuple[int, ...] | None:
    m = re.match(r"(\d+)\.(\d+)(?:\.(\d+))?", text) if isinstance(text, str) else None
    return None if m is None else tuple(int(g or 0) for g in m.groups())


def _check_version(data: dict) -> None:
    written, mine = _release(data.get("version")), _release(__version__)
    if written is None:
        raise DataError(Problem("version", f"the JSON's version {data.get('version')!r} is not a causalspec "
                                "version, so its shape is unknown.", fix="Read only JSON that causalspec wrote "
                                "(it has a version such as \"0.1.0\").", code="result_version_unknown"))
    if written > mine:
        raise UnsupportedError(Problem("version", f"the result was written by causalspec {data['version']}, newer "
                                       f"than this one ({__version__}); its JSON may hold what this version cannot "
                                       "read.", fix=f"Upgrade causalspec to {data['version']} or later to read it.",
                                       code="result_version_newer"))


def _float(v: Any) -> float:
    return math.nan if v is None else float(v)


def _estimate(d: dict) -> Estimate:
    return Estimate(d["term"], *(_float(d[k]) for k in TIDY_COLUMNS[1:]),
                    math.inf if d.get("df") is None else float(d["df"]))  # to_dict writes an infinite df as null


class _Stored:
    """A section of a Result's JSON kept as it was written (its object lives in a later stage, or its shape is
    not one this stage rebuilds): ``to_dict()`` gives it back unchanged."""

    def __init__(self, data: Any):
        self._stored = data

    def to_dict(self) -> Any:
        return copy.deepcopy(self._stored)

    def summary_lines(self) -> list[str]:
        return ["(read back from JSON: this section is in to_dict() but is not rendered again)"]


def _typed(cls, d: dict, nested: dict | None = None):
    """A frozen dataclass from the dict its ``asdict`` wrote (lists back to tuples, null floats back to NaN)."""
    nested = nested or {}
    kwargs = {}
    for f in fields(cls):
        if f.name not in d:
            continue
        v = d[f.name]
        if f.name in nested and isinstance(v, list):
            v = tuple(_typed(nested[f.name], x) for x in v)
        elif isinstance(v, list) and "tuple" in str(f.type):
            v = tuple(tuple(x) if isinstance(x, list) else x for x in v)
        elif v is None and str(f.type) == "float":
            v = math.nan
        kwargs[f.name] = v
    return cls(**kwargs)


def _not_computed(d: Any) -> bool:
    return isinstance(d, dict) and d.get("computed") is False and set(d) == {"computed", "reason"}


def _part(d: Any, cls, key: str, nested: dict | None = None):
    if _not_computed(d):
        return NotComputed(d["reason"])
    if isinstance(d, dict) and key in d:
        try:
            return _typed(cls, d, nested)
        except (TypeError, ValueError, KeyError):
            pass
    return _Stored(d)


@dataclass(frozen=True)
class _ReadSensitivity(SensitivityReport):
    """The sensitivity step read back: its parts rebuilt for ``summary()``, its JSON kept as written."""

    stored: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return copy.deepcopy(self.stored)


def _sensitivity(d: Any):
    if d is None or _not_computed(d):
        return d if d is None else NotComputed(d["reason"])
    if not (isinstance(d, dict) and d.get("computed") and "ovb" in d and "evalue" in d):
        return _Stored(d)
    ev = d["evalue"]
    evalue = _part(ev, RDEValueResult, "est_evalue") if isinstance(ev, dict) and "est_evalue" in ev else \
        _part(ev, EValueResult, "evalue_point")
    ex = d.get("exclusion")
    if isinstance(ex, dict) and "uci" in ex:
        ex = {**ex, "uci_low": (ex["uci"] or [None, None])[0], "uci_high": (ex["uci"] or [None, None])[1]}
    exclusion = _part(ex, ExclusionSensitivity, "instrument")
    if isinstance(exclusion, _Stored):
        exclusion = _Stored(d.get("exclusion"))
    pt = d.get("parallel_trends")
    trends = None if pt == {"computed": False, "reason": "not a parallel-trends design"} else _trends(pt)
    ovb = _part(d["ovb"], SensitivityResult, "rv_q", {"bounds": BoundRow, "benchmarks": Benchmark})
    return _ReadSensitivity(reason=d.get("reason", ""), ovb=ovb, evalue=evalue, benchmark=d.get("benchmark", ""),
                            benchmark_rule=d.get("benchmark_rule", ""), exclusion=exclusion, parallel_trends=trends,
                            reduce=bool(d.get("reduce", True)), stored=copy.deepcopy(d))


def _trends(d: Any):
    """The parallel-trends report read back (HonestDiD's robust sets per restriction)."""
    if _not_computed(d):
        return NotComputed(d["reason"])
    try:
        analyses = tuple(NotComputed(a["reason"]) if _not_computed(a) else ParallelTrendsSensitivity(
            a["restriction"], a["method"], a["target"],
            tuple(HonestRow(_float(r["bound"]), _float(r["conf_low"]), _float(r["conf_high"])) for r in a["rows"]),
            tuple(_float(v) for v in a["original_ci"]), float(a["level"]), tuple(a["notes"])) for a in d["analyses"])
        return ParallelTrendsReport(analyses, tuple(d["pre_periods"]), tuple(d["post_periods"]))
    except (KeyError, TypeError, ValueError):
        return _Stored(d)


def _section(d: Any):
    return None if d is None else NotComputed(d["reason"]) if _not_computed(d) else _Stored(d)


def _read_plan(data: dict) -> Plan:
    p, vc = data["plan"], data["plan"]["vcov"]
    estimator = Estimator(p["estimator"])
    design = next((f.type for f in FAMILIES if estimator in f.fitters), "")
    return Plan(name=data["name"], treatment=data["treatment"], outcome=data["outcome"], estimand=data["estimand"],
                design=design, identified=bool(p["identified"]), strategy=Strategy(p["strategy"]),
                adjustment_set=tuple(p["adjustment_set"]), adjustment_source="", adjustment_rule="",
                minimal_adjustment_sets=tuple(tuple(m) for m in p["minimal_adjustment_sets"]),
                optimal_adjustment_set=None, covariates=tuple(p["covariates"]), decisions=(), estimator=estimator,
                estimator_reason="", formula=p["formula"], naive_formula="",
                vcov=VcovPlan(vc["kind"], tuple(vc["cluster"]), float(vc["level"]), vc["r_equivalent"]),
                assumptions=())


def _read_result(cls, data: Any) -> Result:
    if not isinstance(data, dict):
        raise _bad(f"it is a JSON {type(data).__name__}, not an object")
    _check_version(data)
    try:
        V = data["vcov"]
        return cls(
            plan=_read_plan(data), effect=_estimate(data["effect"]), naive=_estimate(data["naive"]),
            coefficients=tuple(_estimate(e) for e in data["estimates"]), vcov_terms=tuple(V["terms"]),
            vcov_matrix=tuple(tuple(_float(v) for v in row) for row in V["matrix"]), nobs=int(data["nobs"]),
            n_input=int(data["n_input"]), dropped=tuple((r["reason"], int(r["rows"])) for r in data["dropped"]),
            notes=tuple(data["notes"]), fit_stats=tuple((k, _float(v)) for k, v in data["diagnostics"].items()),
            sensitivity=_sensitivity(data["sensitivity"]), refutations=_section(data["refutations"]),
            specification_curve=_section(data["specification_curve"]), dag_tests=_section(data["dag_tests"]),
            extras=copy.deepcopy(data["design"]), warnings=tuple(data["warnings"]), data_source=data["data"])
    except KeyError as exc:
        raise _bad(f"the key {exc.args[0]!r} is missing") from None
    except (TypeError, ValueError, AttributeError) as exc:
        raise _bad(f"a value has the wrong type ({exc})") from None
