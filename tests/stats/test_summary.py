"""Tests for sim.stats.summary: Wilson intervals, the quantile sketch, and order-free merging."""

from __future__ import annotations

import json
import math
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.stats.intervals import wilson_interval
from sim.stats.summary import GAMMA, MIN_VALUE, QuantileSketch, Summary
from sim.trial.results import TrialResult

# --- Wilson interval -----------------------------------------------------------------------

# References: closed-form Wilson score bounds with z = 1.959963984540054 (as computed by
# statsmodels' proportion_confint(method="wilson")), rounded to 4 dp.
WILSON_CASES = [
    # successes, n, low, high
    (0, 10, 0.0, 0.2775),
    (5, 10, 0.2366, 0.7634),
    (10, 10, 0.7225, 1.0),
    (1, 10, 0.0179, 0.4042),
    (81, 263, 0.2553, 0.3662),
    (50, 100, 0.4038, 0.5962),
]


@pytest.mark.parametrize(("successes", "n", "low", "high"), WILSON_CASES)
def test_wilson_reference_values(successes: int, n: int, low: float, high: float) -> None:
    got = wilson_interval(successes, n)
    assert got == pytest.approx((low, high), abs=5e-5)


def test_wilson_zero_of_ten_upper_bound_closed_form() -> None:
    # For s = 0 the upper bound is z^2 / (n + z^2).
    z2 = 1.959963984540054**2
    assert wilson_interval(0, 10)[1] == pytest.approx(z2 / (10 + z2), rel=1e-12)
    assert wilson_interval(0, 10)[1] == pytest.approx(0.27753, abs=1e-5)


def test_wilson_edges_are_exact() -> None:
    assert wilson_interval(0, 0) == (0.0, 1.0)
    for n in (1, 7, 1000, 10**9):
        assert wilson_interval(0, n)[0] == 0.0
        assert wilson_interval(n, n)[1] == 1.0


@given(st.integers(1, 10**7).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_brackets_the_proportion(sn: tuple[int, int]) -> None:
    s, n = sn
    low, high = wilson_interval(s, n)
    assert 0.0 <= low <= s / n <= high <= 1.0


@pytest.mark.parametrize(("s", "n"), [(-1, 5), (6, 5), (0, -1)])
def test_wilson_rejects_bad_counts(s: int, n: int) -> None:
    with pytest.raises(ValueError):
        wilson_interval(s, n)


# --- QuantileSketch ------------------------------------------------------------------------

QS = (0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99)


@pytest.fixture(scope="module")
def lognormal() -> np.ndarray:
    return np.random.default_rng(20240611).lognormal(mean=1.0, sigma=1.5, size=100_000)


@pytest.fixture(scope="module")
def lognormal_sketch(lognormal: np.ndarray) -> QuantileSketch:
    sketch = QuantileSketch()
    for x in lognormal.tolist():
        sketch.add(x)
    return sketch


def test_sketch_matches_numpy_quantile(lognormal: np.ndarray,
                                       lognormal_sketch: QuantileSketch) -> None:
    for q in QS:
        expected = float(np.quantile(lognormal, q))
        assert lognormal_sketch.quantile(q) == pytest.approx(expected, rel=0.01), q


def test_sketch_relative_error_bound_against_exact_rank(lognormal: np.ndarray,
                                                        lognormal_sketch: QuantileSketch) -> None:
    # Against the value at the sketch's own rank definition the bound is the design's 0.5%.
    ordered = np.sort(lognormal)
    n = len(ordered)
    for q in (0.0, *QS, 1.0):
        exact = ordered[max(1, math.ceil(q * n)) - 1]
        assert abs(lognormal_sketch.quantile(q) - exact) <= 0.005 * exact * (1 + 1e-9), q


def test_sketch_memory_is_bounded_by_log_range(lognormal: np.ndarray,
                                               lognormal_sketch: QuantileSketch) -> None:
    assert lognormal_sketch.count == 100_000
    span = math.log(lognormal.max() / lognormal.min()) / math.log(GAMMA)
    assert len(lognormal_sketch.buckets) <= span + 2


def test_sketch_merge_equals_sketch_of_union(lognormal: np.ndarray) -> None:
    values = lognormal[:20_000].tolist() + [0.0, 1e-9, 5e-7]
    whole = QuantileSketch()
    for x in values:
        whole.add(x)
    parts = [QuantileSketch() for _ in range(3)]
    for k, x in enumerate(values):
        parts[k % 3].add(x)
    merged = QuantileSketch().merge(parts[2]).merge(parts[0]).merge(parts[1])
    assert merged.buckets == whole.buckets
    assert merged == whole
    assert merged.zero_count == 3


def test_sketch_small_cases() -> None:
    sketch = QuantileSketch()
    assert math.isnan(sketch.quantile(0.5))
    sketch.add(MIN_VALUE / 2)
    assert sketch.quantile(0.0) == 0.0
    for x in (1.0, 2.0, 3.0, 4.0):
        sketch.add(x)
    # Ranks are ceil(q * 5): q=0 -> the zero bucket, 0.5 -> 3rd value (2.0), 1 -> 4.0.
    assert sketch.quantile(0.0) == 0.0
    assert sketch.quantile(0.5) == pytest.approx(2.0, rel=0.005)
    assert sketch.quantile(1.0) == pytest.approx(4.0, rel=0.005)
    # 0.6 * 5 is 3.0000000000000004 in floats; the rank is still 3, not 4.
    assert sketch.quantile(0.6) == sketch.quantile(0.5)


def test_sketch_reads_values_and_bucket_edges_by_rank() -> None:
    sketch = QuantileSketch()
    for x in (MIN_VALUE / 2, 1.0, 2.0, 3.0, 4.0):
        sketch.add(x)
    assert sketch.value_at_rank(1) == 0.0 and sketch.bounds_at_rank(1) == (0.0, MIN_VALUE)
    for rank, exact in ((2, 1.0), (3, 2.0), (5, 4.0)):
        low, high = sketch.bounds_at_rank(rank)
        assert low <= exact <= high and high / low == pytest.approx(GAMMA)
        assert low <= sketch.value_at_rank(rank) <= high
        assert sketch.value_at_rank(rank) == pytest.approx(exact, rel=0.005)
    assert sketch.value_at_rank(3) == sketch.quantile(0.5)
    for bad in (0, 6):
        with pytest.raises(ValueError, match="rank must be between 1 and 5"):
            sketch.bounds_at_rank(bad)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(0.0, 1e6, allow_nan=False), min_size=1, max_size=50))
