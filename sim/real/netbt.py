"""NT 4.0's NetBT name resolution, emulated, against a real WINS server (nmbd).

NT 4.0's own resolver cannot run here (no NT image), and Samba's client resolver is fixed at
2 queries 1 s apart, so the resolver's timers are emulated; the WINS server, UDP, the
kernels and the wire are real. Rules (the model's, ``sim.world.netbt``):

1. A resolution started at s sends a NAME QUERY REQUEST for ``NAME<20>`` to the WINS server
   at s, s+T, s+2T, ... (T = NameSrvQueryTimeout / k, NameSrvQueryCount queries), all with
   one transaction id, as NT 4.0 retransmits.
2. Any positive response with that id that arrives strictly before give-up at
   s + count x T resolves the name, whichever query it answers. A negative response
   (the name is unknown to WINS) ends the WINS phase at once.
3. Then, if enabled, the broadcast fallback: ``bcast_query_count`` broadcast queries
   ``bcast_query_timeout`` apart, sent for real to the subnet's broadcast address. The wire
   never lets a broadcast cross (Q246497), so this only spends the time; an answer would
   still count. A late answer to the WINS queries does not (they carry another id). No
   answer: 53.
4. A resolved name is cached for CacheTimeout (model seconds).
"""

from __future__ import annotations

import math
import secrets
import socket
import struct
from dataclasses import dataclass, field

from sim.real.clock import ModelClock
from sim.scenario.schema import NetbtSpec

__all__ = ["Resolution", "Resolver", "encode_name", "name_query", "read_response"]

_PORT = 137
_BAD_NETPATH = 53


def encode_name(name: str, suffix: int = 0x20) -> bytes:
    """RFC 1001 first-level encoding of a NetBIOS name, as a length-prefixed DNS label."""
    raw = name.upper()[:15].ljust(15).encode("ascii") + bytes([suffix])
    half = bytes(b for c in raw for b in (0x41 + (c >> 4), 0x41 + (c & 0x0F)))
    return b"\x20" + half + b"\x00"


def name_query(transaction: int, name: str, broadcast: bool = False) -> bytes:
    """A NAME QUERY REQUEST (RFC 1002 4.2.12): recursion desired, B set when broadcast."""
    flags = 0x0100 | (0x0010 if broadcast else 0)
    return (struct.pack("!HHHHHH", transaction, flags, 1, 0, 0, 0) + encode_name(name)
            + struct.pack("!HH", 0x0020, 0x0001))


def read_response(data: bytes, transaction: int) -> bool | None:
    """True for a positive NAME QUERY RESPONSE with ``transaction``, False for a negative
    one, None when ``data`` is not a response to it."""
    if len(data) < 12:
        return None
    trn, flags, _, answers = struct.unpack_from("!HHHH", data)
    if trn != transaction or not flags & 0x8000:
        return None
    return bool(flags & 0x000F == 0 and answers > 0)


@dataclass(slots=True)
class Resolution:
    """What one resolution did, in model seconds."""

    start: float
    code: int
    queries: list[float] = field(default_factory=list)
    answered_at: float = math.inf
    negative: bool = False
    cached: bool = False


class Resolver:
    """The sender's NetBT resolver for the server's name (rules 1-4)."""

    def __init__(self, spec: NetbtSpec, clock: ModelClock, name: str, server_ip: str,
                 client_ip: str, broadcast_ip: str) -> None:
        self.spec = spec
        self.clock = clock
        self.name = name
        self.server_ip = server_ip
        self.client_ip = client_ip
        self.broadcast_ip = broadcast_ip
        self._cached_until = -math.inf

    def resolve(self) -> Resolution:
        clock, spec = self.clock, self.spec
        start = clock.now()
        if start < self._cached_until:
            return Resolution(start, 0, cached=True)
        transaction = secrets.randbelow(0x10000)
        out = Resolution(start, _BAD_NETPATH)
        give_up = start + spec.name_query_count * spec.name_query_timeout
        query = name_query(transaction, self.name)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
            sock.bind((self.client_ip, _PORT))
            for n in range(spec.name_query_count):
                out.queries.append(clock.now())
                sock.sendto(query, (self.server_ip, _PORT))
                verdict = self._await(sock, transaction, start + (n + 1) * spec.name_query_timeout)
                if verdict is not None:
                    out.answered_at = clock.now()
                    out.negative = not verdict
                    break
            # Rule 2: strictly before give-up; a tie goes to give-up, as in the model.
            if not out.negative and out.answered_at < give_up:
                out.code = 0
                self._cached_until = out.answered_at + spec.cache_timeout
                return out
            if spec.broadcast_fallback and spec.bcast_query_count:
                # A fresh id: a late WINS answer arriving now must not count (the model's
                # rule 3; whether NT 4.0 accepted one is not documented).
                transaction = (transaction + 1) & 0xFFFF
                bcast = name_query(transaction, self.name, broadcast=True)
                began = clock.now()
                for n in range(spec.bcast_query_count):
                    sock.sendto(bcast, (self.broadcast_ip, _PORT))
                    verdict = self._await(sock, transaction,
                                          began + (n + 1) * spec.bcast_query_timeout)
                    if verdict:  # cannot happen through the wire; counted if it did
                        out.code = 0
                        out.answered_at = clock.now()
                        return out
        return out

    def _await(self, sock: socket.socket, transaction: int, until: float) -> bool | None:
        """The verdict of the first response with ``transaction`` before model time
        ``until``, or None at ``until``. Other datagrams (late answers to an earlier
        resolution's id) are ignored."""
        while True:
            remaining = (until - self.clock.now()) / self.clock.scale
            if remaining <= 0:
                return None
            sock.settimeout(remaining)
            try:
                data = sock.recv(2048)
            except TimeoutError:
                return None
            verdict = read_response(data, transaction)
            if verdict is not None:
                return verdict
