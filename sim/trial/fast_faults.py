"""The fast path with faults: a lone sender's world computed between fault boundaries.

Theory of operation
-------------------
``sim.trial.fast`` runs a lone sender on a virtual clock with a heap of pending actions (a
message reaching the far side, a reply leaving it). With faults, a fault window's start and
end are two more pending actions on the same heap, so the world between two boundaries is
computed exactly as without faults, and each boundary changes the state the next action
reads, in time order. The event path (``sim.world.faults``, ``sim.world.link``,
``sim.world.netbt``, ``sim.world.smb``) stays the statement of what a fault does; this world
repeats its bookkeeping on plain values, and rows are equal to the event path's, the set of
touched faults included (``tests/trial/test_fast_faults.py``).

Rules (in addition to ``sim.trial.fast``'s):

1. **Which faults.** Every kind but ``ports_held`` (which queues on the shared SimPy
   resource; such scenarios stay on the event path, ``sim.trial.fast.eligible``).
2. **Same fault draws.** Fault k draws only from stream ``("faults", k)`` (scheduled: whether
   it happens and its duration, at the start; stochastic: each gap, then each window's
   duration at its start, none past ``HORIZON``), as ``sim.world.faults`` does; the streams
   are private, so drawing them at these moments gives the same numbers.
3. **Boundaries on the heap.** A window's start at ``t`` and its end at ``t + duration`` are
   pending actions (3 and 4). A fault at ``start + 0`` starts before the sender's first step
   (SimPy runs the fault processes' starts first). A fault at another milestone ``+ offset``
   is put on the heap when the milestone is first reached; with offset 0 it starts at the
   sender's next wait (SimPy resumes the fault after the step in which the milestone was
   reached), after every pending action before that moment (``_yield``).
4. **The link as ``Link`` keeps it.** Carriage is ``connected and not outages``; losing it
   bumps the epoch and records the cause; a message carries the epoch it left in (or
   ``LOST``) and is delivered iff the epoch is unchanged at arrival, else touches the fault
   that ended its epoch. A reply's arrival is a pending action (2), since an outage may end
   the epoch while it is in flight. Spikes multiply the drawn latency in begin order and
   touch; a message sent while an outage blocks carriage touches the outages.
5. **What the far side sees.** WINS answers iff the path is ready and no
   ``wins_unavailable`` is active (checked, and touched, only when ready); an SMB step's
   verdict is the first active fault among the step's checks (``SESSION_STEPS``). An SMB
   request or reply that is lost ends the exchange with 64 at the moment it would have
   arrived, as the event path's ``_Reply`` fires with ``LOST``.
6. **The trial's end.** Pending actions before the outcome's time run, so faults touched by
   messages still in flight count as in the event path; one at that very time is a tie.
   Any other simultaneous pair (a boundary at the time of a message or a wait's end, a
   zero-length window) is a tie, and the trial reruns on the event path.
"""

from __future__ import annotations

import math
from heapq import heappop, heappush

from sender.effects import Result, Succeeded
from sim.draws.streams import TrialStreams, UniformStream
from sim.scenario.limits import HORIZON
from sim.scenario.schema import FaultKind, Scenario
from sim.trial.fast import _SMB, _SYN, _WINS, Tie, _Plan, _World
from sim.world.faults import draw_scheduled, unique_labels
from sim.world.link import LOST
from sim.world.smb import LINK_DROPPED_CODE, SESSION_STEPS, SESSION_TIMEOUT_CODE
from sim.world.stages import path_ready, warmed, wins_served

__all__ = ["FaultPlan", "FaultWorld", "fault_plan"]

_Pending = list[tuple[float, int, int, int, int, float, int]]
#: Pending actions beyond ``sim.trial.fast``'s 0 (request at the far side) and 1 (reply
#: leaving it): a reply reaching the sender, a fault window starting, one ending.
_ARRIVE, _BEGIN, _END = 2, 3, 4
#: ``serve`` of a reply that is not an SMB step's (its ``LOST`` is ignored, its verdict 0).
_NOT_SMB = -1
_LINK_OUTAGE, _LATENCY_SPIKE, _BOARD = 0, 1, 2


class FaultPlan:
    """What every trial of a scenario with faults uses about them, worked out once."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        specs = scenario.faults
        self.specs = specs
        self.labels = unique_labels(specs)
        self.kinds: list[FaultKind] = [spec.kind for spec in specs]
        self.effects = [_LINK_OUTAGE if spec.kind == "link_outage" else
                        _LATENCY_SPIKE if spec.kind == "latency_spike" else _BOARD
                        for spec in specs]
        self.schedules = [spec.schedule() if spec.at is not None else None for spec in specs]
        #: The kinds each SMB step's server checks, with the code each gives.
        self.checks = [checks for _step, _out, _back, checks in SESSION_STEPS]


_fault_plans: dict[int, FaultPlan] = {}


def fault_plan(scenario: Scenario) -> FaultPlan:
    """``FaultPlan`` of ``scenario``, cached by identity like ``sim.trial.fast``'s plan."""
    plan = _fault_plans.get(id(scenario))
    if plan is None or plan.scenario is not scenario:
        if len(_fault_plans) >= 16:
            _fault_plans.clear()
        plan = _fault_plans[id(scenario)] = FaultPlan(scenario)
    return plan


