"""The SimPy driver: the sender procedure as a SimPy process, unchanged.

Tiny on purpose (design guide section 1): ``next``, then a perform/``send`` loop, then the
``StopIteration`` value. Tracing happens here, at the boundary, for every effect and result.

Flat on purpose too (issue 18, item 5): every resumption of a sender's process passes through
each generator between SimPy and the component that yielded, so the driver *is* the process
(a fleet's send job runs as its ``then`` tail, not as an outer generator around it), performs
``Sleep`` by yielding the timeout itself, and hands the other effects straight to the
component's generator. It schedules exactly the events ``World``'s components did when a
``perform`` method and a ``_send_job`` wrapper sat in between, in the same order, so results
and traces are the same bit for bit. A quiet trial (``NullTracer``) skips the three trace
calls per effect rather than building their keyword arguments for nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any, TypeVar

import simpy

from sender.effects import AddConnection, Dial, HangUp, Outcome, Result, Sleep, Succeeded
from sender.procedure import Procedure
from sim.world.events import SenderEvent, Source
from sim.world.trace import NullTracer
from sim.world.world import World

__all__ = ["drive"]

R = TypeVar("R")


def drive(world: World, procedure: Procedure, start: float = 0.0,
          then: Callable[[Outcome], Generator[simpy.Event, Any, R]] | None = None
          ) -> Generator[simpy.Event, Any, Outcome | R]:
    """Run ``procedure`` against ``world`` from virtual time ``start``; return its outcome,
    or, given ``then``, what ``then(outcome)``'s steps return (run in this same process)."""
    env, tracer = world.env, world.tracer
    traced = not isinstance(tracer, NullTracer)
    ras, smb, reach = world.ras, world.smb, world.reach
    if start > 0:
        yield simpy.Timeout(env, start)
    effect = next(procedure)
    while True:
        if traced:
            tracer.record(env.now, Source.SENDER, SenderEvent.EFFECT, effect=effect)
        result: Result
        if isinstance(effect, Sleep):
            yield simpy.Timeout(env, effect.seconds)
            result = Succeeded(env.now)
        elif isinstance(effect, AddConnection):
            reach("first_map")
            result = yield from smb.add_connection()
        elif isinstance(effect, Dial):
            reach("dial")
            result = yield from ras.dial()
        elif isinstance(effect, HangUp):
            result = yield from ras.hangup()
        else:
            raise TypeError(f"the world cannot perform {effect!r}")
        if traced:
            tracer.record(env.now, Source.SENDER, SenderEvent.RESULT, result=result)
        try:
            effect = procedure.send(result)
        except StopIteration as stop:
            outcome: Outcome = stop.value
            if traced:
                tracer.record(env.now, Source.SENDER, SenderEvent.OUTCOME, outcome=outcome)
            break
    if then is None:
        return outcome
    return (yield from then(outcome))
