"""Exact virtual times of the model contract, from tables of hand-computed cases.

Every world here has zero latency and constant distributions unless the case sets them
(``tests/worlds.py``), so each expected time is a sum of timers written next to it. A
regression in a timer, an off-by-one in a retransmission schedule or a tie broken the wrong
way changes a number in these tables.
"""

from __future__ import annotations

from typing import Any

import pytest

from sender.policy import RetryPolicy
from sim.trial.trial import run_trial
from sim.world.trace import Recorder
from tests.helpers.worlds import sender_results, zero_world

# Retry the map at once (no sleep), so attempt k starts when attempt k-1 failed.
RETRY_AT_ONCE = RetryPolicy(attempts_per_dial=5, initial_wait=0.0, max_wait=0.0)
ONE_SHOT = RetryPolicy(attempts_per_dial=1)


def maps(scenario: Any, policy: RetryPolicy = ONE_SHOT) -> list[tuple[float, int]]:
    """(time, code) of each AddConnection result in trial 0."""
    recorder = Recorder()
    run_trial(scenario, policy, seed=1, trial=0, tracer=recorder)
    return [(at, code) for effect, at, code in sender_results(recorder)
            if effect == "AddConnection"]


# --- the design guide's worked example and NetBT name resolution ----------------------------
NETBT_CASES = [
    # (id, overrides, policy, expected [(at, code), ...])
    # Design guide section 2: connected_at 0, lag 5 s, T 1.5 s x 3, no broadcast:
    # attempt at 0 fails with 53 at 4.5; the attempt at 4.5 resolves at 6.0.
    ("guide-example", {"name_path.lag": "5s"}, RETRY_AT_ONCE, [(4.5, 53), (6.0, 0)]),
    # The same with the h-node broadcast fallback: 4.5 + 3 x 0.75 = 6.75, then query 1 of the
    # second attempt (at 6.75 >= 5) is answered at once.
    ("broadcast-fallback", {"name_path.lag": "5s", "netbt.broadcast_fallback": True},
     RETRY_AT_ONCE, [(6.75, 53), (6.75, 0)]),
    # Lag exactly at a query time: a query reaching the far side at the ready time is answered.
    ("query-at-ready-time", {"name_path.lag": "3s"}, ONE_SHOT, [(3.0, 0)]),
    # Lag just after the last query: no query can be answered: 53 at 4.5.
    ("lag-after-last-query", {"name_path.lag": "3.01s"}, ONE_SHOT, [(4.5, 53)]),
    # Other timers: T = 2 s x 4 queries, lag 7 s -> query 4 at 6 s is early: 53 at 8.0.
    ("four-queries", {"name_path.lag": "7s", "netbt.name_query_timeout": "2s",
                      "netbt.name_query_count": 4}, ONE_SHOT, [(8.0, 53)]),
    # One-way latency 1 s, lag 0: WINS answer at 2, SYN-ACK at 4, then four round trips of
    # 2 s (NetBIOS session, negotiate, session setup, tree connect): mapped at 12.
    ("latency-1s", {"link.latency": "1s"}, ONE_SHOT, [(12.0, 0)]),
    # One-way 2 s: WINS answer at 4 (< 4.5). SYN at 4 is retransmitted at RTO 3 s (t = 7),
    # the first SYN-ACK arrives at 8; four round trips of 4 s: mapped at 24.
    ("latency-2s-syn-retransmit", {"link.latency": "2s"}, ONE_SHOT, [(24.0, 0)]),
    # One-way 2.25 s: query 1's answer would arrive at 4.5 exactly: a tie goes to give-up.
    ("answer-at-give-up-is-late", {"link.latency": "2.25s"}, ONE_SHOT, [(4.5, 53)]),
    # One-way 2.5 s: every answer arrives after give-up at 4.5.
    ("latency-2.5s", {"link.latency": "2.5s"}, ONE_SHOT, [(4.5, 53)]),
]


@pytest.mark.parametrize(("overrides", "policy", "expected"),
                         [case[1:] for case in NETBT_CASES], ids=[c[0] for c in NETBT_CASES])
def test_name_resolution_times(overrides: dict[str, Any], policy: RetryPolicy,
                               expected: list[tuple[float, int]]) -> None:
    assert maps(zero_world(**overrides), policy) == expected


def test_cached_name_skips_resolution() -> None:
    # Lag 5 s; the server is paused until 6 s; retries 1 s apart.
    scenario = zero_world(
        faults=[{"kind": "server_paused", "at": "0s", "duration": "6s"}],
        **{"name_path.lag": "5s"},
    )
    recorder = Recorder()
    policy = RetryPolicy(attempts_per_dial=5, initial_wait=1.0, max_wait=1.0, backoff_base=1.0)
    run_trial(scenario, policy, 1, 0, recorder)
    results = [(at, code) for eff, at, code in sender_results(recorder) if eff == "AddConnection"]
    # Attempt 1 at 0: 53 at 4.5. Attempt 2 at 5.5: the first query is answered at once
    # (5.5 >= 5), but the tree connect is refused: 70 at 5.5. Attempt 3 at 6.5: the name
    # comes from the NetBT cache, the server is back: mapped at 6.5.
    assert results == [(4.5, 53), (5.5, 70), (6.5, 0)]
    kinds = [e.kind for e in recorder.events if e.source == "netbt"]
    assert kinds.count("cache_hit") == 1


