"""The fast path (``sim.trial.fast``) gives the event path's rows, floats included.

Compared with ``repr`` (exact floats; a NaN connect time equals itself): every eligible
shipped scenario under every preset policy, traced replays against batch rows, and
Hypothesis-generated lone-sender worlds, some with constant latencies that line events up
at equal times (the fast path must then fall back, rule 3, and still give the same row).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sender.policy import PRESETS, RetryPolicy
from sim.scenario.loader import load_scenario
from sim.scenario.schema import Scenario
from sim.stats.summary import Summary
from sim.trial.fast import Tie, eligible
from sim.trial.fast_run import run_fast_trial
from sim.trial.results import ROW_FIELDS, RowTuple, TrialResult
from sim.trial.trial import run_event_trial, run_trial, summary_row
from sim.world.trace import NULL_TRACER, Recorder
from tests.helpers.sender_script import policies

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.toml"))
ELIGIBLE = [p for p in SCENARIOS if eligible(load_scenario(p).scenario, NULL_TRACER)]
SEED = 20261124


def test_eligibility_comes_from_the_scenario() -> None:
    names = {p.stem for p in SCENARIOS} - {p.stem for p in ELIGIBLE}
    # Fleets take the event path; lone scenarios (with faults too) the fast path.
    assert names == {p.stem for p in SCENARIOS if p.stem.startswith("fleet-")}
    assert len(ELIGIBLE) >= 6
    loaded = load_scenario(ELIGIBLE[0])
    assert not eligible(loaded.scenario, Recorder())  # a traced replay: the event path


@pytest.mark.parametrize("path", ELIGIBLE, ids=lambda p: p.stem)
@pytest.mark.parametrize("policy", [None, *PRESETS], ids=str)
def test_rows_equal_on_every_eligible_shipped_scenario(path: Path, policy: str | None) -> None:
    loaded = load_scenario(path)
    chosen = loaded.policy if policy is None else PRESETS[policy]
    ties = 0
    for trial in range(60):
        event = run_event_trial(loaded.scenario, chosen, SEED, trial)
        try:
            fast = run_fast_trial(loaded.scenario, chosen, SEED, trial)
        except Tie:
            ties += 1
            continue
        assert repr(fast) == repr(event), (path.stem, chosen.name, trial)
    assert ties == 0  # drawn latencies never tie: every trial really took the fast path


@pytest.mark.parametrize("path", ELIGIBLE, ids=lambda p: p.stem)
def test_a_traced_replay_equals_its_batch_row(path: Path) -> None:
    loaded = load_scenario(path)
    for trial in range(20):
        batch = run_trial(loaded.scenario, loaded.policy, SEED, trial)  # the fast path
        recorder = Recorder()
        replay = run_trial(loaded.scenario, loaded.policy, SEED, trial, recorder)
        assert recorder.events and repr(batch) == repr(replay)


_DURATION = st.one_of(
    st.sampled_from(["0s", "250ms", "1s", "1.5s", "3s"]),
    st.builds(lambda m, r: {"dist": "lognormal", "median": f"{m}ms", "p95": f"{m * r}ms"},
              st.integers(1, 3000), st.integers(2, 20)),
    st.builds(lambda lo, w: {"dist": "uniform", "low": f"{lo}ms", "high": f"{lo + w}ms"},
              st.integers(0, 2000), st.integers(0, 4000)),
)


@st.composite
def lone_worlds(draw: st.DrawFn) -> Scenario:
    """Lone-sender worlds without faults over the model's knobs."""
    data = {
        "name": "generated",
        "sender": {"start": draw(st.sampled_from(["0s", "2s", "7.5s"]))},
        "ras": {"connect": draw(_DURATION), "authenticate": draw(_DURATION),
                "project": draw(_DURATION), "hangup": draw(st.sampled_from(["0s", "1s"])),
                "authenticate_timeout": draw(st.sampled_from(["1s", "120s"])),
                "connect_failure": {"rate": draw(st.sampled_from([0.0, 0.2, 0.6])),
                                    "codes": [629, 651]},
                "ports": draw(st.integers(1, 2))},
        "link": {"latency": draw(_DURATION),
                 "warmup": {"factor": draw(st.sampled_from([1.0, 1.5, 4.0])), "decay": "20s"}},
        "name_path": {"lag": draw(_DURATION)},
        "netbt": {"name_query_timeout": draw(st.sampled_from(["500ms", "1.5s"])),
                  "name_query_count": draw(st.integers(1, 4)),
                  "broadcast_fallback": draw(st.booleans()),
                  "cache_timeout": draw(st.sampled_from(["0s", "10m"]))},
        "tcp": {"initial_rto": draw(st.sampled_from(["1s", "3s"])),
                "max_connect_retransmissions": draw(st.integers(0, 3))},
        "smb": {"session_timeout": draw(st.sampled_from(["2s", "45s"])),
                "server_think": draw(st.sampled_from(["0s", "10ms", "2s"]))},
    }
    rate = draw(st.sampled_from([None, 9600, 64000]))
    if rate is not None:
        data["link"]["rate_bps"] = rate
    if draw(st.booleans()):
        data["ras"]["predialed"] = draw(st.sampled_from(["5s", "1m"]))
    return Scenario.model_validate(data)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=lone_worlds(), policy=policies(), seed=st.integers(0, 2**32),
       trial=st.integers(0, 1000))
def test_rows_equal_on_generated_worlds(scenario: Scenario, policy: RetryPolicy, seed: int,
                                        trial: int) -> None:
    assert eligible(scenario, NULL_TRACER)
    event = run_event_trial(scenario, policy, seed, trial)
    assert repr(run_trial(scenario, policy, seed, trial)) == repr(event)
    try:
        fast = run_fast_trial(scenario, policy, seed, trial)
    except Tie:
        return  # rule 3: run_trial fell back, and gave the event row above
    assert repr(fast) == repr(event)


@pytest.mark.parametrize("path", ELIGIBLE, ids=lambda p: p.stem)
def test_summary_rows_fold_to_the_same_summary(path: Path) -> None:
    # A summary-only run folds RowTuple rows (sim.trial.trial.summary_row): the same fields,
    # so the same summary, to the last digit, as the TrialResult rows of run_trial.
    loaded = load_scenario(path)
    light, full = Summary(), Summary()
    for trial in range(120):
        row = summary_row(loaded.scenario, loaded.policy, SEED, trial)
        assert isinstance(row, RowTuple)
        result = run_trial(loaded.scenario, loaded.policy, SEED, trial)
        # repr: exact floats, and a NaN connect time equals itself.
        assert repr(tuple(row)) == repr(tuple(getattr(result, name) for name in ROW_FIELDS))
        light.add(row)
        full.add(result)
    assert light.to_dict() == full.to_dict()


def test_rows_of_other_paths_stay_trial_results() -> None:
    # Fleets take the event path, whose rows are TrialResult either way.
    path = next(p for p in SCENARIOS if p.stem.startswith("fleet-"))
    loaded = load_scenario(path)
    assert isinstance(summary_row(loaded.scenario, loaded.policy, SEED, 0), TrialResult)
