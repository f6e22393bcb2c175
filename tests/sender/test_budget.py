"""Unit tests of ``sender.budget.RetryBudget``: gRPC's retry throttling token bucket.

The rules under test are the module's 1-4: the bucket starts full, a failure spends one token
(never below zero), a success refills ``ratio`` (never above the maximum), and a retry is
allowed only while more than half of the maximum is left. Counts are in thousandths, so the
expected values below are exact (compared with ``==``), never approximate.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sender.budget import RetryBudget


def drained(max_tokens: int, ratio: float, failures: int) -> RetryBudget:
    budget = RetryBudget(max_tokens, ratio)
    for _ in range(failures):
        budget.record_failure()
    return budget


# --- rule 1: starts full ------------------------------------------------------------------
@pytest.mark.parametrize(("max_tokens", "ratio"), [(1, 0.5), (4, 1.6), (10, 0.1), (1000, 1.0)])
def test_starts_full_and_allows_retries(max_tokens: int, ratio: float) -> None:
    budget = RetryBudget(max_tokens, ratio)
    assert budget.tokens == float(max_tokens)
    assert budget.throttled == 0
    assert budget.allows_retry()
    assert budget.throttled == 0


# --- rule 2: a failure spends exactly one token, never below zero -------------------------
def test_a_failure_spends_exactly_one_token() -> None:
    budget = RetryBudget(10, 0.1)
    for left in range(9, -1, -1):
        budget.record_failure()
        assert budget.tokens == float(left)


def test_failures_never_take_the_count_below_zero() -> None:
    budget = drained(2, 1.0, failures=7)
    assert budget.tokens == 0.0
    budget.record_success()  # no debt carried over: one success is one token
    assert budget.tokens == 1.0


def test_a_failure_below_one_token_empties_the_bucket() -> None:
    budget = drained(4, 0.5, failures=4)
    budget.record_success()
    assert budget.tokens == 0.5
    budget.record_failure()
    assert budget.tokens == 0.0


# --- rule 3: a success refills ratio, exactly, capped at the maximum ----------------------
def test_ten_successes_of_a_tenth_refill_exactly_one_token() -> None:
    assert sum([0.1] * 10) != 1.0  # what float accumulation would give
    budget = drained(10, 0.1, failures=3)
    for _ in range(10):
        budget.record_success()
    assert budget.tokens == 8.0


def test_a_thousand_successes_of_a_thousandth_refill_exactly_one_token() -> None:
    budget = drained(3, 0.001, failures=2)
    for _ in range(999):
        budget.record_success()
    assert budget.tokens == 1.999
    budget.record_success()
    assert budget.tokens == 2.0


def test_success_is_capped_at_the_maximum() -> None:
    budget = RetryBudget(4, 1.6)
    budget.record_success()
    assert budget.tokens == 4.0
    budget.record_failure()
    budget.record_success()  # 3 + 1.6 = 4.6 -> 4
    assert budget.tokens == 4.0


def test_a_ratio_equal_to_the_maximum_refills_an_empty_bucket_at_once() -> None:
    budget = drained(3, 3.0, failures=5)
    assert not budget.allows_retry()
    budget.record_success()
    assert budget.tokens == 3.0 and budget.allows_retry()


# --- rule 4: retries allowed iff tokens > max / 2 -----------------------------------------
def test_grpc_retry_throttle_unit_test_sequence() -> None:
    """gRPC's own test (test/core/client_channel/retry_throttle_test.cc, Basic): max 4, so the
    threshold is 2; each success adds 1.6. gRPC's RecordFailure returns whether a retry is
    allowed after the failure: here that is ``record_failure()`` then ``allows_retry()``."""
    budget = RetryBudget(4, 1.6)
    steps = [
        ("failure", 3.0, True),
        ("success", 4.0, None),   # not beyond the maximum
        ("failure", 3.0, True),
        ("failure", 2.0, False),  # at the threshold: no retries
        ("failure", 1.0, False),
        ("failure", 0.0, False),
        ("failure", 0.0, False),  # not below zero
        ("success", 1.6, None),
        ("success", 3.2, None),
        ("failure", 2.2, True),
        ("failure", 1.2, False),
        ("success", 2.8, None),
        ("failure", 1.8, False),
        ("success", 3.4, None),
        ("failure", 2.4, True),
    ]
    for i, (what, tokens, allowed) in enumerate(steps):
        if what == "failure":
            budget.record_failure()
        else:
            budget.record_success()
        assert budget.tokens == tokens, (i, what)
        if allowed is not None:
            assert budget.allows_retry() is allowed, (i, what, tokens)
    assert budget.throttled == 6


@pytest.mark.parametrize(("max_tokens", "ratio", "failures", "successes", "tokens", "allowed"), [
    (4, 0.001, 2, 0, 2.0, False),    # exactly half: refused
    (4, 0.001, 2, 1, 2.001, True),   # one milli-token above half: allowed
    (4, 0.001, 3, 999, 1.999, False),  # one milli-token below half: refused
    (4, 0.1, 3, 9, 1.9, False),
    (4, 0.1, 3, 10, 2.0, False),
    (4, 0.1, 3, 11, 2.1, True),
    (3, 0.5, 2, 1, 1.5, False),     # odd maximum: half is 1.5, and 1.5 is not above it
    (3, 0.5, 1, 0, 2.0, True),
    (3, 0.5, 2, 0, 1.0, False),
    (1, 0.5, 0, 0, 1.0, True),      # one token: retries while it is whole
    (1, 0.5, 1, 1, 0.5, False),
    (1, 0.001, 1, 501, 0.501, True),
])
def test_retries_are_allowed_only_above_half(max_tokens: int, ratio: float, failures: int,
                                            successes: int, tokens: float,
                                            allowed: bool) -> None:
    budget = drained(max_tokens, ratio, failures)
    for _ in range(successes):
        budget.record_success()
    assert budget.tokens == tokens
    assert budget.allows_retry() is allowed


def test_throttled_counts_every_refusal_and_nothing_else() -> None:
    budget = RetryBudget(4, 1.0)
    for _ in range(3):
        assert budget.allows_retry()
    assert budget.throttled == 0
    budget.record_failure()
    budget.record_failure()  # 2 left: refused from now on
    for n in range(1, 4):
        assert not budget.allows_retry()
        assert budget.throttled == n
    budget.record_success()  # 3 left
    assert budget.allows_retry()
    assert budget.throttled == 3


def test_asking_does_not_spend() -> None:
    budget = drained(4, 1.0, failures=1)
    for _ in range(5):
        budget.allows_retry()
    assert budget.tokens == 3.0


# --- constructor validation ---------------------------------------------------------------
@pytest.mark.parametrize("max_tokens", [0, -1, True, False, 2.0, 4.5, "4", None])
def test_max_tokens_must_be_a_whole_number_of_at_least_one(max_tokens: object) -> None:
    with pytest.raises(ValueError, match="max_tokens must be a whole number >= 1"):
        RetryBudget(max_tokens, 0.5)  # type: ignore[arg-type]


@pytest.mark.parametrize("ratio", [
    0, 0.0, -0.5, 0.0009, 0.0004, float("nan"), float("inf"), -float("inf"), True, "1", None,
])
def test_ratio_must_be_a_finite_number_of_at_least_a_thousandth(ratio: object) -> None:
    """Below a thousandth the refill would round to nothing: a bucket that never refills."""
    with pytest.raises(ValueError, match=r"ratio must be a finite number >= 0\.001"):
        RetryBudget(4, ratio)  # type: ignore[arg-type]


@pytest.mark.parametrize(("max_tokens", "ratio"), [
    (4, 4.0), (4, 4), (1, 1.0), (4, 0.001), (4, 4.001), (1, 1.5), (2, 1000.0),
])
def test_boundary_and_large_ratios_are_valid(max_tokens: int, ratio: float) -> None:
    assert RetryBudget(max_tokens, ratio).tokens == float(max_tokens)


def test_a_ratio_above_the_maximum_fills_the_bucket_and_no_more() -> None:
    budget = drained(2, 1000.0, failures=2)
    assert budget.tokens == 0.0
    budget.record_success()
    assert budget.tokens == 2.0 and budget.allows_retry()


def test_a_thousandth_refills_exactly_one_milli_token() -> None:
    budget = drained(1, 0.001, failures=1)
    for _ in range(501):
        budget.record_success()
    assert budget.tokens == 0.501 and budget.allows_retry()  # 501 > 500: above half


# --- property: the bucket is the integer model --------------------------------------------
@st.composite
def budgets_and_ops(draw: st.DrawFn) -> tuple[int, int, list[str]]:
    max_tokens = draw(st.integers(1, 50))
    ratio_milli = draw(st.integers(1, max_tokens * 1000))
    ops = draw(st.lists(st.sampled_from(["failure", "success", "ask"]), max_size=200))
    return max_tokens, ratio_milli, ops


@given(budgets_and_ops())
def test_any_sequence_stays_in_range_and_matches_the_integer_model(
        case: tuple[int, int, list[str]]) -> None:
    max_tokens, ratio_milli, ops = case
    budget = RetryBudget(max_tokens, ratio_milli / 1000)
    top = max_tokens * 1000
    model = top
    refused = 0
    for op in ops:
        if op == "failure":
            budget.record_failure()
            model = max(0, model - 1000)
        elif op == "success":
            budget.record_success()
            model = min(top, model + ratio_milli)
        else:
            allowed = 2 * model > top
            refused += not allowed
            assert budget.allows_retry() is allowed
        assert 0.0 <= budget.tokens <= max_tokens
        assert budget.tokens == model / 1000
        assert budget.throttled == refused
