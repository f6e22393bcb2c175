"""The wire: a user-space link between the sender's and the server's TUN devices.

This kernel has no netem, so the link the scenario describes is applied here, packet by
packet, in model time (``sim.real.clock``). ``WireRules`` is the pure part (tested with
fakes); ``Wire`` is the thread that moves packets between the two TUN file descriptors.

Rules (the model's link contract, ``sim.world.link`` and ``sim.world.netbt``, per packet):

1. A packet sent at model time s while the link carries traffic arrives at
   s + latency x warm-up(s) x spikes(s) + bytes x 8 / rate (rate in model bits per second),
   and never before the packet sent before it in the same direction (FIFO). Overlapping
   latency spikes multiply, as in the model (``sim.world.link``).
2. A packet is lost when the link does not carry traffic at some moment between its send
   and its arrival: a hang-up in between (the connection changed), or a ``link_outage``
   window that overlaps [send, arrival]. A packet sent while the link is down is lost.
3. The name-path gate is checked on ARRIVAL: a packet reaching the server before the
   connection's ready time is dropped (the far side stays silent, as the model's WINS
   server and SYN handling do). Checking it when the packet leaves would let queries
   that arrive after ready time be dropped (the prototype's deliberate bug: 21 discordant
   pairs in 1,000, McNemar p ~ 1e-6). ``gate_on_departure=True`` builds exactly that bug;
   it exists only so that a test can show the paired comparison catches it
   (tests/real/test_validation_can_fail.py), and no option of ``rassim real`` reaches it.
4. ``wins_unavailable``: a UDP packet to port 137 of the server arriving in the window is
   dropped. Other faults act in the performer (``sim.real.performer``).
5. No broadcast crosses the link (Q246497): the sender's broadcast name queries die here.
6. Hang-up and the start of an outage reset every TCP connection that crosses the link:
   an RST with the exact next sequence number goes to each side at once, as NT's RAS
   tore the route down locally and the redirector saw the session drop (64). A silently
   dropped link would instead give 121 on a real stack (README, model section);
   ``reset_on_down=False`` (tests and measurements only) drops silently, to measure that.
7. Counters: every decision above is counted, and so are the TCP segments that carry data
   and their bytes in each direction (``tcp_data_to_server``, ``tcp_bytes_to_server``),
   and every TCP packet with its IP size (``tcp_packets_to_server``,
   ``tcp_ip_bytes_to_server``): the real SMB exchanges a connection made are read off them.
"""

from __future__ import annotations

import heapq
import math
import os
import select
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sim.real.clock import ModelClock
from sim.real.packets import TCP, TCP_RST, TCP_SYN, UDP, Packet, parse, tcp_reset

__all__ = ["Wire", "WireRules", "WireSpec"]

#: The windows of ``sim.real.world.FaultWindow`` active at a model time: (kind, t) -> list.
Active = Callable[[str, float], list[Any]]
NETBIOS_NAME_PORT = 137


@dataclass(frozen=True, slots=True)
class WireSpec:
    """The scenario's link, in model units."""

    latency: float
    rate_bps: float | None = None
    warm_factor: float = 1.0
    warm_decay: float = 30.0


@dataclass(slots=True)
class _Flow:
    """The next sequence number each side expects, from segments delivered to it."""

    to_server: int | None = None
    to_client: int | None = None


