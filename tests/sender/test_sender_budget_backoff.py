"""The site back-off (procedure rule 7) and the retry budget (rule 8), scripted to the second.

Every sequence test states the effects the procedure must yield, the answer the performer
gives each (with its exact virtual finish time) and the exact outcome, in the style of
``test_sender_sequences``. Budgets are ``sender.budget.RetryBudget`` instances passed to
``connect``; their token counts are exact (milli-token arithmetic), so they are compared with
``==``. The property test at the end drives random policies with site retries and budgets
against random answers and checks the rules over the whole trace.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from sender.budget import RetryBudget
from sender.codes import DEFAULT_RETRYABLE
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
from sender.policy import RetryPolicy, preset
from sender.procedure import Procedure, connect
from tests.helpers.sender_script import (
    DIAL,
    HANG,
    MAP,
    TARGET,
    err,
    ok,
    perform_sequence,
    policies,
    seconds,
)


def drained(max_tokens: int, ratio: float, failures: int) -> RetryBudget:
    budget = RetryBudget(max_tokens, ratio)
    for _ in range(failures):
        budget.record_failure()
    return budget


class Stepper:
    """One procedure driven by hand, so that two can be interleaved on a shared budget."""

    def __init__(self, procedure: Procedure) -> None:
        self._procedure = procedure
        self.pending: Effect = next(procedure)
        self.outcome: Outcome | None = None

    def answer(self, result: Result) -> Effect | Outcome:
        """Answer the pending effect: the next effect, or the outcome if it returned."""
        assert self.outcome is None, "the procedure has already returned"
        try:
            self.pending = self._procedure.send(result)
        except StopIteration as stop:
            outcome: Outcome = stop.value
            self.outcome = outcome
            return outcome
        return self.pending


# --- site back-off (rule 7) ---------------------------------------------------------------
class TestSiteBackoff:
    """Two dials a round, 30 s apart; after a round runs out of dials, an hour's back-off and
    one more round."""

    policy = RetryPolicy(max_dials=2, redial_wait=30.0, backoff_base=2.0, max_wait=60.0,
                         site_retries=1, site_backoff=3600.0)

    def test_every_dial_fails_two_rounds_then_gives_up(self) -> None:
        script = [
            (DIAL, err(678, 10.0)), (Sleep(30.0), ok(40.0)),
            (DIAL, err(678, 70.0)),
            (Sleep(3600.0), ok(3670.0)),  # the round ran out of dials: back off the site
            (DIAL, err(678, 3700.0)), (Sleep(30.0), ok(3730.0)),
            (DIAL, err(678, 3760.0)),
        ]
        outcome = perform_sequence(connect(self.policy, TARGET), script)
        assert outcome == GaveUp(reason="dials_exhausted", code=678, at=3760.0, attempts=0,
                                 dials=4, codes=(678,) * 4)

    def test_a_failed_map_hangs_up_before_the_site_backoff(self) -> None:
        script = [
            (DIAL, err(676, 10.0)), (Sleep(30.0), ok(40.0)),
            (DIAL, ok(55.0)), (MAP, err(53, 56.0)), (HANG, ok(57.0)),  # rule 3, then back off
            (Sleep(3600.0), ok(3657.0)),
            (DIAL, ok(3670.0)), (MAP, err(64, 3671.0)), (HANG, ok(3672.0)),
            (Sleep(30.0), ok(3702.0)),
            (DIAL, err(678, 3720.0)),
        ]
        outcome = perform_sequence(connect(self.policy, TARGET), script)
        assert outcome == GaveUp(reason="dials_exhausted", code=678, at=3720.0, attempts=2,
                                 dials=4, codes=(676, 53, 64, 678))

    def test_connects_in_the_second_round_with_cumulative_counts(self) -> None:
        script = [
            (DIAL, err(678, 10.0)), (Sleep(30.0), ok(40.0)),
            (DIAL, ok(50.0)), (MAP, err(53, 51.0)), (HANG, ok(52.0)),
            (Sleep(3600.0), ok(3652.0)),
            (DIAL, ok(3660.0)), (MAP, ok(3661.0)),
        ]
        outcome = perform_sequence(connect(self.policy, TARGET), script)
        assert outcome == Connected(at=3661.0, attempts=2, dials=3, codes=(678, 53))

    def test_the_redial_backoff_restarts_in_each_round(self) -> None:
        policy = self.policy.replace(max_dials=3)  # redial waits 30, 60 (cap) in each round
        script = [
            (DIAL, err(678, 10.0)), (Sleep(30.0), ok(40.0)),
            (DIAL, err(678, 50.0)), (Sleep(60.0), ok(110.0)),
            (DIAL, err(678, 120.0)),
            (Sleep(3600.0), ok(3720.0)),
            (DIAL, err(678, 3730.0)), (Sleep(30.0), ok(3760.0)),
            (DIAL, err(678, 3770.0)), (Sleep(60.0), ok(3830.0)),
            (DIAL, ok(3840.0)), (MAP, ok(3841.0)),
        ]
        outcome = perform_sequence(connect(policy, TARGET), script)
        assert outcome == Connected(at=3841.0, attempts=1, dials=6, codes=(678,) * 5)

    def test_site_retries_bounds_the_rounds(self) -> None:
        policy = RetryPolicy(max_dials=1, site_retries=2, site_backoff=600.0)
        script = [
            (DIAL, err(678, 5.0)), (Sleep(600.0), ok(605.0)),
            (DIAL, err(679, 610.0)), (Sleep(600.0), ok(1210.0)),
            (DIAL, err(680, 1215.0)),  # third round: no site retry left
        ]
        outcome = perform_sequence(connect(policy, TARGET), script)
        assert outcome == GaveUp(reason="dials_exhausted", code=680, at=1215.0, attempts=0,
                                 dials=3, codes=(678, 679, 680))

    def test_a_zero_site_backoff_starts_the_next_round_at_once(self) -> None:
        policy = self.policy.replace(site_backoff=0.0)
        script = [
            (DIAL, err(678, 10.0)), (Sleep(30.0), ok(40.0)),
            (DIAL, err(678, 70.0)),
            (DIAL, err(678, 80.0)),  # a new round: no Sleep, and no redial wait either
            (Sleep(30.0), ok(110.0)),
            (DIAL, ok(120.0)), (MAP, ok(121.0)),
        ]
        outcome = perform_sequence(connect(policy, TARGET), script)
        assert outcome == Connected(at=121.0, attempts=1, dials=4, codes=(678,) * 3)

    @pytest.mark.parametrize("deadline", [3000.0, 3670.0])
    def test_the_deadline_cuts_a_site_backoff_without_sleeping(self, deadline: float) -> None:
        """70 + 3600 >= the deadline: the hour is not slept, even when it would end exactly
        on the deadline (rule 4), and the outcome says why."""
        policy = self.policy.replace(deadline=deadline)
        script = [(DIAL, err(678, 10.0)), (Sleep(30.0), ok(40.0)), (DIAL, err(678, 70.0))]
        outcome = perform_sequence(connect(policy, TARGET), script)
        assert outcome == GaveUp(reason="deadline", code=678, at=70.0, attempts=0, dials=2,
                                 codes=(678, 678))

    def test_a_site_backoff_ending_just_before_the_deadline_is_slept(self) -> None:
        policy = self.policy.replace(deadline=3670.5)
        script = [
            (DIAL, err(678, 10.0)), (Sleep(30.0), ok(40.0)),
            (DIAL, err(678, 70.0)), (Sleep(3600.0), ok(3670.0)),
            (DIAL, err(678, 3671.0)),  # 3671 + 30 would pass the deadline: no redial
        ]
        outcome = perform_sequence(connect(policy, TARGET), script)
        assert outcome == GaveUp(reason="deadline", code=678, at=3671.0, attempts=0, dials=3,
                                 codes=(678,) * 3)

    def test_the_deadline_after_a_map_failure_hangs_up_and_is_final(self) -> None:
        policy = self.policy.replace(deadline=1000.0)
        script = [
            (DIAL, err(678, 10.0)), (Sleep(30.0), ok(40.0)),
            (DIAL, ok(50.0)), (MAP, err(53, 51.0)), (HANG, ok(52.0)),
        ]
        outcome = perform_sequence(connect(policy, TARGET), script)
        assert outcome == GaveUp(reason="deadline", code=53, at=52.0, attempts=1, dials=2,
                                 codes=(678, 53))

    def test_a_non_retryable_dial_code_ends_at_once_with_no_site_retry(self) -> None:
        outcome = perform_sequence(connect(self.policy, TARGET), [(DIAL, err(691, 25.0))])
        assert outcome == GaveUp(reason="non_retryable", code=691, at=25.0, attempts=0,
                                 dials=1, codes=(691,))

    def test_a_non_retryable_map_code_hangs_up_and_ends_with_no_site_retry(self) -> None:
        script = [(DIAL, ok(20.0)), (MAP, err(1326, 21.0)), (HANG, ok(22.0))]
        outcome = perform_sequence(connect(self.policy, TARGET), script)
        assert outcome == GaveUp(reason="non_retryable", code=1326, at=22.0, attempts=1,
                                 dials=1, codes=(1326,))

    def test_a_non_retryable_code_in_a_later_round_is_final(self) -> None:
        policy = self.policy.replace(site_retries=5)
        script = [
            (DIAL, err(678, 10.0)), (Sleep(30.0), ok(40.0)),
            (DIAL, err(678, 70.0)), (Sleep(3600.0), ok(3670.0)),
            (DIAL, err(691, 3680.0)),  # four site retries left, none used
        ]
        outcome = perform_sequence(connect(policy, TARGET), script)
        assert outcome == GaveUp(reason="non_retryable", code=691, at=3680.0, attempts=0,
                                 dials=3, codes=(678, 678, 691))


class TestSms2SiteBackoffPreset:
    policy = preset("sms2-site-backoff")
    FIRST_ROUND = [
        (DIAL, err(676, 20.0)), (Sleep(60.0), ok(80.0)),
        (DIAL, err(678, 100.0)), (Sleep(60.0), ok(160.0)),
        (DIAL, err(676, 180.0)),
    ]

    def test_is_the_sms2_defaults_plus_an_hourly_site_backoff_for_a_week(self) -> None:
        defaults = preset("sms2-defaults")
        assert self.policy.replace(name="sms2-defaults", site_backoff=0.0, site_retries=0,
                                   deadline=None) == defaults
        assert (self.policy.site_backoff, self.policy.site_retries) == (3600.0, 167)
        assert self.policy.deadline == 604_800.0  # 7 days (Q214485)

    def test_first_round_is_the_sms2_defaults_then_an_hour_then_a_new_round(self) -> None:
        first = perform_sequence(connect(preset("sms2-defaults"), TARGET), self.FIRST_ROUND)
        assert first == GaveUp(reason="dials_exhausted", code=676, at=180.0, attempts=0,
                               dials=3, codes=(676, 678, 676))
        script = [*self.FIRST_ROUND, (Sleep(3600.0), ok(3780.0)),
                  (DIAL, ok(3800.0)), (MAP, ok(3801.0))]
        outcome = perform_sequence(connect(self.policy, TARGET), script)
        assert outcome == Connected(at=3801.0, attempts=1, dials=4, codes=(676, 678, 676))

    @staticmethod
    def failed_rounds(rounds: int) -> tuple[list[tuple[Effect, Succeeded | Failed]], float]:
        """``rounds`` rounds of three dials that each fail 20 s in, an hour apart."""
        script: list[tuple[Effect, Succeeded | Failed]] = []
        t = 0.0
        for r in range(rounds):
            if r:
                script.append((Sleep(3600.0), ok(t + 3600.0)))
                t += 3600.0
            for d in range(3):
                if d:
                    script.append((Sleep(60.0), ok(t + 60.0)))
                    t += 60.0
                script.append((DIAL, err(678, t + 20.0)))
                t += 20.0
        return script, t

    def test_the_week_ends_it_before_the_hourly_rounds_run_out(self) -> None:
        """A round takes 3,780 s with its hour. After round 160 ends at 159 x 3,780 + 180 =
        601,200 s, the next hour would end at the deadline (604,800 s): it gives up then."""
        script, t = self.failed_rounds(160)
        outcome = perform_sequence(connect(self.policy, TARGET), script)
        assert t == 601_200.0
        assert outcome == GaveUp(reason="deadline", code=678, at=601_200.0, attempts=0,
                                 dials=480, codes=(678,) * 480)

    def test_without_the_deadline_168_rounds_then_gives_up(self) -> None:
        script, t = self.failed_rounds(168)
        policy = self.policy.replace(deadline=None)
        outcome = perform_sequence(connect(policy, TARGET), script)
        assert t == 167 * 3780.0 + 180.0 == 631_440.0
        assert outcome == GaveUp(reason="dials_exhausted", code=678, at=631_440.0, attempts=0,
                                 dials=504, codes=(678,) * 504)


# --- the retry budget (rule 8) ------------------------------------------------------------
class TestBudget:
    """Up to 5 map attempts a link, 1 s apart; up to 3 dials, 10 s apart."""

    policy = RetryPolicy(attempts_per_dial=5, initial_wait=1.0, backoff_base=1.0,
                         max_wait=1.0, max_dials=3, redial_wait=10.0)

    def test_map_retries_stop_at_half_and_the_link_is_hung_up(self) -> None:
        """Max 4, so retries need more than 2 tokens. The second map failure leaves 2: after
        the wait the third attempt is refused, and the link is hung up before giving up."""
        budget = RetryBudget(4, 0.5)
        script = [
            (DIAL, ok(10.0)),
            (MAP, err(53, 11.0)), (Sleep(1.0), ok(12.0)),  # 3 left: the retry may go ahead
            (MAP, err(53, 13.0)), (Sleep(1.0), ok(14.0)),  # 2 left: refused after the wait
            (HANG, ok(15.0)),
        ]
        outcome = perform_sequence(connect(self.policy, TARGET, budget=budget), script)
        assert outcome == GaveUp(reason="budget", code=53, at=15.0, attempts=2, dials=1,
                                 codes=(53, 53))
        assert (budget.tokens, budget.throttled) == (2.0, 1)

    def test_a_redial_is_refused_without_a_hangup(self) -> None:
        budget = RetryBudget(4, 0.5)
        script = [
            (DIAL, err(678, 5.0)), (Sleep(10.0), ok(15.0)),
            (DIAL, err(678, 20.0)), (Sleep(10.0), ok(30.0)),  # 2 left: the third dial refused
        ]
        outcome = perform_sequence(connect(self.policy, TARGET, budget=budget), script)
        assert outcome == GaveUp(reason="budget", code=678, at=30.0, attempts=0, dials=2,
                                 codes=(678, 678))
        assert (budget.tokens, budget.throttled) == (2.0, 1)

    def test_a_redial_after_a_hung_up_link_is_refused_without_a_second_hangup(self) -> None:
        policy = self.policy.replace(attempts_per_dial=1)
        budget = RetryBudget(2, 0.5)  # retries need more than 1 token
        script = [(DIAL, ok(5.0)), (MAP, err(53, 6.0)), (HANG, ok(7.0)),
                  (Sleep(10.0), ok(17.0))]
        outcome = perform_sequence(connect(policy, TARGET, budget=budget), script)
        assert outcome == GaveUp(reason="budget", code=53, at=17.0, attempts=1, dials=1,
                                 codes=(53,))

    def test_the_first_dial_and_first_map_are_never_throttled(self) -> None:
        budget = drained(4, 0.5, failures=4)
        assert budget.tokens == 0.0
        script = [
            (DIAL, ok(5.0)),  # first dial of the round: no budget check
            (MAP, err(53, 6.0)),  # first map on the link: no budget check
            (Sleep(1.0), ok(7.0)),
            (HANG, ok(8.0)),  # the retry is refused
        ]
        outcome = perform_sequence(connect(self.policy, TARGET, budget=budget), script)
        assert outcome == GaveUp(reason="budget", code=53, at=8.0, attempts=1, dials=1,
                                 codes=(53,))
        assert (budget.tokens, budget.throttled) == (0.0, 1)

    def test_a_drained_budget_still_dials_once(self) -> None:
        budget = drained(4, 0.5, failures=4)
        script = [(DIAL, err(678, 5.0)), (Sleep(10.0), ok(15.0))]
        outcome = perform_sequence(connect(self.policy, TARGET, budget=budget), script)
        assert outcome == GaveUp(reason="budget", code=678, at=15.0, attempts=0, dials=1,
                                 codes=(678,))

    def test_a_success_on_a_drained_budget_refills_it(self) -> None:
        budget = drained(4, 0.5, failures=4)
        script = [(DIAL, ok(5.0)), (MAP, ok(6.0))]
        outcome = perform_sequence(connect(self.policy, TARGET, budget=budget), script)
        assert outcome == Connected(at=6.0, attempts=1, dials=1, codes=())
        assert (budget.tokens, budget.throttled) == (0.5, 0)

    def test_failures_spend_and_the_success_refills_once(self) -> None:
        budget = RetryBudget(10, 0.5)
        script = [
            (DIAL, err(678, 5.0)), (Sleep(10.0), ok(15.0)),
            (DIAL, ok(20.0)),
            (MAP, err(53, 21.0)), (Sleep(1.0), ok(22.0)),
            (MAP, err(70, 23.0)), (Sleep(1.0), ok(24.0)),
            (MAP, ok(25.0)),
        ]
        outcome = perform_sequence(connect(self.policy, TARGET, budget=budget), script)
        assert outcome == Connected(at=25.0, attempts=3, dials=2, codes=(678, 53, 70))
        assert budget.tokens == 7.5  # 10 - 3 failures + 0.5

    def test_a_success_refills_enough_for_the_next_sender_to_retry(self) -> None:
        budget = drained(4, 1.5, failures=2)  # 2 left: retries refused
        assert not budget.allows_retry()
        first = perform_sequence(connect(self.policy, TARGET, budget=budget),
                                 [(DIAL, ok(5.0)), (MAP, ok(6.0))])
        assert isinstance(first, Connected) and budget.tokens == 3.5
        script = [
            (DIAL, ok(10.0)),
            (MAP, err(53, 11.0)), (Sleep(1.0), ok(12.0)),  # 2.5 left: allowed
            (MAP, ok(13.0)),
        ]
        outcome = perform_sequence(connect(self.policy, TARGET, budget=budget), script)
        assert outcome == Connected(at=13.0, attempts=2, dials=1, codes=(53,))
        assert budget.tokens == 4.0  # 2.5 + 1.5, at the maximum
        assert budget.throttled == 1  # the refusal asked above, none in the procedures

    def test_a_budget_stop_backs_the_site_off_and_the_new_round_dials_unthrottled(self) -> None:
        policy = self.policy.replace(site_retries=1, site_backoff=600.0)
        budget = RetryBudget(2, 1.0)  # retries need more than 1 token
        script = [
            (DIAL, err(678, 5.0)), (Sleep(10.0), ok(15.0)),  # 1 left: the redial is refused
            (Sleep(600.0), ok(615.0)),  # the budget ended the round: back the site off
            (DIAL, ok(620.0)),  # a new round's first dial, although 1 token is left
            (MAP, ok(621.0)),
        ]
        outcome = perform_sequence(connect(policy, TARGET, budget=budget), script)
        assert outcome == Connected(at=621.0, attempts=1, dials=2, codes=(678,))
        assert (budget.tokens, budget.throttled) == (2.0, 1)

    def test_a_budget_stop_in_the_last_round_gives_up_with_reason_budget(self) -> None:
        policy = self.policy.replace(site_retries=1, site_backoff=600.0)
        budget = RetryBudget(2, 1.0)
        script = [
            (DIAL, err(678, 5.0)), (Sleep(10.0), ok(15.0)),
            (Sleep(600.0), ok(615.0)),
            (DIAL, err(678, 620.0)), (Sleep(10.0), ok(630.0)),  # 0 left: refused again
        ]
        outcome = perform_sequence(connect(policy, TARGET, budget=budget), script)
        assert outcome == GaveUp(reason="budget", code=678, at=630.0, attempts=0, dials=2,
                                 codes=(678, 678))
        assert (budget.tokens, budget.throttled) == (0.0, 2)

    def test_without_a_budget_the_same_answers_keep_retrying(self) -> None:
        """The control for the first budget test: no budget, no stop."""
        script = [
            (DIAL, ok(10.0)),
            (MAP, err(53, 11.0)), (Sleep(1.0), ok(12.0)),
            (MAP, err(53, 13.0)), (Sleep(1.0), ok(14.0)),
            (MAP, ok(15.0)),
        ]
        outcome = perform_sequence(connect(self.policy, TARGET), script)
        assert outcome == Connected(at=15.0, attempts=3, dials=1, codes=(53, 53))


class TestSharedBudget:
    """Two senders on one bucket of 4 tokens (retries need more than 2): each may make up to
    3 map attempts 1 s apart on its one dial."""

    policy = RetryPolicy(attempts_per_dial=3, initial_wait=1.0, backoff_base=1.0,
                         max_wait=1.0, max_dials=1)

    def test_b_is_throttled_by_a_failures(self) -> None:
        budget = RetryBudget(4, 0.5)
        a = Stepper(connect(self.policy, TARGET, budget=budget))
        b = Stepper(connect(self.policy, TARGET, budget=budget))
        assert a.pending == DIAL and b.pending == DIAL
        assert a.answer(ok(5.0)) == MAP
        assert b.answer(ok(5.5)) == MAP
        assert a.answer(err(53, 6.0)) == Sleep(1.0)   # 3 left
        assert a.answer(ok(7.0)) == MAP                # 3 > 2: A may retry
        assert a.answer(err(53, 8.0)) == Sleep(1.0)   # 2 left
        assert b.answer(err(53, 8.5)) == Sleep(1.0)   # 1 left: B's first failure
        # B has failed once, yet may not retry: A's failures spent the shared bucket.
        assert b.answer(ok(9.5)) == HANG
        assert a.answer(ok(9.0)) == HANG
        assert b.answer(ok(10.5)) == GaveUp(reason="budget", code=53, at=10.5, attempts=1,
                                            dials=1, codes=(53,))
        assert a.answer(ok(10.0)) == GaveUp(reason="budget", code=53, at=10.0, attempts=2,
                                            dials=1, codes=(53, 53))
        assert (budget.tokens, budget.throttled) == (1.0, 2)

    def test_b_alone_with_the_same_answers_retries(self) -> None:
        """The control: B's own answers, on a bucket nobody else spends from."""
        budget = RetryBudget(4, 0.5)
        b = Stepper(connect(self.policy, TARGET, budget=budget))
        assert b.answer(ok(5.5)) == MAP
        assert b.answer(err(53, 8.5)) == Sleep(1.0)
        assert b.answer(ok(9.5)) == MAP
        assert b.answer(ok(10.0)) == Connected(at=10.0, attempts=2, dials=1, codes=(53,))
        assert budget.tokens == 3.5

    def test_a_success_by_one_sender_lets_the_other_retry(self) -> None:
        budget = RetryBudget(4, 1.0)
        a = Stepper(connect(self.policy, TARGET, budget=budget))
        b = Stepper(connect(self.policy, TARGET, budget=budget))
        assert a.answer(ok(5.0)) == MAP
        assert b.answer(ok(5.0)) == MAP
        assert a.answer(err(53, 6.0)) == Sleep(1.0)   # 3 left
        assert b.answer(err(53, 6.0)) == Sleep(1.0)   # 2 left
        assert a.answer(ok(7.0)) == HANG               # refused
        assert a.answer(ok(8.0)) == GaveUp(reason="budget", code=53, at=8.0, attempts=1,
                                           dials=1, codes=(53,))
        c = Stepper(connect(self.policy, TARGET, budget=budget))
        assert c.answer(ok(8.0)) == MAP                # a third sender's first map...
        assert c.answer(ok(9.0)) == Connected(at=9.0, attempts=1, dials=1, codes=())
        assert budget.tokens == 3.0                    # ...refills one token
        assert b.answer(ok(10.0)) == MAP               # so B, waiting since 6, may retry
        assert b.answer(ok(11.0)) == Connected(at=11.0, attempts=2, dials=1, codes=(53,))
        assert (budget.tokens, budget.throttled) == (4.0, 1)


