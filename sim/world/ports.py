"""The RAS server's pool of ports, shared by every caller, with its busy time.

Rules:

1. Callers take a port only if one is free now (a dial that finds none gets a busy signal;
   it never queues), and release it at hang-up.
2. Faults may hold ports for other callers (``ports_held``); those requests do queue, and
   take ports as they come free until the fault ends.
3. Port-seconds in use are integrated at every change of the count, so utilisation over a
   trial is exact: ``busy_time(t) / (capacity * t)``. Ports held by faults count as busy.

Two pools keep these rules. ``ResourcePorts`` is a SimPy resource: rule 2 needs its queue.
``CountedPorts`` is a counter, for worlds in which no fault can hold ports (most of them):
taking a free SimPy resource schedules a request event and freeing it a release event, and
both only run callbacks that find nothing queued. Dropping them leaves every other event in
the same order at the same time, so results and traces are the same with either pool
(``port_pool`` picks one); only SimPy's count of processed events differs.
"""

from __future__ import annotations

from typing import Any

import simpy

__all__ = ["CountedPorts", "HeldPorts", "PortPool", "ResourcePorts", "port_pool"]


class CountedPorts:
    """``capacity`` ports as a counter: rules 1 and 3, for worlds without ``ports_held``."""

    __slots__ = ("env", "capacity", "in_use", "held_by", "_busy", "_since")

    def __init__(self, env: simpy.Environment, capacity: int) -> None:
        self.env = env
        self.capacity = capacity
        self.in_use = 0
        #: Always empty: no fault holds ports in this pool (kept for ``PortPool``).
        self.held_by: dict[str, HeldPorts] = {}
        self._busy = 0.0
        self._since = env.now

    def account(self) -> None:
        """Integrate the count up to now; call before anything changes it."""
        now = self.env.now
        if now != self._since:
            self._busy += (now - self._since) * self.in_use
            self._since = now

    def take(self) -> bool | None:
        """A port (a true handle) if one is free now, else None (rule 1)."""
        self.account()
        if self.in_use < self.capacity:
            self.in_use += 1
            return True
        return None

    def give_back(self, handle: Any) -> None:
        self.account()
        self.in_use -= 1

    def hold(self, label: str, count: int) -> HeldPorts:
        raise RuntimeError("ports_held needs a ResourcePorts pool (see port_pool)")

    def busy_time(self, at: float) -> float:
        """Port-seconds in use from the start of the trial to ``at`` (>= now)."""
        return self._busy + (at - self._since) * self.in_use


class HeldPorts:
    """Ports taken by other callers during a fault window."""

    def __init__(self, pool: ResourcePorts, label: str, count: int) -> None:
        self._pool = pool
        self._label = label
        pool.account()
        self._requests = [pool.resource.request() for _ in range(count)]

    def release(self) -> None:
        pool = self._pool
        pool.account()
        for request in self._requests:
            if request.triggered:
                pool.resource.release(request)
            else:
                request.cancel()
        pool.held_by.pop(self._label, None)


class ResourcePorts:
    """``capacity`` ports as a SimPy resource, which faults can hold (rules 1 to 3)."""

    def __init__(self, env: simpy.Environment, capacity: int) -> None:
        self.env = env
        self.capacity = capacity
        self.resource = simpy.Resource(env, capacity=capacity)
        #: Labels of the faults holding ports now, for "which fault refused this dial".
        self.held_by: dict[str, HeldPorts] = {}
        self._busy = 0.0
        self._since = env.now

    @property
    def in_use(self) -> int:
        return self.resource.count

    def account(self) -> None:
        """Integrate the count up to now; call before anything changes it."""
        now = self.env.now
        if now != self._since:
            self._busy += (now - self._since) * self.resource.count
            self._since = now

    def take(self) -> simpy.resources.resource.Request | None:
        """A port if one is free now, else None (rule 1)."""
        self.account()
        request = self.resource.request()
        if request.triggered:
            return request
        request.cancel()
        return None

    def give_back(self, request: simpy.resources.resource.Request) -> None:
        self.account()
        self.resource.release(request)

    def hold(self, label: str, count: int) -> HeldPorts:
        """Other callers take ``count`` ports (as soon as they are free) until released."""
        held = HeldPorts(self, label, count)
        self.held_by[label] = held
        return held

    def busy_time(self, at: float) -> float:
        """Port-seconds in use from the start of the trial to ``at`` (>= now)."""
        return self._busy + (at - self._since) * self.resource.count


#: Either pool: what the RAS server, the faults and the fleet use.
PortPool = CountedPorts | ResourcePorts


def port_pool(env: simpy.Environment, capacity: int, *, holdable: bool) -> PortPool:
    """A pool of ``capacity`` ports; ``holdable`` when a fault may hold some (rule 2)."""
    if holdable:
        return ResourcePorts(env, capacity)
    return CountedPorts(env, capacity)