@dataclass(slots=True)
class WireRules:
    """The wire's decisions in model time (rules 1-6), without any I/O."""

    spec: WireSpec
    server: bytes
    active: Active
    outages: Callable[[float, float], list[str]]
    touched: set[str] = field(default_factory=set)
    connected: bool = False
    up_since: float = -math.inf
    ready_at: float = math.inf
    connection: int = 0
    counters: dict[str, int] = field(default_factory=dict)
    #: Test-only: the deliberate modelling bug of rule 3 (never set by ``rassim real``).
    gate_on_departure: bool = False
    #: Rule 6; False (tests and measurements only) drops the link silently.
    reset_on_down: bool = True
    _last: dict[bool, float] = field(default_factory=dict)
    _flows: dict[tuple[bytes, int, bytes, int], _Flow] = field(default_factory=dict)

    # --- control -------------------------------------------------------------------------
    def up(self, now: float, lag: float) -> None:
        self.connected = True
        self.connection += 1
        self.up_since = now
        self.ready_at = now + lag

    def down(self) -> None:
        self.connected = False
        self.connection += 1
        self.ready_at = math.inf

    def _count(self, what: str) -> None:
        self.counters[what] = self.counters.get(what, 0) + 1

    # --- packets ---------------------------------------------------------------------------
    def admit(self, packet: Packet, now: float) -> float | None:
        """Rule 1, 2 (sent while down) and 5: the model time ``packet`` sent at ``now``
        arrives, or None when it is lost at once."""
        to_server = packet.dst == self.server
        if packet.is_broadcast():
            self._count("broadcast_dropped")
            return None
        if not self.connected or self.outages(now, now):
            for label in self.outages(now, now):
                self.touched.add(label)
            self._count("sent_while_down")
            return None
        if self.gate_on_departure and to_server and now < self.ready_at:
            self._count("gate_dropped")  # the bug of rule 3: judged when the packet LEAVES
            return None
        latency = self.spec.latency
        if self.spec.warm_factor != 1.0:
            age = now - self.up_since
            latency *= 1.0 + (self.spec.warm_factor - 1.0) * math.exp(-age / self.spec.warm_decay)
        for spike in self.active("latency_spike", now):  # overlapping spikes multiply
            latency *= spike.spec.factor
            self.touched.add(spike.label)
        if self.spec.rate_bps:
            latency += packet.size * 8.0 / self.spec.rate_bps
        arrival = max(now + latency, self._last.get(to_server, -math.inf))
        self._last[to_server] = arrival
        return arrival

    def deliver(self, packet: Packet, sent_at: float, connection: int, now: float) -> bool:
        """Rules 2-4 at the packet's arrival ``now``: whether the far side receives it."""
        if connection != self.connection or not self.connected:
            self._count("lost_to_hangup")
            return False
        lost_to = self.outages(sent_at, now)
        if lost_to:
            self.touched.update(lost_to)
            self._count("lost_to_outage")
            return False
        to_server = packet.dst == self.server
        if to_server and now < self.ready_at and not self.gate_on_departure:
            self._count("gate_dropped")
            return False
        if to_server and packet.proto == UDP and packet.dport == NETBIOS_NAME_PORT:
            wins = self.active("wins_unavailable", now)
            if wins:
                self.touched.update(w.label for w in wins)
                self._count("wins_dropped")
                return False
        if packet.proto == TCP:
            self._track(packet, to_server)
            side = "server" if to_server else "client"
            self._count(f"tcp_packets_to_{side}")
            self.counters[f"tcp_ip_bytes_to_{side}"] = (
                self.counters.get(f"tcp_ip_bytes_to_{side}", 0) + packet.size)
            if packet.payload:
                self._count(f"tcp_data_to_{side}")
                self.counters[f"tcp_bytes_to_{side}"] = (
                    self.counters.get(f"tcp_bytes_to_{side}", 0) + packet.payload)
        self._count("delivered")
        return True

    def _track(self, packet: Packet, to_server: bool) -> None:
        if to_server:
            key = (packet.src, packet.sport, packet.dst, packet.dport)
        else:
            key = (packet.dst, packet.dport, packet.src, packet.sport)
        if packet.flags & TCP_RST:
            self._flows.pop(key, None)
            return
        flow = self._flows.get(key)
        if flow is None:
            if not packet.flags & TCP_SYN:
                return  # a segment of a connection we never saw open: leave it alone
            flow = self._flows[key] = _Flow()
        if to_server:
            flow.to_server = packet.end_seq
        else:
            flow.to_client = packet.end_seq

    def resets(self) -> list[tuple[bool, bytes]]:
        """Rule 6: (to_server, RST packet) for every open connection; forgets them."""
        out: list[tuple[bool, bytes]] = []
        if not self.reset_on_down:
            self._flows.clear()
            return out
        for (client, cport, server, sport), flow in self._flows.items():
            if flow.to_server is None or flow.to_client is None:
                continue
            out.append((False, tcp_reset(server, client, sport, cport, flow.to_client,
                                         flow.to_server)))
            out.append((True, tcp_reset(client, server, cport, sport, flow.to_server,
                                        flow.to_client)))
        self._flows.clear()
        if out:
            self.counters["resets"] = self.counters.get("resets", 0) + len(out)
        return out


