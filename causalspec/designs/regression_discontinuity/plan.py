"""Planning a regression discontinuity: identified by continuity at the cutoff, estimated by rdrobust.

The plan records every rdrobust option the spec sets (``RDSettings``), the variance as rdrobust's ``vce`` and the
falsification tests that run after the fit; the DAG (optional: treatment -> outcome by default) is checked for a
running variable, covariates or placebo outcomes the treatment affects.
"""

from __future__ import annotations

from dataclasses import replace

from causalspec.designs._common import plan_columns, plan_fields
from causalspec.designs._fixest import design_estimand
from causalspec.designs.observational.plan import refuse_model_formula
from causalspec.designs.regression_discontinuity.settings import FalsificationSettings, RDSettings
from causalspec.errors import AdjustmentError, Problem, UnsupportedError
from causalspec.formula import quote_name
from causalspec.graph import DAG
from causalspec.planner import Estimator, Identification, NodeDecision, Strategy, VcovPlan
from causalspec.planner._backdoor import descendant_problems
from causalspec.planner._vcov import unsupported_vcov

__all__ = ["plan_regression_discontinuity", "rd_vcov", "VCE", "SENSITIVITY_OFF"]

# the plan's variance kind -> rdrobust's vce
VCE = {"nn": "nn", "HC0": "hc0", "HC1": "hc1", "HC2": "hc2", "HC3": "hc3", "CR1": "cr1", "CR2": "cr2"}
SENSITIVITY_OFF = ("omitted-variable-bias bounds and the E-value measure confounding given an adjustment set; a "
                   "regression discontinuity is identified by continuity at the cutoff instead, so its "
                   "falsification tests (density, covariate balance, placebo cutoffs, donut hole, bandwidths) "
                   "stand in for them")


def rd_vcov(inference, nnmatch: int = 3) -> VcovPlan:
    """rdrobust's variance: nearest neighbours (vce = "nn") by default, CR1 with a cluster; HC0-HC3, CR1, CR2."""
    if inference.wild_bootstrap is not None:
        raise UnsupportedError(Problem("inference.wild_bootstrap", "the wild cluster bootstrap is not available "
                                       "for a regression discontinuity (rdrobust has none).",
                                       fix="Remove wild_bootstrap; vcov: CR1 or CR2 with a cluster column.",
                                       code="wild_unsupported"))
    cl = tuple(inference.cluster)
    if len(cl) > 1:
        raise UnsupportedError(Problem("inference.cluster", f"rdrobust takes one cluster column; {len(cl)} are "
                                       "given.", fix="Name one cluster column.", code="multiway_unsupported"))
    kind = inference.vcov or ("CR1" if cl else "nn")
    if kind not in VCE:
        raise unsupported_vcov(kind, "a regression discontinuity (rdrobust)",
                               "HC0, HC1, HC2, HC3 without a cluster and CR1, CR2 with one (left out: nearest "
                               "neighbours, or CR1 with a cluster)")
    vce = VCE[kind]
    call = f'rdrobust::rdrobust(vce = "{vce}"' + (f", nnmatch = {nnmatch})" if vce == "nn" else
                                                  f", cluster = {cl[0]})" if cl else ")")
    return VcovPlan(kind, cl, inference.level, call)


