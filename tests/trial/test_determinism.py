"""Determinism: same scenario + seed = same numbers and same trace, however it is run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from sender.policy import preset
from sim.run.runner import run_trials
from sim.scenario.loader import load_scenario
from sim.trial.trial import run_trial
from sim.world.trace import Recorder

ROOT = Path(__file__).resolve().parents[2]
UNPATCHED = ROOT / "scenarios" / "q221951-unpatched.toml"
FLAPS = ROOT / "scenarios" / "faults-link-flap.toml"


def summary_json(path: Path, trials: int, seed: int, workers: int = 1) -> str:
    loaded = load_scenario(path)
    result = run_trials(loaded.scenario, loaded.policy, trials=trials, seed=seed,
                        workers=workers)
    return json.dumps(result.summary.to_dict(), sort_keys=True)


def test_same_seed_same_summary_and_trace() -> None:
    loaded = load_scenario(FLAPS)
    assert summary_json(FLAPS, 300, 7) == summary_json(FLAPS, 300, 7)
    for trial in (0, 5, 17):
        first, second = Recorder(), Recorder()
        run_trial(loaded.scenario, loaded.policy, 7, trial, first)
        run_trial(loaded.scenario, loaded.policy, 7, trial, second)
        assert first.events == second.events
        assert first.events  # a real trace, not two empty ones


def test_different_seeds_differ() -> None:
    assert summary_json(UNPATCHED, 300, 1) != summary_json(UNPATCHED, 300, 2)


def test_worker_count_does_not_change_numbers() -> None:
    # 1,100 trials: three chunks of different sizes, spread over two processes.
    assert summary_json(FLAPS, 1100, 11, workers=1) == summary_json(FLAPS, 1100, 11, workers=2)


def test_fresh_process_gives_the_same_summary() -> None:
    code = (
        "import json, sys; from pathlib import Path; sys.path.insert(0, '.');"
        "from tests.trial.test_determinism import summary_json;"
        f"print(summary_json(Path({str(FLAPS)!r}), 400, 3))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True, env={"PYTHONHASHSEED": "12345",
                                                     "PATH": "/usr/bin:/bin"})
    assert out.stdout.strip() == summary_json(FLAPS, 400, 3)


def test_trial_depends_only_on_its_index() -> None:
    loaded = load_scenario(FLAPS)
    forward = [run_trial(loaded.scenario, loaded.policy, 5, i) for i in range(40)]
    backward = [run_trial(loaded.scenario, loaded.policy, 5, i) for i in reversed(range(40))]
    assert [r.as_row() for r in forward] == [r.as_row() for r in reversed(backward)]


def test_tracing_does_not_change_the_result() -> None:
    loaded = load_scenario(FLAPS)
    for trial in range(30):
        plain = run_trial(loaded.scenario, loaded.policy, 9, trial)
        traced = run_trial(loaded.scenario, loaded.policy, 9, trial, Recorder())
        assert plain.as_row() == traced.as_row()


def test_policies_on_one_seed_face_the_same_world() -> None:
    # Common random numbers: until the policies act differently (the first failure), two
    # policies see identical dials and identical first map results, trial by trial.
    loaded = load_scenario(UNPATCHED)
    differing_outcomes = 0
    for trial in range(200):
        a, b = Recorder(), Recorder()
        ra = run_trial(loaded.scenario, preset("pre-fix"), 21, trial, a)
        rb = run_trial(loaded.scenario, preset("connras-fix"), 21, trial, b)
        first = [e for e in a.events if e.source == "sender" and e.kind == "result"][:2]
        second = [e for e in b.events if e.source == "sender" and e.kind == "result"][:2]
        assert first == second
        differing_outcomes += ra.outcome != rb.outcome
    # ...and the paired difference is purely the policy's doing: connras only ever rescues.
    assert differing_outcomes > 0


def test_replay_equals_the_trial_inside_a_batch() -> None:
    # The CLI's replay re-runs trial i alone; inside a batch, trial i ran after trials
    # 0..i-1. Both must give the same row and the same trace.
    loaded = load_scenario(FLAPS)
    batch_traces = []
    for trial in range(12):
        recorder = Recorder()
        batch_traces.append((run_trial(loaded.scenario, loaded.policy, 4, trial, recorder),
                             recorder.events))
    for trial in (11, 3, 7):
        recorder = Recorder()
        row = run_trial(loaded.scenario, loaded.policy, 4, trial, recorder)
        assert row.as_row() == batch_traces[trial][0].as_row()
        assert recorder.events == batch_traces[trial][1]