class Wire(threading.Thread):
    """Moves packets between the client's and the server's TUN devices under ``rules``."""

    def __init__(self, rules: WireRules, clock: ModelClock, client_fd: int, server_fd: int,
                 outage_starts: Callable[[], list[tuple[float, str]]]) -> None:
        super().__init__(name="rassim-wire", daemon=True)
        self.rules = rules
        self.clock = clock
        self._fds = {False: client_fd, True: server_fd}  # to_server -> fd to write
        self._client_fd, self._server_fd = client_fd, server_fd
        self._outage_starts = outage_starts
        self._reset_for: set[str] = set()
        self._queue: list[tuple[float, int, bool, bytes, Packet, float, int]] = []
        self._order = 0
        self._lock = threading.Lock()
        self._wake_r, self._wake_w = os.pipe()
        self._halt = threading.Event()
        self.error: BaseException | None = None

    # --- control (from the performer's thread) -------------------------------------------
    def begin(self, rules: WireRules, clock: ModelClock,
              outage_starts: Callable[[], list[tuple[float, str]]]) -> None:
        """A new trial: its rules, its clock and its outage starts; nothing in flight."""
        with self._lock:
            self.rules = rules
            self.clock = clock
            self._outage_starts = outage_starts
            self._queue.clear()
            self._reset_for.clear()
        self._wake()

    def up(self, lag: float) -> None:
        with self._lock:
            self.rules.up(self.clock.now(), lag)
        self._wake()

    def down(self) -> None:
        with self._lock:
            self._send_resets()
            self.rules.down()
            self._queue.clear()
        self._wake()

    def idle(self) -> bool:
        with self._lock:
            return not self._queue

    def stop(self) -> None:
        self._halt.set()
        self._wake()

    def _wake(self) -> None:
        try:
            os.write(self._wake_w, b"x")
        except OSError:
            pass

    def _send_resets(self) -> None:
        for to_server, data in self.rules.resets():
            os.write(self._fds[to_server], data)

    # --- the loop ------------------------------------------------------------------------
    def run(self) -> None:
        try:
            self._loop()
        except BaseException as error:  # reported by the testbed, never swallowed
            self.error = error
        finally:
            os.close(self._wake_r)
            os.close(self._wake_w)

    def _loop(self) -> None:
        readers = [self._client_fd, self._server_fd, self._wake_r]
        while not self._halt.is_set():
            with self._lock:
                now = self.clock.now()
                self._due(now)
                self._outage_resets(now)
                wait = 0.5
                if self._queue:
                    wait = max(0.0, (self._queue[0][0] - now) / self.clock.scale)
                for start, _ in self._outage_starts():
                    if start > now:
                        wait = min(wait, (start - now) / self.clock.scale)
            ready, _, _ = select.select(readers, [], [], wait)
            for fd in ready:
                if fd == self._wake_r:
                    os.read(self._wake_r, 4096)
                    continue
                data = os.read(fd, 65535)
                packet = parse(data)
                if packet is None:
                    continue
                with self._lock:
                    sent = self.clock.now()
                    to_server = fd == self._client_fd
                    arrival = self.rules.admit(packet, sent)
                    if arrival is not None:
                        self._order += 1
                        heapq.heappush(self._queue, (arrival, self._order, to_server, data,
                                                     packet, sent, self.rules.connection))

    def _due(self, now: float) -> None:
        while self._queue and self._queue[0][0] <= now:
            arrival, _, to_server, data, packet, sent, connection = heapq.heappop(self._queue)
            if self.rules.deliver(packet, sent, connection, arrival):
                os.write(self._fds[to_server], data)

    def _outage_resets(self, now: float) -> None:
        for start, label in self._outage_starts():
            if start <= now and label not in self._reset_for:
                self._reset_for.add(label)
                if self.rules.connected:
                    self._send_resets()