def plan_regression_discontinuity(spec, dag: DAG) -> dict:
    refuse_model_formula(spec)
    d = spec.design
    x, y, run = spec.treatment, spec.outcome, d.running
    estimand = design_estimand(spec, "fuzzy regression discontinuity (the average effect for compliers at the "
                               "cutoff)" if d.fuzzy else "sharp regression discontinuity (the average effect at the "
                               "cutoff)", "LATE" if d.fuzzy else "ATE")
    if isinstance(spec.adjustment, tuple) and spec.adjustment:
        raise AdjustmentError(Problem(
            "adjustment", "a regression discontinuity adjusts for no set: the comparison of units just above and "
            "just below the cutoff is the design.", fix="Remove adjustment; list pre-treatment variables under "
            "covariates to sharpen the estimate (rdrobust covs).", code="rd_adjustment"))
    _check_roles(spec, dag)
    vcov = rd_vcov(spec.inference, d.nnmatch)
    if d.nnmatch != 3 and vcov.kind != "nn":
        raise UnsupportedError(Problem(
            "design.nnmatch", f"nnmatch is read by the nearest-neighbour variance only; the plan's variance is "
            f"{vcov.kind}.", fix="Remove nnmatch, or leave inference.vcov and inference.cluster out.",
            code="option_not_read"))
    fals = _falsification(spec)
    q = d.q if d.q is not None else d.p + 1
    pair = lambda v: None if v is None else (tuple(map(float, v)) if isinstance(v, tuple) else (float(v),) * 2)  # noqa: E731
    settings = RDSettings(run, float(d.cutoff), d.fuzzy, d.kernel, d.p, q, d.bwselect if d.h is None else "manual",
                          pair(d.h), pair(d.b), d.rho, d.nnmatch, tuple(spec.covariates), fals)
    ident = Identification(True, Strategy.DISCONTINUITY, (), "design",
                           "the cutoff: units just below and just above it are compared by local polynomials in "
                           "the running variable", (), None)
    formula = _call(spec, settings, vcov)
    naive = f"{quote_name(y)} ~ {quote_name(x)}"
    cols = plan_columns(spec, [(run, "design.running")] + [(c, f"covariates[{i}]") for i, c in
                                                            enumerate(spec.covariates)]
                        + [(c, f"design.falsification.balance[{i}]") for i, c in enumerate(d.falsification.balance)])
    fields = plan_fields(spec, dag, ident, tuple(spec.covariates), Estimator.RDROBUST,
                         ("chosen in the spec (design.estimator: rdrobust)" if d.estimator == "rdrobust" else
                          "auto: the design's only estimator") + ", a local polynomial estimate with robust "
                         "bias-corrected inference (Calonico, Cattaneo & Titiunik 2014); the effect is the robust "
                         "row", formula, naive, vcov,
                         _assumptions(spec), settings, cols, notes=_notes(settings))
    balance = set(d.falsification.balance)
    fields["decisions"] = tuple(
        replace(dec, reason=f"{dec.reason}; tested for balance at the cutoff (design.falsification.balance)")
        if dec.node in balance else _running_decision(dec, run) for dec in fields["decisions"])
    if run not in dag.nodes:
        fields["decisions"] += (_running_decision(None, run),)
    fields["covariates"] = tuple(spec.covariates)
    return {"estimand": estimand, **fields}


def _running_decision(dec, run: str) -> NodeDecision:
    why = ("the running variable: the local polynomials in it on each side of the cutoff are the comparison, not "
           "an adjustment set")
    if dec is None:
        return NodeDecision(run, "running variable", True, why)
    return replace(dec, role="running variable", adjusted=True, reason=why) if dec.node == run else dec


def _check_roles(spec, dag: DAG) -> None:
    """The running variable, covariates and placebo outcomes must be measured before the treatment."""
    d = spec.design
    x, y, run = spec.treatment, spec.outcome, d.running
    roles = {x: "the treatment", y: "the outcome"}
    problems = []
    if run in roles:
        problems.append(Problem("design.running", f"the running variable {run!r} is {roles[run]}.",
                                fix="Name the score whose cutoff assigns the treatment.", code="rd_running_role"))
    elif run in dag.nodes and run in dag.descendants([x]):
        problems.append(Problem("design.running", f"the DAG says the treatment {x!r} affects the running variable "
                                f"{run!r}; the score must be fixed before assignment.",
                                fix=f"Fix the DAG (e.g. \"{run} -> {x}\"), or name the score the assignment uses.",
                                code="rd_running_role"))
    for i, c in enumerate(spec.covariates):
        if c == run:
            problems.append(Problem(f"covariates[{i}]", f"{c!r} is the running variable, already in the local "
                                    "polynomials.", fix=f"Remove {c!r} from covariates.", code="rd_running_role"))
    problems += descendant_problems(dag, x, y, tuple(spec.covariates), "covariates")
    balance = d.falsification.balance
    for i, c in enumerate(balance):
        loc = f"design.falsification.balance[{i}]"
        if c in roles or c == run:
            problems.append(Problem(loc, f"{c!r} is {roles.get(c, 'the running variable')}; a balance test needs "
                                    "a pre-treatment column.", fix=f"Remove {c!r}.", code="rd_balance_role"))
        elif c in spec.covariates:
            problems.append(Problem(loc, f"{c!r} is a covariate, whose balance is always tested.",
                                    fix=f"Remove {c!r} from design.falsification.balance.", code="duplicate"))
        elif c in dag.nodes and c in dag.descendants([x]):
            problems.append(Problem(loc, f"the DAG says the treatment {x!r} affects {c!r}, so its jump at the "
                                    "cutoff need not be zero.", fix="Name a column measured before the treatment.",
                                    code="rd_balance_role"))
    for i, v in enumerate(d.falsification.placebo_cutoffs or ()):
        if v == d.cutoff:
            problems.append(Problem(f"design.falsification.placebo_cutoffs[{i}]", f"{v:g} is the cutoff itself.",
                                    fix="Name values away from the cutoff, on either side.", code="rd_placebo_cutoff"))
    if problems:
        raise AdjustmentError(problems)


