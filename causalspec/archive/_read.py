"""Reading an untrusted archive (a folder or a .zip) into memory, safely and within stated limits.

Nothing is extracted to disk and nothing is followed: every entry must be a regular file with a plain name
(no folder, no ``/``, ``\\``, ``..``, absolute or drive-letter name), never a symlink, FIFO, device or
sub-folder; a zip member that is a symlink, encrypted, or would decompress beyond the limits is refused.
The limits are keyword parameters of :func:`read_archive` (and of ``verify``/``unpack``):

* ``max_files`` (default :data:`MAX_FILES`): entries in the archive.  causalspec writes at most ~25.
* ``max_bytes`` (default :data:`MAX_BYTES`): total size of the files, counted as bytes are actually read or
  decompressed (a zip's declared sizes are checked first but not trusted).
"""

from __future__ import annotations

import json
import os
import re
import stat
import zipfile
import zlib
from dataclasses import dataclass
from typing import Any

from causalspec.errors import ArchiveError, ArchiveNotFoundError, Problem

__all__ = ["MAX_FILES", "MAX_BYTES", "Archive", "read_archive", "plain_name", "parse_json"]

#: Most entries an archive may hold (causalspec writes at most about 25).
MAX_FILES = 200
#: Most bytes the files of an archive may hold in total, decompressed (an included data.csv is most of it).
MAX_BYTES = 1024 ** 3

_CHUNK = 1 << 20
_BAD_NAME = re.compile(r"[/\\\x00-\x1f:]")
_RECREATE = "Do not trust this archive: re-create it with causalspec run --archive."


@dataclass(frozen=True)
class Archive:
    """The files of an archive, read once: ``files`` maps each plain file name to its bytes."""

    label: str
    files: dict[str, bytes]


def plain_name(name: Any) -> bool:
    """A flat file name causalspec could have written: no separators, control characters, ``..`` or drive."""
    return (isinstance(name, str) and 0 < len(name) <= 255 and name not in (".", "..")
            and not _BAD_NAME.search(name))


def _err(label: str, name: str, message: str, code: str, fix: str = _RECREATE) -> ArchiveError:
    """An error located at the archive file ``name`` (shown as ``label/name``; an unsafe name is quoted)."""
    if name and plain_name(name):
        return ArchiveError(Problem("", message, fix=fix, code=code, file=os.path.join(label, name)))
    if name:
        message = f"entry {name!r}: {message}"
    return ArchiveError(Problem("", message, fix=fix, code=code, file=label))


def _too_large(label: str, max_bytes: int) -> ArchiveError:
    return _err(label, "", f"the archive holds more than {max_bytes} bytes (max_bytes).", "archive_too_large",
                fix="If you trust it, raise the limit: verify(..., max_bytes=N); otherwise do not use it.")


def read_archive(path: "str | os.PathLike[str]", *, max_files: int = MAX_FILES,
                 max_bytes: int = MAX_BYTES) -> Archive:
    """Read an archive folder or zip; raise :class:`ArchiveError` (located, with a fix) if it is unsafe."""
    label = os.fspath(path)
    try:
        st = os.stat(label)  # the path the user typed may be a link; entries inside may not
    except FileNotFoundError:
        raise ArchiveNotFoundError(Problem("", "no such file or folder.", code="archive_not_found", file=label,
                                           fix="Give the folder or .zip that causalspec run --archive wrote.")) from None
    except OSError as exc:
        raise _err(label, "", f"cannot read: {exc.strerror}.", "archive_unreadable", fix="Check the permissions.")
    if stat.S_ISDIR(st.st_mode):
        return _read_folder(label, max_files, max_bytes)
    if stat.S_ISREG(st.st_mode):
        return _read_zip(label, max_files, max_bytes)
    raise _err(label, "", "is neither a folder nor a regular file.", "archive_not_regular",
               fix="Give the folder or .zip that causalspec run --archive wrote.")


