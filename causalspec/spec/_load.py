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

import copy
import json
import os
import re
import stat
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

from causalspec._files import Refusal, file_kind, read_regular
from causalspec.errors import CausalSpecError, Problem, SpecError, SpecFileError
from causalspec.spec._models import Spec, spec_error_from_validation
from pydantic import ValidationError
from causalspec.spec._text import MAX_SPEC_DEPTH, _parse

if sys.version_info >= (3, 11):
    pass
else:  # pragma: no cover - exercised on Python 3.10 only
    pass

__all__ = ["load", "loads", "dump", "dumps", "MAX_SPEC_BYTES", "MAX_SPEC_DEPTH"]

MAX_SPEC_BYTES = 2_000_000
_FORMATS = {".yaml": "yaml", ".yml": "yaml", ".toml": "toml", ".json": "json"}


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

    spec, problems, layer = _validate(data)
    if spec is not None:
        spec._source = source
        spec._lines = dict(lines or {})
        return spec
    # Validation stops at the first layer that fails: field types before the whole-spec checks, both before
    # the plan.  So that one run lists every problem, when fields are at fault they are left out (a list or a
    # union tag as a whole) and the rest validated again; what that finds beyond the fields left out is added,
    # and a spec that then validates is kept on the error for cs.check to plan.
    seen, partial, current, fresh = list(problems), None, data, list(problems)
    removed: list[str] = []
    for _ in range(3):  # fields, then whole-spec checks: each round can only reveal the next layer
        repaired = _without(current, fresh, removed)
        if repaired is None:
            break
        partial, more, _ = _validate(repaired)
        fresh = [p for p in more if not follows_from_removed(p, removed)]
        seen += fresh
        current = repaired
        if partial is not None or not fresh:
            break
    located = [p.located(source, _line_for(p.loc, lines or {})) if source is not None else p for p in seen]
    error = SpecError(located)
    if partial is not None:
        partial._source = source
        partial._lines = dict(lines or {})
    error.partial_spec = partial
    error.removed_fields = tuple(removed)
    raise error from None


def _validate(data: dict) -> "tuple[Spec | None, list[Problem], str]":
    try:
        return Spec.model_validate(data), [], ""
    except ValidationError as exc:
        return None, list(spec_error_from_validation(exc, Spec).problems), "fields"
    except SpecError as exc:  # raised by Spec.__init__ and the whole-spec checks
        return None, list(exc.problems), "spec"


def follows_from_removed(problem: Problem, removed: list[str]) -> bool:
    """Whether a problem found after leaving fields out is about those fields (not news to the user): it is in
    the same top-level field as one left out, or says a field is missing."""
    top = re.split(r"[.\[]", problem.loc, maxsplit=1)[0]
    return problem.code in ("missing", "union_tag_not_found") or any(
        top == re.split(r"[.\[]", r, maxsplit=1)[0] for r in removed)


_REQUIRED = frozenset({"name", "treatment", "outcome"})


def _without(data: dict, problems, removed: list[str]) -> "dict | None":
    """``data`` without the fields the problems point at (a list or a union's ``type`` is left out as a whole);
    None when one of them is required.  The paths left out are appended to ``removed``."""
    fixed = copy.deepcopy(data)
    before = len(removed)
    for p in problems:
        parts = [int(k) if k.isdigit() else k for k in re.findall(r"[^.\[\]]+", p.loc)]
        while parts and (isinstance(parts[-1], int) or parts[-1] == "type"):
            parts = parts[:-1]  # an item of a list, or a union's tag: leave the whole field out
        if not parts or parts[0] in _REQUIRED:
            return None
        node = fixed
        for k in parts[:-1]:
            node = node.get(k) if isinstance(node, dict) else None
        if isinstance(node, dict) and parts[-1] in node:
            del node[parts[-1]]
            removed.append(".".join(str(k) for k in parts))
    return fixed if len(removed) > before else None


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



def _read_regular(path: Path, limit: int) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes, or a located :class:`SpecFileError`."""
    where = str(path)
    try:
        return read_regular(path, limit)
    except Refusal as r:
        if r.reason == "missing":
            problem = Problem("", "no such file.", fix="Check the path.", file=where)
        elif r.reason == "folder":
            problem = Problem("", "this is a folder, not a spec file.", fix="Name a file.", file=where)
        elif r.reason == "special":
            problem = Problem("", f"this is {r.kind}, not a spec file.",
                              fix="Name a regular spec file (a pipe or device is never read).", file=where)
        elif r.reason == "too_large" and r.size is not None:
            problem = Problem("", f"the file is {r.size:,} bytes; a spec is at most {limit:,}.",
                              fix="Check that this is a spec file.", file=where)
        elif r.reason == "too_large":
            problem = Problem("", f"the file is more than {limit:,} bytes, the most a spec may have.",
                              fix="Check that this is a spec file.", file=where)
        else:
            problem = Problem("", f"cannot read the file: {r.strerror}.", fix="Check the path and its permissions.",
                              file=where)
        raise SpecFileError(problem) from None


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
        kind = file_kind(info.st_mode)
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
