"""A Plan fitted on an engine: which plans can be (refused at plan time otherwise), and the fit itself.

The planner and the spec are unchanged; only fitting changes.  :func:`refusals` is called by
``causalspec.plan`` / ``causalspec check`` when the spec says ``engine: duckdb`` or ``spark``: every spec field
is either computed on the engine as in memory or refused here, located at the field, with the way out (the
engine's supported choice, a sample of the data, or ``engine: memory``).  :func:`fit_plan` maps the plan's
estimator and variance to the engine estimators and returns the same :class:`~causalspec.designs.Fit` the
in-memory fitter returns (coefficients, SEs, statistics, nobs, rows dropped by reason).
"""

from __future__ import annotations

import numpy as np

from causalspec.designs import FEW_CLUSTERS, Fit, few_clusters_warning
from causalspec.designs._common import estimate_rows, find_row, treatment_terms
from causalspec.engines._cs import fit_callaway_santanna_engine
from causalspec.engines._did import did_2x2
from causalspec.engines._estimators import feols, ols
from causalspec.engines._experiment import fit_experiment_engine
from causalspec.engines._ols import ENGINE_VCOV, EngineFit
from causalspec.engines._open import check_query, is_glob
from causalspec.engines._sql import Source
from causalspec.errors import CausalSpecError, Problem
from causalspec.planner import Estimator, Plan
from causalspec.spec import DataSpec

__all__ = ["refusals", "fit_plan", "query_problems", "memory_data_problems", "SUPPORTED", "FEW_CLUSTERS"]

#: (design type, estimator) -> the design fields the engine path reads; every other design field must be at
#: its default (a field the engine would not read is refused, never ignored).
SUPPORTED: dict[tuple[str, Estimator], frozenset[str]] = {
    ("observational", Estimator.OLS): frozenset({"type", "estimator"}),
    ("panel", Estimator.FEOLS): frozenset({"type", "estimator", "unit", "time", "fixed_effects", "singletons"}),
    ("did", Estimator.DID_2X2): frozenset({"type", "estimator", "group", "post"}),
    # without covariates and with analytical (pointwise) intervals: did's cells from cohort moments (_cs.py)
    ("event_study", Estimator.CALLAWAY_SANTANNA): frozenset({
        "type", "estimator", "unit", "time", "first_treated", "control_group", "est_method", "anticipation",
        "base_period", "aggregation", "min_e", "max_e", "balance_e"}),
    # every experiment setting: each number is a function of the arms' moments (_experiment.py, EngineArms)
    **{("experiment", e): frozenset({"type", "estimator", "planned_split", "srm_alpha", "metric", "cuped",
                                     "guardrails", "decision"}) for e in (Estimator.DIFFERENCE_IN_MEANS, Estimator.LIN)},
}
_FE_VCOV = ("iid", "HC1", "CR1")
_EXPERIMENT_VCOV = ("neyman", "HC0", "HC1", "HC2", "HC3")
_MEMORY = "or engine: memory (on the data, or on a sample of it)"


def _default(model, name: str):
    return type(model).model_fields[name].get_default(call_default_factory=True)


