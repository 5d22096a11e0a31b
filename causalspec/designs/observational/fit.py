"""Fitting OLS regression adjustment: lm() on the planner's formula with the plan's variance (sandwich /
estimatr), the naive contrast on the same rows, and the regressions the sensitivity step needs."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dataclasses import replace

from causalspec.designs._common import estimate_rows, find_row, treatment_terms, weights_of
from causalspec.designs.observational.heterogeneity import (
    default_values,
    interactions,
    modifier_code,
    wald_interactions,
)
from causalspec.designs._family import Fit
from causalspec.errors import EstimationError, Problem
from causalspec.estimators._linear import fit_ols
from causalspec.formula import materialize
from causalspec.inference import coef_table, vcov as compute_vcov
from causalspec.inference._wild import wild_cluster_bootstrap
from causalspec.planner import Plan, VcovPlan
from causalspec.sensitivity import regressions_from_design, regressions_from_factor

__all__ = ["fit_ols_adjustment"]


def _spanned_without_treatment(design, fit, variable: str, treatment: str) -> bool:
    """Whether a column lm dropped is still adjusted for: it lies in the span of the other kept regressors
    other than the treatment (a duplicate of another confounder), rather than being collinear with the
    treatment or numerically degenerate."""
    terms = list(design.terms)
    j = next(i for i, t in enumerate(terms) if t in (variable, f"`{variable}`"))
    others = [i for i in fit.kept if terms[i] not in treatment_terms(treatment)]
    column = design.X[:, j]
    if not np.all(np.isfinite(column)) or not others:
        return False
    basis = design.X[:, others]
    with np.errstate(all="ignore"):  # a column of 1e308 overflows: it is degenerate, not spanned
        coef, *_ = np.linalg.lstsq(basis, column, rcond=None)
        scale = float(np.linalg.norm(column))
        residual = float(np.linalg.norm(column - basis @ coef))
    return bool(np.isfinite(scale) and np.isfinite(residual) and residual <= 1e-8 * max(scale, 1.0))


def _naive_design(plan: Plan, design, frame: pd.DataFrame):
    """The naive ``outcome ~ treatment`` design on the fitted rows.  When the treatment is a numeric or logical
    column, its model matrix is the main design's intercept and treatment columns (the same values on the same
    rows), taken as a view when they are adjacent instead of being built again; otherwise it is materialised."""
    lhs, rhs = (part.strip() for part in plan.naive_formula.split("~", 1))
    column = frame[plan.treatment] if plan.treatment in frame.columns else None
    if (column is not None and len(design.y) == len(frame) and lhs == plan.formula.split("~", 1)[0].strip()
            and rhs == plan.treatment and pd.api.types.is_numeric_dtype(column)):
        term = f"{plan.treatment}TRUE" if pd.api.types.is_bool_dtype(column) else plan.treatment
        if "(Intercept)" in design.terms and term in design.terms:
            i, j = design.terms.index("(Intercept)"), design.terms.index(term)
            X = design.X[:, i:i + 2] if j == i + 1 else design.X[:, [i, j]]
            return replace(design, X=X, terms=("(Intercept)", term), formula=plan.naive_formula)
    return materialize(plan.naive_formula, frame)


def _cluster_values(frame: pd.DataFrame, cluster: tuple[str, ...]):
    return frame.loc[:, list(cluster)] if cluster else None


def fit_ols_adjustment(plan: Plan, frame: pd.DataFrame) -> Fit:
    """OLS regression adjustment; matches stats::lm with sandwich::vcovHC / vcovCL or estimatr::lm_robust."""
    vc = plan.vcov
    design = materialize(plan.formula, frame)
    if len(design.y) != len(frame):
        # a transform produced missing values (e.g. log(0)); keep the cluster rows aligned
        frame = frame.loc[design.rows]
    weights = weights_of(plan, frame)
    het = getattr(plan.settings, "heterogeneity", None)
    inter = None
    if het is not None:
        term = next((t for t in treatment_terms(plan.treatment) if t in design.terms), plan.treatment)
        inter = interactions(het.modifiers, plan.treatment, term, frame, weights)
        design = inter.design(design)
    fit = fit_ols(design.y, design.X, design.terms, weights=weights)
    if plan.treatment in fit.aliased or f"{plan.treatment}TRUE" in fit.aliased:
        raise EstimationError(Problem(
            "treatment", f"the treatment {plan.treatment!r} is collinear with the adjustment set in these data.",
            fix="Check for a covariate that duplicates the treatment, or too few rows."))
    # A confounder the plan adjusts for must stay in the model (a dropped one would leave its path open while the
    # plan says it is blocked).  A precision covariate is dropped as R's lm drops it, with a note: it only
    # sharpens the estimate.
    dropped_adjusters = [v for v in plan.adjustment_set if any(a in (v, f"`{v}`") for a in fit.aliased)
                         and not _spanned_without_treatment(design, fit, v, plan.treatment)]
    if dropped_adjusters:
        raise EstimationError(Problem(
            "adjustment", f"{', '.join(map(repr, dropped_adjusters))} cannot be adjusted for in these data: the "
            "column is collinear with the treatment or the other regressors (or numerically degenerate), so R's lm "
            "would drop it and the estimate would not be adjusted for it.",
            fix="Check that column for duplicates of another variable, constants or extreme values; rescale it or "
                "fix the data.", code="adjustment_collinear"))
    V = compute_vcov(fit, vc.kind, _cluster_values(frame, vc.cluster), multiway=True)
    rows = estimate_rows(coef_table(fit.coef, V, vc.level), V.df_for())
    naive_design = _naive_design(plan, design, frame)
    naive_fit = fit_ols(naive_design.y, naive_design.X, naive_design.terms,
                        weights=weights_of(plan, frame if len(naive_design.rows) == len(frame)
                                           else frame.loc[naive_design.rows]))
    NV = compute_vcov(naive_fit, vc.kind, _cluster_values(frame, vc.cluster), multiway=True)
    naive_rows = estimate_rows(coef_table(naive_fit.coef, NV, vc.level), NV.df_for())
    stats = [("r2", fit.r2), ("adj_r2", fit.adj_r2), ("sigma", fit.sigma), ("df_residual", fit.df_resid),
             ("rank", fit.rank)]
    if fit.fstat is not None:
        stats += [("fstat", fit.fstat.value), ("fstat_p_value", fit.fstat.p_value)]
    notes = tuple(design.notes) + tuple(fit.notes) if hasattr(design, "notes") else tuple(fit.notes)
    effect = find_row(rows, *treatment_terms(plan.treatment))
    extras = {}
    if inter is not None:
        extras["heterogeneity"] = _heterogeneity(plan, inter, design, frame, fit, V, weights)
    if plan.settings.wild_bootstrap:
        extras["wild_bootstrap"] = _wild(plan, design, fit, frame, effect.term, vc)
    return Fit(effect, find_row(naive_rows, *treatment_terms(plan.treatment)), rows, tuple(V.terms), V.matrix, fit.nobs,
                     tuple(design.dropped.items()) if hasattr(design.dropped, "items") else tuple(design.dropped),
                     notes, tuple(stats), extras=extras,
                     regressions=_regressions(plan, frame, effect.term, design, fit),
                     outcome_sd=float(np.std(design.y, ddof=1)))


def _wild(plan: Plan, design, fit, frame: pd.DataFrame, term: str, vc: VcovPlan) -> dict:
    """The restricted wild cluster bootstrap of the treatment coefficient, beside the analytical SE."""

    wb = plan.settings.wild_bootstrap
    X, names = fit.X_kept, [fit.terms[i] for i in fit.kept]  # aliased columns dropped, as in the fit
    cluster = frame.loc[:, list(vc.cluster)].astype(str).agg("|".join, axis=1).to_numpy()
    return wild_cluster_bootstrap(X, design.y, names, cluster, term, draws=wb.draws, weights=wb.weights,
                                  seed=plan.seed, level=vc.level).to_dict()


def _regressions(plan: Plan, frame: pd.DataFrame, term: str, design, fit):
    """The outcome and treatment regressions sensitivity bounds need (None when sensitivity is off), from the
    fitted model matrix (with the centred interactions when there are any): no second materialisation.  When no
    column was aliased and every weight is positive, the outcome regression is ``fit`` itself and the treatment
    regression comes from its triangular factor (no n x k work); otherwise both are fitted again."""
    if not plan.sensitivity.enabled:
        return None
    weights = weights_of(plan, frame)
    if not fit.aliased and (weights is None or np.all(np.asarray(weights) > 0)):
        reg = regressions_from_factor(fit.terms, fit.R_kept, fit.coef, design.y, fit.residuals,
                                      design.X[:, list(fit.terms).index(term)], plan.outcome, term, weights)
        if reg is not None:
            return reg
    return regressions_from_design(design.y, design.X, design.terms, plan.outcome, term, weights)


def _heterogeneity(plan: Plan, inter, design, frame: pd.DataFrame, fit, V, weights) -> dict:
    """The interaction coefficients, their joint test and the effect at each requested modifier value: the
    treatment coefficient of the same lm with that modifier centred at the value instead of its mean."""
    vc = plan.vcov
    het = plan.settings.heterogeneity
    base = design.X[:, :len(design.terms) - len(inter.terms)]
    base_design = replace(design, X=base, terms=design.terms[:len(design.terms) - len(inter.terms)])
    idx = [list(V.terms).index(t) for t in inter.terms]
    test = wald_interactions(np.asarray(fit.coef, float), V.matrix, idx, fit.df_resid)
    requested = dict(het.at)
    conditional = []
    for m in inter.modifiers:
        values = requested.get(m) or default_values(frame[m])
        for v in values:
            d = inter.design(base_design, modifier_code(inter, frame, m, v))
            f = fit_ols(d.y, d.X, d.terms, weights=weights)
            Vv = compute_vcov(f, vc.kind, _cluster_values(frame, vc.cluster), multiway=True)
            row = find_row(estimate_rows(coef_table(f.coef, Vv, vc.level), Vv.df_for()), inter.treatment_term)
            conditional.append({"modifier": m, "at": v.item() if hasattr(v, "item") else v,
                                **{k: getattr(row, k) for k in ("estimate", "std_error", "statistic", "p_value",
                                                                "conf_low", "conf_high")},
                                "df": row.df})
    y, x = plan.outcome, plan.treatment
    lhs = plan.formula.split("~", 1)[1].strip()
    centred = " + ".join(f"{x}:{name}_c" for name in inter.names)
    return {
        "modifiers": list(inter.modifiers), "interaction_terms": list(inter.terms),
        "centred_at": dict(zip(inter.names, (float(c) for c in inter.means))),
        "interactions": [{"term": t, "estimate": float(fit.coef[i]), "std_error": float(np.sqrt(V.matrix[i, i]))}
                         for t, i in zip(inter.terms, idx)],
        "interaction_test": test, "conditional_effects": conditional,
        "r_call": (f"lm({y} ~ {lhs} + {centred}) with name_c = the model.matrix column minus its "
                   f"{'weighted ' if weights is not None else ''}mean (the effect at m = v: minus v instead); "
                   f"joint test: car::linearHypothesis(fit, c({', '.join(repr(t) for t in inter.terms)}), "
                   f"vcov. = V, test = \"F\")"),
    }

