"""pydantic's validation errors as located, actionable :class:`~causalspec.errors.Problem` records.

Every spec model turns a ``ValidationError`` into a ``SpecError`` here (``spec._base._Model``), so Python users
get the same errors as file users.
"""

from __future__ import annotations

import re
import typing
from dataclasses import replace
from typing import Any

from pydantic import BaseModel, ValidationError

from causalspec.errors import Problem, SpecError
from causalspec.spec._checks import did_you_mean

__all__ = ["spec_error_from_validation"]


# design.type values: pydantic inserts the discriminated union's tag after "design" (tests/test_layers.py checks
# that this list is the union's)
DESIGN_TAGS = frozenset({"observational", "experiment", "panel", "iv", "did", "event_study",
                         "regression_discontinuity", "synthetic_control", "interrupted_time_series"})


# data: is a path or a mapping (spec/_data_source.py); pydantic inserts the form's tag after "data"
DATA_TAGS = frozenset({"path", "source"})


def _loc_text(loc: tuple) -> str:
    text = ""
    previous = None
    for part in loc:
        tag = (previous == "design" and part in DESIGN_TAGS) or (previous == "data" and part in DATA_TAGS)
        previous = part
        if isinstance(part, int):
            text += f"[{part}]"
        elif tag or str(part).startswith("function-"):
            continue  # the discriminated-union tag pydantic inserts; the user never wrote it
        else:
            text += f".{part}" if text else str(part)
    return text


def spec_error_from_validation(exc: ValidationError, model: type[BaseModel]) -> SpecError:
    """Turn pydantic's errors into located, actionable :class:`Problem` records; ``model`` is the model validated
    (field paths, allowed keys and field descriptions are looked up in it)."""
    problems: list[Problem] = []
    for err in exc.errors():
        ctx_error = (err.get("ctx") or {}).get("error")
        if isinstance(ctx_error, SpecError):
            prefix = _loc_text(err["loc"])
            problems.extend(
                replace(p, loc=f"{prefix}.{p.loc}" if prefix and p.loc else prefix or p.loc)
                for p in ctx_error.problems)
            continue
        loc = _loc_text(err["loc"])
        kind = err["type"]
        msg = err["msg"].removeprefix("Value error, ")
        if kind == "extra_forbidden":
            parent, _, key = loc.rpartition(".")
            key = key.split("[")[0]
            allowed = _allowed_keys(model, parent)
            problems.append(Problem(
                loc, f"unknown key {key!r}{did_you_mean(key, allowed)}.",
                fix=f"Allowed keys here: {', '.join(sorted(allowed))}." if allowed else "Remove it.",
                code="unknown_key"))
        elif kind == "missing":
            problems.append(Problem(loc, "this field is required.", fix=_field_hint(model, loc), code="missing"))
        elif kind == "union_tag_invalid":
            problems.append(Problem(
                loc + ".type", f"unknown design type {err['input'].get('type')!r} "
                f"({err['ctx']['expected_tags']} are available).",
                fix="Set design.type to one of them.", code="unknown_design"))
        elif kind == "literal_error":
            allowed = _literal_values(err)
            same = [a for a in allowed if isinstance(err["input"], str) and a.lower() == err["input"].lower()]
            listed = ", ".join(repr(a) for a in allowed)
            fix = (f"Write {same[0]!r} (values are case-sensitive)." if same
                   else f"Use one of {listed}." if allowed else "Use one of the values listed.")
            problems.append(Problem(loc, f"{err['input']!r} is not one of the allowed values.", fix=fix,
                                    code="bad_value"))
        else:
            problems.append(Problem(loc, msg[0].lower() + msg[1:] + ("" if msg.endswith(".") else "."),
                                    fix=_field_hint(model, loc), code=kind))
    return SpecError(problems)


def _field_hint(model: type[BaseModel], loc: str) -> str:
    field = _lookup_field(model, loc)
    return f"Expected: {field.description}" if field is not None and field.description else ""


def _lookup_field(model: type[BaseModel], loc: str):
    parts = [p for p in re.split(r"\.|\[\d+\]", loc) if p]
    current: Any = model
    field = None
    for part in parts:
        fields = getattr(current, "model_fields", None)
        if not fields or part not in fields:
            return field
        field = fields[part]
        current = _model_of(field.annotation)
    return field


def _model_of(annotation: Any) -> Any:

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def _allowed_keys(model: type[BaseModel], parent: str) -> set[str]:
    if not parent:
        return set(model.model_fields)
    field = _lookup_field(model, parent)
    sub = _model_of(field.annotation) if field is not None else None
    if field is not None:  # a union of models (the design): every key any member allows
        members = _models_of(field.annotation)
        if len(members) > 1:
            return set().union(*(m.model_fields for m in members))
    return set(sub.model_fields) if sub is not None else set()


def _models_of(annotation: Any) -> list:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_of(arg)]


def _literal_values(err) -> list[str]:
    """The allowed values of a Literal field, as pydantic's error lists them (``'a', 'b' or 'c'``)."""
    expected = (err.get("ctx") or {}).get("expected", "")
    return re.findall(r"'([^']*)'", expected)
