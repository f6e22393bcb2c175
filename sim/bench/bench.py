"""How fast rassim runs against what a user would write instead, on one machine in one run
(``rassim bench``).

The figure that matters is the cost of a trial against a hand-written SimPy model of the
same physics (``sim.bench.peer``): that is what users would otherwise do, and it is reported
first. The per-event figures against bare SimPy are context only: a model that does its
work in fewer, richer events (``sim.trial.fast``) is cheaper per trial however it scores per
event.

Rules:

1. **An event is one ``Environment.step``**: one event taken off SimPy's schedule and its
   callbacks run. Events are counted in a separate, untimed pass in which ``simpy.Environment``
   is swapped for a subclass that counts its steps, with the trials forced onto the event
   path (``sim.trial.fast``: the fast path processes no SimPy event, so it has none to
   count). The harness itself is never patched: the timed passes run the plain
   ``simpy.Environment`` on whichever path each trial takes. Events scheduled but never
   processed (a time-out that lost its race when the trial ended) are not counted.
2. **The bare loop does the same amount of SimPy work** as the event path. For each trial
   it creates a fresh ``Environment`` and runs one process that yields plain time-outs until
   the environment has processed exactly as many events as that trial did on the event path
   (the process's start and its end are two of them).
3. **Figures from one run, the median of interleaved rounds.** Every timing is repeated
   ``rounds`` times (15 by default), the kinds interleaved (rassim on 1 worker, the
   hand-written peer, bare loop, rassim on 2 workers, rule 6's fixed work) so load from
   other processes hits all of them alike, and the median round of each kind is kept.
   Ratios are only ever formed from figures of the same run.
4. **Nothing here changes results**: the 1- and 2-worker runs must give the same summary
   (``sim.run.runner`` rule 1); the report says whether they did. The peer's results must
   agree with rassim's in distribution (``sim.bench.peer`` rule 3); the report says whether
   they did, so that the ratio compares the same physics.
5. Peak memory is measured in a fresh process (``sim.bench.memory``), so nothing this
   process allocated for the timings counts against it.
6. **Where the time goes.** A further timed kind, "fixed", does the per-trial work that
   processes no event: every trial is set up exactly as the event path sets it up (the
   environment, the trial's streams, the world, the sender procedure and its process) and
   stopped at ``Environment.run`` by swapping in ``SetUpOnlyEnvironment`` (rule 1's swap),
   then every trial's row is folded into a summary. (Context for the event path only.)

Targets (issue 18): rassim per trial at most 0.5x the hand-written peer; 2 workers at least
1.8x of 1; peak RSS for 10^6 summary-only trials under 300 MB and flat in the trial count.
The per-event ratio against bare SimPy is reported as context, with no target (issue 7's
target of 2.0 was withdrawn by issue 18).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy
import simpy
from simpy.core import EmptySchedule

from sender.policy import RetryPolicy
from sim import __version__
from sim.bench.memory import MemoryReport, measure_memory
from sim.bench.peer import Agreement, agreement, load_peer, peer_applies, peer_trials
from sim.run.executors import LocalExecutor
from sim.run.runner import CHUNK, run_trials
from sim.scenario.loader import load_scenario
from sim.scenario.schema import Scenario
from sim.stats.summary import Summary
from sim.trial.results import TrialResult
from sim.trial.trial import run_event_trial

__all__ = ["CANONICAL", "TARGETS", "BenchConfig", "BenchReport", "CountingEnvironment",
           "SetUpOnlyEnvironment", "bare_trials", "count_events", "fixed_work", "run_bench"]

#: The canonical scenario the issue names, when rassim runs from a checkout.
CANONICAL = Path(__file__).resolve().parents[2] / "scenarios" / "q221951-unpatched.toml"

#: (name, target as text). Verdicts are computed in ``BenchReport.targets``.
TARGETS = {
    "peer": "rassim/hand-written SimPy per trial <= 0.5",
    "scaling": "2 workers >= 1.8x of 1",
    "rss": "peak RSS < 300 MB",
    "flat": "RSS growth <= 5% from 1/10 of the trials to all",
}
_PEER_TARGET = 0.5
_SCALING_TARGET = 1.8
_RSS_TARGET_MB = 300.0
_FLAT_TARGET = 0.05
_SCALING_WORKERS = 2


class CountingEnvironment(simpy.Environment):
    """A ``simpy.Environment`` that counts the events it processes (rule 1).

    ``created`` collects every instance made while a counting pass is on, so the pass can
    read the count of each trial's environment, however deep inside the harness it was made.
    """

    created: list[CountingEnvironment] = []

    def __init__(self, initial_time: float = 0) -> None:
        super().__init__(initial_time)
        self.events = 0
        CountingEnvironment.created.append(self)

    def step(self) -> None:
        try:
            super().step()
        except EmptySchedule:
            raise  # nothing was processed
        except BaseException:
            # StopSimulation (the ``until`` event was processed) or a crash: one event.
            self.events += 1
            raise
        self.events += 1


class _SetUp(Exception):
    """Raised by ``SetUpOnlyEnvironment.run``: the trial is set up, nothing more to do."""


class SetUpOnlyEnvironment(simpy.Environment):
    """A ``simpy.Environment`` that stops a trial where it would start processing events
    (rule 6): everything the harness does before ``run`` is done, no event is processed."""

    def run(self, until: Any = None) -> Any:
        raise _SetUp


@contextmanager
def _swapped(environment: type[simpy.Environment]) -> Iterator[None]:
    """While on, every ``simpy.Environment()`` the harness makes is an ``environment``."""
    original = simpy.Environment
    setattr(simpy, "Environment", environment)  # noqa: B010 - mypy: a type
    try:
        yield
    finally:
        setattr(simpy, "Environment", original)  # noqa: B010


@contextmanager
def _counting() -> Iterator[list[CountingEnvironment]]:
    """While on, every ``simpy.Environment()`` the harness makes is a counting one."""
    CountingEnvironment.created = []
    try:
        with _swapped(CountingEnvironment):
            yield CountingEnvironment.created
    finally:
        CountingEnvironment.created = []


def count_events(scenario: Scenario, policy: RetryPolicy, seed: int, trials: int,
                 rows: list[TrialResult] | None = None) -> list[int]:
    """The events each of trials 0..trials-1 processes (rule 1), in trial order; appends
    each trial's row to ``rows`` when given."""
    counts = []
    with _counting() as created:
        for trial in range(trials):
            before = len(created)
            row = run_event_trial(scenario, policy, seed, trial)
            counts.append(sum(env.events for env in created[before:]))
            del created[:]
            if rows is not None:
                rows.append(row)
    return counts


