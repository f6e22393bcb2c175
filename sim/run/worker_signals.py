"""Worker processes leave Ctrl-C and SIGTERM to the process that runs them (``sim.run.executors``
rule 5).

A Ctrl-C in a terminal reaches every process of its group. A worker that took it would raise
``KeyboardInterrupt`` wherever it was, possibly holding the lock of the queue that carries
results back, and the whole pool would then wait for ever. Workers ignore both signals; the
caller stops the run between chunks and shuts the pool down.

``ignore_interrupts`` is the pool's initializer: it covers workers of any start method once
they run. Workers forked by the fork server ignore both signals from their first instruction
already (``sim.run.executors._start_fork_server``).
"""

from __future__ import annotations

import signal

__all__ = ["ignore_interrupts"]


def ignore_interrupts() -> None:
    """Ignore SIGINT and SIGTERM in this process (a worker, never the caller)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
