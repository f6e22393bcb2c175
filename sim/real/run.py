"""Run a scenario's trials on the real testbed: one bed, one wire, trial after trial.

Rules:

1. Trial i: a fresh ``RealWorld(scenario, seed, i)``, a fresh model clock, fresh wire rules,
   the unchanged ``sender.procedure.connect`` with the ``jitter`` stream as its rng (as
   ``sim.trial.trial`` does), driven by ``sender.driver.run_sync`` through
   ``TestbedPerformer``. The row records the outcome and the world values for the report.
2. ``check_scale`` refuses a scale k that makes a timer the testbed keeps shorter than
   ``MIN_REAL_TIMER`` seconds of real time (this machine's timers overshoot by up to ~5 ms
   at p99 under load; 150 ms keeps that under ~3%): NetBT's query interval and broadcast
   wait, the SYN timer, SessTimeOut, and the policy's non-zero waits.
3. Before and after each trial the daemons are checked; one that died ends the run, which
   keeps the rows done so far and reports the daemon's last log lines. The trial during
   which it died is kept but marked (``error`` names the daemon), so it is left out of the
   pairing: its outcome met a stack that was going away. A failure with no Win32 code
   (``sim.real.codes.Unmapped``) is also a row with ``error`` set, left out of the pairing.
4. After each trial ``bed.mark_progress`` records how many are done.
5. ``wire_options`` are test-only arguments of ``WireRules`` (the deliberate gate bug, a
   silent link drop); ``rassim real`` never passes any.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sender.driver import run_sync
from sender.effects import Connected
from sender.policy import RetryPolicy
from sender.procedure import connect
from sim.real.bed import Testbed, tcp_probe
from sim.real.clock import ModelClock
from sim.real.codes import Unmapped
from sim.real.netbt import Resolver
from sim.real.performer import Endpoint, TestbedPerformer
from sim.real.wire import Wire, WireRules, WireSpec
from sim.real.world import RealWorld
from sim.scenario.schema import Scenario
from sim.trial.setup import budget_of, target_of
from sim.world.events import SenderEvent, Source
from sim.world.trace import TraceEvent

__all__ = ["MIN_REAL_TIMER", "RealRow", "RealRun", "check_scale", "run_real"]

MIN_REAL_TIMER = 0.15


@dataclass(frozen=True, slots=True)
class RealRow:
    """One real trial: its outcome, and the world it met (model seconds)."""

    trial: int
    outcome: str
    code: int
    reason: str
    attempts: int
    dials: int
    connect_time: float
    end_time: float
    codes: tuple[int, ...]
    faults: tuple[str, ...]
    lags: tuple[float, ...]
    dial_seconds: tuple[float, ...]
    margin: float
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}


@dataclass
class RealRun:
    """What a real run produced; ``stopped`` says why it ended early, if it did."""

    rows: list[RealRow] = field(default_factory=list)
    setup_seconds: float = 0.0
    stopped: str | None = None
    counters: dict[str, int] = field(default_factory=dict)


def check_scale(scenario: Scenario, policy: RetryPolicy, scale: float) -> str | None:
    """``field: why`` for the first timer that ``scale`` makes too short (rule 2), or None."""
    if not 1 <= scale <= 1000:
        return f"--scale: must be between 1 and 1000, got {scale:g}"
    netbt, tcp, smb = scenario.netbt, scenario.tcp, scenario.smb
    timers = [("netbt.name_query_timeout", netbt.name_query_timeout),
              ("tcp.initial_rto", tcp.initial_rto), ("smb.session_timeout", smb.session_timeout)]
    if netbt.broadcast_fallback and netbt.bcast_query_count:
        timers.append(("netbt.bcast_query_timeout x bcast_query_count",
                       netbt.bcast_query_timeout * netbt.bcast_query_count))
    # The policy's waits that it can actually take: between map attempts only with more
    # than one per dial, between dials only with more than one dial.
    used = {"settle": True, "initial_wait": policy.attempts_per_dial > 1,
            "redial_wait": policy.max_dials > 1}
    for name, takes in used.items():
        value = getattr(policy, name)
        if takes and value > 0:
            timers.append((f"sender.policy.{name}", value))
    for name, seconds in timers:
        if seconds / scale < MIN_REAL_TIMER:
            real_ms = seconds / scale * 1000
            return (f"--scale {scale:g}: {name} = {seconds:g}s becomes {real_ms:.0f} "
                    f"ms of real time, below the {MIN_REAL_TIMER * 1000:.0f} ms this machine's "
                    f"timers keep (overshoot ~5 ms at p99); use --scale "
                    f"{max(1, math.floor(seconds / MIN_REAL_TIMER))} or less")
    return None


def _spec(scenario: Scenario, scale: float) -> WireSpec:
    link = scenario.link
    latency = link.latency.ppf(0.5)  # constant (``sim.real.world.expressible``)
    return WireSpec(latency=latency, rate_bps=link.rate_bps,
                    warm_factor=link.warmup.factor, warm_decay=link.warmup.decay)


def run_real(scenario: Scenario, policy: RetryPolicy, *, trials: int, seed: int, scale: float,
             bed: Testbed, on_row: Callable[[RealRow], None] | None = None,
             skip_idle: bool = True, first: int = 0,
             on_trial: Callable[[int, list[Any]], None] | None = None,
             wire_options: Mapping[str, Any] | None = None) -> RealRun:
    """Trials ``first .. first + trials - 1`` on ``bed`` (entered), rules 1 to 5.
    ``on_trial(i, events)`` gets each trial's sender events (``sim.world.trace`` form) for
    a Sender.log; ``wire_options`` are rule 5's test-only switches."""
    options = dict(wire_options or {})
    run = RealRun()
    began = time.monotonic()
    placeholder = RealWorld(scenario, seed, first)
    clock = ModelClock(scale)
    rules = WireRules(_spec(scenario, scale), _ip(bed.server_ip), placeholder.all_active,
                      _outages(placeholder), **options)
    wire = Wire(rules, clock, bed.client_fd, bed.server_fd, lambda: [])
    wire.start()
    endpoint = Endpoint(bed.server, bed.share, bed.user, bed.password, bed.server_ip,
                        bed.client_ip)
    try:
        with bed.client():
            run.setup_seconds = _wait_ready(bed, wire, scenario, scale) + 0.0
            for trial in range(first, first + trials):
                dead = bed.dead_daemon() or (f"the wire stopped: {wire.error!r}"
                                             if wire.error else None)
                if dead:
                    run.stopped = dead
                    break
                events: list[Any] = []
                row = _one_trial(scenario, policy, seed, trial, scale, wire, endpoint,
                                 skip_idle, events, options)
                dead = bed.dead_daemon()
                if dead:
                    row = dataclasses.replace(row, error=f"a daemon died during this trial: "
                                                         f"{dead.splitlines()[0]}")
                run.rows.append(row)
                bed.mark_progress(len(run.rows))
                if on_trial is not None and not row.error:
                    on_trial(trial, events)
                if on_row is not None:
                    on_row(row)
                if dead:
                    run.stopped = dead
                    break
    finally:
        wire.stop()
        wire.join(timeout=5)
        run.counters = dict(wire.rules.counters)
    run.setup_seconds = run.setup_seconds or time.monotonic() - began
    return run


