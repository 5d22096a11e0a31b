"""Read spec files (YAML, TOML, JSON) as untrusted text, and write them back.

Loading parses text only.  YAML goes through a safe loader that also refuses
aliases (no "billion laughs") and every tag that constructs an object; nothing
in a file is imported, evaluated or executed.  While parsing, the position of
every key is recorded so that each validation problem can name ``file:line``.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import yaml

from ..errors import CausalSpecError, Problem, SpecError, SpecFileError
from ._models import Spec, spec_error_from_validation

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

__all__ = ["load", "loads", "dump", "dumps", "MAX_SPEC_BYTES"]

MAX_SPEC_BYTES = 2_000_000
_FORMATS = {".yaml": "yaml", ".yml": "yaml", ".toml": "toml", ".json": "json"}


class _StrictSafeLoader(yaml.SafeLoader):
    """PyYAML's SafeLoader without aliases: a spec never needs them, and they enable alias bombs."""

    def compose_node(self, parent, index):  # noqa: D401 - PyYAML hook
        if self.check_event(yaml.AliasEvent):
            event = self.get_event()
            raise _Refused(event.start_mark.line + 1, "YAML aliases (*name) are not allowed in a spec.",
                           "Write the value out in full.")
        return super().compose_node(parent, index)

    def construct_undefined(self, node):
        raise _Refused(node.start_mark.line + 1, f"YAML tag {node.tag!r} is not allowed in a spec.",
                       "Remove the tag: a spec holds plain text, numbers, lists and mappings only.")


_StrictSafeLoader.add_constructor(None, _StrictSafeLoader.construct_undefined)
# Timestamps and binary blobs are not spec values; keep them as refused tags rather than silently converting.
for _tag in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:binary", "tag:yaml.org,2002:set",
             "tag:yaml.org,2002:omap", "tag:yaml.org,2002:pairs"):
    _StrictSafeLoader.add_constructor(_tag, _StrictSafeLoader.construct_undefined)


class _Refused(Exception):
    def __init__(self, line: int | None, message: str, fix: str):
        super().__init__(message)
        self.line, self.message, self.fix = line, message, fix


def _yaml_lines(text: str) -> dict[str, int]:
    """Map field paths (``dag.edges[2]``) to 1-based lines by walking the YAML node tree."""
    lines: dict[str, int] = {}

    def walk(node: yaml.Node, path: str) -> None:
        lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                sub = f"{path}.{key.value}" if path else str(key.value)
                lines[sub] = key.start_mark.line + 1
                walk(value, sub)
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, f"{path}[{i}]")

    try:
        root = yaml.compose(text, Loader=_StrictSafeLoader)
    except Exception:
        return lines
    if root is not None:
        walk(root, "")
    return lines


def _toml_lines(text: str) -> dict[str, int]:
    """Best-effort line map for TOML: ``key =`` lines and ``[table]`` headers."""
    lines: dict[str, int] = {}
    table = ""
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line.startswith("[") and not line.startswith("[["):
            table = line.strip("[] ").strip()
            lines.setdefault(table, number)
        elif "=" in line and not line.startswith("#"):
            key = line.split("=", 1)[0].strip().strip('"')
            lines.setdefault(f"{table}.{key}" if table else key, number)
    return lines


def _parse(text: str, fmt: str, source: str) -> tuple[Any, dict[str, int]]:
    try:
        if fmt == "yaml":
            data = yaml.load(text, Loader=_StrictSafeLoader)  # noqa: S506 - strict safe loader
            return data, _yaml_lines(text)
        if fmt == "json":
            data = json.loads(text)
            return data, _yaml_lines(text)  # JSON is YAML: the same walk gives its lines
        data = tomllib.loads(text)
        return data, _toml_lines(text)
    except _Refused as exc:
        raise SpecFileError(Problem("", exc.message, fix=exc.fix, file=source, line=exc.line)) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise SpecFileError(Problem("", f"not valid YAML: {exc.problem or exc}.", fix="Fix the syntax at that line.",
                                    file=source, line=line)) from None
    except json.JSONDecodeError as exc:
        raise SpecFileError(Problem("", f"not valid JSON: {exc.msg}.", fix="Fix the syntax at that line.",
                                    file=source, line=exc.lineno)) from None
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"line (\d+)", str(exc))
        raise SpecFileError(Problem("", f"not valid TOML: {exc}.", fix="Fix the syntax at that line.", file=source,
                                    line=int(found.group(1)) if found else None)) from None
    except (yaml.YAMLError, RecursionError, ValueError) as exc:
        raise SpecFileError(Problem("", f"cannot parse the file as {fmt.upper()}: {exc}.",
                                    fix="Check that it is a spec file.", file=source)) from None


