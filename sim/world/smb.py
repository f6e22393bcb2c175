"""WNetAddConnection2 as the wire sees it: resolve, TCP to 139, NetBIOS session, SMB.

Model contract (design guide section 2):

1. Name resolution (``sim.world.netbt``) failing gives 53.
2. TCP connect to port 139: a SYN at s, retransmitted after RTO 3 s, doubling, up to
   TcpMaxConnectRetransmissions times (Q200770). A SYN is answered iff it reaches the far
   side while the name path (routes) is ready; the SYN-ACK crosses back. No SYN-ACK by
   s + 3 + 6 + 12 + 24 = 45 s: 53 (Q141344: a NetBT connect time-out surfaces as 53).
3. NetBIOS session request, SMB negotiate, session setup and tree connect: one round trip
   each, each bounded by SessTimeOut (Q102067): expiry gives 121, a link drop during the
   exchange gives 64, bad credentials 1326 (session setup), a missing share 67 and a paused
   server 70 (tree connect).
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any, cast

import simpy

from sender.codes import (
    ERROR_BAD_NET_NAME,
    ERROR_BAD_NETPATH,
    ERROR_LOGON_FAILURE,
    ERROR_NETNAME_DELETED,
    ERROR_SEM_TIMEOUT,
    ERROR_SHARING_PAUSED,
)
from sender.effects import Failed, Result, Succeeded
from sim.scenario.schema import FaultKind, SmbSpec, TcpSpec
from sim.world.board import FaultBoard
from sim.world.events import SmbEvent, Source, TcpEvent
from sim.world.link import LOST, Link
from sim.world.netbt import NamePath, Resolver
from sim.world.race import Wake
from sim.world.stages import syn_waits
from sim.world.trace import Tracer

__all__ = ["SESSION_STEPS", "SmbClient"]

SYN_BYTES = 44  # [I] IP + TCP header with MSS option
SESSION_TIMEOUT_CODE = ERROR_SEM_TIMEOUT
LINK_DROPPED_CODE = ERROR_NETNAME_DELETED

#: (step, request bytes, response bytes, fault kind the server checks -> code) [I] sizes.
SESSION_STEPS: tuple[tuple[SmbEvent, int, int, tuple[tuple[FaultKind, int], ...]], ...] = (
    (SmbEvent.NETBIOS_SESSION, 112, 44, ()),
    (SmbEvent.NEGOTIATE, 190, 150, ()),
    (SmbEvent.SESSION_SETUP, 250, 150, (("bad_credentials", ERROR_LOGON_FAILURE),)),
    (SmbEvent.TREE_CONNECT, 130, 90, (("share_missing", ERROR_BAD_NET_NAME),
                                      ("server_paused", ERROR_SHARING_PAUSED))),
)


class SmbClient:
    """Performs ``AddConnection`` against the far side, one protocol step at a time."""

    def __init__(self, env: simpy.Environment, tcp: TcpSpec, smb: SmbSpec, link: Link,
                 name_path: NamePath, resolver: Resolver, faults: FaultBoard,
                 tracer: Tracer) -> None:
        self.env = env
        self._tcp = tcp
        self._smb = smb
        self._link = link
        self._name_path = name_path
        self._resolver = resolver
        self._faults = faults
        self._tracer = tracer
        self._wake = Wake(env)

    def add_connection(self) -> Generator[simpy.Event, Any, Result]:
        code = yield from self._resolver.resolve()
        if code == 0:
            code = yield from self._tcp_connect()
        if code == 0:
            # Each exchange's one wait is yielded here rather than from a generator per
            # exchange: one generator less to make and to resume through, the same events.
            wake, session_timeout = self._wake, self._smb.session_timeout
            for step, request_bytes, response_bytes, checks in SESSION_STEPS:
                reply = self._exchange(step, request_bytes, response_bytes, checks)
                yield wake.first_of(reply, simpy.Timeout(self.env, session_timeout))
                code = self._exchange_code(step, reply)
                if code:
                    break
        if code:
            return Failed(code, self.env.now)
        return Succeeded(self.env.now)

    # --- TCP ------------------------------------------------------------------------------
    def _syn_answered(self, now: float) -> int | None:
        return 0 if self._name_path.ready(now) else None

    def _tcp_connect(self) -> Generator[simpy.Event, Any, int]:
        env = self.env
        established = env.event()

        def on_syn_ack(event: simpy.Event) -> None:
            if event.value != LOST and not established.triggered:
                established.succeed(env.now)

        for attempt, rto in enumerate(syn_waits(self._tcp.initial_rto,
                                                self._tcp.max_connect_retransmissions)):
            self._tracer.record(env.now, Source.TCP, TcpEvent.SYN, n=attempt + 1)
            self._link.request(SYN_BYTES, SYN_BYTES, self._syn_answered) \
                .callbacks.append(on_syn_ack)
            yield self._wake.first_of(established, env.timeout(rto))
            if established.triggered:
                self._tracer.record(env.now, Source.TCP, TcpEvent.ESTABLISHED)
                return 0
        self._tracer.record(env.now, Source.TCP, TcpEvent.GAVE_UP)
        return ERROR_BAD_NETPATH

    # --- NetBIOS session and SMB --------------------------------------------------------
    def _server_verdict(self, checks: tuple[tuple[FaultKind, int], ...]) -> Callable[[float], int]:
        def serve(now: float) -> int:
            for kind, code in checks:
                if self._faults.first_active(kind) is not None:
                    return code
            return 0
        return serve

    def _exchange(self, step: SmbEvent, request_bytes: int, response_bytes: int,
                  checks: tuple[tuple[FaultKind, int], ...]) -> simpy.Event:
        """Send step ``step``'s request; the event is its reply (``Link.request``). The
        caller waits for it or SessTimeOut, then reads the code with ``_exchange_code``."""
        self._tracer.record(self.env.now, Source.SMB, step)
        return self._link.request(request_bytes, response_bytes, self._server_verdict(checks),
                                  think=self._smb.server_think)

    def _exchange_code(self, step: SmbEvent, reply: simpy.Event) -> int:
        """Rule 3's code once the wait for ``reply`` is over: 121 if it has not come, 64 if
        the link lost it, else the server's verdict (0 when the step succeeded)."""
        if not reply.triggered:
            code = SESSION_TIMEOUT_CODE
        elif reply.value == LOST:
            code = LINK_DROPPED_CODE
        else:
            code = cast(int, reply.value)
        if code:
            self._tracer.record(self.env.now, Source.SMB, SmbEvent.FAILED, step=step, code=code)
        return int(code)
