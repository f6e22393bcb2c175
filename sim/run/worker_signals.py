"""Worker processes leave Ctrl-C and SIGTERM to the process that runs them (``sim.run.executors``
rule 5), and never outlive it.

A Ctrl-C in a terminal reaches every process of its group. A worker that took it would raise
``KeyboardInterrupt`` wherever it was, possibly holding the lock of the queue that carries
results back, and the whole pool would then wait for ever. Workers ignore both signals; the
caller stops the run between chunks and shuts the pool down.

``ignore_interrupts`` is the pool's initializer: it covers workers of any start method once
they run. Workers forked by the fork server ignore both signals from their first instruction
already (``sim.run.executors._start_fork_server``).

Since workers and the fork server ignore SIGINT and SIGTERM, a caller killed outright
(``kill -9``, the OOM killer, a CI job's hard time-out) would leave them running for ever,
blocked on a queue whose other end is gone. So they watch it:

* a worker starts a daemon thread that waits for the caller's exit (a Linux pidfd, else a
  poll once a second) and then ends the worker with ``os._exit``: a worker holds no state
  worth saving, its chunk's result has no reader any more;
* the fork server (which must stay single-threaded: it forks) asks Linux to kill it when
  its parent, the caller, dies (``prctl(PR_SET_PDEATHSIG)``), when the caller's main thread
  started it and says so in ``RASSIM_FORKSERVER_PARENT`` (``PDEATHSIG`` fires when the
  *thread* that started the process ends, so only the main thread may ask for it);
* the resource tracker exits by itself once every process holding its pipe has gone.
"""

from __future__ import annotations

import ctypes
import os
import select
import signal
import sys
import threading
import time

__all__ = ["FORKSERVER_PARENT", "ignore_interrupts", "watch_parent_of_fork_server"]

#: Set (to the caller's pid) only while the caller's main thread starts the fork server.
FORKSERVER_PARENT = "RASSIM_FORKSERVER_PARENT"
_PR_SET_PDEATHSIG = 1


def ignore_interrupts(caller: int | None = None) -> None:
    """Ignore SIGINT and SIGTERM in this process (a worker, never the caller), and end it
    when process ``caller`` (the run's own process) has gone."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if caller is not None and caller != os.getpid():
        threading.Thread(target=_exit_after, args=(caller,), name="rassim-parent-watch",
                         daemon=True).start()


def _exit_after(pid: int) -> None:
    """Block until process ``pid`` has exited, then end this process at once."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        os._exit(1)  # gone already
    except (AttributeError, OSError):  # not Linux >= 5.3: poll
        while _alive(pid):
            time.sleep(1.0)
        os._exit(1)
    select.select([fd], [], [])  # readable once the process has exited
    os._exit(1)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - exists, owned by another user (pid reuse)
        return False
    return True


def watch_parent_of_fork_server() -> None:
    """In the fork server: die with the caller (see the module docstring). A no-op anywhere
    else, and where Linux's ``prctl`` is not available."""
    parent = os.environ.pop(FORKSERVER_PARENT, None)
    if parent is None or not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # pragma: no cover - no libc prctl
        return
    if os.getppid() != int(parent):  # the caller died before the prctl took effect
        os._exit(1)


watch_parent_of_fork_server()  # the fork server preloads this module (sim.run.executors)