# --- property: rules 2-8 over random policies, budgets and answers ------------------------
# Link-suspect, server busy, RAS busy (each twice, to reach later rounds more often), and two
# codes outside the default retry set (bad dial-in credentials, bad logon).
CODES = [53, 53, 70, 70, 678, 678, 691, 1326]
MAX_STEPS = 2_000


@dataclass(frozen=True, slots=True)
class Seen:
    """One performed effect, when it started, its answer, and the budget before it."""

    effect: Effect
    start: float
    result: Result
    tokens: float | None


class DrawnAnswers:
    """A performer whose answers and durations are drawn; a Sleep takes exactly its seconds."""

    def __init__(self, data: st.DataObject, started_at: float,
                 budget: RetryBudget | None, max_tokens: int) -> None:
        self._data = data
        self._budget = budget
        self._max = max_tokens
        self.now = started_at
        self.steps: list[Seen] = []

    def perform(self, effect: Effect) -> Result:
        assert len(self.steps) < MAX_STEPS, "the procedure does not terminate"
        tokens = None if self._budget is None else self._budget.tokens
        start = self.now
        result: Result
        if isinstance(effect, Sleep):
            self.now = start + effect.seconds
            result = Succeeded(at=self.now)
        else:
            self.now = start + self._data.draw(st.one_of(st.just(0.0), seconds),
                                               label="duration")
            # one answer in three succeeds, so that rounds run out of dials and back off
            if isinstance(effect, HangUp) or self._data.draw(st.integers(0, 2),
                                                             label="succeeds") == 2:
                result = Succeeded(at=self.now)
            else:
                result = Failed(code=self._data.draw(st.sampled_from(CODES), label="code"),
                                at=self.now)
        self.steps.append(Seen(effect, start, result, tokens))
        return result


