"""The fast path with faults (``sim.trial.fast_faults``) gives the event path's rows.

Rows are compared with ``repr`` (exact floats, the touched faults included) on every shipped
lone scenario with faults under every preset policy, on Hypothesis-generated fault
schedules (every kind the fast path takes, absolute and milestone times with and without
offsets, durations, probabilities, stochastic processes) over generated worlds, and traced
replays (the event path) against batch rows (the fast path).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sender.policy import PRESETS, RetryPolicy
from sim.scenario.loader import load_scenario
from sim.scenario.schema import FaultSpec, Scenario
from sim.trial.fast import Tie, eligible
from sim.trial.fast_run import run_fast_trial
from sim.trial.trial import run_event_trial, run_trial
from sim.world.trace import NULL_TRACER, Recorder
from tests.helpers.sender_script import policies
from tests.trial.test_fast_path import lone_worlds

ROOT = Path(__file__).resolve().parents[2]
WITH_FAULTS = sorted(p for p in [*(ROOT / "scenarios").glob("*.toml"),
                                 *(ROOT / "scenarios" / "real").glob("*.toml")]
                     if (s := load_scenario(p).scenario).faults and s.fleet is None)
SEED = 20261124


def test_lone_scenarios_with_faults_take_the_fast_path() -> None:
    assert {p.stem for p in WITH_FAULTS} >= {"faults-link-flap", "link-outage",
                                              "bad-credentials", "share-missing"}
    for path in WITH_FAULTS:
        assert eligible(load_scenario(path).scenario, NULL_TRACER)
    patched = load_scenario(ROOT / "scenarios" / "q221951-patched.toml").scenario
    held = patched.model_copy(update={"faults": [FaultSpec.model_validate(
        {"kind": "ports_held", "at": "0s", "duration": "5s"})]})
    assert not eligible(held, NULL_TRACER)  # ports_held queues on SimPy: the event path


@pytest.mark.parametrize("path", WITH_FAULTS, ids=lambda p: p.stem)
@pytest.mark.parametrize("policy", [None, *PRESETS], ids=str)
def test_rows_equal_on_every_shipped_scenario_with_faults(path: Path,
                                                          policy: str | None) -> None:
    loaded = load_scenario(path)
    chosen = loaded.policy if policy is None else PRESETS[policy]
    touched = set()
    for trial in range(80):
        event = run_event_trial(loaded.scenario, chosen, SEED, trial)
        fast = run_fast_trial(loaded.scenario, chosen, SEED, trial)  # no ties: none raised
        assert repr(fast) == repr(event), (path.stem, chosen.name, trial)
        touched.update(event.faults)
    assert touched  # the faults did take effect in these trials


@pytest.mark.parametrize("path", WITH_FAULTS, ids=lambda p: p.stem)
def test_a_traced_replay_equals_its_batch_row(path: Path) -> None:
    loaded = load_scenario(path)
    for trial in range(20):
        batch = run_trial(loaded.scenario, loaded.policy, SEED, trial)  # the fast path
        recorder = Recorder()
        replay = run_trial(loaded.scenario, loaded.policy, SEED, trial, recorder)
        assert recorder.events and repr(batch) == repr(replay)


_KINDS = ["link_outage", "latency_spike", "wins_unavailable", "share_missing",
          "bad_credentials", "server_paused"]
_AT = ["0s", "2s", "15s", "start + 40s", "dial", "dial + 0.5s", "connected", "connected + 1s",
       "connected + 2s", "first_map", "first_map + 300ms", "first_map + 20s"]
_FAULT_DURATION = st.one_of(
    st.sampled_from(["0s", "500ms", "3s", "8s", "2m"]),
    st.builds(lambda mean: {"dist": "exponential", "mean": f"{mean}ms"},
              st.integers(10, 30000)),
    st.builds(lambda m, r: {"dist": "lognormal", "median": f"{m}ms", "p95": f"{m * r}ms"},
              st.integers(10, 20000), st.integers(2, 10)),
)


@st.composite
def fault_specs(draw: st.DrawFn) -> dict[str, object]:
    spec: dict[str, object] = {"kind": draw(st.sampled_from(_KINDS))}
    if spec["kind"] == "latency_spike":
        spec["factor"] = draw(st.sampled_from([1.0, 3.0, 40.0]))
    if draw(st.booleans()):
        spec["at"] = draw(st.sampled_from(_AT))
        duration = draw(st.one_of(st.none(), _FAULT_DURATION))
        if duration is not None:
            spec["duration"] = duration
        spec["probability"] = draw(st.sampled_from([1.0, 0.5]))
    else:
        spec["mean_interval"] = draw(st.sampled_from(["1s", "5s", "30s", "10m"]))
        spec["duration"] = draw(_FAULT_DURATION)
    if draw(st.booleans()):
        spec["name"] = draw(st.sampled_from(["a", "b", "hang-up"]))  # clashes get #n
    return spec


@st.composite
def fault_worlds(draw: st.DrawFn) -> Scenario:
    """Generated lone worlds with one to four generated faults."""
    faults = draw(st.lists(fault_specs(), min_size=1, max_size=4))
    return draw(lone_worlds()).model_copy(
        update={"faults": [FaultSpec.model_validate(spec) for spec in faults]})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=fault_worlds(), policy=policies(), seed=st.integers(0, 2**32),
       trial=st.integers(0, 1000))
def test_rows_equal_on_generated_fault_schedules(scenario: Scenario, policy: RetryPolicy,
                                                 seed: int, trial: int) -> None:
    assert eligible(scenario, NULL_TRACER)
    event = run_event_trial(scenario, policy, seed, trial)
    assert repr(run_trial(scenario, policy, seed, trial)) == repr(event)
    try:
        fast = run_fast_trial(scenario, policy, seed, trial)
    except Tie:
        return  # rule 6: run_trial fell back, and gave the event row above
    assert repr(fast) == repr(event)
