"""Spec text to plain data, refusing what a reviewer could not see: duplicate keys, YAML merge keys, tags and alias bombs, nesting deeper than MAX_SPEC_DEPTH; with the line of every key for error locations."""

from __future__ import annotations

import sys

import bisect
import json
import re
from typing import Any

import yaml

from causalspec.errors import Problem, SpecFileError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib


# A spec is four or five levels deep; the parsers recurse once per level, so bound it far below the stack.
MAX_SPEC_DEPTH = 64


class _StrictSafeLoader(yaml.SafeLoader):
    """PyYAML's SafeLoader without aliases, merge keys or duplicate keys, and with bounded nesting.

    Aliases enable alias bombs ("billion laughs") and a spec never needs them; a duplicate key
    would silently keep the last value.
    """

    _depth = 0

    def compose_node(self, parent, index):  # noqa: D401 - PyYAML hook
        if self.check_event(yaml.AliasEvent):
            event = self.get_event()
            raise _Refused(event.start_mark.line + 1, "YAML aliases (*name) are not allowed in a spec.",
                           "Write the value out in full.")
        # PyYAML composes recursively: refuse deep nesting before it becomes a RecursionError
        self._depth += 1
        try:
            if self._depth > MAX_SPEC_DEPTH:
                mark = self.peek_event().start_mark
                raise _Refused(mark.line + 1, f"the YAML is nested more than {MAX_SPEC_DEPTH} levels deep.",
                               "A spec is a few levels deep: check that this is a spec file.")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            first: dict[Any, int] = {}
            for key_node, _value in node.value:
                line = key_node.start_mark.line + 1
                if key_node.tag == "tag:yaml.org,2002:merge":
                    raise _Refused(line, "YAML merge keys (<<) are not allowed in a spec.",
                                   "Write the keys out in full.")
                key = self.construct_object(key_node, deep=True)
                try:
                    seen = key in first
                except TypeError:  # an unhashable key: PyYAML's own error names it
                    continue
                if seen:
                    raise _Refused(line, f"the key {key!r} is given twice in one mapping (first at line "
                                         f"{first[key]}); YAML would silently keep the last value.",
                                   "Remove one of the two, so the file says one thing.")
                first[key] = line
        return super().construct_mapping(node, deep)

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


class _Lines:
    """1-based line of a character offset, in O(log n) (a 2 MB file may have many keys)."""

    def __init__(self, text: str):
        self.breaks = [m.start() for m in re.finditer("\n", text)]

    def __call__(self, pos: int) -> int:
        return bisect.bisect_left(self.breaks, pos) + 1


def _check_json(text: str) -> None:
    """Refuse JSON nested deeper than MAX_SPEC_DEPTH or with a key twice in one object, naming the line.

    One linear, non-recursive pass (json.loads recurses per level and keeps the last duplicate silently).
    Syntax errors are left to json.loads.
    """
    stack: list[dict[str, int] | None] = []  # one entry per open {...} (its keys) or [...] (None)
    i, n, _line_at = 0, len(text), _Lines(text)
    while i < n:
        ch = text[i]
        if ch == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            token = text[i:j + 1]
            i = j + 1
            k = i
            while k < n and text[k] in " \t\r\n":
                k += 1
            if k < n and text[k] == ":" and stack and stack[-1] is not None:
                try:
                    key = json.loads(token)
                except ValueError:
                    key = token
                line = _line_at(i)
                if key in stack[-1]:
                    raise _Refused(line, f"the key {key!r} is given twice in one object (first at line "
                                         f"{stack[-1][key]}); JSON readers would silently keep the last value.",
                                   "Remove one of the two, so the file says one thing.")
                stack[-1][key] = line
            continue
        if ch in "{[":
            stack.append({} if ch == "{" else None)
            if len(stack) > MAX_SPEC_DEPTH:
                raise _Refused(_line_at(i), f"the JSON is nested more than {MAX_SPEC_DEPTH} levels deep.",
                               "A spec is a few levels deep: check that this is a spec file.")
        elif ch in "}]" and stack:
            stack.pop()
        i += 1


def _check_toml_depth(text: str) -> None:
    """Refuse TOML arrays / inline tables nested deeper than MAX_SPEC_DEPTH (tomllib recurses per level)."""
    depth, i, n = 0, 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "#":
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        if ch in "\"'":
            quote = text[i:i + 3] if text.startswith(ch * 3, i) else ch
            j = i + len(quote)
            while j < n and not text.startswith(quote, j):
                if ch == '"' and text[j] == "\\":
                    j += 1
                elif len(quote) == 1 and text[j] == "\n":  # unterminated: tomllib reports it
                    break
                j += 1
            i = j + len(quote)
            continue
        if ch in "[{":
            depth += 1
            if depth > MAX_SPEC_DEPTH:
                raise _Refused(_Lines(text)(i), f"the TOML is nested more than {MAX_SPEC_DEPTH} levels deep.",
                               "A spec is a few levels deep: check that this is a spec file.")
        elif ch in "]}":
            depth = max(depth - 1, 0)
        i += 1


def _toml_error_line(text: str, message: str) -> int | None:
    found = re.search(r"line (\d+)", message)
    if found:
        return int(found.group(1))
    if "end of document" in message:
        return text.rstrip().count("\n") + 1
    return None


def _parse(text: str, fmt: str, source: str) -> tuple[Any, dict[str, int]]:
    try:
        if fmt == "yaml":
            data = yaml.load(text, Loader=_StrictSafeLoader)  # noqa: S506 - strict safe loader
            return data, _yaml_lines(text)
        if fmt == "json":
            _check_json(text)
            data = json.loads(text)
            return data, _yaml_lines(text)  # JSON is YAML: the same walk gives its lines
        _check_toml_depth(text)
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
        duplicate = "overwrite" in str(exc) or "twice" in str(exc) or "Duplicate" in str(exc)
        what = f"a key or table is defined twice ({exc})" if duplicate else str(exc)
        fix = "Remove one of the two definitions." if duplicate else "Fix the syntax at that line."
        raise SpecFileError(Problem("", f"not valid TOML: {what}.", fix=fix, file=source,
                                    line=_toml_error_line(text, str(exc)))) from None
    except (yaml.YAMLError, RecursionError, ValueError) as exc:
        if "integer string conversion" in str(exc):  # CPython's bound on int("9" * 5000)
            raise SpecFileError(Problem("", "a number in the file has more than 4,300 digits.",
                                        fix="Check that this is a spec file.", file=source)) from None
        raise SpecFileError(Problem("", f"cannot parse the file as {fmt.upper()}: {exc}.",
                                    fix="Check that it is a spec file.", file=source)) from None
