"""Planning the synthetic control design."""

from __future__ import annotations

from causalspec.errors import Problem, UnsupportedError

__all__ = ["plan_synthetic_control", "not_implemented"]


def plan_synthetic_control(spec, dag) -> dict:
    raise UnsupportedError(Problem(
        "design.type", "the synthetic_control design is not implemented in this version.",
        fix="Use one of observational, experiment, panel, iv, did, event_study.", code="unsupported_design"))


def not_implemented(plan, frame):
    """No plan reaches this fitter until the planner lands (it refuses the design first)."""
    return plan_synthetic_control(None, None)
