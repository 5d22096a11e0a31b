"""Planning the observational design: backdoor adjustment, then the estimator, its formula and its variance.

Rules in order: identification and node decisions (shared, :mod:`causalspec.planner._backdoor`), then
:func:`choose_estimator`, :func:`build_formulas`, :func:`observational_settings`, :func:`observational_vcov` and
:func:`state_assumptions` here.
"""

from __future__ import annotations

from causalspec.designs._common import plan_fields
from causalspec.designs.observational.terms import check_modifiers, model_term_columns, outcome_terms
from causalspec.designs.panel.plan import wild_settings
from causalspec.errors import Problem, UnsupportedError
from causalspec.formula import quote_name
from causalspec.graph import DAG, front_door_sets
from causalspec.planner import Estimator, Identification, Strategy, VcovPlan, column_fields
from causalspec.planner._backdoor import check_covariates, identify
from causalspec.designs.observational.matching_plan import PAIRED_METHODS, matching_settings
from causalspec.designs.observational.ps_plan import (
    ipw_fixed_vcov,
    ipw_weights_choice,
    ps_formula,
    ps_regression_settings,
    ps_regression_vcov,
    refuse_auto_ato,
)
from causalspec.designs.observational.settings import (
    FrontDoorSettings,
    HeterogeneitySettings,
    ObservationalSettings,
    PropensitySettings,
)
from causalspec.planner._vcov import regression_vcov, unsupported_vcov

__all__ = ["ESTIMATOR_RULE", "plan_observational", "observational_vcov", "state_assumptions", "refuse_model_formula"]

ESTIMATOR_RULE = (
    "observational, estimator auto: OLS regression adjustment for the ATE (exact R parity and omitted-variable-"
    "bias bounds); nearest-neighbour propensity-score matching with replacement for the ATT and for the ATC "
    "(MatchIt's targets; the ATC matches each control with its most similar treated unit; with replacement every "
    "unit finds its nearest match, which keeps the estimate's interval honest in the coverage study)"
)

# The estimands each observational estimator can target.
_ESTIMANDS = {
    Estimator.OLS: ("ATE",),
    Estimator.RA: ("ATE", "ATT", "ATC"),
    Estimator.IPW: ("ATE", "ATT", "ATC", "ATO"),  # ATO: overlap weights (Li, Morgan & Zaslavsky 2018)
    Estimator.IPW_RA: ("ATE", "ATT", "ATC"),
    Estimator.AIPW: ("ATE", "ATT", "ATC"),
    Estimator.AIPW_WLS: ("ATE",),
    Estimator.MATCHING: ("ATT", "ATC", "ATE"),  # ATE: methods exact, cem and subclass (matching_settings)
    Estimator.PS_REGRESSION: ("ATE",),
}
# the teffects estimators (Stata's teffects): their outcome and propensity models
TEFFECTS = (Estimator.RA, Estimator.IPW, Estimator.IPW_RA, Estimator.AIPW, Estimator.AIPW_WLS)
READS_OUTCOME_MODEL = (Estimator.OLS, Estimator.RA, Estimator.IPW_RA, Estimator.AIPW, Estimator.AIPW_WLS)
READS_PROPENSITY_MODEL = (Estimator.IPW, Estimator.IPW_RA, Estimator.AIPW, Estimator.AIPW_WLS, Estimator.MATCHING,
                          Estimator.PS_REGRESSION)
_STATA = {Estimator.RA: "teffects ra", Estimator.IPW: "teffects ipw", Estimator.IPW_RA: "teffects ipwra",
          Estimator.AIPW: "teffects aipw", Estimator.AIPW_WLS: "teffects aipw, wnls"}


def refuse_model_formula(spec) -> None:
    if spec.model is not None:
        raise UnsupportedError(Problem(
            "model.formula", f"a model formula replaces the planner's formula only in panel, iv, did and "
            f"event_study designs; the {spec.design.type} design builds its formula from the DAG.",
            fix="Remove model, or set design.type to panel (fixed effects) for a fixest-style formula.",
            code="model_formula_unsupported"))


