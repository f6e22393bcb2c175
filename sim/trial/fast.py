"""The fast path: a lone sender's trial on a virtual clock, each stage computed at its start.

Theory of operation
-------------------
A lone sender without faults needs no SimPy: nothing else runs beside it. The fast path
drives the unchanged sender procedure (``sender.procedure.connect``) itself and performs each
effect by computing when it ends. What is physics comes from one statement shared with the
event path: the dial, WINS, TCP and SMB rules and the link's warm-up from
``sim.world.stages``, the port accounting from ``sim.world.ports.CountedPorts``, draws from the
same named streams in the same order (``sim.draws.streams``). What is left here is
bookkeeping: a clock, the link's epoch, the messages in flight. Everything that depends on
the scenario alone is worked out once per scenario (``_Plan``).

Rules:

1. **Which trials.** ``eligible(scenario, tracer)``: no ``[fleet]``, no ``ports_held`` fault
   (it queues on the shared SimPy resource), and a tracer that records nothing. Decided from
   the scenario and the call, never by a user flag. Every other trial, and every traced
   replay, takes the event path. A scenario with faults runs ``sim.trial.fast_faults``'s
   world, which puts the fault windows' boundaries on the same heap.
2. **Same draws, same order.** A stage's own messages draw their latency when sent; a
   message's far-side arrival, and a reply's send after the server's think time, are kept
   in a heap of pending actions and run in time order before anything at a later time
   draws or changes the link, as SimPy would run them. That covers messages still in
   flight when a stage ends (a WINS query answered after the resolution finished still
   draws its reply).
3. **Ties fall back.** When two things happen at the same virtual time (a reply arriving as
   a timer expires, constant latencies lining messages up), SimPy's order depends on when
   each event was scheduled. Rather than restate that, the fast path raises ``Tie`` and the
   trial is rerun on the event path: a trial depends on (scenario, policy, seed, trial)
   only, so starting again is safe. With drawn (continuous) latencies ties do not occur.
4. **Same row.** The row is built from the same quantities with the same arithmetic as
   ``sim.trial.trial``: rows are equal to the event path's, floats included, on every
   eligible shipped scenario and on generated ones (``tests/trial/test_fast_path.py``).
5. **A wait knows its first reply.** A stage (one resolution, one TCP connect, one SMB
   exchange) numbers its messages with the stage's number; a reply computed for a message
   of the current stage updates the stage's first reply time, so a wait compares two
   numbers instead of scanning its messages.
6. **A lone exchange skips the heap.** An SMB exchange sent while nothing else is in
   flight has only its own actions before its time-out (the request's arrival, the reply
   leaving after the server's think time, the reply's arrival), so they are taken in
   order in straight-line code with the same ties and the same leftovers as the general
   wait (``_World._lone_exchange``).
"""

from __future__ import annotations

import math
from heapq import heappop, heappush

from sender.codes import ERROR_BAD_NETPATH
from sender.effects import Failed, Result, Succeeded
from sim.draws.streams import STREAM_IDS, PcgStream, stream_seeds
from sim.scenario.schema import Scenario
from sim.trial.setup import target_of
from sim.world.link import LOST
from sim.world.netbt import NAME_QUERY_BYTES, NAME_RESPONSE_BYTES
from sim.world.ports import CountedPorts
from sim.world.smb import SESSION_STEPS, SESSION_TIMEOUT_CODE, SYN_BYTES
from sim.world.stages import (
    answered_in_time,
    dial_plan,
    path_ready,
    query_wait,
    syn_waits,
    warmed,
    wins_served,
)
from sim.world.trace import NullTracer, Tracer

__all__ = ["Tie", "eligible"]


class Tie(Exception):
    """Two things at the same virtual time: rerun the trial on the event path (rule 3)."""


def eligible(scenario: Scenario, tracer: Tracer) -> bool:
    """Rule 1."""
    return (scenario.fleet is None and isinstance(tracer, NullTracer)
            and not any(spec.kind == "ports_held" for spec in scenario.faults))


