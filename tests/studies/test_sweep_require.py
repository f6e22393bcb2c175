"""``sweep --require``: decisions stop each policy early, the same for any worker count."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sim.cli import main
from sim.run.executors import LocalExecutor
from sim.scenario.loader import load_scenario
from sim.stats.sequential import Requirement
from sim.studies.grid import load_grid
from sim.studies.sweep import run_sweep, sweep_report

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "q221951-unpatched.toml"
GRID = ROOT / "tuning" / "require-grid.toml"


def _decide(workers: int, requirement: str, max_trials: int) -> dict[str, object]:
    loaded = load_scenario(SCENARIO)
    grid = load_grid(GRID, loaded.policy)
    with LocalExecutor(workers) as executor:
        result = run_sweep(loaded.scenario, grid, seed=7, executor=executor,
                           require=Requirement.parse(requirement), max_trials=max_trials,
                           first_batch=250)
    return sweep_report(result, {})


def test_decided_policies_stop_and_the_rest_run_to_the_cap() -> None:
    report = _decide(1, "success_rate >= 0.95", 2000)
    decision = report["decision"]
    assert decision is not None and decision["looks"] == 4  # 250, 500, 1000, 2000
    verdicts = decision["policies"]
    assert verdicts["connras-fix"]["verdict"] == "fails"
    assert verdicts["connras-fix"]["trials"] < 2000  # stopped early
    for name, verdict in verdicts.items():
        row = next(r for r in report["policies"] if r["policy"] == name)
        assert row["trials"] == verdict["trials"] and row["decision"] == verdict["verdict"]
        if verdict["verdict"] == "undecided":
            assert verdict["trials"] == 2000  # rule 4: the cap, not for ever


def test_same_decisions_for_any_worker_count() -> None:
    one = _decide(1, "success_rate >= 0.95", 2000)
    two = _decide(2, "success_rate >= 0.95", 2000)
    assert json.dumps(one, sort_keys=True) == json.dumps(two, sort_keys=True)


def test_the_command_prints_decisions(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sweep", str(SCENARIO), "--grid", str(GRID), "--require",
                 "success_rate >= 0.95", "--max-trials", "1000", "--min-trials", "500",
                 "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert "require success_rate >= 0.95" in out and "Bonferroni over 2 planned looks" in out
    assert "connras-fix: FAILS after 500 trials" in out and "survivors:" in out


@pytest.mark.parametrize("argv, message", [
    (["--require", "success >= 0.9"], "--require: unknown statistic 'success'"),
    (["--require", "busy_rate <= 0.1"], "--require: busy_rate is a fleet statistic"),
    (["--require", "success_rate >= 0.9", "--precision", "0.01"], "not allowed with"),
])
def test_bad_requirements_exit_2_with_one_line(argv: list[str], message: str,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    try:  # argparse's own errors raise SystemExit; rassim's return 2
        code = main(["sweep", str(SCENARIO), "--grid", str(GRID), *argv])
    except SystemExit as done:
        code = done.code
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) <= 2  # usage line + the error