def plan_observational(spec, dag: DAG) -> dict:
    """Plan fields for the observational (backdoor) design; the front door when no adjustment set exists."""
    refuse_model_formula(spec)
    ident = identify(spec, dag)
    if spec.design.estimator == "front_door" or (not ident.identified and spec.design.estimator == "auto"):
        front = plan_front_door(spec, dag, ident)
        if front is not None:
            for field in ("heterogeneity", "design.outcome_model"):
                if (spec.heterogeneity if field == "heterogeneity" else spec.design.outcome_model) is not None:
                    raise UnsupportedError(Problem(
                        field, "the front-door estimator fits its own linear models; this field is read by OLS "
                        "regression adjustment only.", fix=f"Remove {field}.", code="option_not_read"))
            return front
    extra = check_covariates(spec, dag, ident)
    estimator, why = choose_estimator(spec)
    extra, notes = check_modifiers(spec, dag, ident, extra)
    formula, naive = build_formulas(spec, estimator, ident.adjustment_set, extra)
    settings = observational_settings(spec, estimator, ident.adjustment_set, extra)
    vcov = _vcov(spec.inference, estimator, settings, spec.estimand)
    if ident.identified and not ident.adjustment_set:
        notes += ("The DAG has no open backdoor path: the naive comparison is already the causal effect.",)
    fields = plan_fields(spec, dag, ident, extra, estimator, why, formula, naive, vcov,
                         state_assumptions(spec, ident, estimator), settings, notes=notes)
    model_columns = model_term_columns(spec, ident.adjustment_set, extra)
    if model_columns:  # variables a model term adds beyond the adjustment set and covariates
        base = dict(column_fields(spec, fields))
        fields["column_fields"] = (*base.items(), *((c, w) for c, w in model_columns if c not in base))
    if getattr(settings, "partial_columns", ()):  # the outcome may be missing where the score is fitted
        fields["columns"] = tuple(dict.fromkeys(c for c, _ in fields.get("column_fields") or column_fields(
            spec, fields) if c != spec.outcome))
    return fields


FRONT_DOOR_DRAWS = 999


def plan_front_door(spec, dag: DAG, ident: Identification) -> dict | None:
    """Pearl's front-door formula when the DAG offers a front-door set (the smallest, ties by name).

    With ``estimator: auto`` this is reached only when no backdoor adjustment set exists; ``estimator:
    front_door`` asks for it.  None when the DAG has no front-door set (the plan then says not identified).
    """
    x, y = spec.treatment, spec.outcome
    try:
        sets = front_door_sets(dag, x, y)
    except UnsupportedError:
        sets = []
    if not sets:
        if spec.design.estimator == "front_door":
            raise UnsupportedError(Problem(
                "design.estimator", f"the DAG has no front-door set for the effect of {x!r} on {y!r}: no set of "
                "measured mediators intercepts every causal path, is unconfounded with the treatment and has its "
                "confounding with the outcome blocked by the treatment.",
                fix="Use another estimator, or add the mediators and their edges to the DAG.",
                code="no_front_door"))
        return None
    if spec.estimand != "ATE":
        raise UnsupportedError(Problem(
            "estimand", f"the front-door formula here estimates the ATE, not the {spec.estimand}.",
            fix="Set estimand: ATE.", code="unsupported_estimand"))
    mediators = min(sets, key=lambda s: (len(s), s))
    front = Identification(True, Strategy.FRONT_DOOR, (), "front-door",
                           "the front-door criterion (Pearl 1995): the effect runs entirely through "
                           f"{', '.join(mediators)}, which the treatment's confounders do not reach",
                           ident.minimal_sets, ident.optimal_set, ident.obstacles, ident.alternatives)
    yq, xq = quote_name(y), quote_name(x)
    ms = " + ".join(quote_name(m) for m in mediators)
    formula = f"{ms} ~ {xq}; {yq} ~ {ms} + {xq} (effect = sum of products)"
    why = ("auto: no set of measured variables blocks every backdoor path, but the effect runs through "
           f"{', '.join(mediators)}, a front-door set, so Pearl's front-door formula with linear models"
           if spec.design.estimator == "auto" else "chosen in the spec (design.estimator: front_door)")
    assumptions = (
        f"Every causal path from {x} to {y} runs through {', '.join(mediators)} (no direct effect).",
        f"Nothing confounds {x} and {', '.join(mediators)} (no open backdoor path from the treatment to them).",
        f"Given {x}, nothing else confounds {', '.join(mediators)} and {y} (the treatment blocks those paths).",
        f"The models are linear with constant effects: the effect is the product of the {x} -> mediator and "
        f"mediator -> {y} slopes, summed over mediators.")
    if spec.inference.vcov is not None or spec.inference.cluster or spec.inference.wild_bootstrap is not None:
        raise UnsupportedError(Problem(
            "inference.vcov", "the front-door estimate's standard error is its nonparametric bootstrap.",
            fix="Leave inference.vcov, cluster and wild_bootstrap out.", code="unsupported_vcov"))
    vcov = VcovPlan("bootstrap", (), spec.inference.level, f"nonparametric bootstrap ({FRONT_DOOR_DRAWS} draws, "
                    "seeded) of the front-door product of coefficients (lm() fits of the mediators and the outcome)")
    fields = plan_fields(spec, dag, front, (), Estimator.FRONT_DOOR, why, formula, f"{yq} ~ {xq}", vcov,
                         assumptions, FrontDoorSettings(mediators=tuple(mediators), draws=FRONT_DOOR_DRAWS),
                         notes=("No adjustment set exists; the effect is identified through the front door "
                                f"({', '.join(mediators)}).",))
    fields["column_fields"] = ((y, "outcome"), (x, "treatment"),
                               *((m, "dag") for m in mediators))
    return fields


