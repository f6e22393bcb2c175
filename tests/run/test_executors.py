"""Executors (``sim.run.executors``): the same numbers, bit for bit, in-process, on local worker
processes and on a Dask cluster (a ``distributed.LocalCluster`` with two worker processes)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sender.policy import preset
from sim.cli import main
from sim.run.executors import ExecutorError, LocalExecutor, open_executor
from sim.run.runner import run_chunk, run_trials
from tests.helpers.worlds import zero_world

ROOT = Path(__file__).resolve().parents[2]
UNPATCHED = ROOT / "scenarios" / "q221951-unpatched.toml"
GRID = """
baseline = "pre-fix"
[base]
preset = "connras-fix"
[vary]
attempts_per_dial = [2, 4]
[[policies]]
name = "sms2"
preset = "sms2-defaults"
"""
ZERO_TOML = """
name = "zero-10s"
[ras]
connect = "0s"
authenticate = "0s"
project = "0s"
hangup = "0s"
connect_failure = { rate = 0.0 }
[link]
latency = "0s"
rate_bps = 1e12
warmup = { factor = 1.0 }
[name_path]
lag = { dist = "uniform", low = "5s", high = "12s" }
[netbt]
broadcast_fallback = false
[smb]
server_think = "0s"
"""
SPACE = """
[base]
preset = "connras-fix"
max_wait = "1m"
[params]
attempts_per_dial = { low = 1, high = 4 }
initial_wait = ["1s", "2.5s", "4s"]
"""


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as local:
        yield local.scheduler_address


def test_local_results_come_back_in_submission_order() -> None:
    scenario = zero_world()
    jobs = [(scenario, (preset("pre-fix"),), 1, start, start + 3) for start in (9, 0, 6, 3)]
    for workers in (1, 2):
        with LocalExecutor(workers) as executor:
            starts = [chunk.start for chunk in executor.map(run_chunk, jobs)]
        assert starts == [9, 0, 6, 3]


def test_close_is_idempotent_and_one_worker_runs_in_process() -> None:
    executor = LocalExecutor(1)
    assert executor.describe() == "1 process (in-process)"
    assert list(executor.map(divmod, [(7, 2)])) == [(3, 1)]
    executor.close()
    executor.close()
    assert open_executor(3).workers == 3
    with pytest.raises(ValueError):
        LocalExecutor(0)


def test_run_trials_accepts_an_executor() -> None:
    loaded_policy = preset("connras-fix")
    lag: dict[str, Any] = {"name_path.lag": {"dist": "uniform", "low": "0s", "high": "12s"}}
    scenario = zero_world(**lag)
    plain = run_trials(scenario, loaded_policy, trials=120, seed=4)
    with LocalExecutor(2) as executor:
        via = run_trials(scenario, loaded_policy, trials=120, seed=4, executor=executor)
    assert via.summary.to_dict() == plain.summary.to_dict()


def cli_json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> dict[str, Any]:
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 0, err
    report: dict[str, Any] = json.loads(out)
    return report


def test_sweep_is_identical_on_1_and_2_workers_and_dask(
        cluster: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    grid = tmp_path / "grid.toml"
    grid.write_text(GRID, encoding="utf-8")
    # Adaptive, so several batches of different sizes (60, 120, 240) go through each executor.
    argv = ["sweep", str(UNPATCHED), "--grid", str(grid), "--precision", "0.001",
            "--min-trials", "60", "--max-trials", "240", "--seed", "11", "--json"]
    texts = [json.dumps(cli_json(capsys, [*argv, *extra]), sort_keys=True)
             for extra in (["--workers", "1"], ["--workers", "2"], ["--dask", cluster])]
    assert texts[0] == texts[1] == texts[2]
    report = json.loads(texts[0])
    assert report["trials"] == 240 and report["adaptive"]["checkpoints"] == [60, 120, 240]


def test_tune_is_identical_on_1_and_2_workers_and_dask(
        cluster: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = tmp_path / "zero.toml"
    scenario.write_text(ZERO_TOML, encoding="utf-8")
    space = tmp_path / "space.toml"
    space.write_text(SPACE, encoding="utf-8")
    reports = []
    for i, extra in enumerate((["--workers", "1"], ["--workers", "2"], ["--dask", cluster])):
        report = cli_json(capsys, [
            "tune", str(scenario), "--space", str(space), "--require", "success_rate>=0.9",
            "--minimize", "p95_connect_time", "--minimize", "line_time", "--n-trials", "8",
            "--min-trials", "100", "--max-trials", "200", "--storage",
            f"sqlite:///{tmp_path / f'study{i}.db'}", "--json", *extra])
        del report["storage"]
        reports.append(json.dumps(report, sort_keys=True))
    assert reports[0] == reports[1] == reports[2]
    assert json.loads(reports[0])["finished"] == 8


def test_unreachable_scheduler_is_an_executor_error() -> None:
    pytest.importorskip("distributed")
    from sim.run.executors import DaskExecutor

    with pytest.raises(ExecutorError, match="cannot reach a Dask scheduler"):
        DaskExecutor("tcp://127.0.0.1:9", timeout=0.5)
