"""``rassim check``: one line per expectation, exit codes 0/1/2, and JUnit XML.

The scenarios here are tiny (300 trials of a fast world with 30% dial failures and a name
path that is late in about a third of trials), so each check takes a fraction of a second.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from sim.cli import main
from sim.scenario.loader import load_scenario
from sim.trial.trial import run_trial

# Success ~34%, 53 ~35%, 651 ~31% with seed 7 and 300 trials (see the PASS lines below).
TINY = """name = "{name}"
seed = 7
trials = 300

[ras]
connect = "1s"
authenticate = "0s"
project = "0s"
connect_failure = {{ rate = 0.3, codes = [651] }}

[link]
latency = "10ms"

[name_path]
lag = {{ dist = "uniform", low = "0s", high = "6s" }}

[expect]
{expect}
"""


def tiny(directory: Path, name: str, expect: str) -> Path:
    path = directory / f"{name}.toml"
    path.write_text(TINY.format(name=name, expect=expect), encoding="utf-8")
    return path


def check(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["check", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_all_demonstrated_exits_0_with_one_line_each(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    path = tiny(tmp_path, "tiny-ok", 'success_rate = ">= 0.25"\nrate_53 = [">= 0.2", "<= 0.5"]\n'
                'p90_connect_time = "<= 10s"\ndials_mean = "<= 1"\nline_time_mean = "<= 1m"')
    code, out, _ = check(capsys, str(path))
    assert code == 0
    lines = out.splitlines()
    assert lines[:6] == [
        "PASS tiny-ok success_rate >= 0.25: 0.3367 [0.2856, 0.3919] demonstrated",
        "PASS tiny-ok rate_53 >= 0.2: 0.3467 [0.2951, 0.4022] demonstrated",
        "PASS tiny-ok rate_53 <= 0.5: 0.3467 [0.2951, 0.4022] demonstrated",
        "PASS tiny-ok p90_connect_time <= 10s: 5.34s [5.31s, 5.37s] demonstrated",
        "PASS tiny-ok dials_mean <= 1: 1.000 [1.000, 1.000] demonstrated",
        lines[5],
    ]
    assert re.fullmatch(r"PASS tiny-ok line_time_mean <= 1m: \S+s \[\S+s, \S+s\] demonstrated",
                        lines[5])
    assert re.fullmatch(r"ok: all 6 expectations demonstrated at 95% confidence \(1 scenario "
                        r"file, 300 trials, \d+\.\ds\)", lines[6])
    assert len(lines) == 7


def test_violated_and_straddling_exit_1_and_name_a_trial_to_replay(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tiny(tmp_path, "tiny-bad", 'success_rate = ">= 0.34"\nrate_53 = "<= 0.2"\n'
                'rate_651 = "<= 0.5"')
    code, out, _ = check(capsys, str(path))
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == ("FAIL tiny-bad success_rate >= 0.34: 0.3367 [0.2856, 0.3919] not "
                        "demonstrated (interval straddles the bound)")
    assert lines[1] == ("FAIL tiny-bad rate_53 <= 0.2: 0.3467 [0.2951, 0.4022] violated "
                        "(interval entirely on the wrong side)")
    assert lines[2].startswith("PASS tiny-bad rate_651 <= 0.5: ")
    hint = re.fullmatch(rf"  replay a trial that gave up with 53: rassim replay "
                        rf"{re.escape(str(path))} --seed 7 --trial (\d+)", lines[3])
    assert hint, lines[3]
    assert lines[4].startswith("FAILED: 2 of 3 expectations not demonstrated (1 violated, 1 "
                               "straddling the bound; 1 scenario file, 300 trials, ")
    # The trial named really is the first that gave up with 53.
    loaded = load_scenario(path)
    trial = int(hint.group(1))
    results = [run_trial(loaded.scenario, loaded.policy, 7, i) for i in range(trial + 1)]
    assert results[-1].code == 53 and all(r.code != 53 for r in results[:-1])


def test_expect_trials_and_seed_override_the_scenarios(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tiny(tmp_path, "tiny-small", 'trials = 40\nseed = 3\nsuccess_rate = ">= 0.9"')
    code, out, _ = check(capsys, str(path))
    assert code == 1
    assert "40 trials" in out and "--seed 3 --trial" in out


def test_directories_are_searched_for_files_with_their_own_expect(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tiny(tmp_path, "b-second", 'success_rate = ">= 0.2"')
    nested = tmp_path / "nested"
    nested.mkdir()
    tiny(nested, "a-first", 'rate_651 = "<= 0.5"')
    (tmp_path / "no-expect.toml").write_text('extends = "b-second.toml"\n', encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text("[tool.x]\ny = 1\n", encoding="utf-8")
    hidden = tmp_path / ".hidden"
    hidden.mkdir()
    tiny(hidden, "skipped", 'success_rate = ">= 0.99"')
    code, out, _ = check(capsys, str(tmp_path))
    assert code == 0, out
    names = [line.split()[1] for line in out.splitlines() if line.startswith("PASS")]
    assert names == ["b-second", "a-first"]  # sorted by path; the child without [expect]
    assert "2 scenario files, 600 trials" in out  # and the hidden directory are left out


@pytest.mark.parametrize(("setup", "argv", "message"), [
    (lambda d: None, ["missing.toml"], "missing.toml: no such file or directory"),
    (lambda d: (d / "plain.toml").write_text("[tool]\nx = 1\n"), ["."],
     "no scenario file with an [expect] table under ."),
    (lambda d: tiny(d, "t", 'sucess_rate = ">= 0.9"'), ["t.toml"],
     "t.toml: line 18: expect.sucess_rate: unknown key"),
    (lambda d: (d / "p.toml").write_text('extends = "t.toml"\n')
     and tiny(d, "t", 'success_rate = ">= 0.1"'), ["p.toml"],
     "p.toml: has no [expect] table of its own"),
    (lambda d: tiny(d, "t", 'success_rate = ">= 0.1"'), ["t.toml", "--junit", "nodir/r.xml"],
     "--junit nodir/r.xml: directory nodir does not exist"),
    (lambda d: tiny(d, "t", 'success_rate = ">= 0.1"'), ["t.toml", "--junit", "."],
     "--junit .: is a directory"),
    (lambda d: tiny(d, "t", 'success_rate = ">= 0.1"'), ["t.toml", "--workers", "0"],
     "--workers: must be between 1"),
])
def test_bad_input_exits_2_with_one_message(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch, setup: object,
                                            argv: list[str], message: str) -> None:
    monkeypatch.chdir(tmp_path)
    setup(tmp_path)  # type: ignore[operator]
    code, out, err = check(capsys, *argv)
    assert code == 2
    assert message in err and err.startswith("rassim: error: ") and "Traceback" not in err
    assert "PASS" not in out and "FAIL" not in out  # nothing ran
    assert not list(tmp_path.glob("*.xml"))


def test_a_bad_file_is_reported_before_any_trial_runs(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tiny(tmp_path, "a-good", 'success_rate = ">= 0.1"')
    tiny(tmp_path, "b-bad", 'success_rate = "0.1"')
    code, out, err = check(capsys, str(tmp_path))
    assert code == 2 and out == "" and "b-bad.toml: line 18: expect.success_rate" in err


def test_junit_report_has_one_case_per_expectation(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    good = tiny(tmp_path, "good", 'success_rate = ">= 0.2"\ndials_mean = "<= 1"')
    bad = tiny(tmp_path, "bad", 'rate_53 = "<= 0.2"\nsuccess_rate = ">= 0.34"\n'
               'rate_651 = "<= 0.5"')
    report = tmp_path / "reports" / "check.xml"
    report.parent.mkdir()
    code, out, _ = check(capsys, str(good), str(bad), "--junit", str(report))
    assert code == 1
    assert f"JUnit report written to {report}" in out
    assert [p.name for p in report.parent.iterdir()] == ["check.xml"]  # no temporary left
    root = ET.parse(report).getroot()
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("5", "2", "0")
    suites = root.findall("testsuite")
    assert [(s.get("name"), s.get("tests"), s.get("failures")) for s in suites] == [
        ("good", "2", "0"), ("bad", "3", "2")]
    properties = {p.get("name"): p.get("value") for p in suites[1].iter("property")}
    assert properties["trials"] == "300" and properties["seed"] == "7"
    cases = root.findall("testsuite/testcase")
    assert [(c.get("classname"), c.get("name")) for c in cases] == [
        ("rassim.good", "success_rate >= 0.2"), ("rassim.good", "dials_mean <= 1"),
        ("rassim.bad", "rate_53 <= 0.2"), ("rassim.bad", "success_rate >= 0.34"),
        ("rassim.bad", "rate_651 <= 0.5")]
    failures = {c.get("name"): c.find("failure") for c in cases}
    assert failures["success_rate >= 0.2"] is None and failures["rate_651 <= 0.5"] is None
    violated, straddling = failures["rate_53 <= 0.2"], failures["success_rate >= 0.34"]
    assert violated is not None and violated.get("type") == "violated"
    assert straddling is not None and straddling.get("type") == "not-demonstrated"
    assert violated.get("message", "").startswith("FAIL bad rate_53 <= 0.2: ")
    assert "rassim replay " in (violated.text or "") and "--seed 7 --trial" in (violated.text or "")
    # The same lines as on stdout.
    for case in cases:
        system_out = case.find("system-out")
        assert system_out is not None and system_out.text in out.splitlines()


def test_check_is_deterministic(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tiny(tmp_path, "again", 'success_rate = ">= 0.34"\np50_connect_time = "<= 5s"')
    first = check(capsys, str(path), "--workers", "1")
    second = check(capsys, str(path), "--workers", "2")

    def without_time(text: str) -> str:
        return re.sub(r"\d+\.\ds\)", "", text)

    assert first[0] == second[0] == 1
    assert without_time(first[1]) == without_time(second[1])
