"""The fast path: a lone sender's trial on a virtual clock, each stage computed at its start.

Theory of operation
-------------------
A lone sender without faults needs no SimPy: nothing else runs beside it. The fast path
drives the unchanged sender procedure (``sender.procedure.connect``) itself and performs each
effect by computing when it ends, with the same components and rules as the event path:
the ``Link`` (latency draws, warm-up, epochs), ``NamePath`` (lag draws), ``CountedPorts``
(port accounting) run on a ``Clock`` instead of an environment, and the dial, WINS, TCP
and SMB rules come from ``sim.world.stages``. Only the way time advances differs.

Rules:

1. **Which trials.** ``eligible(scenario, tracer)``: no ``[fleet]``, no faults, and a tracer
   that records nothing. Decided from the scenario and the call, never by a user flag.
   Every other trial, and every traced replay, takes the event path.
2. **Same draws, same order.** A stage's own messages draw their latency when sent; a
   message's far-side arrival, and a reply's send after the server's think time, are kept
   in ``_Pending`` and run in time order before anything at a later time draws or changes
   the link, as SimPy would run them. That covers messages still in flight when a stage
   ends (a WINS query answered after the resolution finished still draws its reply).
3. **Ties fall back.** When two things happen at the same virtual time (a reply arriving as
   a timer expires, constant latencies lining messages up), SimPy's order depends on when
   each event was scheduled. Rather than restate that, the fast path raises ``Tie`` and the
   trial is rerun on the event path: a trial depends on (scenario, policy, seed, trial)
   only, so starting again is safe. With drawn (continuous) latencies ties do not occur.
4. **Same row.** The row is built from the same quantities with the same arithmetic as
   ``sim.trial.trial``: rows are equal to the event path's, floats included, on every
   eligible shipped scenario and on generated ones (``tests/trial/test_fast_path.py``).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from typing import Any

from sender.codes import ERROR_BAD_NETPATH
from sender.effects import AddConnection, Connected, Dial, Failed, HangUp, Result, Sleep, Succeeded
from sender.policy import RetryPolicy
from sender.procedure import connect
from sim.draws.streams import TrialStreams
from sim.scenario.schema import Scenario
from sim.trial.results import TrialResult
from sim.trial.setup import budget_of, target_of
from sim.world.board import FaultBoard
from sim.world.link import LOST, Link
from sim.world.netbt import NAME_QUERY_BYTES, NAME_RESPONSE_BYTES, NamePath
from sim.world.ports import CountedPorts
from sim.world.smb import SESSION_STEPS, SESSION_TIMEOUT_CODE, SYN_BYTES
from sim.world.stages import answered_in_time, plan_dial, query_wait, syn_waits, wins_served
from sim.world.trace import NULL_TRACER, NullTracer, Tracer

__all__ = ["Clock", "Tie", "eligible", "run_fast_trial"]



class Tie(Exception):
    """Two things at the same virtual time: rerun the trial on the event path (rule 3)."""


class Clock:
    """What the components read of an environment: ``now``."""

    __slots__ = ("now",)

    def __init__(self) -> None:
        self.now = 0.0


def eligible(scenario: Scenario, tracer: Tracer) -> bool:
    """Rule 1."""
    return scenario.fleet is None and not scenario.faults and isinstance(tracer, NullTracer)


class _Exchange:
    """One round trip in flight: the time its reply reaches the sender (inf: not yet or
    never), and its verdict."""

    __slots__ = ("reply_at", "verdict", "token", "serve", "think", "response_bytes")

    def __init__(self, token: int, serve: Callable[[float], int | None], think: float,
                 response_bytes: int) -> None:
        self.reply_at = math.inf
        self.verdict = 0
        self.token = token
        self.serve = serve
        self.think = think
        self.response_bytes = response_bytes


class _World:
    """A lone sender's world on a clock (rules 2 and 3)."""

    def __init__(self, scenario: Scenario, streams: TrialStreams) -> None:
        self.clock = clock = Clock()
        self.scenario = scenario
        env: Any = clock  # the components read ``now`` only
        self.faults = FaultBoard()
        self.link = Link(env, scenario.link, streams.get("link"), self.faults, NULL_TRACER)
        self.name_path = NamePath(env, scenario.name_path.lag, streams.get("name_path"),
                                  NULL_TRACER)
        ras = scenario.ras
        self.ras = ras
        self.pool = CountedPorts(env, ras.ports)
        self._phase_draws = streams.get("ras")
        self._failure_draws = streams.get("dial_failures")
        self.port = False
        self.port_since = 0.0
        self.line_time = 0.0
        self.dials = 0
        self.busy_signals = 0
        self.cached_until = -math.inf
        #: (time, order, action, exchange): far-side arrivals (0) and reply sends (1).
        self._pending: list[tuple[float, int, int, _Exchange]] = []
        self._order = 0
        if ras.predialed is not None:
            since = -ras.predialed
            if not self.pool.take():
                raise Tie  # cannot happen for a lone sender; the event path will say so
            self.port, self.port_since = True, since
            self.link.connect(since=since)
            self.name_path.connect(at=since)

    # --- rule 2: messages in flight ----------------------------------------------------
    def run_until(self, t: float) -> None:
        """Run every pending action before ``t``; one at ``t`` is a tie (rule 3)."""
        pending = self._pending
        clock = self.clock
        while pending and pending[0][0] <= t:
            at, _, action, exchange = heapq.heappop(pending)
            if at == t or (pending and pending[0][0] == at):
                raise Tie
            clock.now = at
            if action == 0:
                self._at_far_side(exchange)
            else:
                self._answer(exchange)
        clock.now = t

    def _push(self, at: float, action: int, exchange: _Exchange) -> None:
        self._order += 1
        heapq.heappush(self._pending, (at, self._order, action, exchange))

    def request(self, request_bytes: int, response_bytes: int,
                serve: Callable[[float], int | None], think: float = 0.0) -> _Exchange:
        """``Link.request`` sent now (the clock is at the sender's time)."""
        now = self.clock.now
        self.run_until(now)
        link = self.link
        exchange = _Exchange(link.token(), serve, think, response_bytes)
        delay = link.transit_time(request_bytes, on_line=exchange.token != LOST)
        if delay == 0:
            raise Tie  # arrives in the step it was sent in: SimPy's order decides
        self._push(now + delay, 0, exchange)
        return exchange

    def _at_far_side(self, exchange: _Exchange) -> None:
        if not self.link.delivered(exchange.token):
            return  # lost: the sender's wait runs out
        verdict = exchange.serve(self.clock.now)
        if verdict is None:
            return
        exchange.verdict = verdict
        if exchange.think > 0:
            self._push(self.clock.now + exchange.think, 1, exchange)
        else:
            self._answer(exchange)

    def _answer(self, exchange: _Exchange) -> None:
        link = self.link
        token = link.token()
        delay = link.transit_time(exchange.response_bytes, on_line=token != LOST)
        if delay == 0:
            raise Tie
        if token == LOST or token != exchange.token:
            return  # lost on the way back: never answers
        # Delivered iff still the same epoch at arrival; no fault can end it mid-flight and
        # a hang-up runs the pending actions first, so this only needs checking at use.
        exchange.reply_at = self.clock.now + delay

    def wait(self, exchanges: list[_Exchange], until: float) -> float:
        """Advance to the first reply among ``exchanges`` or ``until``; returns the time.
        Pending actions before it run first (rule 2)."""
        clock = self.clock
        pending = self._pending
        while True:
            first = min(e.reply_at for e in exchanges)
            end = first if first < until else until
            if pending and pending[0][0] <= end:
                at, _, action, exchange = heapq.heappop(pending)
                if at == end or (pending and pending[0][0] == at):
                    raise Tie
                clock.now = at
                if action == 0:
                    self._at_far_side(exchange)
                else:
                    self._answer(exchange)
                continue
            if first == until:
                raise Tie
            clock.now = end
            return end

    # --- effects ----------------------------------------------------------------------
    def dial(self) -> Result:
        clock, spec = self.clock, self.ras
        if self.port and self.link.connected:
            return Succeeded(clock.now)
        self.dials += 1
        plan = plan_dial(spec, self._phase_draws, self._failure_draws)
        if not self.pool.take():
            raise Tie  # a lone sender always finds its port free; the event path decides
        self.port, self.port_since = True, clock.now
        for _name, duration, code in plan.phases:
            clock.now = clock.now + duration
            if code:
                self._free_port()
                return Failed(code, clock.now)
        self.run_until(clock.now)
        self.link.connect(since=clock.now)
        self.name_path.connect(at=clock.now)
        return Succeeded(clock.now)

    def hangup(self) -> Result:
        clock = self.clock
        self.run_until(clock.now)
        if self.link.connected:
            self.link.disconnect()
        self.name_path.disconnect()
        clock.now = clock.now + self.ras.hangup
        self._free_port()
        return Succeeded(clock.now)

    def _free_port(self) -> None:
        if self.port:
            self.pool.give_back(True)
            self.line_time += self.clock.now - self.port_since
            self.port = False

    def add_connection(self) -> Result:
        code = self._resolve()
        if code == 0:
            code = self._tcp_connect()
        if code == 0:
            for _step, request_bytes, response_bytes, _checks in SESSION_STEPS:
                code = self._exchange(request_bytes, response_bytes)
                if code:
                    break
        if code:
            return Failed(code, self.clock.now)
        return Succeeded(self.clock.now)

    def _wins(self, now: float) -> int | None:
        ready_at = self.name_path.ready_at
        return 0 if wins_served(now, ready_at, False) else None

    def _syn(self, now: float) -> int | None:
        return 0 if self.name_path.ready(now) else None

    @staticmethod
    def _served(now: float) -> int:
        return 0

    def _resolve(self) -> int:
        clock, spec = self.clock, self.scenario.netbt
        start = clock.now
        if start < self.cached_until:
            return 0
        interval = spec.name_query_timeout
        give_up = start + spec.name_query_count * interval
        sent: list[_Exchange] = []
        answered_at = math.inf
        for query in range(spec.name_query_count):
            sent.append(self.request(NAME_QUERY_BYTES, NAME_RESPONSE_BYTES, self._wins))
            until = clock.now + query_wait(start, interval, query, clock.now)
            at = self.wait(sent, until)
            if at < until:
                answered_at = at
                break
        if answered_in_time(answered_at, give_up):
            self.cached_until = answered_at + spec.cache_timeout
            return 0
        if spec.broadcast_fallback and spec.bcast_query_count:
            clock.now = clock.now + spec.bcast_query_count * spec.bcast_query_timeout
        return ERROR_BAD_NETPATH

    def _tcp_connect(self) -> int:
        clock, tcp = self.clock, self.scenario.tcp
        sent: list[_Exchange] = []
        for rto in syn_waits(tcp.initial_rto, tcp.max_connect_retransmissions):
            sent.append(self.request(SYN_BYTES, SYN_BYTES, self._syn))
            until = clock.now + rto
            if self.wait(sent, until) < until:
                return 0
        return ERROR_BAD_NETPATH

    def _exchange(self, request_bytes: int, response_bytes: int) -> int:
        clock = self.clock
        exchange = self.request(request_bytes, response_bytes, self._served,
                                self.scenario.smb.server_think)
        until = clock.now + self.scenario.smb.session_timeout
        if self.wait([exchange], until) < until:
            return exchange.verdict
        # No fault can drop the link during an exchange here (rule 1), so no 64: the
        # session time-out is the only way it fails.
        return SESSION_TIMEOUT_CODE


