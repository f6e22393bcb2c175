"""Scripted-sequence tests: each preset and custom policy against an exact script of answers.

Every case states the effects the procedure must yield, the result the performer gives each
(with its exact virtual finish time) and the exact outcome. Times are chosen by hand so that
no expected value depends on floating-point draw order.
"""

from __future__ import annotations

import pytest

from sender.effects import (
    Connected,
    GaveUp,
    Sleep,
)
from sender.policy import PRESETS, RetryPolicy, preset
from sender.procedure import connect
from tests.helpers.sender_script import (
    DIAL,
    HANG,
    MAP,
    TARGET,
    CountingUniform,
    ScriptedUniform,
    err,
    ok,
    perform_sequence,
)


# --- the helper itself --------------------------------------------------------------------
class TestPerformSequence:
    def test_reports_performed_got_and_expected(self) -> None:
        script = [(DIAL, ok(20.0)), (Sleep(5.0), ok(25.0))]
        with pytest.raises(AssertionError) as info:
            perform_sequence(connect(preset("pre-fix"), TARGET), script)
        message = str(info.value)
        assert "Dial(entry='SITE-A') -> Succeeded(at=20.0)" in message  # performed so far
        assert "got:           AddConnection(" in message
        assert "expected next: Sleep(seconds=5.0)" in message

    def test_more_steps_than_scripted(self) -> None:
        with pytest.raises(AssertionError, match="wants more steps than scripted"):
            perform_sequence(connect(preset("pre-fix"), TARGET), [(DIAL, ok(20.0))])

    def test_stops_early(self) -> None:
        script = [(DIAL, ok(20.0)), (MAP, ok(21.0)), (HANG, ok(22.0))]
        with pytest.raises(AssertionError, match="stopped early") as info:
            perform_sequence(connect(preset("pre-fix"), TARGET), script)
        assert "HangUp() -> Succeeded(at=22.0)" in str(info.value)

    def test_returns_outcome(self) -> None:
        script = [(DIAL, ok(20.0)), (MAP, ok(21.0))]
        outcome = perform_sequence(connect(preset("pre-fix"), TARGET), script)
        assert outcome == Connected(at=21.0, attempts=1, dials=1)


# --- presets ------------------------------------------------------------------------------
def test_preset_names() -> None:
    assert sorted(PRESETS) == ["aws-full-jitter", "connras-fix", "pre-fix", "sms2-defaults",
                              "sms2-site-backoff"]
    for name, policy in PRESETS.items():
        assert policy.name == name
        assert preset(name) is policy


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_connects_on_a_good_first_try(name: str) -> None:
    policy = preset(name)
    assert policy.settle == 0  # else the script below needs a Sleep(settle)
    script = [(DIAL, ok(18.5)), (MAP, ok(19.25))]
    outcome = perform_sequence(connect(policy, TARGET, CountingUniform()), script)
    assert outcome == Connected(at=19.25, attempts=1, dials=1, codes=())


class TestPreFix:
    policy = preset("pre-fix")

    def test_success(self) -> None:
        outcome = perform_sequence(connect(self.policy, TARGET),
                                   [(DIAL, ok(20.0)), (MAP, ok(21.5))])
        assert outcome == Connected(at=21.5, attempts=1, dials=1, codes=())

    def test_error_53_hangs_up_and_gives_up(self) -> None:
        """Q221951: one map per dial, so the 53 right after link-up is final."""
        script = [(DIAL, ok(20.0)), (MAP, err(53, 21.0)), (HANG, ok(22.0))]
        outcome = perform_sequence(connect(self.policy, TARGET), script)
        assert outcome == GaveUp(reason="dials_exhausted", code=53, at=22.0, attempts=1,
                                 dials=1, codes=(53,))

    def test_retryable_dial_failure_is_not_redialed(self) -> None:
        outcome = perform_sequence(connect(self.policy, TARGET), [(DIAL, err(676, 30.0))])
        assert outcome == GaveUp(reason="dials_exhausted", code=676, at=30.0, attempts=0,
                                 dials=1, codes=(676,))


