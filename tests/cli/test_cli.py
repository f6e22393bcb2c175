"""The ``rassim`` command line: outputs, replay, determinism, and bad input.

Bad input of any kind exits 2 with one ``rassim: error:`` message on stderr that names the
file or option, the field, and the fix; never a traceback, and never an output file (nor a
stray temporary file) left behind. Most cases run ``sim.cli.main`` in-process; a few run
``python -m sim`` and ``rassim`` as real processes to check the entry points end to end.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import sim
from sim.cli import main
from sim.scenario.loader import load_scenario
from sim.trial.results import ROW_FIELDS

ROOT = Path(__file__).resolve().parents[2]
UNPATCHED = ROOT / "scenarios" / "q221951-unpatched.toml"
ISDN = ROOT / "scenarios" / "isdn.toml"
SEED = 7
PRESET_NAMES = ("pre-fix", "connras-fix", "sms2-defaults", "aws-full-jitter")


def run_cli(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_bad_input(code: int, err: str, *fragments: str) -> None:
    assert code == 2, err
    assert "Traceback" not in err
    assert err.count("rassim: error:") == 1, err
    message = err[err.index("rassim: error:"):]
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"


def listing(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


# --- run --json ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def unpatched_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The per-trial CSV of a 300-trial run of the unpatched scenario, seed 7."""
    out = tmp_path_factory.mktemp("csv") / "rows.csv"
    code = main(["run", str(UNPATCHED), "--trials", "300", "--seed", str(SEED), "--out",
                 str(out), "--json", "--workers", "1"])
    assert code == 0
    return out


