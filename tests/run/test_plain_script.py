"""The library works from a plain script: no ``if __name__ == "__main__":`` guard, or code
piped to ``python -``, runs in this process with one line saying how to use every core,
never a ``BrokenProcessPool`` traceback; a guarded script uses its worker processes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNPATCHED = ROOT / "scenarios" / "q221951-unpatched.toml"

# Two workers asked for explicitly, so a pool would start even for a few trials.
BODY = (f"from sim import frames\n"
        f"df = frames.trials_frame({str(UNPATCHED)!r}, 600, workers=2)\n"
        f"print('connected', int((df['outcome'] == 'connected').sum()))\n")


def expected_connected() -> int:
    from sim import frames

    df = frames.trials_frame(UNPATCHED, 600, workers=1)
    return int((df["outcome"] == "connected").sum())


def run_python(args: list[str], cwd: Path, stdin: str | None = None
               ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], input=stdin, capture_output=True,
                          text=True, cwd=cwd, timeout=120, check=False)


@pytest.mark.parametrize("how", ["script", "stdin"])
def test_unguarded_code_runs_in_process_with_one_line(tmp_path: Path, how: str) -> None:
    if how == "script":
        (tmp_path / "plain.py").write_text(BODY, encoding="utf-8")
        done = run_python(["plain.py"], tmp_path)
    else:
        done = run_python(["-"], tmp_path, stdin=BODY)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"connected {expected_connected()}"
    assert "Traceback" not in done.stderr and "BrokenProcessPool" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("rassim: running the trials in this process")
    assert 'if __name__ == "__main__":' in lines[0]


def test_guarded_script_uses_worker_processes(tmp_path: Path) -> None:
    guarded = "if __name__ == \"__main__\":\n" + "".join(
        f"    {line}\n" for line in BODY.splitlines())
    guarded = guarded.replace("print('connected'", "from sim.run.executors import "
                              "main_reimport_problem\n    assert main_reimport_problem() is "
                              "None\n    print('connected'")
    (tmp_path / "guarded.py").write_text(guarded, encoding="utf-8")
    done = run_python(["guarded.py"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"connected {expected_connected()}"
    assert done.stderr.strip() == ""


# --- workers follow the work ---------------------------------------------------------------
def test_default_workers_count_a_fleet_trial_as_one_trial_per_sender(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from sim.run.runner import CHUNK, chunk_trials, default_workers, trial_cost
    from sim.scenario.loader import load_scenario

    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    storm = load_scenario(ROOT / "scenarios" / "fleet-retry-storm.toml").scenario
    assert trial_cost(storm) == 20
    assert trial_cost(load_scenario(UNPATCHED).scenario) == 1
    assert default_workers(2000) == 1  # 2,000 lone trials do not repay 8 processes
    assert default_workers(2000, trial_cost(storm)) == 8  # 2,000 fleet trials use every core
    assert default_workers(40_000) == 8
    # Fleet runs are cut into as many chunks as the same work of lone trials.
    assert chunk_trials(1) == CHUNK
    assert chunk_trials(20) == CHUNK // 20
    assert 2000 // chunk_trials(20) >= 8


def test_fleet_results_do_not_depend_on_the_chunking() -> None:
    from sim.frames import summarize

    storm = ROOT / "scenarios" / "fleet-retry-storm.toml"
    one = summarize(storm, trials=60, workers=1)
    two = summarize(storm, trials=60, workers=2)
    assert one.to_dict() == two.to_dict()