# --- TCP, NetBIOS session and SMB ---------------------------------------------------------------
SESSION_CASES = [
    # Latency 1 s; resolved at 2.0. An outage from 2.5 s for 100 s loses SYN 1 (sent at 2,
    # arriving at 3) and the retransmissions at 5, 11, 23: give up at 2 + 3+6+12+24 = 47.
    ("tcp-gives-up-after-45s", {"link.latency": "1s"},
     [{"kind": "link_outage", "at": "first_map + 2.5s", "duration": "100s"}], [(47.0, 53)]),
    # NT4 retransmits 3 times; with 2 (W2K/XP) give-up is at 2 + 3+6+12 = 23.
    ("tcp-w2k-retransmissions", {"link.latency": "1s", "tcp.max_connect_retransmissions": 2},
     [{"kind": "link_outage", "at": "first_map + 2.5s", "duration": "100s"}], [(23.0, 53)]),
    # TCP established at 4.0; latency x100 from 3.5 s: the NetBIOS session request sent at 4
    # needs 100 s: SessTimeOut expires at 4 + 45 = 49 -> 121.
    ("session-timeout-121", {"link.latency": "1s"},
     [{"kind": "latency_spike", "at": "first_map + 3.5s", "duration": "1000s", "factor": 100}],
     [(49.0, 121)]),
    # Outage from 4.5 s for 1 s: the session request sent at 4 is in flight: lost, seen at
    # its arrival time 5.0 -> 64.
    ("link-drop-64", {"link.latency": "1s"},
     [{"kind": "link_outage", "at": "first_map + 4.5s", "duration": "1s"}], [(5.0, 64)]),
    # Bad credentials: session setup (sent at 8, reply at 10) -> 1326 at 10.
    ("bad-credentials-1326", {"link.latency": "1s"},
     [{"kind": "bad_credentials", "at": "0s"}], [(10.0, 1326)]),
    # Share missing / server paused: tree connect reply at 12.
    ("share-missing-67", {"link.latency": "1s"}, [{"kind": "share_missing", "at": "0s"}],
     [(12.0, 67)]),
    ("server-paused-70", {"link.latency": "1s"}, [{"kind": "server_paused", "at": "0s"}],
     [(12.0, 70)]),
    # Server think time 0.25 s per SMB-level request (4 of them): mapped at 12 + 1 = 13.
    ("server-think", {"link.latency": "1s", "smb.server_think": "250ms"}, [], [(13.0, 0)]),
    # WINS down for 10 s, retry at once: 53 at 4.5 and 9.0; the third attempt's second
    # query (10.5 >= 10) is answered: mapped at 10.5.
    ("wins-unavailable", {}, [{"kind": "wins_unavailable", "at": "0s", "duration": "10s"}],
     "retry"),
]


@pytest.mark.parametrize(("overrides", "faults", "expected"),
                         [case[1:] for case in SESSION_CASES], ids=[c[0] for c in SESSION_CASES])
def test_session_times(overrides: dict[str, Any], faults: list[dict[str, Any]],
                       expected: Any) -> None:
    scenario = zero_world(faults=faults, **overrides)
    if expected == "retry":
        assert maps(scenario, RETRY_AT_ONCE) == [(4.5, 53), (9.0, 53), (10.5, 0)]
    else:
        assert maps(scenario) == expected


def test_rate_adds_serialisation_time() -> None:
    # 9600 bps, zero latency: each message takes bytes * 8 / 9600 s. Bytes per message are
    # the module constants; the total for one successful map is their sum.
    from sim.world.netbt import NAME_QUERY_BYTES, NAME_RESPONSE_BYTES
    from sim.world.smb import SESSION_STEPS, SYN_BYTES

    total_bytes = NAME_QUERY_BYTES + NAME_RESPONSE_BYTES + 2 * SYN_BYTES + sum(
        req + resp for _, req, resp, _ in SESSION_STEPS)
    [(at, code)] = maps(zero_world(**{"link.rate_bps": 9600}))
    assert code == 0
    assert at == pytest.approx(total_bytes * 8 / 9600, rel=1e-12)


def test_warmup_multiplies_latency() -> None:
    # Latency 1 s x (1 + 2 exp(-age / 10 s)): the WINS query sent at age 0 takes 3 s; its
    # answer, sent at 3 s, takes 1 + 2 exp(-0.3) s -- beyond the 4.5 s give-up: 53 at 4.5.
    # Query 2 (sent at 1.5) takes 1 + 2 exp(-0.15) = 2.7214 s, arrives at 4.2214; its
    # answer needs 1 + 2 exp(-0.42214) s: also after 4.5. Query 3 likewise.
    scenario = zero_world(**{"link.latency": "1s", "link.warmup": {"factor": 3, "decay": "10s"}})
    assert maps(scenario) == [(4.5, 53)]
    # Without warm-up the same link maps at 12 (case latency-1s above).
    assert maps(zero_world(**{"link.latency": "1s"})) == [(12.0, 0)]


