"""Stateful test: a state machine answers the procedure one effect at a time.

There is one rule per class of answer (a dial that succeeds, fails retryably or permanently; a
map that succeeds or fails with a link-suspect, server-transient or permanent code; a sleep or
hang-up that completes). A rule applies only when the procedure's pending effect is the one it
answers. After every step the trace so far must satisfy ``sender_script.check_trace``; when a
procedure returns, its whole trace and outcome are checked and a new procedure starts on the
same clock.
"""

from __future__ import annotations

import numpy as np
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from sender.codes import DEFAULT_RETRYABLE, LINK_SUSPECT
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
from sender.policy import RetryPolicy
from sender.procedure import Procedure, Target, connect
from tests.helpers.sender_script import Step, check_trace, policies, seconds

TARGET = Target(entry="SITE-A", remote=r"\\SRV01\SMS_SITE", user="SMSSVC")

RAS_RETRYABLE = [676, 678, 679, 680, 718, 619, 633, 650]
RAS_PERMANENT = [691, 9999]
LINK_SUSPECT_CODES = [53, 64]
SERVER_TRANSIENT_CODES = [70, 170]
PERMANENT_MAP_CODES = [1326, 67]

# The answer classes mean what they say only under the default code sets.
assert set(RAS_RETRYABLE) <= DEFAULT_RETRYABLE and not set(RAS_PERMANENT) & DEFAULT_RETRYABLE
assert set(LINK_SUSPECT_CODES) <= LINK_SUSPECT & DEFAULT_RETRYABLE
assert set(SERVER_TRANSIENT_CODES) <= DEFAULT_RETRYABLE - LINK_SUSPECT
assert not set(PERMANENT_MAP_CODES) & DEFAULT_RETRYABLE

durations = st.one_of(st.just(0.0), seconds)


def pending_is(kind: type) -> object:
    return precondition(lambda self: isinstance(self.pending, kind))


