"""``model.formula``: a fixest-style formula replacing the planner's (panel, iv, did and event_study designs)."""

from __future__ import annotations

from pydantic import Field

from causalspec.spec._base import _Model

__all__ = ["ModelSpec"]


class ModelSpec(_Model):
    """Advanced: a fixest-style formula that replaces the planner's formula (checked, never evaluated)."""

    formula: str = Field(
        ..., min_length=3, max_length=10_000,
        description="fixest syntax: y ~ x1 + x2 | fe1 + fe2, y ~ exog | fe | endog ~ z1 + z2, i(var, ref = -1), "
                    "i(var, treat, ref = -1), sunab(cohort, period), fe1^fe2.")

