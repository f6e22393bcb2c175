"""Sweeps (``sim.studies.sweep``, ``rassim sweep``): CRN pairing, rows, outputs, bad input."""

from __future__ import annotations

import csv
import hashlib
import json
import math
import statistics
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from sender.policy import preset
from sim.cli import main
from sim.run.executors import LocalExecutor
from sim.run.runner import run_batch
from sim.scenario.policy_text import POLICY_FIELDS
from sim.stats.paired import Difference, PairedMean
from sim.studies.grid import Grid
from sim.studies.sweep import ROW_COLUMNS, run_sweep, sweep_rows
from sim.trial.trial import run_trial
from tests.helpers.worlds import zero_world

ROOT = Path(__file__).resolve().parents[2]
UNPATCHED = ROOT / "scenarios" / "q221951-unpatched.toml"

#: Zero latency, the name path ready 0-12 s after Connected (uniform): a first map at once
#: succeeds iff the lag is at most 3 s (its last WINS query goes out at 3 s).
RANDOM_LAG: dict[str, Any] = {"name_path.lag": {"dist": "uniform", "low": "0s", "high": "12s"}}
PRE_FIX = preset("pre-fix")
TWO_MAPS = preset("connras-fix").replace(name="two maps 1s apart", attempts_per_dial=2,
                                         initial_wait=1.0)
SMALL_GRID = """
baseline = "pre-fix"
[base]
preset = "connras-fix"
[vary]
attempts_per_dial = [2, 4]
"""


def grid_of(*policies: Any, baseline: int = 0) -> Grid:
    return Grid(Path("test-grid.toml"), tuple(policies), baseline, (), False)


def test_pairs_are_formed_by_trial_index() -> None:
    scenario = zero_world(**RANDOM_LAG)
    copy = PRE_FIX.replace(name="pre-fix again")  # the same policy under another name
    lookalike = PRE_FIX.replace(name="pre-fix, longer max_wait", max_wait=120.0)
    g = grid_of(PRE_FIX, copy, lookalike, TWO_MAPS)
    with LocalExecutor(1) as executor:
        result = run_sweep(scenario, g, seed=3, executor=executor, trials=120)
    rows = {row["policy"]: row for row in sweep_rows(result)}

    # A policy against itself: no discordant pair, and exactly 0 with interval (0, 0).
    again = rows["pre-fix again"]
    assert again["same_as_baseline"] and not again["baseline"]
    assert (again["candidate_only"], again["baseline_only"]) == (0, 0)
    assert (again["diff"], again["diff_low"], again["diff_high"]) == (0.0, 0.0, 0.0)
    base = rows["pre-fix"]
    assert base["baseline"] and (base["diff"], base["diff_low"], base["diff_high"]) == (0, 0, 0)

    # Different fields, same behaviour (one map never waits): identical trial by trial, so
    # still no discordant pair; but not declared identical, so the interval is a real one.
    look = rows["pre-fix, longer max_wait"]
    assert not look["same_as_baseline"]
    assert (look["candidate_only"], look["baseline_only"]) == (0, 0)
    assert look["diff"] == 0.0 and look["diff_low"] < 0 < look["diff_high"]

    # The counts agree with running each trial by hand.
    by_hand = {"candidate_only": 0, "baseline_only": 0}
    for i in range(120):
        b = run_trial(scenario, PRE_FIX, 3, i).connected
        c = run_trial(scenario, TWO_MAPS, 3, i).connected
        by_hand["candidate_only"] += c and not b
        by_hand["baseline_only"] += b and not c
    two = rows["two maps 1s apart"]
    assert {k: two[k] for k in by_hand} == by_hand
    assert by_hand["baseline_only"] == 0 and by_hand["candidate_only"] > 0  # a second map
    # only helps here
    assert two["diff"] == pytest.approx(by_hand["candidate_only"] / 120)
    assert two["diff_low"] > 0


