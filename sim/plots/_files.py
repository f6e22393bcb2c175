"""Plot files: the path is checked before any work, and the file is written atomically.

Rules (as for ``--out`` files, ``sim.output``):

1. ``check_plot_path`` runs before any trial: a bad suffix, a missing or unwritable
   directory is an ``OutputError`` (exit 2 from the CLI), found before minutes of simulation.
2. ``save`` renders into a temporary file in the destination's directory and renames it over
   the destination only when complete; on any error the temporary file is removed and the
   destination is untouched. A reader never sees half a PNG.
3. None of this imports matplotlib: a CLI can check a path, and say that the ``plot`` extra
   is missing, before it runs anything.
"""

from __future__ import annotations

import importlib.util
import os
import tempfile
from pathlib import Path
from typing import Any

from sim.output import OutputError

__all__ = ["PLOT_SUFFIXES", "check_plot_path", "require_matplotlib", "save"]

PLOT_SUFFIXES = (".png", ".svg", ".pdf")
INSTALL_HINT = "install the plot extra: pip install 'rassim[plot]'"


def require_matplotlib(what: str = "sim.plots") -> None:
    """``OutputError`` saying how to install matplotlib when it is missing."""
    if importlib.util.find_spec("matplotlib") is None:
        raise OutputError(f"{what}: needs matplotlib, which is not installed; {INSTALL_HINT}")


def check_plot_path(path: str | os.PathLike[str], option: str = "--plot") -> Path:
    """``path`` as a ``Path`` if a plot can be written there, else ``OutputError`` saying why.

    ``option`` names the argument in the message (``--plot`` on the command line).
    """
    path = Path(path)
    suffixes = ", ".join(PLOT_SUFFIXES)
    if path.suffix.lower() not in PLOT_SUFFIXES:
        raise OutputError(f"{option} {path}: unknown picture type {path.suffix or '(none)'!r}; "
                          f"end the name in one of {suffixes}")
    if path.is_dir():
        raise OutputError(f"{option} {path}: is a directory; give a file name ending in "
                          f"one of {suffixes}")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise OutputError(f"{option} {path}: directory {parent} does not exist; create it first")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"{option} {path}: directory {parent} is not writable; "
                          "choose another path")
    if path.exists() and not os.access(path, os.W_OK):
        raise OutputError(f"{option} {path}: file exists and is not writable")
    return path


def save(fig: Any, path: str | os.PathLike[str], *, dpi: int = 150,
         option: str = "plot file") -> Path:
    """Write ``fig`` (a matplotlib Figure) to ``path`` atomically; return the path.

    The picture type follows the suffix (.png, .svg or .pdf). A bad path raises
    ``OutputError`` before anything is rendered.
    """
    path = check_plot_path(path, option)
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    tmp = Path(name)
    try:
        fig.savefig(tmp, format=path.suffix.lower().lstrip("."), dpi=dpi)
        # mkstemp creates 0600; give the file the permissions a plain open() would have.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
