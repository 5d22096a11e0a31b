"""Render a Plan for a person.  Reads only the Plan's records: what is printed is what is fitted."""

from __future__ import annotations

import textwrap

from typing import TYPE_CHECKING

from causalspec.planner._records import Strategy

if TYPE_CHECKING:
    from causalspec.planner._plan import Plan

_WIDTH = 88


def _wrap(text: str, indent: str = "  ", first: str | None = None) -> str:
    return textwrap.fill(text, _WIDTH, initial_indent=first if first is not None else indent,
                         subsequent_indent=indent, break_on_hyphens=False)


def explain(plan: Plan) -> str:
    lines = [f"Plan: {plan.name}", ""]
    lines.append(f"Question   effect of {plan.treatment!r} on {plan.outcome!r} ({plan.estimand}, "
                 f"{plan.design} design)")
    lines.append(f"Strategy   {plan.strategy.value}" + ("" if plan.identified else "  -- NOT IDENTIFIED"))
    if plan.strategy is Strategy.BACKDOOR:
        adj = ", ".join(plan.adjustment_set) or "(empty set: nothing to adjust for)"
        lines.append(f"Adjust for {adj}")
        lines.append(_wrap(f"chosen by {plan.adjustment_rule}.", indent=" " * 11))
    if plan.minimal_adjustment_sets and plan.strategy is not Strategy.RANDOMIZATION:
        sets = "; ".join("{" + ", ".join(s) + "}" for s in plan.minimal_adjustment_sets)
        lines.append(_wrap(f"Minimal valid adjustment sets: {sets}", indent=" " * 11, first=""))
        if plan.optimal_adjustment_set is not None:
            lines.append(f"Optimal (O-set): {{{', '.join(plan.optimal_adjustment_set)}}}")
    if not plan.identified:
        lines += ["", "Why it is not identified:"]
        lines += [_wrap(f"- open backdoor path: {p}", first="  ", indent="    ") for p in plan.obstacles]
        if not plan.obstacles:
            lines.append("  - no set of observed variables blocks every backdoor path")
        lines += ["", "What the DAG offers instead:"]
        lines += [_wrap(f"- {a}", first="  ", indent="    ") for a in plan.alternatives]
    lines += ["", "Variables:"]
    width = max((len(d.node) for d in plan.decisions), default=4)
    for d in plan.decisions:
        mark = "adjust" if d.adjusted else "  -   "
        lines.append(f"  {d.node:<{width}}  {mark}  {d.role:<24} {d.reason}")
    if plan.identified:
        lines += ["", f"Estimator  {plan.estimator.value}: {plan.estimator_reason}",
                  f"Model      {plan.formula}",
                  f"Naive      {plan.naive_formula}",
                  f"Variance   {plan.vcov.kind}"
                  + (f" clustered by {', '.join(plan.vcov.cluster)}" if plan.vcov.cluster else "")
                  + (f", {plan.vcov.level:.0%} intervals" if plan.vcov.kind not in ("permutation", "none") else
                     ", no confidence interval")
                  + f"; matches {plan.vcov.r_equivalent}"]
        for key, value in plan.settings.items():
            if isinstance(value, (str, int, float)):
                lines.append(f"{key.replace('_', ' ').capitalize():<10} {value}")
    sp = plan.sensitivity
    lines += ["", _wrap(("Sensitivity on: " if sp.enabled else "Sensitivity off: ") + sp.reason, first="",
                        indent=" " * 4)]
    if sp.enabled:
        if sp.benchmark_rule:
            labels = sp.benchmark_labels or tuple("+".join(b) for b in sp.benchmarks)
            bench = ", ".join(label if "+".join(group) == label else f"{label} = {' + '.join(group)}"
                              for label, group in zip(labels, sp.benchmarks)) if sp.benchmarks else None
            direction = ("the confounder reduces the estimate's magnitude" if sp.reduce else
                         "the confounder increases the estimate's magnitude (reduce: false)")
            lines.append(_wrap(f"- omitted-variable-bias bounds (Cinelli & Hazlett 2020), q = {sp.q:g}, "
                               f"alpha = {sp.alpha:g}, {direction}; benchmark: "
                               + (f"{bench} (named in the spec)" if bench else sp.benchmark_rule)
                               + f"; kd = {', '.join(f'{k:g}' for k in sp.kd)}", first="  ", indent="    "))
        if sp.parallel_trends is not None:
            pt = sp.parallel_trends
            lines.append(_wrap(f"- parallel-trends sensitivity (Rambachan & Roth 2023, as HonestDiD): "
                               f"{', '.join(r.replace('_', ' ') for r in pt.restrictions)}; Mbar = "
                               f"{', '.join(f'{m:g}' for m in pt.mbar)}; M = "
                               + (', '.join(f'{m:g}' for m in pt.m) if pt.m is not None else "5 values from 0 to "
                                  "HonestDiD's DeltaSD_upperBound_Mpre")
                               + f"; target: {pt.target} post-treatment period{'s' if pt.target == 'average' else ''}"
                               f"; {pt.grid} grid of {pt.grid_points}", first="  ", indent="    "))
        elif sp.parallel_trends_reason:
            lines.append(_wrap(f"- parallel-trends sensitivity: not run ({sp.parallel_trends_reason})", first="  ",
                               indent="    "))
        lines.append("  - E-value (VanderWeele & Ding 2017) for the estimate and its confidence limit")
        if sp.refutations:
            lines.append(_wrap(f"- refutations: {', '.join(r.replace('_', ' ') for r in sp.refutations)} "
                               f"({sp.simulations} replications each, seeded)", first="  ", indent="    "))
        if sp.all_adjustment_sets:
            lines.append("  - specification curve: the effect under every minimal adjustment set and the O-set")
    lines += ["", "Assumptions:"]
    lines += [_wrap(f"- {a}", first="  ", indent="    ") for a in plan.assumptions]
    if plan.notes:
        lines += ["", "Notes:"] + [_wrap(f"- {n}", first="  ", indent="    ") for n in plan.notes]
    return "\n".join(lines) + "\n"