def fixed_work(scenario: Scenario, policy: RetryPolicy, seed: int,
               rows: list[TrialResult]) -> Summary:
    """The work of rule 6 for trials 0..len(rows)-1: set each up, process no event, fold
    its row (``rows[i]``, from ``count_events``) into a summary; returns the summary."""
    with _swapped(SetUpOnlyEnvironment):
        for trial in range(len(rows)):
            try:
                run_event_trial(scenario, policy, seed, trial)
            except _SetUp:
                pass
            else:  # pragma: no cover - a trial that never runs its environment is a bug
                raise AssertionError(f"trial {trial} finished without running its events")
    return Summary.of(rows)


def _ticks(env: simpy.Environment, count: int) -> Generator[simpy.Event, Any, None]:
    for _ in range(count):
        yield env.timeout(1.0)


def bare_trials(counts: list[int], environment: type[simpy.Environment] = simpy.Environment
                ) -> int:
    """Bare SimPy with ``counts[i]`` events in "trial" i (rule 2); returns the events counted
    when ``environment`` counts them (``CountingEnvironment``), else 0."""
    total = 0
    for count in counts:
        env = environment()
        # The process's start (Initialize) and its end are events too: count - 2 time-outs.
        process = env.process(_ticks(env, max(0, count - 2)))
        env.run(until=process)
        total += getattr(env, "events", 0)
    return total


@dataclass(frozen=True, slots=True)
class BenchConfig:
    file: Path
    trials: int
    rounds: int
    memory_trials: int  # 0: skip the memory measurement
    seed: int | None = None
    policy: str | None = None