def refusals(spec, plan: Plan, engine: str) -> list[Problem]:
    """Every reason ``plan`` cannot be fitted on ``engine``, located at the spec field (empty: it can); ``spec``
    may be None (``causalspec.fit`` on an engine's data: the plan's own settings are checked)."""
    out: list[Problem] = []
    key = (plan.design, plan.estimator)
    if key not in SUPPORTED:
        names = ", ".join(f"{d} {e.value}" for d, e in SUPPORTED)
        out.append(Problem("engine", f"the {plan.design} design's {plan.estimator.value} estimator is not computed "
                           f"by the {engine} engine (it runs {names}).",
                           fix="Use engine: memory (on the data, or on a sample of it), or one of those designs.",
                           code="engine_estimator_unsupported"))
        return out
    if spec is not None:
        design = spec.design
        for name in type(design).model_fields:
            if name not in SUPPORTED[key] and getattr(design, name) != _default(design, name):
                out.append(Problem(f"design.{name}", f"{name} is not read by the {engine} engine's "
                                   f"{plan.estimator.value} fit.", fix=f"Remove it, {_MEMORY}.",
                                   code="engine_field_unsupported"))
    settings = plan.settings
    if getattr(settings, "fixef_rm", "none") != "none":
        out.append(Problem("design.singletons", "dropping fixed-effect singletons is not done by the engine.",
                           fix=f"Use singletons: keep (fixest's default), {_MEMORY}.", code="engine_singletons"))
    if plan.estimator is Estimator.CALLAWAY_SANTANNA:
        if plan.covariates:
            out.append(Problem("covariates", f"Callaway & Sant'Anna with covariates fits a propensity score and an "
                               f"outcome regression per cell, which the {engine} engine does not.",
                               fix=f"Remove covariates (unconditional parallel trends), {_MEMORY}.",
                               code="engine_field_unsupported"))
    if plan.design == "experiment" and plan.vcov.cluster:
        out.append(Problem("inference.cluster", f"a clustered experiment is not computed by the {engine} engine: "
                           "estimatr's CR2 with Bell-McCaffrey df and the cluster-level sample-ratio and ratio-metric "
                           "checks need each cluster's rows.", fix=f"Remove inference.cluster (units were randomized), "
                           f"{_MEMORY}.", code="engine_field_unsupported"))
    kinds = (_FE_VCOV if plan.estimator is Estimator.FEOLS else
             _EXPERIMENT_VCOV if plan.design == "experiment" else ENGINE_VCOV)
    if plan.estimator is not Estimator.CALLAWAY_SANTANNA and not (plan.design == "experiment" and plan.vcov.cluster) \
            and plan.vcov.kind not in kinds:
        why = ("it needs each cluster's block of the hat matrix, not a sum over rows" if plan.vcov.kind == "CR2"
               else "the engine computes fixest's iid, HC1 and CR1 with fixed effects")
        default = spec is not None and spec.inference.vcov is None
        out.append(Problem("inference.vcov", f"{plan.vcov.kind} is not computed by the {engine} engine: {why}"
                           + (f" ({plan.vcov.kind} is this design's default)." if default else "."),
                           fix=f"Set vcov to one of {', '.join(kinds)}, {_MEMORY}.", code="engine_vcov_unsupported"))
    heterogeneity = plan.heterogeneity or getattr(settings, "heterogeneity", None)
    formula = getattr(settings, "model_formula", None) or (spec is not None and spec.model is not None)
    for field, value, what in (("weights", plan.weights, "observation weights"),
                               ("heterogeneity", heterogeneity, "effect modification"),
                               ("model", formula or None, "a model formula"),
                               ("inference.wild_bootstrap", getattr(settings, "wild_bootstrap", None),
                                "the wild bootstrap")):
        if value is not None:
            out.append(Problem(field, f"{what} is not computed by the {engine} engine.",
                               fix=f"Remove {field}, {_MEMORY}.", code="engine_field_unsupported"))
    if plan.sensitivity.enabled:
        out.append(Problem("sensitivity.enabled", f"the sensitivity step (omitted-variable bounds with benchmarks, "
                           f"E-value, refutation tests) needs the rows and is not computed by the {engine} engine.",
                           fix=f"Set sensitivity: {{enabled: false}}, {_MEMORY} to run it.",
                           code="engine_sensitivity"))
    if spec is not None:
        out += _data_problems(spec.data, engine)
    return out


def _data_problems(data, engine: str) -> list[Problem]:
    if engine == "spark" and isinstance(data, DataSpec) and (data.table or data.query):
        return [Problem("data", "the spark engine reads Parquet paths; a table or a query is for duckdb.",
                        fix="Run the query in Spark and pass the DataFrame to causalspec.run(spec, data=...), "
                            "or engine: duckdb.", code="engine_bad_source")]
    return query_problems(data)


def query_problems(data) -> list[Problem]:
    """The spec's query parsed by DuckDB's parser (never run): [] when it is one SELECT (or there is none)."""
    if isinstance(data, DataSpec) and data.query is not None:
        try:
            check_query(data)
        except CausalSpecError as exc:
            return list(exc.problems)
    return []


def memory_data_problems(data) -> list[Problem]:
    """What ``engine: memory`` cannot read: a glob (one file at a time in memory)."""
    text = data.path if isinstance(data, DataSpec) else data
    if isinstance(text, str) and is_glob(text):
        return [Problem("data", f"{text!r} is a glob; the in-memory reader reads one file.",
                        fix="Set engine: duckdb (or auto), or name one file.", code="engine_glob_in_memory")]
    return []


def _rows(fit: EngineFit, booleans: frozenset[str]):
    table = fit.table()
    table["term"] = [f"{t}TRUE" if t in booleans else t for t in table.term]
    return estimate_rows(table, fit.df), tuple(table.term)


