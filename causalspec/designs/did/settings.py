"""The did family's typed plan settings: what its fitters read beyond the shared Plan fields."""

from __future__ import annotations

from dataclasses import dataclass

from causalspec.planner._settings import Settings

__all__ = ["DiDSettings"]


@dataclass(frozen=True)
class DiDSettings(Settings):
    """2x2 difference in differences: the group and post columns and the interaction term."""

    group: str
    post: str
    did_term: str

    def with_regressor(self, name: str) -> "DiDSettings":
        return self  # the 2x2 regression is the plan's formula, which the regressor is added to
