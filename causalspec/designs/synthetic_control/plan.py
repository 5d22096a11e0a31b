"""Planning a synthetic control: identified by the design (the donors, weighted, reproduce the treated unit
before treatment), estimated by Synth or synthdid.  Every option of the other estimator, every regression
option and every estimand but the ATT is refused where it is written."""

from __future__ import annotations

from causalspec.designs._common import plan_columns, plan_fields
from causalspec.designs.observational.plan import refuse_model_formula
from causalspec.designs.synthetic_control.settings import SyntheticControlSettings
from causalspec.errors import AdjustmentError, Problem, UnsupportedError
from causalspec.formula import quote_name
from causalspec.graph import DAG
from causalspec.planner import Estimator, Identification, Strategy, VcovPlan

__all__ = ["plan_synthetic_control", "sc_vcov", "SENSITIVITY_OFF"]

SENSITIVITY_OFF = (
    "omitted-variable-bias bounds, the E-value and Rosenbaum bounds measure confounding given an adjustment set; a "
    "synthetic control has no adjustment set: the donors' weights reproduce the treated unit's pre-treatment path "
    "instead, so the placebo runs and the pre-period fit are the design's checks")

# the options each estimator reads, beyond unit / time / treated_units / treatment_time / donors
_SYNTH_ONLY = ("predictors", "fit_periods", "placebos", "placebo_time")
_SYNTHDID_ONLY = ("se_method", "replications")


def _refuse(loc: str, message: str, fix: str, code: str = "option_not_read"):
    raise UnsupportedError(Problem(loc, message, fix=fix, code=code))


def _estimator(d) -> Estimator:
    if d.estimator == "synth":
        return Estimator.SYNTH
    if d.estimator == "synthdid":
        return Estimator.SYNTHDID
    return Estimator.SYNTH if d.predictors else Estimator.SYNTHDID


def _check_options(spec, est: Estimator) -> None:
    d = spec.design
    own, other = ((_SYNTH_ONLY, _SYNTHDID_ONLY) if est is Estimator.SYNTH else (_SYNTHDID_ONLY, _SYNTH_ONLY))
    for name in other:
        value = getattr(d, name)
        if value not in (None, ()):
            reader = "synthdid" if est is Estimator.SYNTH else "synth"
            _refuse(f"design.{name}", f"{name} is read by the {reader} estimator only, and the plan's estimator is "
                    f"{est.value}, so it would change nothing.", f"Remove design.{name}, or set design.estimator: "
                    f"{reader}.")
    if est is Estimator.SYNTHDID and d.se_method == "jackknife" and d.replications is not None:
        _refuse("design.replications", "replications is read by the placebo and bootstrap standard errors; the "
                "jackknife leaves out each treated unit once, so it would change nothing.",
                "Remove design.replications, or set design.se_method: placebo or bootstrap.")
    if est is Estimator.SYNTH and d.placebos is False and d.placebo_time is not None:
        _refuse("design.placebo_time", "placebo_time is read by the placebo inference, which design.placebos: "
                "false turns off.", "Remove design.placebo_time, or turn the placebos on.")
    inf = spec.inference
    for loc, given in (("inference.vcov", inf.vcov is not None), ("inference.cluster", bool(inf.cluster)),
                       ("inference.wild_bootstrap", inf.wild_bootstrap is not None)):
        if given:
            _refuse(loc, "a synthetic control has no regression variance: its inference is "
                    + ("the placebo permutation test." if est is Estimator.SYNTH else
                       "synthdid's placebo, bootstrap or jackknife standard error (design.se_method)."),
                    f"Remove {loc}" + (", and set design.se_method." if est is Estimator.SYNTHDID else "."),
                    "unsupported_vcov")
    if est is Estimator.SYNTH and inf.level != type(inf).model_fields["level"].default:
        _refuse("inference.level", "Synth has no confidence interval (its inference is the permutation p-value), "
                "so a level would change nothing.", "Remove inference.level, or use design.estimator: synthdid.")
    problems = []
    if isinstance(spec.adjustment, tuple) and spec.adjustment:
        problems.append(Problem("adjustment", "a synthetic control adjusts for no set: the donor weights that "
                                "reproduce the treated unit's pre-treatment path are the design.",
                                fix="Remove adjustment; name pre-treatment predictors under design.predictors "
                                    "(synth).", code="adjustment_unused"))
    for i, c in enumerate(spec.covariates):
        problems.append(Problem(f"covariates[{i}]", "a synthetic control takes no covariates: a regression "
                                "adjustment has no place in the weighted comparison.",
                                fix=f"Remove {c!r} from covariates; with synth, list it under design.predictors "
                                    "to match the donors on it.", code="covariates_unused"))
    roles = {spec.treatment: "the treatment", spec.outcome: "the outcome"}
    for field in ("unit", "time"):
        col = getattr(d, field)
        if col in roles:
            problems.append(Problem(f"design.{field}", f"the {field} column {col!r} is {roles[col]}.",
                                    fix=f"Name the {field} identifier column.", code="column_role"))
    if d.unit == d.time:
        problems.append(Problem("design.time", f"{d.time!r} is also design.unit.", fix="Name the period column.",
                                code="column_role"))
    for i, p in enumerate(d.predictors):
        if p.column in (spec.treatment, d.unit, d.time):
            problems.append(Problem(f"design.predictors[{i}].column", f"{p.column!r} is the treatment, unit or "
                                    "time column, not a predictor.", fix="Name a pre-treatment characteristic "
                                    "or the outcome.", code="predictor_role"))
    if problems:
        raise AdjustmentError(problems)
    if spec.weights is not None:
        _refuse("weights", "a synthetic control weighs donors by its own fit; observation weights would change "
                "nothing in Synth or synthdid.", "Remove weights.")