def _few_clusters(plan: Plan, fit: EngineFit) -> tuple[str, ...]:
    vc = plan.vcov
    if not vc.cluster or len(fit.n_clusters) < len(vc.cluster):
        return ()
    return few_clusters_warning(vc, dict(zip(vc.cluster, fit.n_clusters)))


def fit_plan(plan: Plan, source: Source) -> Fit:
    """The plan's estimate on the engine: the in-memory Fit's numbers, computed from aggregates."""
    if not plan.identified:
        raise plan.identification_error()
    vc, fields = plan.vcov, dict(plan.column_fields)
    booleans = frozenset(c for c in plan.columns if c in source.columns and source.type_of(c) == "boolean")
    if plan.estimator is Estimator.CALLAWAY_SANTANNA:
        return fit_callaway_santanna_engine(plan, source)
    if plan.design == "experiment":
        return fit_experiment_engine(plan, source)
    if plan.estimator is Estimator.FEOLS:
        s = plan.settings
        main = feols(source, plan.outcome, (plan.treatment, *s.regressors), s.fixed_effects, vcov=vc.kind,
                     cluster=vc.cluster, level=vc.level, columns=plan.columns, fields=fields)
        naive = feols(source, plan.outcome, (plan.treatment,), (), vcov=vc.kind, cluster=vc.cluster,
                      level=vc.level, columns=plan.columns, fields=fields)
        extras = {"fixed_effects": {k: int(v) for k, v in main.extras.get("fixed_effects", {}).items()},
                  "engine": source.backend.name}
    elif plan.estimator is Estimator.DID_2X2:
        s = plan.settings
        main = did_2x2(source, plan.outcome, s.post, s.group, vcov=vc.kind, cluster=vc.cluster, level=vc.level,
                       columns=plan.columns)
        naive = None
        extras = {"did_term": s.did_term, "engine": source.backend.name}
    else:
        regressors = tuple(dict.fromkeys((plan.treatment, *plan.adjustment_set, *plan.covariates)))
        main = ols(source, plan.outcome, regressors, vcov=vc.kind, cluster=vc.cluster, level=vc.level,
                   columns=plan.columns, fields=fields)
        naive = ols(source, plan.outcome, (plan.treatment,), vcov=vc.kind, cluster=vc.cluster, level=vc.level,
                    columns=plan.columns, fields=fields)
        extras = {"engine": source.backend.name}
    rows, terms = _rows(main, booleans)
    if plan.estimator is Estimator.DID_2X2:
        effect = find_row(rows, plan.settings.did_term)
        naive_est = _did_naive(plan, source, booleans)
    else:
        effect = find_row(rows, *treatment_terms(plan.treatment))
        naive_est = find_row(_rows(naive, booleans)[0], *treatment_terms(plan.treatment))
    stats_ = _stats(plan, main)
    notes = (*main.notes, f"fitted on the {source.backend.name} engine from aggregates ({source.label})")
    return Fit(effect, naive_est, rows, terms, np.asarray(main.vcov), main.nobs, tuple(main.dropped),
               notes, stats_, extras=extras, warnings=_few_clusters(plan, main), n_input=main.n_input)


def _stats(plan: Plan, fit: EngineFit) -> tuple[tuple[str, float], ...]:
    """The fit statistics the in-memory fit reports, under the same names: fixest's r2, ar2, wr2, war2, rmse,
    sigma, ssr with fixed effects; lm's r2, adj_r2, sigma, df_residual, rank and the F test without."""
    s = dict(fit.stats)
    if plan.estimator is Estimator.FEOLS and plan.settings.fixed_effects:
        keys = ("r2", "ar2", "wr2", "war2", "rmse", "sigma", "ssr")
    elif plan.estimator is Estimator.DID_2X2:
        keys = ("r2", "adj_r2", "sigma", "df_residual")
    else:
        keys = ("r2", "adj_r2", "sigma", "df_residual", "rank", "fstat", "fstat_p_value")
    return tuple((k, float(s[k])) for k in keys if k in s)


def _did_naive(plan: Plan, source: Source, booleans):
    """The after-period contrast of the groups (lm(y ~ group) where post == 1), as in memory."""
    s, vc = plan.settings, plan.vcov
    b = source.backend
    view = b.fresh("after")
    b.view(view, f"SELECT * FROM {source.view} WHERE CAST({b.quote(s.post)} AS DOUBLE) = 1")
    after = Source(b, view, f"{source.label} (after)")
    fit = ols(after, plan.outcome, (s.group,), vcov=vc.kind, cluster=vc.cluster, level=vc.level,
              columns=plan.columns)
    return find_row(_rows(fit, booleans)[0], *treatment_terms(s.group))
