"""One trial: a fresh environment, the trial's streams, the world, the sender, one row."""

from __future__ import annotations

from typing import cast

import simpy

from sender.effects import Connected, Outcome
from sender.policy import RetryPolicy
from sender.procedure import Target, connect
from sim.driver import drive
from sim.results import TrialResult
from sim.scenario import Scenario
from sim.streams import TrialStreams
from sim.trace import NULL_TRACER, Tracer
from sim.world import World

__all__ = ["run_trial", "target_of"]


def target_of(scenario: Scenario) -> Target:
    spec = scenario.sender
    return Target(entry=spec.entry, remote=spec.remote, user=spec.user)


def run_trial(scenario: Scenario, policy: RetryPolicy, seed: int, trial: int,
              tracer: Tracer = NULL_TRACER) -> TrialResult:
    """Trial ``trial`` of a run seeded ``seed``: depends on these four arguments only."""
    env = simpy.Environment()
    streams = TrialStreams(seed, trial)
    world = World(env, scenario, streams, tracer)
    start = scenario.sender.start
    rng = streams.get("jitter") if policy.jitter != "none" else None
    procedure = connect(policy, target_of(scenario), rng, started_at=start)
    process = env.process(drive(world, procedure, start))
    env.run(until=process)
    outcome = cast(Outcome, process.value)
    connected = isinstance(outcome, Connected)
    return TrialResult(
        trial=trial,
        seed=seed,
        outcome="connected" if connected else "gave_up",
        code=outcome.code,
        reason=outcome.reason,
        attempts=outcome.attempts,
        dials=outcome.dials,
        connect_time=outcome.at - start if connected else float("nan"),
        end_time=outcome.at,
        line_time=world.ras.line_time(outcome.at),
        codes=outcome.codes,
        faults=tuple(sorted(world.faults.touched)),
    )
