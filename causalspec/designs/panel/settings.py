"""The panel family's typed plan settings: what its fitters read beyond the shared Plan fields."""

from __future__ import annotations

from dataclasses import dataclass, replace

from causalspec.planner._settings import Settings, WildSettings

__all__ = ["PanelSettings"]


@dataclass(frozen=True)
class PanelSettings(Settings):
    """Fixed effects: the regressors besides the treatment, the fixed effects and singleton handling."""

    regressors: tuple[str, ...]
    fixed_effects: tuple[str, ...]
    fixef_rm: str
    wild_bootstrap: WildSettings | None = None
    model_formula: str | None = None
    _omit_none = ("wild_bootstrap", "model_formula")

    def with_regressor(self, name: str) -> "PanelSettings":
        return replace(self, regressors=(*self.regressors, name))