def loads(text: str | bytes, format: str = "yaml", *, source: str = "<string>") -> Spec:
    """Parse and validate a spec from text.

    Parameters
    ----------
    text : str or bytes
        The file's content.
    format : {"yaml", "toml", "json"}
    source : str
        Name used in error messages (normally the file path).

    Raises
    ------
    SpecFileError
        The text is empty, binary, too large, or not valid YAML / TOML / JSON, or uses a refused YAML feature.
    SpecError
        The spec is invalid; every problem is listed with its field path and line.
    """
    if format not in ("yaml", "toml", "json"):
        raise SpecFileError(f"unknown spec format {format!r}.", fix="Use yaml, toml or json.")
    if isinstance(text, bytes):
        if len(text) > MAX_SPEC_BYTES:
            raise SpecFileError(Problem("", f"the file is {len(text):,} bytes; a spec is at most {MAX_SPEC_BYTES:,}.",
                                        fix="Check that this is a spec file.", file=source))
        if b"\x00" in text:
            raise SpecFileError(Problem("", "the file is binary (it contains NUL bytes), not a spec.",
                                        fix="Point causalspec at a YAML, TOML or JSON spec file.", file=source))
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise SpecFileError(Problem("", f"the file is not UTF-8 text (byte {exc.start}).",
                                        fix="Save the spec as UTF-8.", file=source)) from None
    if len(text) > MAX_SPEC_BYTES:
        raise SpecFileError(Problem("", "the text is too large for a spec.", fix="Check the input.", file=source))
    if not text.strip():
        raise SpecFileError(Problem("", "the spec is empty.",
                                    fix="Write at least name, dag, treatment and outcome (see docs/spec.md).",
                                    file=source))
    data, lines = _parse(text, format, source)
    if not isinstance(data, dict):
        raise SpecFileError(Problem("", f"the top level is a {type(data).__name__}, not a mapping of fields.",
                                    fix="Start the file with 'name: ...' style keys (see docs/spec.md).",
                                    file=source, line=1))
    return from_dict(data, source=source, lines=lines)


def from_dict(data: dict[str, Any], *, source: str | None = None, lines: dict[str, int] | None = None) -> Spec:
    """Validate a mapping (as parsed from a file) into a :class:`Spec`, locating every problem."""
    bad_keys = [k for k in data if not isinstance(k, str)]
    if bad_keys:
        raise SpecFileError(Problem("", f"keys must be text, found {bad_keys[0]!r}.", fix="Quote the key.",
                                    file=source))
    from pydantic import ValidationError

    try:
        spec = Spec.model_validate(data)
        spec._source = source
        spec._lines = dict(lines or {})
        return spec
    except ValidationError as exc:
        error = spec_error_from_validation(exc)
    except SpecError as exc:  # raised by Spec.__init__ paths
        error = exc
    if source is None:
        raise error
    raise type(error)([p.located(source, _line_for(p.loc, lines or {})) for p in error.problems]) from None


def locate(error: CausalSpecError, spec: Spec) -> CausalSpecError:
    """The same error with each problem located in the file the spec was read from (file and line)."""
    source = getattr(spec, "_source", None)
    if source is None:
        return error
    lines = getattr(spec, "_lines", None) or {}
    located = [p if p.file else p.located(source, _line_for(p.loc, lines)) for p in error.problems]
    clone = type(error)(located)
    return clone


