"""Test helpers for the sender: the scripted site, generated policies and the procedure's
invariants. The scripted performer itself is ``sender.testing`` (re-exported here).

``check_trace`` states the procedure's rules (``sender.procedure`` rules 2-6 and the
``sender.policy`` field semantics) over a recorded trace; the property and stateful tests share
it so the two cannot drift apart.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from hypothesis import strategies as st

from sender.codes import CATALOG, DEFAULT_RETRYABLE, LINK_SUSPECT
from sender.effects import (
    AddConnection,
    Connected,
    Dial,
    Effect,
    Failed,
    GaveUp,
    HangUp,
    Outcome,
    Result,
    Sleep,
    Succeeded,
)
from sender.policy import JITTER_MODES, RetryPolicy
from sender.procedure import Target
from sender.testing import CountingUniform, ScriptedUniform, err, ok, perform_sequence

__all__ = [
    "DIAL",
    "HANG",
    "MAP",
    "TARGET",
    "UNKNOWN_CODES",
    "CountingUniform",
    "ScriptedUniform",
    "Step",
    "check_trace",
    "err",
    "ok",
    "perform_sequence",
    "policies",
    "seconds",
]

#: The one site of the scripted sequences, and its effects.
TARGET = Target(entry="SITE-A", remote=r"\\SRV01\SMS_SITE", user="SMSSVC")
DIAL = Dial("SITE-A")
MAP = AddConnection(r"\\SRV01\SMS_SITE", "SMSSVC")
HANG = HangUp()


# --- generated policies -------------------------------------------------------------------
#: Codes outside the catalog: a performer may meet them, a policy may name them.
UNKNOWN_CODES = [2, 1385, 9999]

seconds = st.floats(min_value=0.0, max_value=120.0, allow_nan=False, allow_infinity=False)
_any_code = st.sampled_from(sorted(CATALOG) + UNKNOWN_CODES)
_code_sets = st.one_of(
    st.just(DEFAULT_RETRYABLE),
    st.frozensets(_any_code, max_size=12),
    st.just(frozenset(CATALOG) | frozenset(UNKNOWN_CODES)),  # retry everything
)


@st.composite
def policies(draw: st.DrawFn, *, retry_on: st.SearchStrategy[frozenset[int]] = _code_sets,
             redial_on: st.SearchStrategy[frozenset[int]] | None = None) -> RetryPolicy:
    """Any valid ``RetryPolicy``, with counts and times kept small so a run stays short.

    ``max_wait`` is drawn at or above ``initial_wait`` (the one cross-field rule).
    """
    initial_wait = draw(seconds)
    if redial_on is None:
        redial_on = st.one_of(st.just(LINK_SUSPECT), st.frozensets(_any_code, max_size=6))
    return draw(st.builds(
        RetryPolicy,
        name=st.just("generated"),
        attempts_per_dial=st.integers(1, 6),
        settle=st.one_of(st.just(0.0), seconds),
        initial_wait=st.just(initial_wait),
        backoff_base=st.floats(1.0, 4.0),
        max_wait=st.floats(initial_wait, initial_wait + 200.0),
        jitter=st.sampled_from(JITTER_MODES),
        deadline=st.one_of(st.none(), st.floats(0.5, 500.0)),
        retry_on=retry_on,
        redial_after=st.one_of(st.none(), st.integers(1, 4)),
        redial_on=redial_on,
        max_dials=st.integers(1, 5),
        redial_wait=st.one_of(st.just(0.0), seconds),
    ))


# --- invariants ---------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Step:
    """One performed effect: when the performer started it and what it answered."""

    effect: Effect
    start: float
    result: Result


def _close(a: float, b: float) -> bool:
    # The procedure grows waits by repeated multiplication; the schedule below uses a power.
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def _wait_bounds(policy: RetryPolicy, initial: float, cap: float, k: int) -> tuple[float, float]:
    """Inclusive bounds on the k-th wait (k = 0 first) of a backoff sequence under ``policy``."""
    cap = max(cap, initial)
    ceiling = min(cap, initial * policy.backoff_base ** k)
    if policy.jitter == "none":
        return ceiling, ceiling
    if policy.jitter == "full":
        return 0.0, ceiling
    if policy.jitter == "equal":
        return ceiling / 2, ceiling
    return initial, cap  # decorrelated


def _check_wait(policy: RetryPolicy, what: str, seconds: float, bounds: tuple[float, float],
                index: int) -> None:
    low, high = bounds
    if policy.jitter == "none":
        assert _close(seconds, low), (
            f"step {index}: {what} slept {seconds!r}s; the jitter-free schedule says {low!r}s")
    else:
        # Relative slack for rounding; absolute slack for subnormal waits (5e-324 s), where
        # halving and adding lose all relative precision.
        assert low * (1 - 1e-9) - 1e-12 <= seconds <= high * (1 + 1e-9) + 1e-12, (
            f"step {index}: {what} slept {seconds!r}s outside [{low!r}, {high!r}] "
            f"for jitter={policy.jitter!r}")


def check_trace(policy: RetryPolicy, steps: Sequence[Step], outcome: Outcome | None = None,
                *, started_at: float = 0.0) -> None:
    """Assert the procedure's rules over ``steps`` (a prefix of a run if ``outcome`` is None).

    Time is taken from the performer: ``Step.start`` is its clock when the effect began.
    """
    deadline_at = started_at + policy.deadline if policy.deadline is not None else math.inf
    sleep_cap = max(policy.max_wait, policy.redial_wait, policy.settle)
    redial_cap = max(policy.max_wait, policy.redial_wait)

    link = False             # a successful Dial not yet hung up
    dials = attempts = 0
    on_this_link = 0
    suspect_run = 0          # consecutive map failures on this link with codes in redial_on
    pending_sleep: float | None = None  # a Sleep whose purpose the next effect reveals
    after: str = "start"     # what the last non-sleep effect was, to classify a Sleep
    ended = False            # a non-retryable failure was seen: only HangUp may follow
    codes: list[int] = []

    for i, step in enumerate(steps):
        effect, result = step.effect, step.result
        if ended:  # rule 6: after a non-retryable failure, at most the HangUp follows
            assert isinstance(effect, HangUp) and link, (
                f"step {i}: {effect!r} after a non-retryable failure")
        if isinstance(effect, Sleep):
            assert pending_sleep is None, f"step {i}: two Sleeps in a row"
            assert 0 <= effect.seconds <= sleep_cap, (
                f"step {i}: Sleep({effect.seconds!r}) outside [0, {sleep_cap!r}]")
            assert step.start + effect.seconds <= deadline_at, (
                f"step {i}: Sleep from {step.start!r} for {effect.seconds!r}s ends after "
                f"the deadline {deadline_at!r}")
            pending_sleep = effect.seconds
            if after == "dialed":
                # the settle wait: on a fresh link before its first map attempt
                assert _close(effect.seconds, policy.settle), (
                    f"step {i}: settle Sleep({effect.seconds!r}) != settle {policy.settle!r}")
        elif isinstance(effect, Dial):
            assert not link, f"step {i}: Dial while holding a dialed link (no HangUp first)"
            assert step.start < deadline_at, (
                f"step {i}: Dial starts at {step.start!r}, at or after the deadline "
                f"{deadline_at!r}")
            dials += 1
            assert dials <= policy.max_dials, f"step {i}: Dial #{dials} > max_dials"
            if dials > 1:
                k = dials - 2
                bounds = _wait_bounds(policy, policy.redial_wait, redial_cap, k)
                if pending_sleep is None:
                    # the procedure skips a zero wait; only then may a redial come unslept
                    assert bounds[0] == 0 or policy.jitter != "none", (
                        f"step {i}: redial without the {bounds[0]!r}s redial wait")
                else:
                    _check_wait(policy, f"redial #{k + 1}", pending_sleep, bounds, i)
            if isinstance(result, Failed):
                codes.append(result.code)
                after = "dial failed"
                if result.code not in policy.retry_on:
                    ended = True
            else:
                link = True
                on_this_link = suspect_run = 0
                after = "dialed"
            pending_sleep = None
        elif isinstance(effect, AddConnection):
            assert link, f"step {i}: AddConnection without a live dialed link"
            assert step.start < deadline_at, (
                f"step {i}: AddConnection starts at {step.start!r}, at or after the "
                f"deadline {deadline_at!r}")
            attempts += 1
            on_this_link += 1
            assert on_this_link <= policy.attempts_per_dial, (
                f"step {i}: map attempt #{on_this_link} on one link > attempts_per_dial")
            if on_this_link == 1:
                if policy.settle > 0:
                    assert pending_sleep is not None and _close(pending_sleep, policy.settle), (
                        f"step {i}: first map attempt on a link without Sleep(settle)")
                else:
                    assert pending_sleep is None, f"step {i}: Sleep before map with settle 0"
            else:
                k = on_this_link - 2
                bounds = _wait_bounds(policy, policy.initial_wait, policy.max_wait, k)
                if pending_sleep is None:
                    assert bounds[0] == 0 or policy.jitter != "none", (
                        f"step {i}: map retry without the {bounds[0]!r}s wait")
                else:
                    _check_wait(policy, f"map retry #{k + 1}", pending_sleep, bounds, i)
            if isinstance(result, Failed):
                codes.append(result.code)
                after = "map failed"
                suspect_run = suspect_run + 1 if result.code in policy.redial_on else 0
                if result.code not in policy.retry_on:
                    ended = True
            else:
                after = "mapped"
                assert i == len(steps) - 1, f"step {i}: effects continue after a mapping"
            pending_sleep = None
        elif isinstance(effect, HangUp):
            assert link, f"step {i}: HangUp without a dialed link"
            # A link is dropped only for a reason: its attempts are used up, a run of
            # link-suspect codes, a non-retryable code, or the deadline.
            assert (ended or policy.deadline is not None
                    or on_this_link >= policy.attempts_per_dial
                    or (policy.redial_after is not None
                        and suspect_run >= policy.redial_after)), (
                f"step {i}: HangUp with {on_this_link} of {policy.attempts_per_dial} attempts "
                f"used, a suspect run of {suspect_run} and no deadline")
            link = False
            after = "hung up"
            pending_sleep = None
        else:  # pragma: no cover - the Effect union is closed
            raise AssertionError(f"step {i}: unknown effect {effect!r}")

    if outcome is None:
        return

    # With sleeps that end exactly on time, a Sleep is always followed by the step it waited
    # for: the procedure never sleeps into a deadline it then gives up on.
    assert pending_sleep is None, "the procedure returned right after a Sleep"
    at = steps[-1].result.at if steps else started_at
    assert outcome.at == at, f"outcome.at {outcome.at!r} != last result's at {at!r}"
    assert outcome.attempts == attempts, f"outcome.attempts {outcome.attempts} != {attempts}"
    assert outcome.dials == dials, f"outcome.dials {outcome.dials} != {dials}"
    assert outcome.codes == tuple(codes), f"outcome.codes {outcome.codes} != {tuple(codes)}"
    if isinstance(outcome, Connected):
        assert link, "Connected without a live link"
        assert steps and isinstance(steps[-1].effect, AddConnection)
        assert isinstance(steps[-1].result, Succeeded)
        return
    assert isinstance(outcome, GaveUp)
    assert not link, "GaveUp while still holding a dialed link: HangUp missing (rule 3)"
    assert outcome.code == (codes[-1] if codes else 0)
    if outcome.reason == "non_retryable":
        assert codes and codes[-1] not in policy.retry_on
    elif outcome.reason == "dials_exhausted":
        assert codes and codes[-1] in policy.retry_on
        assert dials == policy.max_dials, f"dials_exhausted after {dials} of {policy.max_dials}"
    else:
        assert outcome.reason == "deadline", f"unknown reason {outcome.reason!r}"
        assert policy.deadline is not None, "gave up on a deadline the policy does not have"
        assert not codes or codes[-1] in policy.retry_on
    if ended:
        assert outcome.reason == "non_retryable"
