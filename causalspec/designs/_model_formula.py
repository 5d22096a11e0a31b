"""Planning a fixest-style ``model.formula`` (panel, iv, did, event_study): parsed, never evaluated, then
planned by the family it names and checked against the DAG like the design's own formula."""

from __future__ import annotations

from dataclasses import replace

from causalspec.designs.event_study.plan import plan_event_study
from causalspec.designs.iv.plan import plan_iv
from causalspec.designs.panel.plan import plan_panel
from causalspec.errors import AdjustmentError, Problem
from causalspec.formula import parse_fixest
from causalspec.graph import DAG
from causalspec.spec.event_study import EventStudyDesign
from causalspec.spec.iv import IVDesign
from causalspec.spec.panel import PanelDesign


def _formula_error(message: str, fix: str) -> AdjustmentError:
    return AdjustmentError(Problem("model.formula", message, fix=fix, code="formula_mismatch"))


def plan_from_formula(spec, dag: DAG) -> dict:
    """Plan a fixest-style ``model.formula``: the same checks against the DAG as the design fields get."""

    text = spec.model.formula
    d = spec.design
    if getattr(d, "estimator", None) == "drdid":  # the formula would replace the DR-DiD design and drop its options
        raise _formula_error("a model formula replaces the design's formula, but the drdid estimator builds its own "
                             "two-period models (design.drdid_method, panel, trim_level would be ignored).",
                             fix="Remove model, or set design.estimator to 2x2 or twfe.")
    f = parse_fixest(text)
    if f.outcome != spec.outcome:
        raise _formula_error(f"the formula's outcome {f.outcome!r} is not the spec's outcome {spec.outcome!r}.",
                             fix=f"Write {spec.outcome} ~ ... or change outcome.")
    base = {**spec.model_dump(exclude_unset=True), "model": None}
    if f.endogenous is not None:
        if f.endogenous != spec.treatment:
            raise _formula_error(f"the endogenous variable {f.endogenous!r} is not the treatment {spec.treatment!r}.",
                                 fix=f"Write ... | {spec.treatment} ~ instruments.")
        design = IVDesign(instruments=f.instruments, fixed_effects=f.fixed_effects)
        sub = type(spec)(**{**base, "design": design.model_dump(), "covariates": list(f.regressors),
                            "adjustment": "auto"})
        fields = _plan_sub(plan_iv, sub, dag)
        missing = sorted(set(fields["settings"].exogenous) - set(f.regressors))
        if missing:
            raise _formula_error(f"by the DAG the instruments are valid only given {missing}, which the formula "
                                 "leaves out.", fix=f"Add {' + '.join(missing)} to the formula's exogenous part.")
    elif f.sunab is not None or f.i_term is not None:
        if len(f.fixed_effects) != 2:
            raise _formula_error("an event study needs unit and period fixed effects: ... | unit + period.",
                                 fix="Write ... | unit + period.")
        unit, time = f.fixed_effects
        if f.sunab is not None:
            design = EventStudyDesign(unit=unit, time=f.sunab[1], first_treated=f.sunab[0], estimator="sun_abraham")
        else:
            if f.i_term["treat"] is None:
                raise _formula_error("i(var, ref = ...) without a treated-group column.",
                                     fix="Write i(relative_time, treated, ref = -1).")
            design = EventStudyDesign(unit=unit, time=time, relative_time=f.i_term["var"],
                                      treated=f.i_term["treat"], reference=f.i_term["ref"] or -1, estimator="twfe")
        sub = type(spec)(**{**base, "design": design.model_dump()})
        fields = _plan_sub(plan_event_study, sub, dag)
    else:
        if spec.treatment not in f.regressors:
            raise _formula_error(f"the treatment {spec.treatment!r} is not a regressor of the formula.",
                                 fix=f"Add {spec.treatment} to the right-hand side.")
        if not f.fixed_effects:
            raise _formula_error("the formula has no fixed effects; a panel design needs them.",
                                 fix="Add | unit + period, or drop model and use design.type observational.")
        others = [r for r in f.regressors if r != spec.treatment]
        sub = type(spec)(**{**base, "design": PanelDesign(
            fixed_effects=f.fixed_effects, singletons=getattr(spec.design, "singletons", "keep")).model_dump(),
                            "adjustment": others, "covariates": []})
        fields = _plan_sub(plan_panel, sub, dag)
        fields["settings"] = replace(fields["settings"], regressors=tuple(others))  # the formula's order
    fields["formula"] = text
    fields["settings"] = replace(fields["settings"], model_formula=text)
    fields["notes"] = tuple(fields.get("notes", ())) + ("The model is the spec's model.formula, checked against the "
                                                       "DAG like the design's own formula.",)
    return fields


def _plan_sub(planner_fn, sub, dag) -> dict:
    """Run a design planner for a formula; its complaints are about the formula, so they say so."""
    try:
        return planner_fn(sub, dag)
    except AdjustmentError as exc:
        raise AdjustmentError([Problem("model.formula", p.message, fix=p.fix.replace("to adjustment", "to the "
                                       "formula's regressors"), code=p.code) for p in exc.problems]) from None