def sc_vcov(inference, plan) -> VcovPlan:
    """The family's variance rule (what ``Result.with_vcov`` calls): a regression variance is refused."""
    if inference.vcov is not None or inference.cluster or inference.wild_bootstrap is not None:
        _refuse("inference.vcov", "a synthetic control has no regression variance: its inference is the placebo "
                "permutation test (synth) or synthdid's design.se_method.", "Keep the plan's inference.",
                "unsupported_vcov")
    return plan.vcov


def _vcov(spec, est: Estimator) -> VcovPlan:
    d, level = spec.design, spec.inference.level
    if est is Estimator.SYNTH:
        if d.placebos is False:
            return VcovPlan("none", (), level, "none (design.placebos: false)")
        return VcovPlan("permutation", (), level,
                        "SCtools::mspe.test(SCtools::generate.placebos(dataprep.out, synth.out))")
    method = d.se_method or "placebo"
    reps = "" if method == "jackknife" else f", replications = {d.replications or 200}"
    return VcovPlan(method, (), level, f'vcov(synthdid_estimate(Y, N0, T0), method = "{method}"{reps})')


def _estimand(spec) -> str:
    if spec.estimand in ("ATT", "ATE"):
        return "ATT"
    _refuse("estimand", f"a synthetic control estimates the effect on the treated unit(s) after treatment (the "
            f"ATT), not the {spec.estimand}.", "Set estimand: ATT, or leave estimand out.", "unsupported_estimand")


def _formula(spec, est: Estimator) -> str:
    d = spec.design
    if est is Estimator.SYNTH:
        return (f"Synth::synth(dataprep(dependent = {quote_name(spec.outcome)}, unit.variable = {quote_name(d.unit)}"
                f", time.variable = {quote_name(d.time)}, predictors = "
                + (", ".join(dict.fromkeys(p.column for p in d.predictors)) or f"{spec.outcome} in each fit period")
                + "))")
    return (f'synthdid_estimate(panel.matrices(data, unit = "{d.unit}", time = "{d.time}", outcome = '
            f'"{spec.outcome}", treatment = "{spec.treatment}"))')


