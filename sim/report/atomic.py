"""Output files that are never half-written, and the path checks that run before any work.

Rules:

1. Every file rassim writes (``--out`` rows, sweep tables, JUnit reports, pictures, found
   scenarios) goes to a temporary file in the destination's own directory and is renamed
   over the destination only when complete (``os.replace`` is atomic within a directory).
   On any error, Ctrl-C included, the temporary file is removed and the destination is
   untouched.
2. The published file gets the permissions a plain ``open()`` would give (``mkstemp``
   creates 0600).
3. ``check_writable`` runs before any trial: a bad path is bad input (exit 2), found before
   minutes of simulation are wasted. It creates (and removes) a temporary file beside the
   destination, so a name too long, a directory that accepts no files (``/proc``) or a
   read-only file system is found then too, and it removes stale temporary files that a
   killed run (``kill -9``) left for the same destination.
4. An operating-system error while writing (a full disk above all) is an ``OutputError``
   saying what happened and how many bytes were being written, never a traceback.
5. Temporary files are named ``.<name>.<pid>.<random>.tmp``: the pid says whose they are,
   so only those of processes that no longer run are removed as stale.
6. Whatever can be rendered in memory first (tables, reports, pictures) is, and then written
   with ``write_atomic``: a full disk then says exactly how many bytes were needed.
"""

from __future__ import annotations

import errno
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sender.errors import UserError

__all__ = ["OutputError", "atomic_path", "check_writable", "os_error", "publish",
           "temp_beside", "write_atomic"]


class OutputError(UserError):
    """An output path that cannot be written; the message says why and what to do."""


def check_writable(path: str | os.PathLike[str], option: str, *,
                   suffixes: tuple[str, ...] | None = None, kind: str = "file") -> Path:
    """``path`` as a Path, or ``OutputError`` naming ``option`` and the fix.

    ``suffixes`` (lower case, with the dot) restricts the file type; ``kind`` names it in
    messages ("picture", "file").
    """
    path = Path(path)
    try:
        return _check_writable(path, option, suffixes, kind)
    except OSError as error:  # a name too long, a symlink loop... (rule 3)
        raise OutputError(f"{option} {os_error(error, path)}") from None


def os_error(error: OSError, path: Path, size: int | None = None) -> str:
    """One line for an operating-system error on ``path`` (rule 4), with the fix."""
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        where = path.parent if str(path.parent) else Path(".")
        needed = f" ({size:,} bytes needed)" if size else ""
        return f"{path}: no space left on the device of {where}{needed}; free some space"
    if error.errno == errno.ENAMETOOLONG:
        return f"{path}: file name too long; choose a shorter name"
    return (f"{path}: cannot write: {error.strerror or error}; choose another path")


def _check_writable(path: Path, option: str, suffixes: tuple[str, ...] | None,
                    kind: str) -> Path:
    endings = ""
    if suffixes:
        endings = (" or ".join(suffixes) if len(suffixes) <= 2
                   else "one of " + ", ".join(suffixes))
    if suffixes is not None and path.suffix.lower() not in suffixes:
        raise OutputError(f"{option} {path}: unknown {kind} type {path.suffix or '(none)'!r}; "
                          f"end the name in {endings}")
    if path.is_dir():
        raise OutputError(f"{option} {path}: is a directory; give a file name"
                          + (f" ending in {endings}" if endings else ""))
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise OutputError(f"{option} {path}: directory {parent} does not exist; create it first")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"{option} {path}: directory {parent} is not writable; "
                          "choose another path")
    if path.exists() and not os.access(path, os.W_OK):
        raise OutputError(f"{option} {path}: file exists and is not writable")
    _remove_stale(path)
    temp_beside(path).unlink()  # the directory accepts this file's temporary (rule 3)
    return path


_TEMP = re.compile(r"^\.(?P<name>.+)\.(?P<pid>[0-9]+)\.[A-Za-z0-9_]+\.[A-Za-z0-9_.]*tmp$")


def _remove_stale(path: Path) -> None:
    """Remove temporary files for ``path`` left by processes that no longer run (rule 5)."""
    parent = path.parent if str(path.parent) else Path(".")
    for candidate in parent.glob(f".{glob_escape(path.name)}.*tmp"):
        match = _TEMP.match(candidate.name)
        if match is None or match.group("name") != path.name:
            continue
        pid = int(match.group("pid"))
        if pid != os.getpid() and not _running(pid):
            candidate.unlink(missing_ok=True)


def glob_escape(name: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", name)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def temp_beside(path: Path, suffix: str = ".tmp") -> Path:
    """A new, empty temporary file in ``path``'s directory (rule 1)."""
    parent = path.parent if str(path.parent) else Path(".")
    handle, name = tempfile.mkstemp(dir=parent, prefix=f".{path.name}.{os.getpid()}.",
                                    suffix=suffix)
    os.close(handle)
    return Path(name)


def publish(tmp: Path, path: Path) -> None:
    """Give ``tmp`` normal permissions and rename it over ``path`` (rules 1 and 2)."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    os.replace(tmp, path)


@contextmanager
def atomic_path(path: Path, suffix: str = ".tmp", *, option: str | None = None,
                size: int | None = None) -> Iterator[Path]:
    """Yield a temporary path to write; publish it over ``path`` if the block succeeds.

    ``option`` (``--out``...) starts an error's message; ``size``, when the caller knows
    it, is the byte count a full disk's message gives (else what was written so far).
    """
    prefix = f"{option} " if option else ""
    try:
        tmp = temp_beside(path, suffix)
    except OSError as error:
        raise OutputError(prefix + os_error(error, path, size)) from None
    try:
        yield tmp
        publish(tmp, path)
    except OSError as error:  # a full disk above all (rule 4)
        raise OutputError(prefix + os_error(error, path, size or _size(tmp))) from None
    finally:
        tmp.unlink(missing_ok=True)


def write_atomic(path: Path, data: bytes, option: str | None = None) -> None:
    """Write ``data`` to ``path`` through ``atomic_path`` (rules 1, 4 and 6)."""
    with atomic_path(path, option=option, size=len(data)) as tmp:
        tmp.write_bytes(data)


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size or None
    except OSError:
        return None
