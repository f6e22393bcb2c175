"""Monte Carlo runs: many trials, in chunks, on one or several processes or a Dask cluster.

Rules:

1. Trial i depends only on (scenario, policy, seed, i) (``sim.trial.trial``). Chunks are ranges of
   trial indices and every accumulator merges exactly (``sim.stats.summary`` rule 1,
   ``sim.stats.paired`` rule 1), so the numbers are identical for any worker count, any chunk
   size, any executor (``sim.run.executors``) and any completion order.
2. Rows, when wanted, reach the sink in trial order.
3. Memory is bounded: a chunk's rows are dropped once written, the summary does not grow
   with the trial count, and a batch keeps one bit per trial only until the chunk's pairs
   are counted.
4. Ctrl-C stops at a chunk boundary: the result holds the completed chunks (a contiguous
   prefix of trials, so it is reproducible) and says it was interrupted. In a multi-policy
   batch a chunk counts as complete only when every policy has run it, so all policies
   always cover the same trials and stay paired.

``run_trials`` runs one policy (``rassim run``). ``run_batch`` runs several policies on the
same trial indices (``rassim sweep`` and ``rassim tune``) and counts each policy's paired
outcomes against a baseline.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from sender.policy import RetryPolicy
from sim.run.executors import Executor, LocalExecutor
from sim.run.interrupts import deferred_interrupts
from sim.scenario.schema import Scenario
from sim.stats.paired import PairCounts, PairedMean
from sim.stats.policy_metrics import Tally
from sim.stats.summary import Summary
from sim.trial.results import TrialResult
from sim.trial.trial import run_trial, summary_row

__all__ = ["CHUNK", "MIN_CHUNK", "BatchResult", "ChunkOutcome", "RunResult", "chunk_ranges",
           "chunk_trials", "default_workers", "run_batch", "run_chunk", "run_trials", "trial_cost"]

CHUNK = 500
#: The smallest chunk a batch is split into to keep workers busy: below this, pickling the
#: scenario and the round trip to a worker cost more than the trials.
MIN_CHUNK = 50


@dataclass(slots=True)
class RunResult:
    summary: Summary
    requested: int
    interrupted: bool
    elapsed: float


def trial_cost(scenario: Scenario) -> int:
    """What one trial costs, in lone-sender trials: a fleet trial runs every sender's
    procedure in one world, and its cost grows linearly with them
    (``benchmarks/fleet_scaling.py``)."""
    return scenario.fleet.senders if scenario.fleet is not None else 1


def default_workers(trials: int, cost: int = 1) -> int:
    """All cores for runs big enough to repay process start-up; one otherwise. ``cost`` is
    ``trial_cost``: a 2,000-trial run of 20-sender fleets is 40,000 trials' work."""
    return max(1, min(os.cpu_count() or 1, trials * cost // (4 * CHUNK)))


def chunk_trials(cost: int = 1) -> int:
    """Trials per chunk: ``CHUNK`` lone-sender trials' worth of work, so that fleet runs
    split into enough chunks to keep every worker busy (summaries merge exactly, so the
    chunking never changes a number)."""
    return max(1, CHUNK // max(1, cost))


def _run_chunk(scenario: Scenario, policy: RetryPolicy, seed: int, start: int, stop: int,
               keep_rows: bool) -> tuple[Summary, list[TrialResult]]:
    summary = Summary()
    rows: list[TrialResult] = []
    if keep_rows:
        for trial in range(start, stop):
            result = run_trial(scenario, policy, seed, trial)
            summary.add(result)
            rows.append(result)
    else:
        add = summary.add
        for trial in range(start, stop):
            add(summary_row(scenario, policy, seed, trial))
    return summary, rows


def run_trials(scenario: Scenario, policy: RetryPolicy, *, trials: int, seed: int,
               workers: int = 1,
               on_rows: Callable[[list[TrialResult]], None] | None = None,
               on_progress: Callable[[int], None] | None = None,
               executor: Executor | None = None) -> RunResult:
    """Run trials 0..trials-1 and return their summary (see the module rules).

    ``executor``, when given, runs the chunks (and ``workers`` is ignored); it is left open.
    Otherwise a ``LocalExecutor(workers)`` is used and closed.
    """
    began = time.perf_counter()
    summary = Summary()
    keep = on_rows is not None
    size = chunk_trials(trial_cost(scenario))
    ranges = [(i, min(i + size, trials)) for i in range(0, trials, size)]
    interrupted = False
    own = executor is None
    runner = LocalExecutor(max(1, workers)) if executor is None else executor
    try:
        jobs = [(scenario, policy, seed, a, b, keep) for a, b in ranges]
        chunks = runner.map(_run_chunk, jobs)
        try:
            for (start, stop), (chunk_summary, rows) in zip(ranges, chunks, strict=False):
                with deferred_interrupts():  # a chunk is taken whole or not at all
                    summary.merge(chunk_summary)
                    if on_rows is not None:
                        on_rows(rows)
                    if on_progress is not None:
                        on_progress(stop - start)
        finally:
            _close(chunks)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        if own:
            runner.close()
    return RunResult(summary, trials, interrupted, time.perf_counter() - began)


# --- several policies on the same trials --------------------------------------------------
@dataclass(frozen=True, slots=True)
class ChunkOutcome:
    """What ``policies`` did on trials [start, stop): a tally per policy, and per policy a
    bit mask of the trials that connected (bit k = trial start + k), each trial's work
    (map attempts + dials) and its time to connect in ns (-1: it did not connect), so that
    quantities can be paired trial by trial too (``sim.stats.paired`` rule 5)."""

    start: int
    stop: int
    tallies: tuple[Tally, ...]
    connected: tuple[int, ...]
    work: tuple[tuple[int, ...], ...]
    connect_ns: tuple[tuple[int, ...], ...]


def run_chunk(scenario: Scenario, policies: tuple[RetryPolicy, ...], seed: int, start: int,
              stop: int) -> ChunkOutcome:
    """Run every policy on trials [start, stop): a pure function of its arguments (rule 1)."""
    tallies = [Tally() for _ in policies]
    masks = [0] * len(policies)
    work: list[list[int]] = [[] for _ in policies]
    connect_ns: list[list[int]] = [[] for _ in policies]
    for trial in range(start, stop):
        bit = 1 << (trial - start)
        for k, policy in enumerate(policies):
            result = summary_row(scenario, policy, seed, trial)
            tallies[k].add(result)
            work[k].append(result.attempts + result.dials)
            if result.connected:
                masks[k] |= bit
                connect_ns[k].append(round(result.connect_time * 1_000_000_000))
            else:
                connect_ns[k].append(-1)
    return ChunkOutcome(start, stop, tuple(tallies), tuple(masks),
                        tuple(map(tuple, work)), tuple(map(tuple, connect_ns)))


def _pair_quantities(work: list[PairedMean], connect: list[PairedMean],
                     parts: Sequence[ChunkOutcome], baseline: int) -> None:
    """Fold one range's per-trial work and connect times into the paired means (trials in
    order, so the integer sums are the same for any chunking)."""
    works = [w for part in parts for w in part.work]
    times = [c for part in parts for c in part.connect_ns]
    for k in range(len(works)):
        for base, mine in zip(works[baseline], works[k], strict=True):
            work[k].add(base, mine)
        for base, mine in zip(times[baseline], times[k], strict=True):
            if base >= 0 and mine >= 0:  # time to connect: both connected
                connect[k].add(base, mine)


@dataclass(slots=True)
class BatchResult:
    """Trials [start, start + trials) of every policy: tallies, and pairs against a baseline.

    ``pairs[k]`` counts policy k's outcomes against the baseline's on the same trials, and
    ``work_pairs[k]``/``connect_pairs[k]`` pair its work and its time to connect (ns) with
    the baseline's (all None when no baseline was given). ``trials`` < the requested count
    only when interrupted.
    """

    start: int
    trials: int
    tallies: list[Tally]
    pairs: list[PairCounts] | None
    interrupted: bool
    work_pairs: list[PairedMean] | None = None
    connect_pairs: list[PairedMean] | None = None


def chunk_ranges(start: int, stop: int, workers: int, policies: int = 1) -> list[tuple[int, int]]:
    """Split [start, stop) into ranges of trial indices. Only speed and the granularity of
    progress and Ctrl-C depend on this split, never the numbers (rule 1).

    A range holds at most ``CHUNK`` trials; fewer when a batch is too short to keep
    ``workers`` busy, and fewer with many policies, so that one range of all policies is
    about ``2 * workers * CHUNK`` trial runs (a range is the unit an interrupted batch keeps,
    rule 4). Never below ``MIN_CHUNK``.
    """
    length = stop - start
    if length <= 0:
        return []
    size = CHUNK
    if workers > 1:
        size = min(size, math.ceil(length / (2 * workers)))
    size = min(size, 2 * max(1, workers) * CHUNK // max(1, policies))
    size = max(MIN_CHUNK, size)
    return [(a, min(a + size, stop)) for a in range(start, stop, size)]


def run_batch(scenario: Scenario, policies: Sequence[RetryPolicy], *, seed: int, start: int,
              stop: int, executor: Executor, baseline: int | None = None,
              on_progress: Callable[[int], None] | None = None) -> BatchResult:
    """Run every policy on trials [start, stop) on ``executor`` (rules 1, 3 and 4).

    ``baseline`` is the index in ``policies`` that the others are paired against.
    ``on_progress(n)`` is called with the number of policy-trials done after each chunk.
    """
    policies = tuple(policies)
    if not policies:
        raise ValueError("run_batch needs at least one policy")
    if baseline is not None and not 0 <= baseline < len(policies):
        raise ValueError(f"baseline index {baseline} out of range")
    ranges = chunk_ranges(start, stop, executor.workers, len(policies))
    # Group policies so each job does about CHUNK trial runs: many policies on a short
    # range share one job, one policy per job on full-size ranges.
    per_job = max(1, CHUNK // max(1, ranges[0][1] - ranges[0][0])) if ranges else 1
    groups = [policies[i:i + per_job] for i in range(0, len(policies), per_job)]
    jobs = [(scenario, group, seed, a, b) for a, b in ranges for group in groups]
    tallies = [Tally() for _ in policies]
    pairs = [PairCounts() for _ in policies] if baseline is not None else None
    work_pairs = [PairedMean() for _ in policies] if baseline is not None else None
    connect_pairs = [PairedMean() for _ in policies] if baseline is not None else None
    done = 0
    interrupted = False
    outcomes = executor.map(run_chunk, jobs)
    try:
        for a, b in ranges:
            try:
                parts = [next(outcomes) for _ in groups]
            except KeyboardInterrupt:
                # Only the wait is covered: a chunk is merged whole or not at all (rule 4).
                interrupted = True
                break
            try:
                with deferred_interrupts():  # a signal here waits until the chunk is in
                    masks = [mask for part in parts for mask in part.connected]
                    for k, tally in enumerate(t for part in parts for t in part.tallies):
                        tallies[k].merge(tally)
                    if pairs is not None and baseline is not None:
                        for k, mask in enumerate(masks):
                            pairs[k].add_masks(masks[baseline], mask, b - a)
                        assert work_pairs is not None and connect_pairs is not None
                        _pair_quantities(work_pairs, connect_pairs, parts, baseline)
                    done += b - a
                    if on_progress is not None:
                        on_progress((b - a) * len(policies))
            except KeyboardInterrupt:
                interrupted = True
                break
    finally:
        _close(outcomes)
    return BatchResult(start, done, tallies, pairs, interrupted, work_pairs, connect_pairs)


def _close(iterator: Iterator[object]) -> None:
    close = getattr(iterator, "close", None)
    if close is not None:
        close()
