"""Verify an untrusted archive: check its files, re-run its spec on its data and re-derive what it shows.

The manifest is not a signature -- anyone can recompute it -- so it only catches accidental damage.  What
cannot be forged is re-derivation: the plan, results, tables and report text are computed again from the
archived spec and data and compared with the archived files.  See docs/archive.md ("verify") and
docs/security.md.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from causalspec import api
from causalspec._data import read_data
from causalspec.errors import ArchiveError, CausalSpecError, DataError, Problem
from causalspec.spec import dumps, loads
from causalspec.archive._core import (CORE_FILES, DATA_FILE, FIGURES, environment, figure_makers, rendered_text, sha256,
                    without_images)
from causalspec.archive._engine_data import reopen
from causalspec.archive._read import MAX_BYTES, MAX_FILES, Archive, parse_json, plain_name, read_archive

__all__ = ["VerifyReport", "verify", "check_manifest"]

_SHA256 = re.compile(r"[0-9a-f]{64}")
_KNOWN = frozenset(CORE_FILES) | {DATA_FILE} | {f"{n}.{e}" for n in FIGURES for e in ("png", "svg")}
_RECREATE = "Do not trust this archive: re-create it with causalspec run --archive."
_MAX_DEPTH = 64  # results.json is a few levels deep; deeper is hostile


@dataclass
class VerifyReport:
    """Outcome of :func:`verify`; ``exit_code`` 0 identical, 4 a re-derived file differs, 5 tampered, 6 data
    changed.  (1-3 are the CLI's usual error / usage / internal codes; an unsafe or malformed archive raises
    :class:`~causalspec.errors.ArchiveError`, which the CLI reports with exit code 5.)

    ``tampered`` names the files that fail the integrity checks, ``reasons`` says why for each;
    ``differences`` lists every re-derived value or file that differs from the archive."""

    tampered: list[str] = field(default_factory=list)
    data_changed: bool = False
    environment_changed: list[str] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)
    reasons: dict[str, str] = field(default_factory=dict)
    data_source: str = ""

    def _tamper(self, name: str, why: str) -> None:
        if name not in self.reasons:
            self.tampered.append(name)
            self.reasons[name] = why

    @property
    def exit_code(self) -> int:
        if self.tampered:
            return 5
        if self.data_changed:
            return 6
        return 4 if self.differences else 0


def _key(k: Any) -> str:
    return k if isinstance(k, str) and re.fullmatch(r"[A-Za-z0-9_]+", k) else repr(k)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 200 else text[:197] + "..."


def _compare(a: Any, b: Any, where: str, rtol: float, out: list[str], depth: int = 0) -> None:
    if depth > _MAX_DEPTH:
        out.append(f"{where}: nested more than {_MAX_DEPTH} levels deep")
    elif isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b), key=str):
            if k not in a or k not in b:
                out.append(f"{where}.{_key(k)}: present in only one")
            else:
                _compare(a[k], b[k], f"{where}.{_key(k)}", rtol, out, depth + 1)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            _compare(x, y, f"{where}[{i}]", rtol, out, depth + 1)
    elif isinstance(a, float) and isinstance(b, (int, float)) and not isinstance(b, bool):
        if math.isnan(a) or math.isnan(b) or math.isinf(a) or math.isinf(b):
            if not (math.isnan(a) and math.isnan(b)) and a != b:
                out.append(f"{where}: archived {a!r}, now {b!r}")
        elif abs(a - b) > rtol * max(abs(a), abs(b), 1e-300):
            out.append(f"{where}: archived {a!r}, now {b!r} (relative {abs(a - b) / max(abs(a), 1e-300):.3g})")
    elif a != b or isinstance(a, bool) is not isinstance(b, bool):  # True == 1 in Python; not here
        out.append(f"{where}: archived {_short(a)}, now {_short(b)}")


def _text_difference(name: str, archived: bytes, now: bytes) -> str | None:
    """None when equal, else where the first line differs (the lines shown escaped and cut short)."""
    if archived == now:
        return None
    old, new = archived.decode("utf-8", "replace").splitlines(), now.decode("utf-8", "replace").splitlines()
    for i, (x, y) in enumerate(zip(old, new), 1):
        if x != y:
            return f"{name}: line {i} is not what the archived spec and data produce: archived {_short(x)}, " \
                   f"re-rendered {_short(y)}"
    return f"{name}: has {len(old)} lines, the re-rendered file {len(new)}"


def check_manifest(arc: Archive, report: VerifyReport) -> dict[str, str]:
    """Parse manifest.json and record in ``report`` every missing, unlisted, unknown or changed file."""
    if "manifest.json" not in arc.files:
        raise ArchiveError(Problem("", "has no manifest.json, so it is not a causalspec archive (or it was "
                                   "removed).", fix=_RECREATE, code="archive_malformed", file=arc.label))
    manifest = parse_json(arc, "manifest.json")
    listed = manifest.get("files")
    where = os.path.join(arc.label, "manifest.json")
    if not isinstance(listed, dict) or not all(
            plain_name(n) and n != "manifest.json" and isinstance(d, str) and _SHA256.fullmatch(d)
            for n, d in listed.items()):
        raise ArchiveError(Problem("files", "must map each file name to its sha256 (64 hex digits).",
                                   fix=_RECREATE, code="archive_malformed", file=where))
    for name in sorted(set(listed) | set(arc.files)):
        if name == "manifest.json":
            continue
        if name not in _KNOWN:
            report._tamper(name, "is not a file causalspec writes" + (" (it is listed in manifest.json)"
                                                                      if name in listed else ""))
        elif name not in listed:
            report._tamper(name, "is in the archive but not listed in manifest.json")
        elif name not in arc.files:
            report._tamper(name, "is listed in manifest.json but missing")
        elif sha256(arc.files[name]) != listed[name]:
            report._tamper(name, "does not match its sha256 in manifest.json")
    for name in CORE_FILES:
        if name != "manifest.json" and name not in listed and name not in arc.files:
            report._tamper(name, "is missing: every archive holds it (docs/archive.md)")
    return listed


def _data_info(arc: Archive) -> dict:
    info = parse_json(arc, "data.json")
    where = os.path.join(arc.label, "data.json")
    types = {"source": str, "sha256": str, "rows": int, "columns": dict, "included": bool}
    for key, kind in types.items():
        value = info.get(key)
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            raise ArchiveError(Problem(key, f"must be a {kind.__name__}.", fix=_RECREATE, code="archive_malformed",
                                       file=where))
    if "engine" in info and (info["engine"] not in ("memory", "duckdb", "spark")
                             or not isinstance(info.get("origin"), str)):
        raise ArchiveError(Problem("engine", "must be memory, duckdb or spark, with the spec's folder as origin.",
                                   fix=_RECREATE, code="archive_malformed", file=where))
    if info["included"] and info.get("file") != DATA_FILE:
        raise ArchiveError(Problem("file", f"must be {DATA_FILE!r} when the data are included.", fix=_RECREATE,
                                   code="archive_malformed", file=where))
    if "path" in info and not isinstance(info["path"], str):
        raise ArchiveError(Problem("path", "must be a string.", fix=_RECREATE, code="archive_malformed", file=where))
    return info


def _spec(arc: Archive):
    where = os.path.join(arc.label, "spec.yaml")
    try:
        return loads(arc.files["spec.yaml"], "yaml", source=where)
    except CausalSpecError as exc:  # a spec that does not load is a malformed archive, located in it
        raise ArchiveError([p if p.file else replace(p, file=where) for p in exc.problems]) from None


def _read_data(arc: Archive, info: dict, data, tmp: Path):
    """(frame, source, label) of the data to re-run on: --data, else the archived copy, else the recorded source."""
    if data is not None:
        frame, source = read_data(Path(data), None, loc="--data")
        return frame, source, str(data)
    if info["included"]:
        copy = tmp / DATA_FILE  # the bytes already checked against the manifest, never the archive's path
        copy.write_bytes(arc.files[DATA_FILE])
        frame, source = read_data(copy, None, loc="data.json")
        return frame, source, f"{os.path.join(arc.label, DATA_FILE)} (included)"
    label = info["source"]
    if label.startswith("bundled:"):
        frame, source = read_data(label.split(":", 1)[1], None, loc="data.json")
        return frame, source, label
    if "path" not in info:
        raise DataError(Problem("data", f"the archive was made from {label!r} without --include-data, so there "
                                "is no data to re-run on.", fix="Pass the data: causalspec verify ARCHIVE --data PATH.",
                                code="archive_no_data", file=os.path.join(arc.label, "data.json")))
    frame, source = read_data(Path(info["path"]), None, loc="data.json path")
    return frame, source, info["path"]


def verify(directory: "str | os.PathLike[str]", *, data: "str | os.PathLike[str] | None" = None,
           rtol: float = 1e-10, max_files: int = MAX_FILES, max_bytes: int = MAX_BYTES) -> VerifyReport:
    """Check an archive (folder or .zip) and re-derive everything it shows.

    1. Reads every entry once, refusing symlinks, sub-folders, special files, unsafe zip members and archives
       beyond ``max_files`` entries or ``max_bytes`` bytes (:class:`~causalspec.errors.ArchiveError`).
    2. Checks manifest.json: every file listed and present, nothing unlisted, only file names causalspec
       writes, every core file there, hashes equal (``tampered``; exit code 5; nothing is re-run).
    3. Re-reads the data (``data``, else the archived data.csv, else the bundled set, else the recorded path)
       and compares its sha256 (``data_changed``; 6).
    4. Re-plans and re-fits the archived spec and compares plan.json, results.json (``rtol``) and data.json's
       rows and columns; re-renders the tables and report.html and compares them as text (embedded PNGs
       blanked); checks that the archive holds exactly the figures this result has (their bytes depend on the
       matplotlib version, so figures are checked by name and manifest hash only) (``differences``; 4, or 5
       for a missing or extra figure).

    Examples
    --------
    >>> import causalspec as cs
    >>> cs.verify("out/ab_test").exit_code                        # doctest: +SKIP
    0
    """
    arc = read_archive(directory, max_files=max_files, max_bytes=max_bytes)
    report = VerifyReport()
    listed = check_manifest(arc, report)
    if report.tampered:
        return report
    info = _data_info(arc)
    if info["included"] and DATA_FILE not in arc.files:
        report._tamper(DATA_FILE, "is missing: data.json says the data are included")
    elif not info["included"] and DATA_FILE in arc.files:
        report._tamper(DATA_FILE, "is in the archive but data.json says the data are not included")
    if report.tampered:
        return report
    results = parse_json(arc, "results.json")
    archived_plan = parse_json(arc, "plan.json")
    env = parse_json(arc, "environment.json")
    env.pop("parity", None)  # a record of the archiving machine's check, not part of the environment's identity
    _compare(env, environment(), "environment", 0.0, report.environment_changed)
    spec = _spec(arc)
    spec_text = arc.files["spec.yaml"]
    if dumps(spec, "yaml").encode() != spec_text:
        report.differences.append(_text_difference("spec.yaml", spec_text, dumps(spec, "yaml").encode())
                                  + " (causalspec writes the spec in its normal form)")
    if info.get("engine") and data is None:  # fingerprinted by the engine: re-read by it, never into Python
        frame, source, opened = reopen(spec, info)
        report.data_source = source.label
        columns = {c: opened.type_of(c) for c in opened.columns}
    else:
        with tempfile.TemporaryDirectory(prefix="causalspec-verify-") as tmp:
            frame, source, report.data_source = _read_data(arc, info, data, Path(tmp))
        columns = {str(c): str(t) for c, t in frame.dtypes.items()}
    if source.sha256 not in (info["sha256"], info.get("file_sha256")):
        report.data_changed = True
    plan = api.plan(spec)
    result = api.fit(plan, frame)
    if isinstance(frame, pd.DataFrame):
        result = api.robustness(result, frame)
    _compare(archived_plan, json.loads(plan.to_json()), "plan", rtol, report.differences)
    now = json.loads(json.dumps(result.to_dict(), allow_nan=True))
    results.pop("data", None), now.pop("data", None)  # the data's label, which --data changes
    # the writing version is part of the environment (compared above), not of the numbers; archives written
    # before the field existed have none
    results.pop("version", None), now.pop("version", None)
    _compare(results, now, "results", rtol, report.differences)
    _compare({"rows": info["rows"], "columns": info["columns"]},
             {"rows": source.rows, "columns": columns},
             "data.json", 0.0, report.differences)
    makers = figure_makers(spec, plan, result)
    expected = {f"{n}.{e}" for n in makers for e in ("png", "svg")}
    present = {n for n in listed if n.endswith((".png", ".svg"))}
    for name in sorted(expected - present):
        report._tamper(name, "is missing: this result has this figure")
    for name in sorted(present - expected):
        report._tamper(name, "is not a figure this result has")
    for name, content in rendered_text(spec, plan, result, b"\x89PNG" if "dag" in makers else None).items():
        archived = arc.files[name]
        if name == "report.html":
            archived, content = without_images(archived), without_images(content)
        line = _text_difference(name, archived, content)
        if line:
            report.differences.append(line)
    return report
