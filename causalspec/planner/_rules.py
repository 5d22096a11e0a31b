"""Planning rules: small pure functions applied in a stated order.

``plan(spec)`` runs, in order:

1. :func:`identify` — the identification strategy and the adjustment set
   (randomization for experiments; the backdoor criterion on the DAG otherwise).
2. :func:`check_covariates` — precision covariates must not be descendants of
   the treatment nor open a path.
3. :func:`decide_nodes` — every node's role and whether (and why) it is adjusted for.
4. :func:`choose_estimator` — the estimator from the design.
5. :func:`build_formulas` — the model formula and the naive comparison.
6. :func:`choose_vcov` — the variance estimator and the R call it matches.
7. :func:`state_assumptions` — the identifying assumptions in words.

Adjustment rule (``adjustment: auto``): the optimal adjustment set (O-set,
Henckel, Perković & Maathuis 2022) when it exists among observed nodes — it
gives the smallest asymptotic variance among valid sets — else the smallest
minimal set, ties broken by the sorted names.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from ..errors import AdjustmentError, Problem, UnsupportedError
from ..graph import (
    DAG,
    adjustment_sets,
    front_door_sets,
    instrumental_variables,
    is_adjustment_set,
    node_roles,
    optimal_adjustment_set,
    paths,
)
from ..spec import Spec
from ..spec._formula import quote_name
from ._plan import LINEAR_ESTIMATORS, Estimator, NodeDecision, SensitivityPlan, Strategy, VcovPlan

ADJUSTMENT_RULE = (
    "the optimal adjustment set (O-set; Henckel, Perković & Maathuis 2022) when it exists among observed "
    "nodes, else the smallest minimal adjustment set, ties broken by name"
)


@dataclass(frozen=True)
class Identification:
    identified: bool
    strategy: Strategy
    adjustment_set: tuple[str, ...]
    source: str
    rule: str
    minimal_sets: tuple[tuple[str, ...], ...]
    optimal_set: tuple[str, ...] | None
    obstacles: tuple[str, ...] = ()
    alternatives: tuple[str, ...] = ()


# ---------------------------------------------------------------- 1. identify
def identify(spec: Spec, dag: DAG) -> Identification:
    x, y = spec.treatment, spec.outcome
    minimal = tuple(tuple(s) for s in adjustment_sets(dag, x, y, type="minimal"))
    optimal = optimal_adjustment_set(dag, x, y)
    optimal = tuple(optimal) if optimal is not None else None

    if spec.design.type == "experiment":
        if isinstance(spec.adjustment, tuple) and spec.adjustment:
            raise AdjustmentError(Problem(
                "adjustment", "an experiment is identified by randomization; nothing needs adjusting for.",
                fix="Remove adjustment and list pre-treatment variables under covariates to gain precision."))
        parents = dag.parents(x)
        if parents:
            raise AdjustmentError(Problem(
                "dag.edges", f"the DAG gives the randomized treatment {x!r} causes ({', '.join(parents)}).",
                fix=f"In an experiment nothing but the randomization causes {x!r}: remove those edges, "
                    "or use design.type observational."))
        return Identification(True, Strategy.RANDOMIZATION, (), "randomization",
                              "randomization: the treatment has no causes but the coin", minimal, optimal)

    if isinstance(spec.adjustment, tuple):
        chosen = tuple(sorted(spec.adjustment))
        _check_explicit(spec, dag, chosen)
        return Identification(True, Strategy.BACKDOOR, chosen, "explicit",
                              "the spec's explicit adjustment list, checked against the DAG", minimal, optimal)

    if not minimal:
        obstacles = _unblockable_paths(dag, x, y)
        return Identification(False, Strategy.NOT_IDENTIFIED, (), "auto", ADJUSTMENT_RULE, minimal, optimal,
                              obstacles, _alternatives(dag, x, y))
    if optimal is not None:
        chosen = tuple(sorted(optimal))
    else:
        chosen = min((tuple(sorted(s)) for s in minimal), key=lambda s: (len(s), s))
    return Identification(True, Strategy.BACKDOOR, chosen, "auto", ADJUSTMENT_RULE, minimal, optimal)


def _check_explicit(spec: Spec, dag: DAG, chosen: tuple[str, ...]) -> None:
    x, y = spec.treatment, spec.outcome
    problems = _descendant_problems(dag, x, y, spec.adjustment, "adjustment")
    if problems:
        raise AdjustmentError(problems)
    if not is_adjustment_set(dag, x, y, chosen):
        raise AdjustmentError(_open_path_problem(dag, x, y, chosen, spec.adjustment, "adjustment"))


def _descendant_problems(dag: DAG, x: str, y: str, names, field: str) -> list[Problem]:
    problems = []
    descendants = set(dag.descendants([x])) - {x}
    for i, name in enumerate(names):
        if name not in descendants:
            continue
        route = _directed_path(dag, x, name)
        onward = _directed_path(dag, name, y)
        if onward:
            chain = " -> ".join(route + onward[1:])
            problems.append(Problem(
                f"{field}[{i}]",
                f"{name!r} is a mediator ({chain}); adjusting for it removes part of the effect you want.",
                fix="Remove it (the total effect needs no mediator), or estimate a direct effect instead.",
                code="mediator_adjusted"))
        else:
            problems.append(Problem(
                f"{field}[{i}]",
                f"{name!r} is a descendant of the treatment ({' -> '.join(route)}): it is affected by the "
                "treatment, and adjusting for it can bias the effect.",
                fix=f"Remove {name!r}: adjust only for variables measured before the treatment.",
                code="descendant_adjusted"))
    return problems


def _open_path_problem(dag: DAG, x: str, y: str, chosen, listed, field: str) -> Problem:
    open_paths = [p for p in _noncausal_paths(dag, x, y, chosen) if p.open]
    listed = tuple(listed)
    for p in open_paths:
        colliders = [v for v in p.colliders if v in chosen]
        if colliders:
            v = colliders[0]
            i = listed.index(v) if v in listed else 0
            return Problem(
                f"{field}[{i}]",
                f"{v!r} is a collider on the path {p.text}; adjusting for it opens that path and biases the "
                "effect.",
                fix=f"Remove {v!r} from {field}, or also adjust for a non-collider on that path.",
                code="collider_adjusted")
    if open_paths:
        p = open_paths[0]
        blockers = [v for v in p.nodes[1:-1] if v not in p.colliders and v in dag.observed]
        hint = (f"Add {' or '.join(repr(b) for b in blockers)} to {field}" if blockers
                else "No observed variable blocks it: see `causalspec plan` for an instrument or a front-door set")
        return Problem(field, f"the backdoor path {p.text} stays open given {list(chosen) or 'nothing'}.",
                       fix=f"{hint}.", code="backdoor_open")
    return Problem(field, f"{list(chosen)} is not a valid adjustment set for the DAG.",
                   fix="Use `adjustment: auto` to let the planner choose.", code="adjustment_invalid")


def _noncausal_paths(dag: DAG, x: str, y: str, given):
    """Paths between x and y other than directed ones out of x (backdoor paths and the like)."""
    return [p for p in paths(dag, x, y, tuple(given)) if not p.causal]


def _unblockable_paths(dag: DAG, x: str, y: str) -> tuple[str, ...]:
    """Backdoor paths left open even when every observed pre-treatment ancestor is adjusted for."""
    pre = set(dag.ancestors([x, y])) - set(dag.descendants([x])) - set(dag.latent)
    open_paths = [p.text for p in _noncausal_paths(dag, x, y, sorted(pre)) if p.open]
    return tuple(open_paths)


def _alternatives(dag: DAG, x: str, y: str) -> tuple[str, ...]:
    found = []
    for instrument, given in instrumental_variables(dag, x, y):
        cond = f" given {', '.join(given)}" if given else ""
        found.append(f"instrument: {instrument}{cond} (design.type iv)")
    for fd in front_door_sets(dag, x, y):
        found.append(f"front-door set: {', '.join(fd)} (the effect runs through it and it is shielded)")
    if not found:
        found.append("none: the effect is not identified from this DAG; measure a confounder on the open path, "
                     "or find an instrument or a randomized experiment")
    return tuple(found)


def _directed_path(dag: DAG, start: str, goal: str) -> list[str]:
    """The first directed path start -> ... -> goal in breadth-first order (children sorted), or []."""
    if start == goal:
        return [start]
    previous = {start: None}
    queue = deque([start])
    while queue:
        v = queue.popleft()
        for c in sorted(dag.children(v)):
            if c not in previous:
                previous[c] = v
                if c == goal:
                    route = [c]
                    while previous[route[-1]] is not None:
                        route.append(previous[route[-1]])
                    return route[::-1]
                queue.append(c)
    return []


# ---------------------------------------------------------- 2. covariates
def check_covariates(spec: Spec, dag: DAG, ident: Identification) -> tuple[str, ...]:
    x, y = spec.treatment, spec.outcome
    covs = tuple(spec.covariates)
    problems = _descendant_problems(dag, x, y, covs, "covariates")
    if problems:
        raise AdjustmentError(problems)
    extra = tuple(c for c in covs if c not in ident.adjustment_set)
    if ident.identified and ident.strategy is Strategy.BACKDOOR and extra:
        full = tuple(sorted(set(ident.adjustment_set) | set(extra)))
        if not is_adjustment_set(dag, x, y, full):
            raise AdjustmentError(_open_path_problem(dag, x, y, full, covs, "covariates"))
    return extra


# ------------------------------------------------------------ 3. decisions
_ROLE_TEXT = {
    "confounder": "a common cause of treatment and outcome",
    "mediator": "on a causal path from treatment to outcome",
    "descendant_of_treatment": "affected by the treatment",
    "collider": "a collider between causes of treatment and outcome",
    "instrument": "affects the outcome only through the treatment",
    "precision": "a cause of the outcome only",
    "cause_of_treatment_only": "a cause of the treatment only",
    "irrelevant": "unrelated to treatment and outcome",
    "latent": "not measured",
}


def decide_nodes(spec: Spec, dag: DAG, ident: Identification, extra: tuple[str, ...]) -> tuple[NodeDecision, ...]:
    x, y = spec.treatment, spec.outcome
    roles = {k: getattr(v, "value", str(v)) for k, v in node_roles(dag, x, y).items()}
    adjusted = set(ident.adjustment_set)
    decisions = []
    for node in sorted(dag.nodes):
        role = roles.get(node, "irrelevant")
        if node == x:
            decisions.append(NodeDecision(node, "treatment", False, "the treatment"))
            continue
        if node == y:
            decisions.append(NodeDecision(node, "outcome", False, "the outcome"))
            continue
        text = _ROLE_TEXT.get(role, role)
        if node in adjusted:
            why = ("in the adjustment set: " + text + (
                "; needed to block a backdoor path" if role == "confounder" else
                "; the O-set includes it because it sharpens the estimate" if ident.source == "auto" else
                "; listed in the spec's adjustment"))
            decisions.append(NodeDecision(node, role, True, why))
        elif node in extra:
            decisions.append(NodeDecision(node, role, True, f"precision covariate from the spec: {text}"))
        elif role == "latent":
            decisions.append(NodeDecision(node, role, False, "not measured, so it cannot be adjusted for"))
        elif role in ("mediator", "descendant_of_treatment"):
            decisions.append(NodeDecision(node, role, False, f"{text}: adjusting for it would bias the total effect"))
        elif role == "collider":
            decisions.append(NodeDecision(node, role, False, f"{text}: adjusting for it would open a path"))
        elif role == "instrument":
            decisions.append(NodeDecision(
                node, role, False, f"{text}: adjusting for it adds variance and can amplify bias"))
        elif role == "confounder":
            decisions.append(NodeDecision(
                node, role, False, f"{text}, but its paths are already blocked by the adjustment set"))
        else:
            decisions.append(NodeDecision(node, role, False, f"{text}: not needed for identification"))
    return tuple(decisions)


# ------------------------------------------------------------ 4. estimator
ESTIMATOR_RULE = (
    "observational, estimator auto: OLS regression adjustment for the ATE (exact R parity and omitted-variable-"
    "bias bounds); nearest-neighbour propensity-score matching for the ATT (MatchIt's target); inverse probability "
    "weighting for the ATC. experiment, estimator auto: Lin (2013) when covariates are given, else the "
    "difference in means"
)

# The estimands each observational estimator can target.
_ESTIMANDS = {
    Estimator.OLS: ("ATE",),
    Estimator.IPW: ("ATE", "ATT"),
    Estimator.AIPW: ("ATE",),
    Estimator.MATCHING: ("ATT", "ATC"),
}


def choose_estimator(spec: Spec) -> tuple[Estimator, str]:
    design = spec.design
    if design.type == "experiment":
        if spec.estimand != "ATE":
            raise UnsupportedError(Problem(
                "estimand", f"{spec.estimand} is not available for experiments in this version (difference in "
                "means and Lin estimate the ATE; under randomization ATT = ATE in expectation).",
                fix="Set estimand: ATE.", code="unsupported_estimand"))
        choice = design.estimator
        if choice == "auto":
            choice = "lin" if spec.covariates else "difference_in_means"
            why = ("auto: covariates are given, so Lin (2013) covariate adjustment (centred covariates interacted "
                   "with treatment) gains precision without bias" if spec.covariates else
                   "auto: no covariates, so the difference in means (Welch / Neyman)")
        else:
            why = f"chosen in the spec (design.estimator: {choice})"
        if choice == "difference_in_means" and spec.covariates:
            raise UnsupportedError(Problem(
                "covariates", "the difference in means does not use covariates.",
                fix="Remove covariates, or set design.estimator to lin.", code="unused_covariates"))
        if choice == "lin" and not spec.covariates:
            raise UnsupportedError(Problem(
                "covariates", "the Lin estimator needs at least one covariate.",
                fix="List pre-treatment covariates, or use design.estimator difference_in_means.",
                code="lin_without_covariates"))
        return Estimator(choice), why
    if design.estimator == "auto":
        estimator = {"ATE": Estimator.OLS, "ATT": Estimator.MATCHING, "ATC": Estimator.IPW}[spec.estimand]
        why = {
            Estimator.OLS: "auto: OLS regression adjustment (outcome on treatment and the adjustment set), "
                           "the linear-model estimator of the backdoor formula for the ATE",
            Estimator.MATCHING: "auto: the ATT, so nearest-neighbour matching on the propensity score (each "
                                "treated unit compared with its most similar control)",
            Estimator.IPW: "auto: the ATC, so inverse probability weighting",
        }[estimator]
        if estimator is Estimator.IPW:  # IPW here targets ATE/ATT; the ATC is matching's
            estimator, why = Estimator.MATCHING, ("auto: the ATC, so nearest-neighbour matching on the propensity "
                                                  "score (each control compared with its most similar treated unit)")
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


# --------------------------------------------------------------- 5. formulas
def build_formulas(spec: Spec, estimator: Estimator, adjust: tuple[str, ...], extra: tuple[str, ...]) -> tuple[str, str]:
    y, x = quote_name(spec.outcome), quote_name(spec.treatment)
    naive = f"{y} ~ {x}"
    if estimator is Estimator.LIN:
        covs = " + ".join(quote_name(c) for c in spec.covariates)
        return f"{y} ~ {x}, covariates = ~ {covs}", naive
    if estimator is Estimator.DIFFERENCE_IN_MEANS:
        return naive, naive
    if estimator in (Estimator.IPW, Estimator.MATCHING):
        # the outcome model is the weighted contrast; the adjustment enters through the propensity model
        return f"{naive} (weighted by the propensity model in settings)", naive
    terms = [x] + [quote_name(v) for v in (*adjust, *extra)]
    return f"{y} ~ " + " + ".join(terms), naive


def estimator_settings(spec: Spec, estimator: Estimator, adjust: tuple[str, ...], extra: tuple[str, ...]) -> dict:
    """Estimator-specific settings recorded in the plan (the propensity model's formula, matching options)."""
    wild = spec.inference.wild_bootstrap
    if wild is not None and estimator is not Estimator.OLS:
        raise UnsupportedError(Problem(
            "inference.wild_bootstrap", f"the wild cluster bootstrap is available for OLS regression adjustment and "
            f"fixed-effects regressions, not {estimator.value}.", fix="Remove wild_bootstrap.",
            code="wild_unsupported"))
    if wild is not None:
        return {"wild_bootstrap": {"weights": wild.weights, "draws": wild.draws}}
    if spec.design.type == "experiment":
        return spec.design.plan_settings()
    if estimator not in (Estimator.IPW, Estimator.AIPW, Estimator.MATCHING):
        return {}
    rhs = " + ".join(quote_name(v) for v in (*adjust, *extra)) or "1"
    out = {"propensity_formula": f"{quote_name(spec.treatment)} ~ {rhs}", "propensity_model": "logistic"}
    if estimator is Estimator.MATCHING:
        m = spec.design.matching
        out.update(m.plan_settings())
    else:
        out["trim"] = spec.design.trim
    if estimator is Estimator.AIPW and spec.design.learner != "glm":
        out.update(learner=spec.design.learner, folds=spec.design.folds)
    elif spec.design.learner != "glm":
        raise UnsupportedError(Problem(
            "design.learner", f"flexible learners are used by aipw only, not {estimator.value}.",
            fix="Use design.estimator aipw, or learner glm.", code="learner_unsupported"))
    return out


def column_fields(spec: Spec, fields: dict) -> tuple[tuple[str, str], ...]:
    """Every data column the plan reads, with the spec field that names it (for error locations)."""
    out = {spec.outcome: "outcome", spec.treatment: "treatment"}
    explicit = fields.get("adjustment_source") == "explicit"
    for i, v in enumerate(fields.get("adjustment_set", ())):
        out.setdefault(v, f"adjustment[{i}]" if explicit else "data")
    for i, v in enumerate(spec.covariates):
        out.setdefault(v, f"covariates[{i}]")
    for i, v in enumerate(spec.inference.cluster):
        out.setdefault(v, f"inference.cluster[{i}]")
    if spec.design.type == "experiment":  # metric columns, CUPED covariate, guardrails
        for v, where in spec.design.data_columns():
            out.setdefault(v, where)
    return tuple(out.items())


# ------------------------------------------------------------------ 6. vcov
def choose_vcov(spec: Spec, estimator: Estimator) -> VcovPlan:
    inf = spec.inference
    explicit = inf.vcov is not None
    kind = inf.vcov if explicit else ("CR2" if inf.cluster else "HC2")  # estimatr::lm_robust's defaults
    cl = ", ".join(inf.cluster)
    if estimator in (Estimator.IPW, Estimator.AIPW):
        what = ("M-estimation: the IPW and logistic-regression estimating equations stacked (sandwich)"
                if estimator is Estimator.IPW else "the efficient influence function of AIPW")
        return VcovPlan("m_estimation" if estimator is Estimator.IPW else "influence_function", (), inf.level,
                        what)
    if estimator is Estimator.MATCHING and spec.design.matching.replace:
        return VcovPlan("HC3", (), inf.level, 'lm(weights = weights) on match.data(); sandwich::vcovHC(type = "HC3") '
                        "(with replacement there are no pairs; MatchIt's advice)")
    if estimator is Estimator.MATCHING:
        return VcovPlan("CR1", ("subclass",), inf.level,
                        'lm(weights = weights) on match.data(); sandwich::vcovCL(cluster = ~subclass, '
                        'type = "HC1") as the MatchIt docs recommend')
    if estimator is Estimator.DIFFERENCE_IN_MEANS:
        if explicit or inf.cluster:
            raise UnsupportedError(Problem(
                "inference.vcov", "the difference in means uses the Neyman (Welch) standard error.",
                fix="Leave inference.vcov out (the Neyman variance), or use design.estimator lin for other variances.",
                code="unsupported_vcov"))
        return VcovPlan("neyman", (), inf.level, "estimatr::difference_in_means(); stats::t.test(var.equal = FALSE)")
    if estimator is Estimator.LIN:
        se_type = {"CR0": "CR0", "CR1": "stata", "stata": "stata"}.get(kind, kind)
        r = f'estimatr::lm_lin(se_type = "{se_type}"' + (f", clusters = {cl})" if cl else ")")
        return VcovPlan(kind, tuple(inf.cluster), inf.level, r)
    r = {
        "iid": "stats::vcov(lm())",
        "HC0": 'sandwich::vcovHC(type = "HC0")',
        "HC1": 'sandwich::vcovHC(type = "HC1")',
        "HC2": 'sandwich::vcovHC(type = "HC2"); estimatr::lm_robust() default',
        "HC3": 'sandwich::vcovHC(type = "HC3")',
        "CR0": f'sandwich::vcovCL(cluster = ~{cl}, type = "HC0")',
        "CR1": f'sandwich::vcovCL(cluster = ~{cl}, type = "HC1")',
        "CR2": f'estimatr::lm_robust(clusters = {cl}, se_type = "CR2")',
        "stata": f'estimatr::lm_robust(clusters = {cl}, se_type = "stata")',
    }[kind]
    return VcovPlan(kind, tuple(inf.cluster), inf.level, r)


# ------------------------------------------------------------ 7. assumptions
def state_assumptions(spec: Spec, ident: Identification, estimator: Estimator) -> tuple[str, ...]:
    x, y = spec.treatment, spec.outcome
    out = []
    if ident.strategy is Strategy.RANDOMIZATION:
        out += [f"{x} was assigned at random, independently of every cause of {y} (no confounding by design).",
                "Units do not affect one another's outcomes (no interference, SUTVA).",
                "Everyone analysed received the arm they were assigned to, or the estimate is intention-to-treat."]
    elif ident.strategy is Strategy.BACKDOOR:
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
    if estimator in (Estimator.IPW, Estimator.AIPW, Estimator.MATCHING):
        out.append(f"The propensity score model (logistic regression of {x} on the adjustment set) is correctly "
                   "specified" + (" or the outcome model is (AIPW is doubly robust)." if estimator is Estimator.AIPW
                                  else "."))
    if estimator is Estimator.LIN:
        out.append("Covariates were measured before randomization (Lin 2013: consistent for the ATE "
                   "whatever the true outcome model).")
    return tuple(out)


# ------------------------------------------------------------ 8. sensitivity
BENCHMARK_RULE = (
    "when the spec names no benchmark, the variable of the adjustment set with the largest partial R² with the "
    "treatment (given the rest of the model) is the benchmark: the strongest observed confounder calibrates "
    "how strong an unobserved one would have to be"
)

_NO_OVB = "omitted-variable-bias bounds need a linear outcome model; the E-value is reported instead"


def plan_sensitivity(spec: Spec, fields: dict) -> SensitivityPlan:
    """Which sensitivity steps run: on by default for designs that rely on no unmeasured confounding."""
    sens = spec.sensitivity
    estimator = fields["estimator"]
    if not sens.enabled:
        return SensitivityPlan(False, "turned off in the spec (sensitivity.enabled: false)")
    if not fields.get("identified", True):
        return SensitivityPlan(False, "the effect is not identified, so there is no estimate to stress")
    if spec.design.type == "experiment":
        return SensitivityPlan(False, "randomization rules out confounding by design; the experiment's own checks "
                                      "(sample-ratio mismatch, balance) stand in for sensitivity bounds")
    benchmarks = tuple(b if isinstance(b, tuple) else (b,) for b in sens.benchmarks)
    adjusted = set(fields.get("adjustment_set", ())) | set(fields.get("covariates", ()))
    for i, group in enumerate(benchmarks):
        for name in group:
            if name not in adjusted:
                raise AdjustmentError(Problem(
                    f"sensitivity.benchmarks[{i}]", f"{name!r} is not in the model, so it cannot calibrate "
                    "confounder strength.",
                    fix=f"Use a variable of the adjustment set or covariates: {sorted(adjusted) or 'none'}.",
                    code="benchmark_not_in_model"))
    refutations = sens.refutations
    if refutations is None:  # the design's default suite
        refutations = ("placebo_treatment", "random_common_cause", "data_subsets")
        if spec.design.type in ("did", "event_study"):
            refutations += ("placebo_date",)
    if "placebo_outcome" in refutations and sens.placebo_outcome is None:
        raise AdjustmentError(Problem(
            "sensitivity.refutations", "placebo_outcome is listed but no placebo outcome column is named.",
            fix="Set sensitivity.placebo_outcome to a column the treatment cannot affect, or drop the test.",
            code="placebo_outcome_missing"))
    if "placebo_date" in refutations and spec.design.type not in ("did", "event_study"):
        raise AdjustmentError(Problem(
            "sensitivity.refutations", "placebo_date applies to difference-in-differences designs.",
            fix="Remove placebo_date, or use design.type did.", code="placebo_date_not_did"))
    linear = estimator in LINEAR_ESTIMATORS
    if linear:
        rule = "named in the spec" if benchmarks else (BENCHMARK_RULE if adjusted else
                                                       "no observed covariate in the model, so no benchmark")
        reason = ("the estimate relies on no unmeasured confounding given the adjustment set, so how strong an "
                  "unmeasured confounder would have to be is measured by default")
    else:
        rule = ""
        reason = f"the estimate relies on no unmeasured confounding, so its fragility is measured by default ({_NO_OVB})"
    if sens.all_adjustment_sets and spec.design.type != "observational":
        raise AdjustmentError(Problem(
            "sensitivity.all_adjustment_sets", "the specification curve compares adjustment sets of an "
            "observational design.", fix="Remove all_adjustment_sets.", code="spec_curve_not_observational"))
    refutations = tuple(refutations)
    return SensitivityPlan(
        enabled=True, reason=reason, benchmarks=benchmarks, benchmark_rule=rule, kd=tuple(sens.kd),
        ky=tuple(sens.ky) if sens.ky is not None else None, q=sens.q, alpha=sens.alpha,
        refutations=refutations, placebo_outcome=sens.placebo_outcome, simulations=sens.simulations,
        subset_fraction=sens.subset_fraction, all_adjustment_sets=sens.all_adjustment_sets)
