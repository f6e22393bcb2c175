"""Perform the unchanged sender's effects on the real testbed, in scaled model time.

Rules:

1. ``Dial``: dial n's plan is drawn (``RealWorld.next_dial``) whatever happens. A held
   port (``ports_held``) fails it with the scenario's no-port code after ``busy_after``;
   otherwise its phases take their drawn times and a drawn failure returns its code with
   no link; success brings the wire up with connection n's drawn lag. An already
   connected link returns at once (the model's ``already_connected``).
2. ``AddConnection``: NetBT resolution against the real nmbd (``sim.real.netbt``), NT's SYN
   schedule to the real smbd, then the real NetBIOS session, negotiate, session setup
   (with a wrong password inside a ``bad_credentials`` window) and tree connect (to a share
   the server does not have inside a ``share_missing`` window). Codes per
   ``sim.real.codes``; a failed attempt closes its session.
3. ``HangUp`` takes the wire down (which resets the open connections) and waits
   ``ras.hangup``. ``Sleep`` sleeps.
4. Every result's ``at`` is in model seconds (``sim.real.clock``). Waits while the link is
   down and nothing is in flight are skipped, not slept (``skip_idle``): no real software
   can observe them.
5. Milestones (``dial``, ``connected``, ``first_map``) are reached when the effect is
   asked for (``connected`` when the dial succeeds), as in the SimPy world.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, field
from typing import Any

from sender.effects import AddConnection, Dial, Effect, Failed, HangUp, Result, Sleep, Succeeded
from sim.real.clock import ModelClock
from sim.real.codes import code_of
from sim.real.netbt import Resolution, Resolver
from sim.real.smbclient import new_session, tcp_connect
from sim.real.wire import Wire
from sim.real.world import RealWorld
from sim.scenario.schema import Scenario
from sim.world.netbt import NAME_QUERY_BYTES, NAME_RESPONSE_BYTES

__all__ = ["Endpoint", "TestbedPerformer"]

_BAD_NETPATH = 53


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where and as whom the performer connects (the testbed's account, not the scenario's)."""

    server: str
    share: str
    user: str
    password: str
    server_ip: str
    client_ip: str
    broadcast_ip: str = "10.231.1.255"
    domain: str = "RASSIM"


