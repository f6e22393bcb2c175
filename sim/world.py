"""The world senders face in one trial: shared parts, and each sender's own components.

``Commons`` is what every sender of a trial shares: the clock, the milestones, the fault
board and the faults, the RAS server's port pool and, in a fleet that shares it, the line's
capacity. A ``World`` is one sender's view: its link (its RAS connection), name path,
resolver and SMB client, and its dials on the (shared) port pool. A lone sender builds its
own ``Commons``; a fleet (``sim.fleet``) builds one and hands it to every sender's world.

``perform`` turns one sender effect into the component process that carries it out and
returns the result (with ``at`` = the virtual time it finished). Milestones (``start``,
``dial``, ``connected``, ``first_map``) are events that scheduled faults can wait for; in a
fleet a milestone is the first time any sender reaches it.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy

from sender.effects import AddConnection, Dial, Effect, HangUp, Result, Sleep, Succeeded
from sim.faults import FaultBoard, start_faults
from sim.link import Channel, Line, Lines, Link
from sim.netbt import NamePath, Resolver
from sim.ports import PortPool
from sim.ras import RasServer
from sim.scenario import MILESTONES, Scenario
from sim.smb import SmbClient
from sim.streams import TrialStreams
from sim.trace import Tracer

__all__ = ["Commons", "World"]


class _EveryPool:
    """``ports_held`` in a fleet whose senders each have a server: it holds on every one."""

    def __init__(self, pools: list[PortPool]) -> None:
        self._pools = pools

    def hold(self, label: str, count: int) -> Any:
        handles = [pool.hold(label, count) for pool in self._pools]

        class _All:
            def release(self) -> None:
                for handle in handles:
                    handle.release()

        return _All()


class Commons:
    """What every sender of one trial shares (see the module docstring)."""

    def __init__(self, env: simpy.Environment, scenario: Scenario, tracer: Tracer) -> None:
        self.env = env
        self.scenario = scenario
        self.tracer = tracer
        self.milestones: dict[str, simpy.Event] = {name: env.event() for name in MILESTONES}
        self.faults = FaultBoard()
        fleet = scenario.fleet
        self._share_ports = fleet is None or fleet.share_ports
        self.channel = (Channel(scenario.link.rate_bps)
                        if fleet is not None and fleet.share_link else None)
        self.pools: list[PortPool] = []
        self.links: list[Link] = []

    def pool(self) -> PortPool:
        """The port pool for the next sender: the shared one, or a server of its own."""
        if not (self._share_ports and self.pools):
            self.pools.append(PortPool(self.env, self.scenario.ras.ports))
        return self.pools[-1]

    def start(self, streams: TrialStreams) -> None:
        """Start the faults and reach ``start``: call once every sender's world exists."""
        line: Line = self.links[0] if len(self.links) == 1 else Lines(self.links)
        ports: Any = self.pools[0] if len(self.pools) == 1 else _EveryPool(self.pools)
        start_faults(self.env, self.scenario.faults, self.faults, streams, self.milestones,
                     line, ports, self.tracer)
        self.reach("start")

    def reach(self, milestone: str) -> None:
        """Mark the first occurrence of ``milestone`` (later ones change nothing)."""
        event = self.milestones[milestone]
        if not event.triggered:
            event.succeed(self.env.now)


class World:
    """One sender's components on ``commons`` (a lone sender's own when None).

    ``sender`` is ``()`` for a lone sender and ``(k,)`` for sender k of a fleet: it picks
    the sender's own random streams (``sim.streams`` rule 2), so sender k's dial n and
    message n meet the same draws whatever the other senders do.
    """

    def __init__(self, env: simpy.Environment, scenario: Scenario, streams: TrialStreams,
                 tracer: Tracer, commons: Commons | None = None,
                 sender: tuple[int, ...] = ()) -> None:
        alone = commons is None
        if commons is None:
            commons = Commons(env, scenario, tracer)
        self.env = env
        self.tracer = tracer
        self.commons = commons
        self.faults = commons.faults
        self.milestones = commons.milestones
        self.link = Link(env, scenario.link, streams.get("link", *sender), self.faults, tracer,
                         commons.channel)
        commons.links.append(self.link)
        self.name_path = NamePath(env, scenario.name_path.lag,
                                  streams.get("name_path", *sender), tracer)
        self.ras = RasServer(env, scenario.ras, streams, self.link, self.name_path, self.faults,
                             tracer, on_connected=lambda: self.reach("connected"),
                             ports=commons.pool(), sender=sender)
        self.resolver = Resolver(env, scenario.netbt, self.link, self.name_path, self.faults,
                                 tracer)
        self.smb = SmbClient(env, scenario.tcp, scenario.smb, self.link, self.name_path,
                             self.resolver, self.faults, tracer)
        if alone:
            commons.start(streams)

    def reach(self, milestone: str) -> None:
        self.commons.reach(milestone)

    def perform(self, effect: Effect) -> Generator[simpy.Event, Any, Result]:
        """Carry out one sender effect; the result's ``at`` is the time it finished."""
        if isinstance(effect, Sleep):
            yield self.env.timeout(effect.seconds)
            return Succeeded(self.env.now)
        if isinstance(effect, AddConnection):
            self.reach("first_map")
            return (yield from self.smb.add_connection())
        if isinstance(effect, Dial):
            self.reach("dial")
            return (yield from self.ras.dial())
        if isinstance(effect, HangUp):
            return (yield from self.ras.hangup())
        raise TypeError(f"the world cannot perform {effect!r}")
