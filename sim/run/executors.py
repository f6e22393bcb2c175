"""Where chunk jobs run: in this process, in local worker processes, or on a Dask cluster.

Rules:

1. A job is a module-level function and a tuple of picklable arguments (for rassim: a
   scenario, policies, a seed and a trial range). Jobs are pure, so *where* a job runs never
   changes what it returns; that is what lets 1 worker, N workers and a Dask cluster give
   bit-identical results (``sim.run.runner`` rule 1).
2. ``Executor.map`` yields results in submission order, whatever order jobs finish in. Callers
   merge results in that order, so even order-sensitive consumers (row sinks) are stable.
3. When the consumer stops early (an exception, Ctrl-C, or simply closing the generator), jobs
   not yet started are cancelled. An executor is a context manager; ``close`` releases its
   processes or its cluster connection and is idempotent.
4. Heavy machinery starts lazily: a ``LocalExecutor`` starts its process pool on the first
   ``map`` that has more than one job, and keeps it for later calls (adaptive sweeps and tune
   races call ``map`` many times). ``distributed`` is imported only by ``DaskExecutor``.

5. Interrupts belong to the calling process, and reach it only between results.
   ``concurrent.futures`` cannot survive a ``KeyboardInterrupt`` raised inside its own
   locking: a lock taken and never released leaves ``shutdown`` waiting for ever. So the
   local pool is started, waited on, cancelled and shut down inside
   ``sim.run.interrupts.deferred_interrupts``: a Ctrl-C there waits for the chunk in hand (a
   fraction of a second). Worker processes ignore SIGINT and SIGTERM (``sim.run.worker_signals``:
   a terminal's Ctrl-C reaches the whole process group), from their start where they are
   forked by a fork server (``_start_fork_server``), and finish the chunk they have. They
   and the fork server exit on their own when this process is killed outright
   (``sim.run.worker_signals``): a ``kill -9`` leaves nothing running.

Worker processes start with ``forkserver`` where the platform has it: forking a parent that
already runs threads (a Dask client, rich's progress refresh, SQLAlchemy's pool under Optuna)
can deadlock a child on a lock held at fork time.
"""

from __future__ import annotations

import ast
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import nullcontext
from multiprocessing import forkserver, resource_tracker
from types import TracebackType
from typing import Any, Protocol, TypeVar

from sender.errors import UserError
from sim.run.interrupts import deferred_interrupts
from sim.run.worker_signals import FORKSERVER_PARENT, ignore_interrupts

__all__ = ["DaskExecutor", "Executor", "ExecutorError", "LocalExecutor", "main_reimport_problem",
           "open_executor"]

R = TypeVar("R")


class ExecutorError(UserError):
    """An executor cannot be set up (no ``distributed``, scheduler unreachable...)."""


class Executor(Protocol):
    """Runs jobs somewhere and hands their results back in submission order."""

    @property
    def workers(self) -> int:
        """How many jobs can run at once (used to size chunks, never to change results)."""
        ...

    def describe(self) -> str:
        """A short phrase for output footers, e.g. ``"2 local worker processes"``."""
        ...

    def map(self, fn: Callable[..., R], jobs: Sequence[tuple[Any, ...]]) -> Iterator[R]:
        """``fn(*job)`` for every job, yielded in the order of ``jobs``."""
        ...

    def close(self) -> None:
        ...

    def __enter__(self) -> Executor: ...

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None: ...