class TestConnrasFix:
    policy = preset("connras-fix")

    def test_retries_after_5s_and_connects(self) -> None:
        script = [
            (DIAL, ok(20.0)),
            (MAP, err(53, 21.0)), (Sleep(5.0), ok(26.0)),
            (MAP, err(53, 27.0)), (Sleep(5.0), ok(32.0)),
            (MAP, ok(33.0)),
        ]
        outcome = perform_sequence(connect(self.policy, TARGET), script)
        assert outcome == Connected(at=33.0, attempts=3, dials=1, codes=(53, 53))

    def test_exhausts_after_four_attempts(self) -> None:
        script = [
            (DIAL, ok(20.0)),
            (MAP, err(53, 21.0)), (Sleep(5.0), ok(26.0)),
            (MAP, err(53, 27.0)), (Sleep(5.0), ok(32.0)),
            (MAP, err(64, 33.0)), (Sleep(5.0), ok(38.0)),
            (MAP, err(53, 39.0)),
            (HANG, ok(40.0)),
        ]
        outcome = perform_sequence(connect(self.policy, TARGET), script)
        assert outcome == GaveUp(reason="dials_exhausted", code=53, at=40.0, attempts=4,
                                 dials=1, codes=(53, 53, 64, 53))

    @pytest.mark.parametrize("code", [1326, 67, 5, 86, 1219, 9999])
    def test_non_retryable_map_failure_hangs_up_at_once(self, code: int) -> None:
        script = [
            (DIAL, ok(20.0)),
            (MAP, err(53, 21.0)), (Sleep(5.0), ok(26.0)),
            (MAP, err(code, 27.0)),
            (HANG, ok(28.0)),
        ]
        outcome = perform_sequence(connect(self.policy, TARGET), script)
        assert outcome == GaveUp(reason="non_retryable", code=code, at=28.0, attempts=2,
                                 dials=1, codes=(53, code))


class TestSms2Defaults:
    policy = preset("sms2-defaults")

    def test_line_busy_then_redial_after_60s(self) -> None:
        script = [
            (DIAL, err(676, 30.0)), (Sleep(60.0), ok(90.0)),
            (DIAL, ok(110.0)), (MAP, ok(111.0)),
        ]
        outcome = perform_sequence(connect(self.policy, TARGET), script)
        assert outcome == Connected(at=111.0, attempts=1, dials=2, codes=(676,))

    def test_three_busy_dials_exhaust(self) -> None:
        script = [
            (DIAL, err(676, 30.0)), (Sleep(60.0), ok(90.0)),
            (DIAL, err(678, 120.0)), (Sleep(60.0), ok(180.0)),
            (DIAL, err(676, 210.0)),
        ]
        outcome = perform_sequence(connect(self.policy, TARGET), script)
        assert outcome == GaveUp(reason="dials_exhausted", code=676, at=210.0, attempts=0,
                                 dials=3, codes=(676, 678, 676))

    def test_error_53_on_every_link_redials_twice(self) -> None:
        script = [
            (DIAL, ok(20.0)), (MAP, err(53, 21.0)), (HANG, ok(22.0)), (Sleep(60.0), ok(82.0)),
            (DIAL, ok(100.0)), (MAP, err(53, 101.0)), (HANG, ok(102.0)),
            (Sleep(60.0), ok(162.0)),
            (DIAL, ok(180.0)), (MAP, err(53, 181.0)), (HANG, ok(182.0)),
        ]
        outcome = perform_sequence(connect(self.policy, TARGET), script)
        assert outcome == GaveUp(reason="dials_exhausted", code=53, at=182.0, attempts=3,
                                 dials=3, codes=(53, 53, 53))

    def test_bad_dial_in_credentials_give_up_without_hangup(self) -> None:
        """A failed dial holds no connection (rule 3), so 691 ends with no HangUp."""
        outcome = perform_sequence(connect(self.policy, TARGET), [(DIAL, err(691, 25.0))])
        assert outcome == GaveUp(reason="non_retryable", code=691, at=25.0, attempts=0,
                                 dials=1, codes=(691,))

    def test_non_retryable_after_a_redial(self) -> None:
        script = [(DIAL, err(676, 30.0)), (Sleep(60.0), ok(90.0)), (DIAL, err(691, 95.0))]
        outcome = perform_sequence(connect(self.policy, TARGET), script)
        assert outcome == GaveUp(reason="non_retryable", code=691, at=95.0, attempts=0,
                                 dials=2, codes=(676, 691))


