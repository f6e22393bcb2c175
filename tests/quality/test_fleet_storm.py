"""The fleet scenarios' claims, measured with fixed seeds (slow: runs in CI).

With the same seed every scenario below faces the same world draws trial by trial (the
senders' streams do not depend on the policy: ``sim.trial.fleet`` rule 2), so the comparisons
are paired. Tolerances: each effect must be at least the stated size, well inside what
2,000 trials measured (the numbers in the scenario headers); and each header's numbers
must be within 5% of what 400 trials give.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from sim.run.runner import run_trials
from sim.scenario.loader import load_scenario

pytestmark = pytest.mark.slow

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
TRIALS, SEED = 400, 221951


@cache
def measured(name: str) -> dict[str, Any]:
    loaded = load_scenario(SCENARIOS / f"{name}.toml")
    result = run_trials(loaded.scenario, loaded.policy, trials=TRIALS, seed=SEED, workers=2)
    return result.summary.to_dict()


def makespan(name: str) -> float:
    return float(measured(name)["connect_time"]["p50"])


def work(name: str) -> list[float]:
    return list(measured(name)["fleet"]["work_mean"])


def test_without_jitter_the_fleet_storms() -> None:
    storm = measured("fleet-retry-storm")
    assert storm["success_rate"] == 1.0  # everybody gets through, eventually
    assert storm["fleet"]["busy_rate"][0] > 0.7  # most dials hit a busy server
    assert storm["fleet"]["port_utilization"][0] < 0.6  # while ports stand idle


def test_decorrelated_jitter_cuts_both_makespan_and_work() -> None:
    assert makespan("fleet-retry-storm-decorrelated") <= 0.8 * makespan("fleet-retry-storm")
    jittered, storm = work("fleet-retry-storm-decorrelated"), work("fleet-retry-storm")
    assert jittered[0] <= 0.95 * storm[0]
    assert jittered[2] < storm[1]  # the 95% intervals do not overlap


def test_full_jitter_cuts_makespan_but_dials_more() -> None:
    assert makespan("fleet-retry-storm-full-jitter") <= 0.8 * makespan("fleet-retry-storm")
    # Full jitter waits half as long on average: the crowd dials more often (the header
    # says so; this keeps the claim honest).
    assert work("fleet-retry-storm-full-jitter")[1] > work("fleet-retry-storm")[2]
    utilization = measured("fleet-retry-storm-full-jitter")["fleet"]["port_utilization"][0]
    assert utilization >= measured("fleet-retry-storm")["fleet"]["port_utilization"][0] + 0.1


def test_full_jitter_at_the_same_average_wait_cuts_both_makespan_and_work() -> None:
    same_mean = "fleet-retry-storm-full-jitter-same-mean"
    assert makespan(same_mean) <= 0.85 * makespan("fleet-retry-storm")
    jittered, storm = work(same_mean), work("fleet-retry-storm")
    assert jittered[0] <= 0.95 * storm[0]
    assert jittered[2] < storm[1]  # the 95% intervals do not overlap


def test_a_shared_budget_and_site_backoff_tame_the_outage() -> None:
    hammer, budget = measured("fleet-outage-no-budget"), measured("fleet-outage-budget")
    assert work("fleet-outage-budget")[0] <= 0.3 * work("fleet-outage-no-budget")[0]
    hammer_ok = hammer["fleet"]["sender_success_rate"]
    budget_ok = budget["fleet"]["sender_success_rate"]
    assert budget_ok[1] >= hammer_ok[2] + 0.1  # at least 10 points more senders get through
    assert budget["success_rate"] >= 0.99 and hammer["success_rate"] <= 0.05


HEADER_NUMBERS = re.compile(r"makespan p50 (?P<makespan>[\d.]+) s.*?"
                            r"work per trial (?P<work>[\d.]+)", re.S)


@pytest.mark.parametrize("name", ["fleet-retry-storm", "fleet-retry-storm-decorrelated",
                                  "fleet-retry-storm-full-jitter",
                                  "fleet-retry-storm-full-jitter-same-mean",
                                  "fleet-outage-no-budget", "fleet-outage-budget"])
def test_scenario_header_states_measured_numbers(name: str) -> None:
    text = (SCENARIOS / f"{name}.toml").read_text(encoding="utf-8")
    header = "\n".join(line for line in text.splitlines() if line.startswith("#"))
    found = HEADER_NUMBERS.search(header)
    assert found, f"{name}: the header does not state its measured makespan and work"
    assert float(found["work"]) == pytest.approx(work(name)[0], rel=0.05)
    assert float(found["makespan"]) == pytest.approx(makespan(name), rel=0.05)
