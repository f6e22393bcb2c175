"""``rassim fit`` pieces: Sender.log parsing in both forms, exact censoring bounds from the
NetBT contract, the interval fit, and one clear error per bad input with nothing written."""

from __future__ import annotations

import contextlib
import io
import math
from pathlib import Path

import pytest

from sim.cli import main
from sim.scenario.loader import load_scenario
from sim.studies.fit.censor import allowance, censor
from sim.studies.fit.fit import FitError, fit_lag
from sim.studies.fit.logparse import LogError, parse_log
from tests.helpers.worlds import zero_world

ROOT = Path(__file__).resolve().parents[2]
TRUTH = ROOT / "tests" / "data" / "fit" / "lognormal-lag.toml"
CLOCK = "1999-03-12T10:00:00"


def replay_log(tmp_path: Path, scenario: Path, trials: str, *extra: str,
               name: str = "Sender.log") -> Path:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["replay", str(scenario), "--trials", trials, "--format", "log",
                     *extra]) == 0
    path = tmp_path / name
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def relative(log: Path) -> list[tuple[float, list[tuple[float, float | None, int | None]]]]:
    parsed = parse_log(log)
    return [(round(c.connected_at - c.connected_at, 3),
             [(round(a.start - c.connected_at, 3),
               None if a.end is None else round(a.end - a.start, 3), a.code)
              for a in c.attempts]) for c in parsed.connections]


def test_both_forms_give_the_same_connections(tmp_path: Path) -> None:
    stamped = replay_log(tmp_path, TRUTH, "0-19", "--clock", CLOCK, name="a.log")
    plain = replay_log(tmp_path, TRUTH, "0-19", name="b.log")
    a, b = parse_log(stamped), parse_log(plain)
    assert (a.form, b.form) == ("sms", "rassim")
    assert a.unplaced == b.unplaced == 0
    assert relative(stamped) == relative(plain)
    assert len(a.connections) >= 20 and all(c.attempts for c in a.connections)
    first = a.connections[0]
    assert first.attempts[-1].code == 0  # trial 0 of this world maps the share


def test_sms_stamp_with_bias_and_verbose_stamp(tmp_path: Path) -> None:
    log = tmp_path / "Sender.log"
    log.write_text(
        "Dialing RAS phonebook entry BOSTON #INTER.~  $$<SMS_SNA_RAS_SENDER>"
        "<03-12-1999 10:00:00.000+300><thread=0x1A4>\n"
        "RAS connection to BOSTON #INTER established.~  $$<SMS_SNA_RAS_SENDER>"
        "<03-12-1999 10:00:10.250+300><thread=0x1A4>\n"
        "Trying the No. 1 address (out of 1)~  $$<SMS_SNA_RAS_SENDER>"
        "<03-12-1999 10:00:10.250+300><thread=420 (0x1A4)>\n"
        "Sending file 00001.SRQ~  $$<SMS_SNA_RAS_SENDER><03-12-1999 10:00:11.000+300>"
        "<thread=0x1A4>\n"
        "Connected to \\\\DSSMS\\SMS_SITE.~  $$<SMS_SNA_RAS_SENDER>"
        "<Fri Mar 12 15:00:20.000 1999 Coordinated Universal Time><thread=0x1A4>\n",
        encoding="utf-8")
    parsed = parse_log(log)
    (connection,) = parsed.connections
    attempt = connection.attempts[0]
    # +300 minutes of bias: 10:00 local is 15:00 UTC, the same instant as the last stamp.
    assert attempt.end is not None and attempt.end - attempt.start == pytest.approx(9.75)
    assert parsed.unplaced == 1 and "Sending file" in parsed.unplaced_examples[0]


def test_exact_bounds_with_constant_latency() -> None:
    # Latency 0.5 s, T = 1.5 s, n = 3, no broadcast: every query's round trip (1 s) fits,
    # so k* = 2 and b(s) = s - c + 3.0 + 0.5.
    world = zero_world(**{"link.latency": "0.5s"})
    bounds = allowance(world)
    assert bounds.give_up == 4.5
    assert bounds.boundary(0.0) == 3.5
    assert bounds.boundary(10.0) == 13.5
    # Latency 1 s: query 2's answer would be back at 5.0 > 4.5, so k* = 1, b = s - c + 2.5.
    assert allowance(zero_world(**{"link.latency": "1s"})).boundary(0.0) == 2.5
    # Latency 2.5 s: no round trip fits the 4.5 s window; failures bound nothing.
    assert allowance(zero_world(**{"link.latency": "2.5s"})).boundary(0.0) is None


