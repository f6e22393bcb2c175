"""A RAS connection log: one line per RasDial state, rendered from a recorded trace.

NT 4.0 keeps two RAS logs of its own, neither fit for timing the dial's phases: DEVICE.LOG
(``RasMan\\Parameters\\Logging = 1``: the strings sent to and received from a modem, nothing
on SNA RAS, which has no modem) and PPP.LOG (``RasMan\\PPP\\Logging``: PPP packets, with no
documented line form to read reliably). What does mark the phases is the RasDial state
sequence (``RASCS_OpenPort`` ... ``RASCS_Connected``) that RasDial reports to its caller's
callback. rassim's RAS connection log is that sequence, one line per state, written in
Sender.log's line form so one reader serves both::

    RasDial BOSTON #INTER: RASCS_ConnectDevice~  $$<RASDIAL><03-12-1999 10:00:00.000+000>
    <thread=0x1A4>

(one line in the file). The format is rassim's own; a site gets it from any RasDial client
that logs its callback states with times (the real stack's sender, a RASDIAL wrapper).

Rules:

1. The phases of the model (``sim.world.ras`` rule 2) map to states: connect runs from
   ``RASCS_ConnectDevice`` to ``RASCS_AllDevicesConnected``, authenticate from
   ``RASCS_Authenticate`` to ``RASCS_Authenticated``, project from ``RASCS_Authenticated``
   to ``RASCS_Projected`` (domain-facts section 6's order), then ``RASCS_Connected``.
2. A phase that fails writes ``RasDial ENTRY: error CODE in RASCS_STATE`` at the failure's
   time, STATE being the state the phase started in; a dial refused for want of a port
   fails in ``RASCS_OpenPort``. ``RasHangUp`` is written as ``RASCS_Disconnected``.
3. Lines carry virtual seconds like ``sender_log``'s, so ``sim.report.sms_log.stamp`` gives
   them wall-clock stamps unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sender.effects import Dial, Failed
from sim.world.events import RasEvent, SenderEvent, Source
from sim.world.trace import TraceEvent

__all__ = ["PHASE_STATES", "RAS_COMPONENT", "ras_log"]

#: The component written in the ``$$<...>`` suffix of a stamped RAS connection log.
RAS_COMPONENT = "RASDIAL"
#: phase -> (the state it starts in, the state it ends with) (rule 1).
PHASE_STATES = {"connect": ("RASCS_ConnectDevice", "RASCS_AllDevicesConnected"),
                "authenticate": ("RASCS_Authenticate", "RASCS_Authenticated"),
                "project": ("RASCS_Authenticated", "RASCS_Projected")}


def _t(seconds: float) -> str:
    return f"{seconds:10.3f}s"


def ras_log(events: Sequence[TraceEvent], *, entry: str) -> list[str]:
    """The RasDial states of one sender's trace (rules 1 to 3)."""
    lines: list[str] = []
    pending: Any = None
    phase: str | None = None

    def say(t: float, text: str) -> None:
        lines.append(f"{_t(t)}  RasDial {entry}: {text}")

    for event in events:
        if event.source == Source.SENDER:
            if event.kind == SenderEvent.EFFECT:
                pending = event.get("effect")
                if isinstance(pending, Dial):
                    phase = None
                    say(event.t, "RASCS_OpenPort")
            elif (event.kind == SenderEvent.RESULT and isinstance(pending, Dial)
                  and isinstance(event.get("result"), Failed) and phase is None):
                say(event.t, f"error {event.get('result').code} in RASCS_OpenPort")
            continue
        if event.source != Source.RAS:
            continue
        kind = event.kind
        if kind == RasEvent.PORT_TAKEN:
            say(event.t, "RASCS_PortOpened")
        elif kind == RasEvent.PHASE:
            if phase is not None:  # the previous phase ended now
                ended = PHASE_STATES[phase][1]
                if ended != PHASE_STATES[event.get("phase")][0]:
                    say(event.t, ended)
            phase = event.get("phase")
            say(event.t, PHASE_STATES[phase][0])
        elif kind == RasEvent.PHASE_FAILED:
            say(event.t, f"error {event.get('code')} in {PHASE_STATES[event.get('phase')][0]}")
            phase = "failed"
        elif kind == RasEvent.CONNECTED:
            say(event.t, "RASCS_Projected")
            say(event.t, "RASCS_Connected")
            phase = None
        elif kind in (RasEvent.PREDIALED, RasEvent.ALREADY_CONNECTED):
            say(event.t, "RASCS_Connected (already connected)")
        elif kind == RasEvent.HANGUP:
            say(event.t, "RASCS_Disconnected")
    return lines
