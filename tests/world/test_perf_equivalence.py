"""The speed-ups of issue 7 change nothing a user can see: results and traces are equal.
(What is compared is rows and traces, not SimPy's event counts, which issue 18 dropped as a
measure; the fast path's equality with the event path is ``tests/trial/test_fast_path.py``.)

Two of them leave SimPy events out where nothing could observe them:

- a milestone gets an event only when a fault waits for it (``sim.world.prepared``);
- a world without ``ports_held`` faults counts its ports instead of using a SimPy
  resource (``sim.world.ports``).

And a batch run's null tracer must not change what a trial does.

Each test runs the same trials both ways and compares every row and every trace event.
No timing is asserted.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import replace
from pathlib import Path
from statistics import NormalDist
from typing import Any

import pytest
import simpy

import sim.world.world
from sim.draws.distributions import _TINY, MAX_DRAW, LogNormal
from sim.scenario.loader import load_scenario
from sim.scenario.schema import MILESTONES
from sim.trial.trial import run_trial
from sim.world.ports import CountedPorts, ResourcePorts
from sim.world.prepared import Prepared, prepared
from sim.world.trace import NULL_TRACER, Recorder

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.toml"))
SEED = 20261124


def _trials(path: Path) -> range:
    # Fleet trials run many senders each: fewer of them keep the test quick.
    return range(4) if path.name.startswith("fleet-") else range(40)


def _every_event(scenario: object) -> Prepared:
    """The world as it was before: every milestone an event, ports a SimPy resource."""
    return replace(prepared(scenario),  # type: ignore[arg-type]
                   waited_milestones=MILESTONES, holdable_ports=True)


def _run(path: Path, trials: range) -> list[tuple[str, list[str]]]:
    loaded = load_scenario(path)
    out = []
    for trial in trials:
        recorder = Recorder()
        result = run_trial(loaded.scenario, loaded.policy, SEED, trial, recorder)
        # repr: exact floats, and NaN (a connect time that never happened) equals itself.
        out.append((repr(result), [repr(event) for event in recorder.events]))
    return out


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_fewer_simpy_events_same_results_and_traces(path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    fast = _run(path, _trials(path))
    monkeypatch.setattr(sim.world.world, "prepared", _every_event)
    slow = _run(path, _trials(path))
    assert fast == slow
    assert all(trace for _, trace in fast)  # real traces, not empty ones


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_a_null_tracer_gives_the_rows_of_a_recorder(path: Path) -> None:
    loaded = load_scenario(path)
    for trial in _trials(path):
        quiet = run_trial(loaded.scenario, loaded.policy, SEED, trial, NULL_TRACER)
        traced = run_trial(loaded.scenario, loaded.policy, SEED, trial, Recorder())
        assert repr(quiet) == repr(traced)


def test_the_counted_pool_keeps_the_resource_pools_books() -> None:
    """Take, refuse, give back and busy time, step by step, on both pools."""
    pools = []
    for make in (CountedPorts, ResourcePorts):
        env = simpy.Environment()
        pool = make(env, 2)
        log: list[object] = []

        def script(env: simpy.Environment = env, pool: Any = pool,
                   log: list[object] = log) -> Generator[simpy.Event, Any, None]:
            first = pool.take()
            yield env.timeout(1.5)
            second = pool.take()
            log.append((pool.in_use, pool.take() is None))  # full: a busy signal
            yield env.timeout(2.0)
            pool.give_back(first)
            log.append(pool.in_use)
            yield env.timeout(0.25)
            pool.give_back(second)
            log.append((pool.in_use, pool.busy_time(env.now), pool.busy_time(10.0)))

        env.run(until=env.process(script()))
        pools.append(log)
    assert pools[0] == pools[1] == [(2, True), 1, (0, 1.5 + 2 * 2.0 + 0.25, 5.75)]


def test_a_counted_pool_cannot_be_held() -> None:
    with pytest.raises(RuntimeError, match="ports_held"):
        CountedPorts(simpy.Environment(), 1).hold("outage", 1)


def test_prepared_facts_are_per_scenario() -> None:
    plain = load_scenario(ROOT / "scenarios" / "q221951-unpatched.toml").scenario
    faulty = load_scenario(ROOT / "scenarios" / "faults-link-flap.toml").scenario
    held = load_scenario(ROOT / "scenarios" / "fleet-outage-budget.toml").scenario
    assert prepared(plain) is prepared(plain)
    assert prepared(plain).waited_milestones == ()
    assert prepared(faulty).waited_milestones == ("connected",)
    assert not prepared(plain).holdable_ports and prepared(held).holdable_ports
    assert prepared(plain).target.remote == plain.sender.remote
    # An equal but distinct scenario gets its own (equal) facts, never another's.
    copy = plain.model_copy()
    assert copy is not plain and prepared(copy) == prepared(plain)


@pytest.mark.parametrize("u", [0.0, _TINY, 0.5, 0.75, 0.999, 1.0 - _TINY])
def test_lognormal_clamps_to_the_largest_draw_as_min_did(u: float) -> None:
    """``ppf`` clamps with comparisons now; draws beyond a year still become one year."""
    mu, sigma = math.log(MAX_DRAW), 10.0
    dist = LogNormal.model_validate({"dist": "lognormal", "mu": mu, "sigma": sigma})
    z = NormalDist().inv_cdf(min(max(u, _TINY), 1.0 - _TINY))
    assert dist.ppf(u) == min(MAX_DRAW, math.exp(mu + sigma * z))
