"""``rassim tune``: a known optimum, racing, resume, reuse, goals, spaces and the CLI.

The known-optimum world (``zero_world`` with the name path ready exactly 10 s after
Connected, WINS 3 queries x 1.5 s, no broadcast fallback, zero latency, Connected at 0):

* a map started at s sends WINS queries at s, s + 1.5, s + 3 and gives up with 53 at
  s + 4.5; a query is answered (at once) iff it is sent at or after 10 s;
* with ``attempts_per_dial`` = a and ``initial_wait`` = w (connras-fix: constant waits),
  map k starts at k (4.5 + w), k < a. It connects iff k (4.5 + w) + 3 >= 10 for some k < a,
  at the first query time >= 10;
* nothing can connect before 10 s, so the best p95 connect time is exactly 10 s. On the grid
  a in 1..3, w in {0, 1, 2, 2.5, 3, 4, 5} s it is reached by a >= 2 with w = 2.5 s or 4 s
  (second map at 7 s or 8.5 s, its third or second query at 10 s). The tie-break (fewer
  map attempts, then smaller values) makes (2, 2.5 s) the answer. Every other point is
  slower: w = 3 s -> 10.5 s, w = 5 s -> 11 s; (3, 0 s) -> 10.5 s, (3, 1 s) -> 11 s ...;
* a = 1 never connects (4.5 s of queries from 0 s end before 10 s), nor does a = 2 with
  w < 2.5 s: these must be dropped on their first batch as unable to meet the success rate.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sender.policy import preset
from sim.cli import main
from sim.run.executors import LocalExecutor
from sim.scenario.loader import ScenarioError
from sim.scenario.policy_text import policy_key
from sim.stats.policy_metrics import Estimate
from sim.studies.tune.goals import (
    Objective,
    Requirement,
    cannot_win,
    dominates,
    parse_objective,
    parse_requirement,
    rank_key,
)
from sim.studies.tune.space import Space, load_space
from sim.studies.tune.study import StorageError, StudyMismatch, TuneSettings, best_toml, tune
from sim.trial.trial import run_trial
from tests.helpers.worlds import zero_world

LAG_10 = zero_world(**{"name_path.lag": "10s"})  # type: ignore[arg-type]
SPACE = """
[base]
preset = "connras-fix"
max_wait = "1m"
[params]
attempts_per_dial = { low = 1, high = 3 }
initial_wait = ["0s", "1s", "2s", "2.5s", "3s", "4s", "5s"]
"""
REQUIRE = (parse_requirement("success_rate>=0.999"),)
MINIMIZE = (parse_objective("p95_connect_time", "minimize"),)

ZERO_TOML = """
name = "zero-10s"
[sender]
policy = "pre-fix"
[ras]
connect = "0s"
authenticate = "0s"
project = "0s"
hangup = "0s"
connect_failure = { rate = 0.0 }
[link]
latency = "0s"
rate_bps = 1e12            # the sna profile's 9600 bps cannot be unset: make it irrelevant
warmup = { factor = 1.0 }
[name_path]
lag = "10s"
[netbt]
broadcast_fallback = false
[smb]
server_think = "0s"
"""


def space(tmp_path: Path, text: str = SPACE) -> Space:
    path = tmp_path / "space.toml"
    path.write_text(text, encoding="utf-8")
    return load_space(path, preset("pre-fix"))


def settings(tmp_path: Path, n: int, db: str = "study.db", **changes: Any) -> TuneSettings:
    values: dict[str, Any] = dict(requirements=REQUIRE, objectives=MINIMIZE, n_trials=n,
                                  min_trials=10, max_trials=20, seed=1,
                                  storage=f"sqlite:///{tmp_path / db}")
    values.update(changes)
    return TuneSettings(**values)


def run(tmp_path: Path, n: int, db: str = "study.db", **kwargs: Any) -> Any:
    s = kwargs.pop("settings", None) or settings(tmp_path, n, db)
    with LocalExecutor(1) as executor:
        return tune(LAG_10, "sha", space(tmp_path), s, executor, **kwargs)


def comparable(result: Any) -> list[tuple[Any, ...]]:
    return [(c.name, c.state, c.values, c.metrics, c.trials, c.reason, c.feasible)
            for c in result.candidates]


@pytest.fixture(scope="module")
def searched(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """30 candidates on the known-optimum world (shared: the study is the expensive part)."""
    return run(tmp_path_factory.mktemp("tune"), 30)


def test_finds_the_hand_computed_optimum(searched: Any) -> None:
    result = searched
    best = result.recommended
    assert best is not None
    assert best.values == {"attempts_per_dial": 2, "initial_wait": 2.5}
    assert best.metrics["success_rate"].value == 1.0
    # The sketch reports 10 s within its 0.5% accuracy; the trial itself is exact.
    assert best.metrics["p95_connect_time"].value == pytest.approx(10.0, rel=0.005)
    assert run_trial(LAG_10, best.policy, 1, 0).connect_time == 10.0
    assert best.trials == 20  # raced to the end
    tied = {(c.values["attempts_per_dial"], c.values["initial_wait"]) for c in result.front}
    assert (2, 2.5) in tied and tied <= {(2, 2.5), (2, 4.0), (3, 2.5), (3, 4.0)}
    # Policies that cannot connect were dropped after their first batch, with the reason.
    never = [c for c in result.candidates
             if c.values["attempts_per_dial"] == 1 and c.reused_from is None]
    assert never and all(c.state == "pruned" and c.trials == 10 for c in never)
    assert all(c.reason.startswith("cannot meet success_rate >= 0.999") for c in never)
    # The recommendation pastes into a scenario as a table that loads back to itself.
    table = best_toml(best.policy, "connras-fix")
    assert table == ('{ preset = "connras-fix", attempts_per_dial = 2, initial_wait = "2.5s", '
                     'max_wait = "1m" }')


def test_slower_candidates_are_dropped_once_they_cannot_win(searched: Any) -> None:
    result = searched
    slow = [c for c in result.candidates if c.state == "pruned"
            and c.reason and c.reason.startswith("cannot win")]
    # Constant world: intervals collapse, so 10.5 s and 11 s lose at once to a 10 s incumbent.
    assert slow
    assert all(c.metrics["p95_connect_time"].value > 10.01 for c in slow)


def test_repeated_suggestions_are_not_evaluated_again(searched: Any) -> None:
    result = searched
    reused = [c for c in result.candidates if c.reused_from is not None]
    assert reused and result.reused == len(reused)
    assert result.evaluated + result.reused == 30
    originals = {c.number: c for c in result.candidates}
    for c in reused:
        first = originals[c.reused_from]
        assert first.reused_from is None
        assert (c.values, c.metrics, c.state, c.trials) == (first.values, first.metrics,
                                                           first.state, first.trials)
        assert policy_key(c.policy) == policy_key(first.policy)


def test_resume_continues_exactly_where_it_stopped(tmp_path: Path) -> None:
    first = run(tmp_path, 6)
    assert len(first.candidates) == 6
    resumed = run(tmp_path, 12)
    assert len(resumed.candidates) == 12
    assert comparable(resumed)[:6] == comparable(first)  # nothing finished was redone
    assert resumed.evaluated + resumed.reused == 6
    straight = run(tmp_path, 12, db="straight.db")
    assert comparable(straight) == comparable(resumed)  # and as if never stopped
    again = run(tmp_path, 12)
    assert again.evaluated == again.reused == 0 and comparable(again) == comparable(resumed)


def test_an_interrupted_candidate_is_dropped_and_redone_on_resume(tmp_path: Path) -> None:
    calls = {"n": 0}

    def interrupt(_: int) -> None:
        calls["n"] += 1
        if calls["n"] == 7:  # somewhere inside the fifth or so candidate's race
            raise KeyboardInterrupt

    stopped = run(tmp_path, 10, on_progress=interrupt)
    assert stopped.interrupted and len(stopped.candidates) < 10
    import optuna

    study = optuna.load_study(study_name=stopped.study_name, storage=stopped.storage)
    assert [t.state.name for t in study.trials].count("FAIL") == 1
    resumed = run(tmp_path, 10)
    straight = run(tmp_path, 10, db="straight.db")
    assert comparable(resumed) == comparable(straight)
    assert comparable(resumed)[:len(stopped.candidates)] == comparable(stopped)


def test_a_study_refuses_other_settings(tmp_path: Path) -> None:
    run(tmp_path, 2, settings=settings(tmp_path, 2, study_name="mine"))
    other = settings(tmp_path, 2, study_name="mine", max_trials=40)
    with pytest.raises(StudyMismatch, match="max_trials"):
        run(tmp_path, 2, settings=other)


def test_invalid_combinations_are_dropped_as_invalid(tmp_path: Path) -> None:
    text = """
