"""The observational design's model terms, checked against the DAG: effect modifiers, and the terms of the outcome
and propensity models (each variable a term uses must keep the planner's adjustment valid)."""

from __future__ import annotations

from causalspec.errors import AdjustmentError, Problem, SpecError
from causalspec.formula import check_term, quote_name
from causalspec.formula._nodes import Formula
from causalspec.graph import DAG, is_adjustment_set
from causalspec.planner import Identification
from causalspec.planner._backdoor import descendant_problems, open_path_problem

__all__ = ["check_modifiers", "outcome_terms", "model_term_columns"]


def check_modifiers(spec, dag: DAG, ident: Identification,
                    extra: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Effect modifiers must not be affected by the treatment; one outside the adjustment set and covariates is
    added to the model (as a covariate) only when the enlarged set still blocks every backdoor path.  Returns the
    covariates with the added modifiers, and a note naming them."""
    h = spec.heterogeneity
    if h is None or h.learner != "linear":  # a CATE learner's features are planned by planner._heterogeneity
        return extra, ()
    x, y = spec.treatment, spec.outcome
    problems = descendant_problems(dag, x, y, h.modifiers, "heterogeneity.modifiers")
    if problems:
        raise AdjustmentError(problems)
    added = tuple(m for m in h.modifiers if m not in ident.adjustment_set and m not in extra)
    how = (f"effect modification: the outcome model also has {x} x each of {', '.join(h.modifiers)} centred at its "
           f"sample mean ({x}:m_c terms), so the coefficient of {x} is the average effect; the effect at modifier "
           "values is reported beside it.")
    if not added:
        return extra, (how,)
    full = tuple(sorted({*ident.adjustment_set, *extra, *added}))
    if ident.identified and not is_adjustment_set(dag, x, y, full):
        raise AdjustmentError(open_path_problem(dag, x, y, full, h.modifiers, "heterogeneity.modifiers"))
    return (*extra, *added), (how, f"effect modifier(s) {', '.join(map(repr, added))} added to the outcome model: "
                                    "not in the adjustment set, and adding them keeps every backdoor path blocked.")


def outcome_terms(spec, adjust: tuple[str, ...], extra: tuple[str, ...], model_field: str = "outcome_model") -> list[str]:
    """The adjustment part of the outcome (or propensity) model: design.<model_field>.terms, each using only
    variables of the adjustment set and covariates (never the treatment or the outcome), then every such variable
    no term mentions, linearly.  Without terms: every variable linearly."""
    model = getattr(spec.design, model_field, None)
    variables = (*adjust, *extra)
    if model is None or not model.terms:
        return [quote_name(v) for v in variables]
    mentioned: set[str] = set()
    for i, text in enumerate(model.terms):
        loc = f"design.{model_field}.terms[{i}]"
        names = Formula(None, check_term(text, loc)).variables
        for name in names:
            if name == spec.treatment:
                raise SpecError(Problem(loc, f"the term {text!r} uses the treatment {name!r}; the outcome model's "
                                        "terms describe the adjustment only.", fix="Remove it; to let the effect "
                                        "vary with a covariate, name it in heterogeneity.modifiers.",
                                        code="treatment_in_terms"))
            if name not in variables:
                _check_model_variable(spec, name, loc, text, adjust, extra)
        mentioned.update(names)
    return [quote_name(v) for v in variables if v not in mentioned] + [t.strip() for t in model.terms]


def _check_model_variable(spec, name: str, loc: str, text: str, adjust, extra) -> None:
    """A model term may use a variable outside the adjustment set and covariates (a cause of the treatment only in
    the propensity model, a cause of the outcome only in the outcome model) when the DAG says it is measured, not
    affected by the treatment, and adding it keeps every backdoor path blocked; anything else is refused here."""
    dag = spec.graph
    x, y = spec.treatment, spec.outcome
    if name == y:
        why = "the outcome"
    elif name not in dag.nodes:
        why = "not a node of the DAG, so the planner cannot check it"
    elif name in dag.latent:
        why = "latent (unmeasured) in the DAG"
    elif name in dag.descendants([x]):
        why = f"affected by the treatment {x!r} (a descendant in the DAG)"
    elif not is_adjustment_set(dag, x, y, tuple(sorted({*adjust, *extra, name}))):
        why = "a variable whose inclusion opens a backdoor path (a collider given the adjustment set)"
    else:
        return
    raise SpecError(Problem(loc, f"the term {text!r} uses {name!r}, {why}: a model term may use the adjustment set, "
                            "the covariates and other pre-treatment variables that keep the adjustment valid.",
                            fix=f"Remove {name!r} from the term" + (", or add it to the DAG" if why.startswith(
                                "not a node") else "") + ".", code="term_variable_not_adjusted"))


def model_term_columns(spec, adjust, extra) -> list[tuple[str, str]]:
    """(column, field) for each variable the outcome / propensity model terms use outside adjust and extra."""
    out = []
    for field in ("outcome_model", "propensity_model"):
        model = getattr(spec.design, field, None)
        for i, text in enumerate(model.terms if model is not None else ()):
            for name in Formula(None, check_term(text, f"design.{field}.terms[{i}]")).variables:
                if name not in (*adjust, *extra) and name not in dict(out):
                    out.append((name, f"design.{field}.terms[{i}]"))
    return out