# --- RAS dial -----------------------------------------------------------------------------------
def dials(scenario: Any, policy: RetryPolicy = ONE_SHOT) -> list[tuple[str, float, int]]:
    recorder = Recorder()
    run_trial(scenario, policy, seed=1, trial=0, tracer=recorder)
    return sender_results(recorder)


RAS_CASES = [
    # Phases 3 + 2 + 1 s: Connected at 6, mapped at once (zero latency).
    ("phases-sum", {"ras.connect": "3s", "ras.authenticate": "2s", "ras.project": "1s"}, [],
     [("Dial", 6.0, 0), ("AddConnection", 6.0, 0)]),
    # Authentication needing 130 s outlasts AuthenticateTimeout 120 s: 718 at 3 + 120.
    ("authenticate-timeout-718", {"ras.connect": "3s", "ras.authenticate": "130s"}, [],
     [("Dial", 123.0, 718)]),
    # Raising AuthenticateTimeout to 240 s (Q139300) lets it through: 3 + 130 = 133.
    ("authenticate-timeout-240", {"ras.connect": "3s", "ras.authenticate": "130s",
                                  "ras.authenticate_timeout": "240s"}, [],
     [("Dial", 133.0, 0), ("AddConnection", 133.0, 0)]),
    # The device phase always fails with 651: at the end of the phase.
    ("connect-phase-651", {"ras.connect": "3s",
                           "ras.connect_failure": {"rate": 1.0, "codes": [651]}}, [],
     [("Dial", 3.0, 651)]),
    # Other callers hold the only port: busy after busy_after (2 s) -> 676.
    ("no-port-676", {}, [{"kind": "ports_held", "at": "0s", "ports": 1}], [("Dial", 2.0, 676)]),
    ("no-port-633", {"ras.no_port_code": 633},
     [{"kind": "ports_held", "at": "0s", "ports": 1}], [("Dial", 2.0, 633)]),
]


@pytest.mark.parametrize(("overrides", "faults", "expected"),
                         [case[1:] for case in RAS_CASES], ids=[c[0] for c in RAS_CASES])
def test_dial_times(overrides: dict[str, Any], faults: list[dict[str, Any]],
                    expected: list[tuple[str, float, int]]) -> None:
    results = dials(zero_world(faults=faults, **overrides))
    assert results[: len(expected)] == expected


def test_hangup_time_and_line_time() -> None:
    # Dial 6 s, map fails with 53 at 6 + 4.5, hang-up takes 1 s: port held 6 + 4.5 + 1.
    scenario = zero_world(**{"ras.connect": "6s", "name_path.lag": "60s", "ras.hangup": "1s"})
    result = run_trial(scenario, ONE_SHOT, 1, 0)
    assert (result.outcome, result.code, result.end_time) == ("gave_up", 53, 11.5)
    assert result.line_time == 11.5


def test_redial_draws_a_new_lag_and_frees_the_port() -> None:
    # Two dials, 10 s apart; each dial 2 s; lag 60 s (constant) so both maps fail at +4.5.
    policy = RetryPolicy(max_dials=2, redial_wait=10.0, max_wait=10.0)
    scenario = zero_world(**{"ras.connect": "2s", "name_path.lag": "60s", "ras.hangup": "1s"})
    recorder = Recorder()
    result = run_trial(scenario, policy, 1, 0, recorder)
    assert sender_results(recorder) == [
        ("Dial", 2.0, 0), ("AddConnection", 6.5, 53), ("HangUp", 7.5, 0), ("Sleep", 17.5, 0),
        ("Dial", 19.5, 0), ("AddConnection", 24.0, 53), ("HangUp", 25.0, 0),
    ]
    # Port held 0 -> 7.5 and 17.5 -> 25.0.
    assert result.line_time == pytest.approx(15.0, abs=1e-12)


def test_predialed_link_is_past_its_lag() -> None:
    # Dialed by hand 600 s before t = 0, lag 30 s: long ready. The sender's dial finds the
    # connection and returns at 0; the map resolves at once. The port has been held 600 s.
    scenario = zero_world(**{"ras.predialed": "10m", "name_path.lag": "30s",
                             "ras.connect": "5s"})
    result = run_trial(scenario, ONE_SHOT, 1, 0)
    assert (result.outcome, result.connect_time) == ("connected", 0.0)
    assert result.line_time == 600.0


def test_milestone_relative_fault_never_starting_is_not_touched() -> None:
    # The dial always fails, so "connected" never happens and the fault never starts.
    scenario = zero_world(
        faults=[{"name": "late", "kind": "link_outage", "at": "connected + 1s", "duration": "5s"}],
        **{"ras.connect_failure": {"rate": 1.0, "codes": [651]}},
    )
    recorder = Recorder()
    result = run_trial(scenario, ONE_SHOT, 1, 0, recorder)
    assert result.faults == ()
    assert not [e for e in recorder.events if e.source == "fault"]
