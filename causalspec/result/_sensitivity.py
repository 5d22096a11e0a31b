"""The sensitivity step: computed from the Plan and the Fit alone (no data), so ``Result.with_vcov`` re-runs it.

Omitted-variable-bias bounds (Cinelli & Hazlett 2020) need the effect to be a coefficient of one linear
model; they use the classical (iid) standard error and the residual degrees of freedom, as ``sensemakr``
does, whatever variance the plan reports for the estimate.  The E-value (VanderWeele & Ding 2017) is
computed for every estimate of a continuous outcome, with the estimate's own standard error.  Rosenbaum
bounds (Rosenbaum 2002) for 1:1 matched pairs without replacement.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from causalspec._values import NotComputed, jsonable
from causalspec.errors import CausalSpecError
from causalspec.sensitivity import rosenbaum_gamma, rosenbaum_wilcoxon
from causalspec.sensitivity._evalue import evalue_ols, evalue_rr
from causalspec.sensitivity._from_data import sensemakr_from_regressions
from causalspec.sensitivity._plausibly_exogenous import plausibly_exogenous
from causalspec.sensitivity._ovb import group_partial_r2, partial_r2
from causalspec.result._parallel_trends import assess_parallel_trends

__all__ = ["SensitivityReport", "assess", "choose_benchmark", "rosenbaum"]


@dataclass(frozen=True)
class SensitivityReport:
    """Sensitivity of one estimate: OVB bounds (or why not), the E-value (or why not), and the benchmark used."""

    reason: str
    ovb: Any
    evalue: Any
    benchmark: str
    benchmark_rule: str
    exclusion: Any = NotComputed("the exclusion-restriction sensitivity applies to IV designs only")
    parallel_trends: Any = None  # ParallelTrendsReport, NotComputed (why not), or None (not a parallel-trends design)
    reduce: bool = True  # the direction the OVB bounds assume (sensitivity.reduce, sensemakr's reduce)

    @property
    def robustness_value(self) -> float | None:
        return getattr(self.ovb, "rv_q", None)

    def summary_lines(self) -> list[str]:
        """A few sentences for the run summary: robustness values, the benchmark bound, the E-value."""
        lines = []
        ovb = self.ovb
        if hasattr(ovb, "rv_q"):
            reduce, h0 = getattr(ovb, "reduce", True), ovb.h0
            target = ("zero" if reduce and ovb.q == 1 else
                      f"{1 - ovb.q if reduce else 1 + ovb.q:.0%} of its value ({h0:.4g})")
            signif = "statistically insignificant" if h0 == 0 else f"no longer statistically different from {h0:.4g}"
            lines.append(f"Robustness value RV = {ovb.rv_q:.1%}: an unobserved confounder would have to explain at "
                         f"least {ovb.rv_q:.1%} of the residual variance of both the treatment and the outcome to "
                         f"bring the estimate to {target}; {ovb.rv_qa:.1%} to make it {signif} (alpha = "
                         f"{ovb.alpha:g}). Partial R² of the treatment with the outcome: {ovb.r2yd_x:.1%}. "
                         f"{direction_text(reduce)}.")
            for b in ovb.bounds:
                lines.append(f"A confounder {b.label} (R²_D = {b.r2dz_x:.1%}, R²_Y = {b.r2yz_dx:.1%}) would move "
                             f"the estimate {'' if reduce else 'away from zero '}to {b.adjusted_estimate:.4g} (CI "
                             f"{b.adjusted_lower_ci:.4g} to {b.adjusted_upper_ci:.4g}): {bound_verdict(ovb, b)}.")
            lines.append(f"Benchmark: {self.benchmark}.")
            lines += [f"Note: {n}" for n in ovb.notes]
        elif getattr(ovb, "reason", ""):
            lines.append(f"Omitted-variable-bias bounds: not computed ({ovb.reason}).")
        ev = self.evalue
        if hasattr(ev, "evalue_point"):
            ci = ev.evalue_ci
            lines.append(f"E-value {ev.evalue_point:.3g} (confidence limit: {ci:.3g}): the risk ratio an unmeasured "
                         "confounder would need with both treatment and outcome to explain the estimate away."
                         if ci is not None else f"E-value {ev.evalue_point:.3g}.")
        if hasattr(self.exclusion, "summary_lines"):
            lines += self.exclusion.summary_lines()
        if hasattr(self.parallel_trends, "summary_lines"):
            lines += self.parallel_trends.summary_lines()
        elif self.parallel_trends is not None:
            lines.append(f"Parallel-trends sensitivity (Rambachan-Roth): not computed ({self.parallel_trends.reason}).")
        return lines

    def interpretation(self) -> str:
        parts = []
        if hasattr(self.ovb, "interpretation"):
            parts.append(self.ovb.interpretation())
        if hasattr(self.evalue, "interpretation"):
            parts.append(self.evalue.interpretation())
        return "\n\n".join(parts) or "No sensitivity statistic applies to this estimate."

    def to_dict(self) -> dict:
        return jsonable({
            "computed": True,
            "reason": self.reason,
            "benchmark": self.benchmark,
            "benchmark_rule": self.benchmark_rule,
            "reduce": self.reduce,
            "direction": direction_text(self.reduce),
            "ovb": self.ovb.to_dict(),
            "evalue": self.evalue.to_dict(),
            "exclusion": self.exclusion.to_dict(),
            "parallel_trends": (self.parallel_trends.to_dict() if self.parallel_trends is not None
                                else {"computed": False, "reason": "not a parallel-trends design"}),
            "interpretation": self.interpretation(),
        })


def direction_text(reduce: bool) -> str:
    """Which confounding the omitted-variable-bias numbers assume, in sensemakr's terms."""
    return ("Direction assumed: confounding that reduces the absolute value of the estimate (sensemakr's "
            "reduce = TRUE, the default)" if reduce else
            "Direction assumed: confounding that increases the absolute value of the estimate (sensemakr's "
            "reduce = FALSE)")