ZERO_WORLD = """
name = "zero-latency-half-second"
[sender.policy]
preset = "connras-fix"
attempts_per_dial = 4
initial_wait = "5.5s"
max_wait = "5.5s"
backoff_base = 1.0
[ras]
connect = "0s"
authenticate = "0s"
project = "0s"
hangup = "0s"
connect_failure = {{ rate = 0.0 }}
[link]
latency = "0.5s"
warmup = {{ factor = 1.0 }}
[name_path]
lag = "{lag}"
[netbt]
broadcast_fallback = false
[smb]
server_think = "0s"
"""


# The sna profile's 9600 bps: a 78-byte query takes 0.065 s to send, so query 2 arrives at
# s + 3.0 + 0.5 + 0.065 (and its answer, 0.575 s later, is back before s + 4.5).
B = 3.565


@pytest.mark.parametrize(("lag", "expected"), [
    ("2s", (0.0, B)),              # the first map (at Connected) resolves
    ("5s", (B, 10 + B)),           # fails at 4.5 s, waits 5.5 s, the map at 10 s resolves
    ("14s", (10 + B, 20 + B)),
])
def test_censoring_brackets_a_known_lag(tmp_path: Path, lag: str,
                                         expected: tuple[float, float]) -> None:
    scenario = tmp_path / "world.toml"
    scenario.write_text(ZERO_WORLD.format(lag=lag), encoding="utf-8")
    log = replay_log(tmp_path, scenario, "0-2", "--clock", CLOCK)
    result = censor(parse_log(log).connections, allowance(load_scenario(scenario).scenario))
    assert result.used == 3
    for low, high in zip(result.low, result.high, strict=True):
        assert (low, high) == pytest.approx(expected)


