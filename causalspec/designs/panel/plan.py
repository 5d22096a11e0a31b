"""Planning the panel (fixed-effects) design: fixest::feols(y ~ x + controls | fe1 + fe2)."""

from __future__ import annotations

from causalspec.designs._common import plan_columns, plan_fields
from causalspec.designs._fixest import STRICT_EXOGENEITY, ate_only, fixed_effects_of, identify_given_fe
from causalspec.errors import Problem, UnsupportedError
from causalspec.formula import quote_name
from causalspec.graph import DAG
from causalspec.planner import Estimator
from causalspec.designs.panel.settings import PanelSettings
from causalspec.planner._settings import WildSettings
from causalspec.planner._vcov import fe_columns, fixest_vcov_plan

__all__ = ["plan_panel", "wild_settings"]


def wild_settings(inference) -> WildSettings | None:
    """inference.wild_bootstrap as the plan records it."""
    wb = inference.wild_bootstrap
    return None if wb is None else WildSettings(weights=wb.weights, draws=wb.draws)


def plan_panel(spec, dag: DAG) -> dict:
    ate_only(spec, "fixed-effects regression")
    d = spec.design
    fes = fixed_effects_of(d)
    if not fes:
        raise UnsupportedError(Problem("design.fixed_effects", "a panel design needs fixed effects.",
                                       fix="Set design.unit (and design.time), or list fixed_effects.",
                                       code="no_fixed_effects"))
    ident = identify_given_fe(spec, dag, fes)
    absorbed = set(fe_columns(fes))
    regressors = tuple(v for v in ident.adjustment_set if v not in absorbed)
    extra = tuple(c for c in spec.covariates if c not in regressors)
    terms = [quote_name(spec.treatment)] + [quote_name(v) for v in (*regressors, *extra)]
    formula = f"{quote_name(spec.outcome)} ~ {' + '.join(terms)} | {' + '.join(fes)}"
    vcov = fixest_vcov_plan(spec.inference, fes)
    settings = PanelSettings(regressors=tuple(regressors + extra), fixed_effects=tuple(fes),
                             fixef_rm="singleton" if d.singletons == "drop" else "none",
                             wild_bootstrap=wild_settings(spec.inference))
    assumptions = [STRICT_EXOGENEITY,
                   f"Given {', '.join(fes)} fixed effects and {', '.join(regressors) or 'no other regressor'}, the "
                   "DAG has no open backdoor path (DAG nodes that are fixed-effect columns stand for everything "
                   "constant within their levels).",
                   "The effect is the same for every unit and period (otherwise a variance-weighted average)."]
    why = "fixed-effects OLS (fixest::feols): compares each unit with itself over time"
    cols = plan_columns(spec, [(v, "dag") for v in regressors] + [(c, f"covariates[{i}]") for i, c in enumerate(extra)]
                    + [(c, "design.fixed_effects") for c in fe_columns(fes)])
    return plan_fields(spec, dag, ident, extra, Estimator.FEOLS, why, formula,
                   f"{quote_name(spec.outcome)} ~ {quote_name(spec.treatment)}", vcov, assumptions, settings, cols)