def choose_estimator(spec) -> tuple[Estimator, str]:
    design = spec.design
    if design.estimator == "auto":
        refuse_auto_ato(spec)
        if spec.estimand == "ATE":
            estimator, why = Estimator.OLS, ("auto: OLS regression adjustment (outcome on treatment and the "
                                             "adjustment set), the linear-model estimator of the backdoor formula "
                                             "for the ATE")
        elif spec.estimand == "ATT":
            estimator, why = Estimator.MATCHING, ("auto: the ATT, so nearest-neighbour matching on the propensity "
                                                  "score with replacement (each treated unit compared with its most "
                                                  "similar control)")
        else:
            estimator, why = Estimator.MATCHING, ("auto: the ATC, so nearest-neighbour matching on the propensity "
                                                  "score with replacement (each control compared with its most "
                                                  "similar treated unit)")
    else:
        estimator = Estimator(design.estimator)
        why = f"chosen in the spec (design.estimator: {design.estimator})"
    allowed = _ESTIMANDS[estimator]
    if spec.estimand not in allowed:
        others = [e.value for e, ok in _ESTIMANDS.items() if spec.estimand in ok]
        raise UnsupportedError(Problem(
            "estimand", f"the {estimator.value} estimator targets {' or '.join(allowed)}, not {spec.estimand}.",
            fix=f"Set estimand to {allowed[0]}, or design.estimator to one of {others}.",
            code="unsupported_estimand"))
    return estimator, why


def build_formulas(spec, estimator: Estimator, adjust: tuple[str, ...], extra: tuple[str, ...]) -> tuple[str, str]:
    y, x = quote_name(spec.outcome), quote_name(spec.treatment)
    naive = f"{y} ~ {x}"
    if estimator is Estimator.PS_REGRESSION:
        return ps_formula(spec, ps_regression_settings(spec, estimator), y, x), naive
    if estimator in (Estimator.IPW, Estimator.MATCHING):
        # the outcome model is the weighted contrast; the adjustment enters through the propensity model
        return f"{naive} (weighted by the propensity model in settings)", naive
    if estimator in TEFFECTS:  # arm-specific outcome models (and the propensity model in settings)
        rhs = " + ".join(outcome_terms(spec, adjust, extra)) or "1"
        return f"{y} ~ {rhs} in each arm of {x} ({_STATA[estimator]})", naive
    terms = [x] + (outcome_terms(spec, adjust, extra) if estimator is Estimator.OLS
                   else [quote_name(v) for v in (*adjust, *extra)])
    return f"{y} ~ " + " + ".join(terms), naive


