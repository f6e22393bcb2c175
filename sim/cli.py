"""The ``rassim`` command line (also ``python -m sim``).

Exit codes: 0 success, 1 a check failed, 2 bad input (one clear message, no traceback, no
output file), 130 interrupted. Anything else is a bug and shows its traceback. The
sub-commands live in ``sim.commands``, one module each.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType
from typing import Any

from sender.errors import UserError
from sim import __version__
from sim.commands import COMMANDS
from sim.commands.common import (
    EXIT_BAD_INPUT,
    EXIT_INTERRUPTED,
    EXIT_OK,
    BadInput,
    Parser,
)

__all__ = ["BadInput", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="rassim", description=(
        "Simulate RAS sender retry logic over slow, racy links (KB Q221951, error 53)."))
    parser.add_argument("--version", action="version", version=f"rassim {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for name in COMMANDS:
        module_name = f"sim.commands.{name}"
        if importlib.util.find_spec(module_name) is not None:
            importlib.import_module(module_name).register(commands)
    return parser


def _interrupt(signum: int, frame: FrameType | None) -> None:
    """SIGINT and SIGTERM raise ``KeyboardInterrupt`` where the code is (a run takes it
    between chunks, ``sim.run.interrupts``), but never in the middle of an import.

    Commands import lazily, and an exception raised into an import comes out mangled:
    inside a class's ``__set_name__`` hook as a ``RuntimeError`` (a traceback, exit 1), and
    inside source text run by ``exec`` (dataclasses and named tuples build their methods
    so) CPython 3.11 counts it as unhandled even once caught, so the process dies by SIGINT
    instead of exiting with 130. So while an import is running, the signal is taken again
    a moment later, when it is done.
    """
    caller = frame
    while caller is not None:
        name = caller.f_code.co_filename
        if name == "<string>" or name.startswith("<frozen importlib"):
            threading.Timer(0.01, os.kill, (os.getpid(), signum)).start()
            return
        caller = caller.f_back
    raise KeyboardInterrupt


def _take_interrupts() -> dict[int, Any]:
    """Route SIGINT and SIGTERM (Ctrl-C, a CI time-out, ``kill``) to ``_interrupt``: either
    stops a command cleanly, with the summary of the completed trials and a complete output
    file. A signal the process ignores stays ignored (a shell's background job ignores
    SIGINT). Returns the handlers to restore."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    return {sig: signal.signal(sig, _interrupt) for sig in (signal.SIGINT, signal.SIGTERM)
            if signal.getsignal(sig) is not signal.SIG_IGN}


def main(argv: Sequence[str] | None = None) -> int:
    previous: dict[int, Any] = {}
    try:  # from the first step: a signal at any point is an interruption, never a traceback
        previous = _take_interrupts()
        return _command(argv)
    except KeyboardInterrupt:
        print("rassim: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _command(argv: Sequence[str] | None) -> int:
    try:
        args = build_parser().parse_args(argv)
        code: int = args.handler(args)
        return code
    except UserError as error:  # the one place bad input becomes a line and exit 2
        print(f"rassim: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:
        # The reader (e.g. `| head`) went away: not an error worth a traceback.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
