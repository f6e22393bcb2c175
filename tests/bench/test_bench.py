"""``rassim bench``: the report's structure and its event accounting. No timing is asserted:
the figures depend on the machine and its load (benchmarks/README.md)."""

from __future__ import annotations

import json

import pytest
import simpy

from sim.bench.bench import (
    CANONICAL,
    TARGETS,
    BenchConfig,
    CountingEnvironment,
    SetUpOnlyEnvironment,
    bare_trials,
    count_events,
    fixed_work,
    run_bench,
)
from sim.cli import main
from sim.run.executors import LocalExecutor
from sim.run.runner import run_trials
from sim.scenario.loader import load_scenario
from sim.trial.results import TrialResult


def test_counting_leaves_the_harness_unpatched() -> None:
    loaded = load_scenario(CANONICAL)
    counts = count_events(loaded.scenario, loaded.policy, 221951, 5)
    assert len(counts) == 5 and all(count > 2 for count in counts)
    assert simpy.Environment is not CountingEnvironment


def test_the_bare_loop_processes_exactly_the_events_asked_for() -> None:
    counts = [2, 3, 7, 40]
    assert bare_trials(counts, CountingEnvironment) == sum(counts)
    assert bare_trials(counts) == 0  # a plain environment counts nothing


def test_a_set_up_only_environment_stops_before_the_first_event() -> None:
    env = SetUpOnlyEnvironment()
    began: list[float] = []

    def process() -> object:
        began.append(env.now)
        yield env.timeout(1)

    env.process(process())
    with pytest.raises(Exception) as stopped:
        env.run()
    assert type(stopped.value).__name__ == "_SetUp"
    assert began == [] and env.now == 0  # not even the process's start was processed


@pytest.mark.parametrize("name", ["q221951-unpatched.toml", "fleet-retry-storm.toml"])
def test_fixed_work_sets_up_every_trial_and_summarises_the_harness_rows(
        name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    loaded = load_scenario(CANONICAL.parent / name)
    scenario, policy = loaded.scenario, loaded.policy
    rows: list[TrialResult] = []
    counts = count_events(scenario, policy, 7, 30, rows)
    assert len(rows) == len(counts) == 30
    assert [row.trial for row in rows] == list(range(30))
    stopped_with: list[float] = []
    stop = SetUpOnlyEnvironment.run

    def counted_stop(self: SetUpOnlyEnvironment, until: object = None) -> object:
        # Each trial is stopped set up: its processes' starts are scheduled at t = 0.
        stopped_with.append(self.peek())
        return stop(self, until)

    monkeypatch.setattr(SetUpOnlyEnvironment, "run", counted_stop)
    summary = fixed_work(scenario, policy, 7, rows)
    assert stopped_with == [0.0] * 30  # every trial, set up
    assert simpy.Environment is not SetUpOnlyEnvironment  # the swap is undone
    with LocalExecutor(1) as one:
        harness = run_trials(scenario, policy, trials=30, seed=7, executor=one)
    assert summary.to_dict() == harness.summary.to_dict()


def test_report_structure_with_tiny_counts() -> None:
    report = run_bench(BenchConfig(file=CANONICAL, trials=1000, rounds=1, memory_trials=1000))
    assert report.harness_events > 0
    assert report.harness_events == report.bare_events  # like for like (sim.bench.bench rule 2)
    assert report.events_per_trial == report.harness_events / 1000
    assert report.same_summary  # 1 and 2 workers agree (sim.bench.bench rule 4)
    for seconds in (report.harness_seconds, report.bare_seconds, report.two_worker_seconds,
                    report.fixed_seconds):
        assert seconds > 0
    memory = report.memory
    assert memory is not None
    assert memory.first_trials == 500 and memory.trials == 1000  # chunk boundaries
    assert 0 < memory.startup_mb <= memory.first_mb <= memory.peak_mb
    rows = report.targets()
    assert [key for key, *_ in rows] == list(TARGETS)
    assert {verdict for *_, verdict in rows} <= {"PASS", "MISS"}
    body = report.to_dict()
    json.dumps(body, allow_nan=False)
    assert set(body["targets"]) == set(TARGETS)
    assert body["harness_events"] == body["bare_events"]
    for key in ("fixed_seconds", "fixed_us_per_trial", "events_us_per_event", "events_ratio"):
        assert body[key] == getattr(report, key)


def test_json_output_and_skipping_memory(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--trials", "1000", "--rounds", "1", "--memory-trials", "0",
                 "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["memory"] is None
    assert body["targets"]["rss"]["verdict"] == body["targets"]["flat"]["verdict"] == "SKIP"
    assert body["trials"] == 1000 and body["harness_events"] == body["bare_events"] > 0


@pytest.mark.parametrize("argv, message", [
    (["--trials", "10"], "--trials: must be between 1000"),
    (["--rounds", "0"], "--rounds: must be between 1"),
    (["--memory-trials", "5"], "--memory-trials: give 0 to skip, or at least 10"),
    (["--memory-trials", "-1"], "--memory-trials: must be between 0"),
    (["--trials", "many"], "invalid int value"),
    (["--frobnicate"], "unrecognized arguments"),
])
def test_bad_options_are_one_error_and_exit_2(argv: list[str], message: str,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rassim: error:") and message in err
    assert err.count("\n") == 1
