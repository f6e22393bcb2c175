"""Where the model and the real stack differ, measured (marker ``real``; README, model section).

1. A link that drops silently in the middle of the SMB exchanges: the model says 64 for any
   drop. On the real stack with the wire's resets (NT's RAS hang-up tore the route down, the
   redirector saw a reset) it is 64 too; with a SILENT drop (``reset_on_down=False``,
   test-only) a drop that outlasts SessTimeOut gives 121, and a short one is ridden out by
   TCP's retransmissions and the map succeeds.
2. Time to connect: the real client makes five request/response exchanges where the model
   has four (NTLMSSP's session setup takes two), counted by the wire's counters.
"""

from __future__ import annotations

from pathlib import Path

from sim.real.bed import Testbed
from sim.real.run import run_real
from sim.scenario.loader import load_scenario
from sim.trial.trial import run_trial
from tests.helpers.real import NEEDS_TESTBED

ROOT = Path(__file__).resolve().parents[2]
TRIALS = 2


pytestmark = NEEDS_TESTBED


def test_a_silent_drop_mid_session_gives_121_or_recovers_where_the_model_says_64() -> None:
    loaded = load_scenario(ROOT / "tests" / "data" / "real" / "outage-mid-session.toml")
    long_outage, policy = loaded.scenario, loaded.policy
    fault = long_outage.faults[0]
    short = type(fault).model_validate({"name": fault.name, "kind": fault.kind,
                                        "at": fault.at, "duration": "8s"})
    short_outage = long_outage.model_copy(update={"faults": [short]})
    codes = {}
    with Testbed(long_outage.sender.server, long_outage.sender.share) as bed:
        for label, scenario, resets in (("reset, 60 s", long_outage, True),
                                        ("silent, 60 s", long_outage, False),
                                        ("silent, 8 s", short_outage, False)):
            sim = [run_trial(scenario, policy, scenario.seed, i).code for i in range(TRIALS)]
            assert sim == [64] * TRIALS, (label, sim)  # the model: a drop is a 64
            run = run_real(scenario, policy, trials=TRIALS, seed=scenario.seed, scale=10,
                           bed=bed, wire_options={"reset_on_down": resets})
            assert run.stopped is None and not any(r.error for r in run.rows)
            codes[label] = [r.code for r in run.rows]
    assert codes == {"reset, 60 s": [64] * TRIALS,      # NT's behaviour: the model's 64
                     "silent, 60 s": [121] * TRIALS,    # SessTimeOut expires first
                     "silent, 8 s": [0] * TRIALS}, codes  # TCP retransmits past the outage


def test_a_real_connection_makes_five_exchanges_where_the_model_makes_four() -> None:
    loaded = load_scenario(ROOT / "scenarios" / "real" / "q221951-unpatched.toml")
    scenario, policy = loaded.scenario, loaded.policy
    trial = 1  # connects at the first map in the model (a single connection, one session)
    sim = run_trial(scenario, policy, scenario.seed, trial)
    assert (sim.outcome, sim.attempts) == ("connected", 1)
    with Testbed(scenario.sender.server, scenario.sender.share) as bed:
        run = run_real(scenario, policy, trials=1, seed=scenario.seed, scale=10, bed=bed,
                       first=trial)
        user = bed.user  # its length varies with the process id: 2 bytes a character
    (row,) = run.rows
    assert (row.outcome, row.attempts) == ("connected", 1)
    counters = run.counters
    # NetBIOS session request, negotiate, session setup (NTLMSSP negotiate), session setup
    # (NTLMSSP authenticate), tree connect: five requests, five answers.
    assert (counters["tcp_data_to_server"], counters["tcp_data_to_client"]) == (5, 5)
    # The README quotes these payload sizes (pysmb 1.2 against Samba 4.17) for a 9-character
    # user name, which session setup carries in UTF-16.
    assert (counters["tcp_bytes_to_server"] - 2 * (len(user) - 9),
            counters["tcp_bytes_to_client"]) == (690, 647)
    assert row.connect_time > sim.connect_time  # the fifth exchange and the bytes cost time