def observational_settings(spec, estimator: Estimator, adjust: tuple[str, ...],
                           extra: tuple[str, ...]) -> ObservationalSettings:
    """The propensity model's formula and the matching / weighting options the fitter reads."""
    wild = spec.inference.wild_bootstrap
    if wild is not None and estimator is not Estimator.OLS:
        raise UnsupportedError(Problem(
            "inference.wild_bootstrap", f"the wild cluster bootstrap is available for OLS regression adjustment and "
            f"fixed-effects regressions, not {estimator.value}.", fix="Remove wild_bootstrap.",
            code="wild_unsupported"))
    d = spec.design
    if estimator not in (Estimator.AIPW,) and d.learner != "glm":
        raise UnsupportedError(Problem(
            "design.learner", f"flexible learners are used by aipw only, not {estimator.value}.",
            fix="Use design.estimator aipw, or learner glm.", code="learner_unsupported"))
    _refuse_unread_options(d, estimator)
    ipw_weights_choice(spec, estimator), ps_regression_settings(spec, estimator)  # refused where not read
    linear_het = spec.heterogeneity if getattr(spec.heterogeneity, "learner", None) == "linear" else None
    if linear_het is not None and estimator is not Estimator.OLS:
        raise UnsupportedError(Problem(
            "heterogeneity", f"effect modification (learner linear) is fitted by OLS regression adjustment, not by "
            f"the {estimator.value} estimator the plan uses.", fix="Set design.estimator to ols (estimand ATE), or "
            "remove heterogeneity.", code="heterogeneity_unsupported"))
    if estimator is Estimator.OLS:
        h = linear_het  # a CATE learner (dr, t, s, x, r) is planned by the spine, beside any estimator
        het = None if h is None else HeterogeneitySettings(tuple(h.modifiers), tuple(
            (m, tuple(h.at[m])) for m in h.modifiers if m in h.at))
        return ObservationalSettings(wild_bootstrap=wild_settings(spec.inference), heterogeneity=het)
    if d.propensity_model is not None and (estimator is Estimator.AIPW and d.learner != "glm"):
        raise UnsupportedError(Problem(
            "design.propensity_model", f"aipw with the {d.learner} learner fits its own propensity model; the "
            "propensity model's terms and link are read by glm models only.", fix="Remove design.propensity_model, "
            "or use learner glm.", code="option_not_read"))
    link = d.propensity_model.link if d.propensity_model is not None else "logit"
    m = d.matching
    if link != "logit" and estimator is Estimator.MATCHING and (m.method in ("exact", "cem")
                                                                 or m.distance == "mahalanobis"):
        how = f"method {m.method}" if m.method in ("exact", "cem") else "the Mahalanobis distance"
        raise UnsupportedError(Problem(
            "design.propensity_model.link", f"matching with {how} uses no propensity score, so the {link} link "
            "would change nothing (matchit() ignores link there).", fix="Remove design.propensity_model.link, or "
            "match on the score (method nearest, optimal, full or subclass with distance propensity or logit).",
            code="option_not_read"))
    rhs = " + ".join(outcome_terms(spec, adjust, extra, "propensity_model")) or "1"
    propensity = PropensitySettings(f"{quote_name(spec.treatment)} ~ {rhs}", link=link)
    if estimator is Estimator.MATCHING:  # MatchIt's method and the arguments it reads (matching_plan)
        return ObservationalSettings(propensity=propensity, matching=matching_settings(spec, (*adjust, *extra)))
    if estimator is Estimator.PS_REGRESSION:  # ps_plan
        return ObservationalSettings(propensity=propensity, ps_regression=ps_regression_settings(spec, estimator))
    if estimator is Estimator.AIPW and d.learner != "glm":
        if spec.estimand != "ATE":
            raise UnsupportedError(Problem(
                "estimand", f"cross-fitted AIPW ({d.learner}) estimates the ATE, not the {spec.estimand}.",
                fix="Set estimand to ATE, or learner glm (AIPW for the ATT / ATC as Mercatanti & Li 2014).",
                code="unsupported_estimand"))
        return ObservationalSettings(propensity=propensity, trim=d.trim, learner=d.learner, folds=d.folds)
    outcome = None
    if estimator in READS_OUTCOME_MODEL:
        outcome = f"{quote_name(spec.outcome)} ~ " + (" + ".join(outcome_terms(spec, adjust, extra)) or "1")
    return ObservationalSettings(propensity=propensity, trim=d.trim, outcome_formula=outcome,
                                 ipw_weights=ipw_weights_choice(spec, estimator))


