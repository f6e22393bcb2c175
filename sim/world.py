"""The world one sender faces in one trial: components wired together, effects performed.

A ``World`` owns a fresh SimPy environment's components for one trial: the link, the name
path, the RAS server, the NetBT resolver, the SMB client and the faults. ``perform`` turns
one sender effect into the component process that carries it out and returns the result
(with ``at`` = the virtual time it finished). Milestones (``start``, ``dial``,
``connected``, ``first_map``) are events that scheduled faults can wait for.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy

from sender.effects import AddConnection, Dial, Effect, HangUp, Result, Sleep, Succeeded
from sim.faults import FaultBoard, start_faults
from sim.link import Link
from sim.netbt import NamePath, Resolver
from sim.ras import RasServer
from sim.scenario import MILESTONES, Scenario
from sim.smb import SmbClient
from sim.streams import TrialStreams
from sim.trace import Tracer

__all__ = ["World"]


class World:
    """Every component of one trial's world, built on ``env``."""

    def __init__(self, env: simpy.Environment, scenario: Scenario, streams: TrialStreams,
                 tracer: Tracer) -> None:
        self.env = env
        self.tracer = tracer
        self.milestones: dict[str, simpy.Event] = {name: env.event() for name in MILESTONES}
        self.faults = FaultBoard()
        self.link = Link(env, scenario.link, streams.get("link"), self.faults, tracer)
        self.name_path = NamePath(env, scenario.name_path.lag, streams.get("name_path"), tracer)
        self.ras = RasServer(env, scenario.ras, streams, self.link, self.name_path, self.faults,
                             tracer, on_connected=lambda: self.reach("connected"))
        self.resolver = Resolver(env, scenario.netbt, self.link, self.name_path, self.faults,
                                 tracer)
        self.smb = SmbClient(env, scenario.tcp, scenario.smb, self.link, self.name_path,
                             self.resolver, self.faults, tracer)
        start_faults(env, scenario.faults, self.faults, streams, self.milestones, self.link,
                     self.ras, tracer)
        self.reach("start")

    def reach(self, milestone: str) -> None:
        """Mark the first occurrence of ``milestone`` (later ones change nothing)."""
        event = self.milestones[milestone]
        if not event.triggered:
            event.succeed(self.env.now)

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
