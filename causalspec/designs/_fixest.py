"""Planning and fitting shared by the fixed-effects families (panel, iv, did, event_study): fixed effects as
the DAG sees them, fixest's variance, the naive contrast without fixed effects, fit statistics.

DAG conventions: a fixed-effect column may appear in the DAG as a node standing for everything constant
within its levels (``nr -> union``, ``nr -> lwage``: the worker's time-invariant traits); such nodes are
adjusted for by the fixed effects, never as regressors.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd

from causalspec.designs._common import estimate_rows, find_row, treatment_terms, weights_of
from causalspec.errors import AdjustmentError, Problem, UnsupportedError
from causalspec.estimators.fixest import feols, fit_stats, interact
from causalspec.formula import materialize, quote_name
from causalspec.graph import DAG, is_adjustment_set, optimal_adjustment_set
from causalspec.inference._fixest import coeftable, fixest_vcov
from causalspec.planner import Identification, Strategy, VcovPlan
from causalspec.planner._backdoor import (
    find_alternatives,
    listed_minimal_sets,
    open_path_problem,
    unblockable_paths,
)
from causalspec.planner._vcov import fe_columns
from causalspec.sensitivity._factor import regressions_from_factor
from causalspec.sensitivity._from_data import Regressions, fit_linear, regressions_by_gram

__all__ = ["fixed_effects_of", "identify_given_fe", "ate_only", "design_estimand", "STRICT_EXOGENEITY", "fe_frame", "fixest_vcov_for", "rows_of",
           "regressor_matrix", "naive_contrast", "fixest_regressions", "fixest_stats", "singleton_drops"]


def fixed_effects_of(design) -> tuple[str, ...]:
    names = [n for n in (getattr(design, "unit", None), getattr(design, "time", None)) if n]
    names += list(getattr(design, "fixed_effects", ()))
    return tuple(dict.fromkeys(names))


def identify_given_fe(spec, dag: DAG, fes: tuple[str, ...]) -> Identification:
    """Backdoor identification where DAG nodes that are fixed-effect columns are adjusted for by the FE."""
    x, y = spec.treatment, spec.outcome
    forced = tuple(sorted(c for c in fe_columns(fes) if c in dag.nodes and c not in dag.latent))
    minimal = listed_minimal_sets(dag, x, y, required=not isinstance(spec.adjustment, tuple)) or ()
    optimal = optimal_adjustment_set(dag, x, y)
    optimal = tuple(optimal) if optimal is not None else None
    if isinstance(spec.adjustment, tuple):
        chosen = tuple(sorted(set(spec.adjustment) | set(forced)))
        if not is_adjustment_set(dag, x, y, chosen):
            raise AdjustmentError(open_path_problem(dag, x, y, chosen, spec.adjustment, "adjustment"))
        return Identification(True, Strategy.FIXED_EFFECTS, chosen, "explicit",
                                     "the spec's explicit adjustment list plus the fixed effects, checked against "
                                     "the DAG", minimal, optimal)
    candidates = [forced] + [tuple(sorted(set(forced) | set(s))) for s in minimal]
    valid = [c for c in candidates if is_adjustment_set(dag, x, y, c)]
    if not valid:
        return Identification(False, Strategy.NOT_IDENTIFIED, (), "auto", FE_RULE, minimal, optimal,
                                     unblockable_paths(dag, x, y), find_alternatives(dag, x, y))
    chosen = min(valid, key=lambda s: (len(s), s))
    return Identification(True, Strategy.FIXED_EFFECTS, chosen, "auto", FE_RULE, minimal, optimal)


FE_RULE = ("the fixed effects, plus the smallest minimal adjustment set that completes them (ties broken by "
            "name); DAG nodes that are fixed-effect columns are absorbed by the fixed effects")


def design_estimand(spec, what: str, estimand: str) -> str:
    """The estimand a design identifies, as the Plan labels it: the ATT for difference in differences, the LATE
    for 2SLS.  The spec's default (ATE) takes the design's label; any other estimand is refused with a located
    error that names the one the design estimates."""
    if spec.estimand in (estimand, "ATE"):
        return estimand
    raise UnsupportedError(Problem(
        "estimand", f"the {what} estimates the {estimand}, not the {spec.estimand}.",
        fix=f"Set estimand: {estimand}, or leave estimand out.", code="unsupported_estimand"))


def ate_only(spec, what: str, allowed=("ATE",)) -> None:
    if spec.estimand not in allowed:
        raise UnsupportedError(Problem(
            "estimand", f"the {what} estimates the {' / '.join(allowed)}, not the {spec.estimand}.",
            fix=f"Set estimand: {allowed[0]}.", code="unsupported_estimand"))


STRICT_EXOGENEITY = ("Strict exogeneity: given the fixed effects (and the regressors), the treatment is unrelated "
                      "to the outcome's shocks in every period — no time-varying confounder, no feedback from past "
                      "outcomes to the treatment.")


def fe_frame(frame: pd.DataFrame, fes) -> pd.DataFrame:

    out = {}
    for fe in fes:
        parts = [c.strip() for c in fe.split("^")]
        out[fe] = frame[parts[0]].to_numpy() if len(parts) == 1 else interact(*(frame[c].to_numpy() for c in parts))
    return pd.DataFrame(out, index=frame.index, copy=False)  # the columns as they are: no consolidating copy


def fixest_vcov_for(fit, vc: VcovPlan, frame: pd.DataFrame):

    if vc.kind == "iid":
        return fixest_vcov(fit, "iid")
    if vc.kind == "HC1":
        return fixest_vcov(fit, "hetero")
    if fit.fe is not None and all(c in fit.fe.names for c in vc.cluster):
        return fixest_vcov(fit, "cluster", tuple(vc.cluster))  # the FE's codes: no second encoding
    return fixest_vcov(fit, "cluster", fe_frame(frame, vc.cluster))


def regressor_matrix(plan, frame: pd.DataFrame, terms: list[str], intercept: bool):

    rhs = " + ".join(terms)
    design = materialize(f"{quote_name(plan.outcome)} ~ {rhs}", frame)
    keep = [i for i, t in enumerate(design.terms) if intercept or t != "(Intercept)"]
    adjacent = bool(keep) and keep == list(range(keep[0], keep[0] + len(keep)))
    X = design.X[:, keep[0]:keep[0] + len(keep)] if adjacent else design.X[:, keep]  # a view: no n x k copy
    return design, X, [design.terms[i] for i in keep]


def rows_of(frame: pd.DataFrame, rows: pd.Index) -> pd.DataFrame:
    """``frame.loc[rows]`` without the copy when ``rows`` are all of the frame's rows (no row dropped)."""
    return frame if len(rows) == len(frame) else frame.loc[rows]


