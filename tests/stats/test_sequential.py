"""``sim.stats.sequential``: requirements, the Bonferroni look level, and verdicts."""

from __future__ import annotations

from statistics import NormalDist

import pytest

from sim.stats.intervals import Z95
from sim.stats.sequential import Decision, Requirement, look_z
from sim.stats.summary import Summary
from sim.trial.results import TrialResult


def _rows(successes: int, n: int) -> list[TrialResult]:
    return [TrialResult(trial=i, seed=1, outcome="connected" if i < successes else "gave_up",
                        code=0 if i < successes else 53,
                        reason="connected" if i < successes else "dials_exhausted",
                        attempts=1, dials=1, connect_time=10.0 if i < successes
                        else float("nan"), end_time=10.0, line_time=10.0,
                        codes=() if i < successes else (53,), faults=()) for i in range(n)]


def test_parse_reads_any_expect_statistic() -> None:
    assert Requirement.parse("success_rate >= 0.999").bound.value == 0.999
    assert Requirement.parse("rate_53 <= 1%").bound.value == 0.01
    assert Requirement.parse("p95_connect_time <= 1m").bound.value == 60.0


@pytest.mark.parametrize("text, message", [
    ("success_rate", "write a statistic, a comparison and a value"),
    ("sucess_rate >= 0.9", "unknown statistic 'sucess_rate'"),
    ("success_rate = 0.9", "cannot demonstrate equality"),
    ("success_rate >= 2", "a rate is a fraction"),
])
def test_parse_errors_say_what_to_write(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Requirement.parse(text)


def test_one_look_is_the_plain_95_percent_interval_and_more_looks_widen_it() -> None:
    assert look_z(1) == pytest.approx(Z95, abs=1e-12)
    assert look_z(8) == pytest.approx(NormalDist().inv_cdf(1 - 0.05 / 16))
    assert look_z(8) > look_z(4) > look_z(1)


@pytest.mark.parametrize("successes, n, verdict", [
    (910, 1000, "fails"),  # interval wholly below 99.9%
    (1000, 1000, "undecided"),  # 1,000 perfect trials cannot show 99.9% at z = 2.73
    (8000, 8000, "meets"),
    (7990, 8000, "undecided"),  # 99.875%: straddles
])
def test_verdicts(successes: int, n: int, verdict: str) -> None:
    require = Requirement.parse("success_rate >= 0.999")
    decision = Decision.judge(require, Summary.of(_rows(successes, n)), look_z(8))
    assert decision.verdict == verdict and decision.trials == n