def _refuse_unread_options(d, estimator: Estimator) -> None:
    """An option the chosen estimator does not read is refused where it is written (never accepted and
    ignored): trim (ipw / aipw), folds (aipw with a learner), matching (matching)."""
    unread = []
    if getattr(d, "outcome_model", None) is not None and (estimator not in READS_OUTCOME_MODEL or (
            estimator is Estimator.AIPW and d.learner != "glm")):
        unread.append(("design.outcome_model", "ols, ra, ipw_ra, aipw (learner glm) or aipw_wls"))
    if getattr(d, "propensity_model", None) is not None and estimator not in READS_PROPENSITY_MODEL:
        unread.append(("design.propensity_model", "ipw, ipw_ra, aipw, aipw_wls or matching"))
    if d.trim != "none" and estimator not in TEFFECTS:
        unread.append(("design.trim", "ra, ipw, ipw_ra, aipw or aipw_wls"))
    if d.folds != type(d).model_fields["folds"].default and not (estimator is Estimator.AIPW and d.learner != "glm"):
        unread.append(("design.folds", "aipw with a scikit-learn learner"))
    defaults = type(d.matching)()
    if estimator is not Estimator.MATCHING:
        unread += [(f"design.matching.{name}", "matching") for name in type(d.matching).model_fields
                   if getattr(d.matching, name) != getattr(defaults, name)]
    if unread:
        where, reader = unread[0]
        raise UnsupportedError(Problem(
            where, f"{where.split('.')[-1]} is read by {reader}, not by the {estimator.value} estimator the plan "
            "uses, so it would change nothing.", fix=f"Remove {where.split('.', 1)[1]}, or choose an estimator "
            f"that reads it (design.estimator).", code="option_not_read"))


