"""Tracing: one tracer object records what the driver and the components did.

Components and the driver always call ``tracer.record(...)``; the default ``NullTracer``
records nothing, so there are no ``if tracer:`` checks scattered around and no patching of
SimPy internals. ``Recorder`` keeps events in order; ``sim.report.render`` turns them into a
timeline, Sender.log lines or JSON lines.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sim.world.events import Kind, Source

__all__ = ["NULL_TRACER", "NullTracer", "Recorder", "TraceEvent", "Tracer"]


@dataclass(frozen=True, slots=True)
class TraceEvent:
    """Something that happened at virtual time ``t`` in ``source`` (``sender``, ``ras``...);
    ``source`` and ``kind`` come from the vocabulary in ``sim.world.events``."""

    t: float
    source: Source
    kind: Kind
    data: tuple[tuple[str, Any], ...] = ()

    def get(self, key: str, default: Any = None) -> Any:
        for name, value in self.data:
            if name == key:
                return value
        return default


class Tracer:
    """The tracer interface. Subclasses override ``record``."""

    __slots__ = ()

    def record(self, t: float, source: Source, kind: Kind, **data: Any) -> None:
        raise NotImplementedError


class NullTracer(Tracer):
    """Records nothing: the tracer of batch runs."""

    __slots__ = ()

    def record(self, t: float, source: Source, kind: Kind, **data: Any) -> None:
        return None


class Recorder(Tracer):
    """Keeps every event in the order recorded (which is virtual-time order)."""

    __slots__ = ("events",)

    def __init__(self) -> None:
        self.events: list[TraceEvent] = []

    def record(self, t: float, source: Source, kind: Kind, **data: Any) -> None:
        self.events.append(TraceEvent(t, source, kind, tuple(data.items())))


NULL_TRACER = NullTracer()
