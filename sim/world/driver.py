"""The SimPy driver: the sender procedure as a SimPy process, unchanged.

Tiny on purpose (design guide section 1): ``next``, then a perform/``send`` loop, then the
``StopIteration`` value. Tracing happens here, at the boundary, for every effect and result.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy

from sender.effects import Outcome
from sender.procedure import Procedure
from sim.world.events import SenderEvent, Source
from sim.world.world import World

__all__ = ["drive"]


def drive(world: World, procedure: Procedure, start: float = 0.0
          ) -> Generator[simpy.Event, Any, Outcome]:
    """Run ``procedure`` against ``world`` from virtual time ``start``; return its outcome."""
    env, tracer = world.env, world.tracer
    if start > 0:
        yield env.timeout(start)
    effect = next(procedure)
    while True:
        tracer.record(env.now, Source.SENDER, SenderEvent.EFFECT, effect=effect)
        result = yield from world.perform(effect)
        tracer.record(env.now, Source.SENDER, SenderEvent.RESULT, result=result)
        try:
            effect = procedure.send(result)
        except StopIteration as stop:
            outcome: Outcome = stop.value
            tracer.record(env.now, Source.SENDER, SenderEvent.OUTCOME, outcome=outcome)
            return outcome