def bound_verdict(ovb, b) -> str:
    """Whether a bound's confounder changes the conclusion: with reduce, the interval covers zero or the sign
    flips; without, the adjusted estimate or its interval reaches h0 = (1 + q) times the estimate."""
    if getattr(ovb, "reduce", True):
        changes = (b.adjusted_lower_ci <= 0 <= b.adjusted_upper_ci) or ((b.adjusted_estimate > 0) != (ovb.estimate > 0))
        return "this WOULD change the conclusion" if changes else "not enough to change the conclusion"
    h0 = ovb.h0
    reaches = b.adjusted_lower_ci <= h0 <= b.adjusted_upper_ci or abs(b.adjusted_estimate) >= abs(h0)
    return (f"{'this WOULD make' if reaches else 'not enough to make'} an effect of {h0:.4g} "
            f"({1 + ovb.q:.0%} of the estimate) plausible")


def _columns_of(variable: str, names) -> tuple[str, ...]:
    """The model columns that belong to a data variable (itself, quoted, or its factor levels)."""
    quoted = f"`{variable}`"
    exact = tuple(n for n in names if n in (variable, quoted))
    if exact:
        return exact
    return tuple(n for n in names if n.startswith((variable, quoted)) and not n.startswith(f"{variable}:"))


def choose_benchmark(plan, regressions) -> tuple[str, tuple[str, ...]] | None:
    """The planner's rule: the adjusted variable with the largest partial R² with the treatment."""
    dfit = regressions.dfit
    best = None
    for v in (*plan.adjustment_set, *plan.covariates):
        cols = _columns_of(v, dfit.names)
        cols = tuple(c for c in cols if c in regressions.fit.names)
        if not cols:
            continue
        r2 = (partial_r2(dfit.t(cols[0]), dfit.dof) if len(cols) == 1
              else group_partial_r2(dfit.group_f(cols), len(cols), dfit.dof))
        if best is None or float(r2) > best[0]:
            best = (float(r2), v, cols)
    return None if best is None else (best[1], best[2])


def _benchmark_argument(plan, regressions):
    """sensemakr's benchmark_covariates: a list of single columns (a character vector), or {label: columns} (a
    named list, each group benchmarked jointly and its label naming the bounds, "1x employment_income")."""
    sp = plan.sensitivity
    if not sp.benchmarks:
        chosen = choose_benchmark(plan, regressions)
        if chosen is None:
            return None, "none (no observed covariate in the model)"
        name, cols = chosen
        arg = {name: cols} if len(cols) > 1 else [cols[0]]
        return arg, f"{name} (chosen by the rule: largest partial R² with the treatment)"
    labels = sp.benchmark_labels or tuple("+".join(g) for g in sp.benchmarks)
    groups: dict[str, tuple[str, ...]] = {}
    for label, group in zip(labels, sp.benchmarks):
        groups[label] = tuple(c for v in group for c in _columns_of(v, regressions.fit.names))
    named = [f"{label} = {' + '.join(group)}" if label != "+".join(group) else label
             for label, group in zip(labels, sp.benchmarks)]
    text = ", ".join(named) + " (named in the spec)"
    unlabelled = all(label == "+".join(group) for label, group in zip(labels, sp.benchmarks))
    if unlabelled and all(len(c) == 1 for c in groups.values()):  # bounds named by the model column, as in R
        return [c[0] for c in groups.values()], text
    return groups, text


