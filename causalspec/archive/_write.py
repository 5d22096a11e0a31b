"""Publishing an archive without destroying anything: stage next to the target, then rename into place.

An archive is first written into a fresh private folder created beside the target (same filesystem, so the
final ``rename`` is atomic), and only then renamed to the target name.  A reader therefore sees either no
archive or a complete one, two concurrent writers cannot mix their files, and nothing is ever written
*through* an existing path: the staging folder is new, so it holds no symlinks.

What may be replaced (see docs/archive.md, "Writing"):

* a missing target, or an empty folder (``rename`` over an empty folder is atomic), always;
* with ``force``: a folder holding a ``manifest.json`` (an earlier archive), a symlink (the link itself is
  replaced; what it points to is never touched), and for ``.zip`` output a regular file.

Anything else -- a folder of someone's files, a regular file where a folder is wanted, a folder where a
``.zip`` is wanted -- is refused even with ``force``: ``force`` replaces an archive, never a user's files.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
import tempfile
import zipfile
from pathlib import Path

from causalspec.errors import ArchiveError, ArchiveExistsError, Problem

__all__ = ["target_path", "check_target", "staging_dir", "publish_dir", "publish_zip", "discard"]

# A fixed timestamp and mode for zip members, so that the same files always give the same zip bytes.
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
_FORCE_FIX = "Choose a new path, remove the existing one yourself, or pass --force (force=True) to replace it."


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def target_path(directory: "str | os.PathLike[str]") -> Path:
    """The target as an absolute path, without resolving a symlink at its last component."""
    return Path(os.path.abspath(os.fspath(directory)))


def _is_zip_target(target: Path) -> bool:
    return target.name.lower().endswith(".zip")


def _is_archive_folder(path: Path) -> bool:
    """A real folder (not a link) holding a ``manifest.json`` regular file: what causalspec wrote before."""
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode) and stat.S_ISREG(os.lstat(path / "manifest.json").st_mode)
    except OSError:
        return False


def _is_empty(folder: Path) -> bool:
    with os.scandir(folder) as it:
        return next(it, None) is None


def _exists(target: Path, message: str, fix: str = _FORCE_FIX) -> ArchiveExistsError:
    return ArchiveExistsError(Problem("", message, fix=fix, code="archive_exists", file=str(target)))


def check_target(directory: "str | os.PathLike[str]", *, force: bool = False) -> Path:
    """Raise :class:`ArchiveExistsError` unless an archive may be published at ``directory``.

    Called before the analysis runs (so a refused target costs nothing) and again, race-free, by the rename.
    """
    target = target_path(directory)
    try:
        st = os.lstat(target)
    except FileNotFoundError:
        return target
    except OSError as exc:
        raise ArchiveError(Problem("", f"cannot inspect the target: {exc.strerror}.",
                                   fix="Check the path and its permissions.", code="archive_target",
                                   file=str(target))) from None
    mode = st.st_mode
    if _is_zip_target(target):
        if stat.S_ISDIR(mode):
            raise _exists(target, "a folder exists where the .zip archive would be written; it is left alone.",
                          fix="Choose another .zip path, or remove the folder yourself.")
        if not force:
            raise _exists(target, "the file already exists and would be overwritten.")
        if not (stat.S_ISREG(mode) or stat.S_ISLNK(mode)):
            raise _exists(target, "the path exists and is not a regular file; it is left alone.",
                          fix="Choose another .zip path.")
        return target
    if stat.S_ISDIR(mode) and _is_empty(target):
        return target  # an empty folder: the rename replaces it atomically, nothing is lost
    if stat.S_ISLNK(mode):
        if force:
            return target
        raise _exists(target, "the path is a symbolic link; the archive is never written through a link.")
    if not stat.S_ISDIR(mode):
        raise _exists(target, "a file exists where the archive folder would be written; it is left alone "
                              "(--force replaces only an earlier archive).",
                      fix="Choose another path, or end it in .zip (with --force) to replace the file with a zip.")
    if not _is_archive_folder(target):
        raise _exists(target, "the folder exists, is not empty and is not a causalspec archive (no manifest.json); "
                              "it is left alone, even with --force.",
                      fix="Choose a new or empty folder for the archive.")
    if not force:
        raise _exists(target, "an archive already exists in this folder and would be replaced.")
    return target


def staging_dir(target: Path) -> Path:
    """A fresh folder beside ``target`` (same filesystem), readable as the umask allows."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    os.chmod(tmp, 0o777 & ~_umask())
    return tmp


def discard(path: Path) -> None:
    """Remove a staging folder or file (rmtree never follows symlinks inside it)."""
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    except FileNotFoundError:
        pass


def _aside(target: Path) -> Path:
    """A fresh name beside ``target`` to move an old archive or link to before replacing it."""
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent)
    os.close(fd)
    os.unlink(name)  # only the unique name is wanted; rename() below creates it
    return Path(name)


def publish_dir(staged: Path, directory: "str | os.PathLike[str]", *, force: bool = False) -> Path:
    """Rename the complete folder ``staged`` to ``directory``; see the module docstring for what is replaced."""
    target = check_target(directory, force=force)
    try:
        os.rename(staged, target)  # atomic; fails if a non-empty folder or a file is there
        return target
    except OSError as exc:
        if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR, errno.EISDIR):
            discard(staged)
            raise ArchiveError(Problem("", f"cannot move the archive into place: {exc.strerror}.",
                                       fix="Check the folder's permissions.", code="archive_target",
                                       file=str(target))) from None
    # Something is at the target.  Re-check it now (another writer may have published meanwhile).
    try:
        check_target(target, force=force)
    except ArchiveError:
        discard(staged)
        raise
    if not force:  # an empty folder was filled between the check and the rename: another writer won
        discard(staged)
        raise _exists(target, "another process wrote to this path while the archive was being written; "
                              "its files are left as they are.")
    old = _aside(target)
    os.rename(target, old)  # moves the old archive, or the link itself (never what it points to)
    try:
        os.rename(staged, target)
    except OSError as exc:
        try:
            os.rename(old, target)  # put the old archive back rather than leave nothing
        except OSError:
            pass
        discard(staged)
        raise _exists(target, f"another process wrote to this path while the archive was being replaced "
                              f"({exc.strerror}).", fix="Run again once the other writer has finished.") from None
    discard(old)
    return target


def publish_zip(staged: Path, directory: "str | os.PathLike[str]", *, force: bool = False) -> Path:
    """Zip the files of ``staged`` (flat, sorted, fixed timestamps) into a temporary file beside the target,
    then move it into place: without ``force`` by a hard link that fails if the name exists, with ``force``
    by ``os.replace`` (which replaces a symlink itself, not its target)."""
    target = check_target(directory, force=force)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as fh, zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(staged.iterdir()):
                info = zipfile.ZipInfo(path.name, date_time=_ZIP_DATE)
                info.external_attr = (stat.S_IFREG | 0o644) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, path.read_bytes())
        os.chmod(tmp, 0o666 & ~_umask())
        if force:
            check_target(target, force=True)
            os.replace(tmp, target)
            return target
        try:
            os.link(tmp, target)  # atomic "create if absent"
        except FileExistsError:
            raise _exists(target, "another process created this file while the archive was being written; "
                                  "it is left as it is.") from None
        except OSError:  # a filesystem without hard links: check, then replace (a narrow race remains)
            check_target(target, force=False)
            os.replace(tmp, target)
            return target
        tmp.unlink()
        return target
    finally:
        if tmp.exists():
            tmp.unlink()