def test_bucket_edges_contain_every_order_statistic(values: list[float]) -> None:
    sketch = QuantileSketch()
    for x in values:
        sketch.add(x)
    for rank, exact in enumerate(sorted(values), start=1):
        low, high = sketch.bounds_at_rank(rank)
        assert low * (1 - 1e-12) <= exact <= high * (1 + 1e-12)


@pytest.mark.parametrize("bad", [-1.0, math.nan, math.inf])
def test_sketch_rejects_bad_values(bad: float) -> None:
    with pytest.raises(ValueError):
        QuantileSketch().add(bad)
    with pytest.raises(ValueError):
        QuantileSketch().quantile(1.5)


# --- Summary -------------------------------------------------------------------------------

CODES = (53, 64, 121, 676, 691, 9999)  # 9999: not in the catalog -> "UNKNOWN"
durations = st.floats(0.0, 1e5, allow_nan=False, allow_infinity=False)


@st.composite
def trial_results(draw: st.DrawFn, index: int = 0) -> TrialResult:
    connected = draw(st.booleans())
    codes = tuple(draw(st.lists(st.sampled_from(CODES), max_size=4)))
    return TrialResult(
        trial=index,
        seed=7,
        outcome="connected" if connected else "gave_up",
        code=0 if connected else draw(st.sampled_from(CODES)),
        reason="connected" if connected else draw(
            st.sampled_from(["non_retryable", "dials_exhausted", "deadline"])),
        attempts=draw(st.integers(1, 20)),
        dials=draw(st.integers(0, 5)),
        connect_time=draw(durations) if connected else math.nan,
        end_time=draw(durations),
        line_time=draw(durations),
        codes=codes,
        faults=tuple(draw(st.lists(st.sampled_from(["link_drop", "wins_slow", "smb_pause"]),
                                   max_size=3))),
    )


def _dumps(d: dict) -> str:
    return json.dumps(d, allow_nan=False)


@settings(max_examples=150, deadline=None)
@given(rows=st.lists(trial_results(), max_size=40), data=st.data())
def test_merge_in_any_order_and_grouping_is_bit_identical(rows: list[TrialResult],
                                                          data: st.DataObject) -> None:
    sequential = Summary.of(rows)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(rows)), max_size=6), label="cuts"))
    bounds = [0, *cuts, len(rows)]
    parts = [Summary.of(rows[a:b]) for a, b in zip(bounds, bounds[1:], strict=False)]
    # Merge random pairs until one is left: arbitrary order *and* tree shape.
    while len(parts) > 1:
        i, j = data.draw(st.permutations(range(len(parts))), label="pair")[:2]
        parts[i].merge(parts[j])
        del parts[j]
    merged = parts[0]
    assert merged.to_dict() == sequential.to_dict()
    assert _dumps(merged.to_dict()) == _dumps(sequential.to_dict())  # same key order too
    assert merged == sequential