def _ovb(regressions, arg, sp):
    """sensemakr on the fitted regressions.  A multiplier that would imply an impossible confounder
    (partial R² >= 1: sensemakr refuses the whole call) is left out with a note; the rest are reported."""

    kd = list(sp.kd)
    ky = list(sp.ky) if sp.ky is not None else list(kd)

    def run(arg, kd, ky):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            res = sensemakr_from_regressions(regressions, arg, kd=kd, ky=ky, q=sp.q, alpha=sp.alpha,
                                             reduce=sp.reduce)
        # e.g. an implied bound above 1, capped as sensemakr does: keep the message with the numbers
        return replace(res, notes=tuple(res.notes) + tuple(str(w.message) for w in caught)) if caught else res

    try:
        return run(arg, kd, ky)
    except CausalSpecError as exc:
        if arg is None:
            return NotComputed(f"omitted-variable-bias bounds failed: {exc}")
        first = str(exc)
    kept, notes, bounds = None, [], []
    for d, y in zip(kd, ky):
        try:
            res = run(arg, [d], [y])
        except CausalSpecError as exc:
            notes.append(f"kd = {d:g}, ky = {y:g} left out: {exc}")
            continue
        kept = kept or res
        bounds += list(res.bounds)
        notes += [n for n in res.notes if n not in notes]
    if kept is None:
        try:
            kept = run(None, kd, ky)
        except CausalSpecError:
            return NotComputed(f"omitted-variable-bias bounds failed: {first}")
        notes.append(f"no benchmark bound is possible: {first}")
    order = [b.name for b in kept.benchmarks]  # benchmark by benchmark, each in kd order, as sensemakr lists them
    bounds.sort(key=lambda b: order.index(b.benchmark) if b.benchmark in order else len(order))
    return replace(kept, bounds=tuple(bounds), notes=tuple(notes))


def assess(plan, out) -> Any:
    """Run the sensitivity steps the plan asks for on a fitted model (a FitOutput)."""

    sp = plan.sensitivity
    if not sp.enabled:
        return NotComputed(sp.reason)
    benchmark = "none"
    if out.regressions is not None:
        arg, benchmark = _benchmark_argument(plan, out.regressions)
        ovb = _ovb(out.regressions, arg, sp)
    else:
        ovb = NotComputed("omitted-variable-bias bounds need the effect to be a coefficient of one linear model "
                          f"({plan.estimator.value} is not)")
    if out.control_risk is not None:
        ev = evalue_binary(out.effect, out.control_risk)
    elif out.outcome_sd is not None and np.isfinite(out.outcome_sd) and out.outcome_sd > 0:
        ev = evalue_ols(out.effect.estimate, out.effect.std_error, sd=out.outcome_sd)
    else:
        ev = NotComputed("the E-value for a continuous outcome needs the outcome's standard deviation")
    report = SensitivityReport(sp.reason, ovb, ev, benchmark, sp.benchmark_rule,
                               parallel_trends=assess_parallel_trends(plan, out), reduce=sp.reduce)
    if out.iv_arrays is not None:
        y, X, names, Zm, znames, z, instrument, term, kind = out.iv_arrays
        report = replace(report, exclusion=plausibly_exogenous(y, X, names, Zm, znames, z, instrument, term,
                                                               vcov=kind, level=plan.vcov.level,
                                                               bound=sp.exclusion_bound))
    return report



def rosenbaum(fit) -> dict | None:
    """Rosenbaum bounds for matched pairs: the Gamma at which Wilcoxon's signed-rank test stops being significant."""
    if fit.pair_differences is None:
        return None
    diffs = np.asarray(fit.pair_differences, dtype=float)
    return {"gamma": rosenbaum_gamma(lambda g: rosenbaum_wilcoxon(diffs, gamma=g)),
            "note": "smallest Gamma (odds of treatment differing within a matched pair) at which Wilcoxon's "
                    "signed-rank test of the pair differences stops being significant at 0.05 (one-sided)"}


def evalue_binary(effect, p0: float):
    """The E-value of a risk difference on a 0/1 outcome, by the risk-ratio route: with the controls' risk p0, the
    effect and its confidence limits become risk ratios RR = (p0 + RD) / p0, then ``EValue::evalues.RR``
    (VanderWeele & Ding 2017).  (The standardized-mean-difference route of ``evalues.OLS`` assumes a continuous,
    roughly normal outcome.)"""
    if not 0 < p0 < 1:
        return NotComputed(f"the controls' risk of the 0/1 outcome is {p0:g}, so no risk ratio exists")

    def rr(rd):
        return (p0 + rd) / p0

    point, lo, hi = rr(effect.estimate), rr(effect.conf_low), rr(effect.conf_high)
    if point <= 0:
        return NotComputed(f"the implied treated risk p0 + RD = {p0 + effect.estimate:.3g} is not positive")
    res = evalue_rr(point, lo if lo > 0 else None, hi if hi > 0 else None)
    note = (f"0/1 outcome: risk ratio from the risk difference and the controls' risk p0 = {p0:.4g}, RR = (p0 + RD) "
            "/ p0, then EValue::evalues.RR")
    return replace(res, notes=tuple(res.notes) + (note,))
