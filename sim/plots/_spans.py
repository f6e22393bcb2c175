"""A recorded trace as bars and marks on lanes: the data behind the trial timeline.

Pure and matplotlib-free, so tests can assert the bars of a hand-computable trial exactly.

Rules:

1. Every bar is a ``Span`` on one lane from ``start`` to ``end`` (virtual seconds); every
   instant is a ``Mark``. Nothing is dropped: the drawing decides what fits.
2. A span still open when the trace ends (a connection the sender keeps, a fault without a
   duration) ends at the trial's end, with ``open_end`` set.
3. A span may start before t = 0 (a connection dialed by hand earlier: the RASDIAL
   workaround); the drawing clips it and says so.
4. Protocol steps belong to the map attempt that ran them: whatever is still open when the
   sender's ``AddConnection`` returns ends there.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from sender.codes import ERROR_BAD_NETPATH, symbol_of
from sender.effects import AddConnection, Connected, Dial, Failed, GaveUp, HangUp, Sleep
from sim.world.events import (
    SMB_STEPS,
    FaultEvent,
    LinkEvent,
    NamePathEvent,
    NetbtEvent,
    RasEvent,
    SenderEvent,
    SmbEvent,
    Source,
    TcpEvent,
)
from sim.world.trace import TraceEvent

__all__ = ["LANES", "Mark", "Span", "TimelineParts", "timeline_parts"]

#: Lanes from top to bottom.
LANES = ("sender", "steps", "name path", "link", "RAS", "faults")


@dataclass(slots=True)
class Span:
    """A bar: ``kind`` picks its style; ``code`` is a failure code (0: none)."""

    lane: str
    start: float
    end: float
    kind: str
    code: int = 0
    number: int = 0  # the attempt or dial number for sender bars, else 0
    note: str = ""  # e.g. a fault's label, a sleep's length
    open_end: bool = False


@dataclass(frozen=True, slots=True)
class Mark:
    """An instant on a lane (a WINS query, a SYN, Connected, the outcome)."""

    lane: str
    t: float
    kind: str
    code: int = 0
    number: int = 0


@dataclass(slots=True)
class TimelineParts:
    spans: list[Span] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)
    end: float = 0.0
    verdict: str = ""  # "connected" or "gave up (reason) with CODE SYMBOL"
    attempts: int = 0
    dials: int = 0

    def of(self, kind: str) -> list[Span]:
        """The spans of one kind, in time order."""
        return [s for s in self.spans if s.kind == kind]


class _Builder:
    def __init__(self) -> None:
        self.parts = TimelineParts()
        self.open: dict[tuple[str, str], Span] = {}  # (lane, key) -> span being built

    def begin(self, key: str, span: Span) -> None:
        self.close(key, span.start)
        self.open[(span.lane, key)] = span

    def close(self, key: str, t: float, *, kind: str | None = None, code: int = 0,
              lane: str | None = None) -> Span | None:
        for (span_lane, span_key) in list(self.open):
            if span_key == key and (lane is None or span_lane == lane):
                span = self.open.pop((span_lane, span_key))
                span.end = t
                if kind is not None:
                    span.kind = kind
                if code:
                    span.code = code
                self.parts.spans.append(span)
                return span
        return None

    def end_name_path(self, t: float, *, open_end: bool = False) -> None:
        """The connection ends at ``t``: a name path not yet ready never becomes ready."""
        ready = self.open.pop(("name path", "name"), None)
        if ready is None:
            return
        if t < ready.start:
            waiting = next(s for s in reversed(self.parts.spans) if s.kind == "not_ready")
            waiting.end = t
            waiting.open_end = open_end
            return
        ready.end, ready.open_end = t, open_end
        self.parts.spans.append(ready)

    def close_all(self, t: float, prefix: str) -> None:
        for (_, key) in [k for k in self.open if k[1].startswith(prefix)]:
            self.close(key, t)


def timeline_parts(events: Iterable[TraceEvent]) -> TimelineParts:
    """Turn a trial's events (``sim.world.trace.Recorder.events``) into spans and marks."""
    events = list(events)
    b = _Builder()
    end = max((e.t for e in events), default=0.0)
    pending: tuple[object, float] | None = None
    maps = dials = 0
    settling = False  # a dial just succeeded and no map has been tried on its link yet
    for e in events:
        t, key = e.t, (e.source, e.kind)
        if e.source == Source.SENDER:
            if e.kind == SenderEvent.EFFECT:
                pending = (e.get("effect"), t)
            elif e.kind == SenderEvent.RESULT and pending is not None:
                effect, began = pending
                pending = None
                result = e.get("result")
                code = result.code if isinstance(result, Failed) else 0
                if isinstance(effect, AddConnection):
                    maps += 1
                    b.close_all(t, "step:")  # rule 4
                    kind = "map_failed" if code else "map_ok"
                    b.parts.spans.append(Span("sender", began, t, kind, code, maps))
                    settling = False
                elif isinstance(effect, Dial):
                    dials += 1
                    kind = "dial_failed" if code else "dial"
                    b.parts.spans.append(Span("sender", began, t, kind, code, dials))
                    settling = not code
                elif isinstance(effect, Sleep):
                    # The policy's settle delay (after Connected, before the first map) is
                    # not a wait before a retry: it is drawn and labelled as what it is.
                    b.parts.spans.append(Span("sender", began, t,
                                              "settle" if settling else "sleep",
                                              note=f"{effect.seconds:g}"))
                    settling = False
                elif isinstance(effect, HangUp):
                    b.parts.spans.append(Span("sender", began, t, "hangup"))
            elif e.kind == SenderEvent.OUTCOME:
                outcome = e.get("outcome")
                if isinstance(outcome, Connected):
                    b.parts.verdict = "connected"
                    b.parts.marks.append(Mark("sender", t, "connected"))
                elif isinstance(outcome, GaveUp):
                    b.parts.verdict = (f"gave up ({outcome.reason}) with {outcome.code} "
                                       f"{symbol_of(outcome.code)}")
                    b.parts.marks.append(Mark("sender", t, "gave_up", outcome.code))
                b.parts.attempts = getattr(outcome, "attempts", maps)
                b.parts.dials = getattr(outcome, "dials", dials)
        # --- RAS: the port held, the dial phases -----------------------------------------
        elif key == (Source.RAS, RasEvent.PORT_TAKEN):
            b.begin("port", Span("RAS", t, t, "port"))
        elif key == (Source.RAS, RasEvent.PREDIALED):
            b.begin("port", Span("RAS", e.get("since"), t, "port", note="predialed"))
        elif key == (Source.RAS, RasEvent.PORT_FREED):
            b.close("port", t)
        elif key == (Source.RAS, RasEvent.PHASE):
            b.begin("phase", Span("RAS", t, t, f"phase_{e.get('phase')}"))
        elif key == (Source.RAS, RasEvent.PHASE_FAILED):
            b.close("phase", t, code=e.get("code"))
        elif key == (Source.RAS, RasEvent.CONNECTED):
            b.close("phase", t)
            b.parts.marks.append(Mark("RAS", t, "ras_connected"))
        elif key == (Source.RAS, RasEvent.ALREADY_CONNECTED):
            b.parts.marks.append(Mark("RAS", t, "ras_connected"))
        elif key == (Source.RAS, RasEvent.NO_PORT):
            b.parts.marks.append(Mark("RAS", t, "no_port", e.get("code")))
        elif key == (Source.RAS, RasEvent.HANGUP):
            b.parts.marks.append(Mark("RAS", t, "ras_hangup"))
            b.end_name_path(t)
        # --- link ------------------------------------------------------------------------
        elif key == (Source.LINK, LinkEvent.UP):
            b.begin("link", Span("link", e.get("since"), t, "link_up"))
        elif key == (Source.LINK, LinkEvent.DOWN):
            b.close("link", t)
            b.end_name_path(t)
        elif key == (Source.LINK, LinkEvent.OUTAGE):
            b.begin(f"outage:{e.get('fault')}", Span("link", t, t, "outage",
                                                     note=str(e.get("fault"))))
        elif key == (Source.LINK, LinkEvent.OUTAGE_OVER):
            b.close(f"outage:{e.get('fault')}", t)
        elif key == (Source.LINK, LinkEvent.SPIKE):
            b.begin(f"spike:{e.get('fault')}", Span("link", t, t, "spike",
                                                    note=f"{e.get('factor'):g}"))
        elif key == (Source.LINK, LinkEvent.SPIKE_OVER):
            b.close(f"spike:{e.get('fault')}", t)
        # --- name path: not ready until ready_at, then ready until the link goes ---------
        elif key == (Source.NAME_PATH, NamePathEvent.LAG):
            ready_at, lag = e.get("ready_at"), e.get("lag")
            b.end_name_path(t)
            b.parts.spans.append(Span("name path", ready_at - lag, ready_at, "not_ready",
                                      note=f"{lag:.1f}"))
            b.begin("name", Span("name path", ready_at, ready_at, "ready"))
        # --- the protocol steps of a map attempt -----------------------------------------
        elif key == (Source.NETBT, NetbtEvent.WINS_QUERY):
            if e.get("n") == 1:
                b.begin("step:wins", Span("steps", t, t, "wins"))
            b.parts.marks.append(Mark("steps", t, "wins_query", number=e.get("n")))
        elif key == (Source.NETBT, NetbtEvent.RESOLVED):
            b.close("step:wins", t)
        elif key == (Source.NETBT, NetbtEvent.CACHE_HIT):
            b.parts.marks.append(Mark("steps", t, "cache_hit"))
        elif key == (Source.NETBT, NetbtEvent.WINS_GAVE_UP):
            b.close("step:wins", t, kind="wins_failed")
            b.begin("step:bcast", Span("steps", t, t, "broadcast"))
        elif key == (Source.NETBT, NetbtEvent.BROADCAST_GAVE_UP):
            b.close("step:bcast", t, code=ERROR_BAD_NETPATH)
        elif key == (Source.TCP, TcpEvent.SYN):
            if e.get("n") == 1:
                b.begin("step:tcp", Span("steps", t, t, "tcp"))
            b.parts.marks.append(Mark("steps", t, "syn", number=e.get("n")))
        elif key == (Source.TCP, TcpEvent.ESTABLISHED):
            b.close("step:tcp", t)
        elif key == (Source.TCP, TcpEvent.GAVE_UP):
            b.close("step:tcp", t, kind="tcp_failed", code=ERROR_BAD_NETPATH)
        elif e.source == Source.SMB and e.kind in SMB_STEPS:
            b.begin("step:smb", Span("steps", t, t, e.kind))
        elif key == (Source.SMB, SmbEvent.FAILED):
            b.close("step:smb", t, code=e.get("code"))
        # --- faults ----------------------------------------------------------------------
        elif key == (Source.FAULT, FaultEvent.BEGIN):
            duration = e.get("duration")
            span = Span("faults", t, t + duration if math.isfinite(duration) else t,
                        f"fault_{e.get('fault_kind')}", note=str(e.get("fault")))
            b.begin(f"fault:{e.get('fault')}:{t!r}", span)
        elif key == (Source.FAULT, FaultEvent.END):
            for lane_key in [k for k in b.open if k[1].startswith(f"fault:{e.get('fault')}:")]:
                b.close(lane_key[1], t)
    # Rule 2: what is still open ends with the trial.
    b.end_name_path(end, open_end=True)
    for (_, open_key) in list(b.open):
        closed = b.close(open_key, end)
        if closed is not None:
            closed.open_end = True
    b.parts.end = end
    b.parts.spans.sort(key=lambda s: (LANES.index(s.lane), s.start))
    return b.parts
