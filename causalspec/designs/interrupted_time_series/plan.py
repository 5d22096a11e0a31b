"""Planning the interrupted time series design."""

from __future__ import annotations

from causalspec.errors import Problem, UnsupportedError

__all__ = ["plan_interrupted_time_series", "not_implemented"]


def plan_interrupted_time_series(spec, dag) -> dict:
    raise UnsupportedError(Problem(
        "design.type", "the interrupted_time_series design is not implemented in this version.",
        fix="Use one of observational, experiment, panel, iv, did, event_study.", code="unsupported_design"))


def not_implemented(plan, frame):
    """No plan reaches this fitter until the planner lands (it refuses the design first)."""
    return plan_interrupted_time_series(None, None)