def run_fast_trial(scenario: Scenario, policy: RetryPolicy, seed: int,
                   trial: int) -> TrialResult:
    """Trial ``trial`` on the fast path (rule 1's trials only); ``Tie`` when it must fall
    back to the event path (rule 3)."""
    streams = TrialStreams(seed, trial)
    world = _World(scenario, streams)
    clock = world.clock
    start = scenario.sender.start
    rng = streams.get("jitter") if policy.jitter != "none" else None
    procedure = connect(policy, target_of(scenario), rng, started_at=start,
                        budget=budget_of(policy))
    if start > 0:
        clock.now = clock.now + start
    effect = next(procedure)
    while True:
        result: Result
        if isinstance(effect, Sleep):
            clock.now = clock.now + effect.seconds
            result = Succeeded(clock.now)
        elif isinstance(effect, AddConnection):
            result = world.add_connection()
        elif isinstance(effect, Dial):
            result = world.dial()
        elif isinstance(effect, HangUp):
            result = world.hangup()
        else:  # pragma: no cover - the procedure yields these four only
            raise TypeError(f"the world cannot perform {effect!r}")
        try:
            effect = procedure.send(result)
        except StopIteration as stop:
            outcome = stop.value
            break
    connected = isinstance(outcome, Connected)
    end = outcome.at
    pool = world.pool
    held = end - world.port_since if world.port else 0.0
    return TrialResult(
        trial=trial,
        seed=seed,
        outcome="connected" if connected else "gave_up",
        code=outcome.code,
        reason=outcome.reason,
        attempts=outcome.attempts,
        dials=outcome.dials,
        connect_time=end - start if connected else float("nan"),
        end_time=end,
        line_time=world.line_time + held,
        codes=outcome.codes,
        faults=(),
        senders=1,
        senders_connected=int(connected),
        busy_signals=world.busy_signals,
        port_utilization=pool.busy_time(end) / (pool.capacity * end) if end > 0 else 0.0,
    )