def test_work_and_connect_time_are_paired_by_trial_index() -> None:
    scenario = zero_world(**RANDOM_LAG)
    copy = PRE_FIX.replace(name="pre-fix again")
    g = grid_of(PRE_FIX, copy, TWO_MAPS)
    rows_by_workers = []
    for workers in (1, 2):
        with LocalExecutor(workers) as executor:
            result = run_sweep(scenario, g, seed=3, executor=executor, trials=120)
        rows_by_workers.append({row["policy"]: row for row in sweep_rows(result)})
    rows = rows_by_workers[0]
    assert rows_by_workers[0] == rows_by_workers[1]  # integer sums: any chunking

    again = rows["pre-fix again"]
    assert (again["work_diff"], again["work_diff_low"], again["work_diff_high"]) == (0, 0, 0)
    assert (again["connect_diff"], again["connect_diff_low"]) == (0.0, 0.0)

    # By hand: the per-trial differences, their mean and normal 95% interval.
    work, connect = [], []
    for i in range(120):
        b, c = run_trial(scenario, PRE_FIX, 3, i), run_trial(scenario, TWO_MAPS, 3, i)
        work.append((c.attempts + c.dials) - (b.attempts + b.dials))
        if b.connected and c.connected:
            connect.append(c.connect_time - b.connect_time)
    two = rows["two maps 1s apart"]
    assert two["work_diff"] == pytest.approx(statistics.fmean(work))
    half = 1.959963984540054 * statistics.stdev(work) / math.sqrt(len(work))
    assert two["work_diff_low"] == pytest.approx(two["work_diff"] - half)
    assert two["work_diff_high"] == pytest.approx(two["work_diff"] + half)
    assert two["work_diff_low"] > 0  # a second map costs work where the first failed
    assert two["connect_pairs"] == len(connect) > 0
    assert two["connect_diff"] == pytest.approx(statistics.fmean(connect), abs=1e-9)


def test_paired_mean_edges() -> None:
    mean = PairedMean()
    assert mean.difference() is None
    mean.add(3, 5)
    one = mean.difference()
    assert one is not None and one.estimate == 2.0 and math.isinf(one.low)
    mean.add(3, 5)
    assert mean.difference() == Difference(2.0, 2.0, 2.0)  # no spread: a point
    assert mean.difference(scale=1000) == Difference(0.002, 0.002, 0.002)
    with pytest.raises(AssertionError, match="not reproducible"):
        mean.difference(identical=True)
    merged = PairedMean().merge(mean).merge(mean)
    assert (merged.n, merged.total, merged.total_sq) == (4, 8, 16)


def test_rows_have_the_documented_columns_and_are_json_ready() -> None:
    scenario = zero_world(**RANDOM_LAG)
    with LocalExecutor(1) as executor:
        result = run_sweep(scenario, grid_of(PRE_FIX, TWO_MAPS), seed=1, executor=executor,
                           trials=40)
    rows = sweep_rows(result)
    assert [list(row) for row in rows] == [[*ROW_COLUMNS, *POLICY_FIELDS]] * 2
    json.dumps(rows, allow_nan=False)
    row = rows[1]
    assert row["trials"] == 40 and row["successes"] == round(row["success_rate"] * 40)
    assert row["success_rate_low"] <= row["success_rate"] <= row["success_rate_high"]
    assert row["attempts_per_dial"] == 2 and row["initial_wait"] == 1.0
    assert isinstance(row["retry_on"], str)


class Interrupting:
    """An in-process executor that raises KeyboardInterrupt before job ``after``."""

    workers = 1

    def __init__(self, after: int) -> None:
        self.after = after

    def describe(self) -> str:
        return "test"

    def map(self, fn: Callable[..., Any], jobs: Sequence[tuple[Any, ...]]) -> Iterator[Any]:
        for i, job in enumerate(jobs):
            if i == self.after:
                raise KeyboardInterrupt
            yield fn(*job)

    def close(self) -> None:
        pass