@dataclass(slots=True)
class BenchReport:
    """Every figure of one bench run; ``to_dict`` is the ``--json`` output."""

    scenario: str
    file: str
    seed: int
    policy: str
    trials: int
    rounds: int
    events_per_trial: float
    harness_events: int
    bare_events: int
    harness_seconds: float  # median round, 1 worker, in-process
    bare_seconds: float
    two_worker_seconds: float
    fixed_seconds: float  # rule 6: set-up and summary, no event processed
    same_summary: bool  # 1 and 2 workers gave equal summaries (rule 4)
    memory: MemoryReport | None
    machine: dict[str, Any] = field(default_factory=dict)
    #: The hand-written peer's median round (None: no peer for this scenario, or no checkout).
    peer_seconds: float | None = None
    #: Why there is no peer figure, when there is none.
    peer_note: str = ""
    #: Rule 4: the peer's results against rassim's.
    peer_agreement: list[Agreement] = field(default_factory=list)
    #: 1-minute load average before and after the timed rounds (the machine may be shared).
    load: tuple[float, float] = (0.0, 0.0)

    @property
    def peer_ratio(self) -> float | None:
        """rassim's time per trial over the hand-written peer's (the issue-18 figure)."""
        if self.peer_seconds is None:
            return None
        return self.harness_seconds / self.peer_seconds

    @property
    def peer_agrees(self) -> bool:
        return all(check.agrees for check in self.peer_agreement)

    @property
    def trials_per_s(self) -> float:
        return self.trials / self.harness_seconds

    @property
    def us_per_event(self) -> float:
        return 1e6 * self.harness_seconds / self.harness_events

    @property
    def bare_us_per_event(self) -> float:
        return 1e6 * self.bare_seconds / self.bare_events

    @property
    def ratio(self) -> float:
        """Harness time per event over bare SimPy time per event (same events, rule 2)."""
        return self.us_per_event / self.bare_us_per_event

    @property
    def fixed_us_per_trial(self) -> float:
        """Setting up a trial and folding its row into the summary (rule 6)."""
        return 1e6 * self.fixed_seconds / self.trials

    @property
    def events_us_per_event(self) -> float:
        """The harness's time beyond the fixed work, per event (rule 6)."""
        return 1e6 * (self.harness_seconds - self.fixed_seconds) / self.harness_events

    @property
    def events_ratio(self) -> float:
        """``ratio`` if the fixed work were free: the events' own cost against bare SimPy."""
        return self.events_us_per_event / self.bare_us_per_event

    @property
    def two_worker_trials_per_s(self) -> float:
        return self.trials / self.two_worker_seconds

    @property
    def scaling(self) -> float:
        return self.harness_seconds / self.two_worker_seconds

    def targets(self) -> list[tuple[str, str, str, str]]:
        """(key, measured, target, PASS/MISS/SKIP) for each target of the issue."""
        def verdict(ok: bool) -> str:
            return "PASS" if ok else "MISS"

        ratio = self.peer_ratio
        rows = [
            ("peer", "-" if ratio is None else f"{ratio:.2f}", TARGETS["peer"],
             "SKIP" if ratio is None else verdict(ratio <= _PEER_TARGET and self.peer_agrees)),
            ("scaling", f"{self.scaling:.2f}x", TARGETS["scaling"],
             verdict(self.scaling >= _SCALING_TARGET)),
        ]
        memory = self.memory
        if memory is None:
            rows += [(key, "-", TARGETS[key], "SKIP") for key in ("rss", "flat")]
        else:
            rows += [
                ("rss", f"{memory.peak_mb:.1f} MB at {memory.trials:,} trials", TARGETS["rss"],
                 verdict(memory.peak_mb < _RSS_TARGET_MB)),
                ("flat", f"{100 * memory.growth:+.1f}% ({memory.first_mb:.1f} MB at "
                 f"{memory.first_trials:,})", TARGETS["flat"],
                 verdict(memory.growth <= _FLAT_TARGET)),
            ]
        return rows

    def to_dict(self) -> dict[str, Any]:
        body = {name: getattr(self, name) for name in (
            "scenario", "file", "seed", "policy", "trials", "rounds", "events_per_trial",
            "harness_events", "bare_events", "harness_seconds", "bare_seconds",
            "two_worker_seconds", "fixed_seconds", "same_summary", "trials_per_s",
            "us_per_event", "bare_us_per_event", "ratio", "fixed_us_per_trial",
            "events_us_per_event", "events_ratio", "two_worker_trials_per_s", "scaling",
            "peer_seconds", "peer_ratio", "peer_note", "peer_agrees", "load")}
        body["peer_agreement"] = [
            {"metric": c.metric, "rassim": c.rassim, "peer": c.peer, "z": c.z,
             "agrees": c.agrees} for c in self.peer_agreement]
        body["memory"] = None if self.memory is None else asdict(self.memory)
        body["targets"] = {key: {"measured": measured, "target": target, "verdict": verdict}
                           for key, measured, target, verdict in self.targets()}
        body["machine"] = self.machine
        body["event_definition"] = ("one simpy Environment.step (an event taken off the "
                                    "schedule and its callbacks run), counted in an untimed "
                                    "pass; the bare loop processes the same events per trial")
        return body


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "processor": platform.machine(),
        "cpus": os.cpu_count(),
        "simpy": simpy.__version__ if hasattr(simpy, "__version__") else "?",
        "numpy": numpy.__version__,
        "rassim": __version__,
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }


