"""Fleets: many senders, one RAS server, one SimPy environment per trial.

Timing cases use the zero world (``tests/worlds.py``: every dial phase, message and lag is
0 s), so every time below is a sum of the timers the case sets: ``busy_after`` 2 s, the
policy's redial wait and the fleet's transfer time.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest
import simpy

from sender.policy import RetryPolicy
from sim.cli import main
from sim.draws.streams import UniformStream
from sim.run.runner import run_trials
from sim.scenario.fleet_spec import FleetSpec
from sim.scenario.loader import load_scenario
from sim.scenario.schema import LinkSpec
from sim.stats.fleet_summary import FleetStats, ratio_interval
from sim.stats.summary import Summary
from sim.trial.fleet import arrival_times
from sim.trial.trial import run_trial
from sim.world.board import FaultBoard
from sim.world.link import Channel, Link
from sim.world.trace import NULL_TRACER, Recorder
from tests.helpers.worlds import zero_world

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"

# Redial every 5 s, no backoff, no jitter: the schedule is a sum of constants.
EVERY_5S = dict(backoff_base=1.0, redial_wait=5.0, max_wait=5.0)


def one_port_fleet(senders: int, **fleet: object) -> object:
    return zero_world(**{"ras.ports": 1, "fleet": {"senders": senders, "transfer": "10s",
                                                   **fleet}})


def sender_events(recorder: Recorder, k: int) -> list[tuple[float, str, str]]:
    return [(e.t, e.source, e.kind) for e in recorder.events if e.get("sender") == k]


# --- exact virtual times ------------------------------------------------------------------
# One port, three senders starting together, each redialing every 5 s after a 2 s busy
# signal. Sender 0 takes the port at 0 and sends until 10. Senders 1 and 2 are refused at
# 0, 7 (5 s after the busy signal at 2) and sender 1 takes the freed port at 14 (index
# order breaks the tie), sending until 24; sender 2 is refused at 14 and 21 and connects
# at 28, sending until 38.
CASES = [
    # max_dials, connected senders, busy signals, dials, makespan, end
    (3, 2, 5, 7, math.nan, 24.0),   # sender 2 gives up after its 3rd refusal, at 16
    (5, 3, 6, 9, 28.0, 38.0),
]


@pytest.mark.parametrize(("max_dials", "connected", "busy", "dials", "makespan", "end"), CASES)
def test_one_port_three_senders_exact_times(max_dials: int, connected: int, busy: int,
                                            dials: int, makespan: float, end: float) -> None:
    policy = RetryPolicy(max_dials=max_dials, **EVERY_5S)
    recorder = Recorder()
    row = run_trial(one_port_fleet(3), policy, seed=1, trial=0, tracer=recorder)
    assert (row.senders, row.senders_connected, row.busy_signals, row.dials) == (
        3, connected, busy, dials)
    assert row.outcome == ("connected" if connected == 3 else "gave_up")
    assert row.end_time == end
    if math.isnan(makespan):
        assert math.isnan(row.connect_time)
        assert (row.code, row.reason) == (676, "dials_exhausted")
    else:
        assert row.connect_time == makespan
    held = 10.0 * connected  # each connected sender holds the one port for its transfer
    assert row.line_time == held
    assert row.port_utilization == held / end
    taken = [(e.t, e.get("sender")) for e in recorder.events if e.kind == "port_taken"]
    assert taken == [(0.0, 0), (14.0, 1), (28.0, 2)][:connected]
    refused = [(e.t, e.get("sender")) for e in recorder.events if e.kind == "no_port"]
    assert refused[:4] == [(0.0, 1), (0.0, 2), (7.0, 1), (7.0, 2)]


def test_private_ports_do_not_collide() -> None:
    """share_ports = false: every sender has a server of its own; nobody is refused."""
    row = run_trial(one_port_fleet(3, share_ports=False), RetryPolicy(**EVERY_5S), 1, 0)
    assert (row.senders_connected, row.busy_signals, row.dials) == (3, 0, 3)
    assert row.connect_time == 0.0 and row.end_time == 10.0
    assert row.port_utilization == 1.0  # three servers of one port, each busy 0-10 s


def test_uniform_arrivals_start_each_sender_at_its_draw() -> None:
    recorder = Recorder()
    scenario = one_port_fleet(4, arrivals="uniform", window="1h", share_ports=False)
    run_trial(scenario, RetryPolicy(), seed=5, trial=3, tracer=recorder)
    firsts = [sender_events(recorder, k)[0][0] for k in range(4)]
    assert all(0 < t < 3600 for t in firsts) and len(set(firsts)) == 4


# --- the shared line ----------------------------------------------------------------------
def test_shared_channel_serialises_messages_first_come_first_served() -> None:
    """800 bps: a 100-byte message takes exactly 1 s on the line."""
    env = simpy.Environment()
    spec = LinkSpec.model_validate({"latency": "0.5s", "rate_bps": 800})
    channel = Channel(800)
    links = [Link(env, spec, _never(), FaultBoard(), NULL_TRACER, channel)
             for _ in range(2)]
    for link in links:
        link.connect(since=0.0)
    arrivals: list[float] = []
    for link in (links[0], links[1], links[0]):
        link.send(100).callbacks.append(lambda _: arrivals.append(env.now))
    env.run()
    # Each leaves when the line is free: at 0, 1 and 2 s; each arrives 1 s + 0.5 s later.
    assert arrivals == [1.5, 2.5, 3.5]


def test_private_links_do_not_queue() -> None:
    env = simpy.Environment()
    spec = LinkSpec.model_validate({"latency": "0.5s", "rate_bps": 800})
    link = Link(env, spec, _never(), FaultBoard(), NULL_TRACER)
    link.connect(since=0.0)
    arrivals: list[float] = []
    for _ in range(2):
        link.send(100).callbacks.append(lambda _: arrivals.append(env.now))
    env.run()
    assert arrivals == [1.5, 1.5]


def _never() -> UniformStream:
    """A stream stand-in for constant distributions, which never draw."""
    class Halves:
        def random(self) -> float:
            return 0.5
    return Halves()


# --- the retry budget ---------------------------------------------------------------------
# All ports are held for the whole trial, so every dial is refused. A budget of 4 tokens
# allows a retry while more than 2 are left.
HELD = [{"kind": "ports_held", "ports": 1, "at": "0s"}]


@pytest.mark.parametrize(("shared", "dials"), [(True, 5), (False, 10)])
def test_budget_shared_by_the_fleet_or_one_each(shared: bool, dials: int) -> None:
    scenario = zero_world(faults=HELD, **{
        "ras.ports": 1, "fleet": {"senders": 5, "shared_budget": shared}})
    policy = RetryPolicy(max_dials=10, budget_tokens=4, budget_ratio=1.0, **EVERY_5S)
    row = run_trial(scenario, policy, seed=1, trial=0)
    # Shared: the five first dials (never throttled) spend 4 tokens; nobody may retry.
    # One each: every sender's first failure leaves 3 (> 2: retry), its second leaves 2.
    assert row.dials == dials
    assert row.reason == "budget" and row.senders_connected == 0


def test_budget_lets_a_fleet_recover_after_the_site_backoff() -> None:
    """Ports held for the first 30 s; a budget of 2 tokens (retry while more than 1 is
    left). Both senders are refused at 0 (busy signals at 2 s spend both tokens), so
    neither may redial after its 5 s wait: at 7 both back off the site for 60 s. At 67
    each makes a new round's first dial, which is never throttled: sender 0 takes the port
    (its success refills 1 token), sender 1 is refused (busy at 69: back to 0 tokens), is
    refused a redial at 74, backs off again and connects at 134, when sender 0 has long
    finished its 10 s send."""
    faults = [{"kind": "ports_held", "ports": 1, "at": "0s", "duration": "30s"}]
    scenario = zero_world(faults=faults, **{
        "ras.ports": 1, "fleet": {"senders": 2, "transfer": "10s"}})
    policy = RetryPolicy(max_dials=10, budget_tokens=2, budget_ratio=1.0, site_backoff=60.0,
                         site_retries=2, **EVERY_5S)
    recorder = Recorder()
    row = run_trial(scenario, policy, seed=1, trial=0, tracer=recorder)
    taken = [(e.t, e.get("sender")) for e in recorder.events if e.kind == "port_taken"]
    assert taken == [(67.0, 0), (134.0, 1)]
    assert (row.senders_connected, row.dials, row.busy_signals) == (2, 5, 3)
    assert row.connect_time == 134.0 and row.end_time == 144.0
    # One site retry fewer, and sender 1 gives up after its second refusal.
    fewer = run_trial(scenario, policy.replace(site_retries=1), seed=1, trial=0)
    assert (fewer.senders_connected, fewer.reason, fewer.dials) == (1, "budget", 4)


# --- seeding and determinism --------------------------------------------------------------
def test_sender_k_draws_do_not_depend_on_the_fleet_size() -> None:
    """Sharing nothing, sender 0 of a fleet of 2 and of 5 lives exactly the same trial: its
    dials, messages, lag and jitter come from its own streams."""
    storm = load_scenario(SCENARIOS / "fleet-retry-storm.toml")
    traces = []
    for senders in (2, 5):
        fleet = storm.scenario.fleet.model_copy(  # type: ignore[union-attr]
            update={"senders": senders, "share_ports": False, "share_link": False})
        scenario = storm.scenario.model_copy(update={"fleet": fleet})
        policy = storm.policy.replace(jitter="full")
        recorder = Recorder()
        run_trial(scenario, policy, seed=11, trial=4, tracer=recorder)
        traces.append([(e.t, e.source, e.kind, e.data) for e in recorder.events
                       if e.get("sender") == 0])
    assert traces[0] == traces[1]


def test_fleet_runs_identically_on_one_or_two_workers() -> None:
    loaded = load_scenario(SCENARIOS / "fleet-retry-storm-decorrelated.toml")
    one = run_trials(loaded.scenario, loaded.policy, trials=120, seed=3, workers=1)
    two = run_trials(loaded.scenario, loaded.policy, trials=120, seed=3, workers=2)
    assert json.dumps(one.summary.to_dict()) == json.dumps(two.summary.to_dict())
    assert one.summary.to_dict()["fleet"]["senders"] == 20


def test_arrival_times() -> None:
    class Fixed:
        def __init__(self) -> None:
            self.values = iter([0.5, 0.0, 0.25])

        def random(self) -> float:
            return next(self.values)

    uniform = FleetSpec(senders=3, arrivals="uniform", window="100s")
    assert arrival_times(uniform, 10.0, Fixed()) == [60.0, 10.0, 35.0]  # type: ignore[arg-type]
    poisson = FleetSpec(senders=3, arrivals="poisson", mean_gap="10s")
    times = arrival_times(poisson, 0.0, Fixed())  # type: ignore[arg-type]
    assert times[0] == pytest.approx(-10 * math.log(0.5)) and times[1] == times[0]
    assert FleetSpec(senders=2).arrivals == "together"


# --- summaries ----------------------------------------------------------------------------
def test_fleet_block_only_for_fleets_and_merges_in_any_order() -> None:
    loaded = load_scenario(SCENARIOS / "fleet-outage-no-budget.toml")
    rows = [run_trial(loaded.scenario, loaded.policy, 2, i) for i in range(12)]
    whole = Summary.of(rows)
    halves = Summary.of(rows[6:]).merge(Summary.of(rows[:6]))
    assert whole.to_dict() == halves.to_dict()
    fleet = whole.to_dict()["fleet"]
    value, low, high = fleet["sender_success_rate"]
    assert value == sum(r.senders_connected for r in rows) / 240
    assert low <= value <= high
    lone = load_scenario(SCENARIOS / "q221951-unpatched.toml")
    assert "fleet" not in Summary.of([run_trial(lone.scenario, lone.policy, 2, 0)]).to_dict()


def test_ratio_interval_never_narrower_than_independent_senders() -> None:
    from sim.stats.intervals import wilson_interval

    # 100 trials of 10 senders, all connected: the cluster variance is 0.
    assert ratio_interval(1000, 1000, 100 * 100, 100 * 100, 100 * 100, 100)[1] == \
        wilson_interval(1000, 1000)[0]
    # Perfectly correlated senders (all or nothing): the interval is as wide as 100 trials'.
    ys = [10] * 50 + [0] * 50
    value, low, high = ratio_interval(sum(ys), 1000, sum(y * y for y in ys), 100 * 100,
                                      sum(10 * y for y in ys), 100)
    assert value == 0.5
    assert high - low == pytest.approx(wilson_interval(50, 100)[1] - wilson_interval(50, 100)[0],
                                       rel=0.02)
    assert FleetStats().to_dict()["sender_success_rate"] == [None, None, None]


# --- bad input ----------------------------------------------------------------------------
@pytest.mark.parametrize(("table", "fragment"), [
    ('senders = 5\narrivals = "uniform"', "window"),
    ('senders = 5\narrivals = "poisson"', "mean_gap"),
    ('senders = 5\nwindow = "1m"', 'arrivals = "uniform" only'),
    ("senders = 0", "fleet.senders"),
    ("senders = 5\nshare_port = true", "share_port"),
    ('senders = 5\ntransfer = "-2m"', "fleet.transfer"),
])
def test_bad_fleet_tables_are_clear_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                           table: str, fragment: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(f"[fleet]\n{table}\n", encoding="utf-8")
    assert main(["run", str(path), "--trials", "5"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("rassim: error:") == 1
    assert str(path) in err and fragment in err, err


def test_predialed_fleet_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[ras]\npredialed = "10m"\n[fleet]\nsenders = 3\n', encoding="utf-8")
    assert main(["run", str(path), "--trials", "5"]) == 2
    assert "predialed" in capsys.readouterr().err


# --- the command line on a fleet ----------------------------------------------------------
STORM = SCENARIOS / "fleet-retry-storm-full-jitter.toml"


def test_run_reports_fleet_metrics(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(STORM), "--trials", "30", "--workers", "1"]) == 0
    out = capsys.readouterr().out
    for text in ("fleet of 20 senders", "of senders connected", "whole fleet connected in",
                 "makespan (trials where all connected)", "work offered per trial",
                 "busy signals", "port utilization"):
        assert text in out, text
    assert main(["run", str(STORM), "--trials", "30", "--json"]) == 0
    fleet = json.loads(capsys.readouterr().out)["fleet"]
    assert set(fleet) == {"senders", "sender_success_rate", "work_mean", "busy_rate",
                          "busy_signals_mean", "port_utilization"}


def test_run_of_a_fleet_is_deterministic_across_processes(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(STORM), "--check-determinism", "--trials", "6"]) == 0
    assert "deterministic: 6 trials" in capsys.readouterr().out


def test_replay_tags_each_sender(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", str(STORM), "--trial", "0"]) == 0
    out = capsys.readouterr().out
    assert "of 20 senders connected" in out.splitlines()[0]
    assert re.search(r"^\s+0\.000s  s0 +sender +Dial", out, re.M)
    assert re.search(r"^\s+[\d.]+s  s19 +sender", out, re.M)
    assert main(["replay", str(STORM), "--trial", "0", "--format", "log"]) == 0
    log = capsys.readouterr().out
    assert log.count("--- sender ") == 20 and "(site MS1-19)" in log


def test_sweep_shows_fleet_columns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    grid = tmp_path / "grid.toml"
    grid.write_text('baseline = "connras-fix jitter=none"\n[base]\npreset = "connras-fix"\n'
                    'max_dials = 40\nredial_wait = "30s"\nmax_wait = "5m"\n'
                    '[vary]\njitter = ["none", "decorrelated"]\n', encoding="utf-8")
    assert main(["sweep", str(STORM), "--grid", str(grid), "--trials", "20",
                 "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert "senders ok" in out and "work" in out and "A fleet of 20 senders" in out
    assert "Δ work [95% CI]" in out and "Δ makespan s [95% CI]" in out
    decorrelated = next(line for line in out.splitlines()
                        if line.startswith("connras-fix jitter=decorrelated"))
    # Paired trial by trial: both differences come with an interval.
    assert re.search(r"[+-][\d.]+ \[[+-][\d.]+, [+-][\d.]+\] +[+-]\d+ \[[+-]\d+, [+-]\d+\]$",
                     decorrelated), decorrelated
    assert main(["sweep", str(STORM), "--grid", str(grid), "--trials", "20", "--json"]) == 0
    rows = {r["policy"]: r for r in json.loads(capsys.readouterr().out)["policies"]}
    row = rows["connras-fix jitter=decorrelated"]
    assert row["work_diff_low"] <= row["work_diff"] <= row["work_diff_high"]
    assert row["connect_pairs"] <= 20
