"""Stage 3 of the flow: the design families, and the two spine steps that dispatch to them.

``FAMILIES`` is the only registry: an explicit tuple of :class:`Family` records, one per ``design.type``, each
defined in its own folder (``designs/<family>/``) next to the schema module of the same name in ``spec/``.
Nothing registers itself at import.  :func:`plan` turns a Spec into a Plan through its family; :func:`fit`
estimates a Plan on a DataFrame through the family's fitter and checks and returns a :class:`Fit`.
See docs/architecture.md for the four places a new family touches.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from causalspec._data import check_columns, check_levels, is_constant
from causalspec.designs import (
    did,
    event_study,
    experiment,
    interrupted_time_series,
    iv,
    observational,
    panel,
    regression_discontinuity,
    synthetic_control,
)
from causalspec.designs._family import Family, Fit
from causalspec.designs._heterogeneity import fit_heterogeneity
from causalspec.designs._model_formula import plan_from_formula
from causalspec.errors import DataError, EstimationError, Problem, UnsupportedError
from causalspec.planner import Estimator, Plan, assemble
from causalspec.planner._heterogeneity import plan_heterogeneity

__all__ = ["FAMILIES", "Family", "Fit", "family_for", "plan", "fit", "complete_cases", "used_columns", "FEW_CLUSTERS",
           "few_clusters_warning"]

FAMILIES: tuple[Family, ...] = (
    observational.FAMILY,
    experiment.FAMILY,
    panel.FAMILY,
    iv.FAMILY,
    did.FAMILY,
    event_study.FAMILY,
    regression_discontinuity.FAMILY,
    synthetic_control.FAMILY,
    interrupted_time_series.FAMILY,
)

_BY_TYPE = {f.type: f for f in FAMILIES}


def family_for(design_type: str) -> Family:
    """The family record of a design type (the spec's ``design.type``)."""
    found = _BY_TYPE.get(design_type)
    if found is None:
        raise UnsupportedError(Problem(
            "design.type", f"the {design_type} design is not implemented in this version.",
            fix=f"Use one of {', '.join(_BY_TYPE)}.", code="unsupported_design"))
    return found


def plan(spec) -> Plan:
    """Plan an analysis through its design family; needs no data.  See :func:`causalspec.plan`."""
    family = family_for(spec.design.type)
    dag = spec.graph
    if spec.model is not None and family.model_formula:
        fields = plan_from_formula(spec, dag)
    else:
        fields = family.plan(spec, dag)
    if spec.weights is not None:
        fields = _weighted(spec, fields)
    het = plan_heterogeneity(spec, dag, fields.get("adjustment_set", ()))
    if het is None and spec.heterogeneity is not None and spec.design.type != "observational":
        raise UnsupportedError(Problem(
            "heterogeneity", f"effect modification is fitted in the observational design (OLS regression "
            f"adjustment) in this version, not in the {spec.design.type} design.",
            fix="Remove heterogeneity." + (" In an experiment, the lin estimator interacts every covariate with the "
                                           "treatment (design.estimator: lin)." if spec.design.type == "experiment"
                                           else ""), code="heterogeneity_unsupported"))
    planned = assemble(spec, fields, default_refutations=family.default_refutations,
                       sensitivity_off=family.sensitivity_off,
                       compares_adjustment_sets=family.compares_adjustment_sets,
                       event_study=family.event_study_coefficients)
    if het is None:
        return planned
    extra = tuple(c for c in het.columns() if c not in planned.columns)
    where = dict(spec.heterogeneity.data_columns())
    return replace(planned, heterogeneity=het, columns=planned.columns + extra,
                   column_fields=planned.column_fields + tuple((c, where.get(c, "heterogeneity")) for c in extra))


# estimators that take observation weights, with the R call whose weights they match
_FEOLS_WEIGHTS = "fixest::feols(weights = ~w)"
WEIGHTED = {Estimator.OLS: "lm(weights = w) / estimatr::lm_robust(weights = w)", Estimator.DID_2X2: "lm(weights = w)",
            Estimator.FEOLS: _FEOLS_WEIGHTS, Estimator.TWFE: _FEOLS_WEIGHTS, Estimator.EVENT_STUDY: _FEOLS_WEIGHTS,
            Estimator.SUN_ABRAHAM: _FEOLS_WEIGHTS,
            Estimator.IV_2SLS: "AER::ivreg(weights = w) / fixest::feols(y ~ x | fe | d ~ z, weights = ~w)"}


def _weighted(spec, fields: dict) -> dict:
    """Weights are planned where the estimator takes them; refused (at ``weights``) where it does not."""
    est = fields["estimator"]
    why = ""
    if est not in WEIGHTED:
        why = f"the {est.value} estimator does not take observation weights in this version"
    elif spec.inference.wild_bootstrap is not None:
        why = "the wild cluster bootstrap is not implemented with observation weights"
    elif est is Estimator.FEOLS and fields["vcov"].kind in ("CR0_estimatr", "CR2", "stata"):
        why = f"{fields['vcov'].kind} with fixed effects (estimatr::lm_robust(fixed_effects = )) is not implemented " \
              "with observation weights"
    if why:
        raise UnsupportedError(Problem("weights", f"{why}.", fix=f"Remove weights, or use an estimator that takes "
                                       f"them ({', '.join(e.value for e in WEIGHTED)}).", code="weights_unsupported"))
    note = f"observation weights {spec.weights!r} ({WEIGHTED[est]}); rows with weight 0 are dropped"
    return {**fields, "notes": (*fields.get("notes", ()), note)}


def check_weights(frame: pd.DataFrame, column: str) -> tuple[pd.DataFrame, tuple[tuple[str, int], ...]]:
    """Weights must be finite numbers >= 0 (a located error otherwise); rows with weight 0 are dropped and
    counted, as fixest does (lm keeps them out of the residual degrees of freedom)."""
    w = frame[column]
    if not pd.api.types.is_numeric_dtype(w) or pd.api.types.is_bool_dtype(w):
        raise DataError(Problem("weights", f"the weights column {column!r} is not numeric ({w.dtype}).",
                                fix="Use a numeric column of weights.", code="weights_invalid"))
    values = w.to_numpy(float)
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        first = frame.index[np.flatnonzero(bad)[0]]
        raise DataError(Problem("weights", f"{int(bad.sum())} weight(s) in {column!r} are negative or not finite "
                                f"(first at row {first!r}: {values[bad][0]!r}).",
                                fix="Weights must be numbers >= 0; fix or drop those rows.", code="weights_invalid"))
    zero = values == 0
    if not zero.any():
        return frame, ()
    return frame.loc[~zero], ((f"weight 0 in {column!r}", int(zero.sum())),)


def complete_cases(frame: pd.DataFrame, columns: tuple[str, ...],
                   carry: tuple[str, ...] = ()) -> tuple[pd.DataFrame, tuple[tuple[str, int], ...]]:
    """Drop rows with a missing value in ``columns``; count each by the first missing column (R's na.omit).

    ``carry`` columns come along with missing values allowed (a synthetic control's predictors, which average
    the periods they have)."""
    carry = [c for c in carry if c not in columns]
    sub = frame.loc[:, list(columns) + carry]
    bad = np.zeros(len(sub), dtype=bool)
    for c in columns:  # one boolean column at a time (no n x k mask frame when nothing is missing)
        bad |= sub[c].isna().to_numpy()
    if not bad.any():
        return sub, ()
    missing = np.column_stack([sub[c].isna().to_numpy() for c in columns])
    first = missing[bad].argmax(axis=1)
    counts = np.bincount(first, minlength=len(columns))
    dropped = tuple((f"missing values in {columns[i]!r}", int(c)) for i, c in enumerate(counts) if c)
    return sub.loc[~bad], dropped


def used_columns(plan: Plan) -> dict[str, str]:
    """Every column the plan reads, mapped to the spec field that names it (for error locations)."""
    columns = dict(plan.column_fields)
    for v in plan.columns:
        columns.setdefault(v, "data")
    return columns


def fit(plan: Plan, data: pd.DataFrame) -> Fit:
    """Estimate a plan: the same complete-case sample for every estimator, the family's fitter, its checks.

    Every estimator sees the same sample: rows with a missing value in any column the plan uses (outcome,
    treatment, adjustment set, covariates, cluster) are removed first, counted by the first column that is
    missing, as R's ``na.omit`` removes them.
    """
    if not plan.identified:
        raise plan.identification_error()
    family = family_for(plan.design)
    fitter = family.fitters.get(plan.estimator)
    if fitter is None:
        raise UnsupportedError(Problem("design.estimator", f"the {plan.estimator.value} estimator is not "
                                       f"available for the {plan.design} design.",
                                       fix=f"Choose one of {', '.join(e.value for e in family.fitters)}.",
                                       code="unsupported_estimator"))
    check_columns(data, used_columns(plan), outcome=plan.outcome, treatment=plan.treatment)
    absent = [d.node for d in plan.decisions
              if d.role != "latent" and d.node not in data.columns]  # the plan's own columns are checked above
    if absent:  # the DAG says it is measured; unmeasured nodes are declared, so the plan's roles are the data's
        raise DataError(Problem(
            "dag.latent", f"{', '.join(map(repr, absent))} {'is a node' if len(absent) == 1 else 'are nodes'} of the "
            "DAG but not a column of the data.", fix="Add the column to the data, or list the node under "
            "dag.latent if it is not measured (the planner then never adjusts for it).", code="node_not_in_data"))
    frame, dropped = complete_cases(data, plan.columns, getattr(plan.settings, "partial_columns", ()))
    if plan.weights is not None:
        frame, zero = check_weights(frame, plan.weights)
        dropped = dropped + zero
    if len(frame) == 0:
        raise EstimationError(Problem("data", "no rows are left after removing rows with missing values "
                                      f"({', '.join(f'{n} for {r}' for r, n in dropped)}).",
                                      fix="Check the columns the plan uses for missing values."))
    if is_constant(frame[plan.treatment]):
        raise EstimationError(Problem("treatment", f"the treatment {plan.treatment!r} is constant in the rows "
                                      "left after removing missing values.", fix="Check the data."))
    for column, field in plan.column_fields:  # a text regressor becomes one column per level: bound it
        if field in ("data", "dag") or field.startswith(("adjustment[", "covariates[")):
            check_levels(frame, column, field)
    outcome = frame[plan.outcome]
    if pd.api.types.is_numeric_dtype(outcome) and is_constant(outcome):
        raise EstimationError(Problem("outcome", f"the outcome {plan.outcome!r} is constant in the rows analysed "
                                      f"({outcome.iloc[0]!r}): there is no variation to attribute to the treatment, "
                                      "and any confidence interval would be meaningless.",
                                      fix="Check the outcome column and the rows kept.", code="constant_outcome"))
    out = fitter(plan, frame)
    for check in family.checks:
        out = check(plan, frame, out)
    if plan.heterogeneity is not None:  # the CATE learner, beside the design's average effect
        out = replace(out, extras={**out.extras, "cate": fit_heterogeneity(
            plan.heterogeneity, frame, plan.treatment, plan.outcome)})
    out = replace(out, warnings=tuple(out.warnings) + _few_clusters(plan, frame))
    return replace(out, dropped=dropped + tuple(out.dropped), n_input=len(data),
                   control_risk=_control_risk(frame, plan))


FEW_CLUSTERS = 30


def _few_clusters(plan: Plan, frame: pd.DataFrame) -> tuple[str, ...]:
    """CR0 / CR1 / stata standard errors are too small with few clusters (Cameron, Gelbach & Miller 2008)."""
    vc = plan.vcov
    if not vc.cluster or not all(c in frame.columns for c in vc.cluster):
        return ()
    return few_clusters_warning(vc, {c: int(frame[c].nunique()) for c in vc.cluster})


def few_clusters_warning(vc, counts: dict[str, int]) -> tuple[str, ...]:
    """The few-clusters warning for a CR0 / CR1 / stata variance, given each cluster column's count (from the
    frame in memory, from the engine's GROUP BY on an engine)."""
    if vc.kind not in ("CR0", "CR1", "stata") or not counts:
        return ()
    few = {c: g for c, g in counts.items() if g < FEW_CLUSTERS}
    if not few:
        return ()
    text = ", ".join(f"{g} clusters of {c!r}" for c, g in few.items())
    return (f"few clusters: {text} (fewer than {FEW_CLUSTERS}); {vc.kind} standard errors understate the "
            "uncertainty with so few. Use vcov: CR2 (Bell-McCaffrey, estimatr) or the wild cluster bootstrap "
            "(inference.wild_bootstrap).",)


def _control_risk(frame: pd.DataFrame, plan: Plan) -> float | None:
    """The outcome's mean among the controls when the outcome is 0/1 (the E-value's risk-ratio route needs it)."""
    y = frame[plan.outcome]
    if not pd.api.types.is_numeric_dtype(y):
        return None
    head = y.iloc[:1000].to_numpy(dtype=float, na_value=np.nan)
    if not np.all((head == 0.0) | (head == 1.0) | np.isnan(head)):  # a continuous outcome: seen at once
        return None
    v = y.to_numpy(dtype=float, na_value=np.nan)
    v = v[~np.isnan(v)]
    if not np.all((v == 0.0) | (v == 1.0)):  # a vectorised test of 0/1, not a set of every distinct value
        return None
    control = y[frame[plan.treatment].astype(float) == 0]
    return float(control.mean()) if len(control) else None