@settings(max_examples=100, deadline=None)
@given(rows=st.lists(trial_results(), max_size=40))
def test_counts_and_rates_match_a_direct_count(rows: list[TrialResult]) -> None:
    summary = Summary.of(rows)
    out = json.loads(_dumps(summary.to_dict(extra={"seed": 7, "scenario_sha256": "ab"})))
    n = len(rows)
    ok = [r for r in rows if r.outcome == "connected"]
    assert out["seed"] == 7 and list(out)[:2] == ["seed", "scenario_sha256"]
    assert out["trials"] == n and out["successes"] == len(ok)
    assert out["success_rate"] == (len(ok) / n if n else 0.0)
    assert out["ci95"] == list(wilson_interval(len(ok), n))

    final = Counter(r.code for r in rows if r.outcome != "connected")
    assert {int(k): v["count"] for k, v in out["failures"].items()} == final
    for code, c in final.items():
        assert out["failures"][str(code)]["rate"] == c / n == summary.rate(code)
    order = [(-v["count"], int(k)) for k, v in out["failures"].items()]
    assert order == sorted(order)
    expected_top = min(final, key=lambda c: (-final[c], c)) if final else None
    assert summary.most_frequent_failure() == expected_top
    if 9999 in final:
        assert out["failures"]["9999"]["symbol"] == "UNKNOWN"
    if 53 in final:
        assert out["failures"]["53"]["symbol"] == "ERROR_BAD_NETPATH"

    assert out["reasons"] == Counter(r.reason for r in rows)
    seen = Counter(c for r in rows for c in set(r.codes))
    assert {int(k): v["count"] for k, v in out["codes_seen"].items()} == seen
    assert out["faults_touched"] == Counter(f for r in rows for f in set(r.faults))

    # Exact integer sums of squares (rule 3), for the intervals of the means.
    assert summary.attempts_sq == sum(r.attempts**2 for r in rows)
    assert summary.dials_sq == sum(r.dials**2 for r in rows)
    assert summary.line_time_sq_ns2 == sum(round(r.line_time * 1e9) ** 2 for r in rows)
    if n:
        assert out["attempts_mean"] == sum(r.attempts for r in rows) / n
        assert out["dials_mean"] == sum(r.dials for r in rows) / n
        assert out["line_time_mean"] == pytest.approx(
            sum(r.line_time for r in rows) / n, rel=1e-9, abs=1e-9)
    else:
        assert out["line_time_mean"] is None and out["line_time"]["p50"] is None
    if ok:
        assert out["connect_time"]["mean"] == pytest.approx(
            sum(r.connect_time for r in ok) / len(ok), rel=1e-9, abs=1e-9)
        top = max(r.connect_time for r in ok)
        assert out["connect_time"]["p99"] <= top * 1.005 + 1e-9
    else:
        assert out["connect_time"] == {"p50": None, "p90": None, "p95": None, "p99": None,
                                       "mean": None}


def test_empty_summary_is_json_ready() -> None:
    out = Summary().to_dict()
    assert out["trials"] == 0 and out["success_rate"] == 0.0 and out["ci95"] == [0.0, 1.0]
    assert Summary().most_frequent_failure() is None
    _dumps(out)


def test_failure_ties_break_on_smaller_code() -> None:
    rows = [_row(ok=False, code=676), _row(ok=False, code=53), _row(ok=True)]
    summary = Summary.of(rows)
    assert summary.most_frequent_failure() == 53
    assert list(summary.to_dict()["failures"]) == ["53", "676"]


def test_bad_rows_are_rejected_without_changing_the_summary() -> None:
    summary = Summary()
    with pytest.raises(ValueError):
        summary.add(_row(ok=True, connect_time=math.nan))
    with pytest.raises(ValueError):
        summary.add(_row(ok=False, line_time=-1.0))
    assert summary == Summary()
    with pytest.raises(ValueError, match="trials"):
        summary.to_dict(extra={"trials": 3})


def test_memory_does_not_grow_with_trial_count() -> None:
    summary = Summary()
    sizes = []
    for k in range(20_000):
        summary.add(_row(ok=k % 3 == 0, code=53 if k % 2 else 64, connect_time=1.0 + k % 7,
                         line_time=2.0 + k % 5))
        if k in (999, 19_999):
            sizes.append((len(summary.failures), len(summary.codes_seen),
                          len(summary.connect_time.buckets), len(summary.line_time.buckets)))
    assert sizes[0] == sizes[1]


def test_merge_with_itself_doubles() -> None:
    summary = Summary.of([_row(ok=True), _row(ok=False, code=53)])
    doubled = Summary.of([_row(ok=True), _row(ok=False, code=53)] * 2)
    assert summary.merge(summary) == doubled


def _row(*, ok: bool, code: int = 53, connect_time: float = 12.5,
         line_time: float = 30.0) -> TrialResult:
    return TrialResult(
        trial=0, seed=1, outcome="connected" if ok else "gave_up", code=0 if ok else code,
        reason="connected" if ok else "dials_exhausted", attempts=2, dials=1,
        connect_time=connect_time if ok else math.nan, end_time=40.0, line_time=line_time,
        codes=(code, code), faults=("link_drop",),
    )