def test_an_interrupted_batch_keeps_whole_chunks_only() -> None:
    # 1,000 trials, one worker: two chunks of 500, one job per policy per chunk. Interrupted
    # after the first chunk and half of the second: only the first chunk counts, for both.
    scenario = zero_world(**RANDOM_LAG)
    batch = run_batch(scenario, (PRE_FIX, TWO_MAPS), seed=1, start=0, stop=1000,
                      executor=Interrupting(after=3), baseline=0)  # type: ignore[arg-type]
    assert batch.interrupted and batch.trials == 500
    assert [t.summary.trials for t in batch.tallies] == [500, 500]
    assert batch.pairs is not None and [p.n for p in batch.pairs] == [500, 500]


def run_json(capsys: pytest.CaptureFixture[str], *argv: object) -> dict[str, Any]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert code == 0, err
    report: dict[str, Any] = json.loads(out)
    return report


@pytest.fixture()
def small_grid(tmp_path: Path) -> Path:
    path = tmp_path / "grid.toml"
    path.write_text(SMALL_GRID, encoding="utf-8")
    return path


def test_cli_json_csv_and_parquet(tmp_path: Path, small_grid: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "table.parquet"
    report = run_json(capsys, "sweep", UNPATCHED, "--grid", small_grid, "--trials", 150,
                      "--seed", 7, "--workers", 1, "--json", "--out", out)
    assert report["trials"] == 150 and report["baseline"] == "pre-fix"
    assert report["adaptive"] is None and report["warnings"] == []
    names = [row["policy"] for row in report["policies"]]
    assert names == ["pre-fix", "connras-fix attempts_per_dial=2",
                     "connras-fix attempts_per_dial=4"]
    assert report["policies"][2]["diff_low"] > 0  # more maps per dial: paired, clearly better

    import pyarrow.parquet as pq

    table = pq.read_table(out)
    assert table.column_names == list(report["policies"][0])
    assert table.column("policy").to_pylist() == names
    meta = json.loads(table.schema.metadata[b"rassim"])
    assert meta["seed"] == 7 and meta["scenario_sha256"] == report["scenario_sha256"]

    csv_path = tmp_path / "table.csv"
    again = run_json(capsys, "sweep", UNPATCHED, "--grid", small_grid, "--trials", 150,
                     "--seed", 7, "--workers", 1, "--json", "--out", csv_path)
    assert again == report  # same seed, same numbers
    with csv_path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["policy"] for r in rows] == names
    assert float(rows[2]["diff"]) == report["policies"][2]["diff"]
    # The CSV's provenance is in its sidecar, bound to it by the CSV's sha256.
    sidecar = json.loads((tmp_path / "table.csv.meta.json").read_text(encoding="utf-8"))
    assert sidecar["complete"] is True and sidecar["interrupted"] is False
    assert sidecar["csv_sha256"] == hashlib.sha256(csv_path.read_bytes()).hexdigest()
    # The code sets are JSON lists in a CSV: plain pandas reads them as text.
    import pandas as pd

    plain = pd.read_csv(csv_path)
    for name in ("retry_on", "redial_on"):
        assert [json.loads(cell) for cell in plain[name]] == [
            [int(c) for c in row[name].split()] for row in report["policies"]]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grid.toml", "table.csv",
                                                         "table.csv.meta.json",
                                                         "table.parquet"]


