"""What a user would write instead of rassim: a plain, hand-written SimPy model of the
canonical scenario (``scenarios/q221951-unpatched.toml``, policy ``pre-fix``).

Written the way a competent engineer would write it for this one question, with the
scenario's numbers typed in: SimPy processes and events, ``a | b`` for "answer or time-out",
one ``random.Random`` per trial seeded from (seed, trial) so any trial can be rerun on its
own (it was the faster of it and ``numpy.random.default_rng([seed, i])`` here: 4.6 us against
7.8 us to seed, the same per draw, so the comparison is the conservative one), and none of
rassim's tracing, validation, faults, fleets, policies or result bookkeeping.

The physics (design guide section 2, as the scenario sets it): one RAS dial (three lognormal
phases; 8% of connects fail with 629 or 651; authentication times out at 120 s with 718);
once connected, the name path is ready after a lognormal lag; three WINS queries 1.5 s
apart, each answered iff it reaches the far side once the path is ready, the answer crossing
back before give-up at 4.5 s, else the 3 x 0.75 s broadcast fallback and error 53; a TCP
SYN retransmitted at 3, 6, 12 s (53 after 45 s); four SMB round trips with a 10 ms server
think time, each bounded by the 45 s session time-out. Latency is lognormal (median 0.6 s,
p95 1.8 s) times a warm-up of 1 + 0.5 exp(-age / 20 s), plus bytes * 8 / 9600 s. The
pre-fix sender maps once per dial and gives up on any failure, hanging up (1 s) first.

It uses other random numbers than rassim (its own generator), so it agrees with rassim in
distribution, not trial by trial: ``benchmarks/per_trial.py`` checks that agreement.
"""

from __future__ import annotations

import math
import random

import simpy

__all__ = ["run_peer_trial"]

_Z95 = 1.6448536269514722


def _lognormal(median: float, p95: float) -> tuple[float, float]:
    return math.log(median), math.log(p95 / median) / _Z95


CONNECT, AUTHENTICATE, PROJECT = _lognormal(6, 18), _lognormal(2.5, 8), _lognormal(1.5, 5)
LATENCY, LAG = _lognormal(0.6, 1.8), _lognormal(1.0, 12.0)
SECONDS_PER_BYTE = 8 / 9600
SMB_STEPS = ((112, 44), (190, 150), (250, 150), (130, 90))  # request, response bytes


class Trial:
    """One trial's world: the link, the name path and the sender, on one environment."""

    def __init__(self, env: simpy.Environment, rng: random.Random) -> None:
        self.env = env
        self.rng = rng
        self.up_at = 0.0
        self.ready_at = math.inf

    def transit(self, nbytes: int) -> float:
        age = self.env.now - self.up_at
        latency = self.rng.lognormvariate(*LATENCY) * (1 + 0.5 * math.exp(-age / 20))
        return latency + nbytes * SECONDS_PER_BYTE

    def round_trip(self, out: int, back: int, think: float, answered: simpy.Event):
        """Request out; answered (if the path is ready on arrival) after ``think``; back."""
        yield self.env.timeout(self.transit(out))
        if self.env.now < self.ready_at:
            return  # too early: nobody answers
        if think:
            yield self.env.timeout(think)
        yield self.env.timeout(self.transit(back))
        if not answered.triggered:
            answered.succeed(self.env.now)

    def dial(self):
        """A RAS dial: None when connected, else the error code."""
        rng, env = self.rng, self.env
        connect = rng.lognormvariate(*CONNECT)
        if rng.random() < 0.08:
            yield env.timeout(connect)
            return rng.choice((629, 651))
        yield env.timeout(connect)
        authenticate = rng.lognormvariate(*AUTHENTICATE)
        if authenticate > 120:
            yield env.timeout(120)
            return 718
        yield env.timeout(authenticate)
        yield env.timeout(rng.lognormvariate(*PROJECT))
        self.up_at = env.now
        self.ready_at = env.now + rng.lognormvariate(*LAG)
        return None

    def resolve(self):
        env = self.env
        start, answer = env.now, env.event()
        for query in range(3):
            env.process(self.round_trip(78, 90, 0.0, answer))
            yield answer | env.timeout(start + 1.5 * (query + 1) - env.now)
            if answer.triggered:
                return True
        yield env.timeout(3 * 0.75)  # broadcast fallback, which cannot cross RAS
        return False

    def tcp_connect(self):
        env, established, rto = self.env, self.env.event(), 3.0
        for _ in range(4):
            env.process(self.round_trip(44, 44, 0.0, established))
            yield established | env.timeout(rto)
            if established.triggered:
                return True
            rto *= 2
        return False

    def map_share(self):
        """WNetAddConnection2: None when mapped, else the error code."""
        if not (yield from self.resolve()) or not (yield from self.tcp_connect()):
            return 53
        for out, back in SMB_STEPS:
            reply = self.env.event()
            self.env.process(self.round_trip(out, back, 0.01, reply))
            yield reply | self.env.timeout(45)
            if not reply.triggered:
                return 121
        return None

    def sender(self):
        """The pre-fix sender: dial, map once; (connected, code, time)."""
        env = self.env
        code = yield from self.dial()
        if code is None:
            code = yield from self.map_share()
            if code is None:
                return True, 0, env.now
            yield env.timeout(1.0)  # hang up
        return False, code, env.now


def run_peer_trial(seed: int, trial: int) -> tuple[bool, int, float]:
    """Trial ``trial`` of a run seeded ``seed``: (connected, code, time of the outcome)."""
    env = simpy.Environment()
    model = Trial(env, random.Random(seed * 2**32 + trial))
    process = env.process(model.sender())
    env.run(until=process)
    return process.value