@pytest.fixture(scope="module")
def csv_rows(unpatched_csv: Path) -> list[dict[str, str]]:
    with unpatched_csv.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_run_json_report_has_the_documented_keys(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "run", UNPATCHED, "--trials", 200, "--seed", SEED, "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["trials"] == 200
    assert 0 <= report["successes"] <= 200
    assert report["success_rate"] == pytest.approx(report["successes"] / 200)
    low, high = report["ci95"]
    assert isinstance(low, float) and isinstance(high, float)
    assert 0 <= low <= report["success_rate"] <= high <= 1
    assert report["failures"], "the unpatched scenario fails some trials in 200"
    for failure_code, info in report["failures"].items():
        assert failure_code.isdigit()
        assert {"count", "rate", "symbol"} <= set(info)
        assert info["rate"] == pytest.approx(info["count"] / 200)
        assert info["symbol"].startswith("ERROR_")
    assert "53" in report["failures"]
    assert report["failures"]["53"]["symbol"] == "ERROR_BAD_NETPATH"
    assert report["successes"] + sum(f["count"] for f in report["failures"].values()) == 200
    connect = report["connect_time"]
    assert connect["p50"] <= connect["p90"] <= connect["p99"]
    assert report["attempts_mean"] >= 0 and report["dials_mean"] >= 1
    assert report["seed"] == SEED
    assert report["scenario_sha256"] == load_scenario(UNPATCHED).sha256
    assert report["version"] == sim.__version__
    assert err == ""


def test_run_table_output(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "run", UNPATCHED, "--trials", 100, "--seed", SEED)
    assert code == 0
    assert "success rate" in out and "95% CI" in out
    assert "ERROR_BAD_NETPATH" in out
    assert f"rassim replay {UNPATCHED} --seed {SEED} --trial" in out


def test_replay_command_is_never_wrapped(capsys: pytest.CaptureFixture[str],
                                         tmp_path: Path) -> None:
    """A command to copy stays on one line however long the scenario's path is (CI clones
    live in deep directories; piped output is 160 columns wide)."""
    deep = tmp_path / ("very-long-directory-name-" * 6) / "scenarios"
    deep.mkdir(parents=True)
    scenario = deep / UNPATCHED.name
    shutil.copy(UNPATCHED, scenario)
    code, out, _ = run_cli(capsys, "run", scenario, "--trials", 100, "--seed", SEED,
                           "--policy", "pre-fix")
    assert code == 0
    line = next(line for line in out.splitlines() if "rassim replay" in line)
    assert re.search(rf"rassim replay {re.escape(str(scenario))} --seed {SEED} --trial \d+ "
                     r"--policy pre-fix$", line), line


def test_run_json_is_deterministic(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ("run", UNPATCHED, "--trials", 300, "--seed", SEED, "--json")
    first = run_cli(capsys, *argv)
    second = run_cli(capsys, *argv)
    assert first[0] == second[0] == 0
    assert first[1] == second[1]


def test_worker_count_does_not_change_results(capsys: pytest.CaptureFixture[str]) -> None:
    # 1200 trials = 3 chunks of sim.run.runner.CHUNK (500): two workers really split the work.
    argv = ("run", UNPATCHED, "--trials", 1200, "--seed", SEED, "--json")
    one = run_cli(capsys, *argv, "--workers", 1)
    two = run_cli(capsys, *argv, "--workers", 2)
    assert one[0] == two[0] == 0
    assert json.loads(one[1]) == json.loads(two[1])
    assert one[1] == two[1]


def test_the_seed_matters(capsys: pytest.CaptureFixture[str]) -> None:
    a = json.loads(run_cli(capsys, "run", UNPATCHED, "--trials", 200, "--seed", 1, "--json")[1])
    b = json.loads(run_cli(capsys, "run", UNPATCHED, "--trials", 200, "--seed", 2, "--json")[1])
    assert (a["seed"], b["seed"]) == (1, 2)
    assert a["connect_time"] != b["connect_time"]


def test_policy_option_is_recorded(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "run", UNPATCHED, "--trials", 50, "--policy", "connras-fix",
                           "--json")
    assert code == 0
    assert json.loads(out)["policy"]["name"] == "connras-fix"


# --- --out --------------------------------------------------------------------------------
def test_out_csv_has_one_row_per_trial(csv_rows: list[dict[str, str]],
                                       unpatched_csv: Path) -> None:
    path = unpatched_csv
    with path.open(newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle))
    assert tuple(header) == ROW_FIELDS
    assert len(csv_rows) == 300
    assert [int(r["trial"]) for r in csv_rows] == list(range(300))
    assert {r["seed"] for r in csv_rows} == {str(SEED)}
    assert {r["outcome"] for r in csv_rows} == {"connected", "gave_up"}
    assert listing(path.parent) == ["rows.csv", "rows.csv.meta.json"]  # no temporary file left


def test_out_parquet_has_rows_and_provenance(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    out = tmp_path / "rows.parquet"
    code, _, err = run_cli(capsys, "run", ISDN, "--trials", 120, "--seed", SEED, "--out", out,
                           "--json")
    assert code == 0, err
    table = pq.read_table(out)
    assert table.num_rows == 120
    assert tuple(table.schema.names) == ROW_FIELDS
    metadata = table.schema.metadata
    assert b"rassim" in metadata
    provenance = json.loads(metadata[b"rassim"])
    assert provenance["seed"] == SEED
    assert provenance["scenario_sha256"] == load_scenario(ISDN).sha256
    assert provenance["version"] == sim.__version__
    assert listing(tmp_path) == ["rows.parquet"]


def test_out_replaces_an_existing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "rows.csv"
    out.write_text("old contents\n")
    code, _, _ = run_cli(capsys, "run", ISDN, "--trials", 50, "--out", out, "--json")
    assert code == 0
    lines = out.read_text().splitlines()
    assert lines[0] == ",".join(ROW_FIELDS) and len(lines) == 51
    assert listing(tmp_path) == ["rows.csv", "rows.csv.meta.json"]


def test_a_run_that_dies_leaves_no_output_file(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    import sim.run.runner

    real = sim.run.runner.run_trials

    def dies_halfway(*args: object, **kwargs: object) -> object:
        real(*args, **{**kwargs, "trials": 10})  # some rows reach the temporary file
        raise RuntimeError("simulated crash")

    monkeypatch.setattr(sim.run.runner, "run_trials", dies_halfway)
    with pytest.raises(RuntimeError, match="simulated crash"):  # a bug keeps its traceback
        main(["run", str(ISDN), "--trials", "50", "--out", str(tmp_path / "rows.csv"), "--json"])
    assert listing(tmp_path) == []


# --- bad input ----------------------------------------------------------------------------
def _write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def _extends(text: str) -> str:
    return f"extends = {json.dumps(str(UNPATCHED))}\n{text}"


BadCase = Callable[[Path], tuple[list[object], tuple[str, ...]]]


def _missing_file(d: Path):
    f = d / "nope.toml"
    return ["run", f], (str(f), "no such scenario file", "check the path")


def _malformed(d: Path):
    f = _write(d, "broken.toml", 'name = "x"\n[ras\n')
    return ["run", f], (str(f), "not valid TOML", "line 2", "fix the syntax")


def _unknown_key(d: Path):
    f = _write(d, "typo.toml", _extends('[link]\nlatncy = "1s"\n'))
    return ["run", f], (str(f), "line 3", "link.latncy", "unknown key",
                        "remove it or check its spelling")


def _negative_duration(d: Path):
    f = _write(d, "neg.toml", _extends('[ras]\nhangup = "-1s"\n'))
    return ["run", f], (str(f), "line 3", "ras.hangup", "cannot be negative",
                        "remove the minus sign")


def _bare_number(d: Path):
    f = _write(d, "bare.toml", _extends("[netbt]\nname_query_timeout = 3\n"))
    return ["run", f], (str(f), "line 3", "netbt.name_query_timeout", 'write "3s"')


def _bad_distribution(d: Path):
    f = _write(d, "dist.toml", _extends('[link]\nlatency = { dist = "normal", mean = "1s" }\n'))
    return ["run", f], (str(f), "line 3", "link.latency", "unknown distribution",
                        "lognormal")


def _unknown_preset_in_file(d: Path):
    f = _write(d, "preset.toml", _extends('[sender]\npolicy = { preset = "fast" }\n'))
    return ["run", f], (str(f), "sender.policy.preset", "unknown preset 'fast'", *PRESET_NAMES)


def _cycle(d: Path):
    a = _write(d, "a.toml", 'extends = "b.toml"\n')
    _write(d, "b.toml", 'extends = "a.toml"\n')
    return ["run", a], ("cycle", str(a), str(d / "b.toml"), "remove one of these extends")


def _unknown_policy(d: Path):
    return ["run", UNPATCHED, "--policy", "fastest"], (
        "--policy", "unknown preset 'fastest'", *PRESET_NAMES)


def _zero_trials(d: Path):
    return ["run", UNPATCHED, "--trials", 0], ("--trials", "must be between 1 and")


def _negative_seed(d: Path):
    return ["run", UNPATCHED, "--seed", -1], ("--seed", "must be between 0 and")


def _zero_workers(d: Path):
    return ["run", UNPATCHED, "--workers", 0], ("--workers", "must be between 1 and")


def _non_integer_trials(d: Path):
    return ["run", UNPATCHED, "--trials", "ten"], ("--trials", "invalid int value: 'ten'")


def _no_file(d: Path):
    return ["run"], ("the following arguments are required: file",)


def _no_command(d: Path):
    return [], ("required",)


def _non_utf8(d: Path):
    f = d / "latin1.toml"
    f.write_bytes('name = "Montr\xe9al"\n'.encode("latin-1"))
    return ["run", f], (str(f), "not UTF-8", "save the file as UTF-8")


def _directory(d: Path):
    sub = d / "dir.toml"
    sub.mkdir()
    return ["run", sub], (str(sub), "is a directory")


BAD_RUNS: dict[str, BadCase] = {
    "missing file": _missing_file,
    "malformed toml": _malformed,
    "unknown key": _unknown_key,
    "negative duration": _negative_duration,
    "bare number": _bare_number,
    "bad distribution": _bad_distribution,
    "unknown preset in file": _unknown_preset_in_file,
    "extends cycle": _cycle,
    "unknown --policy": _unknown_policy,
    "--trials 0": _zero_trials,
    "--seed -1": _negative_seed,
    "--workers 0": _zero_workers,
    "--trials ten": _non_integer_trials,
    "no file": _no_file,
    "no command": _no_command,
    "non-utf8": _non_utf8,
    "directory": _directory,
}


@pytest.mark.parametrize("case", list(BAD_RUNS))
def test_bad_input_exits_2_with_one_message_and_no_output(
        case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inputs, outputs = tmp_path / "in", tmp_path / "out"
    inputs.mkdir()
    outputs.mkdir()
    argv, fragments = BAD_RUNS[case](inputs)
    if argv and argv[0] == "run":
        argv = [*argv, "--out", outputs / "rows.csv"]
    code, out, err = run_cli(capsys, *argv)
    assert_bad_input(code, err, *fragments)
    assert out == ""
    assert listing(outputs) == []


@pytest.mark.parametrize(
    ("out_name", "fragments"),
    [
        ("missing-dir/rows.csv", ("--out", "missing-dir", "does not exist", "create it first")),
        ("rows.txt", ("--out", "rows.txt", "'.txt'", "end the name in .csv or .parquet")),
        ("rows", ("--out", "'(none)'", ".csv or .parquet")),
        ("a-dir.csv", ("--out", "is a directory", "give a file name")),
    ],
)
def test_bad_out_path(out_name: str, fragments: tuple[str, ...], tmp_path: Path,
                      capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a-dir.csv").mkdir()
    before = listing(tmp_path)
    code, out, err = run_cli(capsys, "run", ISDN, "--trials", 50, "--out", tmp_path / out_name)
    assert_bad_input(code, err, *fragments)
    assert out == ""
    assert listing(tmp_path) == before
    assert not (tmp_path / "missing-dir").exists()


def test_out_into_a_read_only_directory(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip("chmod does not stop this user (root) from writing")
        code, out, err = run_cli(capsys, "run", ISDN, "--trials", 50, "--out",
                                 locked / "rows.csv")
        assert_bad_input(code, err, "--out", str(locked), "not writable", "choose another path")
        assert listing(locked) == []
    finally:
        locked.chmod(0o755)


def test_out_into_an_unwritable_directory_as_any_user(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    # The same check when chmod cannot be made to bite (root): deny it at os.access.
    import sim.report.atomic

    locked = tmp_path / "locked"
    locked.mkdir()
    real_access = os.access
    monkeypatch.setattr(sim.report.atomic.os, "access",
                        lambda p, mode: False if Path(p) == locked else real_access(p, mode))
    code, out, err = run_cli(capsys, "run", ISDN, "--trials", 50, "--out", locked / "rows.csv")
    assert_bad_input(code, err, "--out", str(locked), "not writable", "choose another path")
    assert listing(locked) == []


def test_bad_scenario_and_good_out_leaves_an_existing_file_alone(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "rows.csv"
    out.write_text("precious\n")
    bad = _write(tmp_path, "bad.toml", _extends('[ras]\nhangup = "-1s"\n'))
    code, _, err = run_cli(capsys, "run", bad, "--out", out)
    assert_bad_input(code, err, "ras.hangup")
    assert out.read_text() == "precious\n"
    assert listing(tmp_path) == ["bad.toml", "rows.csv"]


# --- replay -------------------------------------------------------------------------------
_VERDICT = re.compile(
    r"^(?P<name>\S+) · policy (?P<policy>\S+) · seed (?P<seed>\d+) · trial (?P<trial>\d+): "
    r"(?:connected|gave up \((?P<reason>\w+)\) with (?P<code>\d+) (?P<symbol>\w+)) "
    r"at (?P<end>[0-9.]+)s; attempts (?P<attempts>\d+), dials (?P<dials>\d+), "
    r"line time (?P<line>[0-9.]+)s"
)


def _first(rows: list[dict[str, str]], **match: str) -> dict[str, str]:
    return next(r for r in rows if all(r[k] == v for k, v in match.items()))


@pytest.mark.parametrize("outcome", ["connected", "gave_up"])
def test_replay_is_repeatable_and_matches_the_csv_row(
        outcome: str, csv_rows: list[dict[str, str]], capsys: pytest.CaptureFixture[str]) -> None:
    row = _first(csv_rows, outcome=outcome)
    argv = ("replay", UNPATCHED, "--seed", SEED, "--trial", row["trial"])
    first, second = run_cli(capsys, *argv), run_cli(capsys, *argv)
    assert first == second
    code, out, err = first
    assert code == 0 and err == ""
    verdict = _VERDICT.match(out.splitlines()[0])
    assert verdict, out.splitlines()[0]
    assert (verdict["seed"], verdict["trial"]) == (str(SEED), row["trial"])
    assert verdict["end"] == f"{float(row['end_time']):.3f}"
    assert verdict["line"] == f"{float(row['line_time']):.3f}"
    assert (verdict["attempts"], verdict["dials"]) == (row["attempts"], row["dials"])
    if outcome == "connected":
        assert verdict["code"] is None
    else:
        assert (verdict["code"], verdict["reason"]) == (row["code"], row["reason"])
    assert len(out.splitlines()) > 5  # the timeline follows


def test_replay_log_format_shows_the_sender_log_line_for_53(
        csv_rows: list[dict[str, str]], capsys: pytest.CaptureFixture[str]) -> None:
    row = _first(csv_rows, outcome="gave_up", code="53")
    code, out, _ = run_cli(capsys, "replay", UNPATCHED, "--seed", SEED, "--trial", row["trial"],
                           "--format", "log")
    assert code == 0
    assert r"Error during WNetAddConnection2 to \\DSSMS\SMS_SITE (53)." in out


def test_replay_jsonl_lines_all_parse(csv_rows: list[dict[str, str]],
                                      capsys: pytest.CaptureFixture[str]) -> None:
    row = _first(csv_rows, outcome="gave_up", code="53")
    code, out, _ = run_cli(capsys, "replay", UNPATCHED, "--seed", SEED, "--trial", row["trial"],
                           "--format", "jsonl")
    assert code == 0
    lines = out.splitlines()
    assert len(lines) > 5
    events = [json.loads(line) for line in lines]
    assert all(isinstance(e, dict) for e in events)
    times = [e["t"] for e in events]
    assert times == sorted(times)


@pytest.mark.parametrize(
    ("argv", "fragments"),
    [
        (["replay", UNPATCHED], ("--trial",)),
        (["replay", UNPATCHED, "--trial", -1], ("--trial", "must be between 0 and")),
        (["replay", UNPATCHED, "--trial", 0, "--seed", -5], ("--seed", "must be between 0")),
        (["replay", UNPATCHED, "--trial", 0, "--format", "xml"], ("--format", "invalid choice")),
        (["replay", UNPATCHED, "--trial", 0, "--policy", "nope"], ("--policy", "pre-fix")),
        (["replay", ROOT / "nope.toml", "--trial", 0], ("nope.toml", "no such scenario file")),
    ],
)
def test_replay_bad_input(argv: list[object], fragments: tuple[str, ...],
                          capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, *argv)
    assert_bad_input(code, err, *fragments)
    assert out == ""


# --- small commands -----------------------------------------------------------------------
def test_explain_a_known_code(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "explain", 53)
    assert code == 0 and err == ""
    assert out.startswith("53 ERROR_BAD_NETPATH")
    assert "The network path was not found." in out


def test_explain_all_codes(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "explain")
    assert code == 0
    assert "ERROR_BAD_NETPATH" in out and "ERROR_SEM_TIMEOUT" in out


def test_explain_an_unknown_code(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "explain", 99999)
    assert_bad_input(code, err, "99999", "not in rassim's catalog", "Known codes: ", "53")
    assert out == ""


def test_explain_known_and_unknown(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "explain", 53, 99999)
    assert_bad_input(code, err, "99999")
    assert "ERROR_BAD_NETPATH" in out and "99999" not in out


def test_schema_prints_valid_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "schema")
    assert code == 0
    schema = json.loads(out)
    assert schema["title"] == "rassim scenario file"
    assert "extends" in schema["properties"]


def test_presets_lists_every_preset(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "presets")
    assert code == 0
    names = [line.split(":", 1)[0] for line in out.splitlines() if not line.startswith(" ")]
    assert set(PRESET_NAMES) <= set(names)
    lines = out.splitlines()
    table = lines[lines.index(next(x for x in lines if x.startswith("connras-fix:"))) + 1]
    # connras-fix's fields, as a scenario table writes them, and they load back as it.
    assert table.strip() == ('{ attempts_per_dial = 4, initial_wait = "5s", '
                             'backoff_base = 1.0, max_wait = "5s" }')
    from sender.policy import PRESETS
    from sim.scenario.policy_text import check_round_trip

    check_round_trip(PRESETS["connras-fix"], table.strip())
    assert "(every field at its default)" in out  # pre-fix is RetryPolicy()
    assert 'defaults: attempts_per_dial = 1, settle = "0s"' in out
    from sender.policy import PRESET_SUMMARIES

    assert set(PRESET_SUMMARIES) == set(PRESETS)  # every preset says what it is


# --- real processes -----------------------------------------------------------------------
def _process(*argv: object, entry: tuple[str, ...] = (sys.executable, "-m", "sim")
             ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*entry, *(str(a) for a in argv)], capture_output=True, text=True,
                          timeout=120, cwd=ROOT)


def test_python_dash_m_sim_runs_and_matches_in_process(
        capsys: pytest.CaptureFixture[str]) -> None:
    argv = ("run", UNPATCHED, "--trials", 150, "--seed", SEED, "--json")
    done = _process(*argv)
    assert done.returncode == 0, done.stderr
    assert done.stdout == run_cli(capsys, *argv)[1]
    report = json.loads(done.stdout)
    for key in ("trials", "successes", "success_rate", "ci95", "failures", "connect_time",
                "attempts_mean", "dials_mean", "seed", "scenario_sha256", "version"):
        assert key in report


def test_rassim_script_works_like_python_dash_m_sim() -> None:
    script = shutil.which("rassim")
    if script is None:
        pytest.skip("the rassim console script is not on PATH")
    for argv in (("explain", 53), ("presets",), ("--version",)):
        assert _process(*argv, entry=(script,)).stdout == _process(*argv).stdout
    assert _process("--version").stdout.strip() == f"rassim {sim.__version__}"


def test_bad_input_in_a_real_process(tmp_path: Path) -> None:
    bad = _write(tmp_path, "neg.toml", _extends('[ras]\nhangup = "-1s"\n'))
    done = _process("run", bad, "--trials", 50, "--out", tmp_path / "rows.csv")
    assert done.returncode == 2
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("rassim: error: ")
    assert done.stderr.count("\n") == 1  # one line
    assert str(bad) in done.stderr and "ras.hangup" in done.stderr
    assert listing(tmp_path) == ["neg.toml"]
