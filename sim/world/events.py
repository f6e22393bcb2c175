"""The trace vocabulary: every (source, kind) pair a trial's tracer can record, as types.

Rules:

1. An event's ``source`` is a ``Source``; its ``kind`` is a member of that source's kind
   enum (``VOCABULARY[source]``). Components record members, never bare strings, and
   renderers and plots match members, so a misspelt kind is a type error, not a silent miss.
2. The members are ``StrEnum``s whose values are the strings traces have always carried:
   they compare, hash, format and serialise (``json.dumps``) exactly as those strings, so
   rendered timelines, Sender.log lines and JSON lines are unchanged.
3. The SMB kinds include the four protocol steps (``SMB_STEPS``, in the order they run).
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "FaultEvent",
    "Kind",
    "LinkEvent",
    "NamePathEvent",
    "NetbtEvent",
    "RasEvent",
    "SMB_STEPS",
    "SenderEvent",
    "SmbEvent",
    "Source",
    "TcpEvent",
    "VOCABULARY",
]


class Source(StrEnum):
    """Who recorded the event."""

    SENDER = "sender"
    RAS = "ras"
    LINK = "link"
    NAME_PATH = "name_path"
    NETBT = "netbt"
    TCP = "tcp"
    SMB = "smb"
    FAULT = "fault"


class SenderEvent(StrEnum):
    """The driver's view of the sender procedure (and a fleet sender's send job)."""

    EFFECT = "effect"  # effect=
    RESULT = "result"  # result=
    OUTCOME = "outcome"  # outcome=
    SENDING = "sending"  # seconds= (fleet: connected, now transferring)
    SENT = "sent"  # fleet: transfer done, line hung up


class RasEvent(StrEnum):
    """RAS ports and dial phases."""

    PREDIALED = "predialed"  # since=
    ALREADY_CONNECTED = "already_connected"
    NO_PORT = "no_port"  # code=
    PORT_TAKEN = "port_taken"  # in_use=
    PHASE = "phase"  # phase=
    PHASE_FAILED = "phase_failed"  # phase=, code=
    CONNECTED = "connected"
    HANGUP = "hangup"
    PORT_FREED = "port_freed"  # in_use=


class LinkEvent(StrEnum):
    """The line: up/down, carrying traffic, outages and latency spikes."""

    UP = "up"  # since=
    CARRYING = "carrying"
    DOWN = "down"  # cause=
    OUTAGE = "outage"  # fault=
    OUTAGE_OVER = "outage_over"  # fault=
    SPIKE = "spike"  # fault=, factor=
    SPIKE_OVER = "spike_over"  # fault=


class NamePathEvent(StrEnum):
    """When the remote name service and routes answer for the current connection."""

    LAG = "lag"  # lag=, ready_at=


class NetbtEvent(StrEnum):
    """The NetBT resolver."""

    CACHE_HIT = "cache_hit"
    WINS_QUERY = "wins_query"  # n=
    RESOLVED = "resolved"
    WINS_GAVE_UP = "wins_gave_up"
    BROADCAST_GAVE_UP = "broadcast_gave_up"


class TcpEvent(StrEnum):
    """TCP connect to port 139."""

    SYN = "syn"  # n=
    ESTABLISHED = "established"
    GAVE_UP = "gave_up"


class SmbEvent(StrEnum):
    """The NetBIOS session and SMB steps (each recorded as it starts) and a failed step."""

    NETBIOS_SESSION = "netbios_session"
    NEGOTIATE = "negotiate"
    SESSION_SETUP = "session_setup"
    TREE_CONNECT = "tree_connect"
    FAILED = "failed"  # step=, code=


class FaultEvent(StrEnum):
    """A fault window (``fault=`` label, ``fault_kind=``; ``duration=`` on begin)."""

    BEGIN = "begin"
    END = "end"
    HORIZON = "horizon"  #: a stochastic fault opens no window past the horizon


Kind = (SenderEvent | RasEvent | LinkEvent | NamePathEvent | NetbtEvent | TcpEvent | SmbEvent
        | FaultEvent)

#: Each source's kinds.
VOCABULARY: dict[Source, type[StrEnum]] = {
    Source.SENDER: SenderEvent,
    Source.RAS: RasEvent,
    Source.LINK: LinkEvent,
    Source.NAME_PATH: NamePathEvent,
    Source.NETBT: NetbtEvent,
    Source.TCP: TcpEvent,
    Source.SMB: SmbEvent,
    Source.FAULT: FaultEvent,
}

#: The SMB protocol steps in the order they run (rule 3).
SMB_STEPS: tuple[SmbEvent, ...] = (SmbEvent.NETBIOS_SESSION, SmbEvent.NEGOTIATE,
                                   SmbEvent.SESSION_SETUP, SmbEvent.TREE_CONNECT)
