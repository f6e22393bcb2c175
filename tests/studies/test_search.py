"""``rassim search``: Hypothesis finds and shrinks a planted weakness, deterministically.

The planted weakness: a world with (next to) zero latency whose name path answers 5 s after
Connected, and a policy of two maps 10 s apart. Map 1 fails with 53 at 4.5 s (WINS queries
at 0, 1.5 and 3 s are all too early); map 2 starts at 14.5 s and resolves at once. The only
way one fault defeats it is an outage that swallows all three of map 2's WINS queries, sent
at 14.5, 16 and 17.5 s: it must begin by 14.5 s and last past 17.5 s. The minimal schedule
is therefore one outage at 14.5 s lasting just over 3 s (3.001 s on the millisecond grid).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from sim.cli import main
from sim.studies.search import ms_text

PLANTED = """name = "planted"
seed = 1
trials = 10

[sender]
policy = { attempts_per_dial = 2, initial_wait = "10s", max_wait = "10s" }

[ras]
connect = "0s"
authenticate = "0s"
project = "0s"
hangup = "0s"

[link]
latency = "0s"
rate_bps = 1e12            # the profile's line rate, made negligible
warmup = { factor = 1.0 }

[name_path]
lag = "5s"

[netbt]
broadcast_fallback = false

[smb]
server_think = "0s"
"""

SEARCH = """
[search]
kinds = ["link_outage"]
max_faults = 2
window = {window}
durations = {durations}
"""


def planted(directory: Path, *, window: str = '["0s", "1m"]',
            durations: str = '["1s", "30s"]', extra: str = "") -> Path:
    path = directory / "planted.toml"
    path.write_text(PLANTED + extra + SEARCH.format(window=window, durations=durations),
                    encoding="utf-8")
    return path


def search(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["search", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def found_faults(path: Path) -> list[dict[str, object]]:
    faults: list[dict[str, object]] = tomllib.loads(path.read_text(encoding="utf-8"))["faults"]
    return faults


def seconds(text: object) -> float:
    assert isinstance(text, str) and text.endswith("s"), text
    return float(text[:-1])


def test_finds_and_shrinks_the_planted_weakness(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    source = planted(tmp_path)
    code, out, _ = search(capsys, str(source))
    assert code == 1  # a failing schedule was found
    found = tmp_path / "planted-found-link_outage.toml"
    assert f"wrote {found}: it extends {source} and reproduces the failure" in out
    assert "found after trying " in out and "1 fault defeats the sender on trial 0" in out
    assert f"replay it: rassim replay {found} --trial 0" in out

    # One outage, covering the second map's three WINS queries, of near-minimal length.
    (fault,) = found_faults(found)
    start, duration = seconds(fault["at"]), seconds(fault["duration"])
    assert fault["kind"] == "link_outage"
    assert start <= 14.5 and start + duration > 17.5
    assert duration <= 3.1, "not shrunk: the minimum is just over 3 s"
    assert f"  link_outage at {fault['at']} for {fault['duration']}" in out

    # The file extends the original by a relative path and pins the seed.
    data = tomllib.loads(found.read_text(encoding="utf-8"))
    assert (data["extends"], data["seed"], data["name"]) == (
        "planted.toml", 1, "planted-found-link_outage")
    assert "[expect]" not in found.read_text(encoding="utf-8")  # never collected as a check

    # The printed timeline is the replay's, and the replay reproduces the failure.
    assert "gave up (dials_exhausted) with 53 ERROR_BAD_NETPATH at 19.000s" in out
    assert re.search(r"14\.500s  link      OUTAGE begins \[found-1\]", out)
    assert main(["replay", str(found), "--trial", "0"]) == 0
    replay = capsys.readouterr().out
    assert "gave up (dials_exhausted) with 53 ERROR_BAD_NETPATH at 19.000s" in replay
    assert replay.splitlines()[1:] == out.split("\n\n", 1)[1].splitlines()[1:]


def test_the_same_budget_gives_the_same_schedule(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    source = planted(tmp_path)
    first = search(capsys, str(source), "--budget", "60", "--out", str(tmp_path / "a.toml"))
    second = search(capsys, str(source), "--budget", "60", "--out", str(tmp_path / "b.toml"))
    assert first[0] == second[0] == 1
    a = (tmp_path / "a.toml").read_text(encoding="utf-8")
    b = (tmp_path / "b.toml").read_text(encoding="utf-8")
    assert a.replace("a.toml", "X").replace('"a"', '"X"') == (
        b.replace("b.toml", "X").replace('"b"', '"X"'))
    assert first[1].replace("a.toml", "X").replace("a ·", "X ·") == (
        second[1].replace("b.toml", "X").replace("b ·", "X ·"))


def test_no_failure_within_the_budget_says_so_and_exits_0(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Outages of at most 2 s cannot swallow three queries 1.5 s apart.
    source = planted(tmp_path, durations='["1s", "2s"]')
    code, out, _ = search(capsys, str(source), "--budget", "40")
    assert code == 0
    assert out.splitlines()[-1] == ("no schedule within the [search] bounds defeated the sender "
                                    "in 40 tries; a larger --budget or wider bounds may find one")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["planted.toml"]


def test_milestone_windows_own_faults_and_out_elsewhere(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The scenario's own fault (a pause that never touches the sender) must be repeated in the
    # found file, since extends replaces the faults list whole; --out in another directory
    # needs a relative extends; the milestone window is written as an absolute time.
    own = ('\n[[faults]]\nname = "late-pause"\nkind = "server_paused"\nat = "1h"\n'
           'duration = "1s"\n')
    source = planted(tmp_path, window='["connected", "connected + 1m"]', extra=own)
    out_path = tmp_path / "found" / "here.toml"
    out_path.parent.mkdir()
    code, out, _ = search(capsys, str(source), "--out", str(out_path))
    assert code == 1
    assert "link_outage at connected + 14.5s for 3.001s" in out
    data = tomllib.loads(out_path.read_text(encoding="utf-8"))
    assert data["extends"] == "../planted.toml"
    assert [f["name"] for f in data["faults"]] == ["late-pause", "found-1"]
    assert data["faults"][0] == {"name": "late-pause", "kind": "server_paused", "at": "1h",
                                 "duration": "1s"}
    assert data["faults"][1]["at"] == "14.5s"  # Connected came at 0 s in this world
    assert 'at = "14.5s"  # connected + 14.5s' in out_path.read_text(encoding="utf-8")


def test_policy_option_is_written_into_the_found_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # connras-fix maps 4 times, 5 s apart: map 2 at 9.5 s would succeed, so a single outage
    # has to swallow maps 2 to 4 (9.5 s to 31.5 s).
    source = planted(tmp_path)
    code, out, _ = search(capsys, str(source), "--policy", "connras-fix")
    assert code == 1
    found = tmp_path / "planted-found-link_outage.toml"
    data = tomllib.loads(found.read_text(encoding="utf-8"))
    assert data["sender"] == {"policy": "connras-fix"}
    (fault,) = data["faults"]
    assert seconds(fault["at"]) <= 9.5 and seconds(fault["at"]) + seconds(fault["duration"]) > 31.5
    assert "# Found by `rassim search " in found.read_text(encoding="utf-8")
    assert "--policy connras-fix --budget 200`" in found.read_text(encoding="utf-8")


@pytest.mark.parametrize(("setup", "argv", "message"), [
    ("no-search", [], "has no [search] table; add one"),
    ("planted", ["--policy", "pre-fix"],
     "search.trials: without any injected fault, trial 0 gives up with 53 ERROR_BAD_NETPATH; "
     "the sender connects in none of trials 0-99 either"),
    ("planted", ["--out", "found.txt"], "--out found.txt: a scenario file name must end in .toml"),
    ("planted", ["--out", "nodir/f.toml"], "directory nodir does not exist"),
    ("planted", ["--budget", "0"], "--budget: must be between 1"),
])
def test_bad_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                           monkeypatch: pytest.MonkeyPatch, setup: str, argv: list[str],
                           message: str) -> None:
    monkeypatch.chdir(tmp_path)
    if setup == "planted":
        planted(tmp_path)
    else:
        (tmp_path / "planted.toml").write_text(PLANTED, encoding="utf-8")
    code, out, err = search(capsys, "planted.toml", *argv)
    assert code == 2
    assert message in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["planted.toml"]


@pytest.mark.parametrize(("ms", "text"), [(0, "0s"), (10, "0.01s"), (1000, "1s"),
                                          (3001, "3.001s"), (14500, "14.5s"), (60000, "60s")])
def test_milliseconds_are_written_exactly(ms: int, text: str) -> None:
    assert ms_text(ms) == text


@pytest.mark.slow
def test_the_shipped_patched_scenario_falls_to_one_outage_of_about_four_minutes(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # What the comment above q221951-patched.toml's [search] table says.
    source = Path(__file__).resolve().parents[2] / "scenarios" / "q221951-patched.toml"
    out_path = tmp_path / "found.toml"
    code, out, _ = search(capsys, str(source), "--out", str(out_path))
    assert code == 1
    (fault,) = found_faults(out_path)
    assert fault["kind"] == "link_outage"
    assert 180 <= seconds(fault["duration"]) <= 300
    assert "gave up (dials_exhausted) with 53 ERROR_BAD_NETPATH" in out
