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
   minutes of simulation are wasted.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sender.errors import UserError

__all__ = ["OutputError", "atomic_path", "check_writable", "publish", "temp_beside"]


class OutputError(UserError):
    """An output path that cannot be written; the message says why and what to do."""


def check_writable(path: str | os.PathLike[str], option: str, *,
                   suffixes: tuple[str, ...] | None = None, kind: str = "file") -> Path:
    """``path`` as a Path, or ``OutputError`` naming ``option`` and the fix.

    ``suffixes`` (lower case, with the dot) restricts the file type; ``kind`` names it in
    messages ("picture", "file").
    """
    path = Path(path)
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
    return path


def temp_beside(path: Path, suffix: str = ".tmp") -> Path:
    """A new, empty temporary file in ``path``'s directory (rule 1)."""
    parent = path.parent if str(path.parent) else Path(".")
    handle, name = tempfile.mkstemp(dir=parent, prefix=f".{path.name}.", suffix=suffix)
    os.close(handle)
    return Path(name)


def publish(tmp: Path, path: Path) -> None:
    """Give ``tmp`` normal permissions and rename it over ``path`` (rules 1 and 2)."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    os.replace(tmp, path)


@contextmanager
def atomic_path(path: Path, suffix: str = ".tmp") -> Iterator[Path]:
    """Yield a temporary path to write; publish it over ``path`` if the block succeeds."""
    tmp = temp_beside(path, suffix)
    try:
        yield tmp
        publish(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
