"""A fleet trial: many senders, one RAS server, one SimPy environment.

Rules:

1. Every sender runs the unchanged sender procedure (``sender.procedure.connect``) through
   the same driver as a lone sender. The fleet adds only what happens around it: when
   each sender starts, and the send job that keeps the line for ``transfer`` after the
   share is mapped, then hangs up.
2. Seeding (``sim.draws.streams``): sender k draws its dials, messages, name-path lag and jitter
   from its own streams (index k), so its draws do not depend on what the other senders
   do. Start times and transfer times come from the ``fleet`` stream: n start draws, then
   n transfer draws, whatever happens in the trial. The world (ports, line, faults) is
   shared.
3. Senders that start at the same instant run in index order, so the trial is a function
   of (scenario, policy, seed, trial) alone, like a lone sender's.
4. The trial ends when every sender has finished: given up, or connected, sent and hung up.
   Its row (``sim.trial.results.TrialResult``) is the fleet's: see there for each field.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Generator
from typing import Any, cast

import simpy

from sender.effects import Connected, Outcome
from sender.policy import RetryPolicy
from sender.procedure import connect
from sim.draws.streams import TrialStreams, UniformStream
from sim.scenario.fleet_spec import FleetSpec
from sim.scenario.schema import Scenario
from sim.trial.results import TrialResult
from sim.trial.setup import budget_of, target_of
from sim.world.driver import drive
from sim.world.events import Kind, SenderEvent, Source
from sim.world.trace import NullTracer, Tracer
from sim.world.world import Commons, World

__all__ = ["SenderTracer", "arrival_times", "run_fleet_trial"]


class SenderTracer(Tracer):
    """Tags every event of sender k with ``sender=k``, so one trace holds the fleet."""

    __slots__ = ("_inner", "_k")

    def __init__(self, inner: Tracer, k: int) -> None:
        self._inner = inner
        self._k = k

    def record(self, t: float, source: Source, kind: Kind, **data: Any) -> None:
        self._inner.record(t, source, kind, sender=self._k, **data)


def arrival_times(fleet: FleetSpec, start: float, draws: UniformStream) -> list[float]:
    """Each sender's start time; exactly ``fleet.senders`` draws unless all start together."""
    n = fleet.senders
    if fleet.arrivals == "together":
        return [start] * n
    if fleet.arrivals == "uniform":
        return [start + fleet.window * draws.random() for _ in range(n)]
    assert fleet.mean_gap is not None
    times, at = [], start
    for _ in range(n):
        at += -fleet.mean_gap * math.log1p(-draws.random())
        times.append(at)
    return times


def _send_and_hang_up(world: World, transfer: float
                      ) -> Callable[[Outcome], Generator[simpy.Event, Any, tuple[Outcome, float]]]:
    """What follows the sender's procedure (rule 1): when connected, the send and the hang-up.

    Run as the driver's ``then`` tail, in the driver's own generator: an outer generator
    around the driver would be one more layer on every resumption of the sender's process.
    """
    env = world.env

    def finish(outcome: Outcome) -> Generator[simpy.Event, Any, tuple[Outcome, float]]:
        if isinstance(outcome, Connected):
            world.tracer.record(env.now, Source.SENDER, SenderEvent.SENDING, seconds=transfer)
            yield env.timeout(transfer)
            yield from world.ras.hangup()
            world.tracer.record(env.now, Source.SENDER, SenderEvent.SENT)
        return outcome, env.now
    return finish


def run_fleet_trial(scenario: Scenario, policy: RetryPolicy, seed: int, trial: int,
                    tracer: Tracer) -> TrialResult:
    """Trial ``trial`` of a fleet scenario (see the module rules)."""
    fleet = scenario.fleet
    assert fleet is not None
    n = fleet.senders
    env = simpy.Environment()
    streams = TrialStreams(seed, trial)
    commons = Commons(env, scenario, tracer)
    quiet = isinstance(tracer, NullTracer)
    worlds = [World(env, scenario, streams, tracer if quiet else SenderTracer(tracer, k),
                    commons, (k,)) for k in range(n)]
    commons.start(streams)
    draws = streams.get("fleet")
    starts = arrival_times(fleet, scenario.sender.start, draws)
    transfers = [fleet.transfer.ppf(draws.random()) for _ in range(n)]
    shared = budget_of(policy) if fleet.shared_budget else None
    target = target_of(scenario)
    jittered = policy.jitter != "none"
    jobs = []
    for k, world in enumerate(worlds):
        procedure = connect(policy, target, streams.get("jitter", k) if jittered else None,
                            started_at=starts[k],
                            budget=shared if fleet.shared_budget else budget_of(policy))
        jobs.append(env.process(drive(world, procedure, starts[k],
                                       _send_and_hang_up(world, transfers[k]))))
    env.run(until=env.all_of(jobs))
    ends = [cast(tuple[Outcome, float], job.value) for job in jobs]
    return _fleet_row(scenario, commons, worlds, ends, seed, trial)


def _fleet_row(scenario: Scenario, commons: Commons, worlds: list[World],
               ends: list[tuple[Outcome, float]], seed: int, trial: int) -> TrialResult:
    outcomes = [outcome for outcome, _ in ends]
    failed = [o for o in outcomes if not isinstance(o, Connected)]
    end = max(done for _, done in ends)
    start = scenario.sender.start
    capacity = sum(pool.capacity for pool in commons.pools)
    busy = sum(pool.busy_time(end) for pool in commons.pools)
    if failed:
        # The most frequent final code and reason among the senders that gave up.
        code = min(Counter(o.code for o in failed).items(), key=lambda kv: (-kv[1], kv[0]))[0]
        reason = min(Counter(o.reason for o in failed).items(),
                     key=lambda kv: (-kv[1], kv[0]))[0]
    return TrialResult(
        trial=trial,
        seed=seed,
        outcome="gave_up" if failed else "connected",
        code=code if failed else 0,
        reason=reason if failed else "connected",
        attempts=sum(o.attempts for o in outcomes),
        dials=sum(o.dials for o in outcomes),
        connect_time=math.nan if failed else max(o.at for o in outcomes) - start,
        end_time=end,
        line_time=sum(w.ras.line_time(done) for w, (_, done) in zip(worlds, ends, strict=True)),
        codes=tuple(code for o in outcomes for code in o.codes),
        faults=tuple(sorted(commons.faults.touched)),
        senders=len(outcomes),
        senders_connected=len(outcomes) - len(failed),
        busy_signals=sum(w.ras.busy_signals for w in worlds),
        port_utilization=busy / (capacity * end) if end > 0 else 0.0,
    )