class SenderMachine(RuleBasedStateMachine):
    policy: RetryPolicy
    procedure: Procedure
    pending: Effect
    steps: list[Step]

    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0
        self.started_at = 0.0
        self.outcomes: list[Outcome] = []

    @initialize(
        policy=policies(retry_on=st.just(DEFAULT_RETRYABLE), redial_on=st.just(LINK_SUSPECT)),
        seed=st.integers(0, 2**32 - 1),
        started_at=st.one_of(st.just(0.0), st.floats(0.0, 1e5)),
    )
    def start(self, policy: RetryPolicy, seed: int, started_at: float) -> None:
        self.policy = policy
        self.rng = None if policy.jitter == "none" else np.random.default_rng(seed)
        self.now = started_at
        self._begin()

    def _begin(self) -> None:
        self.started_at = self.now
        self.procedure = connect(self.policy, TARGET, self.rng, started_at=self.now)
        self.steps = []
        self.pending = next(self.procedure)
        assert self.pending == Dial(TARGET.entry), "a procedure must open with a Dial"

    def _answer(self, result: Result) -> Outcome | None:
        """Send ``result`` for the pending effect; the outcome if the procedure returned."""
        self.steps.append(Step(self.pending, self.now, result))
        self.now = result.at
        try:
            self.pending = self.procedure.send(result)
        except StopIteration as stop:
            outcome: Outcome = stop.value
            check_trace(self.policy, self.steps, outcome, started_at=self.started_at)
            self.outcomes.append(outcome)
            self._begin()
            return outcome
        return None

    def _fail(self, code: int, duration: float) -> Outcome | None:
        return self._answer(Failed(code=code, at=self.now + duration))

    # --- Dial -----------------------------------------------------------------------------
    @pending_is(Dial)
    @rule(duration=durations)
    def dial_succeeds(self, duration: float) -> None:
        assert self._answer(Succeeded(at=self.now + duration)) is None
        assert isinstance(self.pending, Sleep | AddConnection | HangUp)

    @pending_is(Dial)
    @rule(code=st.sampled_from(RAS_RETRYABLE), duration=durations)
    def dial_fails_retryable(self, code: int, duration: float) -> None:
        dials = sum(isinstance(s.effect, Dial) for s in self.steps) + 1
        outcome = self._fail(code, duration)
        if outcome is None:
            assert isinstance(self.pending, Sleep | Dial)  # never HangUp: no link is held
        else:
            assert isinstance(outcome, GaveUp) and outcome.code == code
            assert outcome.reason in ("dials_exhausted", "deadline")
            assert outcome.reason == "deadline" or dials == self.policy.max_dials

    @pending_is(Dial)
    @rule(code=st.sampled_from(RAS_PERMANENT), duration=durations)
    def dial_fails_permanent(self, code: int, duration: float) -> None:
        outcome = self._fail(code, duration)
        assert isinstance(outcome, GaveUp)
        assert (outcome.reason, outcome.code, outcome.at) == ("non_retryable", code, self.now)

    # --- AddConnection --------------------------------------------------------------------
    @pending_is(AddConnection)
    @rule(duration=durations)
    def map_succeeds(self, duration: float) -> None:
        outcome = self._answer(Succeeded(at=self.now + duration))
        assert isinstance(outcome, Connected) and outcome.at == self.now

    def _map_fails_retryably(self, code: int, duration: float) -> None:
        assert self._fail(code, duration) is None, "returned while holding a link"
        assert isinstance(self.pending, Sleep | AddConnection | HangUp)

    @pending_is(AddConnection)
    @rule(code=st.sampled_from(LINK_SUSPECT_CODES), duration=durations)
    def map_fails_link_suspect(self, code: int, duration: float) -> None:
        self._map_fails_retryably(code, duration)

    @pending_is(AddConnection)
    @rule(code=st.sampled_from(SERVER_TRANSIENT_CODES), duration=durations)
    def map_fails_server_transient(self, code: int, duration: float) -> None:
        self._map_fails_retryably(code, duration)

    @pending_is(AddConnection)
    @rule(code=st.sampled_from(PERMANENT_MAP_CODES), duration=durations)
    def map_fails_permanent(self, code: int, duration: float) -> None:
        assert self._fail(code, duration) is None
        assert self.pending == HangUp()
        outcome = self._answer(Succeeded(at=self.now + 1.0))
        assert isinstance(outcome, GaveUp)
        assert (outcome.reason, outcome.code, outcome.at) == ("non_retryable", code, self.now)

    # --- Sleep and HangUp -----------------------------------------------------------------
    @pending_is(Sleep)
    @rule()
    def sleep_completes(self) -> None:
        assert isinstance(self.pending, Sleep)
        assert self._answer(Succeeded(at=self.now + self.pending.seconds)) is None
        assert isinstance(self.pending, Dial | AddConnection)

    @pending_is(HangUp)
    @rule(duration=durations)
    def hangup_completes(self, duration: float) -> None:
        outcome = self._answer(Succeeded(at=self.now + duration))
        if outcome is None:
            assert isinstance(self.pending, Sleep | Dial)
        else:
            assert isinstance(outcome, GaveUp)

    # --- after every step -----------------------------------------------------------------
    @invariant()
    def trace_obeys_the_rules(self) -> None:
        check_trace(self.policy, self.steps, None, started_at=self.started_at)

    @invariant()
    def some_rule_answers_the_pending_effect(self) -> None:
        assert isinstance(self.pending, Dial | AddConnection | Sleep | HangUp)

    def teardown(self) -> None:
        event(f"procedures finished: {min(len(self.outcomes), 3)}"
              f"{'+' if len(self.outcomes) >= 3 else ''}")
        for outcome in self.outcomes:
            event(f"outcome: {outcome.reason}")


SenderMachine.TestCase.settings = settings(max_examples=100, stateful_step_count=30,
                                           deadline=None)
TestSenderMachine = SenderMachine.TestCase
