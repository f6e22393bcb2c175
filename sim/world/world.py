"""The world senders face in one trial: shared parts, and each sender's own components.

``Commons`` is what every sender of a trial shares: the clock, the milestones, the fault
board and the faults, the RAS server's port pool and, in a fleet that shares it, the line's
capacity. A ``World`` is one sender's view: its link (its RAS connection), name path,
resolver and SMB client, and its dials on the (shared) port pool. A lone sender builds its
own ``Commons``; a fleet (``sim.trial.fleet``) builds one and hands it to every sender's world.

The driver (``sim.world.driver``) hands each sender effect to the component that carries it
out (a sleep it performs itself) and reaches the effect's milestone. Milestones (``start``,
``dial``, ``connected``, ``first_map``) are events that scheduled faults can wait for; in a
fleet a milestone is the first time any sender reaches it. Only the milestones a fault waits
for get an event (``sim.world.prepared``): nothing else observes them.
"""

from __future__ import annotations

from typing import Any

import simpy

from sim.draws.streams import TrialStreams
from sim.scenario.schema import Scenario
from sim.world.board import FaultBoard
from sim.world.faults import start_faults
from sim.world.link import Channel, Line, Lines, Link
from sim.world.netbt import NamePath, Resolver
from sim.world.ports import PortPool, port_pool
from sim.world.prepared import prepared
from sim.world.ras import RasServer
from sim.world.smb import SmbClient
from sim.world.trace import Tracer

__all__ = ["Commons", "World"]


class _EveryPool:
    """``ports_held`` in a fleet whose senders each have a server: it holds on every one."""

    def __init__(self, pools: list[PortPool]) -> None:
        self._pools = pools

    def hold(self, label: str, count: int) -> _HeldOnEvery:
        return _HeldOnEvery([pool.hold(label, count) for pool in self._pools])


class _HeldOnEvery:
    """The ports one ``ports_held`` fault holds on every sender's server; released together.

    A module-level class, not one made per call: mypyc (``benchmarks/compiled_probe.py``)
    compiles no nested classes."""

    def __init__(self, handles: list[Any]) -> None:
        self._handles = handles

    def release(self) -> None:
        for handle in self._handles:
            handle.release()


class Commons:
    """What every sender of one trial shares (see the module docstring)."""

    def __init__(self, env: simpy.Environment, scenario: Scenario, tracer: Tracer) -> None:
        self.env = env
        self.scenario = scenario
        self.tracer = tracer
        facts = prepared(scenario)
        self.milestones: dict[str, simpy.Event] = {
            name: simpy.Event(env) for name in facts.waited_milestones}
        self.faults = FaultBoard()
        fleet = scenario.fleet
        self._share_ports = fleet is None or fleet.share_ports
        self.channel = (Channel(scenario.link.rate_bps)
                        if fleet is not None and fleet.share_link else None)
        self.pools: list[PortPool] = []
        self._holdable = facts.holdable_ports
        self.links: list[Link] = []

    def pool(self) -> PortPool:
        """The port pool for the next sender: the shared one, or a server of its own."""
        if not (self._share_ports and self.pools):
            self.pools.append(port_pool(self.env, self.scenario.ras.ports,
                                        holdable=self._holdable))
        return self.pools[-1]

    def start(self, streams: TrialStreams) -> None:
        """Start the faults and reach ``start``: call once every sender's world exists."""
        if self.scenario.faults:
            line: Line = self.links[0] if len(self.links) == 1 else Lines(self.links)
            ports: Any = self.pools[0] if len(self.pools) == 1 else _EveryPool(self.pools)
            start_faults(self.env, self.scenario.faults, self.faults, streams, self.milestones,
                         line, ports, self.tracer)
        self.reach("start")

    def reach(self, milestone: str) -> None:
        """Mark the first occurrence of ``milestone`` (later ones change nothing)."""
        event = self.milestones.get(milestone)
        if event is not None and not event.triggered:
            event.succeed(self.env.now)


class World:
    """One sender's components on ``commons`` (a lone sender's own when None).

    ``sender`` is ``()`` for a lone sender and ``(k,)`` for sender k of a fleet: it picks
    the sender's own random streams (``sim.draws.streams`` rule 2), so sender k's dial n and
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
