"""The SMB client side of ``AddConnection``: NT's SYN schedule, then pysmb over NetBIOS 139.

1. ``tcp_connect``: one socket per SYN at NT 4.0's retransmission times scaled by k (initial
   RTO, doubling, TcpMaxConnectRetransmissions retries; Q200770), because Linux's own SYN
   timers (1 s) cannot be scaled. No SYN-ACK in time, or a refusal, is 53 (Q141344).
2. ``Session``: pysmb's ``SMBConnection`` (SMB1 "NT LM 0.12" over the NetBIOS session
   service, as NT 4.0 spoke) on that socket: NetBIOS session request, negotiate, session
   setup; ``tree_connect`` then sends one SMB_COM_TREE_CONNECT_ANDX and nothing else
   (pysmb's public calls would add a directory read). Each wait is bounded by SessTimeOut/k.
   Failures surface as exceptions or statuses that ``sim.real.codes`` maps to Win32 codes.
"""

from __future__ import annotations

import errno
import select
import socket
import time
from typing import Any

from sim.real.clock import ModelClock

__all__ = ["SmbStatus", "new_session", "tcp_connect"]

SMB_PORT = 139


class SmbStatus(Exception):
    """The server answered a step with an NTSTATUS error."""

    def __init__(self, step: str, status: int) -> None:
        super().__init__(f"{step}: NTSTATUS 0x{status:08X}")
        self.step = step
        self.status = status


def tcp_connect(clock: ModelClock, server_ip: str, client_ip: str, initial_rto: float,
                retransmissions: int) -> socket.socket | None:
    """Rule 1: a connected socket, or None when no SYN was answered (or one was refused)."""
    rto = initial_rto
    for _ in range(1 + retransmissions):
        deadline = clock.now() + rto
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        sock.bind((client_ip, 0))
        result = sock.connect_ex((server_ip, SMB_PORT))
        if result not in (0, errno.EINPROGRESS):
            sock.close()
            return None
        while True:
            remaining = (deadline - clock.now()) / clock.scale
            if remaining <= 0:
                break
            _, writable, _ = select.select([], [sock], [], remaining)
            if writable:
                error = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if error == 0:
                    sock.setblocking(True)
                    return sock
                sock.close()
                return None  # refused (RST): nothing listens, 53 as a time-out would be
        sock.close()
        rto *= 2
    return None


def new_session(user: str, password: str, server: str, domain: str) -> Any:
    """A pysmb connection object with the ``attach``/``tree_connect`` steps of rule 2."""
    # why: pysmb is the optional real extra
    from smb.base import _PendingRequest
    from smb.smb_structs import SERVICE_ANY, ComTreeConnectAndxRequest, SMBMessage
    from smb.SMBConnection import SMBConnection

    class Session(SMBConnection):  # type: ignore[misc]
        last_status = 0

        def _updateState_SMB1(self, message: Any) -> Any:  # noqa: N802 (pysmb's name)
            self.last_status = message.status.internal_value
            return super()._updateState_SMB1(message)

        def attach(self, sock: socket.socket, timeout: float) -> None:
            """NetBIOS session, negotiate and session setup on ``sock`` (pysmb's connect
            without its own socket). Raises ``SmbStatus`` when the server refuses."""
            self.sock = sock
            sock.settimeout(timeout)
            self.auth_result = None
            self.is_busy = True
            try:
                self.requestNMBSession()
                while self.auth_result is None:
                    self._pollForNetBIOSPacket(timeout)
            finally:
                self.is_busy = False
            if not self.auth_result:
                raise SmbStatus("session_setup", self.last_status)

        def tree_connect(self, share: str, timeout: float) -> None:
            replies: list[Any] = []

            def reply(message: Any, **_: Any) -> None:
                replies.append(message)
            message = SMBMessage(ComTreeConnectAndxRequest(
                rf"\\{self.remote_name.upper()}\{share}", SERVICE_ANY, ""))
            self._sendSMBMessage(message)
            self.pending_requests[message.mid] = _PendingRequest(
                message.mid, time.time() + timeout, reply, reply, path=share)
            self.is_busy = True
            try:
                while not replies:
                    self._pollForNetBIOSPacket(timeout)
            finally:
                self.is_busy = False
            reply = replies[0]
            status = getattr(getattr(reply, "status", None), "internal_value", None)
            if status is None:
                raise SmbStatus("tree_connect", 0xFFFFFFFF)
            if status:
                raise SmbStatus("tree_connect", status)

    return Session(user, password, "SENDER", server, domain=domain, use_ntlm_v2=True)