def _read_folder(label: str, max_files: int, max_bytes: int) -> Archive:
    files: dict[str, bytes] = {}
    budget = max_bytes
    with os.scandir(label) as it:
        entries = []
        for entry in it:
            entries.append(entry)
            if len(entries) > max_files:
                raise _err(label, "", f"the archive holds more than {max_files} entries (max_files).",
                           "archive_too_many_files")
    for entry in sorted(entries, key=lambda e: e.name):
        where = entry.name
        if not plain_name(entry.name):
            raise _err(label, where, "a name causalspec never writes.", "archive_bad_name")
        kind = _kind(entry.stat(follow_symlinks=False).st_mode)
        if kind:
            raise _err(label, where, f"is {kind}; an archive holds only regular files.", "archive_not_regular")
        try:
            # O_NOFOLLOW: the entry cannot become a link between the check and the read; O_NONBLOCK: nor a FIFO.
            fd = os.open(os.path.join(label, entry.name),
                         os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
        except OSError as exc:
            raise _err(label, where, f"cannot be read: {exc.strerror}.", "archive_not_regular") from None
        with os.fdopen(fd, "rb") as fh:
            kind = _kind(os.fstat(fd).st_mode)
            if kind:
                raise _err(label, where, f"is {kind}; an archive holds only regular files.", "archive_not_regular")
            data = fh.read(budget + 1)
        budget -= len(data)
        if budget < 0:
            raise _too_large(label, max_bytes)
        files[entry.name] = data
    return Archive(label, files)


def _kind(mode: int) -> str | None:
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "a special file (FIFO, socket or device)"


def _read_zip(label: str, max_files: int, max_bytes: int) -> Archive:
    try:
        zf = zipfile.ZipFile(label)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, OSError) as exc:
        raise _err(label, "", f"is a file but not a readable zip archive ({exc}).", "archive_not_zip",
                   fix="Give the archive folder, or the .zip that causalspec run --archive wrote.") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > max_files:
            raise _err(label, "", f"the zip holds {len(infos)} members, more than {max_files} (max_files).",
                       "archive_too_many_files")
        if sum(i.file_size for i in infos) > max_bytes:
            raise _too_large(label, max_bytes)
        files: dict[str, bytes] = {}
        budget = max_bytes
        for info in infos:
            name = info.filename
            if not plain_name(name):
                outside = name.startswith(("/", "\\")) or ".." in re.split(r"[/\\]", name) or ":" in name
                what = "would be written outside the archive folder" if outside else "is not a plain file name"
                raise _err(label, name, f"the zip member {what}; causalspec writes only flat names.",
                           "archive_zip_unsafe", fix="Do not use this zip: it was not written by causalspec.")
            mode = info.external_attr >> 16
            if info.create_system == 3 and stat.S_IFMT(mode) and not stat.S_ISREG(mode):
                raise _err(label, name, f"the zip member is {_kind(mode)}; an archive holds only regular files.",
                           "archive_zip_unsafe", fix="Do not use this zip: it was not written by causalspec.")
            if info.flag_bits & 0x1:
                raise _err(label, name, "the zip member is encrypted.", "archive_zip_unsafe")
            if name in files:
                raise _err(label, name, "the zip holds two members of this name.", "archive_zip_unsafe")
            chunks = []
            try:
                with zf.open(info) as fh:
                    while True:
                        chunk = fh.read(min(_CHUNK, budget + 1))
                        if not chunk:
                            break
                        budget -= len(chunk)
                        if budget < 0:
                            raise _too_large(label, max_bytes)
                        chunks.append(chunk)
            except ArchiveError:
                raise
            except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, ValueError,
                    OSError) as exc:
                raise _err(label, name, f"the zip member cannot be read ({exc}).", "archive_not_zip") from None
            files[name] = b"".join(chunks)
    return Archive(label, files)


def parse_json(archive: Archive, name: str, kind: type = dict) -> Any:
    """The JSON file ``name`` of the archive, which must be a ``kind`` (a mapping by default)."""
    raw = archive.files[name]
    try:
        value = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise _err(archive.label, name, "is not UTF-8 text.", "archive_malformed") from None
    except json.JSONDecodeError as exc:
        raise _err(archive.label, name, f"is not valid JSON ({exc.msg}, line {exc.lineno}).",
                   "archive_malformed") from None
    except RecursionError:
        raise _err(archive.label, name, "is nested too deeply.", "archive_malformed") from None
    if not isinstance(value, kind):
        raise _err(archive.label, name, f"must hold a JSON {'object' if kind is dict else kind.__name__}, "
                                        f"not {type(value).__name__}.", "archive_malformed")
    return value
