"""The specification curve across identification: the effect under every valid adjustment set.

The DAG usually allows several valid adjustment sets (every minimal set, the optimal set).  If the DAG is
right they estimate the same effect and differ by sampling error only; large disagreement says the DAG or
the data is wrong.  Rule: warn when two sets' estimates differ by more than 2 standard errors of the
difference, computed as sqrt(se_a^2 + se_b^2) — conservative, since estimates on the same rows are
positively correlated and their difference varies less than that.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd

from causalspec.designs import fit
from causalspec.errors import UnsupportedError
from causalspec.planner import Estimator, SensitivityPlan
from causalspec.formula import quote_name
from causalspec._progress import Progress

__all__ = ["SpecificationCurve", "CurveRow", "specification_curve", "specification_curve_plot", "CURVE_RULE"]

CURVE_RULE = ("warn when two valid adjustment sets give estimates that differ by more than 2 standard errors of "
              "the difference (sqrt(se_a^2 + se_b^2))")


@dataclass(frozen=True)
class CurveRow:
    adjustment_set: tuple[str, ...]
    kind: str  # "minimal", "optimal", "minimal, optimal", "chosen"
    estimate: float
    std_error: float
    conf_low: float
    conf_high: float
    nobs: int

    def to_dict(self) -> dict[str, Any]:
        return {"adjustment_set": list(self.adjustment_set), "kind": self.kind, "estimate": self.estimate,
                "std_error": self.std_error, "conf_low": self.conf_low, "conf_high": self.conf_high,
                "nobs": self.nobs}


@dataclass(frozen=True)
class SpecificationCurve:
    """One row per valid adjustment set, sorted by estimate, and the disagreement check."""

    rows: tuple[CurveRow, ...]
    max_gap_in_se: float
    verdict: str  # "agree" | "warn"
    message: str
    rule: str = CURVE_RULE
    level: float = 0.95  # the plan's confidence level, at which every row's interval is computed

    def to_dict(self) -> dict[str, Any]:
        return {"computed": True, "rows": [r.to_dict() for r in self.rows],
                "max_gap_in_se": None if not math.isfinite(self.max_gap_in_se) else self.max_gap_in_se,
                "verdict": self.verdict, "message": self.message, "rule": self.rule}

    def table(self) -> str:
        ci = f"{self.level:.0%} CI"
        lines = [f"  {'adjustment set':<44} {'estimate':>10} {ci:>24} {'n':>7}"]
        for r in self.rows:
            name = "{" + ", ".join(r.adjustment_set) + "}"
            lines.append(f"  {name:<44} {r.estimate:>10.4g} {f'{r.conf_low:.4g} to {r.conf_high:.4g}':>24} "
                         f"{r.nobs:>7,}")
        return "\n".join(lines)


def _sets(plan) -> dict[tuple[str, ...], str]:
    sets: dict[tuple[str, ...], str] = {}
    for s in plan.minimal_adjustment_sets:
        sets[tuple(sorted(s))] = "minimal"
    if plan.optimal_adjustment_set is not None:
        key = tuple(sorted(plan.optimal_adjustment_set))
        sets[key] = "minimal, optimal" if key in sets else "optimal"
    if plan.adjustment_source == "explicit":
        key = tuple(sorted(plan.adjustment_set))
        sets.setdefault(key, "chosen")
    return sets


def specification_curve(result, data: pd.DataFrame, *, progress: bool = False) -> SpecificationCurve:
    """Estimate the plan's effect under every minimal adjustment set and the optimal set (OLS)."""

    plan = replace(result.plan, heterogeneity=None)  # each set's refit estimates the average effect only
    if plan.estimator is not Estimator.OLS:
        raise UnsupportedError(f"the specification curve compares OLS regression adjustments; this plan uses "
                              f"{plan.estimator.value}.", loc="sensitivity.all_adjustment_sets",
                              fix="Use design.estimator ols, or leave all_adjustment_sets off.")
    y, x = quote_name(plan.outcome), quote_name(plan.treatment)
    sets = _sets(plan)
    bar = Progress(len(sets), "adjustment sets", enabled=progress)
    rows = []
    for adj, kind in sets.items():
        terms = [x] + [quote_name(v) for v in (*adj, *(c for c in plan.covariates if c not in adj))]
        columns = tuple(dict.fromkeys((plan.outcome, plan.treatment, *adj, *plan.covariates, *plan.vcov.cluster)))
        variant = replace(plan, adjustment_set=adj, formula=f"{y} ~ " + " + ".join(terms), columns=columns,
                          column_fields=tuple((c, "dag") for c in columns),
                          sensitivity=SensitivityPlan(False, "specification curve refit"))
        eff = fit(variant, data)
        rows.append(CurveRow(adj, kind, eff.effect.estimate, eff.effect.std_error, eff.effect.conf_low,
                             eff.effect.conf_high, eff.nobs))
        bar.step()
    bar.close()
    rows.sort(key=lambda r: (r.estimate, r.adjustment_set))
    gap = 0.0
    worst = None
    for i, a in enumerate(rows):
        for b in rows[i + 1:]:
            g = abs(a.estimate - b.estimate) / math.hypot(a.std_error, b.std_error)
            if g > gap:
                gap, worst = g, (a, b)
    if worst is not None and gap > 2:
        a, b = worst
        message = (f"valid adjustment sets disagree: {{{', '.join(a.adjustment_set)}}} gives {a.estimate:.4g} and "
                   f"{{{', '.join(b.adjustment_set)}}} gives {b.estimate:.4g} ({gap:.1f} standard errors apart). "
                   "If the DAG were right they would estimate the same effect: check the DAG's edges and the data.")
        verdict = "warn"
    else:
        message = (f"all {len(rows)} valid adjustment sets agree (largest gap {gap:.2f} standard errors)"
                   if len(rows) > 1 else "the DAG allows a single adjustment set")
        verdict = "agree"
    return SpecificationCurve(tuple(rows), gap, verdict, message, level=result.plan.vcov.level)


