"""Read spec files (YAML, TOML, JSON) as untrusted text, and write them back.

Loading parses text only.  YAML goes through a safe loader that also refuses
aliases (no "billion laughs") and every tag that constructs an object; nothing
in a file is imported, evaluated or executed.  While parsing, the position of
every key is recorded so that each validation problem can name ``file:line``.

A spec is untrusted (it arrives in a pull request), so reading is bounded and
unambiguous: a key given twice in one mapping is refused (YAML and JSON would
silently keep the last value, so a reviewer reads one treatment and the planner
uses another; TOML refuses them itself), nesting deeper than
``MAX_SPEC_DEPTH`` is refused before a recursive parser sees it, and only a
regular file of at most ``MAX_SPEC_BYTES`` is read (a FIFO or device is never
opened for a blocking read).
"""

from __future__ import annotations

import bisect
import json
import os
import re
import stat
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

from ..errors import CausalSpecError, Problem, SpecError, SpecFileError
from ._models import Spec, spec_error_from_validation

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

__all__ = ["load", "loads", "dump", "dumps", "MAX_SPEC_BYTES", "MAX_SPEC_DEPTH"]

MAX_SPEC_BYTES = 2_000_000
# A spec is four or five levels deep; the parsers recurse once per level, so bound it far below the stack.
MAX_SPEC_DEPTH = 64
_FORMATS = {".yaml": "yaml", ".yml": "yaml", ".toml": "toml", ".json": "json"}


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
            at = text.index(b"\x00")
            raise SpecFileError(Problem("", f"the file is binary (it contains a NUL byte at byte {at}), not a spec.",
                                        fix="Point causalspec at a YAML, TOML or JSON spec file.", file=source,
                                        line=text.count(b"\n", 0, at) + 1))
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise SpecFileError(Problem("", f"the file is not UTF-8 text (invalid byte 0x{text[exc.start]:02x} at "
                                            f"byte {exc.start}).",
                                        fix="Save the spec as UTF-8.", file=source,
                                        line=text.count(b"\n", 0, exc.start) + 1)) from None
    if not isinstance(text, str):
        raise SpecFileError(Problem("", f"a spec is text, not {type(text).__name__}.", fix="Pass str or bytes.",
                                    file=source))
    if len(text) > MAX_SPEC_BYTES:
        raise SpecFileError(Problem("", "the text is too large for a spec.", fix="Check the input.", file=source))
    if "\x00" in text:
        at = text.index("\x00")
        raise SpecFileError(Problem("", "the text contains a NUL character, which no spec has.",
                                    fix="Remove it; point causalspec at a YAML, TOML or JSON spec file.",
                                    file=source, line=text.count("\n", 0, at) + 1))
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
    raw = _read_regular(path, MAX_SPEC_BYTES)
    spec = loads(raw, fmt, source=str(path))
    # The spec remembers the folder it came from, so a relative data path resolves against the spec file.
    spec._origin = path.resolve().parent
    return spec