class FaultWorld(_World):
    """``sim.trial.fast``'s world with fault windows on its heap (rules 1 to 6)."""

    __slots__ = ("faults", "streams", "outages", "spikes", "active", "touched", "causes",
                 "waiting", "deferred", "reply_code", "exchange")

    def __init__(self, plan: _Plan, faults: FaultPlan, seed: int, trial: int) -> None:
        super().__init__(plan, seed, trial)
        self.faults = faults
        trial_streams = TrialStreams(seed, trial)
        self.streams: list[UniformStream] = [
            trial_streams.get("faults", index) for index in range(len(faults.specs))]
        self.outages: list[str] = []
        self.spikes: dict[str, float] = {}
        self.active: dict[FaultKind, list[str]] = {}
        self.touched: set[str] = set()
        self.causes: list[str] = []  # cause of the loss of carriage that ended epoch n
        self.waiting: dict[str, list[tuple[int, float, float]]] = {}
        self.deferred: list[tuple[int, float]] = []
        self.reply_code = 0
        self.exchange = 0
        # Rule 3: the fault processes start in spec order before the sender's first step.
        for index, (spec, schedule) in enumerate(zip(faults.specs, faults.schedules,
                                                     strict=True)):
            stream = self.streams[index]
            if schedule is None:
                assert spec.mean_interval is not None
                self._push(self._gap(index, 0.0), _BEGIN, index, math.nan)
                continue
            happens, duration = draw_scheduled(spec, stream)
            milestone, offset = schedule
            if not happens:
                continue
            if milestone != "start":
                self.waiting.setdefault(milestone, []).append((index, offset, duration))
            elif offset > 0:
                self._push(0.0 + offset, _BEGIN, index, duration)
            else:
                self._begin(index, duration)

    # --- fault windows -----------------------------------------------------------------
    def _push(self, at: float, action: int, index: int, duration: float) -> None:
        self._order += 1
        heappush(self._pending, (at, self._order, action, index, 0, duration, 0))

    def _gap(self, index: int, now: float) -> float:
        """The next window's start of stochastic fault ``index`` (``_stochastic``)."""
        interval = self.faults.specs[index].mean_interval
        assert interval is not None
        gap = -interval * math.log1p(-self.streams[index].random())
        if gap == 0:
            raise Tie
        return now + gap

    def _begin(self, index: int, duration: float) -> None:
        """A window of fault ``index`` opens now (``faults._actions``' begin)."""
        faults = self.faults
        label = faults.labels[index]
        effect = faults.effects[index]
        if effect == _LINK_OUTAGE:
            self._lose_carriage(label)
            self.outages.append(label)
        elif effect == _LATENCY_SPIKE:
            self.spikes[label] = faults.specs[index].factor
        else:
            self.active.setdefault(faults.kinds[index], []).append(label)
        if not math.isinf(duration):
            if duration == 0:
                raise Tie  # opens and closes at one time: SimPy's order decides
            self._push(self.now + duration, _END, index, 0.0)

    def _end(self, index: int) -> None:
        faults = self.faults
        label = faults.labels[index]
        effect = faults.effects[index]
        if effect == _LINK_OUTAGE:
            self.outages.remove(label)
        elif effect == _LATENCY_SPIKE:
            del self.spikes[label]
        else:
            self.active[faults.kinds[index]].remove(label)
        if faults.schedules[index] is None:
            self._push(self._gap(index, self.now), _BEGIN, index, math.nan)

    def _reach(self, milestone: str) -> None:
        """The milestone's first occurrence: its faults' windows are scheduled (rule 3)."""
        waiting = self.waiting.pop(milestone, None)
        if waiting is None:
            return
        for index, offset, duration in waiting:
            if offset > 0:
                self._push(self.now + offset, _BEGIN, index, duration)
            else:
                self.deferred.append((index, duration))

    def _yield(self) -> None:
        """The sender waits: faults resumed by a milestone of this step start now (rule 3)."""
        if self.deferred:
            self._run_until(self.now)
            deferred, self.deferred = self.deferred, []
            for index, duration in deferred:
                self._begin(index, duration)

    # --- the link (rule 4) -------------------------------------------------------------
    def _lose_carriage(self, cause: str) -> None:
        if self.connected and not self.outages:
            self.epoch += 1
            self.causes.append(cause)

    def _delivered(self, token: int) -> bool:
        if token == self.epoch and self.connected and not self.outages:
            return True
        if token != LOST and token < len(self.causes):
            cause = self.causes[token]
            if cause != "hang-up":
                self.touched.add(cause)
        return False

    def _transit(self, nbytes_time: float) -> tuple[float, int]:
        """``Link.send`` now: the message's delay and its token (touches as ``Link``)."""
        plan = self.plan
        latency = warmed(plan.latency(self._link_u()), self.now - self.up_since,
                         plan.warm_extra, plan.warm_decay)
        if self.spikes:
            for label, factor in self.spikes.items():
                latency *= factor
                self.touched.add(label)
        delay = latency + nbytes_time
        if delay == 0:
            raise Tie
        if self.connected and not self.outages:
            return delay, self.epoch
        self.touched.update(self.outages)
        return delay, LOST

    def _first_active(self, kind: FaultKind) -> bool:
        labels = self.active.get(kind)
        if not labels:
            return False
        self.touched.add(labels[0])
        return True

    # --- messages (``sim.trial.fast`` rule 2 with rules 4 and 5) -------------------------
    def _send(self, out: float, back: float, serve: int) -> None:
        pending = self._pending
        if pending and pending[0][0] <= self.now:
            self._run_until(self.now)
        delay, token = self._transit(out)
        if serve == _SMB:
            serve += self.exchange
        self._order += 1
        heappush(pending, (self.now + delay, self._order, 0, token, serve, back, self.stage))

    def _reply(self, token: int, serve: int, back: float, stage: int) -> None:
        """The far side answers now: the reply leaves (``_Reply.answer``)."""
        delay, token = self._transit(back)
        self._order += 1
        heappush(self._pending, (self.now + delay, self._order, _ARRIVE, token, serve, back,
                                 stage))

    def _fire(self, at: float, stage: int, code: int) -> None:
        if stage == self.stage and at < self.first_reply:
            self.first_reply = at
            self.reply_code = code

    def _run_first(self, pending: _Pending, end: float) -> None:
        at, _, action, token, serve, back, stage = heappop(pending)
        if at == end or (pending and pending[0][0] == at):
            raise Tie
        self.now = at
        if action == 0:  # the request reaches the far side (``_Reply.at_far_side``)
            if not self._delivered(token):
                if serve >= _SMB:
                    self._fire(at, stage, LINK_DROPPED_CODE)
                return
            if serve == _WINS:
                if not path_ready(at, self.ready_at) or not wins_served(
                        at, self.ready_at, self._first_active("wins_unavailable")):
                    return
                serve = _NOT_SMB
            elif serve == _SYN:
                if not path_ready(at, self.ready_at):
                    return
                serve = _NOT_SMB
            else:
                serve = self._verdict(serve - _SMB)
                think = self.plan.think
                if think > 0:
                    self._order += 1
                    heappush(pending, (at + think, self._order, 1, token, serve, back, stage))
                    return
            self._reply(token, serve, back, stage)
        elif action == 1:  # the reply leaves after the server's think time
            self._reply(token, serve, back, stage)
        elif action == _ARRIVE:
            if self._delivered(token):
                self._fire(at, stage, 0 if serve == _NOT_SMB else serve)
            elif serve != _NOT_SMB:
                self._fire(at, stage, LINK_DROPPED_CODE)
        elif action == _BEGIN:
            if math.isnan(back):  # a stochastic window: none opens past the horizon
                if at > HORIZON:
                    return
                spec = self.faults.specs[token]
                assert spec.duration is not None
                back = spec.duration.ppf(self.streams[token].random())
            self._begin(token, back)
        else:
            self._end(token)

    def _verdict(self, step: int) -> int:
        for kind, code in self.faults.checks[step]:
            if self._first_active(kind):
                return code
        return 0

    def _wait(self, until: float) -> float:
        self._yield()
        return super()._wait(until)

    # --- effects ---------------------------------------------------------------------
    def dial(self) -> Result:
        self._reach("dial")
        if self.port and self.connected:
            self._reach("connected")
            return Succeeded(self.now)
        self._yield()
        result = super().dial()
        if type(result) is Succeeded:
            self._reach("connected")
        return result

    def hangup(self) -> Result:
        self._run_until(self.now)
        if self.connected:
            self._lose_carriage("hang-up")
            self.connected = False
        self.ready_at = math.inf
        self._yield()
        self.now = self.now + self.plan.ras.hangup
        self._free_port()
        return Succeeded(self.now)

    def sleep(self, seconds: float) -> Result:
        self._yield()
        self.now = self.now + seconds
        return Succeeded(self.now)

    def add_connection(self) -> Result:
        self._reach("first_map")
        self.exchange = 0
        return super().add_connection()

    def _exchange(self, out: float, back: float) -> int:
        self.stage += 1
        self.first_reply = math.inf
        self._send(out, back, _SMB)
        self.exchange += 1
        until = self.now + self.plan.session_timeout
        if self._wait(until) < until:
            return self.reply_code
        return SESSION_TIMEOUT_CODE

    def finish(self, end: float) -> tuple[str, ...]:
        """Rule 6: run what is pending before ``end``; the faults that touched the trial."""
        self._run_until(end)
        return tuple(sorted(self.touched))
