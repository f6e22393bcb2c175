"""Render a recorded trace: a timeline, Sender.log-style lines, or JSON lines.

The Sender.log wording follows the lines quoted in the KB articles (domain-facts section 4),
e.g. ``Error during WNetAddConnection2 to \\\\DSSMS\\SMS_SITE (53).`` Rendering is a pure
function of the events, so the same trial always renders the same text.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sender.codes import symbol_of
from sender.effects import AddConnection, Connected, Dial, Failed, GaveUp, HangUp, Sleep
from sim.world.events import (
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

__all__ = ["jsonl", "sender_log", "timeline"]


def _t(seconds: float) -> str:
    return f"{seconds:10.3f}s"


# --- Sender.log -----------------------------------------------------------------------------
def sender_log(events: Sequence[TraceEvent], *, server: str, site: str) -> list[str]:
    """What SMS 2.0's Sender.log would have said, one line per entry, with virtual times."""
    lines: list[str] = []
    outcome = next((e.get("outcome") for e in events if e.kind == SenderEvent.OUTCOME), None)
    failures_left = sum(1 for e in events
                        if e.kind == SenderEvent.RESULT and isinstance(e.get("result"), Failed))
    pending: Any = None
    for event in events:
        if event.source != Source.SENDER:
            continue
        if event.kind == SenderEvent.EFFECT:
            pending = event.get("effect")
            lines.extend(_effect_lines(event.t, pending))
        elif event.kind == SenderEvent.RESULT:
            result = event.get("result")
            if isinstance(result, Failed):
                failures_left -= 1
                last_permanent = (failures_left == 0 and isinstance(outcome, GaveUp)
                                  and outcome.reason == "non_retryable")
                lines.extend(_failure_lines(event.t, pending, result, not last_permanent))
            elif isinstance(pending, Dial):
                lines.append(f"{_t(event.t)}  RAS connection to {pending.entry} established.")
            elif isinstance(pending, AddConnection):
                lines.append(f"{_t(event.t)}  Connected to {pending.remote}.")
        elif event.kind == SenderEvent.OUTCOME and isinstance(event.get("outcome"), GaveUp):
            t = event.t
            lines += [
                f"{_t(t)}  Cannot connect to server \\\\{server} at remote site {site}, won't try "
                f"send requests going to site {site} for an hour or until there are no active "
                "send requests.",
                f"{_t(t)}  Could not establish connection.",
                f"{_t(t)}  Attempt to connect failed.",
            ]
    return lines


def _effect_lines(t: float, effect: Any) -> list[str]:
    if isinstance(effect, Dial):
        return [f"{_t(t)}  Dialing RAS phonebook entry {effect.entry}."]
    if isinstance(effect, AddConnection):
        return [f"{_t(t)}  Trying the No. 1 address (out of 1)"]
    if isinstance(effect, Sleep):
        return [f"{_t(t)}  Waiting {effect.seconds:.1f} seconds before retrying."]
    if isinstance(effect, HangUp):
        return [f"{_t(t)}  Hanging up the RAS connection."]
    return []


def _failure_lines(t: float, effect: Any, result: Failed, retryable: bool) -> list[str]:
    if isinstance(effect, AddConnection):
        lines = [f"{_t(t)}  Error during WNetAddConnection2 to {effect.remote} ({result.code})."]
    else:
        lines = [f"{_t(t)}  Error during RasDial ({result.code})."]
    if retryable:
        lines.append(f"{_t(t)}  Operation is retryable.")
    return lines


# --- timeline -------------------------------------------------------------------------------
def _describe_sender(event: TraceEvent) -> str:
    if event.kind == SenderEvent.EFFECT:
        effect = event.get("effect")
        if isinstance(effect, Dial):
            return f"Dial {effect.entry}"
        if isinstance(effect, AddConnection):
            return f"AddConnection {effect.remote}"
        if isinstance(effect, Sleep):
            return f"Sleep {effect.seconds:.3f}s"
        return "HangUp"
    if event.kind == SenderEvent.RESULT:
        result = event.get("result")
        if isinstance(result, Failed):
            return f"-> Failed {result.code} {symbol_of(result.code)}"
        return "-> Succeeded"
    if event.kind == SenderEvent.SENDING:  # a fleet sender's send job keeps the line, then hangs up
        return f"sending for {event.get('seconds'):.3f}s"
    if event.kind == SenderEvent.SENT:
        return "sent; line hung up"
    outcome = event.get("outcome")
    if isinstance(outcome, Connected):
        return f"== Connected after {outcome.attempts} attempt(s), {outcome.dials} dial(s)"
    assert isinstance(outcome, GaveUp)
    return (f"== GaveUp ({outcome.reason}) with {outcome.code} {symbol_of(outcome.code)} after "
            f"{outcome.attempts} attempt(s), {outcome.dials} dial(s)")