def _file_kind(mode: int) -> str | None:
    """What a non-regular file is, in words; None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _read_regular(path: Path, limit: int) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes, or a located :class:`SpecFileError`.

    The file is opened without blocking and checked on the opened descriptor (``fstat``), so a FIFO,
    a device or a symlink to one is refused before any read, and a file swapped after a check is
    still the one checked.  At most ``limit + 1`` bytes are read: ``st_size`` is not trusted.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) \
        | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    where = str(path)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise SpecFileError(Problem("", "no such file.", fix="Check the path.", file=where)) from None
    except IsADirectoryError:
        raise SpecFileError(Problem("", "this is a folder, not a spec file.", fix="Name a file.",
                                    file=where)) from None
    except OSError as exc:
        raise SpecFileError(Problem("", f"cannot open the file: {exc.strerror}.",
                                    fix="Check the path and its permissions.", file=where)) from None
    try:
        info = os.fstat(fd)
        kind = _file_kind(info.st_mode)
        if kind is not None:
            fix = "Name a file." if kind == "a folder" else "Name a regular spec file (a pipe or device is never read)."
            raise SpecFileError(Problem("", f"this is {kind}, not a spec file.", fix=fix, file=where))
        if info.st_size > limit:
            raise SpecFileError(Problem("", f"the file is {info.st_size:,} bytes; a spec is at most {limit:,}.",
                                        fix="Check that this is a spec file.", file=where))
        chunks, total = [], 0
        while total <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > limit:
            raise SpecFileError(Problem("", f"the file is more than {limit:,} bytes, the most a spec may have.",
                                        fix="Check that this is a spec file.", file=where))
        return b"".join(chunks)
    except OSError as exc:
        raise SpecFileError(Problem("", f"cannot read the file: {exc.strerror}.", fix="Check permissions.",
                                    file=where)) from None
    finally:
        os.close(fd)


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


def dump(spec: Spec, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """Write a spec to ``path`` (format from the extension), atomically.

    An existing file at ``path`` is replaced only when it is the file the spec was loaded from, or
    when ``overwrite=True``; anything that is not a regular file (a folder, a pipe, a device) is never
    replaced.  The text goes to a uniquely named temporary file in the same folder, which then
    replaces ``path`` in one step (``os.replace``), so a crash never leaves a half-written spec and no
    other file (such as ``path.tmp``) is touched.  A symlink at ``path`` keeps pointing where it did:
    its target is replaced.

    Raises
    ------
    SpecFileError
        Unknown extension, an existing different file without ``overwrite=True``, a non-regular file,
        or a folder that cannot be written.

    Examples
    --------
    >>> import causalspec as cs
    >>> spec = cs.load("specs/feature_adoption.yaml")  # doctest: +SKIP
    >>> cs.dump(spec, "specs/feature_adoption.yaml")   # its own source: replaced  # doctest: +SKIP
    >>> cs.dump(spec, "other.yaml", overwrite=True)     # doctest: +SKIP
    """
    path = Path(path)
    fmt = _FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise SpecFileError(Problem("", "unknown spec file type.", fix="Use .yaml, .toml or .json.", file=str(path)))
    target = path.resolve() if path.is_symlink() else path
    mode = None
    try:
        info = os.stat(target)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise SpecFileError(Problem("", f"cannot check the file: {exc.strerror}.", fix="Check the path.",
                                    file=str(path))) from None
    if info is not None:
        kind = _file_kind(info.st_mode)
        if kind is not None:
            raise SpecFileError(Problem("", f"this is {kind}; a spec is never written over it.",
                                        fix="Name a new or existing regular file.", file=str(path)))
        if not overwrite and not _is_source(spec, target):
            raise SpecFileError(Problem("", "the file exists and is not the file this spec was loaded from.",
                                        fix="Pass overwrite=True to replace it, or choose another name.",
                                        file=str(path)))
        mode = stat.S_IMODE(info.st_mode)
    text = dumps(spec, fmt)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise SpecFileError(Problem("", f"cannot write in the folder: {exc.strerror}.",
                                    fix="Check that the folder exists and is writable.", file=str(path))) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, mode if mode is not None else 0o666 & ~_umask())
        os.replace(tmp, target)  # atomic: a crash never leaves a half-written spec
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise SpecFileError(Problem("", f"cannot write the file: {exc.strerror}.",
                                        fix="Check the folder's permissions and free space.", file=str(path))) from None
        raise
    return path


def _is_source(spec: Spec, path: Path) -> bool:
    """True when ``path`` is the very file ``spec`` was loaded from."""
    source = getattr(spec, "_source", None)
    if not source:
        return False
    try:
        return os.path.samefile(source, path)
    except OSError:
        return False


def _umask() -> int:
    mask = os.umask(0o022)  # read the process umask (there is no getter): set it and put it back
    os.umask(mask)
    return mask


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