def _timed(run: Any) -> float:
    began = time.perf_counter()
    run()
    return time.perf_counter() - began


def _summary_text(summary: Any) -> str:
    return json.dumps(summary.to_dict(), sort_keys=True)


def run_bench(config: BenchConfig, progress: Any = None) -> BenchReport:
    """Measure everything of the module docstring; ``progress(text)`` hears each step."""
    def say(text: str) -> None:
        if progress is not None:
            progress(text)

    loaded = load_scenario(config.file, policy=config.policy)
    scenario, policy = loaded.scenario, loaded.policy
    seed = scenario.seed if config.seed is None else config.seed
    trials = config.trials
    say(f"counting events in {trials:,} trials")
    rows: list[TrialResult] = []
    counts = count_events(scenario, policy, seed, trials, rows)
    with _counting():
        bare_events = bare_trials(counts, CountingEnvironment)
    note = ""
    peer = None
    if not peer_applies(scenario.name, policy.name):
        note = "no hand-written peer: it models q221951-unpatched.toml with policy pre-fix only"
    else:
        peer = load_peer()
        if peer is None:
            note = "no hand-written peer: benchmarks/peer_simpy.py is not in this installation"
    timings: dict[str, list[float]] = {"harness": [], "peer": [], "bare": [], "two": [],
                                       "fixed": []}
    if peer is None:
        del timings["peer"]
    summaries: dict[str, str] = {}
    peer_rows: list[Any] = []
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    with LocalExecutor(1) as one, LocalExecutor(_SCALING_WORKERS) as two:
        # Start the worker processes (and their imports) before any timing: two chunks, so
        # both workers start.
        run_trials(scenario, policy, trials=2 * CHUNK, seed=seed, executor=two)
        for round_ in range(config.rounds):
            say(f"round {round_ + 1} of {config.rounds}")
            for kind, seconds_of in timings.items():
                if kind == "bare":
                    seconds = _timed(lambda: bare_trials(counts))
                elif kind == "fixed":
                    seconds = _timed(lambda: fixed_work(scenario, policy, seed, rows))
                elif kind == "peer":
                    assert peer is not None
                    began = time.perf_counter()
                    peer_rows = peer_trials(peer, seed, trials)
                    seconds = time.perf_counter() - began
                else:
                    result = run_trials(scenario, policy, trials=trials, seed=seed,
                                        executor=one if kind == "harness" else two)
                    seconds = result.elapsed
                    summaries[kind] = _summary_text(result.summary)
                seconds_of.append(seconds)
    load_after = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    best = {kind: statistics.median(seconds) for kind, seconds in timings.items()}
    memory = None
    if config.memory_trials:
        say(f"peak memory of {config.memory_trials:,} trials in a fresh process")
        memory = measure_memory(config.file, config.memory_trials, seed=seed,
                                policy=config.policy)
    return BenchReport(
        scenario=scenario.name, file=str(config.file), seed=seed, policy=policy.name,
        trials=trials, rounds=config.rounds, events_per_trial=sum(counts) / trials,
        harness_events=sum(counts), bare_events=bare_events,
        harness_seconds=best["harness"], bare_seconds=best["bare"],
        two_worker_seconds=best["two"], fixed_seconds=best["fixed"],
        same_summary=summaries["harness"] == summaries["two"], memory=memory,
        machine=machine(), peer_seconds=best.get("peer"), peer_note=note,
        peer_agreement=agreement(rows, peer_rows) if peer_rows else [],
        load=(load_before, load_after),
    )
