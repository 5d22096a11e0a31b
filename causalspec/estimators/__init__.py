"""Estimators: one module per family, each taking a Plan and a DataFrame and returning a Result."""

from ._fit import fit
from ._result import Estimate, NotComputed, Result

__all__ = ["fit", "Result", "Estimate", "NotComputed"]
