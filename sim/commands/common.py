"""What every command shares: the bad-input exception, exit codes, argument checks."""

from __future__ import annotations

import argparse
from typing import NoReturn

__all__ = ["EXIT_BAD_INPUT", "EXIT_FAILED", "EXIT_INTERRUPTED", "EXIT_OK", "BadInput",
           "Parser", "check_count"]

EXIT_OK = 0
EXIT_FAILED = 1  # a check or expectation failed (not bad input)
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


class BadInput(Exception):
    """Raised for any user error; ``main`` prints it as one line and exits 2."""


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are ``BadInput`` (one message, exit 2)."""

    def error(self, message: str) -> NoReturn:
        raise BadInput(f"{self.prog}: {message}; see `{self.prog} --help`")


def check_count(name: str, value: int | None, low: int, high: int) -> None:
    """``BadInput`` unless ``value`` is None or within [low, high]."""
    if value is not None and not low <= value <= high:
        raise BadInput(f"--{name}: must be between {low} and {high:,}, got {value}")