class TestAwsFullJitter:
    policy = preset("aws-full-jitter")

    def test_map_waits_are_scaled_by_the_draws(self) -> None:
        # ceilings 1, 2, 4, 8 (cap 30); draws 0.5, 0.25, 0.75, 0.0 -> 0.5, 0.5, 3.0, skip
        rng = ScriptedUniform([0.5, 0.25, 0.75, 0.0])
        script = [
            (DIAL, ok(10.0)),
            (MAP, err(53, 11.0)), (Sleep(0.5), ok(11.5)),
            (MAP, err(53, 12.5)), (Sleep(0.5), ok(13.0)),
            (MAP, err(70, 14.0)), (Sleep(3.0), ok(17.0)),
            (MAP, err(170, 18.0)),  # a zero wait is no Sleep at all
            (MAP, ok(19.0)),
        ]
        outcome = perform_sequence(connect(self.policy, TARGET, rng), script)
        assert outcome == Connected(at=19.0, attempts=5, dials=1, codes=(53, 53, 70, 170))
        assert rng.used == 4

    def test_redial_wait_is_jittered(self) -> None:
        rng = ScriptedUniform([0.5])  # redial ceiling 30 -> 15
        script = [(DIAL, err(678, 40.0)), (Sleep(15.0), ok(55.0)), (DIAL, err(678, 95.0))]
        outcome = perform_sequence(connect(self.policy, TARGET, rng), script)
        assert outcome == GaveUp(reason="dials_exhausted", code=678, at=95.0, attempts=0,
                                 dials=2, codes=(678, 678))

    def test_deadline_of_300s_stops_a_slow_run(self) -> None:
        rng = ScriptedUniform([0.5])
        script = [(DIAL, ok(10.0)), (MAP, err(53, 299.5))]  # the 0.5s wait would end at 300
        script += [(HANG, ok(301.0))]
        outcome = perform_sequence(connect(self.policy, TARGET, rng), script)
        assert outcome == GaveUp(reason="deadline", code=53, at=301.0, attempts=1, dials=1,
                                 codes=(53,))


# --- custom policies ----------------------------------------------------------------------
class TestRedialAfter:
    policy = RetryPolicy(attempts_per_dial=10, redial_after=2, max_dials=2, initial_wait=1.0,
                         backoff_base=1.0, max_wait=1.0, redial_wait=10.0)

    def test_two_link_suspect_codes_redial_and_a_server_code_resets_the_run(self) -> None:
        script = [
            (DIAL, ok(10.0)),
            (MAP, err(53, 11.0)), (Sleep(1.0), ok(12.0)),
            (MAP, err(70, 13.0)), (Sleep(1.0), ok(14.0)),  # server reached: run resets
            (MAP, err(53, 15.0)), (Sleep(1.0), ok(16.0)),
            (MAP, err(64, 17.0)),  # second suspect in a row: drop the link
            (HANG, ok(18.0)), (Sleep(10.0), ok(28.0)),
            (DIAL, ok(38.0)), (MAP, ok(39.0)),
        ]
        outcome = perform_sequence(connect(self.policy, TARGET), script)
        assert outcome == Connected(at=39.0, attempts=5, dials=2, codes=(53, 70, 53, 64))

    def test_server_codes_alone_never_redial(self) -> None:
        policy = self.policy.replace(attempts_per_dial=3)
        script = [
            (DIAL, ok(10.0)),
            (MAP, err(70, 11.0)), (Sleep(1.0), ok(12.0)),
            (MAP, err(170, 13.0)), (Sleep(1.0), ok(14.0)),
            (MAP, err(71, 15.0)),  # attempts used up: that is what redials here
            (HANG, ok(16.0)), (Sleep(10.0), ok(26.0)),
            (DIAL, ok(36.0)), (MAP, err(70, 37.0)), (Sleep(1.0), ok(38.0)),
            (MAP, ok(39.0)),
        ]
        outcome = perform_sequence(connect(policy, TARGET), script)
        assert outcome == Connected(at=39.0, attempts=5, dials=2, codes=(70, 170, 71, 70))

    def test_suspect_run_on_the_last_dial_gives_up(self) -> None:
        policy = self.policy.replace(max_dials=1)
        script = [
            (DIAL, ok(10.0)),
            (MAP, err(53, 11.0)), (Sleep(1.0), ok(12.0)),
            (MAP, err(53, 13.0)),
            (HANG, ok(14.0)),
        ]
        outcome = perform_sequence(connect(policy, TARGET), script)
        assert outcome == GaveUp(reason="dials_exhausted", code=53, at=14.0, attempts=2,
                                 dials=1, codes=(53, 53))


