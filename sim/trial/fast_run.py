"""The fast path's driver: the unchanged sender procedure against a fast-path world.

``sim.trial.fast`` holds the world of a fault-free trial and ``sim.trial.fast_faults`` the
world with fault windows (built on the first); this module picks one from the scenario and
drives the procedure through it, so neither world module imports the other's user.
"""

from __future__ import annotations

import math
from typing import Any

from sender.effects import AddConnection, Connected, Dial, HangUp, Result, Sleep
from sender.policy import RetryPolicy
from sender.procedure import connect
from sim.draws.streams import STREAM_IDS, PcgStream, stream_seeds
from sim.scenario.schema import Scenario
from sim.trial.fast import _plan_of, _World
from sim.trial.fast_faults import FaultWorld, fault_plan
from sim.trial.results import Row, RowMaker, TrialResult
from sim.trial.setup import budget_of

__all__ = ["run_fast_trial"]


def run_fast_trial(scenario: Scenario, policy: RetryPolicy, seed: int, trial: int,
                   row: RowMaker = TrialResult) -> Row:
    """Trial ``trial`` on the fast path (rule 1's trials only); ``Tie`` when it must fall
    back to the event path (rule 3). ``row`` builds the row from its fields in order."""
    plan = _plan_of(scenario)
    world: _World
    if scenario.faults:
        world = FaultWorld(plan, fault_plan(scenario), seed, trial)
    else:
        world = _World(plan, seed, trial)
    start = plan.start
    rng: Any = None
    if policy.jitter != "none":
        rng = PcgStream(*stream_seeds(seed, trial, (STREAM_IDS["jitter"],))[0])
    procedure = connect(policy, plan.target, rng, started_at=start, budget=budget_of(policy))
    if start > 0:
        world.now = world.now + start
    effect = next(procedure)
    send = procedure.send
    while True:
        kind = type(effect)
        result: Result
        if kind is AddConnection:
            result = world.add_connection()
        elif kind is Dial:
            result = world.dial()
        elif kind is Sleep:
            result = world.sleep(effect.seconds)  # type: ignore[union-attr]
        elif kind is HangUp:
            result = world.hangup()
        else:  # pragma: no cover - the procedure yields these four only
            raise TypeError(f"the world cannot perform {effect!r}")
        try:
            effect = send(result)
        except StopIteration as stop:
            outcome = stop.value
            break
    connected = isinstance(outcome, Connected)
    end = outcome.at
    faults = world.finish(end)
    pool = world.pool
    held = end - world.port_since if world.port else 0.0
    return row(
        trial, seed, "connected" if connected else "gave_up", outcome.code, outcome.reason,
        outcome.attempts, outcome.dials, end - start if connected else math.nan, end,
        world.line_time + held, outcome.codes, faults, 1, int(connected), 0,
        pool.busy_time(end) / (pool.capacity * end) if end > 0 else 0.0)
