"""Waiting for the first of two events, with ``first | second``'s timing but less work.

The protocols wait for "an answer or a time-out" once per message: ``answer |
env.timeout(t)``. SimPy's ``Condition`` (behind ``|``) registers a check on both events,
schedules itself when the first is processed, and, when processed, unhooks its checks and
builds a ``ConditionValue``; about a tenth of a trial went there. No caller reads that
value, so ``first_of`` keeps only the part that decides *when* the waiting process resumes.

Contract (what keeps every result bit for bit the same as with ``|``):

1. The returned event is scheduled at exactly the moment the condition would be: when the
   first of the two events is processed (at once if one already was), with the same
   priority, so it takes the same place in SimPy's queue and the same number of events is
   processed. Callbacks are registered in the same order as ``Condition`` registers them.
2. Its value is None (a ``Condition``'s value is the events that fired; callers here
   check the events themselves). Neither event may fail: the callers' events only succeed.
"""

from __future__ import annotations

import simpy

__all__ = ["first_of"]


def first_of(env: simpy.Environment, first: simpy.Event, second: simpy.Event) -> simpy.Event:
    """An event that succeeds when the first of ``first`` and ``second`` is processed."""
    either = simpy.Event(env)

    def fire(_: simpy.Event) -> None:
        if not either.triggered:  # the later event's call changes nothing
            either.succeed()

    # Written out for both events (no loop): this runs once per message a protocol waits on.
    if first.callbacks is None:  # already processed
        fire(first)
    else:
        first.callbacks.append(fire)
    if second.callbacks is None:
        fire(second)
    else:
        second.callbacks.append(fire)
    return either
