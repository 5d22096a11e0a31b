"""The base of every spec model: frozen, no unknown keys, pydantic errors turned into :class:`SpecError`."""

from __future__ import annotations

import typing
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from causalspec.errors import Problem, SpecError
from causalspec.spec._validation import spec_error_from_validation

__all__ = ["_Model", "_DesignModel", "_NAME"]

_NAME = Annotated[str, Field(min_length=1, max_length=200)]


class _Model(BaseModel):
    # allow_inf_nan=False: NaN and infinity are never a valid spec number (kd: .nan would empty the bounds).
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _no_true_for_a_number(cls, data: Any) -> Any:
        # YAML's true is not 1: `seed: true` or `version: true` must not be read as the number 1.
        if isinstance(data, dict):
            for key, value in data.items():
                field = cls.model_fields.get(key) if isinstance(key, str) else None
                if isinstance(value, bool) and field is not None and not _admits_bool(field.annotation):
                    raise SpecError(Problem(key, f"{str(value).lower()} is a yes/no value, but {key} takes a "
                                            "number or text.", fix=f"Write the {key} you mean.", code="bool_value"))
        return data

    def __init__(self, **data: Any) -> None:
        # Python users get the same SpecError as file users, never a bare pydantic ValidationError.
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise spec_error_from_validation(exc, type(self)) from None




class _DesignModel(_Model):
    """Base of the design schemas (one module per family, named as in ``causalspec.designs``)."""

    def data_columns(self) -> tuple[tuple[str, str], ...]:
        """Data columns the design's own options name, each with its field path (for error locations)."""
        return ()


def _admits_bool(annotation: Any) -> bool:
    if annotation is bool or annotation is Any:
        return True
    return any(_admits_bool(a) for a in typing.get_args(annotation) if not isinstance(a, (int, str, float)))
