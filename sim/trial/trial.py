"""One trial: a fresh environment, the trial's streams, the world, the sender(s), one row."""

from __future__ import annotations

from typing import cast

import simpy

from sender.effects import Connected, Outcome
from sender.policy import RetryPolicy
from sender.procedure import connect
from sim.draws.streams import TrialStreams
from sim.scenario.schema import Scenario
from sim.trial.fast import Tie, eligible
from sim.trial.fast_run import run_fast_trial
from sim.trial.fleet import run_fleet_trial
from sim.trial.results import Row, RowTuple, TrialResult
from sim.trial.setup import budget_of, target_of
from sim.world.driver import drive
from sim.world.trace import NULL_TRACER, Tracer
from sim.world.world import World

__all__ = ["run_event_trial", "run_trial", "summary_row"]


def run_trial(scenario: Scenario, policy: RetryPolicy, seed: int, trial: int,
              tracer: Tracer = NULL_TRACER) -> TrialResult:
    """Trial ``trial`` of a run seeded ``seed``: depends on these four arguments only.

    A scenario with a ``[fleet]`` runs the whole fleet in this one trial (``sim.trial.fleet``).
    A lone sender without faults, untraced, takes the fast path (``sim.trial.fast``), which
    gives the same row; it falls back to the event path on a tie.
    """
    if scenario.fleet is not None:
        return run_fleet_trial(scenario, policy, seed, trial, tracer)
    if eligible(scenario, tracer):
        try:
            return cast(TrialResult, run_fast_trial(scenario, policy, seed, trial))
        except Tie:
            pass
    return run_event_trial(scenario, policy, seed, trial, tracer)


def summary_row(scenario: Scenario, policy: RetryPolicy, seed: int, trial: int) -> Row:
    """``run_trial``'s row for a summary only: the same fields, built as a ``RowTuple`` on
    the fast path (cheaper than the frozen dataclass), a ``TrialResult`` elsewhere."""
    if eligible(scenario, NULL_TRACER):
        try:
            return run_fast_trial(scenario, policy, seed, trial, RowTuple)
        except Tie:
            pass
    return run_trial(scenario, policy, seed, trial)


def run_event_trial(scenario: Scenario, policy: RetryPolicy, seed: int, trial: int,
                    tracer: Tracer = NULL_TRACER) -> TrialResult:
    """A lone sender's trial on the event path (SimPy), whatever the scenario: what traced
    replays run, and what the fast path must equal."""
    if scenario.fleet is not None:
        return run_fleet_trial(scenario, policy, seed, trial, tracer)
    env = simpy.Environment()
    streams = TrialStreams(seed, trial)
    world = World(env, scenario, streams, tracer)
    start = scenario.sender.start
    rng = streams.get("jitter") if policy.jitter != "none" else None
    procedure = connect(policy, target_of(scenario), rng, started_at=start,
                        budget=budget_of(policy))
    process = env.process(drive(world, procedure, start))
    env.run(until=process)
    outcome = cast(Outcome, process.value)
    connected = isinstance(outcome, Connected)
    end = outcome.at
    pool = world.ras.ports
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
        line_time=world.ras.line_time(end),
        codes=outcome.codes,
        faults=tuple(sorted(world.faults.touched)),
        senders=1,
        senders_connected=int(connected),
        busy_signals=world.ras.busy_signals,
        port_utilization=pool.busy_time(end) / (pool.capacity * end) if end > 0 else 0.0,
    )
