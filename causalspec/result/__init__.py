"""Stage 4 of the flow: :class:`Result` (Plan + Fit + sensitivity) and the sensitivity step that builds it."""

from causalspec._values import Estimate, NotComputed
from causalspec.result._result import Result, build_result
from causalspec.result._sensitivity import SensitivityReport, assess, choose_benchmark

__all__ = ["Result", "Estimate", "NotComputed", "SensitivityReport", "build_result", "assess", "choose_benchmark"]
