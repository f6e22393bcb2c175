"""Every trial ends (issue 16, class 2): stochastic faults stop at the 30-day horizon, and a
scenario whose worst case is too much work is refused before it runs."""

from __future__ import annotations

from pathlib import Path

import pytest
import simpy

from sender.policy import RetryPolicy
from sim.draws.streams import TrialStreams
from sim.scenario.limits import HORIZON, MAX_WORK, work_problem, worst_case_work
from sim.scenario.loader import ScenarioError, load_scenario
from sim.world.trace import Recorder
from sim.world.world import World
from tests.helpers.worlds import zero_world

ROOT = Path(__file__).resolve().parents[2]


def test_a_stochastic_fault_opens_no_window_after_the_horizon() -> None:
    scenario = zero_world([{"kind": "link_outage", "mean_interval": "1d", "duration": "1h"}])
    env, recorder = simpy.Environment(), Recorder()
    World(env, scenario, TrialStreams(1, 0), recorder)
    env.run()  # no sender, no `until`: returns only because the fault process ends
    begins = [e.t for e in recorder.events if e.kind == "begin"]
    horizon = [e for e in recorder.events if e.kind == "horizon"]
    assert begins and max(begins) <= HORIZON
    assert len(horizon) == 1 and horizon[0].t > HORIZON
    assert horizon[0].get("fault") == "link_outage@every 86400.0s"


def test_the_horizon_changes_nothing_before_it() -> None:
    # The same draws in the same order: the windows before 30 days are those of a process
    # without a horizon (gap, then duration, per window).
    scenario = zero_world([{"kind": "link_outage", "mean_interval": "1d",
                            "duration": {"dist": "exponential", "mean": "1h"}}])
    env, recorder = simpy.Environment(), Recorder()
    World(env, scenario, TrialStreams(7, 3), recorder)
    env.run()
    stream = TrialStreams(7, 3).get("faults", 0)
    spec = scenario.faults[0]
    assert spec.mean_interval is not None and spec.duration is not None
    t, expected = 0.0, []
    import math
    while True:
        t += -spec.mean_interval * math.log1p(-stream.random())
        if t > HORIZON:
            break
        expected.append(t)
        t += spec.duration.ppf(stream.random())
    assert [e.t for e in recorder.events if e.kind == "begin"] == expected


def test_too_many_stochastic_windows_are_refused_up_front(tmp_path: Path) -> None:
    faults = "".join('[[faults]]\nkind = "link_outage"\nmean_interval = "1s"\n'
                     'duration = "1ms"\n' for _ in range(40))
    path = tmp_path / "storm.toml"
    path.write_text(f'extends = "{ROOT / "scenarios" / "q221951-unpatched.toml"}"\n{faults}',
                    encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert str(caught.value) == (
        f"{path}: faults: the stochastic faults could open up to 103,680,000 windows in one "
        f"trial (30 days / mean_interval, summed); at most {MAX_WORK:,} steps per trial: "
        "lengthen mean_interval or remove faults")


def test_a_fleet_at_the_caps_is_refused_with_its_estimate(tmp_path: Path) -> None:
    path = tmp_path / "huge.toml"
    path.write_text(
        f'extends = "{ROOT / "scenarios" / "fleet-retry-storm.toml"}"\n'
        "[fleet]\nsenders = 1000\n[sender.policy]\npreset = \"connras-fix\"\n"
        "max_dials = 100\nattempts_per_dial = 100\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"one trial could take up to 160,000,000 "
                                            r"simulated steps"):
        load_scenario(path)


@pytest.mark.parametrize("path", sorted((ROOT / "scenarios").glob("*.toml")),
                         ids=lambda p: p.name)
def test_shipped_scenarios_are_far_below_the_bound(path: Path) -> None:
    loaded = load_scenario(path)
    windows, steps = worst_case_work(loaded.scenario, loaded.policy)
    assert windows + steps < MAX_WORK / 100
    assert work_problem(loaded.scenario, RetryPolicy()) is None


def big_fleet(tmp_path: Path) -> Path:
    """1,000 senders under one map each: fine; 10,000 maps each would not be."""
    path = tmp_path / "fleet.toml"
    path.write_text(
        f'extends = "{ROOT / "scenarios" / "fleet-retry-storm.toml"}"\n'
        '[fleet]\nsenders = 1000\n[sender.policy]\npreset = "connras-fix"\n'
        "max_dials = 1\nattempts_per_dial = 1\n", encoding="utf-8")
    return path


def test_a_sweep_with_a_grid_policy_over_the_bound_is_refused_up_front(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from sim.cli import main

    grid = tmp_path / "grid.toml"
    grid.write_text('[vary]\nattempts_per_dial = [1, 100]\nmax_dials = [1, 100]\n',
                    encoding="utf-8")
    out = tmp_path / "table.csv"
    code = main(["sweep", str(big_fleet(tmp_path)), "--grid", str(grid), "--trials", "10",
                 "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1, err
    assert err.startswith(f"rassim: error: {grid}: policy ")
    assert "attempts_per_dial=100 max_dials=100" in err
    assert "one trial could take up to 160,000,000 simulated steps" in err
    assert not out.exists()


def test_a_tune_whose_largest_candidate_is_over_the_bound_is_refused_up_front(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from sim.cli import main

    space = tmp_path / "space.toml"
    space.write_text("[params]\nattempts_per_dial = { low = 1, high = 100 }\n"
                     "max_dials = [1, 2, 100]\n", encoding="utf-8")
    db = tmp_path / "study.db"
    code = main(["tune", str(big_fleet(tmp_path)), "--space", str(space), "--minimize",
                 "dials", "--storage", f"sqlite:///{db}"])
    err = capsys.readouterr().err
    assert code == 2 and err == (
        f"rassim: error: {space}: its largest candidates (attempts_per_dial = 100, "
        "max_dials = 100): one trial could take up to 160,000,000 simulated steps (senders x "
        f"map attempts the policy allows x messages per attempt); at most {MAX_WORK:,}: "
        "fewer senders, or lower max_dials, attempts_per_dial or site_retries; or narrow the "
        "searched ranges\n")
    assert not db.exists()  # refused before the study was opened
