"""The validation can fail: a known modelling bug in the testbed is caught (marker ``real``).

``tests/data/real/gate-race.toml`` is a world where the name-path gate decides every trial
(its comments give the arithmetic). The correct wire judges the gate when a packet ARRIVES,
as the model does; ``gate_on_departure=True`` (a test-only argument of ``WireRules``, which
no option of ``rassim real`` reaches) judges it when the packet LEAVES, the bug the
prototype found. The same ten trials, on the same bed, go through both wires and through the
comparison and verdicts ``rassim real`` prints: the correct wire passes, the buggy one is
flagged (McNemar significant, the agreement bound violated), though it runs the same
real daemons.
"""

from __future__ import annotations

from pathlib import Path

from sim.commands.real import _verdicts
from sim.real.bed import Testbed
from sim.real.compare import compare
from sim.real.run import run_real
from sim.scenario.loader import load_scenario
from sim.trial.trial import run_trial
from tests.helpers.real import NEEDS_TESTBED

ROOT = Path(__file__).resolve().parents[2]


pytestmark = NEEDS_TESTBED


def test_the_paired_comparison_flags_a_gate_judged_on_departure() -> None:
    loaded = load_scenario(ROOT / "tests" / "data" / "real" / "gate-race.toml")
    scenario, policy = loaded.scenario, loaded.policy
    expect = scenario.expect_real
    assert expect is not None and expect.trials == 10
    sim = [run_trial(scenario, policy, scenario.seed, i) for i in range(expect.trials)]
    assert all(row.outcome == "connected" for row in sim)  # the model: the gate lets it by
    results = {}
    with Testbed(scenario.sender.server, scenario.sender.share) as bed:
        for bug in (False, True):
            run = run_real(scenario, policy, trials=expect.trials, seed=scenario.seed,
                           scale=10, bed=bed, wire_options={"gate_on_departure": bug})
            assert run.stopped is None
            comparison = compare(sim, run.rows)
            results[bug] = (comparison, _verdicts(expect, comparison), run.counters)
    (correct, correct_verdicts, _), (buggy, buggy_verdicts, counters) = \
        results[False], results[True]
    # The correct wire: every pair agrees, and the agreement bound is demonstrated.
    assert (correct.agree, correct.b, correct.c) == (10, 0, 0)
    assert [v.status for v in correct_verdicts] == ["demonstrated"]
    # The bug: the second query is dropped as it leaves; every trial fails with 53 where
    # the model connects. Paired, that is b = 10, c = 0: McNemar p = 2/1024.
    assert counters["gate_dropped"] >= 20
    assert (buggy.b, buggy.c) == (10, 0)
    assert buggy.mcnemar_p < 0.01
    assert [v.status for v in buggy_verdicts] == ["violated"]
    assert all(r.code == 53 for _, r in buggy.discordant)
