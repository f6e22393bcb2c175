"""The RAS server's pool of ports, shared by every caller, with its busy time.

Rules:

1. A port is a unit of a SimPy resource. Callers take one only if it is free now (a dial
   that finds none gets a busy signal; it never queues), and release it at hang-up.
2. Faults may hold ports for other callers (``ports_held``); those requests do queue, and
   take ports as they come free until the fault ends.
3. Port-seconds in use are integrated at every change of the count, so utilisation over a
   trial is exact: ``busy_time(t) / (capacity * t)``. Ports held by faults count as busy.
"""

from __future__ import annotations

import simpy

__all__ = ["HeldPorts", "PortPool"]


class HeldPorts:
    """Ports taken by other callers during a fault window."""

    def __init__(self, pool: PortPool, label: str, count: int) -> None:
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


class PortPool:
    """``capacity`` ports (rule 1), the faults holding some (rule 2), busy time (rule 3)."""

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
