"""The ``rassim`` command line (also ``python -m sim``).

Exit codes: 0 success, 1 a check failed, 2 bad input (one clear message, no traceback, no
output file), 130 interrupted. Anything else is a bug and shows its traceback. The
sub-commands live in ``sim.commands``, one module each.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

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
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    from sim.loader import ScenarioError
    from sim.output import OutputError

    # SIGTERM (a CI timeout, `kill`) stops a run like Ctrl-C does: cleanly, with the summary
    # of the completed trials and a complete output file, instead of dying mid-write.
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _interrupt)
    try:
        args = build_parser().parse_args(argv)
        code: int = args.handler(args)
        return code
    except (BadInput, ScenarioError, OutputError) as error:
        print(f"rassim: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("rassim: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader (e.g. `| head`) went away: not an error worth a traceback.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
