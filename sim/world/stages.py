"""Each protocol stage's rule, stated once, as pure functions of the stage's state.

The event path (``sim.world.ras``, ``sim.world.netbt``, ``sim.world.smb`` on SimPy) and the
fast path (``sim.trial.fast``, a virtual clock for lone senders) both call these, so the
physics has one statement; only the way time advances differs. Every function returns the
same floats from the same inputs, computed with the same operations the event path's
clock applies (SimPy sets ``now = now + delay`` at each time-out), so both paths agree bit
for bit (``tests/trial/test_fast_path.py``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sender.codes import ERROR_PPP_TIMEOUT
from sim.draws.streams import UniformStream
from sim.scenario.schema import RasSpec

__all__ = ["DialPhase", "DialPlan", "answered_in_time", "dial_plan", "path_ready", "plan_dial",
           "query_wait", "syn_waits", "warmed", "wins_served"]

#: (phase name, duration, code: 0 when the phase succeeds).
DialPhase = tuple[str, float, int]


def dial_plan(spec: RasSpec, connect: float, authenticate: float, project: float,
              rolls: tuple[float, float, float, float]) -> tuple[DialPhase, ...]:
    """The phases a dial goes through (``sim.world.ras`` rules 2 and 3): each phase's drawn
    duration and its failure code, up to and including the first that fails.

    ``rolls`` are the dial's four failure uniforms: one per phase, then the code pick.
    """
    connect_roll, authenticate_roll, project_roll, pick = rolls
    # Written out phase by phase (no loop, no list): this runs once per dial on both paths.
    failure = spec.connect_failure
    connect_phase = ("connect", connect,
                     _pick(failure.codes, pick) if connect_roll < failure.rate else 0)
    if connect_phase[2]:
        return (connect_phase,)
    if authenticate > spec.authenticate_timeout:
        return (connect_phase, ("authenticate", spec.authenticate_timeout, ERROR_PPP_TIMEOUT))
    failure = spec.authenticate_failure
    authenticate_phase = ("authenticate", authenticate,
                          _pick(failure.codes, pick) if authenticate_roll < failure.rate else 0)
    if authenticate_phase[2]:
        return (connect_phase, authenticate_phase)
    failure = spec.project_failure
    return (connect_phase, authenticate_phase,
            ("project", project, _pick(failure.codes, pick) if project_roll < failure.rate else 0))


def _pick(codes: list[int], pick: float) -> int:
    """The failure code the pick uniform chooses among a phase's codes."""
    return codes[min(len(codes) - 1, int(pick * len(codes)))]


def warmed(latency: float, age: float, warm_extra: float, warm_decay: float) -> float:
    """A drawn latency under warm-up (``sim.world.link`` rule 3): times
    1 + (factor - 1) * exp(-age / decay), ``age`` from the moment the connection came up;
    unchanged when ``warm_extra`` (factor - 1) is 0."""
    if warm_extra:
        return latency * (1.0 + warm_extra * math.exp(-age / warm_decay))
    return latency


def path_ready(now: float, ready_at: float) -> bool:
    """The name path answers at ``now`` (``sim.world.netbt`` rule 1): a WINS query or a SYN
    reaching the far side is served from ``ready_at`` on."""
    return now >= ready_at


@dataclass(frozen=True, slots=True)
class DialPlan:
    """What dial n will do, drawn at its start (``sim.world.ras`` rule 3): each phase as
    (name, seconds, code), where a non-zero code ends the dial with that code after the
    phase's seconds. Phases after a failing one are not listed."""

    phases: tuple[DialPhase, ...]

    @property
    def code(self) -> int:
        """The dial's failure code, 0 when it reaches Connected."""
        return self.phases[-1][2]

    @property
    def seconds(self) -> float:
        """From the dial's start to Connected or to its failure (ports permitting)."""
        return sum(duration for _, duration, _ in self.phases)


def plan_dial(spec: RasSpec, phase_draws: UniformStream,
              failure_draws: UniformStream) -> DialPlan:
    """Draw dial n's plan: three uniforms of ``phase_draws`` (phase times) and four of
    ``failure_draws`` (three failure rolls and the code pick), whatever happens next.

    Shared by the SimPy RAS server, the fast path and the real testbed (``sim.real``), so
    every path dials trial i exactly alike."""
    draw = phase_draws.random
    connect, authenticate, project = (
        spec.connect.ppf(draw()), spec.authenticate.ppf(draw()), spec.project.ppf(draw()))
    roll = failure_draws.random
    rolls = (roll(), roll(), roll(), roll())
    return DialPlan(dial_plan(spec, connect, authenticate, project, rolls))


def wins_served(now: float, ready_at: float, wins_unavailable: bool) -> bool:
    """A WINS query reaching the far side at ``now`` is answered (``sim.world.netbt`` rule 2)."""
    return now >= ready_at and not wins_unavailable


def query_wait(start: float, interval: float, query: int, now: float) -> float:
    """The wait after query ``query`` (0-based) sent at ``now`` of a resolution that began at
    ``start``: until ``start + (query + 1) * interval``, as a delay from ``now``."""
    return start + (query + 1) * interval - now


def answered_in_time(answered_at: float, give_up: float) -> bool:
    """Rule 3 of ``sim.world.netbt``: strictly before give-up; a tie goes to give-up."""
    return answered_at < give_up


def syn_waits(initial_rto: float, retransmissions: int) -> list[float]:
    """The wait after each SYN (``sim.world.smb`` rule 2): RTO doubling from the initial."""
    waits, rto = [], initial_rto
    for _ in range(1 + retransmissions):
        waits.append(rto)
        rto *= 2
    return waits
