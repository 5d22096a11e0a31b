"""The base of the typed, frozen per-family plan settings (each family defines its own record in
``designs/<family>/settings.py``): what a design's fitter needs beyond the shared Plan fields.
  Every field is hashable (tuples,
frozen pydantic models), so a Plan is hashable; ``to_dict()`` gives the JSON the plan has always written.
``with_regressor(name)`` is the hook refutations use to add a random common cause to the model.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any


__all__ = ["Settings", "NoSettings", "WildSettings"]


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if hasattr(value, "to_dict"):
        return value.to_dict()
    return value


class Settings:
    """Base of the per-family settings records."""

    _omit_none: tuple[str, ...] = ()  # optional groups left out of the JSON when unset
    _flatten: tuple[str, ...] = ()  # groups whose fields the JSON writes at the top level

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if value is None and f.name in self._omit_none:
                continue
            if f.name in self._flatten and value is not None:  # groups written at the top level
                out.update(value.to_dict())
                continue
            out[f.name] = _plain(value)
        return out

    def items(self):
        return self.to_dict().items()

    def with_regressor(self, name: str) -> "Settings | None":
        """The settings with one more (pre-treatment) regressor in the model, or None when the design's model
        takes none (a refutation that needs one then says it did not run, instead of passing vacuously)."""
        return None


@dataclass(frozen=True)
class NoSettings(Settings):
    """A design whose fitter needs nothing beyond the Plan's shared fields."""


@dataclass(frozen=True)
class WildSettings(Settings):
    """The wild cluster bootstrap (``inference.wild_bootstrap``)."""

    weights: str
    draws: int


