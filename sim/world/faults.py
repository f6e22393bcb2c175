"""Faults: scheduled or stochastic windows in which part of the world misbehaves.

Rules:

1. A scheduled fault starts at ``milestone + offset`` (the milestone's first occurrence; a
   milestone that never happens means the fault never starts) and lasts a drawn duration,
   or to the end of the trial when no duration is given. ``probability`` < 1 makes it
   happen in only that fraction of trials.
2. A stochastic fault is a renewal process: exponential gaps with the given mean, each
   followed by a window of drawn duration, up to the 30-day horizon
   (``sim.scenario.limits.HORIZON``): no window opens after it, so every trial ends.
3. Fault k draws only from stream ``("faults", k)``, so adding a fault does not change the
   draws of the others or of the world.
4. A fault *touched* the trial when a component observed its effect on a sender step (a
   message lost or slowed, a query unanswered, a dial refused, a request refused). The
   trial's result lists the touched faults, so a scenario whose faults never take effect
   can say so.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any

import simpy

from sim.draws.streams import TrialStreams, UniformStream
from sim.scenario.limits import HORIZON
from sim.scenario.schema import FaultKind, FaultSpec
from sim.world.board import FaultBoard
from sim.world.events import FaultEvent, Source
from sim.world.trace import Tracer

if TYPE_CHECKING:  # type-only: the link and the ports are built before the faults
    from sim.world.link import Line
    from sim.world.ports import PortPool

__all__ = ["draw_scheduled", "open_ended_notes", "start_faults", "unique_labels"]


def draw_scheduled(spec: FaultSpec, stream: UniformStream) -> tuple[bool, float]:
    """A scheduled fault's draws (rule 1): whether it happens in this trial and its duration
    (infinite: to the end of the trial). Drawn first, whatever happens, so the draws are the
    same in every trial; shared with the real testbed (``sim.real``)."""
    happens = stream.random() < spec.probability
    duration = spec.duration.ppf(stream.random()) if spec.duration else math.inf
    return happens, duration

def start_faults(env: simpy.Environment, specs: list[FaultSpec], board: FaultBoard,
                 streams: TrialStreams, milestones: dict[str, simpy.Event], line: Line,
                 ports: PortPool, tracer: Tracer) -> None:
    """Start one SimPy process per fault spec. Link faults act on ``line`` (every sender's
    link, in a fleet), ``ports_held`` on the shared pool."""
    if not specs:
        return
    labels = unique_labels(specs)
    for index, (spec, label) in enumerate(zip(specs, labels, strict=True)):
        stream = streams.get("faults", index)
        begin, end = _actions(spec, label, board, line, ports)

        def window(duration: float, begin: Callable[[], Any] = begin,
                   end: Callable[[], None] = end, label: str = label,
                   kind: FaultKind = spec.kind) -> Generator[simpy.Event, Any, None]:
            tracer.record(env.now, Source.FAULT, FaultEvent.BEGIN, fault=label, fault_kind=kind,
                          duration=duration)
            handle = begin()
            if math.isinf(duration):
                return
            yield env.timeout(duration)
            end() if handle is None else handle.release()
            tracer.record(env.now, Source.FAULT, FaultEvent.END, fault=label, fault_kind=kind)

        if spec.at is not None:
            env.process(_scheduled(env, spec, stream, milestones, window))
        else:
            env.process(_stochastic(env, spec, stream, window, tracer, label))


def unique_labels(specs: list[FaultSpec]) -> list[str]:
    """Each fault's label, made unique with ``#n`` suffixes where two would clash."""
    seen: dict[str, int] = {}
    out = []
    for spec in specs:
        label = spec.label
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 else f"{label}#{seen[label]}")
    return out


def open_ended_notes(specs: list[FaultSpec]) -> list[str]:
    """One note per scheduled fault without a ``duration``: it lasts to the end of the
    trial, which a reader of the file may not expect, so ``run`` and ``check`` say so."""
    return [f"fault {label!r} has no duration, so it lasts from {spec.at} to the end of "
            "the trial"
            for label, spec in zip(unique_labels(specs), specs, strict=True)
            if spec.at is not None and spec.duration is None]


def _scheduled(env: simpy.Environment, spec: FaultSpec, stream: Any,
               milestones: dict[str, simpy.Event], window: Any) -> Generator[Any, Any, None]:
    happens, duration = draw_scheduled(spec, stream)
    milestone, offset = spec.schedule()
    if not happens:
        return
    # Absolute times need no milestone: waiting for the "start" event would let the sender's
    # first step at t = 0 run before a fault scheduled at "0s" (SimPy runs process starts
    # before ordinary events at equal times). A fault at another milestone + 0 starts just
    # after the step during which the milestone was reached.
    if milestone != "start":
        yield milestones[milestone]
    if offset > 0:
        yield env.timeout(offset)
    yield from window(duration)


def _stochastic(env: simpy.Environment, spec: FaultSpec, stream: Any, window: Any,
                tracer: Tracer, label: str) -> Generator[Any, Any, None]:
    assert spec.mean_interval is not None and spec.duration is not None
    while True:
        yield env.timeout(-spec.mean_interval * math.log1p(-stream.random()))
        if env.now > HORIZON:  # no window opens after the horizon (sim.scenario.limits)
            tracer.record(env.now, Source.FAULT, FaultEvent.HORIZON, fault=label)
            return
        yield from window(spec.duration.ppf(stream.random()))


def _actions(spec: FaultSpec, label: str, board: FaultBoard, line: Line,
             ports: PortPool) -> tuple[Callable[[], Any], Callable[[], None]]:
    """(begin, end) callables for one fault. ``begin`` may return a handle with
    ``release()`` (ports held) that replaces ``end``."""
    kind = spec.kind
    if kind == "link_outage":
        return (lambda: line.outage_begin(label)), (lambda: line.outage_end(label))
    if kind == "latency_spike":
        return (lambda: line.spike_begin(label, spec.factor)), (lambda: line.spike_end(label))
    if kind == "ports_held":
        return (lambda: ports.hold(label, spec.ports)), (lambda: None)
    return ((lambda: board.active.setdefault(kind, []).append(label)),
            (lambda: board.active[kind].remove(label)))
