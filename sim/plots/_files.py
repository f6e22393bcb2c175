"""Plot files: the path is checked before any work, and the file is written atomically.

Rules (as for ``--out`` files, ``sim.report.output``):

1. ``check_plot_path`` runs before any trial: a bad suffix, a missing or unwritable
   directory is an ``OutputError`` (exit 2 from the CLI), found before minutes of simulation.
2. ``save`` renders the picture in memory, then writes it to a temporary file in the
   destination's directory and renames it over the destination only when complete; on any
   error the temporary file is removed and the destination is untouched. A reader never
   sees half a PNG, and a full disk's message says how many bytes were needed.
3. None of this imports matplotlib: a CLI can check a path, and say that the ``plot`` extra
   is missing, before it runs anything.
"""

from __future__ import annotations

import importlib.util
import io
import os
from pathlib import Path
from typing import Any

from sim.report.atomic import OutputError, check_writable, write_atomic

__all__ = ["PLOT_SUFFIXES", "check_plot_path", "require_matplotlib", "save"]

PLOT_SUFFIXES = (".png", ".svg", ".pdf")
INSTALL_HINT = "install the plot extra: pip install -e '.[plot]'"


def require_matplotlib(what: str = "sim.plots") -> None:
    """``OutputError`` saying how to install matplotlib when it is missing."""
    if importlib.util.find_spec("matplotlib") is None:
        raise OutputError(f"{what}: needs matplotlib, which is not installed; {INSTALL_HINT}")


def check_plot_path(path: str | os.PathLike[str], option: str = "--plot") -> Path:
    """``path`` as a ``Path`` if a plot can be written there, else ``OutputError`` saying why.

    ``option`` names the argument in the message (``--plot`` on the command line).
    """
    return check_writable(path, option, suffixes=PLOT_SUFFIXES, kind="picture")


def save(fig: Any, path: str | os.PathLike[str], *, dpi: int = 150,
         option: str = "plot file") -> Path:
    """Write ``fig`` (a matplotlib Figure) to ``path`` atomically; return the path.

    The picture type follows the suffix (.png, .svg or .pdf). A bad path raises
    ``OutputError`` before anything is rendered.
    """
    path = check_plot_path(path, option)
    picture = io.BytesIO()
    # bbox_inches="tight": labels at the figure edge are never cut off.
    fig.savefig(picture, format=path.suffix.lower().lstrip("."), dpi=dpi, bbox_inches="tight")
    write_atomic(path, picture.getvalue(), option)
    return path
