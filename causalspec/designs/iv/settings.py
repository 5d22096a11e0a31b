"""The iv family's typed plan settings: what its fitters read beyond the shared Plan fields."""

from __future__ import annotations

from dataclasses import dataclass, replace

from causalspec.planner._settings import Settings

__all__ = ["IVSettings"]


@dataclass(frozen=True)
class IVSettings(Settings):
    """Instrumental variables: instruments, exogenous regressors, fixed effects."""

    instruments: tuple[str, ...]
    exogenous: tuple[str, ...]
    fixed_effects: tuple[str, ...]
    model_formula: str | None = None
    _omit_none = ("model_formula",)

    def with_regressor(self, name: str) -> "IVSettings":
        return replace(self, exogenous=(*self.exogenous, name))