# What the far side does with a request (the event path's ``serve`` callables).
_WINS, _SYN, _SMB = 0, 1, 2
#: Stream numbers the fast path draws from, in ``_World``'s order.
_STREAMS = tuple(STREAM_IDS[name] for name in ("ras", "dial_failures", "link", "name_path"))


class _Plan:
    """What every fast trial of one scenario uses, worked out once (cached by identity)."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        link, netbt, tcp, smb = scenario.link, scenario.netbt, scenario.tcp, scenario.smb
        self.ras = ras = scenario.ras
        self.phases = (ras.connect.ppf, ras.authenticate.ppf, ras.project.ppf)
        self.latency = link.latency.ppf
        self.lag = scenario.name_path.lag.ppf
        self.warm_extra = link.warmup.factor - 1.0
        self.warm_decay = link.warmup.decay
        per_byte = 8.0 / link.rate_bps if link.rate_bps else 0.0
        # ``Link.transit_time``'s bytes * seconds-per-byte, the same product once.
        self.query_time = NAME_QUERY_BYTES * per_byte
        self.name_response_time = NAME_RESPONSE_BYTES * per_byte
        self.syn_time = SYN_BYTES * per_byte
        self.smb_times = tuple((request * per_byte, response * per_byte)
                               for _step, request, response, _checks in SESSION_STEPS)
        self.query_interval = netbt.name_query_timeout
        self.query_count = netbt.name_query_count
        self.cache_timeout = netbt.cache_timeout
        self.broadcast = (netbt.bcast_query_count * netbt.bcast_query_timeout
                          if netbt.broadcast_fallback and netbt.bcast_query_count else 0.0)
        self.syn_waits = tuple(syn_waits(tcp.initial_rto, tcp.max_connect_retransmissions))
        self.think = smb.server_think
        self.session_timeout = smb.session_timeout
        self.start = scenario.sender.start
        self.target = target_of(scenario)


_plans: dict[int, _Plan] = {}


def _plan_of(scenario: Scenario) -> _Plan:
    plan = _plans.get(id(scenario))
    if plan is None or plan.scenario is not scenario:
        if len(_plans) >= 16:
            _plans.clear()  # rare (a sweep over many scenarios): recomputing is cheap
        plan = _plans[id(scenario)] = _Plan(scenario)
    return plan


class _World:
    """A lone sender's world on a clock (rules 2, 3 and 5).

    A pending action is a tuple ``(time, order, action, token, serve, back, stage)``:
    ``action`` 0 is a request reaching the far side, 1 a reply leaving it after the
    server's think time; ``token`` is the link epoch the request was sent in (or ``LOST``),
    ``serve`` what the far side does, ``back`` the reply's byte time, ``stage`` the stage
    the message belongs to (rule 5). ``order`` is unique, so tuples never compare further.
    """

    __slots__ = ("now", "plan", "pool", "_phase", "_fail", "_link_u", "_lag_u", "connected",
                 "epoch", "up_since", "ready_at", "port", "port_since", "line_time", "dials",
                 "cached_until", "_pending", "_order", "stage", "first_reply")

    def __init__(self, plan: _Plan, seed: int, trial: int) -> None:
        self.now = 0.0
        self.plan = plan
        ras, fail, link, lag = stream_seeds(seed, trial, _STREAMS)
        self._phase = PcgStream(*ras).random
        self._fail = PcgStream(*fail).random
        self._link_u = PcgStream(*link).random
        self._lag_u = PcgStream(*lag).random
        self.pool = CountedPorts(self, plan.ras.ports)  # type: ignore[arg-type]  # reads now
        self.connected = False
        self.epoch = 0
        self.up_since = -math.inf
        self.ready_at = math.inf
        self.port = False
        self.port_since = 0.0
        self.line_time = 0.0
        self.dials = 0
        self.cached_until = -math.inf
        self._pending: list[tuple[float, int, int, int, int, float, int]] = []
        self._order = 0
        self.stage = 0
        self.first_reply = math.inf
        predialed = plan.ras.predialed
        if predialed is not None:
            if not self.pool.take():
                raise Tie  # cannot happen for a lone sender; the event path will say so
            self.port, self.port_since = True, -predialed
            self._link_up(-predialed)

    def _link_up(self, since: float) -> None:
        """``Link.connect`` and ``NamePath.connect``: up since ``since``, ready after a lag."""
        self.connected = True
        self.up_since = since
        self.ready_at = since + self.plan.lag(self._lag_u())

    # --- rule 2: messages in flight ----------------------------------------------------
    def _run_until(self, t: float) -> None:
        """Run every pending action before ``t``; one at ``t`` is a tie (rule 3)."""
        pending = self._pending
        while pending and pending[0][0] <= t:
            self._run_first(pending, t)
        self.now = t

    def _run_first(self, pending: list[tuple[float, int, int, int, int, float, int]],
                   end: float) -> None:
        """Run the first pending action (at or before ``end``, which is a tie)."""
        at, _, action, token, serve, back, stage = heappop(pending)
        if at == end or (pending and pending[0][0] == at):
            raise Tie
        self.now = at
        if action == 0:  # the request reaches the far side (the event path's ``serve``)
            if token != self.epoch or not self.connected:
                return  # lost: the sender's wait runs out
            if serve == _WINS:
                if not wins_served(at, self.ready_at, False):
                    return
            elif serve == _SYN:
                if not path_ready(at, self.ready_at):
                    return
            else:
                think = self.plan.think
                if think > 0:
                    self._order += 1
                    heappush(pending, (at + think, self._order, 1, token, serve, back, stage))
                    return
        self._answer(token, back, stage)

    def _send(self, out: float, back: float, serve: int) -> None:
        """``Link.request`` sent now, as part of the current stage."""
        now = self.now
        pending = self._pending
        if pending and pending[0][0] <= now:
            self._run_until(now)
        plan = self.plan
        delay = warmed(plan.latency(self._link_u()), now - self.up_since, plan.warm_extra,
                       plan.warm_decay) + out
        if delay == 0:
            raise Tie  # arrives in the step it was sent in: SimPy's order decides
        self._order += 1
        heappush(pending, (now + delay, self._order, 0, self.epoch if self.connected else LOST,
                           serve, back, self.stage))

    def _answer(self, sent_token: int, back: float, stage: int) -> None:
        now = self.now
        plan = self.plan
        delay = warmed(plan.latency(self._link_u()), now - self.up_since, plan.warm_extra,
                       plan.warm_decay) + back
        if delay == 0:
            raise Tie
        if not self.connected or self.epoch != sent_token:
            return  # lost on the way back: never answers
        # Delivered iff still the same epoch at arrival; no fault can end it mid-flight and
        # a hang-up runs the pending actions first, so this only needs checking at use.
        if stage == self.stage and now + delay < self.first_reply:
            self.first_reply = now + delay

    def _wait(self, until: float) -> float:
        """Advance to the current stage's first reply or ``until``; returns the time.
        Pending actions before it run first (rule 2)."""
        pending = self._pending
        while True:
            first = self.first_reply
            end = first if first < until else until
            if pending and pending[0][0] <= end:
                self._run_first(pending, end)
                continue
            if first == until:
                raise Tie
            self.now = end
            return end

    # --- effects ----------------------------------------------------------------------
    def dial(self) -> Result:
        if self.port and self.connected:
            return Succeeded(self.now)
        self.dials += 1
        draw = self._phase
        connect_ppf, authenticate_ppf, project_ppf = self.plan.phases
        connect_, authenticate, project = (
            connect_ppf(draw()), authenticate_ppf(draw()), project_ppf(draw()))
        roll = self._fail
        rolls = (roll(), roll(), roll(), roll())
        if not self.pool.take():
            raise Tie  # a lone sender always finds its port free; the event path decides
        self.port, self.port_since = True, self.now
        for _name, duration, code in dial_plan(self.plan.ras, connect_, authenticate, project,
                                               rolls):
            self.now = self.now + duration
            if code:
                self._free_port()
                return Failed(code, self.now)
        if self._pending:
            self._run_until(self.now)
        self._link_up(self.now)
        return Succeeded(self.now)

    def sleep(self, seconds: float) -> Result:
        self.now = self.now + seconds
        return Succeeded(self.now)

    def finish(self, end: float) -> tuple[str, ...]:
        """The faults that touched the trial, which ended at ``end``: none here."""
        return ()

    def hangup(self) -> Result:
        self._run_until(self.now)
        if self.connected:
            self.epoch += 1  # messages in flight are lost (``Link`` rule 2)
            self.connected = False
        self.ready_at = math.inf
        self.now = self.now + self.plan.ras.hangup
        self._free_port()
        return Succeeded(self.now)

    def _free_port(self) -> None:
        if self.port:
            self.pool.give_back(True)
            self.line_time += self.now - self.port_since
            self.port = False

    def add_connection(self) -> Result:
        code = self._resolve()
        if code == 0:
            code = self._tcp_connect()
        if code == 0:
            for out, back in self.plan.smb_times:
                code = self._exchange(out, back)
                if code:
                    break
        if code:
            return Failed(code, self.now)
        return Succeeded(self.now)

    def _resolve(self) -> int:
        plan = self.plan
        start = self.now
        if start < self.cached_until:
            return 0
        interval = plan.query_interval
        give_up = start + plan.query_count * interval
        self.stage += 1
        self.first_reply = math.inf
        answered_at = math.inf
        for query in range(plan.query_count):
            self._send(plan.query_time, plan.name_response_time, _WINS)
            until = self.now + query_wait(start, interval, query, self.now)
            at = self._wait(until)
            if at < until:
                answered_at = at
                break
        if answered_in_time(answered_at, give_up):
            self.cached_until = answered_at + plan.cache_timeout
            return 0
        if plan.broadcast:
            self.now = self.now + plan.broadcast
        return ERROR_BAD_NETPATH

    def _tcp_connect(self) -> int:
        plan = self.plan
        self.stage += 1
        self.first_reply = math.inf
        for rto in plan.syn_waits:
            self._send(plan.syn_time, plan.syn_time, _SYN)
            until = self.now + rto
            if self._wait(until) < until:
                return 0
        return ERROR_BAD_NETPATH

    def _exchange(self, out: float, back: float) -> int:
        self.stage += 1
        self.first_reply = math.inf
        if self._pending or not self.connected:
            self._send(out, back, _SMB)
            until = self.now + self.plan.session_timeout
            if self._wait(until) < until:
                return 0  # no fault here: the server always accepts (rule 1)
            # No fault can drop the link during an exchange here (rule 1), so no 64: the
            # session time-out is the only way it fails.
            return SESSION_TIMEOUT_CODE
        return self._lone_exchange(out, back)

    def _lone_exchange(self, out: float, back: float) -> int:
        """``_exchange`` when nothing else is in flight (rule 6): the request's arrival,
        the server's think time and the reply are then the only actions before the
        time-out, so they are taken in order here, with ``_wait``'s ties and what it leaves
        pending, without the heap."""
        plan = self.plan
        now = self.now
        until = now + plan.session_timeout
        delay = warmed(plan.latency(self._link_u()), now - self.up_since, plan.warm_extra,
                       plan.warm_decay) + out
        if delay == 0:
            raise Tie
        at = now + delay
        if at >= until:
            if at == until:
                raise Tie
            self._order += 1
            heappush(self._pending, (at, self._order, 0, self.epoch, _SMB, back, self.stage))
            self.now = until
            return SESSION_TIMEOUT_CODE
        think = plan.think
        if think > 0:
            at = at + think
            if at >= until:
                if at == until:
                    raise Tie
                self._order += 1
                heappush(self._pending, (at, self._order, 1, self.epoch, _SMB, back,
                                         self.stage))
                self.now = until
                return SESSION_TIMEOUT_CODE
        delay = warmed(plan.latency(self._link_u()), at - self.up_since, plan.warm_extra,
                       plan.warm_decay) + back
        if delay == 0:
            raise Tie
        at = at + delay
        if at == until:
            raise Tie
        if at < until:
            self.now = at
            return 0
        self.now = until
        return SESSION_TIMEOUT_CODE
