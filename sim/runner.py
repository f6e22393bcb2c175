"""Monte Carlo runs: many trials, in chunks, on one or several processes.

Rules:

1. Trial i depends only on (scenario, policy, seed, i) (``sim.trial``). Chunks are fixed
   ranges of trial indices and summaries merge exactly (``sim.summary`` rule 1), so the
   numbers are identical for any worker count and any completion order.
2. Rows, when wanted, reach the sink in trial order.
3. Memory is bounded: a chunk's rows are dropped once written, and the summary does not
   grow with the trial count.
4. Ctrl-C stops at a chunk boundary: the result holds the completed chunks (a contiguous
   prefix of trials, so it is reproducible) and says it was interrupted.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from sender.policy import RetryPolicy
from sim.results import TrialResult
from sim.scenario import Scenario
from sim.summary import Summary
from sim.trial import run_trial

__all__ = ["CHUNK", "RunResult", "default_workers", "run_trials"]

CHUNK = 500


@dataclass(slots=True)
class RunResult:
    summary: Summary
    requested: int
    interrupted: bool
    elapsed: float


def default_workers(trials: int) -> int:
    """All cores for runs big enough to repay process start-up; one otherwise."""
    return max(1, min(os.cpu_count() or 1, trials // (4 * CHUNK)))


def _run_chunk(scenario: Scenario, policy: RetryPolicy, seed: int, start: int, stop: int,
               keep_rows: bool) -> tuple[Summary, list[TrialResult]]:
    summary = Summary()
    rows: list[TrialResult] = []
    for trial in range(start, stop):
        result = run_trial(scenario, policy, seed, trial)
        summary.add(result)
        if keep_rows:
            rows.append(result)
    return summary, rows


def run_trials(scenario: Scenario, policy: RetryPolicy, *, trials: int, seed: int,
               workers: int = 1,
               on_rows: Callable[[list[TrialResult]], None] | None = None,
               on_progress: Callable[[int], None] | None = None) -> RunResult:
    """Run trials 0..trials-1 and return their summary (see the module rules)."""
    began = time.perf_counter()
    summary = Summary()
    keep = on_rows is not None
    ranges = [(i, min(i + CHUNK, trials)) for i in range(0, trials, CHUNK)]
    interrupted = False

    def consume(chunks: Iterator[tuple[Summary, list[TrialResult]]]) -> None:
        for (start, stop), (chunk_summary, rows) in zip(ranges, chunks, strict=False):
            summary.merge(chunk_summary)
            if on_rows is not None:
                on_rows(rows)
            if on_progress is not None:
                on_progress(stop - start)

    try:
        if workers <= 1 or len(ranges) == 1:
            consume(_run_chunk(scenario, policy, seed, a, b, keep) for a, b in ranges)
        else:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                futures = [pool.submit(_run_chunk, scenario, policy, seed, a, b, keep)
                           for a, b in ranges]
                try:
                    consume(f.result() for f in futures)
                except BaseException:
                    for future in futures:
                        future.cancel()
                    raise
    except KeyboardInterrupt:
        interrupted = True
    return RunResult(summary, trials, interrupted, time.perf_counter() - began)