def test_settle_sleeps_before_the_first_map_on_every_link() -> None:
    policy = RetryPolicy(settle=3.0, attempts_per_dial=2, initial_wait=2.0, max_wait=2.0,
                         max_dials=2, redial_wait=0.0)
    script = [
        (DIAL, ok(20.0)), (Sleep(3.0), ok(23.0)),
        (MAP, err(53, 24.0)), (Sleep(2.0), ok(26.0)),  # the retry waits initial_wait only
        (MAP, err(53, 27.0)),
        (HANG, ok(28.0)),  # redial_wait 0: no Sleep before the redial
        (DIAL, ok(40.0)), (Sleep(3.0), ok(43.0)),
        (MAP, ok(44.0)),
    ]
    outcome = perform_sequence(connect(policy, TARGET), script)
    assert outcome == Connected(at=44.0, attempts=3, dials=2, codes=(53, 53))


def test_map_backoff_restarts_on_a_new_link() -> None:
    policy = RetryPolicy(attempts_per_dial=3, initial_wait=1.0, backoff_base=2.0, max_wait=3.0,
                         max_dials=2, redial_wait=5.0)
    script = [
        (DIAL, ok(0.0)),
        (MAP, err(53, 1.0)), (Sleep(1.0), ok(2.0)),
        (MAP, err(53, 3.0)), (Sleep(2.0), ok(5.0)),
        (MAP, err(53, 6.0)),
        (HANG, ok(7.0)), (Sleep(5.0), ok(12.0)),
        (DIAL, ok(22.0)),
        (MAP, err(53, 23.0)), (Sleep(1.0), ok(24.0)),  # k = 0 again on the new link
        (MAP, err(53, 25.0)), (Sleep(2.0), ok(27.0)),
        (MAP, err(53, 28.0)),
        (HANG, ok(29.0)),
    ]
    outcome = perform_sequence(connect(policy, TARGET), script)
    assert outcome == GaveUp(reason="dials_exhausted", code=53, at=29.0, attempts=6, dials=2,
                             codes=(53,) * 6)


def test_map_backoff_is_capped_at_max_wait() -> None:
    policy = RetryPolicy(attempts_per_dial=5, initial_wait=2.0, backoff_base=3.0, max_wait=10.0)
    script = [(DIAL, ok(0.0))]
    t = 0.0
    for wait in (2.0, 6.0, 10.0, 10.0):
        script += [(MAP, err(121, t + 1.0)), (Sleep(wait), ok(t + 1.0 + wait))]
        t += 1.0 + wait
    script += [(MAP, ok(t + 1.0))]
    outcome = perform_sequence(connect(policy, TARGET), script)
    assert outcome == Connected(at=t + 1.0, attempts=5, dials=1, codes=(121,) * 4)
    assert t == 32.0


def test_redial_backoff_grows_and_is_capped() -> None:
    policy = RetryPolicy(max_dials=4, redial_wait=10.0, backoff_base=2.0, max_wait=15.0)
    script = [
        (DIAL, err(678, 30.0)), (Sleep(10.0), ok(40.0)),
        (DIAL, err(678, 70.0)), (Sleep(15.0), ok(85.0)),  # min(15, 20)
        (DIAL, err(679, 115.0)), (Sleep(15.0), ok(130.0)),
        (DIAL, ok(150.0)), (MAP, ok(151.0)),
    ]
    outcome = perform_sequence(connect(policy, TARGET), script)
    assert outcome == Connected(at=151.0, attempts=1, dials=4, codes=(678, 678, 679))


