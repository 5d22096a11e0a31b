"""Fitting propensity-score regression (design.estimator ps_regression): the propensity model of the plan, then
``lm(y ~ t + f(ps))`` with the score a known covariate (:mod:`causalspec.estimators._ps_regression`).

With ``score_rows: with_missing_outcome`` the score is fitted to (and the strata cut on) every row that has the
treatment and the propensity model's variables, as Hernan & Robins' Program 15.2 fits it to all 1629 NHEFS
smokers; the rows without an outcome then leave the regression and are counted.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from causalspec.designs._common import estimate_rows, find_row
from causalspec.designs._family import Fit
from causalspec.designs.observational.propensity import binary_treatment, histogram, naive_contrast, overlap_warnings
from causalspec.errors import DataError, EstimationError, Problem
from causalspec.estimators._propensity import fit_propensity, overlap
from causalspec.estimators._ps_regression import ps_regression
from causalspec.inference import coef_table, vcov as compute_vcov

__all__ = ["fit_ps_regression"]


def fit_ps_regression(plan, frame: pd.DataFrame) -> Fit:
    """``lm(y ~ t + ps)``, ``+ I(ps^2)`` or ``+ factor(ps_stratum)`` after ``glm(t ~ ..., binomial(link))``."""
    binary_treatment(plan, frame)
    s, vc = plan.settings, plan.vcov
    p = s.ps_regression
    model = fit_propensity(s.propensity.propensity_formula, frame, link=s.propensity.link)
    dropped = tuple(model.dropped.items())
    scored = frame.loc[model.index]
    score = pd.Series(model.score, index=model.index)
    has_y = scored[plan.outcome].notna().to_numpy()
    used = scored.loc[has_y]
    if not has_y.all():
        dropped += ((f"missing values in {plan.outcome!r} (kept for the propensity model, score_rows: "
                     "with_missing_outcome)", int((~has_y).sum())),)
    basis = model.score if p.score_rows == "with_missing_outcome" else None
    y = used[plan.outcome].to_numpy(float)
    t = used[plan.treatment].to_numpy(float)
    try:
        reg = ps_regression(y, t, score.loc[used.index].to_numpy(), p.score, p.strata, plan.treatment, vc.level,
                            basis=basis)
    except DataError as exc:
        raise EstimationError(Problem("design.ps_regression.strata", str(exc), fix="Use fewer strata.",
                                      code="strata_not_distinct")) from None
    fit = reg.fit
    if plan.treatment in fit.aliased:
        raise EstimationError(Problem("treatment", f"the treatment {plan.treatment!r} is collinear with the "
                                      "propensity-score terms in these data.", fix="Check the propensity model."))
    cluster = used.loc[:, list(vc.cluster)] if vc.cluster else None
    V = compute_vcov(fit, vc.kind, cluster, multiway=True)
    table = coef_table(fit.coef, V, vc.level)
    rows = estimate_rows(table, V.df_for())
    effect = find_row(rows, plan.treatment)
    ov = overlap(model.score, model.treat)
    extras = {
        "ps_regression": {
            "score": p.score, "strata": p.strata, "score_rows": p.score_rows, "n_scored": int(len(scored)),
            "coefficients": {str(r["term"]): {k: float(v) for k, v in r.items() if k != "term"}
                             for _, r in table.iterrows()},
            "df_residual": float(fit.df_resid), "sigma": float(fit.sigma),
            "breaks": list(reg.breaks),
            "stratum_effects": [dict(vars(e)) for e in reg.strata],
        },
        "propensity_model": model.coef_dict(), "propensity_table": model.coef_table(),
        "propensity_link": model.link, "propensity_histogram": histogram(model.score, model.treat),
        "overlap": {"treated": ov.treated, "control": ov.control, "support": [ov.support_low, ov.support_high],
                    "outside_support": ov.outside_support},
        "variance": vc.r_equivalent}
    notes = tuple(model.notes) + tuple(fit.notes)
    return Fit(effect, naive_contrast(plan, used, vc.level), rows, tuple(V.terms), V.matrix, int(fit.nobs), dropped,
               notes, (("r2", fit.r2), ("sigma", fit.sigma), ("df_residual", fit.df_resid),
                       ("propensity_converged", float(model.converged))), extras=extras,
               warnings=overlap_warnings(ov, model.score), outcome_sd=float(np.std(y, ddof=1)))