def _falsification(spec) -> FalsificationSettings | None:
    f = spec.design.falsification
    if not f.enabled:
        default = type(f)()
        written = [k for k in type(f).model_fields if k != "enabled" and getattr(f, k) != getattr(default, k)]
        if written:
            raise UnsupportedError(Problem(
                f"design.falsification.{written[0]}", f"{written[0]} is not read: the falsification tests are "
                "turned off (design.falsification.enabled: false).", fix=f"Remove {written[0]}, or turn the tests "
                "on.", code="option_not_read"))
        return None
    return FalsificationSettings(f.density, tuple(f.balance), f.placebo_cutoffs, f.donut, tuple(f.bandwidths))


def _call(spec, s: RDSettings, vcov: VcovPlan) -> str:
    """The rdrobust call the fit reproduces, as R would write it."""
    parts = [f"y = {spec.outcome}", f"x = {s.running}", f"c = {s.cutoff:g}"]
    if s.fuzzy:
        parts.append(f"fuzzy = {spec.treatment}")
    if s.covariates:
        parts.append(f"covs = cbind({', '.join(s.covariates)})")
    parts += [f"p = {s.p}", f"q = {s.q}", f'kernel = "{s.kernel}"']
    if s.h is not None:
        parts.append(f"h = c({s.h[0]:g}, {s.h[1]:g})")
        if s.b is not None:
            parts.append(f"b = c({s.b[0]:g}, {s.b[1]:g})")
    else:
        parts.append(f'bwselect = "{s.bwselect}"')
    if s.rho is not None:
        parts.append(f"rho = {s.rho:g}")
    parts.append(f'vce = "{VCE[vcov.kind]}"')
    if vcov.kind == "nn":
        parts.append(f"nnmatch = {s.nnmatch}")
    if vcov.cluster:
        parts.append(f"cluster = {vcov.cluster[0]}")
    parts.append(f"level = {vcov.level * 100:g}")
    return f"rdrobust({', '.join(parts)})"


def _assumptions(spec) -> list[str]:
    d = spec.design
    x, y, run = spec.treatment, spec.outcome, d.running
    out = [f"Continuity: the average potential outcomes of {y}, with and without {x}, change smoothly in {run} "
           f"at the cutoff {d.cutoff:g}; nothing else jumps there (checked in part by the covariate-balance and "
           "placebo-cutoff tests).",
           f"No manipulation: units cannot sort themselves to one side of the cutoff by choosing {run} (checked "
           "by the density test).",
           "Units near the cutoff are comparable: the effect is local to the cutoff, not an average over all "
           "units."]
    if d.fuzzy:
        out += [f"Fuzzy design: {x} jumps at the cutoff (relevance, the first stage); the cutoff affects {y} only "
                f"through {x} (exclusion); crossing the cutoff moves no unit's {x} down (monotonicity), so the "
                "ratio of jumps is the effect for compliers at the cutoff."]
    else:
        out += [f"Sharp design: {x} is 1 exactly for units with {run} >= {d.cutoff:g} (checked in the data)."]
    return out


def _notes(s: RDSettings) -> tuple[str, ...]:
    notes = ["rdrobust's defaults for the options causalspec does not set: deriv = 0, masspoints = \"adjust\", "
             "bwrestrict = TRUE, stdvars = TRUE, scaleregul = 1, covs_drop = TRUE"]
    f = s.falsification
    if f is None:
        return (*notes, "falsification tests turned off (design.falsification.enabled: false)")
    tests = (["the density test (rddensity)"] if f.density else []) + [
        "covariate balance (" + (", ".join((*s.covariates, *f.balance)) or "no covariates named") + ")",
        "placebo cutoffs " + (", ".join(f"{v:g}" for v in f.placebo_cutoffs) if f.placebo_cutoffs is not None
                              else "at the quartiles of each side"),
        "donut holes of radius " + (", ".join(f"{v:g}" for v in f.donut) if f.donut is not None else
                                    "leaving out the 1%, 2.5% and 5% of observations nearest the cutoff"),
        "bandwidths " + ", ".join(f"{m:g}" for m in f.bandwidths) + " times h"]
    return (*notes, "falsification tests after the fit: " + "; ".join(tests))