def test_cli_table(small_grid: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["sweep", str(UNPATCHED), "--grid", str(small_grid), "--trials", "60",
                 "--workers", "1", "--baseline", "connras-fix attempts_per_dial=2"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "60 trials per policy on the same seeds (CRN)" in out
    assert "baseline connras-fix attempts_per_dial=2" in out
    for line in out.splitlines():
        if line.startswith("connras-fix attempts_per_dial=2 "):
            assert "baseline" in line
    assert "Δ" in out and "Newcombe" in out


@pytest.mark.parametrize(("argv", "fragment"), [
    (["--trials", "10", "--precision", "0.01"], "not allowed with argument"),
    (["--precision", "0.7"], "--precision: must be a half-width"),
    (["--trials", "0"], "--trials: must be between 1"),
    (["--out", "table.txt"], "unknown file type"),
    (["--workers", "0"], "--workers: must be between 1"),
    (["--workers", "2", "--dask", "tcp://127.0.0.1:1"], "give one"),
    (["--baseline", "nope"], "--baseline: 'nope' is neither"),
])
def test_cli_bad_input(small_grid: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                       argv: list[str], fragment: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code = main(["sweep", str(UNPATCHED), "--grid", str(small_grid), *argv])
    _, err = capsys.readouterr()
    assert code == 2, err
    assert err.count("rassim: error:") == 1 and fragment in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grid.toml"]


def test_parquet_policy_columns_have_the_policy_types(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]
                                                      ) -> None:
    # The drift this guards against: site_retries and budget_tokens were stored as float64
    # because the sweep kept its own list of integer columns. Every policy column's Arrow
    # type now comes from sim.scenario.policy_fields; whole numbers stay whole.
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    from sim.scenario.policy_fields import POLICY_FIELDS, by_name

    grid = tmp_path / "grid.toml"
    grid.write_text('baseline = "pre-fix"\n'
                    '[[policies]]\nname = "budgeted"\npreset = "connras-fix"\n'
                    'site_retries = 2\nsite_backoff = "1m"\nbudget_tokens = 10\n'
                    'redial_after = 2\nmax_dials = 2\ndeadline = "10m"\njitter = "full"\n',
                    encoding="utf-8")
    out = tmp_path / "table.parquet"
    report = run_json(capsys, "sweep", UNPATCHED, "--grid", grid, "--trials", 20,
                      "--seed", 3, "--workers", 1, "--json", "--out", out)
    table = pq.read_table(out)
    expected = {"int64": pa.int64(), "float64": pa.float64(), "string": pa.string()}
    for name in POLICY_FIELDS:
        assert table.schema.field(name).type == expected[by_name(name).arrow_type], name
    rows = {row["policy"]: row for row in table.to_pylist()}
    budgeted = rows["budgeted"]
    assert (budgeted["site_retries"], budgeted["budget_tokens"], budgeted["redial_after"]) \
        == (2, 10, 2)
    assert isinstance(budgeted["site_retries"], int) and budgeted["jitter"] == "full"
    assert rows["pre-fix"]["budget_tokens"] is None  # a None stays a null, not a NaN
    assert [rows[r["policy"]][n] for r in report["policies"] for n in POLICY_FIELDS] == \
        [r[n] for r in report["policies"] for n in POLICY_FIELDS]


class InterruptingContext(Interrupting):
    def __enter__(self) -> InterruptingContext:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


def test_an_interrupted_sweep_csv_is_marked_like_a_run(
        tmp_path: Path, small_grid: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Interrupted after a few jobs: the table holds the whole chunks done, the same count
    # for every policy, and its sidecar says it is not complete (as rassim run's does).
    from sim.commands import sweep as sweep_command
    from sim.report.sidecar import read_sidecar

    monkeypatch.setattr(sweep_command, "open_executor_for",
                        lambda args: InterruptingContext(after=4))
    out = tmp_path / "table.csv"
    code = main(["sweep", str(UNPATCHED), "--grid", str(small_grid), "--trials", "1000",
                 "--json", "--out", str(out)])
    report = json.loads(capsys.readouterr().out)
    done = report["trials"]
    assert code == 130 and report["interrupted"] and 0 < done < 1000
    meta = read_sidecar(out)  # checked against the CSV's sha256
    assert meta is not None and meta["complete"] is False and meta["interrupted"] is True
    assert meta["trials"] == done
    with out.open(newline="", encoding="utf-8") as handle:
        assert {row["trials"] for row in csv.DictReader(handle)} == {str(done)}