def _ip(text: str) -> bytes:
    return bytes(int(part) for part in text.split("."))


def _outages(world: RealWorld) -> Callable[[float, float], list[str]]:
    def overlapping(start: float, stop: float) -> list[str]:
        return [w.label for w in world.windows if w.kind == "link_outage"
                and w.begin is not None and w.begin <= stop and w.end > start]
    return overlapping


def _wait_ready(bed: Testbed, wire: Wire, scenario: Scenario, scale: float) -> float:
    """Bring the wire up (no lag, no latency applies to probes) until both daemons answer."""
    clock = ModelClock(scale)
    wire.begin(WireRules(WireSpec(latency=0.0), _ip(bed.server_ip), lambda *_: [],
                         lambda *_: []), clock, lambda: [])
    wire.up(0.0)
    probe_spec = scenario.netbt.model_copy(update={"name_query_count": 1,
                                                   "name_query_timeout": 0.3 * scale,
                                                   "broadcast_fallback": False})
    resolver = Resolver(probe_spec, clock, bed.server, bed.server_ip, bed.client_ip,
                        "10.231.1.255")

    def probe() -> bool:
        return tcp_probe(bed.server_ip, 139) and resolver.resolve().code == 0

    try:
        return bed.wait_ready(probe)
    finally:
        wire.down()


def _one_trial(scenario: Scenario, policy: RetryPolicy, seed: int, trial: int, scale: float,
               wire: Wire, endpoint: Endpoint, skip_idle: bool, events: list[Any],
               options: dict[str, Any]) -> RealRow:
    world = RealWorld(scenario, seed, trial)
    clock = ModelClock(scale)
    wire.begin(WireRules(_spec(scenario, scale), _ip(endpoint.server_ip), world.all_active,
                         _outages(world), counters=wire.rules.counters, **options), clock,
               lambda: [(w.begin, w.label) for w in world.windows
                        if w.kind == "link_outage" and w.begin is not None])
    performer = TestbedPerformer(scenario, world, clock, wire, endpoint, skip_idle=skip_idle)
    start = scenario.sender.start
    if start > 0:
        clock.skip(start)  # before the first effect nothing is connected (rule 4)
    rng = world.jitter() if policy.jitter != "none" else None
    procedure = connect(policy, target_of(scenario), rng, started_at=start,
                        budget=budget_of(policy))
    error = None
    try:
        outcome = run_sync(procedure, _Recording(performer, clock, events))
        events.append(TraceEvent(outcome.at, Source.SENDER, SenderEvent.OUTCOME,
                                 (("outcome", outcome),)))
    except Unmapped as failure:
        error = str(failure)
    finally:
        performer.close()
    touched = tuple(sorted(performer.touched | wire.rules.touched))
    lags = tuple(world.lags)
    dial_seconds = tuple(plan.seconds for plan in world.dial_plans)
    if error is not None:
        return RealRow(trial, "error", -1, "unmapped", 0, 0, math.nan, clock.now(), (),
                       touched, lags, dial_seconds, performer.boundary_margin(), error)
    connected = isinstance(outcome, Connected)
    return RealRow(trial, "connected" if connected else "gave_up", outcome.code, outcome.reason,
                   outcome.attempts, outcome.dials,
                   outcome.at - start if connected else math.nan, outcome.at, outcome.codes,
                   touched, lags, dial_seconds, performer.boundary_margin())


class _Recording:
    """The performer, with each effect and result recorded as the SimPy world's driver
    records them (``sim.world.driver``): the effect at the model time it is asked for, the
    result at its ``at``. ``sim.report.render.sender_log`` renders them."""

    def __init__(self, performer: TestbedPerformer, clock: ModelClock,
                 events: list[Any]) -> None:
        self._performer, self._clock, self._events = performer, clock, events

    def __call__(self, effect: Any) -> Any:
        self._events.append(TraceEvent(self._clock.now(), Source.SENDER, SenderEvent.EFFECT,
                                       (("effect", effect),)))
        result = self._performer(effect)
        self._events.append(TraceEvent(result.at, Source.SENDER, SenderEvent.RESULT,
                                       (("result", result),)))
        return result
