"""Paired statistics of `rassim real` (sim/real/compare.py): exact values by hand."""

from __future__ import annotations

import math

import pytest

from sim.real.compare import compare, mcnemar_exact, newcombe_paired
from sim.real.run import RealRow
from sim.trial.results import TrialResult


def test_mcnemar_exact_matches_the_binomial_by_hand() -> None:
    assert mcnemar_exact(0, 0) == 1.0
    assert mcnemar_exact(0, 4) == pytest.approx(2 / 16)  # the prototype's 4 discordant pairs
    assert mcnemar_exact(1, 5) == pytest.approx(2 * (1 + 6) / 64)
    assert mcnemar_exact(0, 21) == pytest.approx(2 / 2**21)


def test_newcombe_paired_contains_the_difference_and_is_symmetric() -> None:
    d, low, high = newcombe_paired(40, 5, 1, 54)
    assert d == pytest.approx(0.04)
    assert low < 0.04 < high
    d2, low2, high2 = newcombe_paired(40, 1, 5, 54)
    assert (d2, low2, high2) == pytest.approx((-d, -high, -low))
    # No discordant pair: narrow (the pairs agree) but never of zero width.
    _, low3, high3 = newcombe_paired(50, 0, 0, 50)
    assert low3 < 0 < high3 and high3 - low3 < 0.1
    # No pair at all: nothing is known.
    assert newcombe_paired(0, 0, 0, 0) == (0.0, -1.0, 1.0)


def _sim(trial: int, code: int, connect: float = math.nan) -> TrialResult:
    ok = code == 0
    return TrialResult(trial=trial, seed=1, outcome="connected" if ok else "gave_up", code=code,
                       reason="connected" if ok else "dials_exhausted", attempts=1, dials=1,
                       connect_time=connect, end_time=0.0, line_time=0.0,
                       codes=() if ok else (code,), faults=(), senders=1,
                       senders_connected=int(ok), busy_signals=0, port_utilization=0.0)


def _real(trial: int, code: int, connect: float = math.nan, error: str | None = None) -> RealRow:
    ok = code == 0
    return RealRow(trial, "connected" if ok else "gave_up", code, "", 1, 1, connect, 0.0,
                   () if ok else (code,), (), (1.0,), (10.0,), 0.5, error)


def test_compare_counts_pairs_both_ways() -> None:
    sim = [_sim(0, 0, 20.0), _sim(1, 53), _sim(2, 0, 22.0), _sim(3, 53), _sim(4, 67)]
    real = [_real(0, 0, 22.5), _real(1, 0, 30.0), _real(2, 53), _real(3, 53), _real(4, 64),
            _real(5, 0, 1.0, error="odd")]
    sim.append(_sim(5, 0, 1.0))
    c = compare(sim, real)
    assert (c.n, c.agree, c.b, c.c, c.d, c.errors) == (5, 2, 1, 1, 1, 1)
    assert [t.trial for _, t in c.discordant] == [1, 2, 4]
    assert (c.connect_n, c.connect_mean) == (1, 2.5)
    success = next(r for r in c.rates if r.key == "success")
    assert (success.sim, success.real, success.b, success.c) == (2, 2, 1, 1)
