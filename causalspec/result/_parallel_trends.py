"""The parallel-trends sensitivity step of an event study (Rambachan & Roth 2023; HonestDiD).

Data-free: it reads the plan's settings (``plan.sensitivity.parallel_trends``) and the fit's event-study
coefficients (``Fit.event_vcov``).  HonestDiD's restrictions are written for consecutive periods with the period
just before treatment (-1) as the reference: the pre-treatment coefficients are those before it, the
post-treatment ones start at 0.  A fit that does not have that shape is reported as not computed, with why.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from causalspec._values import NotComputed, jsonable
from causalspec.sensitivity import relative_magnitudes, smoothness, smoothness_m_upper

__all__ = ["ParallelTrendsReport", "assess_parallel_trends"]


@dataclass(frozen=True)
class ParallelTrendsReport:
    """One analysis per restriction asked for (a ParallelTrendsSensitivity, or NotComputed saying why)."""

    analyses: tuple
    pre_periods: tuple[int, ...]
    post_periods: tuple[int, ...]

    def summary_lines(self) -> list[str]:
        lines = []
        for a in self.analyses:
            if hasattr(a, "summary_lines"):
                lines += a.summary_lines()
                lines += [f"Note: {n}" for n in a.notes]
            else:
                lines.append(f"Parallel-trends sensitivity: {a.reason}.")
        return lines

    def to_dict(self) -> dict:
        return jsonable({"computed": True, "method": "Rambachan & Roth (2023), as HonestDiD computes it",
                         "pre_periods": list(self.pre_periods), "post_periods": list(self.post_periods),
                         "analyses": [a.to_dict() for a in self.analyses]})


def _shape(ec) -> str:
    """Why the coefficients do not fit HonestDiD's layout ("" when they do)."""
    if ec.reference != -1:
        return (f"the reference period is {ec.reference}; the restrictions take the period just before treatment "
                "(-1) as the reference (set design.reference: -1)")
    times = list(ec.relative_times)
    pre = [t for t in times if t < -1]
    post = [t for t in times if t >= 0]
    if not pre:
        return "there is no pre-treatment coefficient to calibrate the violations of parallel trends against"
    if not post:
        return "there is no post-treatment coefficient"
    expected = list(range(min(pre), -1)) + list(range(0, max(post) + 1))
    if times != expected:
        missing = sorted(set(expected) - set(times))
        return (f"the relative periods are not consecutive (missing {missing}); the restrictions compare "
                "consecutive periods")
    return ""


def assess_parallel_trends(plan, out):
    """The Rambachan-Roth analyses the plan asks for, or NotComputed (or None when they do not apply at all)."""
    sp = plan.sensitivity
    pt = sp.parallel_trends
    if pt is None:
        return NotComputed(sp.parallel_trends_reason) if sp.parallel_trends_reason else None
    ec = out.event_vcov
    if ec is None:
        return NotComputed("this fit has no event-study coefficients with a covariance")
    why = _shape(ec)
    if why:
        return NotComputed(why)
    times = np.asarray(ec.relative_times)
    num_pre, num_post = int((times < -1).sum()), int((times >= 0).sum())
    beta, sigma = np.asarray(ec.beta, dtype=float), np.asarray(ec.sigma, dtype=float)
    if pt.target == "first":
        l_vec, target = np.eye(num_post)[0], "effect in the first post-treatment period (relative time 0)"
    else:
        l_vec = np.full(num_post, 1.0 / num_post)
        target = f"average effect over the {num_post} post-treatment periods (relative times 0 to {num_post - 1})"
    alpha = 1 - plan.vcov.level
    analyses = []
    for restriction in pt.restrictions:
        if restriction == "relative_magnitudes":
            analyses.append(relative_magnitudes(beta, sigma, num_pre, num_post, pt.mbar, l_vec=l_vec, alpha=alpha,
                                                grid_points=pt.grid_points, centred_grid=pt.grid == "centred",
                                                target=target))
            continue
        ms = pt.m
        if ms is None:
            if num_pre < 2:
                analyses.append(NotComputed("smoothness: the default range of M needs two pre-treatment "
                                            "coefficients (set sensitivity.parallel_trends.m)"))
                continue
            top = smoothness_m_upper(beta, sigma, num_pre, alpha=0.05)
            ms = tuple(float(x) for x in np.linspace(0.0, max(top, 0.0), 5))
        analyses.append(smoothness(beta, sigma, num_pre, num_post, ms, l_vec=l_vec, alpha=alpha, target=target))
    return ParallelTrendsReport(tuple(analyses), tuple(int(t) for t in times[times < -1]),
                                tuple(int(t) for t in times[times >= 0]))