BAD = {
    "other format": ("2024-01-01 INFO started\n", ":1: not a Sender.log line"),
    "truncated": ("Dialing RAS phonebook entry BOSTON #INTER.~  $$<SMS_SNA_RAS_SENDER>"
                  "<03-12-1999 10:00:00.000+000><thread=0x1A4>\n"
                  "RAS connection to BOSTON #INTER established.~  $$<SMS_SNA_RAS_SEN\n",
                  ":2: the line has no complete SMS suffix"),
    "backwards": ("     5.000s  Dialing RAS phonebook entry BOSTON #INTER.\n"
                  "     4.000s  RAS connection to BOSTON #INTER established.\n",
                  ":2: the time goes backwards"),
    "two sites": ("     0.000s  Dialing RAS phonebook entry BOSTON #INTER.\n"
                  "     5.000s  RAS connection to BOSTON #INTER established.\n"
                  "     5.000s  Trying the No. 1 address (out of 1)\n"
                  "     9.000s  Connected to \\\\DSSMS\\SMS_SITE.\n"
                  "    10.000s  Dialing RAS phonebook entry DENVER #INTER.\n",
                  "more than one site (RAS phonebook entries BOSTON #INTER, DENVER #INTER)"),
    "no connection": ("     0.000s  Dialing RAS phonebook entry BOSTON #INTER.\n"
                      "     9.000s  Error during RasDial (629).\n",
                      "no usable connection"),
    "empty": ("\n", "the file is empty"),
    "fleet": ("--- sender 0 (site MS1-0) ---\n", "a fleet's logs"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_logs_exit_2_with_one_line_and_nothing_written(
        tmp_path: Path, case: str, capsys: pytest.CaptureFixture[str]) -> None:
    text, message = BAD[case]
    log = tmp_path / "Sender.log"
    log.write_text(text, encoding="utf-8")
    with pytest.raises(LogError, match=None) as info:
        parse_log(log)
    assert message in str(info.value) and str(log) in str(info.value)
    out = tmp_path / "site.toml"
    assert main(["fit", str(log), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
    assert not out.exists() and list(tmp_path.iterdir()) == [log]


def test_fit_refuses_a_log_where_no_map_ever_resolved() -> None:
    from sim.studies.fit.censor import Censored

    with pytest.raises(FitError, match="no map ever resolved"):
        fit_lag(Censored((3.0, 4.0), (math.inf, math.inf), 0))


def test_fit_command_writes_a_scenario_that_runs(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    log = replay_log(tmp_path, TRUTH, "0-59", "--clock", CLOCK)
    out = tmp_path / "site.toml"
    assert main(["fit", str(log), "--scenario", str(TRUTH), "--out", str(out),
                 "--resamples", "40"]) == 0
    printed = capsys.readouterr().out
    assert "SMS 2.0 (timestamped)" in printed and "every line placed" in printed
    text = out.read_text(encoding="utf-8")
    import hashlib
    assert hashlib.sha256(log.read_bytes()).hexdigest() in text
    assert "connections used" in text and "family chosen by AIC" in text
    loaded = load_scenario(out)
    assert loaded.scenario.name == "fit-truth-lognormal-fitted"
    assert loaded.scenario.sender == load_scenario(TRUTH).scenario.sender  # extends the base
    assert main(["run", str(out), "--trials", "50"]) == 0


def test_fit_options_are_checked_before_work(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "x.log"
    log.write_text("", encoding="utf-8")
    assert main(["fit", str(log), "--out", str(tmp_path / "no" / "site.toml")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["fit", str(log), "--out", str(tmp_path / "s.toml"), "--resamples", "3"]) == 2
    assert "--resamples" in capsys.readouterr().err


def test_missing_extra_gives_the_install_hint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "scipy" else real(name, *a))
    log = tmp_path / "Sender.log"
    log.write_text("     0.000s  Dialing RAS phonebook entry BOSTON #INTER.\n", encoding="utf-8")
    assert main(["fit", str(log), "--out", str(tmp_path / "s.toml")]) == 2
    assert "pip install -e '.[calibrate]'" in capsys.readouterr().err


# --- RAS connection logs, the dial, fault patterns (issue 17, second pass) ------------------
PHASE_WORLD = """
name = "constant-phases"
[sender.policy]
preset = "connras-fix"
[ras]
connect = "4s"
authenticate = "{auth}"
authenticate_timeout = "3s"
project = "1.5s"
connect_failure = {{ rate = 0.0 }}
authenticate_failure = {{ rate = {auth_rate}, codes = [691] }}
[name_path]
lag = "0s"
"""


@pytest.mark.parametrize(("auth", "auth_rate", "expected"), [
    # Every phase completes: its state lines bound it exactly.
    ("2s", 0.0, [("connect", 4.0, 0), ("authenticate", 2.0, 0), ("project", 1.5, 0)]),
    # Authentication fails by its rate at the end of its time.
    ("2s", 1.0, [("connect", 4.0, 0), ("authenticate", 2.0, 691)]),
    # Authentication outlasts its 3 s timer: 718 at the timer.
    ("5s", 0.0, [("connect", 4.0, 0), ("authenticate", 3.0, 718)]),
])
def test_ras_log_states_give_exact_phase_times(tmp_path: Path, auth: str, auth_rate: float,
                                               expected: list[tuple[str, float, int]]) -> None:
    from sim.studies.fit.raslog import parse_ras_log

    scenario = tmp_path / "world.toml"
    scenario.write_text(PHASE_WORLD.format(auth=auth, auth_rate=auth_rate), encoding="utf-8")
    for extra in ((), ("--clock", CLOCK)):
        # replay_log asks for --format log; the later --format raslog wins (argparse).
        log = replay_log(tmp_path, scenario, "0-1", "--format", "raslog", *extra,
                         name="ras.log")
        parsed = parse_ras_log(log)
        assert parsed.unplaced == 0 and parsed.form == ("sms" if extra else "rassim")
        dial = parsed.dials[0]
        got = [(p.name, round((p.end or 0) - p.start, 3), p.code) for p in dial.phases]
        assert got == expected
        assert dial.code == expected[-1][2]


def test_dial_fit_from_ras_log_and_from_sender_log(tmp_path: Path) -> None:
    from sim.studies.fit.dial import fit_ras_dials, fit_sender_dials
    from sim.studies.fit.logparse import Dial
    from sim.studies.fit.raslog import Phase, RasDialRecord

    spec = load_scenario(TRUTH).scenario.ras.model_copy(update={"authenticate_timeout": 3.0})
    dials = []
    for i in range(40):
        t = 100.0 * i
        connect = 2.0 + (i % 7) * 0.5
        phases = [Phase("connect", t, t + connect, 651 if i % 10 == 0 else 0)]
        if i % 10:
            auth = 3.0 if i % 10 == 5 else 1.0 + (i % 3) * 0.25
            phases.append(Phase("authenticate", t + connect, t + connect + auth,
                                718 if i % 10 == 5 else 0))
        dials.append(RasDialRecord(t, phases[-1].end, phases[-1].code, phases))
    dials.append(RasDialRecord(5000.0, 5002.0, 676, []))  # no free port
    fit = fit_ras_dials(dials, spec, resamples=20)
    assert fit.no_port == 1
    assert (fit.rates["connect"].failures, fit.rates["connect"].trials) == (4, 40)
    assert fit.rates["connect"].codes == ((651, 4),)
    # 718 at exactly the 3 s timer: a time-out, right-censored, out of the rate.
    auth = fit.rates["authenticate"]
    assert (auth.failures, auth.trials, auth.timeouts) == (0, 32, 4)
    assert fit.times["authenticate"].censored.kinds() == {"exact": 32, "interval": 0,
                                                          "right": 4, "left": 0}
    assert "project: not fitted" in " ".join(fit.notes)
    # Sender.log alone: one span, failures right-censored, the port refusal left out.
    sender = fit_sender_dials([Dial(d.start, d.end, d.code) for d in dials], spec,
                              resamples=20)
    assert sender.no_port == 1 and sender.rates["dial"].failures == 8
    assert sender.times["dial"].censored.kinds()["right"] == 8
    assert "cannot be separated" in sender.notes[0]


def test_fault_patterns_are_left_out_with_a_count(tmp_path: Path) -> None:
    from sim.studies.fit.faults import screen

    head = ("     0.000s  Dialing RAS phonebook entry BOSTON #INTER.\n"
            "     5.000s  RAS connection to BOSTON #INTER established.\n")

    def attempt(start: float, took: float, code: int) -> str:
        result = ("Connected to \\\\DSSMS\\SMS_SITE." if code == 0 else
                  f"Error during WNetAddConnection2 to \\\\DSSMS\\SMS_SITE ({code}).")
        return (f"{start:10.3f}s  Trying the No. 1 address (out of 1)\n"
                f"{start + took:10.3f}s  {result}\n")

    trials = {
        "clean": attempt(5, 6.75, 53) + attempt(12, 1.0, 0),
        "after": attempt(5, 1.0, 0) + attempt(10, 6.75, 53),
        "tcp": attempt(5, 52.0, 53),
        "link": attempt(5, 3.0, 64),
    }
    text = "".join(f"--- trial {i} ---\n{head}{body}" for i, body in enumerate(trials.values()))
    log = tmp_path / "Sender.log"
    log.write_text(text, encoding="utf-8")
    world = load_scenario(TRUTH).scenario
    bounds = allowance(world)
    assert bounds.give_up == pytest.approx(6.75)  # 3 x 1.5 s WINS + 3 x 0.75 s broadcast
    result = screen(parse_log(log).connections, bounds)
    assert len(result.kept) == 1 and result.kept[0].trial == 0
    assert result.excluded == {"after": 1, "tcp": 1, "link": 1}
    assert "3 connection(s) left out" in result.lines()[0]
    out = tmp_path / "site.toml"
    capture = io.StringIO()
    with contextlib.redirect_stdout(capture):
        code = main(["fit", str(log), "--scenario", str(TRUTH), "--out", str(out),
                     "--resamples", "20"])
    # The one clean connection brackets the lag; the report and the file say what was
    # left out and why.
    assert code == 0
    assert "3 connection(s) left out" in capture.getvalue()
    assert "1 x 53 after the name had resolved" in capture.getvalue()
    text = out.read_text(encoding="utf-8")
    assert "#   3 connection(s) left out of the lag fit" in text
    assert "1 connections used" in text


def test_fit_with_a_ras_log_writes_the_phases(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    world = ROOT / "tests" / "data" / "fit" / "dial-phases.toml"
    log = replay_log(tmp_path, world, "0-79", "--clock", CLOCK)
    ras = replay_log(tmp_path, world, "0-79", "--format", "raslog", "--clock", CLOCK,
                     name="ras.log")
    out = tmp_path / "site.toml"
    assert main(["fit", str(log), "--ras-log", str(ras), "--scenario", str(world), "--out",
                 str(out), "--resamples", "20"]) == 0
    printed = capsys.readouterr().out
    assert "connect failures:" in printed and "no connection shows a fault pattern" in printed
    import hashlib
    text = out.read_text(encoding="utf-8")
    assert hashlib.sha256(ras.read_bytes()).hexdigest() in text
    fitted = load_scenario(out).scenario
    assert fitted.ras.connect.dist == "lognormal"
    assert fitted.ras.connect_failure.rate > 0
    assert set(fitted.ras.connect_failure.codes) <= {629, 651}
    assert main(["run", str(out), "--trials", "30"]) == 0
    # Without the RAS log the dial is reported from Sender.log, not written.
    assert main(["fit", str(log), "--scenario", str(world), "--out", str(out),
                 "--resamples", "20"]) == 0
    assert "NOT written as settings" in out.read_text(encoding="utf-8")
    assert load_scenario(out).scenario.ras == load_scenario(world).scenario.ras


def test_bad_ras_logs_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = replay_log(tmp_path, TRUTH, "0-9")
    ras = tmp_path / "ras.log"
    for text, message in [
        ("     0.000s  RasDial A: RASCS_OpenPort\n     1.000s  RasDial B: RASCS_OpenPort\n",
         "more than one site"),
        ("     0.000s  RasDial A: RASCS_Connected (already connected)\n", "no RasDial in it"),
        ("2024 hello\n", "not a RAS connection log line"),
    ]:
        ras.write_text(text, encoding="utf-8")
        out = tmp_path / "site.toml"
        assert main(["fit", str(log), "--ras-log", str(ras), "--out", str(out)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and message in err[0] and str(ras) in err[0], err
        assert not out.exists()