class TestRetryOn:
    def test_custom_retry_on_makes_70_final(self) -> None:
        policy = RetryPolicy(attempts_per_dial=3, retry_on=frozenset({53}))
        script = [(DIAL, ok(5.0)), (MAP, err(70, 6.0)), (HANG, ok(7.0))]
        outcome = perform_sequence(connect(policy, TARGET), script)
        assert outcome == GaveUp(reason="non_retryable", code=70, at=7.0, attempts=1, dials=1,
                                 codes=(70,))

    def test_custom_retry_on_can_retry_67(self) -> None:
        """SMS 2.0 logged 67 as 'Operation is retryable' (Q235753); a policy may agree."""
        policy = RetryPolicy(attempts_per_dial=2, retry_on={53, 67}, initial_wait=4.0,
                             max_wait=4.0)
        script = [(DIAL, ok(5.0)), (MAP, err(67, 6.0)), (Sleep(4.0), ok(10.0)),
                  (MAP, ok(11.0))]
        outcome = perform_sequence(connect(policy, TARGET), script)
        assert outcome == Connected(at=11.0, attempts=2, dials=1, codes=(67,))

    def test_dial_code_outside_retry_on_is_final(self) -> None:
        policy = RetryPolicy(max_dials=3, redial_wait=5.0, retry_on={53})
        outcome = perform_sequence(connect(policy, TARGET), [(DIAL, err(676, 3.0))])
        assert outcome == GaveUp(reason="non_retryable", code=676, at=3.0, attempts=0,
                                 dials=1, codes=(676,))