@dataclass
class TestbedPerformer:
    """Performs one trial's effects (see the module docstring)."""

    scenario: Scenario
    world: RealWorld
    clock: ModelClock
    wire: Wire
    endpoint: Endpoint
    skip_idle: bool = True
    touched: set[str] = field(default_factory=set)
    resolutions: list[Resolution] = field(default_factory=list)
    ready_at: list[float] = field(default_factory=list)
    _connected: bool = False
    _session: Any = None
    _resolver: Resolver | None = None

    def __post_init__(self) -> None:
        self._resolver = Resolver(self.scenario.netbt, self.clock, self.endpoint.server,
                                  self.endpoint.server_ip, self.endpoint.client_ip,
                                  self.endpoint.broadcast_ip)
        self.world.reach("start", 0.0)

    # --- time ----------------------------------------------------------------------------
    def _wait(self, seconds: float) -> float:
        """Wait ``seconds`` of model time; skipped when nothing real can happen (rule 4)."""
        if seconds <= 0:
            return self.clock.now()
        if self.skip_idle and not self._connected and self.wire.idle():
            self.clock.skip(seconds)
            return self.clock.now()
        return self.clock.sleep_until(self.clock.now() + seconds)

    # --- effects -------------------------------------------------------------------------
    def __call__(self, effect: Effect) -> Result:
        if isinstance(effect, Sleep):
            return Succeeded(self._wait(effect.seconds))
        if isinstance(effect, Dial):
            return self._dial()
        if isinstance(effect, AddConnection):
            self.world.reach("first_map", self.clock.now())
            return self._add_connection()
        if isinstance(effect, HangUp):
            self._hang_up()
            return Succeeded(self._wait(self.scenario.ras.hangup))
        raise TypeError(f"the testbed cannot perform {effect!r}")

    def _dial(self) -> Result:
        ras = self.scenario.ras
        self.world.reach("dial", self.clock.now())
        if self._connected:
            self.world.reach("connected", self.clock.now())
            return Succeeded(self.clock.now())
        plan = self.world.next_dial()
        held = self.world.active("ports_held", self.clock.now())
        if held is not None and min(held.spec.ports, ras.ports) >= ras.ports:
            self.touched.add(held.label)
            return Failed(ras.no_port_code, self._wait(ras.busy_after))
        now = self._wait(plan.seconds)
        if plan.code:
            return Failed(plan.code, now)
        lag = self.world.next_lag()
        self.wire.up(lag)
        self._connected = True
        now = self.clock.now()
        self.ready_at.append(self.wire.rules.ready_at)
        self.world.reach("connected", now)
        return Succeeded(now)

    def _hang_up(self) -> None:
        self.wire.down()
        self._connected = False
        self._close_session()

    def _close_session(self) -> None:
        if self._session is not None:
            with contextlib.suppress(Exception):
                self._session.close()
            self._session = None

    def _add_connection(self) -> Result:
        assert self._resolver is not None
        resolution = self._resolver.resolve()
        self.resolutions.append(resolution)
        if resolution.code:
            return Failed(resolution.code, self.clock.now())
        tcp, smb = self.scenario.tcp, self.scenario.smb
        sock = tcp_connect(self.clock, self.endpoint.server_ip, self.endpoint.client_ip,
                           tcp.initial_rto, tcp.max_connect_retransmissions)
        if sock is None:
            return Failed(_BAD_NETPATH, self.clock.now())
        timeout = self.clock.real_seconds(smb.session_timeout)
        password = self.endpoint.password
        bad = self.world.active("bad_credentials", self.clock.now())
        if bad is not None:
            self.touched.add(bad.label)
            password = "not-" + password
        session = new_session(self.endpoint.user, password, self.endpoint.server,
                              self.endpoint.domain)
        self._close_session()
        self._session = session
        try:
            session.attach(sock, timeout)
            share = self.endpoint.share
            missing = self.world.active("share_missing", self.clock.now())
            if missing is not None:
                self.touched.add(missing.label)
                share = share + "-MISSING"  # a name the real server does not have
            session.tree_connect(share, timeout)
        except Exception as error:  # mapped (or reported as unmapped) by sim.real.codes
            self._close_session()
            with contextlib.suppress(OSError):
                sock.close()
            return Failed(code_of(error), self.clock.now())
        return Succeeded(self.clock.now())

    def close(self) -> None:
        """End of trial: drop the session and take the wire down."""
        self._close_session()
        if self._connected:
            self.wire.down()
            self._connected = False

    # --- report --------------------------------------------------------------------------
    def boundary_margin(self) -> float:
        """Model seconds between this trial's WINS timing and the nearest boundary that
        would flip it: a query arriving at the ready time, or an answer arriving at
        give-up. Infinite when no resolution met a finite ready time."""
        spec = self.wire.rules.spec
        netbt = self.scenario.netbt
        margin = math.inf
        for resolution in self.resolutions:
            if resolution.cached or not self.ready_at:
                continue
            ready = self.ready_at[-1]
            if not math.isfinite(ready):
                continue
            give_up = resolution.start + netbt.name_query_count * netbt.name_query_timeout
            for n in range(netbt.name_query_count):
                sent = resolution.start + n * netbt.name_query_timeout
                out = _transit(spec, sent, ready, NAME_QUERY_BYTES, self.wire.rules.up_since)
                back = _transit(spec, sent + out, ready, NAME_RESPONSE_BYTES,
                                self.wire.rules.up_since)
                margin = min(margin, abs(sent + out - ready))
                if sent + out >= ready:  # the first query answered decides the race
                    margin = min(margin, abs(give_up - (sent + out + back)))
                    break
        return margin


def _transit(spec: Any, now: float, ready: float, nbytes: int, up_since: float) -> float:
    latency = spec.latency
    if spec.warm_factor != 1.0:
        latency *= 1.0 + (spec.warm_factor - 1.0) * math.exp(-(now - up_since) / spec.warm_decay)
    if spec.rate_bps:
        latency += nbytes * 8.0 / spec.rate_bps
    return float(latency)
