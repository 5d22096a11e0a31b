"""Design plug-ins for panels: fixed effects, instrumental variables, difference in differences, event studies.

Planners (data-free) decide what is estimated and say which assumption identifies it; fitters call the
fixest-parity estimators in :mod:`causalspec.estimators.fixest`, :mod:`causalspec.estimators._iv` and
:mod:`causalspec.estimators._cs`, and the fixest variance in :mod:`causalspec.inference._fixest`.

DAG conventions: a fixed-effect column may appear in the DAG as a node standing for everything constant
within its levels (``nr -> union``, ``nr -> lwage``: the worker's time-invariant traits); such nodes are
adjusted for by the fixed effects, never as regressors.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import AdjustmentError, DataError, EstimationError, Problem, UnsupportedError
from ..graph import DAG, adjustment_sets, instrumental_variables, is_adjustment_set, optimal_adjustment_set, paths
from ..planner import Estimator, Strategy, VcovPlan
from ..planner import _rules
from ..spec._formula import quote_name
from . import fitter, planner

__all__ = ["plan_panel", "plan_iv", "plan_did", "plan_event_study"]


# ================================================================== shared planning helpers
def _fixed_effects(design) -> tuple[str, ...]:
    names = [n for n in (getattr(design, "unit", None), getattr(design, "time", None)) if n]
    names += list(getattr(design, "fixed_effects", ()))
    return tuple(dict.fromkeys(names))


def _fe_columns(fes: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(c.strip() for fe in fes for c in fe.split("^")))


def _identify_given_fe(spec, dag: DAG, fes: tuple[str, ...]) -> _rules.Identification:
    """Backdoor identification where DAG nodes that are fixed-effect columns are adjusted for by the FE."""
    x, y = spec.treatment, spec.outcome
    forced = tuple(sorted(c for c in _fe_columns(fes) if c in dag.nodes and c not in dag.latent))
    minimal = tuple(tuple(s) for s in adjustment_sets(dag, x, y, type="minimal"))
    optimal = optimal_adjustment_set(dag, x, y)
    optimal = tuple(optimal) if optimal is not None else None
    if isinstance(spec.adjustment, tuple):
        chosen = tuple(sorted(set(spec.adjustment) | set(forced)))
        if not is_adjustment_set(dag, x, y, chosen):
            raise AdjustmentError(_rules._open_path_problem(dag, x, y, chosen, spec.adjustment, "adjustment"))
        return _rules.Identification(True, Strategy.FIXED_EFFECTS, chosen, "explicit",
                                     "the spec's explicit adjustment list plus the fixed effects, checked against "
                                     "the DAG", minimal, optimal)
    candidates = [forced] + [tuple(sorted(set(forced) | set(s))) for s in minimal]
    valid = [c for c in candidates if is_adjustment_set(dag, x, y, c)]
    if not valid:
        return _rules.Identification(False, Strategy.NOT_IDENTIFIED, (), "auto", _FE_RULE, minimal, optimal,
                                     _rules._unblockable_paths(dag, x, y), _rules._alternatives(dag, x, y))
    chosen = min(valid, key=lambda s: (len(s), s))
    return _rules.Identification(True, Strategy.FIXED_EFFECTS, chosen, "auto", _FE_RULE, minimal, optimal)


_FE_RULE = ("the fixed effects, plus the smallest minimal adjustment set that completes them (ties broken by "
            "name); DAG nodes that are fixed-effect columns are absorbed by the fixed effects")


def _fixest_vcov_plan(spec, fes: tuple[str, ...]) -> VcovPlan:
    """The spec's inference as a fixest vcov; an unset vcov means fixest's default (cluster by the first FE)."""
    inf = spec.inference
    explicit = inf.vcov is not None
    kind = inf.vcov if explicit else ("CR1" if inf.cluster else None)
    if kind is None and fes:
        first = _fe_columns(fes[:1])
        return VcovPlan("CR1", first, inf.level, f"fixest::feols() default: vcov = ~{'^'.join(first)}")
    if kind == "iid":
        return VcovPlan("iid", (), inf.level, 'fixest::feols(vcov = "iid")')
    if kind == "HC1":
        return VcovPlan("HC1", (), inf.level, 'fixest::feols(vcov = "hetero")')
    if kind == "CR1":
        return VcovPlan("CR1", tuple(inf.cluster), inf.level,
                        f"fixest::feols(vcov = ~{' + '.join(inf.cluster)})")
    if kind in ("CR0", "CR2", "stata") and len(inf.cluster) == 1:
        return VcovPlan(kind, tuple(inf.cluster), inf.level,
                        f"estimatr::lm_robust(fixed_effects = ~{' + '.join(fes)}, clusters = {inf.cluster[0]}, "
                        f'se_type = "{kind}")')
    raise UnsupportedError(Problem(
        "inference.vcov", f"{kind} is not available with fixed effects in this version"
        + (" (CR0, CR2 and stata take one cluster column)" if kind in ("CR0", "CR2", "stata") else "") + ".",
        fix='Use iid, HC1 (fixest "hetero"), CR1 with cluster (fixest ~cluster, two-way with two columns), or '
            "CR0 / CR2 / stata with one cluster column (estimatr); leave vcov out for fixest's default.",
        code="unsupported_vcov"))


def _fields(spec, dag, ident, extra, estimator, why, formula, naive, vcov, assumptions, settings, column_fields,
            notes=()) -> dict:
    decisions = _rules.decide_nodes(spec, dag, ident, extra)
    return dict(
        identified=ident.identified, strategy=ident.strategy, adjustment_set=ident.adjustment_set,
        adjustment_source=ident.source, adjustment_rule=ident.rule, minimal_adjustment_sets=ident.minimal_sets,
        optimal_adjustment_set=ident.optimal_set, covariates=extra, decisions=decisions, estimator=estimator,
        estimator_reason=why, formula=formula, naive_formula=naive, vcov=vcov, assumptions=tuple(assumptions),
        obstacles=ident.obstacles, alternatives=ident.alternatives, notes=tuple(notes), settings=settings,
        column_fields=tuple(column_fields))


def _columns(spec, pairs) -> list[tuple[str, str]]:
    out = {spec.outcome: "outcome", spec.treatment: "treatment"}
    for col, where in pairs:
        if col:
            out.setdefault(col, where)
    for i, c in enumerate(spec.inference.cluster):
        out.setdefault(c, f"inference.cluster[{i}]")
    return list(out.items())


def _formula_error(message: str, fix: str) -> AdjustmentError:
    return AdjustmentError(Problem("model.formula", message, fix=fix, code="formula_mismatch"))


def plan_from_formula(spec, dag: DAG) -> dict:
    """Plan a fixest-style ``model.formula``: the same checks against the DAG as the design fields get."""
    from ..spec import EventStudyDesign, IVDesign, PanelDesign
    from ._fixest_formula import parse_fixest

    text = spec.model.formula
    f = parse_fixest(text)
    if f.outcome != spec.outcome:
        raise _formula_error(f"the formula's outcome {f.outcome!r} is not the spec's outcome {spec.outcome!r}.",
                             fix=f"Write {spec.outcome} ~ ... or change outcome.")
    base = {**spec.model_dump(), "model": None}
    if f.endogenous is not None:
        if f.endogenous != spec.treatment:
            raise _formula_error(f"the endogenous variable {f.endogenous!r} is not the treatment {spec.treatment!r}.",
                                 fix=f"Write ... | {spec.treatment} ~ instruments.")
        design = IVDesign(instruments=f.instruments, fixed_effects=f.fixed_effects)
        sub = type(spec)(**{**base, "design": design.model_dump(), "covariates": list(f.regressors),
                            "adjustment": "auto"})
        fields = _plan_sub(plan_iv, sub, dag)
        missing = sorted(set(fields["settings"]["exogenous"]) - set(f.regressors))
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
        sub = type(spec)(**{**base, "design": PanelDesign(fixed_effects=f.fixed_effects).model_dump(),
                            "adjustment": others, "covariates": []})
        fields = _plan_sub(plan_panel, sub, dag)
        fields["settings"]["regressors"] = others  # the formula's order, as fixest reports them
    fields["formula"] = text
    fields["settings"]["model_formula"] = text
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


def _ate_only(spec, what: str, allowed=("ATE",)) -> None:
    if spec.estimand not in allowed:
        raise UnsupportedError(Problem(
            "estimand", f"the {what} estimates the {' / '.join(allowed)}, not the {spec.estimand}.",
            fix=f"Set estimand: {allowed[0]}.", code="unsupported_estimand"))


_STRICT_EXOGENEITY = ("Strict exogeneity: given the fixed effects (and the regressors), the treatment is unrelated "
                      "to the outcome's shocks in every period — no time-varying confounder, no feedback from past "
                      "outcomes to the treatment.")


# ================================================================== panel
@planner("panel")
def plan_panel(spec, dag: DAG) -> dict:
    if spec.model is not None:
        return plan_from_formula(spec, dag)
    _ate_only(spec, "fixed-effects regression")
    d = spec.design
    fes = _fixed_effects(d)
    if not fes:
        raise UnsupportedError(Problem("design.fixed_effects", "a panel design needs fixed effects.",
                                       fix="Set design.unit (and design.time), or list fixed_effects.",
                                       code="no_fixed_effects"))
    ident = _identify_given_fe(spec, dag, fes)
    absorbed = set(_fe_columns(fes))
    regressors = tuple(v for v in ident.adjustment_set if v not in absorbed)
    extra = tuple(c for c in spec.covariates if c not in regressors)
    terms = [quote_name(spec.treatment)] + [quote_name(v) for v in (*regressors, *extra)]
    formula = f"{quote_name(spec.outcome)} ~ {' + '.join(terms)} | {' + '.join(fes)}"
    vcov = _fixest_vcov_plan(spec, fes)
    settings = {"regressors": list(regressors + extra), "fixed_effects": list(fes),
                "fixef_rm": "singleton" if d.singletons == "drop" else "none"}
    if spec.inference.wild_bootstrap is not None:
        settings["wild_bootstrap"] = {"weights": spec.inference.wild_bootstrap.weights,
                                      "draws": spec.inference.wild_bootstrap.draws}
    assumptions = [_STRICT_EXOGENEITY,
                   f"Given {', '.join(fes)} fixed effects and {', '.join(regressors) or 'no other regressor'}, the "
                   "DAG has no open backdoor path (DAG nodes that are fixed-effect columns stand for everything "
                   "constant within their levels).",
                   "The effect is the same for every unit and period (otherwise a variance-weighted average)."]
    why = "fixed-effects OLS (fixest::feols): compares each unit with itself over time"
    cols = _columns(spec, [(v, "dag") for v in regressors] + [(c, f"covariates[{i}]") for i, c in enumerate(extra)]
                    + [(c, "design.fixed_effects") for c in _fe_columns(fes)])
    return _fields(spec, dag, ident, extra, Estimator.FEOLS, why, formula,
                   f"{quote_name(spec.outcome)} ~ {quote_name(spec.treatment)}", vcov, assumptions, settings, cols)


# ================================================================== did
@planner("did")
def plan_did(spec, dag: DAG) -> dict:
    if spec.model is not None:
        return plan_from_formula(spec, dag)
    _ate_only(spec, "difference in differences", ("ATT", "ATE"))
    d = spec.design
    estimator = d.estimator
    if estimator == "auto":
        estimator = "2x2" if d.post is not None else "twfe"
    if estimator == "2x2":
        if d.post is None:
            raise UnsupportedError(Problem("design.post", "a 2x2 difference in differences needs the post column.",
                                           fix="Set design.post to the 0/1 after-the-change column.",
                                           code="did_post_missing"))
        group = d.group or spec.treatment
        y, g, p = quote_name(spec.outcome), quote_name(group), quote_name(d.post)
        extra = tuple(spec.covariates)
        formula = f"{y} ~ {p} * {g}" + "".join(f" + {quote_name(c)}" for c in extra)
        ident = _rules.Identification(True, Strategy.PARALLEL_TRENDS, (), "design",
                                      "difference in differences: the control group's change stands in for the "
                                      "treated group's change without treatment", (), None)
        vcov = _rules.choose_vcov(spec, Estimator.OLS)
        settings = {"group": group, "post": d.post, "did_term": f"{d.post}:{group}"}
        cols = _columns(spec, [(group, "design.group" if d.group else "treatment"), (d.post, "design.post")]
                        + [(c, f"covariates[{i}]") for i, c in enumerate(extra)])
        assumptions = [
            f"Parallel trends: without the change, {spec.outcome} would have moved the same way in the treated "
            f"group ({group} = 1) as in the control group.",
            "No anticipation: the treated group did not react before the change.",
            "The groups' composition is stable across the two periods (no selective entry or exit)."]
        return _fields(spec, dag, ident, extra, Estimator.DID_2X2,
                       "2x2 difference in differences: OLS of outcome on post, group and their interaction; the "
                       "interaction is the effect", formula, f"{y} ~ {g}", vcov, assumptions, settings, cols,
                       notes=("The naive contrast compares the groups after the change only.",))
    fes = _fixed_effects(d)
    if len(fes) < 2:
        raise UnsupportedError(Problem("design.unit", "a two-way fixed-effects DiD needs unit and time.",
                                       fix="Set design.unit and design.time.", code="did_twfe_fe_missing"))
    fields = plan_panel(spec.model_copy(update={"design": _as_panel(d)}), dag)
    fields.update(
        strategy=Strategy.PARALLEL_TRENDS, estimator=Estimator.TWFE,
        estimator_reason="two-way fixed effects (fixest::feols(y ~ treatment | unit + time)): the treatment "
                         "indicator switches on after adoption",
        assumptions=(f"Parallel trends: without treatment, treated and control units' {spec.outcome} would have "
                     "moved in parallel.",
                     "No anticipation: units did not react before treatment.",
                     "Effects are the same across adoption cohorts and over time; with staggered adoption and "
                     "changing effects two-way fixed effects is biased — use design.type event_study with "
                     "sun_abraham or callaway_santanna."))
    return fields


def _as_panel(d):
    from ..spec import PanelDesign

    return PanelDesign(unit=d.unit, time=d.time, fixed_effects=d.fixed_effects)


# ================================================================== iv
@planner("iv")
def plan_iv(spec, dag: DAG) -> dict:
    if spec.model is not None:
        return plan_from_formula(spec, dag)
    _ate_only(spec, "two-stage least squares (under a constant effect; a LATE otherwise)")
    d = spec.design
    x, y = spec.treatment, spec.outcome
    valid = instrumental_variables(dag, x, y)
    controls: set[str] = set()
    for i, z in enumerate(d.instruments):
        if z not in dag.nodes:
            raise AdjustmentError(Problem(f"design.instruments[{i}]", f"{z!r} is not a node of the DAG.",
                                          fix=f'Add the instrument to the DAG, e.g. "{z} -> {x}".',
                                          code="unknown_node"))
        if x not in dag.descendants([z]):
            raise AdjustmentError(Problem(
                f"design.instruments[{i}]", f"{z!r} has no directed path into the treatment {x!r}, so it cannot "
                "move it (relevance fails).", fix=f'Remove it, or add the edge "{z} -> {x}" if it belongs.',
                code="instrument_irrelevant"))
        given = [tuple(g) for zz, g in valid if zz == z]
        if not given:
            raise AdjustmentError(Problem(
                f"design.instruments[{i}]", f"{z!r} is not a valid instrument: {_iv_violation(dag, z, x, y)}.",
                fix="An instrument may reach the outcome only through the treatment and share no cause with it; "
                    "remove it or fix the DAG.", code="instrument_invalid"))
        controls |= set(min(given, key=lambda g: (len(g), g)))
    exog = tuple(sorted(controls))
    extra = tuple(c for c in spec.covariates if c not in exog)
    fes = tuple(d.fixed_effects)
    yq, xq = quote_name(y), quote_name(x)
    rhs = " + ".join(quote_name(v) for v in (*exog, *extra)) or "1"
    formula = (f"{yq} ~ {rhs}" + (f" | {' + '.join(fes)}" if fes else "")
               + f" | {xq} ~ {' + '.join(quote_name(z) for z in d.instruments)}")
    ident = _rules.Identification(True, Strategy.INSTRUMENTAL_VARIABLES, exog, "instruments",
                                  "the conditioning sets that make the instruments valid (dagitty's conditional "
                                  "instruments)", tuple(tuple(s) for s in adjustment_sets(dag, x, y, "minimal")),
                                  None)
    vcov = _fixest_vcov_plan(spec, fes) if fes else _iv_vcov_plan(spec)
    settings = {"instruments": list(d.instruments), "exogenous": list(exog + extra), "fixed_effects": list(fes)}
    assumptions = [
        f"Relevance: {', '.join(d.instruments)} move {x} (checked in the data by the first-stage F statistic).",
        f"Exclusion and independence: given {', '.join(exog) or 'nothing'}, the instruments affect {y} only through "
        f"{x} and share no cause with {y} (checked against the DAG).",
        "Monotonicity, or a constant effect: otherwise 2SLS estimates a local average effect for compliers."]
    cols = _columns(spec, [(v, "dag") for v in exog] + [(c, f"covariates[{i}]") for i, c in enumerate(extra)]
                    + [(z, f"design.instruments[{i}]") for i, z in enumerate(d.instruments)]
                    + [(c, "design.fixed_effects") for c in _fe_columns(fes)])
    return _fields(spec, dag, ident, extra, Estimator.IV_2SLS,
                   "two-stage least squares (fixest::feols IV; AER::ivreg without fixed effects)", formula,
                   f"{yq} ~ {xq}", vcov, assumptions, settings, cols)


def _iv_vcov_plan(spec) -> VcovPlan:
    inf = spec.inference
    if inf.wild_bootstrap is not None:
        raise UnsupportedError(Problem("inference.wild_bootstrap", "the wild bootstrap is not available for IV.",
                                       fix="Remove wild_bootstrap.", code="wild_unsupported"))
    kind = inf.vcov or ("CR1" if inf.cluster else "iid")
    if kind in ("iid", "HC0", "HC1", "HC2", "HC3"):
        return VcovPlan(kind, (), inf.level, f'AER::ivreg(); sandwich::vcovHC(type = "{kind}")' if kind != "iid"
                        else "AER::ivreg() summary (iid)")
    if kind == "CR1":
        return VcovPlan("CR1", tuple(inf.cluster), inf.level, f"fixest::feols(vcov = ~{' + '.join(inf.cluster)})")
    raise UnsupportedError(Problem("inference.vcov", f"{kind} is not available for IV in this version.",
                                   fix="Use iid, HC0-HC3 or CR1.", code="unsupported_vcov"))


def _iv_violation(dag: DAG, z: str, x: str, y: str) -> str:
    """Name a path that breaks exclusion or independence (z to y, not through x's effect)."""
    edges = [f"{a} {arrow} {b}" for a, arrow, b in dag.edges if not (a == x and arrow == "->")]
    cut = DAG.from_edges(edges, nodes=list(dag.nodes), latent=list(dag.latent))
    for p in paths(cut, z, y):
        if p.open:
            return f"the path {p.text} reaches the outcome without going through the treatment's effect"
    return "no observed conditioning set closes every path from it to the outcome other than through the treatment"


# ================================================================== event study
@planner("event_study")
def plan_event_study(spec, dag: DAG) -> dict:
    if spec.model is not None:
        return plan_from_formula(spec, dag)
    _ate_only(spec, "event study", ("ATT", "ATE"))
    d = spec.design
    estimator = d.estimator
    if estimator == "auto":
        estimator = "sun_abraham" if d.first_treated else "twfe"
    if estimator in ("sun_abraham", "callaway_santanna") and not d.first_treated:
        raise UnsupportedError(Problem("design.first_treated", f"{estimator} needs each unit's first treated "
                                       "period.", fix="Set design.first_treated (0 or empty for never treated).",
                                       code="first_treated_missing"))
    if estimator == "twfe" and not (d.first_treated or (d.relative_time and d.treated)):
        raise UnsupportedError(Problem("design.first_treated", "an event study needs relative time: "
                                       "first_treated, or relative_time with treated.",
                                       fix="Set design.first_treated.", code="relative_time_missing"))
    fes = (d.unit, d.time)
    ident = _rules.Identification(True, Strategy.PARALLEL_TRENDS, (), "design",
                                  "event study: units compared with not-yet or never-treated units over time",
                                  (), None)
    vcov = _fixest_vcov_plan(spec, fes)
    y = quote_name(spec.outcome)
    if estimator == "callaway_santanna":
        covs = " + ".join(quote_name(c) for c in spec.covariates) or "1"
        formula = (f"did::att_gt(yname = {y}, tname = {d.time}, idname = {d.unit}, gname = {d.first_treated}, "
                   f"xformla = ~{covs}, control_group = {d.control_group.replace('_', '')}, "
                   f"est_method = {d.est_method})")
        est, why = Estimator.CALLAWAY_SANTANNA, (
            "Callaway & Sant'Anna (2021) group-time ATTs (did::att_gt), aggregated to one ATT (simple) and by "
            f"event time (dynamic); comparison group: {d.control_group.replace('_', ' ')} units, "
            f"{d.est_method} estimation")
        vcov = VcovPlan("influence_function", (d.unit,), spec.inference.level,
                        "did::att_gt / aggte analytical SEs (influence function, clustered by unit)")
    elif estimator == "sun_abraham":
        formula = f"{y} ~ sunab({quote_name(d.first_treated)}, {quote_name(d.time)}) | {d.unit} + {d.time}"
        est, why = Estimator.SUN_ABRAHAM, ("Sun & Abraham (2021) interaction-weighted estimator (fixest::sunab): "
                                          "cohort-by-period effects aggregated by relative period; robust to "
                                          "effects that differ across adoption cohorts")
    else:
        rel = d.relative_time or "relative time"
        formula = f"{y} ~ i({rel}, {d.treated or d.first_treated}, ref = {d.reference}) | {d.unit} + {d.time}"
        est, why = Estimator.EVENT_STUDY, ("two-way fixed-effects event study (fixest i(relative time, treated, "
                                           "ref)): one coefficient per period relative to treatment")
    settings = {"unit": d.unit, "time": d.time, "first_treated": d.first_treated, "relative_time": d.relative_time,
                "treated": d.treated, "reference": d.reference, "control_group": d.control_group.replace("_", ""),
                "est_method": d.est_method, "anticipation": d.anticipation, "covariates": list(spec.covariates),
                "window": list(d.window) if d.window else None, "bin_endpoints": d.bin_endpoints}
    cols = _columns(spec, [(d.unit, "design.unit"), (d.time, "design.time"), (d.first_treated, "design.first_treated"),
                           (d.relative_time, "design.relative_time"), (d.treated, "design.treated")]
                    + [(c, f"covariates[{i}]") for i, c in enumerate(spec.covariates)])
    assumptions = [
        f"Parallel trends: without treatment, treated and comparison units' {spec.outcome} would have moved in "
        "parallel (the leads, periods before treatment, are a check: they should be near zero).",
        f"No anticipation: no effect before treatment (the reference period {d.reference} is the baseline).",
        "Treatment is absorbing: once treated, a unit stays treated."]
    return _fields(spec, dag, ident, tuple(spec.covariates), est, why, formula, f"{y} ~ {quote_name(spec.treatment)}",
                   vcov, assumptions, settings, cols)


# ================================================================== fitting helpers
def _fe_frame(frame: pd.DataFrame, fes) -> pd.DataFrame:
    from ..estimators.fixest import interact

    out = {}
    for fe in fes:
        parts = [c.strip() for c in fe.split("^")]
        out[fe] = frame[parts[0]].to_numpy() if len(parts) == 1 else interact(*(frame[c].to_numpy() for c in parts))
    return pd.DataFrame(out, index=frame.index)


def _fixest_vcov(fit, vc: VcovPlan, frame: pd.DataFrame):
    from ..inference._fixest import fixest_vcov

    if vc.kind == "iid":
        return fixest_vcov(fit, "iid")
    if vc.kind == "HC1":
        return fixest_vcov(fit, "hetero")
    return fixest_vcov(fit, "cluster", _fe_frame(frame, vc.cluster))


def _estimates(table: pd.DataFrame, df) -> tuple:
    from ..estimators._result import Estimate

    dfs = np.broadcast_to(np.asarray(df, dtype=float), (len(table),))
    return tuple(Estimate(str(r.term), float(r.estimate), float(r.std_error), float(r.statistic), float(r.p_value),
                          float(r.conf_low), float(r.conf_high), float(d))
                 for r, d in zip(table.itertuples(index=False), dfs))


def _find(rows, *names):
    for r in rows:
        if r.term in names:
            return r
    raise EstimationError(Problem("treatment", f"no coefficient named {names[0]!r} was estimated (it may be "
                                  "collinear with the fixed effects).",
                                  fix="Check that the treatment varies within units and periods."))


def _regressor_matrix(plan, frame: pd.DataFrame, terms: list[str], intercept: bool):
    from ..estimators._design import materialize

    rhs = " + ".join(terms)
    design = materialize(f"{quote_name(plan.outcome)} ~ {rhs}", frame)
    keep = [i for i, t in enumerate(design.terms) if intercept or t != "(Intercept)"]
    return design, design.X[:, keep], [design.terms[i] for i in keep]


def _naive(plan, frame: pd.DataFrame, vc: VcovPlan, rows_mask=None):
    """outcome ~ treatment (with an intercept, no fixed effects) on the same rows and the same variance type."""
    from ..estimators.fixest import feols
    from ..inference._fixest import coeftable

    sub = frame if rows_mask is None else frame.loc[rows_mask]
    design, X, names = _regressor_matrix(plan, sub, [quote_name(plan.treatment)], True)
    fit = feols(design.y, X, names)
    V = _fixest_vcov(fit, vc, sub.loc[design.rows])
    rows = _estimates(coeftable(fit, V, vc.level), V.df_t)
    return _find(rows, *_treatment_terms(plan.treatment))


def _treatment_terms(name: str) -> tuple[str, ...]:
    return (name, f"`{name}`", f"{name}TRUE", f"`{name}`TRUE")


def _fixest_regressions(fit, term: str, outcome: str):
    """Outcome and treatment regressions on the demeaned data with fixest's residual dof, for sensemakr."""
    from ..sensitivity._from_data import Regressions, fit_linear

    X = pd.DataFrame(fit.X, columns=list(fit.names))
    y_dm = fit.resid + fit.X @ fit.coef
    n_fe = fit.nparams - len(fit.names)

    def with_dof(lf, extra_params):
        dof = lf.nobs - len(lf.names) - extra_params
        return replace(lf, dof=dof, sigma2=lf.sigma2 * (lf.nobs - len(lf.names)) / dof)

    out = with_dof(fit_linear(y_dm, X), n_fe)
    others = X[[c for c in X.columns if c != term]]
    if others.shape[1] == 0:  # nothing else in the model: the treatment regression has no benchmark to offer
        others = pd.DataFrame({"(Intercept)": np.ones(len(X))})
    dfit = with_dof(fit_linear(X[term].to_numpy(float), others), n_fe)
    return Regressions(outcome, term, out, dfit, tuple(X.columns))


def _stats(fit) -> tuple:
    from ..estimators.fixest import fit_stats

    return tuple((k, float(v)) for k, v in fit_stats(fit).items() if isinstance(v, (int, float)) and v is not None
                 and math.isfinite(float(v)))


def _dropped(fit) -> tuple:
    if fit.sample.n_singletons:
        return (("fixed-effect singletons (fixef.rm = 'singleton')", int(fit.sample.n_singletons)),)
    return ()


# ================================================================== fitters
@fitter(Estimator.FEOLS, Estimator.TWFE)
def fit_feols(plan, frame: pd.DataFrame, vc: VcovPlan):
    from ..estimators._result import FitOutput
    from ..estimators.fixest import feols
    from ..inference._fixest import coeftable

    s = plan.settings
    terms = [quote_name(plan.treatment)] + [quote_name(v) for v in s["regressors"]]
    design, X, names = _regressor_matrix(plan, frame, terms, False)
    rows_frame = frame.loc[design.rows]
    fit = feols(design.y, X, names, _fe_frame(rows_frame, s["fixed_effects"]), fixef_rm=s["fixef_rm"])
    kept = rows_frame.loc[fit.sample.mask]
    if vc.kind in ("CR0", "CR2", "stata"):
        V, rows = _estimatr_fe(fit, X[fit.sample.mask], names, kept, s["fixed_effects"], vc)
    else:
        V = _fixest_vcov(fit, vc, kept)
        rows = _estimates(coeftable(fit, V, vc.level), V.df_t)
    effect = _find(rows, *_treatment_terms(plan.treatment))
    naive = _naive(plan, kept, vc if vc.kind not in ("CR0", "CR2", "stata") else
                   VcovPlan("CR1", vc.cluster, vc.level, ""))
    notes = tuple(fit.notes) + tuple(f"{c} removed: collinear with the fixed effects" for c in fit.collinear)
    regs = _fixest_regressions(fit, effect.term, plan.outcome) if plan.sensitivity.enabled else None
    extras = {"fixed_effects": fit.fixef_sizes, "vcov_type": V.label}
    if s.get("wild_bootstrap"):
        from ..inference._wild import wild_cluster_bootstrap

        y_dm = fit.resid + fit.X @ fit.coef
        wb = s["wild_bootstrap"]
        extras["wild_bootstrap"] = wild_cluster_bootstrap(
            fit.X, y_dm, fit.names, _fe_frame(kept, vc.cluster).astype(str).agg("|".join, axis=1).to_numpy(),
            effect.term, draws=wb["draws"], weights=wb["weights"], seed=plan.seed, level=vc.level,
            extra_params=fit.nparams - len(fit.names)).to_dict()
    return FitOutput(effect, naive, rows, tuple(V.names), V.matrix, fit.nobs, _dropped(fit), notes, _stats(fit),
                     extras=extras,
                     regressions=regs, outcome_sd=float(np.std(fit.y, ddof=1)))


_MAX_FE_LEVELS = 5000


def _estimatr_fe(fit, X, names, frame: pd.DataFrame, fes, vc: VcovPlan):
    """CR0 / CR2 / stata with fixed effects, as ``estimatr::lm_robust(fixed_effects = )``.

    estimatr's fixed-effects variances equal those of the regression with the fixed effects as dummy columns
    (its own tests assert it).  CR0 and stata follow from the demeaned regressors (Frisch-Waugh-Lovell), with
    stata's G/(G-1) (N-1)/(N-K) counting the dummies in K; CR2 needs the full hat matrix, so it is computed on
    [1, X, dummies] with the Bell-McCaffrey degrees of freedom of the regressors only.
    """
    from ..estimators._result import Estimate
    from ..inference._clusters import make_clusters
    from ..inference._cr2 import cr2_vcov

    keep = [names.index(n) for n in fit.names]
    Xk = np.asarray(X, dtype=float)[:, keep]
    cl = make_clusters(frame[list(vc.cluster)].to_numpy().ravel(), len(frame))
    G = int(cl.codes.max()) + 1
    dummies = []
    for fe in _fe_frame(frame, fes).to_numpy().T:
        codes = pd.factorize(fe)[0]
        dummies.append((codes, int(codes.max()) + 1))
    n_levels = sum(m for _, m in dummies)
    K = len(fit.names) + n_levels - len(dummies) + 1  # regressors + intercept + (levels - 1) per fixed effect
    n = len(frame)
    if vc.kind == "CR2":
        if n_levels > _MAX_FE_LEVELS:
            raise UnsupportedError(Problem(
                "inference.vcov", f"CR2 with fixed effects needs the full hat matrix; {n_levels:,} fixed-effect "
                f"levels is more than this version handles ({_MAX_FE_LEVELS:,}).",
                fix="Use CR1 (fixest's clustered variance) or the wild cluster bootstrap.", code="cr2_fe_too_large"))
        cols = [np.ones(n), *Xk.T]
        for codes, m in dummies:
            D = np.zeros((n, m))
            D[np.arange(n), codes] = 1.0
            cols += list(D[:, 1:].T)
        W = np.column_stack(cols)
        Vfull, dffull = cr2_vcov(W, fit.resid, cl, only=range(1, 1 + len(fit.names)))
        idx = np.arange(1, 1 + len(fit.names))
        V, df = Vfull[np.ix_(idx, idx)], dffull[idx]
    else:
        Xd = fit.X  # demeaned regressors (FWL)
        bread = np.linalg.inv(Xd.T @ Xd)
        scores = np.zeros((G, Xd.shape[1]))
        np.add.at(scores, cl.codes, Xd * fit.resid[:, None])
        V = bread @ (scores.T @ scores) @ bread
        if vc.kind == "stata":
            V = V * (G / (G - 1)) * ((n - 1) / (n - K))
        df = np.full(len(fit.names), G - 1.0)
    se = np.sqrt(np.diag(V))
    rows = []
    for name, b, s_, d in zip(fit.names, fit.coef, se, df):
        t = b / s_
        q = stats.t.ppf(0.5 + vc.level / 2, d)
        rows.append(Estimate(name, float(b), float(s_), float(t), float(2 * stats.t.sf(abs(t), d)),
                             float(b - q * s_), float(b + q * s_), float(d)))
    from types import SimpleNamespace

    return SimpleNamespace(names=fit.names, matrix=V, label=f"{vc.kind} (estimatr)"), tuple(rows)


@fitter(Estimator.DID_2X2)
def fit_did_2x2(plan, frame: pd.DataFrame, vc: VcovPlan):
    from ..estimators._design import materialize
    from ..estimators._linear import fit_ols
    from ..estimators._result import FitOutput
    from ..inference import coef_table, vcov as compute_vcov

    design = materialize(plan.formula, frame)
    rows_frame = frame.loc[design.rows]
    fit = fit_ols(design.y, design.X, design.terms)
    cl = rows_frame.loc[:, list(vc.cluster)] if vc.cluster else None
    V = compute_vcov(fit, vc.kind, cl)
    rows = _estimates(coef_table(fit.coef, V, vc.level), V.df_for())
    s = plan.settings
    post, group = s["post"], s["group"]
    term = next((r.term for r in rows if ":" in r.term and post in r.term and group in r.term), None)
    if term is None:
        raise EstimationError(Problem("design.post", "the interaction of post and group was not estimated (is one of "
                                      "them constant?).", fix="Check the post and group columns."))
    effect = _find(rows, term)
    after = rows_frame[post].astype(float) == 1
    if after.sum() == 0 or rows_frame.loc[after, group].nunique() < 2:
        raise DataError(Problem("design.post", "no rows of both groups after the change.",
                                fix="Check the post column."))
    nd = materialize(plan.naive_formula, rows_frame.loc[after])
    nfit = fit_ols(nd.y, nd.X, nd.terms)
    NV = compute_vcov(nfit, vc.kind, rows_frame.loc[after, list(vc.cluster)] if vc.cluster else None)
    nrows = _estimates(coef_table(nfit.coef, NV, vc.level), NV.df_for())
    naive = _find(nrows, *_treatment_terms(group))
    stats_ = [("r2", fit.r2), ("adj_r2", fit.adj_r2), ("sigma", fit.sigma), ("df_residual", fit.df_resid)]
    regs = None
    if plan.sensitivity.enabled:
        from ..sensitivity import regressions_from_formula

        regs = regressions_from_formula(rows_frame, plan.formula, term)
    return FitOutput(effect, naive, rows, tuple(V.terms), V.matrix, fit.nobs, tuple(design.dropped.items()),
                     tuple(fit.notes), tuple(stats_), extras={"did_term": term}, regressions=regs,
                     outcome_sd=float(np.std(design.y, ddof=1)))


@fitter(Estimator.IV_2SLS)
def fit_iv(plan, frame: pd.DataFrame, vc: VcovPlan):
    from ..estimators._iv import iv2sls, iv_fitstat, ivreg, ivreg_vcov
    from ..estimators._result import FitOutput
    from ..inference._fixest import coeftable

    s = plan.settings
    fes = s["fixed_effects"]
    exog_terms = [quote_name(v) for v in s["exogenous"]]
    if exog_terms:
        design, EX, enames = _regressor_matrix(plan, frame, exog_terms, not fes)
    else:
        design, EX, enames = _regressor_matrix(plan, frame, ["1"], not fes)
    rows_frame = frame.loc[design.rows]
    y = design.y
    D = rows_frame[[plan.treatment]].to_numpy(float)
    Z = rows_frame[s["instruments"]].to_numpy(float)
    first = {}
    if fes:
        iv = iv2sls(y, EX, enames, D, [plan.treatment], Z, s["instruments"], _fe_frame(rows_frame, fes))
        V = _fixest_vcov(iv.second, vc, rows_frame.loc[iv.second.sample.mask])
        second = iv.second
        stats_kind = {"iid": "iid", "HC1": "hetero"}.get(vc.kind)
    else:
        iv = iv2sls(y, EX, enames, D, [plan.treatment], Z, s["instruments"])
        second = iv.second
        if vc.kind == "CR1":
            V = _fixest_vcov(second, vc, rows_frame)
        else:
            # AER::ivreg + sandwich: the same 2SLS coefficients; classical or HC variance on n - k
            one = np.ones(len(y))
            X = np.column_stack([EX, D])
            Zm = np.column_stack([EX, Z])
            names = [*enames, plan.treatment]
            aer = ivreg(y, X, names, Zm, [*enames, *s["instruments"]])
            second = aer.fit
            V = ivreg_vcov(aer.fit, vc.kind)
            del one
        stats_kind = "iid"
    rows = _estimates(coeftable(second, V, vc.level), V.df_t)
    effect = _find(rows, f"fit_{plan.treatment}", *_treatment_terms(plan.treatment))
    for endo, fs in iv.first.items():
        first[endo] = {n: float(c) for n, c in zip(fs.names, fs.coef)}
    fitstat = {}
    try:
        fitstat = {k: {kk: (float(vv) if isinstance(vv, (int, float, np.floating)) else vv) for kk, vv in v.items()}
                   if isinstance(v, dict) else float(v) for k, v in iv_fitstat(iv, stats_kind).items()}
    except Exception as exc:  # diagnostics must not hide the estimate  # noqa: BLE001
        fitstat = {"error": str(exc)}
    naive = _naive(plan, rows_frame, vc)
    warnings = ()
    f1 = fitstat.get(f"ivf1::{plan.treatment}")
    if isinstance(f1, dict) and f1.get("stat") is not None and f1["stat"] < 10:
        warnings = (f"weak instruments: the first-stage F statistic is {f1['stat']:.3g} (< 10); 2SLS is biased "
                    "towards OLS and its intervals are unreliable.",)
    return FitOutput(effect, naive, rows, tuple(V.names), V.matrix, second.nobs, (), tuple(second.notes),
                     _stats(second) if fes else (), extras={"first_stage": first, "fitstat": fitstat},
                     warnings=warnings, outcome_sd=float(np.std(y, ddof=1)))


@fitter(Estimator.EVENT_STUDY, Estimator.SUN_ABRAHAM)
def fit_event_study(plan, frame: pd.DataFrame, vc: VcovPlan):
    from ..estimators._result import Estimate, FitOutput
    from ..estimators.fixest import feols, i_dummies, sunab, sunab_aggregate
    from ..inference._fixest import coeftable

    s = plan.settings
    unit, time = s["unit"], s["time"]
    y = frame[plan.outcome].to_numpy(float)
    dropped = []
    fe = frame[[unit, time]]
    if plan.estimator is Estimator.SUN_ABRAHAM:
        cohort = frame[s["first_treated"]].to_numpy(float)
        cohort = np.where(np.isnan(cohort) | (cohort <= 0), np.inf, cohort)  # never treated
        design = sunab(cohort, frame[time].to_numpy(), period_name=time)
        fit = feols(y, design.X, design.names, fe)
        V = _fixest_vcov(fit, vc, frame.loc[fit.sample.mask] if not fit.sample.mask.all() else frame)
        periods = sunab_aggregate(fit, V, design, "period", vc.level)
        att = sunab_aggregate(fit, V, design, "att", vc.level)
        rows = _estimates(periods, V.df_t)
        effect = _estimates(att, V.df_t)[0]
        table = periods
        names, matrix = tuple(V.names), V.matrix
    else:
        if s["relative_time"]:
            rel = frame[s["relative_time"]].to_numpy(float)
            treated = frame[s["treated"]].to_numpy(float)
        else:
            ft = frame[s["first_treated"]].to_numpy(float)
            treated = ((ft > 0) & ~np.isnan(ft)).astype(float)
            rel = np.where(treated == 1, frame[time].to_numpy(float) - np.nan_to_num(ft), 0.0)
        if s["window"]:
            lo, hi = s["window"]
            outside = (treated == 1) & ((rel < lo) | (rel > hi))
            if s["bin_endpoints"]:
                rel = np.clip(rel, lo, hi)
            elif outside.any():
                keep = ~outside
                dropped.append((f"treated periods outside the window [{lo}, {hi}]", int(outside.sum())))
                frame, y, rel, treated, fe = frame[keep], y[keep], rel[keep], treated[keep], fe[keep]
        X, xnames = i_dummies(rel.astype(int), treated, ref=[s["reference"]], var_name="rel_time",
                              treat_name="treat")
        fit = feols(y, X, xnames, fe)
        V = _fixest_vcov(fit, vc, frame)
        table = coeftable(fit, V, vc.level)
        rows = _estimates(table, V.df_t)
        post = [i for i, n in enumerate(fit.names) if _rel_of(n) is not None and _rel_of(n) >= 0]
        if not post:
            raise EstimationError(Problem("design.window", "no period at or after treatment was estimated.",
                                          fix="Widen the window."))
        w = np.zeros(len(fit.names))
        w[post] = 1.0 / len(post)
        est = float(w @ fit.coef)
        se = float(np.sqrt(w @ V.matrix @ w))
        q = stats.t.ppf(0.5 + vc.level / 2, V.df_t)
        t = est / se
        effect = Estimate("average of post-treatment periods", est, se, t, float(2 * stats.t.sf(abs(t), V.df_t)),
                          est - q * se, est + q * se, float(V.df_t))
        names, matrix = tuple(V.names), V.matrix
    event = [{"relative_time": _rel_of(r.term), "term": r.term, "estimate": r.estimate, "std_error": r.std_error,
              "conf_low": r.conf_low, "conf_high": r.conf_high} for r in rows if _rel_of(r.term) is not None]
    treat_now = _treated_now(plan, frame)
    naive = _naive_event(plan, frame, treat_now, vc)
    return FitOutput(effect, naive, rows, names, matrix, fit.nobs, tuple(dropped), tuple(fit.notes), _stats(fit),
                     extras={"event_study": event, "reference": s["reference"], "vcov_type": V.label},
                     outcome_sd=float(np.std(y, ddof=1)))


def _rel_of(term: str):
    """The relative period in a fixest term name (``rel_time::-2:treat``, ``year::3``), or None."""
    import re

    m = re.search(r"::(-?\d+)", term)
    return int(m.group(1)) if m else None


def _treated_now(plan, frame: pd.DataFrame) -> np.ndarray:
    s = plan.settings
    if s.get("first_treated"):
        ft = frame[s["first_treated"]].to_numpy(float)
        return ((ft > 0) & ~np.isnan(ft) & (frame[s["time"]].to_numpy(float) >= np.nan_to_num(ft))).astype(float)
    return ((frame[s["treated"]].to_numpy(float) == 1) & (frame[s["relative_time"]].to_numpy(float) >= 0)).astype(float)


def _naive_event(plan, frame, treat_now, vc):
    """Treated-now vs everything else, no fixed effects: the comparison a dashboard would make."""
    from ..estimators.fixest import feols
    from ..inference._fixest import coeftable

    X = np.column_stack([np.ones(len(frame)), treat_now])
    fit = feols(frame[plan.outcome].to_numpy(float), X, ["(Intercept)", "treated_now"])
    V = _fixest_vcov(fit, vc, frame)
    return _find(_estimates(coeftable(fit, V, vc.level), V.df_t), "treated_now")


@fitter(Estimator.CALLAWAY_SANTANNA)
def fit_callaway_santanna(plan, frame: pd.DataFrame, vc: VcovPlan):
    """did::att_gt + aggte: the simple overall ATT is the effect; the dynamic aggregation is the event study."""
    from ..estimators._cs import aggte, att_gt
    from ..estimators._result import Estimate, FitOutput

    s = plan.settings
    data = frame.copy()
    data[s["first_treated"]] = data[s["first_treated"]].fillna(0)
    xformla = "~" + " + ".join(s["covariates"]) if s["covariates"] else None
    res = att_gt(data, yname=plan.outcome, tname=s["time"], idname=s["unit"], gname=s["first_treated"],
                 xformla=xformla, control_group=s["control_group"], est_method=s["est_method"],
                 anticipation=s["anticipation"], alp=1 - vc.level)
    z = stats.norm.ppf(0.5 + vc.level / 2)

    def est(term, value, se):
        t = value / se if se > 0 else math.nan
        return Estimate(term, float(value), float(se), float(t), float(2 * stats.norm.sf(abs(t))),
                        float(value - z * se), float(value + z * se), math.inf)

    simple = aggte(res, "simple")
    dynamic = aggte(res, "dynamic")
    effect = est("ATT (simple)", simple.overall_att, simple.overall_se)
    rows = tuple(est(f"event::{int(e)}", a, se) for e, a, se in zip(dynamic.egt, dynamic.att_egt, dynamic.se_egt))
    gt = [{"group": float(g), "time": float(t), "att": float(a), "se": float(se)}
          for g, t, a, se in zip(res.group, res.time, res.att, res.se)]
    event = [{"relative_time": int(e), "term": r.term, "estimate": r.estimate, "std_error": r.std_error,
              "conf_low": r.conf_low, "conf_high": r.conf_high} for e, r in zip(dynamic.egt, rows)]
    naive = _naive_event(plan, frame, _treated_now(plan, frame), VcovPlan("CR1", (s["unit"],), vc.level, ""))
    notes = (f"Callaway & Sant'Anna: {len(gt)} group-time ATTs on {res.n_units} units; "
             f"pre-test of parallel trends W = {res.pretest_W}, p = {res.pretest_Wpval}"
             if res.pretest_W is not None else res.pretest_note,)
    return FitOutput(effect, naive, (effect, *rows), (effect.term,), [[effect.std_error ** 2]], len(frame), (),
                     tuple(n for n in notes if n), (), extras={"event_study": event, "att_gt": gt,
                                                              "reference": -1, "dynamic_overall": {
                                                                  "att": float(dynamic.overall_att),
                                                                  "se": float(dynamic.overall_se)}},
                     outcome_sd=float(np.std(frame[plan.outcome].to_numpy(float), ddof=1)))
