"""Every shipped scenario runs, and faults report whether they took effect."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sim.cli import main
from sim.run.runner import run_trials
from sim.scenario.loader import load_scenario

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.toml"))


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_scenario_runs(path: Path) -> None:
    loaded = load_scenario(path)
    summary = run_trials(loaded.scenario, loaded.policy, trials=60,
                         seed=loaded.scenario.seed).summary
    assert summary.trials == 60
    # Every shipped scenario connects sometimes (in a fleet: some sender does).
    assert summary.successes > 0 or summary.fleet.connected > 0
    # Every declared fault of a shipped scenario takes effect somewhere in 60 trials
    # (apart from rare stochastic ones): otherwise the scenario tests nothing.
    for fault in loaded.scenario.faults:
        if fault.mean_interval is None and fault.probability == 1.0:
            assert summary.faults_touched.get(fault.label, 0) > 0, fault.label


def test_fault_that_never_takes_effect_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = tmp_path / "idle-fault.toml"
    scenario.write_text(
        f'extends = "{ROOT / "scenarios" / "isdn.toml"}"\n'
        '[[faults]]\nname = "too-late"\nkind = "link_outage"\nat = "connected + 1h"\n'
        'duration = "5s"\n',
        encoding="utf-8",
    )
    assert main(["run", str(scenario), "--trials", "50", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["faults_declared"] == ["too-late"]
    assert report["faults_touched"] == {}
    assert report["warnings"] == ["fault 'too-late' never touched a sender step in 50 trials"]
    assert main(["run", str(scenario), "--trials", "50"]) == 0
    assert "never touched a sender step" in capsys.readouterr().out