[base]
preset = "connras-fix"
[params]
initial_wait = { low = "1s", high = "9s", step = "4s" }
max_wait = { low = "1s", high = "9s", step = "4s" }
"""
    s = settings(tmp_path, 12)
    with LocalExecutor(1) as executor:
        result = tune(LAG_10, "sha", space(tmp_path, text), s, executor)
    invalid = [c for c in result.candidates if c.reason and c.reason.startswith("invalid")]
    assert invalid
    assert all(c.values["initial_wait"] > c.values["max_wait"] and c.policy is None
               for c in invalid)


# --- goals and racing rules ---------------------------------------------------------------
@pytest.mark.parametrize(("text", "expected"), [
    ("success_rate>=0.999", Requirement("success_rate", ">=", 0.999)),
    (" success_rate >= 99.9% ", Requirement("success_rate", ">=", 0.999)),
    ("rate_53<=0.1%", Requirement("rate_53", "<=", 0.001)),
    ("p95_connect_time<=1m", Requirement("p95_connect_time", "<=", 60.0)),
    ("line_time_mean<=40s", Requirement("line_time", "<=", 40.0)),
    ("dials<=1.2", Requirement("dials", "<=", 1.2)),
])
def test_requirements(text: str, expected: Requirement) -> None:
    got = parse_requirement(text)
    assert got.metric == expected.metric and got.op == expected.op
    assert got.threshold == pytest.approx(expected.threshold)


@pytest.mark.parametrize(("text", "fragment"), [
    ("success_rate>0.99", "use >= or <="),
    ("succes_rate>=0.99", "unknown metric"),
    ("p95_connect_time<=60", "needs a unit"),
    ("success_rate>=1.5", "in [0, 1]"),
    ("success_rate", "write METRIC>=VALUE"),
    ("dials<=many", "cannot read"),
])
def test_bad_requirements(text: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=None) as info:
        parse_requirement(text)
    assert fragment in str(info.value)


def test_objectives_only_go_their_way() -> None:
    assert parse_objective("dials_mean", "minimize") == Objective("dials", "minimize")
    with pytest.raises(ValueError, match="--maximize"):
        parse_objective("success_rate", "minimize")
    with pytest.raises(ValueError, match="unknown metric"):
        parse_objective("speed", "minimize")


def est(value: float, low: float, high: float) -> Estimate:
    return Estimate(value, low, high)


def test_requirement_verdicts() -> None:
    r = Requirement("success_rate", ">=", 0.99)
    assert r.met(est(0.995, 0.98, 0.999)) and not r.confirmed(est(0.995, 0.98, 0.999))
    assert r.confirmed(est(0.999, 0.995, 1.0))
    assert r.violated_for_sure(est(0.9, 0.85, 0.95))
    assert not r.violated_for_sure(est(0.9, 0.85, 0.991))
    assert r.slack(est(0.995, 0, 1)) < 0 < r.slack(est(0.9, 0, 1))


def test_cannot_win_needs_the_whole_interval_behind() -> None:
    p95 = Objective("p95_connect_time", "minimize")
    incumbent = {"p95_connect_time": est(40, 38, 42)}
    assert cannot_win({"p95_connect_time": est(50, 43, 60)}, [incumbent], [p95])
    assert not cannot_win({"p95_connect_time": est(50, 41, 60)}, [incumbent], [p95])
    assert not cannot_win({"p95_connect_time": est(42, 42, 42)}, [incumbent], [p95])  # a tie
    line = Objective("line_time", "minimize")
    two = {"p95_connect_time": est(40, 38, 42), "line_time": est(30, 29, 31)}
    worse_on_one = {"p95_connect_time": est(50, 45, 55), "line_time": est(20, 19, 21)}
    assert not cannot_win(worse_on_one, [two], [p95, line])  # it may be on the front
    assert dominates(two, {"p95_connect_time": est(41, 0, 99), "line_time": est(30, 0, 99)},
                     [p95, line])


def test_rank_key_breaks_ties_deterministically() -> None:
    p95 = [Objective("p95_connect_time", "minimize")]
    m = {"p95_connect_time": est(10, 10, 10), "success_rate": est(1, 0.9, 1),
         "dials": est(1, 1, 1), "line_time": est(10, 10, 10)}
    keys = sorted([rank_key(m, 3.0, [3, 0.5], 1, p95), rank_key(m, 2.0, [3, 2.5], 2, p95),
                   rank_key(m, 2.0, [2, 4.0], 3, p95), rank_key(m, 2.0, [2, 2.5], 4, p95)])
    assert [k[-1] for k in keys] == [4, 3, 2, 1]


# --- search-space files -------------------------------------------------------------------
@pytest.mark.parametrize(("text", "fragments"), [
    ("[params]\nattempts_per_dial = { low = 3, high = 1 }\n",
     ["line 2", "params.attempts_per_dial", "must be below high"]),
    ('[params]\ninitial_wait = { low = "1s", high = "9s", step = "3s" }\n', ["whole number of"]),
    ('[params]\nsettle = { low = 0, high = 5 }\n', ["params.settle.high", "needs a unit"]),
    ('[params]\nredial_wait = { low = "0s", high = "1m", log = true }\n', ["low > 0"]),
    ('[params]\njitter = ["none", "fuzzy"]\n', ["params.jitter.choices.1"]),
    ('[params]\nmax_dials = { choices = [1, 3], low = 2 }\n', ["either choices or a range"]),
    ('[params]\nretry_on = [[53]]\n', ["params.retry_on", "cannot be searched"]),
    ('[params]\nattempts = { low = 1, high = 3 }\n', ["params.attempts", "unknown key"]),
    ('[params]\nattempts_per_dail = { low = 1, high = 3 }\n',
     ["line 2", "params.attempts_per_dail", "(did you mean `attempts_per_dial`?)"]),
    ('[params]\nattempts_per_dial = { low = 1, hgih = 3 }\n',
     ["params.attempts_per_dial.hgih", "(did you mean `high`?)"]),
    ('[bsae]\npreset = "pre-fix"\n[params]\nmax_dials = [1, 2]\n',
     ["line 1", "(did you mean `base`?)"]),
    ('[base]\npreset = "pre-fix"\nmax_dils = 2\n[params]\nattempts_per_dial = [1, 2]\n',
     ["base.max_dils", "(did you mean `max_dials`?)"]),
    ("[params]\n", ["nothing to search"]),
    ('[base]\npreset = "connras-fix"\n[params]\ninitial_wait = { low = "1s", high = "20s" }\n',
     ["params.initial_wait.high", "20s makes an invalid policy", "set max_wait in [base]"]),
    ('[base]\npreset = "nope"\n[params]\nmax_dials = [1, 2]\n', ["base.preset", "unknown preset"]),
    # A step of 1e-300 passed validation and broke Optuna's Decimal grid once the study ran.
    ("[params]\nbackoff_base = { low = 1.0, high = 2.0, step = 1e-300 }\n",
     ["params.backoff_base", "more than 1,000,000 steps"]),
    ('[params]\nsettle = { low = "1s", high = "2s", step = "0.1us" }\n',
     ["params.settle", "more than 1,000,000 steps"]),
])
def test_bad_spaces(tmp_path: Path, text: str, fragments: list[str]) -> None:
    with pytest.raises(ScenarioError) as info:
        space(tmp_path, text)
    for fragment in fragments:
        assert fragment in str(info.value), (fragment, str(info.value))


def test_example_space_in_tuning_folder_loads() -> None:
    root = Path(__file__).resolve().parents[2]
    s = load_space(root / "tuning" / "connras-space.toml", preset("pre-fix"))
    assert [p.field for p in s.params] == ["attempts_per_dial", "initial_wait", "max_dials",
                                           "redial_wait"]


# --- the command --------------------------------------------------------------------------
def test_cli_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = tmp_path / "zero.toml"
    scenario.write_text(ZERO_TOML, encoding="utf-8")
    (tmp_path / "space.toml").write_text(SPACE, encoding="utf-8")
    argv = ["tune", str(scenario), "--space", str(tmp_path / "space.toml"), "--require",
            "success_rate>=0.999", "--minimize", "p95_connect_time", "--n-trials", "30",
            "--min-trials", "10", "--max-trials", "20", "--workers", "1", "--seed", "1"]
    assert main([*argv, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (tmp_path / "zero.tune.db").is_file()  # the default storage: next to the scenario
    best = report["recommended"]
    assert best["values"] == {"attempts_per_dial": 2, "initial_wait": 2.5}
    assert best["toml"] == ('[sender]\npolicy = { preset = "connras-fix", attempts_per_dial = 2'
                            ', initial_wait = "2.5s", max_wait = "1m" }')
    assert best["requirements"]["success_rate >= 0.999"] == {"met": True, "confirmed": False}
    assert report["finished"] == 30 and report["completed"] + report["pruned"] == 30
    assert report["front"][0]["number"] == best["number"]

    assert main(argv) == 0  # resumes: nothing left to do, same answer, as a table
    out = capsys.readouterr().out
    assert f"recommended: #{best['number']} connras-fix attempts_per_dial=2 initial_wait=2.5s" \
        in out
    assert 'policy = { preset = "connras-fix", attempts_per_dial = 2' in out

    # Nothing in this space connects on one map: no recommendation, exit 1.
    (tmp_path / "one.toml").write_text('[params]\nsettle = { low = "0s", high = "2s" }\n',
                                       encoding="utf-8")
    code = main(["tune", str(scenario), "--space", str(tmp_path / "one.toml"), "--require",
                 "success_rate>=0.99", "--minimize", "line_time", "--n-trials", "3",
                 "--min-trials", "10", "--max-trials", "10", "--workers", "1"])
    assert code == 1
    assert "no candidate met the requirements" in capsys.readouterr().out


@pytest.mark.parametrize(("extra", "fragment"), [
    ([], "give what to optimise"),
    (["--minimize", "success_rate"], "--maximize"),
    (["--minimize", "line_time", "--require", "success_rate>0.9"], "use >= or <="),
    (["--minimize", "line_time", "--min-trials", "50", "--max-trials", "10"], "must not exceed"),
    (["--minimize", "line_time", "--storage", "sqlite:////nonexistent/dir/x.db"],
     "does not exist"),
    (["--minimize", "line_time", "--storage", "bogus"], "--storage bogus: cannot open it"),
])
def test_cli_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str],
                       fragment: str) -> None:
    scenario = tmp_path / "zero.toml"
    scenario.write_text(ZERO_TOML, encoding="utf-8")
    (tmp_path / "space.toml").write_text(SPACE, encoding="utf-8")
    code = main(["tune", str(scenario), "--space", str(tmp_path / "space.toml"), *extra])
    err = capsys.readouterr().err
    assert code == 2 and err.count("rassim: error:") == 1 and fragment in err, err
    assert not (tmp_path / "zero.tune.db").exists()


def test_cli_study_with_other_settings_is_bad_input(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    scenario = tmp_path / "zero.toml"
    scenario.write_text(ZERO_TOML, encoding="utf-8")
    (tmp_path / "space.toml").write_text(SPACE, encoding="utf-8")
    base = ["tune", str(scenario), "--space", str(tmp_path / "space.toml"), "--minimize",
            "line_time", "--n-trials", "1", "--min-trials", "5", "--max-trials", "5",
            "--workers", "1", "--study-name", "s", "--json"]
    assert main(base) == 0
    capsys.readouterr()
    assert main([*base, "--seed", "9"]) == 2
    assert "was created with different seed" in capsys.readouterr().err


# --- a full disk mid-study (issue 16, class 5) ------------------------------------------
def test_a_full_disk_mid_study_is_one_line_and_the_study_resumes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # In process, on any machine: the third candidate's commit fails as SQLite fails on a
    # full disk. What was committed stays; the same settings resume the study exactly.
    import sqlite3

    from sqlalchemy.exc import OperationalError

    from sim.studies.tune import study as study_module

    real_tell = study_module._tell
    told = {"n": 0}

    def tell(*args: Any, **kwargs: Any) -> Any:
        told["n"] += 1
        if told["n"] == 3:
            raise OperationalError("INSERT ...", {}, sqlite3.OperationalError(
                "database or disk is full"))
        return real_tell(*args, **kwargs)

    monkeypatch.setattr(study_module, "_tell", tell)
    with pytest.raises(StorageError) as caught:
        run(tmp_path, 6)
    assert str(caught.value) == (
        f"--storage sqlite:///{tmp_path / 'study.db'}: no space left on the device of "
        f"{tmp_path}; free some space; run the same command again to resume the study")
    monkeypatch.setattr(study_module, "_tell", real_tell)
    resumed = run(tmp_path, 6)
    assert comparable(resumed) == comparable(run(tmp_path, 6, db="straight.db"))


def test_a_real_full_disk_mid_study(tmp_path: Path) -> None:
    # For real (root): the disk fills up after the second candidate; the study stops with
    # one line, and once there is room again it resumes to the uninterrupted study.
    from tests.helpers.full_disk import FILLER, fill, full_disk

    with full_disk(tmp_path, "4m", filled=False) as disk:
        s = settings(disk, 5)
        seen = {"n": 0}

        def fill_after_two(_: Any) -> None:
            seen["n"] += 1
            if seen["n"] == 2:
                fill(disk)

        with pytest.raises(StorageError, match=r"no space left on the device of .*; free "
                                               r"some space; run the same command again"):
            run(disk, 5, settings=s, on_candidate=fill_after_two)
        (disk / FILLER).unlink()
        resumed = run(disk, 5, settings=s)
        assert comparable(resumed) == comparable(run(tmp_path, 5, db="straight.db"))