def naive_contrast(plan, frame: pd.DataFrame, vc: VcovPlan, rows_mask=None, main=None):
    """outcome ~ treatment (with an intercept, no fixed effects) on the same rows and the same variance type.

    ``main``: the design's fixed-effects fit on these same rows; a cluster that is one of its fixed effects
    reuses that FE's codes (dense integers: recoded without hashing) instead of encoding the column again."""

    sub = frame if rows_mask is None else frame.loc[rows_mask]
    design, X, names = regressor_matrix(plan, sub, [quote_name(plan.treatment)], True)
    rows = rows_of(sub, design.rows)
    fit = feols(design.y, X, names, weights=weights_of(plan, rows))
    fe = getattr(main, "fe", None)
    if (vc.kind not in ("iid", "HC1") and fe is not None and main.nobs == fit.nobs and rows_mask is None
            and all(c in fe.names for c in vc.cluster)):
        V = fixest_vcov(fit, "cluster", pd.DataFrame({c: fe.codes[fe.names.index(c)] for c in vc.cluster}))
    else:
        V = fixest_vcov_for(fit, vc, rows)
    rows = estimate_rows(coeftable(fit, V, vc.level), V.df_t)
    return find_row(rows, *treatment_terms(plan.treatment))


def fixest_regressions(fit, term: str, outcome: str):
    """Outcome and treatment regressions on the demeaned data with fixest's residual dof, for sensemakr.

    The outcome regression is the fit itself and the treatment regression comes from its Cholesky factor of
    X'WX (no n x k copy) when every weight is positive; otherwise both are fitted again on the demeaned data."""

    y_dm = fit.resid + fit.X @ fit.coef
    n_fe = fit.nparams - len(fit.names)

    def with_dof(lf, extra_params):
        dof = lf.nobs - len(lf.names) - extra_params
        return replace(lf, dof=dof, sigma2=lf.sigma2 * (lf.nobs - len(lf.names)) / dof)

    names = list(fit.names)
    if term in names and (fit.weights is None or np.all(fit.weights > 0)):
        reg = regressions_from_factor(names, fit.xwx_chol, fit.coef, y_dm, fit.resid, fit.X[:, names.index(term)],
                                      outcome, term, fit.weights)
        if reg is not None:
            return replace(reg, fit=with_dof(reg.fit, n_fe), dfit=with_dof(reg.dfit, n_fe))
    X = pd.DataFrame(fit.X, columns=names)
    if fit.weights is not None:  # weighted least squares = OLS on sqrt(w)-scaled (demeaned) data
        root = np.sqrt(fit.weights)
        X = X.mul(root, axis=0)
        y_dm = y_dm * root
    others = [c for c in names if c != term]
    fast = regressions_by_gram(y_dm, X, term)  # one Gram matrix, QR below when ill conditioned
    if fast is not None:
        out, dfit = fast
    else:
        out = fit_linear(y_dm, X)
        other_x = X[others] if others else pd.DataFrame({"(Intercept)": np.ones(len(X))})
        dfit = fit_linear(X[term].to_numpy(float), other_x)
    return Regressions(outcome, term, with_dof(out, n_fe), with_dof(dfit, n_fe), tuple(X.columns))


