"""The base of every spec model: frozen, no unknown keys, pydantic errors turned into :class:`SpecError`."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

__all__ = ["_Model", "_NAME"]

_NAME = Annotated[str, Field(min_length=1, max_length=200)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    def __init__(self, **data: Any) -> None:
        # Python users get the same SpecError as file users, never a bare pydantic ValidationError.
        try:
            super().__init__(**data)
        except ValidationError as exc:
            from ._models import spec_error_from_validation

            raise spec_error_from_validation(exc, type(self)) from None


