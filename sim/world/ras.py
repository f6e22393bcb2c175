"""The remote RAS server: a shared pool of ports and the RasDial phases.

Model contract (design guide section 2):

1. Ports are a pool shared by every caller (``sim.world.ports``). A dial takes a port when it is
   answered (at the start of the dial) and holds it until hang-up; a failed dial frees it
   at once. No free port: the dial fails with ``no_port_code`` (676 or 633) after
   ``busy_after``.
2. A dial runs the phases connect (device), authenticate, project, each taking a drawn
   time and failing at its configured rate with one of its codes. Authentication that
   would outlast ``authenticate_timeout`` fails with 718 when the timer expires (Q139300:
   raising AuthenticateTimeout cures slow SNA RAS links).
3. Dial n always uses the same draws: three uniforms of the ``ras`` stream (phase times) and
   four of ``dial_failures`` (three failure rolls and the code pick), drawn at dial start
   whatever happens next.
4. A predialed connection (the manual RASDIAL workaround) is up before t = 0; the sender's
   first dial finds it and returns at once. [I] Its port time counts from the manual dial:
   that line time is the workaround's real cost.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import simpy

from sender.effects import Failed, Result, Succeeded
from sim.draws.streams import TrialStreams
from sim.scenario.schema import RasSpec
from sim.world.board import FaultBoard
from sim.world.events import RasEvent, Source
from sim.world.link import Link
from sim.world.netbt import NamePath
from sim.world.ports import PortPool
from sim.world.stages import plan_dial
from sim.world.trace import Tracer

__all__ = ["RasServer"]


class RasServer:
    """Ports, dials and hang-ups for one sender (the pool may be shared)."""

    def __init__(self, env: simpy.Environment, spec: RasSpec, streams: TrialStreams,
                 link: Link, name_path: NamePath, faults: FaultBoard, tracer: Tracer,
                 on_connected: Callable[[], None], ports: PortPool,
                 sender: tuple[int, ...] = ()) -> None:
        self.env = env
        self.spec = spec
        self.ports = ports
        # A fleet's sender k draws from its own streams (sender = (k,)): its dial n meets
        # the same draws whatever the other senders do.
        self._phase_draws = streams.get("ras", *sender)
        self._failure_draws = streams.get("dial_failures", *sender)
        self._link = link
        self._name_path = name_path
        self._faults = faults
        self._tracer = tracer
        self._on_connected = on_connected
        self._port: Any = None  # the pool's handle for the port this dial holds (or None)
        self._port_since = 0.0
        self._line_time = 0.0
        self.dials = 0
        #: Dials refused for want of a free port (busy signals).
        self.busy_signals = 0
        if spec.predialed is not None:
            self._take_port(since=-spec.predialed)
            self._link.connect(since=-spec.predialed)
            self._name_path.connect(at=-spec.predialed)
            tracer.record(env.now, Source.RAS, RasEvent.PREDIALED, since=-spec.predialed)

    # --- dial and hang-up ---------------------------------------------------------------
    def dial(self) -> Generator[simpy.Event, Any, Result]:
        env, spec = self.env, self.spec
        if self._port is not None and self._link.connected:
            self._tracer.record(env.now, Source.RAS, RasEvent.ALREADY_CONNECTED)
            self._on_connected()
            return Succeeded(env.now)
        self.dials += 1
        # Rule 3: the same draws for dial n, whatever happens.
        plan = plan_dial(spec, self._phase_draws, self._failure_draws)

        request = self.ports.take()
        if request is None:
            self.busy_signals += 1
            for label in self.ports.held_by:
                self._faults.touch(label)
            self._tracer.record(env.now, Source.RAS, RasEvent.NO_PORT, code=spec.no_port_code)
            yield env.timeout(spec.busy_after)
            return Failed(spec.no_port_code, env.now)
        self._port = request
        self._port_since = env.now
        self._tracer.record(env.now, Source.RAS, RasEvent.PORT_TAKEN, in_use=self.ports.in_use)

        for name, duration, code in plan.phases:
            self._tracer.record(env.now, Source.RAS, RasEvent.PHASE, phase=name)
            yield env.timeout(duration)
            if code:
                self._tracer.record(env.now, Source.RAS, RasEvent.PHASE_FAILED, phase=name,
                                    code=code)
                self._free_port()
                return Failed(code, env.now)
        self._link.connect(since=env.now)
        self._name_path.connect(at=env.now)
        self._tracer.record(env.now, Source.RAS, RasEvent.CONNECTED)
        self._on_connected()
        return Succeeded(env.now)

    def hangup(self) -> Generator[simpy.Event, Any, Result]:
        env = self.env
        if self._link.connected:
            self._link.disconnect()
        self._name_path.disconnect()
        self._tracer.record(env.now, Source.RAS, RasEvent.HANGUP)
        yield env.timeout(self.spec.hangup)
        self._free_port()
        return Succeeded(env.now)

    # --- ports ------------------------------------------------------------------------
    def _take_port(self, since: float) -> None:
        request = self.ports.take()
        assert request is not None, "a predialed connection needs a free port at t=0"
        self._port = request
        self._port_since = since

    def _free_port(self) -> None:
        if self._port is not None:
            self.ports.give_back(self._port)
            self._line_time += self.env.now - self._port_since
            self._port = None
            self._tracer.record(self.env.now, Source.RAS, RasEvent.PORT_FREED,
                                in_use=self.ports.in_use)

    def line_time(self, at: float) -> float:
        """Port time of this sender up to ``at`` (a kept connection counts until ``at``)."""
        held = at - self._port_since if self._port is not None else 0.0
        return self._line_time + held
