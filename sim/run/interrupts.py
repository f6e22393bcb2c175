"""Ctrl-C and SIGTERM between units of work, never in the middle of one.

A signal handler that raises ``KeyboardInterrupt`` can fire between any two bytecodes, for
example after a chunk's summary was merged but before its rows were written, leaving a
summary and an output file that disagree. Code that folds a finished unit of work into the
results runs inside ``deferred_interrupts()``: a signal arriving there is held and raised
as ``KeyboardInterrupt`` when the block ends, so every unit is taken whole or not at all.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

__all__ = ["deferred_interrupts"]

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def deferred_interrupts() -> Iterator[None]:
    """Hold SIGINT/SIGTERM during the block; raise ``KeyboardInterrupt`` after it if any came."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signals are only ever delivered to the main thread
        return
    received: list[int] = []

    def hold(signum: int, frame: FrameType | None) -> None:
        received.append(signum)

    # A signal the process ignores stays ignored: a shell starts background jobs with
    # SIGINT ignored, so that Ctrl-C at the prompt leaves them running.
    previous = {sig: signal.signal(sig, hold) for sig in _SIGNALS
                if signal.getsignal(sig) is not signal.SIG_IGN}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if received:
        raise KeyboardInterrupt
