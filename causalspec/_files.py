"""Reading an untrusted path: a regular file only, of bounded size, opened without blocking.

Spec files and data files are read through :func:`read_regular`; each caller turns a :class:`Refusal` into
its own located error (``SpecFileError``, ``DataError``).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Refusal", "file_kind", "read_regular"]


@dataclass
class Refusal(Exception):
    """Why a path was not read: ``missing``, ``folder``, ``unreadable``, ``special`` (kind in words) or
    ``too_large`` (``size`` is the declared size, or None when more than the limit was read)."""

    reason: str
    kind: str = ""
    size: int | None = None
    strerror: str = ""


def file_kind(mode: int) -> str | None:
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


def read_regular(path: Path, limit: int, *, chunk: int = 1 << 20) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes.

    Opened without blocking and checked on the opened descriptor (``fstat``): a FIFO, a device or a symlink
    to one is refused before any read, a file swapped after a check is still the one checked, and
    ``st_size`` is not trusted (at most ``limit + 1`` bytes are read).
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) \
        | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise Refusal("missing") from None
    except IsADirectoryError:
        raise Refusal("folder", "a folder") from None
    except OSError as exc:
        raise Refusal("unreadable", strerror=exc.strerror or str(exc)) from None
    try:
        info = os.fstat(fd)
        kind = file_kind(info.st_mode)
        if kind is not None:
            raise Refusal("folder" if kind == "a folder" else "special", kind)
        if info.st_size > limit:
            raise Refusal("too_large", size=info.st_size)
        chunks, total = [], 0
        while total <= limit:
            got = os.read(fd, min(chunk, limit + 1 - total))
            if not got:
                break
            chunks.append(got)
            total += len(got)
        if total > limit:
            raise Refusal("too_large")
        return b"".join(chunks)
    except OSError as exc:
        raise Refusal("unreadable", strerror=exc.strerror or str(exc)) from None
    finally:
        os.close(fd)
