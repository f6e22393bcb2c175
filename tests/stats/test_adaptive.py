"""Adaptive stopping (``sim.stats.adaptive``, ``rassim sweep --precision``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sender.policy import preset
from sim.cli import main
from sim.run.executors import LocalExecutor
from sim.stats.adaptive import batch_ends, half_width, precision_status
from sim.stats.intervals import wilson_interval
from sim.studies.grid import Grid
from sim.studies.sweep import run_sweep, sweep_report
from tests.helpers.worlds import zero_world

ROOT = Path(__file__).resolve().parents[2]
UNPATCHED = ROOT / "scenarios" / "q221951-unpatched.toml"
RANDOM_LAG: dict[str, Any] = {"name_path.lag": {"dist": "uniform", "low": "0s", "high": "12s"}}
POLICIES = (preset("pre-fix"),
            preset("connras-fix").replace(name="two maps", attempts_per_dial=2, initial_wait=1.0),
            preset("connras-fix"))


def grid() -> Grid:
    return Grid(Path("g.toml"), POLICIES, 0, (), False)


@pytest.mark.parametrize(("max_trials", "first", "ends"), [
    (10_000, 1000, [1000, 2000, 4000, 8000, 10_000]),
    (8000, 1000, [1000, 2000, 4000, 8000]),
    (500, 1000, [500]),
    (1, 1, [1]),
    (7, 2, [2, 4, 7]),
])
def test_batches_double_and_end_at_the_cap(max_trials: int, first: int, ends: list[int]) -> None:
    assert list(batch_ends(max_trials, first)) == ends


def test_batch_ends_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        list(batch_ends(0))


def test_half_width_is_half_the_wilson_interval() -> None:
    low, high = wilson_interval(30, 100)
    assert half_width(30, 100) == (high - low) / 2


def test_precision_status_names_the_widest_policy() -> None:
    status = precision_status([(100, 100), (50, 100), (50, 100)], 0.05)
    assert status.widest_index == 1  # ties: the first
    assert status.widest == half_width(50, 100) and not status.met
    assert precision_status([(100, 100)], 0.05).met


@pytest.mark.parametrize("precision", [0.08, 0.04])
def test_stops_at_the_first_checkpoint_that_meets_the_precision(precision: float) -> None:
    scenario = zero_world(**RANDOM_LAG)
    with LocalExecutor(1) as executor:
        result = run_sweep(scenario, grid(), seed=5, executor=executor, precision=precision,
                           first_batch=100, max_trials=6400)
    assert result.precision is not None and result.precision.met
    assert result.trials == result.checkpoints[-1]
    assert result.checkpoints == [100 * 2**k for k in range(len(result.checkpoints))]
    widths = [half_width(t.summary.successes, t.summary.trials) for t in result.tallies]
    assert max(widths) <= precision
    assert all(t.summary.trials == result.trials for t in result.tallies)  # still paired
    if len(result.checkpoints) > 1:
        # It did not stop earlier because it could not have: rerun to the previous
        # checkpoint and see the precision unmet there.
        with LocalExecutor(1) as executor:
            earlier = run_sweep(scenario, grid(), seed=5, executor=executor,
                                trials=result.checkpoints[-2])
        assert max(half_width(t.summary.successes, t.summary.trials)
                   for t in earlier.tallies) > precision


def test_the_cap_is_reported_when_the_precision_is_not_reached() -> None:
    scenario = zero_world(**RANDOM_LAG)
    with LocalExecutor(1) as executor:
        result = run_sweep(scenario, grid(), seed=5, executor=executor, precision=0.001,
                           first_batch=50, max_trials=120)
    assert result.trials == 120 and result.checkpoints == [50, 100, 120]
    report = sweep_report(result, {})
    assert report["adaptive"]["reached"] is False
    assert report["adaptive"]["widest_policy"] == "pre-fix"  # p = 1/4: the widest interval
    assert any(w.startswith("precision not reached") for w in report["warnings"])


def test_cli_precision(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "grid.toml"
    path.write_text('[vary]\nattempts_per_dial = [1, 3]\n', encoding="utf-8")
    code = main(["sweep", str(UNPATCHED), "--grid", str(path), "--precision", "0.09",
                 "--min-trials", "30", "--max-trials", "500", "--workers", "1", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    report = json.loads(out)
    adaptive = report["adaptive"]
    assert adaptive["reached"] and adaptive["precision"] == 0.09
    assert report["trials"] == adaptive["checkpoints"][-1] > 30
    assert all(row["half_width"] <= 0.09 for row in report["policies"])
    assert report["requested_trials"] is None

    code = main(["sweep", str(UNPATCHED), "--grid", str(path), "--precision", "0.001",
                 "--min-trials", "20", "--max-trials", "40", "--workers", "1"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "precision not reached" in out and "--max-trials" in out