class _Closing:
    def close(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def __enter__(self: Any) -> Any:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()


def _context() -> Any:
    methods = multiprocessing.get_all_start_methods()
    if "forkserver" in methods:
        context = multiprocessing.get_context("forkserver")
        # Preloading the runner in the fork server means each worker starts with simpy,
        # numpy and pydantic already imported, instead of importing them per worker.
        # worker_signals first: the server asks to die with this process before anything
        # else (sim.run.worker_signals).
        context.set_forkserver_preload(["sim.run.worker_signals", "sim.run.runner"])
        _start_fork_server()
        return context
    return multiprocessing.get_context()


def _start_fork_server() -> None:
    """Start the fork server, if it is not running, with SIGINT and SIGTERM ignored (rule 5).

    An ignored signal stays ignored across ``exec``, so the server ignores them from its
    first instruction, through the preload (an import that a Ctrl-C would kill it in), and
    so does every worker it forks. The start takes a few milliseconds; a signal to this
    process during them is lost.
    """
    if threading.current_thread() is not threading.main_thread():
        return  # signal handlers belong to the main thread; the initializer still runs
    # why: whatever the start would import or start besides the fork server, done first,
    # keeps the window short: a signal that comes while it is ignored here is lost.
    import subprocess  # noqa: F401 - used by the start

    resource_tracker.ensure_running()
    taken = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
    # The server reads this once and asks to die with this process (worker_signals).
    os.environ[FORKSERVER_PARENT] = str(os.getpid())
    try:
        forkserver.ensure_running()
    finally:
        os.environ.pop(FORKSERVER_PARENT, None)
        for sig, handler in taken.items():
            signal.signal(sig, handler)


class LocalExecutor(_Closing):
    """In this process for one worker; a ``ProcessPoolExecutor`` of ``workers`` otherwise."""

    def __init__(self, workers: int | None = None) -> None:
        count = (os.cpu_count() or 1) if workers is None else workers
        if count < 1:
            raise ValueError(f"workers must be at least 1, got {count}")
        self._workers = count
        self._pool: ProcessPoolExecutor | None = None

    @property
    def workers(self) -> int:
        return self._workers

    def describe(self) -> str:
        return ("1 process (in-process)" if self._workers == 1
                else f"{self._workers} local worker processes")

    def map(self, fn: Callable[..., R], jobs: Sequence[tuple[Any, ...]]) -> Iterator[R]:
        if self._workers > 1 and len(jobs) > 1 and self._pool is None:
            problem = main_reimport_problem()
            if problem is not None:  # results are the same in one process (determinism)
                _warn_once(f"rassim: running the trials in this process, on one core: "
                           f"{problem}")
                self._workers = 1
        if self._workers == 1 or len(jobs) <= 1:
            return (fn(*job) for job in jobs)
        # Starting the pool and submitting the jobs is one unit (``sim.run.interrupts``): a
        # Ctrl-C in the middle could leave workers that are still booting without the
        # pool's queues, and they would die with a traceback after this process exits.
        # Held until the end, it finds the pool whole, and ``close`` waits for them.
        with deferred_interrupts():
            if self._pool is None:
                self._pool = ProcessPoolExecutor(max_workers=self._workers,
                                                 mp_context=_context(),
                                                 initializer=ignore_interrupts,
                                                 initargs=(os.getpid(),))
            futures = [self._pool.submit(fn, *job) for job in jobs]
        return _in_order(futures, lambda f: f.cancel(), between_results=True)

    def close(self) -> None:
        if self._pool is not None:
            with deferred_interrupts():  # rule 5
                self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


_warned: set[str] = set()


def _warn_once(message: str) -> None:
    if message not in _warned:
        _warned.add(message)
        print(message, file=sys.stderr, flush=True)


def main_reimport_problem() -> str | None:
    """Why worker processes could not start from this program, or None if they can.

    A ``forkserver`` or ``spawn`` worker re-imports the main script (multiprocessing's
    "safe importing of main module"). A script read from stdin cannot be re-imported, and
    one without an ``if __name__ == "__main__":`` guard would run its own code again in the
    worker, which then dies and breaks the pool (``BrokenProcessPool``). Interactive
    sessions, notebooks, ``python -c`` and packages' ``__main__`` modules are not
    re-imported, so they are fine; so is a script whose top level has the guard.
    """
    main = sys.modules.get("__main__")
    name = getattr(getattr(main, "__spec__", None), "name", None)
    if name is not None and (name == "__main__" or name.endswith(".__main__")):
        return None  # multiprocessing skips these
    path = getattr(main, "__file__", None)
    if path is None:
        return None  # interactive, a notebook, python -c: nothing is re-imported
    try:
        with open(path, encoding="utf-8") as handle:
            source = handle.read()
    except (OSError, UnicodeDecodeError):
        return (f"the main script ({path}) is not a file that worker processes can "
                "re-import; save it to a file and put its code under "
                "`if __name__ == \"__main__\":` to use every core")
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None  # not ours to judge; it ran, so let multiprocessing try
    if any(_is_main_guard(node) for node in tree.body):
        return None
    return (f"{path} has no `if __name__ == \"__main__\":` guard, so worker processes "
            "would run it again; put the script's code under one to use every core")


def _is_main_guard(node: Any) -> bool:
    if not isinstance(node, ast.If) or not isinstance(node.test, ast.Compare):
        return False
    sides = [node.test.left, *node.test.comparators]
    return (any(isinstance(s, ast.Name) and s.id == "__name__" for s in sides)
            and any(isinstance(s, ast.Constant) and s.value == "__main__" for s in sides))


def _in_order(futures: Sequence[Any], cancel: Callable[[Any], object], *,
              between_results: bool = False) -> Iterator[Any]:
    """The futures' results in order; the rest cancelled when the consumer stops (rule 3).
    ``between_results``: a Ctrl-C waits for the result in hand (rule 5)."""
    guard = deferred_interrupts if between_results else nullcontext
    done = 0
    try:
        for future in futures:
            with guard():
                result = future.result()
            yield result
            done += 1
    finally:
        # Runs on normal exhaustion (nothing left), on an error and on generator close.
        with guard():
            for future in futures[done:]:
                cancel(future)


class DaskExecutor(_Closing):
    """Jobs run as tasks on the Dask distributed scheduler at ``address``.

    Workers need the same rassim (and numpy) version as this process: results are bit for
    bit the same only if the code is. ``address`` is anything ``distributed.Client``
    accepts, e.g. ``tcp://10.0.0.5:8786`` or a ``LocalCluster``'s ``scheduler_address``.
    """

    def __init__(self, address: str, *, timeout: float = 10.0) -> None:
        try:
            # why: dask is the optional cluster extra; only --dask needs it
            from distributed import Client
        except ImportError:
            raise ExecutorError(
                "--dask needs dask.distributed; install it with pip install -e '.[cluster]'"
            ) from None
        self.address = address
        try:
            self._client: Any = Client(  # type: ignore[no-untyped-call]  # dask ships no stubs
                address, timeout=timeout, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as error:
            raise ExecutorError(
                f"--dask {address}: cannot reach a Dask scheduler there ({error}); start one "
                "with `dask scheduler` or check the address"
            ) from None

    @property
    def workers(self) -> int:
        return max(1, int(sum(self._client.nthreads().values())))

    def describe(self) -> str:
        return f"Dask at {self.address} ({self.workers} worker threads)"

    def map(self, fn: Callable[..., R], jobs: Sequence[tuple[Any, ...]]) -> Iterator[R]:
        # pure=False: the tasks are pure, but letting Dask hash multi-kilobyte scenarios to
        # deduplicate them costs more than it saves; each job is distinct anyway.
        futures = [self._client.submit(fn, *job, pure=False) for job in jobs]
        return _in_order(futures, lambda f: f.cancel())

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


def open_executor(workers: int | None = None, dask: str | None = None) -> Executor:
    """A ``DaskExecutor`` when ``dask`` is an address, else a ``LocalExecutor(workers)``."""
    if dask is not None:
        return DaskExecutor(dask)
    return LocalExecutor(workers)