def specification_curve_plot(curve: SpecificationCurve, *, title: str | None = None, ax=None):
    """Estimates and CIs sorted by estimate, with the adjustment sets marked beneath as a dot matrix.

    Two panels: ``ax`` is None (a new figure, the panels stacked and sharing x) or a sequence of two Axes (the
    estimates, then the dot matrix).  Returns the two Axes drawn on, ``(estimates, sets)``.

    Examples
    --------
    >>> import causalspec as cs
    >>> r = cs.run("specs/feature_adoption.yaml", all_adjustment_sets=True)         # doctest: +SKIP
    >>> top, sets = specification_curve_plot(r.specification_curve)              # doctest: +SKIP
    >>> top.figure.savefig("curve.png")                                         # doctest: +SKIP
    """
    from matplotlib.axes import Axes
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    rows = curve.rows
    variables = sorted({v for r in rows for v in r.adjustment_set})
    if ax is None:  # a figure of its own on an Agg canvas: pyplot never holds it
        fig = Figure(figsize=(max(4.5, 0.6 * len(rows) + 3), 3 + 0.3 * len(variables) + 1), layout="constrained")
        FigureCanvasAgg(fig)
        top, bottom = fig.subplots(2, 1, sharex=True,
                                   gridspec_kw={"height_ratios": [3, max(1, 0.35 * len(variables))]})
    else:
        given = [ax] if isinstance(ax, Axes) else list(ax)
        if len(given) != 2 or not all(isinstance(a, Axes) for a in given):
            raise UnsupportedError(f"specification_curve_plot draws 2 panels (the estimates and the adjustment "
                                   f"sets); {len(given)} Axes were given.", loc="ax",
                                   fix="Pass two matplotlib Axes (e.g. fig.subplots(2, 1, sharex=True)), or leave "
                                       "ax=None for a new figure.")
        top, bottom = given
    xs = range(len(rows))
    top.errorbar(list(xs), [r.estimate for r in rows],
                 yerr=[[r.estimate - r.conf_low for r in rows], [r.conf_high - r.estimate for r in rows]],
                 fmt="o", color="#1f4e79", ecolor="#8fb3d9", capsize=3)
    top.axhline(0, color="#999999", lw=0.8, ls="--")
    top.set_ylabel(f"estimate ({curve.level:.0%} CI)")
    top.set_title(title or "Effect under every valid adjustment set")
    for i, r in enumerate(rows):
        for j, v in enumerate(variables):
            bottom.plot(i, j, "s", color="#1f4e79" if v in r.adjustment_set else "#e5e5e5", ms=7)
    bottom.set_yticks(range(len(variables)))
    bottom.set_yticklabels(variables)
    bottom.set_xticks(list(xs))
    bottom.set_xticklabels([r.kind for r in rows], rotation=30, ha="right", fontsize=8)
    bottom.set_ylim(-0.5, max(len(variables), 1) - 0.5)
    top.set_xlim(bottom.get_xlim())
    return top, bottom