_COMPONENT_TEXT: dict[tuple[str, str], Callable[[TraceEvent], str]] = {
    (Source.RAS, RasEvent.PORT_TAKEN): lambda e: f"port answered ({e.get('in_use')} in use)",
    (Source.RAS, RasEvent.PORT_FREED): lambda e: f"port freed ({e.get('in_use')} in use)",
    (Source.RAS, RasEvent.NO_PORT): lambda e: f"no free port -> {e.get('code')}",
    (Source.RAS, RasEvent.PHASE): lambda e: f"phase {e.get('phase')}",
    (Source.RAS, RasEvent.PHASE_FAILED):
        lambda e: f"phase {e.get('phase')} failed -> {e.get('code')}",
    (Source.RAS, RasEvent.CONNECTED): lambda e: "RASCS_Connected",
    (Source.RAS, RasEvent.PREDIALED):
        lambda e: f"connection dialed by hand at {e.get('since'):.1f}s (RASDIAL)",
    (Source.RAS, RasEvent.ALREADY_CONNECTED): lambda e: "entry already connected: using it",
    (Source.RAS, RasEvent.HANGUP): lambda e: "RasHangUp",
    (Source.LINK, LinkEvent.UP): lambda e: "link up",
    (Source.LINK, LinkEvent.CARRYING): lambda e: "link carrying traffic",
    (Source.LINK, LinkEvent.DOWN): lambda e: f"link down ({e.get('cause')})",
    (Source.LINK, LinkEvent.OUTAGE): lambda e: f"OUTAGE begins [{e.get('fault')}]",
    (Source.LINK, LinkEvent.OUTAGE_OVER): lambda e: f"outage over [{e.get('fault')}]",
    (Source.LINK, LinkEvent.SPIKE): lambda e: f"latency x{e.get('factor'):g} [{e.get('fault')}]",
    (Source.LINK, LinkEvent.SPIKE_OVER): lambda e: f"latency spike over [{e.get('fault')}]",
    (Source.NAME_PATH, NamePathEvent.LAG):
        lambda e: f"name path ready at {e.get('ready_at'):.3f}s (lag {e.get('lag'):.3f}s)",
    (Source.NETBT, NetbtEvent.WINS_QUERY): lambda e: f"WINS name query {e.get('n')}",
    (Source.NETBT, NetbtEvent.RESOLVED): lambda e: "name resolved",
    (Source.NETBT, NetbtEvent.CACHE_HIT): lambda e: "name in NetBT cache",
    (Source.NETBT, NetbtEvent.WINS_GAVE_UP): lambda e: "WINS gave up (no answer)",
    (Source.NETBT, NetbtEvent.BROADCAST_GAVE_UP):
        lambda e: "broadcast gave up (cannot cross the RAS link)",
    (Source.TCP, TcpEvent.SYN): lambda e: f"SYN {e.get('n')} to port 139",
    (Source.TCP, TcpEvent.ESTABLISHED): lambda e: "TCP established",
    (Source.TCP, TcpEvent.GAVE_UP): lambda e: "TCP connect gave up",
    (Source.SMB, SmbEvent.FAILED): lambda e: f"{e.get('step')} failed -> {e.get('code')}",
    (Source.FAULT, FaultEvent.BEGIN): lambda e: (f"fault {e.get('fault')} begins"
                                                 + ("" if math.isinf(e.get('duration')) else
                                                    f" for {e.get('duration'):.3f}s")),
    (Source.FAULT, FaultEvent.END): lambda e: f"fault {e.get('fault')} ends",
    (Source.FAULT, FaultEvent.HORIZON): lambda e: (f"fault {e.get('fault')}: 30-day horizon "
                                                   "reached, no more windows"),
}


def timeline(events: Iterable[TraceEvent]) -> list[str]:
    """One line per event: time, source, what happened. In a fleet, events of sender k
    are tagged ``s{k}``; events of the shared world (faults) are not."""
    lines = []
    for event in events:
        k = event.get("sender")
        tag = "" if k is None else f"{'s' + str(k):<4} "
        if event.source == Source.SENDER:
            text = _describe_sender(event)
        else:
            describe = _COMPONENT_TEXT.get((event.source, event.kind))
            text = describe(event) if describe else event.kind.replace("_", " ")
        lines.append(f"{_t(event.t)}  {tag}{event.source:<9} {text}")
    return lines


# --- JSON lines -----------------------------------------------------------------------------
def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {"type": type(value).__name__, **{k: _plain(v) for k, v in
                                                 dataclasses.asdict(value).items()}}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def jsonl(events: Iterable[TraceEvent]) -> list[str]:
    """One JSON object per event: ``t``, ``source``, ``kind`` and the event's fields."""
    return [json.dumps({"t": e.t, "source": e.source, "kind": e.kind,
                        **{k: _plain(v) for k, v in e.data}}, sort_keys=False)
            for e in events]