def plan_synthetic_control(spec, dag: DAG) -> dict:
    refuse_model_formula(spec)
    d = spec.design
    est = _estimator(d)
    estimand = _estimand(spec)
    _check_options(spec, est)
    x, y = spec.treatment, spec.outcome
    settings = SyntheticControlSettings(
        unit=d.unit, time=d.time, treated_units=d.treated_units, treatment_time=d.treatment_time, donors=d.donors,
        predictors=tuple(d.predictors), fit_periods=d.fit_periods,
        placebos=(d.placebos is not False) if est is Estimator.SYNTH else None,
        placebo_time=d.placebo_time, se_method=(d.se_method or "placebo") if est is Estimator.SYNTHDID else None,
        replications=(d.replications or 200) if est is Estimator.SYNTHDID and d.se_method != "jackknife" else None,
        estimand_written=spec.estimand)
    ident = Identification(True, Strategy.SYNTHETIC_CONTROL, (), "design",
                           "the donors: a weighted average of untreated units that reproduces the treated unit "
                           "before treatment is its counterfactual after it", (), None)
    assumptions = [
        f"The synthetic control reproduces the treated unit's path: had {x} not happened, {y} of the treated "
        "unit(s) would have followed the weighted donors (a good pre-treatment fit over many periods makes this "
        "credible; a poor one is reported as the pre-period RMSPE).",
        f"Stable units, no spillovers: {x} did not change {y} in any donor (donors affected by it should be left out of "
        "design.donors).",
        "No anticipation: the treated unit(s) did not change before the treatment time in expectation of it.",
        "No other shock hit the treated unit(s) alone at the treatment time."]
    if est is Estimator.SYNTHDID:
        assumptions.append("Synthetic DiD: the unit-weighted controls and the treated units share their trend up to "
                           "a constant level difference in the time-weighted pre-periods (Arkhangelsky et al. "
                           "2021).")
    why = ({Estimator.SYNTH: "Synth (Abadie, Diamond & Hainmueller 2010): donor weights W on the simplex, predictor "
                             "weights V chosen to fit the pre-treatment outcomes",
            Estimator.SYNTHDID: "synthetic difference in differences (Arkhangelsky et al. 2021): unit and time "
                                "weights, with SC and DiD on the same panel beside it"}[est])
    why = (f"chosen in the spec (design.estimator: {d.estimator}), {why}" if d.estimator != "auto" else
           f"auto: {'predictors are given, so ' if est is Estimator.SYNTH else 'no predictors, so '}{why}")
    pairs = [(d.unit, "design.unit"), (d.time, "design.time")]
    fields = plan_fields(spec, dag, ident, (), est, why, _formula(spec, est), f"{quote_name(y)} ~ {quote_name(x)}",
                         _vcov(spec, est), assumptions, settings, plan_columns(spec, pairs),
                         notes=_notes(spec, est, settings))
    complete = tuple(c for c, _ in fields["column_fields"])  # predictors may be missing in some periods
    fields["column_fields"] += tuple((p.column, f"design.predictors[{i}].column") for i, p in enumerate(d.predictors)
                                     if p.column not in complete)
    fields["columns"] = complete
    return {"estimand": estimand, **fields}


def _notes(spec, est: Estimator, s: SyntheticControlSettings) -> tuple[str, ...]:
    notes = []
    if spec.estimand == "ATE":
        notes.append("the spec's estimand ATE (the default) is reported as the ATT: a synthetic control estimates "
                     "the effect on the treated unit(s) after treatment")
    if est is Estimator.SYNTH:
        notes.append("placebo inference after the fit: in-space placebos, leave-one-out donors, an in-time "
                     "placebo" if s.placebos else "placebo inference turned off (design.placebos: false)")
    else:
        notes.append(f"standard error: {s.se_method}" + (f" ({s.replications} replications, seeded by the spec's "
                                                         "seed)" if s.replications else ""))
    return tuple(notes)
