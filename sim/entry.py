"""The ``rassim`` console script: signal handlers first, then the command line.

``sim.cli`` imports the command modules, rich, pydantic and numpy (tens of milliseconds).
A Ctrl-C (or a CI's SIGTERM) in that window used to print a ``KeyboardInterrupt``
traceback from deep inside an import. Here the signals are recorded from the first line
of rassim's own code, the imports run, and a signal that came meanwhile exits 130 like any
other interruption. (Python's own start-up, before this module runs, stays outside it.)
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Sequence
from types import FrameType

__all__ = ["main"]

_EXIT_INTERRUPTED = 130


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``rassim`` with ``argv`` (default: the command line)."""
    pending: list[int] = []

    def defer(signum: int, frame: FrameType | None) -> None:
        pending.append(signum)  # acted on once the imports are done: never inside one

    caught = [sig for sig in (signal.SIGINT, signal.SIGTERM)
              if signal.getsignal(sig) is not signal.SIG_IGN]
    for sig in caught:
        signal.signal(sig, defer)
    try:
        # why: imported after the signal handlers are in place
        from sim import cli

        for sig in caught:  # from here on, a signal interrupts as everywhere in rassim
            signal.signal(sig, cli._interrupt)
        if pending:
            raise KeyboardInterrupt
        return cli.main(argv)
    except KeyboardInterrupt:
        print("rassim: interrupted", file=sys.stderr)
        return _EXIT_INTERRUPTED
