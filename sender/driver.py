"""The synchronous driver: run a procedure against any performer, step by step.

A performer is a callable ``perform(effect) -> result``. Under the real-time driver it makes
real RasDial/WNetAddConnection2 calls and really sleeps (see ``sender.realio``); in tests it
is a scripted fake. The SimPy driver in ``sim.world.driver`` is the same loop written as a SimPy
process. Drivers stay this small on purpose: all retry logic lives in the procedure.
"""

from __future__ import annotations

from collections.abc import Callable

from sender.effects import Effect, Outcome, Result
from sender.procedure import Procedure

__all__ = ["Performer", "run_sync"]

Performer = Callable[[Effect], Result]


def run_sync(procedure: Procedure, perform: Performer,
             observe: Callable[[Effect, Result], None] | None = None) -> Outcome:
    """Drive ``procedure`` to its outcome, performing each effect with ``perform``.

    ``observe``, if given, sees every (effect, result) pair: the tracing hook at the driver
    boundary.
    """
    try:
        effect = next(procedure)
        while True:
            result = perform(effect)
            if observe is not None:
                observe(effect, result)
            effect = procedure.send(result)
    except StopIteration as stop:
        outcome: Outcome = stop.value
        return outcome
