"""Model time on a real clock: model seconds = real seconds x k, plus skipped idle time.

Rules:

1. ``now()`` is ``(monotonic() - origin) * scale + skipped``: every part of the testbed (the
   wire thread and the performer) reads the same clock, so the wire's gate and the
   performer's results agree on what "model second t" is.
2. ``skip(seconds)`` advances model time without waiting. The performer uses it only while
   nothing real can happen: the link is down, no packet is in flight and no fault window
   opens or closes inside the skipped stretch (a dial's phases, a wait after hang-up). A
   real wait there would only burn wall time; the model's answer cannot depend on it.
3. ``sleep_until(t)`` waits in real time until model time ``t`` (bounded: never more than
   the scaled difference).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["ModelClock"]


class ModelClock:
    """Model seconds for one trial (see the module docstring)."""

    def __init__(self, scale: float, monotonic: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.scale = scale
        self._monotonic = monotonic
        self._sleep = sleep
        self._lock = threading.Lock()
        self._origin = monotonic()
        self._skipped = 0.0

    def now(self) -> float:
        with self._lock:
            return (self._monotonic() - self._origin) * self.scale + self._skipped

    def real_seconds(self, model_seconds: float) -> float:
        return model_seconds / self.scale

    def skip(self, seconds: float) -> None:
        with self._lock:
            self._skipped += max(0.0, seconds)

    def sleep_until(self, at: float) -> float:
        """Wait until model time ``at``; return the model time on waking."""
        remaining = at - self.now()
        if remaining > 0:
            self._sleep(remaining / self.scale)
        return self.now()
