"""What a Sender.log says about each connection's name-path lag: an interval, never a value.

The model contract (design guide section 2, ``sim.world.netbt``): a connection's name path
is ready at ``c + L`` (c = Connected, L the lag). A map started at s sends WINS queries at
s + kT (k = 0 .. n-1; T = NameSrvQueryTimeout, n = NameSrvQueryCount). Query k reaches the
far side d later and is answered iff s + kT + d >= c + L; the answer counts iff it is back,
d' later, strictly before s + nT. Otherwise the map fails with 53 exactly nT (plus the
broadcast fallback's count x BcastQueryTimeout) after it started.

Which query was the last one that could still be heard? With the one-way delay d(age) taken
at its typical value (the latency's median, times the warm-up factor at that age, plus the
message's serialisation), query k's answer is back in time iff kT + 2d < nT. Let k* be the
last such k, and b(s) = s - c + k*T + d its arrival, relative to Connected.

Rules:

1. **A map that failed with 53 after exactly the WINS give-up time** (the log's times show
   it) heard no answer, so ready came after query k* arrived: ``L > b(s)``. If no query's
   round trip fits the window (k* undefined: a link slower than the WINS timers), the
   failure bounds nothing: latency alone explains it.
2. **A map that resolved the name** (it mapped, or failed later in TCP/SMB with another
   code, or with a 53 at another time) was answered, by this reading to a query no later
   than k*: ``L <= b(s)``.
3. A connection's interval is (b of its last rule-1 map, b of its first rule-2 map]; with no
   rule-2 map it is right-censored, with no rule-1 map left-censored (0, b]. A connection
   with neither is uninformative. A map started less than CacheTimeout after an earlier
   resolution's give-up time may have hit the name cache (``sim.world.netbt`` rule 4): it
   and everything after it on that connection say nothing.
4. Rules 1 and 2 share one boundary, so a connection's possible observations partition the
   lag axis (coarsening at random), which is what makes the interval likelihood in
   ``sim.studies.fit.fit`` consistent. The bounds are exact with a constant latency; with a
   random one the boundary blurs by the latency's spread (``Allowance.blur``: the 5-95%
   range of one delay), and a lag that close to b may land in the neighbouring cell.
   Faults (outages, WINS down) are outside this reading: a 53 they cause is taken for lag.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from sim.scenario.schema import Scenario
from sim.studies.fit.logparse import Connection
from sim.world.netbt import NAME_QUERY_BYTES, NAME_RESPONSE_BYTES

__all__ = ["GIVE_UP_TOLERANCE", "Allowance", "Censored", "allowance", "censor"]

#: A map's span within this many seconds of the WINS give-up time is a WINS give-up (rule 1).
#: Not the stamps' millisecond: a real log's timers overshoot. NT 4.0's timers tick every
#: 10-15.6 ms, and on the real testbed (``rassim real``, scale 10) the give-up came 10-20 ms
#: of model time late (13 ms in its first fitted log). Another 53 lies far from it: TCP's
#: give-up is 45 s after resolving, an SMB failure needs round trips of the link.
GIVE_UP_TOLERANCE = 0.1


@dataclass(frozen=True, slots=True)
class Allowance:
    """The timers and the typical delays the boundary b(s) is computed with."""

    interval: float  # T
    count: int  # n
    give_up: float  # seconds from a map's start to its WINS-only 53
    latency: float  # the one-way latency's median
    warmup_factor: float
    warmup_decay: float
    out_bytes: float  # seconds to serialise a query
    back_bytes: float  # seconds to serialise an answer
    blur: float  # 5-95% range of one one-way latency
    cache: float

    def delay(self, age: float, nbytes: float) -> float:
        """The typical one-way delay of a message sent ``age`` after Connected."""
        warm = 1.0 + (self.warmup_factor - 1.0) * math.exp(-age / self.warmup_decay)
        return self.latency * warm + nbytes

    def boundary(self, since: float) -> float | None:
        """b(s) for a map started ``since`` after Connected, or None if no k* exists."""
        best = None
        for k in range(self.count):
            out = self.delay(since + k * self.interval, self.out_bytes)
            back = self.delay(since + k * self.interval + out, self.back_bytes)
            if k * self.interval + out + back < self.count * self.interval:
                best = since + k * self.interval + out
        return best


def allowance(scenario: Scenario) -> Allowance:
    """The typical delays and timers of ``scenario``'s link and NetBT settings."""
    netbt, link = scenario.netbt, scenario.link
    per_byte = 8.0 / link.rate_bps if link.rate_bps else 0.0
    broadcast = (netbt.bcast_query_count * netbt.bcast_query_timeout
                 if netbt.broadcast_fallback else 0.0)
    n, interval = netbt.name_query_count, netbt.name_query_timeout
    return Allowance(interval=interval, count=n, give_up=n * interval + broadcast,
                     latency=link.latency.ppf(0.5), warmup_factor=link.warmup.factor,
                     warmup_decay=max(link.warmup.decay, 1e-9),
                     out_bytes=NAME_QUERY_BYTES * per_byte,
                     back_bytes=NAME_RESPONSE_BYTES * per_byte,
                     blur=link.latency.ppf(0.95) - link.latency.ppf(0.05),
                     cache=netbt.cache_timeout)


@dataclass(frozen=True, slots=True)
class Censored:
    """The lag intervals of a set of connections (rule 3) and what was left out."""

    low: tuple[float, ...]  # 0.0 where only an upper bound is known
    high: tuple[float, ...]  # math.inf where only a lower bound is known
    uninformative: int

    @property
    def used(self) -> int:
        return len(self.low)

    def kinds(self) -> dict[str, int]:
        """How many values are exact (lo == hi: a dial phase's time) and how many intervals
        are two-sided, right-censored and left-censored."""
        exact = sum(1 for lo, h in zip(self.low, self.high, strict=True) if lo == h)
        right = sum(1 for h in self.high if math.isinf(h))
        left = sum(1 for lo, h in zip(self.low, self.high, strict=True)
                   if lo == 0.0 and not math.isinf(h) and lo != h)
        return {"exact": exact, "interval": self.used - right - left - exact, "right": right,
                "left": left}


def censor(connections: Sequence[Connection], bounds: Allowance) -> Censored:
    """Each connection's lag interval (rules 1 to 3)."""
    low: list[float] = []
    high: list[float] = []
    uninformative = 0
    cached_until = -math.inf  # rule 3: the name cache of the last resolution the log shows
    for connection in connections:
        lo, hi = 0.0, math.inf
        for attempt in connection.attempts:
            if attempt.code is None or attempt.end is None:
                break  # the log ends inside this attempt
            if attempt.start < cached_until:
                break
            b = bounds.boundary(attempt.start - connection.connected_at)
            wins_53 = (attempt.code == 53 and abs(attempt.end - attempt.start - bounds.give_up)
                       <= GIVE_UP_TOLERANCE)
            if wins_53:
                if b is not None:
                    lo = max(lo, b)
                continue
            # Any other outcome means the name resolved (rule 2) and is now cached.
            cached_until = attempt.start + bounds.count * bounds.interval + bounds.cache
            if b is not None:
                hi = b
            break
        if lo == 0.0 and math.isinf(hi):
            uninformative += 1
            continue
        if lo >= hi:  # pragma: no cover - b(s) grows with s, so a later map's b is larger
            hi = math.inf
        low.append(lo)
        high.append(hi)
    return Censored(tuple(low), tuple(high), uninformative)