@st.composite
def backoff_policies(draw: st.DrawFn) -> RetryPolicy:
    policy = draw(policies(retry_on=st.one_of(
        st.just(DEFAULT_RETRYABLE),
        st.just(DEFAULT_RETRYABLE | set(CODES)),  # retry every code the performer gives
        st.frozensets(st.sampled_from(sorted(set(CODES)))),
    )))
    budget_tokens = draw(st.one_of(st.none(), st.integers(1, 20)))
    return policy.replace(
        site_retries=draw(st.integers(0, 3)),
        site_backoff=draw(st.one_of(st.just(0.0), seconds, st.just(3600.0))),
        budget_tokens=budget_tokens,
        budget_ratio=draw(st.floats(0.001, 1000.0)),  # above max_tokens: fills
    )


@settings(max_examples=300, deadline=None)
@given(policy=backoff_policies(), started_at=st.one_of(st.just(0.0), st.floats(0.0, 1e6)),
       seed=st.integers(0, 2**32 - 1), data=st.data())
def test_rules_hold_with_site_retries_and_budgets(policy: RetryPolicy, started_at: float,
                                                  seed: int, data: st.DataObject) -> None:
    budget = None
    max_tokens = 0
    model = 0  # the budget in milli-tokens, replayed from the trace
    if policy.budget_tokens is not None:
        max_tokens = policy.budget_tokens
        budget = RetryBudget(max_tokens, policy.budget_ratio)
        predrain = data.draw(st.integers(0, max_tokens), label="failures before the start")
        for _ in range(predrain):
            budget.record_failure()
        model = max(0, max_tokens * 1000 - 1000 * predrain)
    top = max_tokens * 1000
    rng = None if policy.jitter == "none" else np.random.default_rng(seed)
    world = DrawnAnswers(data, started_at, budget, max_tokens)

    # run_sync would do, but terminating is itself under test: drive with a step cap.
    procedure = connect(policy, TARGET, rng, started_at=started_at, budget=budget)
    effect = next(procedure)
    while True:
        try:
            effect = procedure.send(world.perform(effect))
        except StopIteration as stop:
            outcome: Outcome = stop.value
            break

    event(f"outcome: {outcome.reason}")
    event(f"budget: {'none' if budget is None else 'yes'}")
    deadline_at = started_at + policy.deadline if policy.deadline is not None else math.inf
    sleep_cap = max(policy.max_wait, policy.redial_wait, policy.settle, policy.site_backoff)

    link = False            # a successful Dial not yet hung up
    ended = False           # a non-retryable code was seen: at most a HangUp may follow
    dials = maps = on_link = 0
    codes: list[int] = []
    for i, step in enumerate(world.steps):
        effect, result = step.effect, step.result
        if step.tokens is not None:
            assert 0.0 <= step.tokens <= max_tokens, f"step {i}: budget {step.tokens}"
            assert step.tokens == model / 1000, f"step {i}: budget {step.tokens} != model"
        if ended:
            assert isinstance(effect, HangUp) and link, (
                f"step {i}: {effect!r} after a non-retryable failure")
        if isinstance(effect, Sleep):
            assert 0 < effect.seconds <= sleep_cap, f"step {i}: {effect!r}"
            assert step.start + effect.seconds < deadline_at, (
                f"step {i}: Sleep from {step.start!r} ends at or after {deadline_at!r}")
        elif isinstance(effect, Dial):
            assert not link, f"step {i}: Dial while holding a link (no HangUp first)"
            assert step.start < deadline_at, f"step {i}: Dial at or after the deadline"
            dials += 1
            if i == 0:
                assert dials == 1
            elif budget is not None and policy.site_retries == 0:
                # one round only, so every dial but the first is a retry
                assert step.tokens is not None and 2 * step.tokens * 1000 > top, (
                    f"step {i}: a redial with {step.tokens} of {max_tokens} tokens left")
            if isinstance(result, Succeeded):
                link, on_link = True, 0
        elif isinstance(effect, AddConnection):
            assert link, f"step {i}: AddConnection without a live link"
            assert step.start < deadline_at, f"step {i}: map at or after the deadline"
            maps += 1
            on_link += 1
            assert on_link <= policy.attempts_per_dial, f"step {i}: map #{on_link} on a link"
            if on_link > 1 and budget is not None:
                assert step.tokens is not None and 2 * step.tokens * 1000 > top, (
                    f"step {i}: a map retry with {step.tokens} of {max_tokens} tokens left")
            if isinstance(result, Succeeded):
                assert i == len(world.steps) - 1, f"step {i}: effects after a mapping"
        else:
            assert isinstance(effect, HangUp)
            assert link, f"step {i}: HangUp without a link"
            link = False
        if isinstance(result, Failed) and not isinstance(effect, Sleep | HangUp):
            codes.append(result.code)
            model = max(0, model - 1000)
            if result.code not in policy.retry_on:
                ended = True

    assert dials <= policy.max_dials * (policy.site_retries + 1)
    event(f"a site retry was used: {dials > policy.max_dials}")
    assert (outcome.dials, outcome.attempts, outcome.codes) == (dials, maps, tuple(codes))
    assert outcome.at == (world.steps[-1].result.at if world.steps else started_at)
    if isinstance(outcome, Connected):
        assert link, "connected without a link"
        model = min(top, model + round(policy.budget_ratio * 1000))
    else:
        assert not link, f"gave up ({outcome.reason}) holding a link: no HangUp"
        assert outcome.reason in ("non_retryable", "dials_exhausted", "deadline", "budget")
        assert (outcome.reason == "non_retryable") == ended
        assert outcome.code == (codes[-1] if codes else 0)
        if outcome.reason == "budget":
            assert budget is not None, "gave up for a budget it was not given"
            assert budget.throttled >= 1 and 2 * budget.tokens * 1000 <= top
    if budget is not None:
        assert 0.0 <= budget.tokens <= max_tokens
        assert budget.tokens == model / 1000
        assert budget.throttled <= policy.site_retries + 1  # each refusal ends a round
    else:
        assert outcome.reason != "budget"