def _line_for(loc: str, lines: dict[str, int]) -> int | None:
    """The line of ``loc`` or of its nearest enclosing field that the file has."""
    probe = loc
    while probe:
        if probe in lines:
            return lines[probe]
        if probe.endswith("]"):
            probe = probe[: probe.rfind("[")]
        elif "." in probe:
            probe = probe.rsplit(".", 1)[0]
        else:
            break
    return lines.get(probe) if probe else None


def load(path: str | os.PathLike[str]) -> Spec:
    """Load and validate a spec file (``.yaml``/``.yml``, ``.toml`` or ``.json``).

    Examples
    --------
    >>> import causalspec as cs
    >>> spec = cs.load("specs/feature_adoption.yaml")  # doctest: +SKIP
    >>> spec.treatment  # doctest: +SKIP
    'feature_usage'
    """
    path = Path(path)
    fmt = _FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise SpecFileError(Problem("", f"unknown spec file type {path.suffix or '(no extension)'!r}.",
                                    fix="Use .yaml, .yml, .toml or .json.", file=str(path)))
    try:
        size = path.stat().st_size
        if size > MAX_SPEC_BYTES:
            raise SpecFileError(Problem("", f"the file is {size:,} bytes; a spec is at most {MAX_SPEC_BYTES:,}.",
                                        fix="Check that this is a spec file.", file=str(path)))
        raw = path.read_bytes()
    except FileNotFoundError:
        raise SpecFileError(Problem("", "no such file.", fix="Check the path.", file=str(path))) from None
    except IsADirectoryError:
        raise SpecFileError(Problem("", "this is a folder, not a spec file.", fix="Name a file.",
                                    file=str(path))) from None
    except OSError as exc:
        raise SpecFileError(Problem("", f"cannot read the file: {exc.strerror}.", fix="Check permissions.",
                                    file=str(path))) from None
    spec = loads(raw, fmt, source=str(path))
    # The spec remembers the folder it came from, so a relative data path resolves against the spec file.
    spec._origin = path.resolve().parent
    return spec


def to_plain(spec: Spec) -> dict[str, Any]:
    """The spec as plain data in field order, defaults included, for dumping and hashing."""
    data = spec.model_dump(mode="json")
    return data


def dumps(spec: Spec, format: str = "yaml") -> str:
    """Serialise a spec; ``loads(dumps(spec)) == spec``."""
    data = to_plain(spec)
    if format == "json":
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if format == "yaml":
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    if format == "toml":
        return _toml_dumps(data)
    raise SpecFileError(f"unknown spec format {format!r}.", fix="Use yaml, toml or json.")


def dump(spec: Spec, path: str | os.PathLike[str]) -> Path:
    """Write a spec to ``path`` (format from the extension); refuses to overwrite a different existing file."""
    path = Path(path)
    fmt = _FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise SpecFileError(Problem("", "unknown spec file type.", fix="Use .yaml, .toml or .json.", file=str(path)))
    text = dumps(spec, fmt)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)  # atomic: a crash never leaves a half-written spec
    return path


def _toml_dumps(data: dict[str, Any]) -> str:
    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return repr(v)
        if isinstance(v, str):
            return json.dumps(v, ensure_ascii=False)
        if isinstance(v, (list, tuple)):
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, dict):  # a nested model (design.matching): an inline table
            return "{" + ", ".join(f"{json.dumps(k)} = {value(x)}" for k, x in v.items() if x is not None) + "}"
        raise TypeError(type(v))

    top, tables = [], []
    for key, v in data.items():
        if v is None:
            continue
        if isinstance(v, dict):
            body = "\n".join(f"{json.dumps(k)} = {value(x)}" for k, x in v.items() if x is not None)
            tables.append(f"[{key}]\n{body}\n")
        else:
            top.append(f"{json.dumps(key)} = {value(v)}")
    return "\n".join(top) + "\n\n" + "\n".join(tables)