def _vcov(inference, estimator: Estimator, settings, estimand: str = "ATE") -> VcovPlan:
    if estimator is Estimator.FRONT_DOOR:
        if inference.vcov is not None or inference.cluster:
            raise unsupported_vcov(inference.vcov or "a clustered variance", "the front-door estimator",
                                   "only its bootstrap", fix="Leave inference.vcov and cluster out.")
        return VcovPlan("bootstrap", (), inference.level, f"nonparametric bootstrap ({settings.draws} draws, seeded) "
                        "of the front-door product of coefficients (lm() fits of the mediators and the outcome)")
    if settings is not None and getattr(settings, "learner", None):  # cross-fitted AIPW
        if inference.vcov is not None or inference.cluster:
            raise unsupported_vcov(inference.vcov or "a clustered variance", "cross-fitted AIPW", "only its "
                                   "influence-function variance", fix="Leave inference.vcov and cluster out.")
        return VcovPlan("influence_function", (), inference.level, "the efficient influence function of AIPW "
                        "with cross-fitted nuisances, SD / sqrt(n)")
    if estimator in TEFFECTS:
        stata = _STATA[estimator]
        if estimator is Estimator.IPW and inference.vcov in ("HC0", "HC1", "HC2", "HC3") and not inference.cluster:
            return ipw_fixed_vcov(inference, settings, estimand)
        if inference.vcov is not None or inference.cluster:
            extra = " or, for ipw, HC0-HC3 (the weights held fixed)" if estimator is Estimator.IPW else ""
            raise unsupported_vcov(inference.vcov or "a clustered variance", estimator.value, "its stacked "
                                   f"M-estimation variance{extra}", fix="Leave inference.vcov and cluster out: the "
                                   "M-estimation variance accounts for the estimated models.")
        return VcovPlan("m_estimation", (), inference.level, f"Stata {stata}: the propensity, outcome and "
                        "potential-outcome-mean estimating equations stacked, sandwich A^-1 B A^-T / n, z tests")
    if estimator is Estimator.PS_REGRESSION:
        return ps_regression_vcov(inference)
    if estimator is Estimator.MATCHING:
        if inference.vcov is not None or inference.cluster:
            raise unsupported_vcov(inference.vcov or "a clustered variance", "matching", "only MatchIt's "
                                   "recommended variance (CR1 by subclass without replacement, HC3 with)",
                                   fix="Leave inference.vcov and cluster out for matching.")
        if settings.matching.replace or settings.matching.method not in PAIRED_METHODS:
            why = "with replacement" if settings.matching.replace else f"method {settings.matching.method} forms"
            return VcovPlan("HC3", (), inference.level, 'lm(weights = weights) on match.data(); sandwich::vcovHC('
                            f'type = "HC3") ({why} no pairs; MatchIt\'s advice)')
        return VcovPlan("CR1", ("subclass",), inference.level,
                        'lm(weights = weights) on match.data(); sandwich::vcovCL(cluster = ~subclass, '
                        'type = "HC1") as the MatchIt docs recommend (after pair, optimal and full matching)')
    return regression_vcov(inference)


def observational_vcov(inference, plan) -> VcovPlan:
    """The family's variance rule (also what ``Result.with_vcov`` uses)."""
    return _vcov(inference, plan.estimator, plan.settings, plan.estimand)


def state_assumptions(spec, ident: Identification, estimator: Estimator) -> tuple[str, ...]:
    x, y = spec.treatment, spec.outcome
    out = []
    if ident.strategy is Strategy.BACKDOOR:
        adj = ", ".join(ident.adjustment_set) or "nothing"
        out += [f"The DAG is complete: no unmeasured common cause of {x} and {y} is missing from it.",
                f"Given {adj}, {x} is as good as randomly assigned (conditional exchangeability).",
                f"Every unit could have received either value of {x} given {adj} (positivity / overlap).",
                "Units do not affect one another's outcomes (no interference, SUTVA)."]
    else:
        out += ["The effect is not identified by adjustment from this DAG; no estimate is produced."]
    if estimator is Estimator.OLS:
        out.append(f"The outcome model is linear and the effect of {x} is the same for everyone given the "
                   "adjustment set (otherwise OLS gives a variance-weighted average of effects).")
    if estimator in (Estimator.RA, Estimator.IPW_RA, Estimator.AIPW, Estimator.AIPW_WLS):
        out.append(f"The outcome model (regression of {y} on the adjustment set in each arm) is correctly "
                   "specified" + ("." if estimator is Estimator.RA else ", or the propensity model is (doubly "
                                                                     "robust)."))
    if estimator is Estimator.PS_REGRESSION:
        out.append(f"The outcome depends on the propensity score as the regression models it, and the effect of {x} "
                   "is the same at every score (otherwise the coefficient is a variance-weighted average of effects).")
    if estimator in (Estimator.IPW, Estimator.AIPW, Estimator.MATCHING, Estimator.PS_REGRESSION):
        d = spec.design
        link = d.propensity_model.link if getattr(d, "propensity_model", None) is not None else "logit"
        how = {"logit": "logistic", "probit": "probit", "cloglog": "complementary log-log"}[link]
        out.append(f"The propensity score model ({how} regression of {x} on the adjustment set) is correctly "
                   "specified" + (" or the outcome model is (AIPW is doubly robust)." if estimator is Estimator.AIPW
                                  else "."))
    return tuple(out)
