"""``sim.frames``: results as DataFrames with documented columns and deterministic values.

Exact values come from hand-computable worlds (``tests/worlds.py``): zero dial time, a
constant one-way latency of 0.25 s and a name path ready 5 s after Connected. A map at t=0
sends WINS queries at 0, 1.5 and 3 s that arrive before 5 s, so it fails with 53 at 4.5 s;
a retry 5 s later (9.5 s) resolves at 10 s, then TCP and four SMB round trips of 0.5 s
each connect at 12.5 s.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from sender.policy import preset
from sim import frames
from sim.cli import main
from sim.run.runner import run_trials
from sim.scenario.loader import ScenarioError, load_scenario
from sim.trial.results import ROW_FIELDS
from tests.helpers.worlds import zero_world

ROOT = Path(__file__).resolve().parents[2]
UNPATCHED = ROOT / "scenarios" / "q221951-unpatched.toml"
FLAPS = ROOT / "scenarios" / "faults-link-flap.toml"
SEED = 7


def race_world() -> object:
    return zero_world(**{"link.latency": "0.25s", "name_path.lag": "5s"})


# --- trials frames ------------------------------------------------------------------------
def test_trials_frame_has_the_row_columns_and_dtypes() -> None:
    df = frames.trials_frame(UNPATCHED, 60, SEED, workers=1)
    assert tuple(df.columns) == ROW_FIELDS
    assert {c: str(t) for c, t in df.dtypes.items()} == frames.ROW_DTYPES
    assert list(df["trial"]) == list(range(60))
    assert set(df["outcome"]) <= {"connected", "gave_up"}
    connected = df["outcome"] == "connected"
    assert df.loc[connected, "connect_time"].notna().all()
    assert df.loc[~connected, "connect_time"].isna().all()
    assert df.attrs["rassim"]["seed"] == SEED
    assert df.attrs["rassim"]["scenario_sha256"] == load_scenario(UNPATCHED).sha256


def test_trials_frame_is_deterministic_for_any_worker_count() -> None:
    one = frames.trials_frame(UNPATCHED, 1100, SEED, workers=1)
    again = frames.trials_frame(UNPATCHED, 1100, SEED, workers=1)
    two = frames.trials_frame(UNPATCHED, 1100, SEED, workers=2)
    pd.testing.assert_frame_equal(one, again)
    pd.testing.assert_frame_equal(one, two)


def test_trials_frame_has_exact_times_in_a_hand_computable_world() -> None:
    df = frames.trials_frame(race_world(), 3, 0, policy="connras-fix")
    assert list(df["outcome"]) == ["connected"] * 3
    assert list(df["connect_time"]) == [12.5] * 3
    assert list(df["codes"]) == ["53"] * 3
    assert list(df["attempts"]) == [2] * 3
    pre = frames.trials_frame(race_world(), 2, 0, policy="pre-fix")
    assert list(pre["reason"]) == ["dials_exhausted"] * 2
    assert list(pre["end_time"]) == [4.5] * 2
    assert pre["connect_time"].isna().all()


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_read_rows_equals_the_simulated_frame(tmp_path: Path, suffix: str,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / f"rows{suffix}"
    assert main(["run", str(FLAPS), "--trials", "120", "--seed", str(SEED), "--out",
                 str(out), "--json", "--workers", "1"]) == 0
    capsys.readouterr()
    read = frames.read_rows(out)
    simulated = frames.trials_frame(FLAPS, 120, SEED, workers=1)
    pd.testing.assert_frame_equal(read, simulated)
    assert (read["faults"] != "").any()  # the faults column survives the round trip
    if suffix == ".parquet":
        assert read.attrs["rassim"]["seed"] == SEED


@pytest.mark.parametrize("scenario", [UNPATCHED, FLAPS], ids=["single-codes", "faults"])
def test_csv_list_columns_survive_plain_pandas(tmp_path: Path, scenario: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """A --out CSV read with nothing but ``pd.read_csv``: codes and faults are text (JSON
    lists), never floats, even where every cell holds one code or none; and ``read_rows``
    gives back the simulated frame."""
    import json

    out = tmp_path / "rows.csv"
    assert main(["run", str(scenario), "--trials", "150", "--seed", str(SEED), "--out",
                 str(out), "--json", "--workers", "1"]) == 0
    capsys.readouterr()
    plain = pd.read_csv(out)
    simulated = frames.trials_frame(scenario, 150, SEED, workers=1)
    for column in ("codes", "faults"):
        assert plain[column].dtype == object, column
        assert all(isinstance(cell, str) for cell in plain[column]), column
        assert [" ".join(str(x) for x in json.loads(cell)) for cell in plain[column]] == \
            list(simulated[column])
    codes = [json.loads(cell) for cell in plain["codes"]]
    assert all(isinstance(c, int) for cell in codes for c in cell)
    assert [] in codes and any(len(cell) == 1 for cell in codes)  # the cells that broke
    if scenario == UNPATCHED:
        assert set(plain["faults"]) == {"[]"}  # no fault: still text, not NaN
    pd.testing.assert_frame_equal(frames.read_rows(out), simulated)


def test_read_rows_takes_an_older_space_separated_csv(tmp_path: Path) -> None:
    """A file written before the lists were JSON (``53``, ``53 629``, empty) reads the same."""
    simulated = frames.trials_frame(FLAPS, 40, SEED, workers=1)
    old = simulated.copy()
    old["connect_time"] = old["connect_time"].astype(object).where(old["connect_time"].notna(),
                                                                     "")
    path = tmp_path / "old.csv"
    old.to_csv(path, index=False)
    pd.testing.assert_frame_equal(frames.read_rows(path), simulated)


def test_read_rows_rejects_other_files(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"\.csv or \.parquet"):
        frames.read_rows(tmp_path / "rows.txt")


# --- summaries ----------------------------------------------------------------------------
def test_summary_frame_matches_the_summary() -> None:
    loaded = load_scenario(UNPATCHED)
    summary = run_trials(loaded.scenario, loaded.policy, trials=400, seed=SEED).summary
    df = frames.summary_frame({"unpatched": summary})
    assert tuple(df.columns) == frames.SUMMARY_COLUMNS
    row = df.iloc[0]
    assert row["label"] == "unpatched"
    assert row["trials"] == 400
    assert row["success_rate"] == summary.success_rate
    assert (row["ci_low"], row["ci_high"]) == summary.ci95
    assert row["rate_53"] == summary.rate(53)
    assert row["ci53_low"] <= row["rate_53"] <= row["ci53_high"]
    assert row["connect_p90"] == summary.connect_time.quantile(0.9)
    assert row["line_time_mean"] == pytest.approx(summary.line_time_ns / 400e9)


def test_a_trials_frame_summarises_to_the_runs_summary() -> None:
    df = frames.trials_frame(UNPATCHED, 300, SEED, workers=1)
    summary = frames.summarize(UNPATCHED, 300, SEED, workers=1)
    assert frames.summary_of(df).to_dict() == summary.to_dict()
    pd.testing.assert_frame_equal(frames.summary_frame(df), frames.summary_frame(summary))


def test_failures_frame_lists_codes_most_frequent_first() -> None:
    summary = frames.summarize(UNPATCHED, 500, SEED, workers=1)
    df = frames.failures_frame(summary)
    assert tuple(df.columns) == frames.FAILURE_COLUMNS
    assert list(df["count"]) == sorted(df["count"], reverse=True)
    assert df["count"].sum() + summary.successes == 500
    assert df.iloc[0]["code"] == 53 and df.iloc[0]["symbol"] == "ERROR_BAD_NETPATH"
    assert ((df["ci_low"] <= df["rate"]) & (df["rate"] <= df["ci_high"])).all()
    assert frames.failures_frame(frames.summarize(race_world(), 2, 0, "connras-fix")).empty


# --- overrides and grids ------------------------------------------------------------------
def test_overrides_move_a_lognormal_and_keep_its_spread() -> None:
    loaded = frames.load(UNPATCHED)
    changed = frames.with_overrides(loaded, {"link.latency.median": 1.2})
    latency = changed.scenario.link.latency
    assert (latency.median, latency.p95) == (1.2, pytest.approx(3.6))  # p95 1.8 s x 2
    both = frames.with_overrides(loaded, {"link.latency.median": "1s",
                                          "link.latency.p95": "5s"})
    assert (both.scenario.link.latency.median, both.scenario.link.latency.p95) == (1.0, 5.0)
    assert changed.sha256 != loaded.sha256
    back = frames.with_overrides(changed, {"link.latency.median": "600ms",
                                           "link.latency.p95": "1.8s"})
    assert back.sha256 == loaded.sha256


def test_overrides_accept_file_forms_and_policy_fields() -> None:
    changed = frames.with_overrides(UNPATCHED, {
        "name_path.lag": "5s", "ras.predialed": 30, "link.rate_bps": None,
        "policy.attempts_per_dial": 3})
    assert changed.scenario.name_path.lag.ppf(0.9) == 5.0
    assert changed.scenario.ras.predialed == 30.0
    assert changed.scenario.link.rate_bps is None
    assert changed.policy.attempts_per_dial == 3
    assert changed.policy.name == "pre-fix+custom"


@pytest.mark.parametrize(("overrides", "fragment"), [
    ({"link.latncy": 1},
     "link has no field 'latncy' (did you mean `latency`?); its fields: latency"),
    ({"link.latency.median": "fast"}, "link.latency.median: cannot read 'fast'"),
    ({"link.latency.median": "3s", "link.latency.p95": "2s"}, "p95 must be greater"),
    ({"faults.0.at": "1s"}, "faults has 0 entries"),
    ({"policy.attempts": 2}, "policy.attempts: a retry policy has no field"),
    ({"policy.attempts_per_dial": 0}, "policy.attempts_per_dial: must be between 1"),
])
def test_bad_overrides_name_the_key(overrides: dict[str, object], fragment: str) -> None:
    with pytest.raises(ScenarioError, match="override") as caught:
        frames.with_overrides(UNPATCHED, overrides)
    assert fragment in str(caught.value)


def test_overrides_drop_the_expectations_of_the_original_world() -> None:
    loaded = frames.load(UNPATCHED)
    changed = frames.with_overrides(loaded, {"seed": 1})
    assert getattr(changed.scenario, "expect", None) is None
    assert changed.scenario.model_copy(update={"seed": loaded.scenario.seed}).public_dict() \
        == loaded.scenario.public_dict()


def test_grid_frame_shape_pairing_and_determinism() -> None:
    grid = {"name_path.lag.median": [0.5, 1, 4], "link.latency.median": [0.6, 1.2]}
    df = frames.grid_frame(UNPATCHED, grid, trials=150, seed=SEED, workers=1)
    assert list(df.columns) == ["policy", *grid, *frames.SUMMARY_COLUMNS[1:]]
    assert len(df) == 6 and set(df["policy"]) == {"pre-fix"}
    assert list(df["name_path.lag.median"]) == [0.5, 0.5, 1, 1, 4, 4]
    # The point equal to the file's own values is the file's own run, trial for trial.
    own = frames.summary_frame(frames.summarize(UNPATCHED, 150, SEED, workers=1))
    point = df[(df["name_path.lag.median"] == 1) & (df["link.latency.median"] == 0.6)]
    for column in frames.SUMMARY_COLUMNS[1:]:
        assert point.iloc[0][column] == own.iloc[0][column] or (
            math.isnan(point.iloc[0][column]) and math.isnan(own.iloc[0][column]))
    # A longer readiness lag gives more 53s (paired worlds: same draws, later readiness).
    rates = df[df["link.latency.median"] == 0.6]["rate_53"].tolist()
    assert rates == sorted(rates) and rates[0] < rates[-1]
    parallel = frames.grid_frame(UNPATCHED, grid, trials=150, seed=SEED, workers=2)
    pd.testing.assert_frame_equal(df, parallel)


def test_grid_frame_validates_every_point_before_running() -> None:
    calls: list[int] = []
    with pytest.raises(ScenarioError, match="override policy.max_wait"):
        frames.grid_frame(UNPATCHED, {"policy.initial_wait": [1.0, 120.0]}, trials=10,
                          policy="connras-fix", on_point=lambda done, total: calls.append(done))
    assert calls == []


def test_grid_over_policy_fields_reports_the_base_policy() -> None:
    df = frames.grid_frame(race_world(), {"policy.attempts_per_dial": [1, 2]}, trials=2,
                           seed=0, policy=preset("connras-fix"))
    assert list(df["policy"]) == ["connras-fix", "connras-fix"]
    assert list(df["success_rate"]) == [0.0, 1.0]
    assert list(df["connect_p50"].round(6))[1] == pytest.approx(12.5, rel=0.005)


# --- one trial ----------------------------------------------------------------------------
def test_replay_and_trace_frame() -> None:
    replayed = frames.replay(race_world(), 0, seed=0, policy="connras-fix")
    assert replayed.result.connect_time == 12.5
    df = frames.trace_frame(replayed.events)
    assert list(df.columns) == ["t", "source", "kind", "fields"]
    assert len(df) == len(replayed.events)
    assert df["t"].is_monotonic_increasing
    queries = df[(df["source"] == "netbt") & (df["kind"] == "wins_query")]
    assert list(queries["t"]) == [0.0, 1.5, 3.0, 9.5]
    assert [f["n"] for f in queries["fields"]] == [1, 2, 3, 1]
    assert replayed.warmup == (1.0, 30.0)


def test_load_accepts_paths_models_and_loaded_scenarios() -> None:
    loaded = frames.load(UNPATCHED)
    assert frames.load(str(UNPATCHED)).sha256 == loaded.sha256
    assert frames.load(loaded) is loaded
    assert frames.load(loaded.scenario).sha256 == loaded.sha256
    assert frames.load(UNPATCHED, "connras-fix").policy.name == "connras-fix"
    with pytest.raises(ScenarioError, match="unknown preset"):
        frames.load(UNPATCHED, "no-such-policy")


# --- fleets -------------------------------------------------------------------------------
STORM = ROOT / "scenarios" / "fleet-retry-storm.toml"
JITTER_GRID = ROOT / "tuning" / "fleet-jitter-grid.toml"


def test_summary_frame_of_a_fleet_has_each_fleet_metric_with_its_interval() -> None:
    summary = frames.summarize(STORM, 40, SEED, workers=1)
    row = frames.summary_frame(summary).iloc[0]
    fleet = summary.fleet
    assert row["senders"] == 20
    assert (row["sender_success_rate"], row["sender_ci_low"], row["sender_ci_high"]) == \
        fleet.sender_success()
    assert (row["work_mean"], row["work_low"], row["work_high"]) == fleet.work_mean()
    assert (row["busy_rate"], row["busy_low"], row["busy_high"]) == fleet.busy_rate()
    assert (row["port_utilization"], row["port_utilization_low"],
            row["port_utilization_high"]) == fleet.utilization()
    assert row["work_low"] < row["work_mean"] < row["work_high"]


def test_a_lone_senders_fleet_columns_are_trivial() -> None:
    row = frames.summary_frame(frames.summarize(UNPATCHED, 30, SEED, workers=1)).iloc[0]
    assert row["senders"] == 1 and row["work_mean"] == row["attempts_mean"] + row["dials_mean"]


def test_sweep_runs_a_grid_file_on_the_same_trials() -> None:
    swept = frames.sweep(STORM, JITTER_GRID, trials=30, seed=SEED, workers=1)
    table = swept.table
    assert list(table["jitter"]) == ["none", "equal", "full", "decorrelated"]
    (baseline,) = table.loc[table["baseline"], "policy"]
    assert swept.baseline == baseline == "connras-fix jitter=none"
    assert list(swept.summaries) == list(table["policy"])
    assert (table["trials"] == 30).all()
    for column in ("success_rate_low", "work", "work_low", "work_high", "diff", "diff_low"):
        assert column in table.columns
    # The baseline is the storm's own policy: its summary is the scenario's own run.
    alone = frames.summarize(STORM, 30, SEED, workers=1)
    assert swept.summaries[swept.baseline].to_dict() == alone.to_dict()
    assert table.attrs["rassim"]["trials_per_policy"] == 30


def test_sweep_rejects_a_bad_grid_with_the_loaders_error(tmp_path: Path) -> None:
    bad = tmp_path / "grid.toml"
    bad.write_text("[vary]\njiter = ['full']\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="vary.jiter"):
        frames.sweep(STORM, bad, trials=5, workers=1)


# --- overrides never fail silently ---------------------------------------------------------
def test_sender_policy_override_runs_with_the_preset() -> None:
    from sim.frames import with_overrides

    loaded = with_overrides(UNPATCHED, {"sender.policy": "connras-fix"})
    assert loaded.policy == preset("connras-fix")
    assert loaded.scenario.sender.policy == "connras-fix"


def test_sender_policy_field_override_changes_the_policy() -> None:
    from sim.frames import with_overrides

    loaded = with_overrides(UNPATCHED, {"sender.policy.attempts_per_dial": 6,
                                        "sender.policy.settle": 2})
    assert loaded.policy.attempts_per_dial == 6 and loaded.policy.settle == 2.0
    assert loaded.policy.name == "pre-fix+custom"
    both = with_overrides(UNPATCHED, {"sender.policy": "connras-fix",
                                      "sender.policy.attempts_per_dial": 6})
    assert both.policy == preset("connras-fix").replace(attempts_per_dial=6,
                                                        name="connras-fix+custom")
    # The policy field changes reach the trials: the summary moves.
    base = frames.summarize(UNPATCHED, trials=300)
    changed = frames.summarize(both, trials=300)
    assert changed.successes > base.successes


@pytest.mark.parametrize(("overrides", "fragments"), [
    ({"sender.policy": "nope"}, ("unknown preset 'nope'", "connras-fix", "sms2-defaults")),
    ({"sender.policy.attempts_per_dail": 6}, ("sender.policy.attempts_per_dail",
                                              "did you mean `attempts_per_dial`?")),
    ({"policy.atempts_per_dial": 6}, ("did you mean `attempts_per_dial`?",)),
    ({"link.latncy": "1s"}, ("link has no field 'latncy'", "did you mean `latency`?")),
    ({"sender.policy.attempts_per_dial": "6"}, ("got the string \"6\"",)),
])
def test_an_override_not_applied_is_an_error(overrides: dict[str, object],
                                             fragments: tuple[str, ...]) -> None:
    from sim.frames import with_overrides

    with pytest.raises(ScenarioError) as info:
        with_overrides(UNPATCHED, overrides)
    for fragment in fragments:
        assert fragment in str(info.value), (fragment, str(info.value))


def test_sender_policy_override_and_policy_argument_conflict() -> None:
    from sim.frames import with_overrides

    with pytest.raises(ScenarioError, match="give the policy one way"):
        with_overrides(UNPATCHED, {"sender.policy": "connras-fix"}, policy="pre-fix")
