"""What every command shares: the bad-input exception, exit codes, argument checks."""

from __future__ import annotations

import argparse
import sys
from typing import Any, NoReturn

from sender.errors import UserError

__all__ = ["EXIT_BAD_INPUT", "EXIT_FAILED", "EXIT_INTERRUPTED", "EXIT_OK", "BadInput",
           "Parser", "check_count", "console", "progress_bar"]

EXIT_OK = 0
EXIT_FAILED = 1  # a check or expectation failed (not bad input)
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


class BadInput(UserError):
    """Raised for any user error; ``main`` prints it as one line and exits 2."""


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are ``BadInput`` (one message, exit 2)."""

    def error(self, message: str) -> NoReturn:
        raise BadInput(f"{self.prog}: {message}; see `{self.prog} --help`")


def check_count(name: str, value: int | None, low: int, high: int) -> None:
    """``BadInput`` unless ``value`` is None or within [low, high]."""
    if value is not None and not low <= value <= high:
        raise BadInput(f"--{name}: must be between {low} and {high:,}, got {value}")


def console(width: int = 160) -> Any:
    """A rich console for stdout. At a terminal, or with ``COLUMNS`` set, it takes that
    width (rich reads both); piped output is ``width`` wide, so long lines stay whole."""
    # why: lazy, so `rassim --help` and the other commands start without it
    import os

    from rich.console import Console

    fixed = sys.stdout.isatty() or os.environ.get("COLUMNS", "").isdigit()
    return Console(highlight=False, width=None if fixed else width)


def progress_bar(total: int) -> Any:
    """A rich progress bar on stderr for long runs at a terminal, else None."""
    if total < 2000 or not sys.stderr.isatty():
        return None
    # why: lazy, so `rassim --help` and the other commands start without it
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    return Progress("[progress.description]{task.description}", BarColumn(),
                    MofNCompleteColumn(), TimeRemainingColumn(),
                    console=Console(stderr=True), transient=True)