class TestDeadline:
    def test_a_map_wait_past_the_deadline_hangs_up(self) -> None:
        policy = RetryPolicy(attempts_per_dial=5, initial_wait=10.0, backoff_base=2.0,
                             max_wait=60.0, deadline=30.0)
        script = [
            (DIAL, ok(5.0)),
            (MAP, err(53, 6.0)), (Sleep(10.0), ok(16.0)),
            (MAP, err(53, 17.0)),  # the next wait, 20s, would end at 37 > 30
            (HANG, ok(18.0)),
        ]
        outcome = perform_sequence(connect(policy, TARGET), script)
        assert outcome == GaveUp(reason="deadline", code=53, at=18.0, attempts=2, dials=1,
                                 codes=(53, 53))

    def test_a_wait_ending_exactly_at_the_deadline_is_not_slept(self) -> None:
        policy = RetryPolicy(attempts_per_dial=5, initial_wait=10.0, max_wait=10.0,
                             deadline=30.0)
        script = [(DIAL, ok(5.0)), (MAP, err(53, 20.0)), (HANG, ok(21.0))]
        outcome = perform_sequence(connect(policy, TARGET), script)
        assert outcome == GaveUp(reason="deadline", code=53, at=21.0, attempts=1, dials=1,
                                 codes=(53,))

    def test_a_redial_wait_past_the_deadline_gives_up_without_hangup(self) -> None:
        policy = RetryPolicy(max_dials=3, redial_wait=60.0, max_wait=60.0, deadline=100.0)
        script = [(DIAL, err(676, 30.0)), (Sleep(60.0), ok(90.0)), (DIAL, err(676, 95.0))]
        outcome = perform_sequence(connect(policy, TARGET), script)
        assert outcome == GaveUp(reason="deadline", code=676, at=95.0, attempts=0, dials=2,
                                 codes=(676, 676))

    def test_a_redial_wait_ending_exactly_at_the_deadline_is_not_slept(self) -> None:
        policy = RetryPolicy(max_dials=3, redial_wait=60.0, max_wait=60.0, deadline=100.0)
        outcome = perform_sequence(connect(policy, TARGET), [(DIAL, err(676, 40.0))])
        assert outcome == GaveUp(reason="deadline", code=676, at=40.0, attempts=0, dials=1,
                                 codes=(676,))

    def test_a_redial_wait_ending_just_before_the_deadline_is_slept(self) -> None:
        policy = RetryPolicy(max_dials=3, redial_wait=60.0, max_wait=60.0, deadline=100.0)
        script = [(DIAL, err(676, 39.5)), (Sleep(60.0), ok(99.5)), (DIAL, ok(99.75)),
                  (MAP, ok(130.0))]  # the map starts before 100 and may finish after it
        outcome = perform_sequence(connect(policy, TARGET), script)
        assert outcome == Connected(at=130.0, attempts=1, dials=2, codes=(676,))

    def test_a_settle_past_the_deadline_hangs_up(self) -> None:
        policy = RetryPolicy(settle=10.0, deadline=30.0)
        outcome = perform_sequence(connect(policy, TARGET),
                                   [(DIAL, ok(25.0)), (HANG, ok(26.0))])
        assert outcome == GaveUp(reason="deadline", code=0, at=26.0, attempts=0, dials=1,
                                 codes=())

    def test_no_attempt_starts_at_the_deadline_even_without_a_wait(self) -> None:
        policy = RetryPolicy(attempts_per_dial=3, initial_wait=0.0, max_wait=0.0,
                             deadline=30.0)
        script = [(DIAL, ok(10.0)), (MAP, err(53, 29.0)), (MAP, err(53, 30.0)),
                  (HANG, ok(31.0))]
        outcome = perform_sequence(connect(policy, TARGET), script)
        assert outcome == GaveUp(reason="deadline", code=53, at=31.0, attempts=2, dials=1,
                                 codes=(53, 53))

    def test_no_redial_starts_at_the_deadline(self) -> None:
        policy = RetryPolicy(max_dials=3, redial_wait=0.0, deadline=30.0)
        script = [(DIAL, err(678, 29.0)), (DIAL, err(678, 45.0))]
        outcome = perform_sequence(connect(policy, TARGET), script)
        assert outcome == GaveUp(reason="deadline", code=678, at=45.0, attempts=0, dials=2,
                                 codes=(678, 678))

    def test_deadline_counts_from_started_at(self) -> None:
        policy = RetryPolicy(attempts_per_dial=3, initial_wait=5.0, max_wait=5.0,
                             deadline=20.0)
        script = [
            (DIAL, ok(1010.0)),
            (MAP, err(53, 1011.0)), (Sleep(5.0), ok(1016.0)),
            (MAP, err(53, 1017.0)),  # 1017 + 5 >= 1000 + 20
            (HANG, ok(1018.0)),
        ]
        outcome = perform_sequence(connect(policy, TARGET, started_at=1000.0), script)
        assert outcome == GaveUp(reason="deadline", code=53, at=1018.0, attempts=2, dials=1,
                                 codes=(53, 53))

    def test_an_attempt_in_flight_may_finish_after_the_deadline(self) -> None:
        policy = RetryPolicy(deadline=30.0)
        outcome = perform_sequence(connect(policy, TARGET),
                                   [(DIAL, ok(10.0)), (MAP, ok(45.0))])
        assert outcome == Connected(at=45.0, attempts=1, dials=1, codes=())


def test_connect_without_rng_never_draws_for_jitter_none() -> None:
    policy = RetryPolicy(attempts_per_dial=3, max_dials=2, redial_wait=7.0, settle=1.0)
    rng = CountingUniform()
    script = [
        (DIAL, ok(0.0)), (Sleep(1.0), ok(1.0)),
        (MAP, err(53, 2.0)), (Sleep(1.0), ok(3.0)),
        (MAP, err(53, 4.0)), (Sleep(2.0), ok(6.0)),
        (MAP, err(53, 7.0)),
        (HANG, ok(8.0)), (Sleep(7.0), ok(15.0)),
        (DIAL, ok(20.0)), (Sleep(1.0), ok(21.0)), (MAP, ok(22.0)),
    ]
    expected = Connected(at=22.0, attempts=4, dials=2, codes=(53, 53, 53))
    assert perform_sequence(connect(policy, TARGET, rng), script) == expected
    assert rng.draws == 0
    assert perform_sequence(connect(policy, TARGET), script) == expected  # rng=None