def fixest_numbers(fit, V, cluster: tuple[str, ...] = ()) -> dict:
    """What fixest reports about a fit beyond its coefficients: fixed-effect sizes, the levels removed as
    singletons, ``degrees_freedom(fit, "k")`` and ``"t"`` of the variance, and the clusters per variable."""
    removed = {str(k): [v.item() if hasattr(v, "item") else v for v in vals]
               for k, vals in (fit.sample.fixef_removed or {}).items() if len(vals)}
    out = {"fixed_effects": dict(fit.fixef_sizes) if fit.fe is not None else {},
           "singleton_levels_removed": removed,
           "degrees_freedom": {"k": int(V.df_k), "t": int(V.df_t),
                               "r_equivalent": 'fixest::degrees_freedom(fit, "k") / (fit, "t")'}}
    if V.n_clusters:
        out["clusters"] = dict(zip(cluster, (int(g) for g in V.n_clusters)))
    return out


def fixest_stats(fit, n_coef: int | None = None) -> tuple:
    """fixest's fit statistics; ``n_coef``: the coefficients fixest counts in the within adjusted R2 (for a
    Sun-Abraham fit, the aggregated periods that ``coef()`` returns, not the cohort x period ones)."""
    return tuple((k, float(v)) for k, v in fit_stats(fit, n_coef=n_coef).items() if isinstance(v, (int, float)) and v is not None
                 and math.isfinite(float(v)))


def singleton_drops(fit) -> tuple:
    if fit.sample.n_singletons:
        return (("fixed-effect singletons (fixef.rm = 'singleton')", int(fit.sample.n_singletons)),)
    return ()

