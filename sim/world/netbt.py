"""The name path and NetBT name resolution (WINS, then broadcast).

Model contract (design guide section 2):

1. The name path is ready at ``connected_at + lag``, lag drawn once per connection
   (connection n uses uniform n of the ``name_path`` stream). A predialed link is past it.
2. WINS queries go out at s, s+T, s+2T, ... (T = NameSrvQueryTimeout, NameSrvQueryCount of
   them). A query is answered iff it reaches the far side at or after the ready time while
   the link carries traffic and WINS is available; the answer crosses the link back.
3. Resolution succeeds when the first answer arrives strictly before give-up at
   s + count * T. Otherwise, after the broadcast fallback (count * BcastQueryTimeout; a
   broadcast never crosses a RAS link, Q246497) it fails with 53.
4. A resolved name is cached for CacheTimeout (Q119493).

With zero latency and constant distributions: connected_at = 0, lag 5 s, T = 1.5 s,
count 3, no broadcast: an attempt at 0 fails with 53 at 4.5 s; one at 4.5 s resolves at 6.0 s.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import Any, cast

import simpy

from sender.codes import ERROR_BAD_NETPATH
from sim.draws.distributions import Distribution
from sim.draws.streams import UniformStream
from sim.scenario.schema import NetbtSpec
from sim.world.board import FaultBoard
from sim.world.events import NamePathEvent, NetbtEvent, Source
from sim.world.link import LOST, Link
from sim.world.race import Wake
from sim.world.stages import answered_in_time, path_ready, query_wait, wins_served
from sim.world.trace import Tracer

__all__ = ["NAME_QUERY_BYTES", "NAME_RESPONSE_BYTES", "NamePath", "Resolver", "draw_lag"]

# [I] IP + UDP + NetBT name query / positive response, as they cross PPP.
NAME_QUERY_BYTES = 78
NAME_RESPONSE_BYTES = 90
def draw_lag(lag: Distribution, stream: UniformStream) -> float:
    """Connection n's name-path lag (rule 1): uniform n of the ``name_path`` stream. Shared
    with the real testbed (``sim.real``), so real trial i meets simulated trial i's lags."""
    return lag.ppf(stream.random())


class NamePath:
    """When the remote side's name service and routes answer for the current connection."""

    def __init__(self, env: simpy.Environment, lag: Distribution, stream: UniformStream,
                 tracer: Tracer) -> None:
        self.env = env
        self._lag = lag
        self._stream = stream
        self._tracer = tracer
        self.ready_at = math.inf

    def connect(self, at: float) -> None:
        lag = draw_lag(self._lag, self._stream)
        self.ready_at = at + lag
        self._tracer.record(self.env.now, Source.NAME_PATH, NamePathEvent.LAG, lag=lag,
                            ready_at=self.ready_at)

    def disconnect(self) -> None:
        self.ready_at = math.inf

    def ready(self, now: float) -> bool:
        return path_ready(now, self.ready_at)


class Resolver:
    """The client's NetBT resolver for the one remote name the sender maps."""

    def __init__(self, env: simpy.Environment, spec: NetbtSpec, link: Link,
                 name_path: NamePath, faults: FaultBoard, tracer: Tracer) -> None:
        self.env = env
        self.spec = spec
        self._link = link
        self._name_path = name_path
        self._faults = faults
        self._tracer = tracer
        self._cached_until = -math.inf
        self._wake = Wake(env)

    def _serve(self, now: float) -> int | None:
        """The WINS server's side: answer iff the name path is ready and WINS is up."""
        if not self._name_path.ready(now):
            return None  # checked first: an early query does not touch a WINS fault
        if not wins_served(now, self._name_path.ready_at,
                           self._faults.first_active("wins_unavailable") is not None):
            return None
        return 0

    def resolve(self) -> Generator[simpy.Event, Any, int]:
        """0 when the name resolves, else 53 after the NetBT timers expire."""
        env, spec = self.env, self.spec
        start = env.now
        if start < self._cached_until:
            self._tracer.record(start, Source.NETBT, NetbtEvent.CACHE_HIT)
            return 0
        interval = spec.name_query_timeout
        give_up = start + spec.name_query_count * interval
        answer = simpy.Event(env)
        request = self._link.request
        serve = self._serve
        wake = self._wake

        def on_response(response: simpy.Event) -> None:
            if response.value != LOST and not answer.triggered:
                answer.succeed(env.now)

        for query in range(spec.name_query_count):
            self._tracer.record(env.now, Source.NETBT, NetbtEvent.WINS_QUERY, n=query + 1)
            request(NAME_QUERY_BYTES, NAME_RESPONSE_BYTES, serve).callbacks.append(on_response)
            yield wake.first_of(answer, simpy.Timeout(env, query_wait(start, interval, query,
                                                                      env.now)))
            if answer.triggered:
                break
        # Rule 3: the answer must arrive strictly before give-up; a tie goes to give-up.
        answered_at = cast(float, answer.value) if answer.triggered else math.inf
        if answered_in_time(answered_at, give_up):
            self._cached_until = answered_at + spec.cache_timeout
            self._tracer.record(env.now, Source.NETBT, NetbtEvent.RESOLVED)
            return 0
        self._tracer.record(env.now, Source.NETBT, NetbtEvent.WINS_GAVE_UP)
        if spec.broadcast_fallback and spec.bcast_query_count:
            yield simpy.Timeout(env, spec.bcast_query_count * spec.bcast_query_timeout)
            self._tracer.record(env.now, Source.NETBT, NetbtEvent.BROADCAST_GAVE_UP)
        return ERROR_BAD_NETPATH
