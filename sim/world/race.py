"""Waiting for the first of two events, with ``first | second``'s timing but less work.

The protocols wait for "an answer or a time-out" once per message: ``answer |
env.timeout(t)``. SimPy's ``Condition`` (behind ``|``) registers a check on both events,
schedules itself when the first is processed, and, when processed, unhooks its checks and
builds a ``ConditionValue``. No caller reads that value, so a ``Wake`` keeps only the part
that decides *when* the waiting process resumes, and one ``Wake`` serves every wait of a
component: it is re-armed for each wait instead of allocating an event and a closure per
message (issue 18, item 5).

Contract (what keeps every result bit for bit the same as with ``|``):

1. ``wake.first_of(a, b)`` returns the wake, armed; it is scheduled at exactly the moment
   the condition would be: when the first of the two events is processed (at once if one
   already was), with the same priority, so it takes the same place in SimPy's queue and
   the same number of events is processed. Callbacks are registered in the same order as
   ``Condition`` registers them.
2. Its value is None (a ``Condition``'s value is the events that fired; callers here check
   the events themselves). Neither event may fail: the callers' events only succeed.
3. One process waits on a wake at a time, and re-arms it only after the wake resumed it
   (re-arming a pending wake raises). A callback left on an event of an earlier wait (the
   loser of that race, still in SimPy's queue) finds it is not one of the current pair and
   does nothing, as a ``Condition`` already triggered would.
"""

from __future__ import annotations

import simpy
from simpy.events import PENDING

__all__ = ["Wake"]


class Wake(simpy.Event):
    """A reusable "first of two events" for one waiting process (see the module contract)."""

    def __init__(self, env: simpy.Environment) -> None:
        super().__init__(env)
        # Idle: as if processed, so the first arming passes rule 3 (SimPy itself sets None).
        self.callbacks = None  # type: ignore[assignment]
        self._first: simpy.Event | None = None
        self._second: simpy.Event | None = None
        self._fire = self.fire  # one bound method, appended to every event waited on

    def first_of(self, first: simpy.Event, second: simpy.Event) -> Wake:
        """Arm for a wait on the first of ``first`` and ``second``; yield the result."""
        if self.callbacks is not None:
            raise RuntimeError("a Wake was re-armed before it resumed its process")
        self.callbacks = []
        self._value = PENDING
        self._first = first
        self._second = second
        fire = self._fire
        # Written out for both events (no loop): this runs once per message a protocol waits on.
        if first.callbacks is None:  # already processed
            fire(first)
        else:
            first.callbacks.append(fire)
        if second.callbacks is None:
            fire(second)
        else:
            second.callbacks.append(fire)
        return self

    def fire(self, event: simpy.Event) -> None:
        """One of the events was processed: wake the process unless it is already woken or
        the event belongs to an earlier wait (rule 3)."""
        if self._value is PENDING and (event is self._first or event is self._second):
            self._ok = True
            self._value = None
            self.env.schedule(self)
