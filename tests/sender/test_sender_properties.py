"""Property tests: the procedure's rules hold for any valid policy against any performer.

Policies are generated field by field within validation; performers answer every effect with
a drawn result and a drawn duration (a ``Sleep`` takes exactly its seconds). The rules
themselves live in ``sender_script.check_trace``, shared with the stateful test.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from sender.codes import CATALOG, DEFAULT_RETRYABLE
from sender.driver import run_sync
from sender.effects import (
    AddConnection,
    Dial,
    Effect,
    Failed,
    GaveUp,
    HangUp,
    Result,
    Sleep,
    Succeeded,
)
from sender.policy import (
    PRESETS,
    Backoff,
    PolicyError,
    RetryPolicy,
    preset,
)
from sender.procedure import Target, connect
from tests.helpers.sender_script import (
    UNKNOWN_CODES,
    CountingUniform,
    Step,
    check_trace,
    policies,
    seconds,
)

# The sanity ceilings from sender.policy: 10,000 of anything, 7 days of any duration.
MAX_COUNT = 10_000
MAX_SECONDS = 7 * 24 * 3600.0

TARGET = Target(entry="SITE-A", remote=r"\\SRV01\SMS_SITE", user="SMSSVC")

RAS_CODES = sorted(n for n in CATALOG if 600 <= n <= 752)
WIN32_CODES = sorted(n for n in CATALOG if n not in RAS_CODES)

# --- strategies ---------------------------------------------------------------------------
class DrawnUniform:
    """A ``UniformSource`` whose every draw is a Hypothesis choice (so it shrinks)."""

    def __init__(self, data: st.DataObject) -> None:
        self._data = data
        self.draws = 0

    def random(self) -> float:
        self.draws += 1
        return self._data.draw(st.floats(0.0, 1.0, exclude_max=True), label="rng")


class DrawnWorld:
    """A performer whose answers and durations are drawn; it records a ``Step`` trace."""

    def __init__(self, data: st.DataObject, started_at: float) -> None:
        self._data = data
        self.now = started_at
        self.steps: list[Step] = []

    def _duration(self) -> float:
        return self._data.draw(st.one_of(st.just(0.0), seconds), label="duration")

    def perform(self, effect: Effect) -> Result:
        start = self.now
        result: Result
        if isinstance(effect, Sleep):
            self.now = start + effect.seconds
            result = Succeeded(at=self.now)
        else:
            self.now = start + self._duration()
            if isinstance(effect, HangUp):
                result = Succeeded(at=self.now)
            else:
                assert isinstance(effect, Dial | AddConnection), effect
                codes = RAS_CODES if isinstance(effect, Dial) else WIN32_CODES
                if self._data.draw(st.booleans(), label="succeeds"):
                    result = Succeeded(at=self.now)
                else:
                    code = self._data.draw(st.sampled_from(codes + UNKNOWN_CODES), label="code")
                    result = Failed(code=code, at=self.now)
        self.steps.append(Step(effect, start, result))
        return result


# --- the procedure ------------------------------------------------------------------------
@settings(max_examples=200, deadline=None)
@given(policy=policies(), started_at=st.one_of(st.just(0.0), st.floats(0.0, 1e6)),
       data=st.data())
def test_procedure_rules_hold_for_any_policy_and_performer(
        policy: RetryPolicy, started_at: float, data: st.DataObject) -> None:
    world = DrawnWorld(data, started_at)
    rng = None if policy.jitter == "none" else DrawnUniform(data)
    outcome = run_sync(connect(policy, TARGET, rng, started_at=started_at), world.perform)
    event(f"outcome: {outcome.reason}")
    event(f"dials: {min(outcome.dials, 3)}{'+' if outcome.dials >= 3 else ''}")
    check_trace(policy, world.steps, outcome, started_at=started_at)


@settings(max_examples=40, deadline=None)
@given(policy=policies(), seed=st.integers(0, 2**32 - 1), data=st.data())
def test_rules_hold_with_a_numpy_generator(policy: RetryPolicy, seed: int,
                                           data: st.DataObject) -> None:
    world = DrawnWorld(data, 0.0)
    outcome = run_sync(connect(policy, TARGET, np.random.default_rng(seed)), world.perform)
    check_trace(policy, world.steps, outcome)


@settings(max_examples=40, deadline=None)
@given(policy=policies(), data=st.data())
def test_same_answers_and_draws_give_the_same_run(policy: RetryPolicy,
                                                  data: st.DataObject) -> None:
    """The procedure is a function of its answers and draws: replaying them replays it."""
    world = DrawnWorld(data, 0.0)
    draws: list[float] = []

    class Recording:
        def random(self) -> float:
            draws.append(data.draw(st.floats(0.0, 1.0, exclude_max=True)))
            return draws[-1]

    first = run_sync(connect(policy, TARGET, Recording()), world.perform)
    answers = iter(step.result for step in world.steps)
    replayed = iter(draws)

    class Replay:
        def random(self) -> float:
            return next(replayed)

    effects: list[Effect] = []

    def perform(effect: Effect) -> Result:
        effects.append(effect)
        return next(answers)

    assert run_sync(connect(policy, TARGET, Replay()), perform) == first
    assert effects == [step.effect for step in world.steps]


@settings(max_examples=40, deadline=None)
@given(policy=policies(), data=st.data())
def test_jitter_none_never_draws(policy: RetryPolicy, data: st.DataObject) -> None:
    policy = policy.replace(jitter="none")
    rng = CountingUniform()
    world = DrawnWorld(data, 0.0)
    outcome = run_sync(connect(policy, TARGET, rng), world.perform)
    assert rng.draws == 0
    check_trace(policy, world.steps, outcome)


@settings(max_examples=30, deadline=None)
@given(policy=policies(), data=st.data())
def test_a_random_jitter_policy_draws_from_its_rng_only(policy: RetryPolicy,
                                                        data: st.DataObject) -> None:
    """Each Sleep outside settle costs exactly one draw from the given rng (none otherwise)."""
    policy = policy.replace(jitter=data.draw(st.sampled_from(["full", "equal", "decorrelated"])),
                            settle=0.0)
    rng = CountingUniform(0.5)
    world = DrawnWorld(data, 0.0)
    run_sync(connect(policy, TARGET, rng), world.perform)
    sleeps = sum(isinstance(step.effect, Sleep) for step in world.steps)
    assert rng.draws >= sleeps


def test_rng_none_fails_loudly_for_a_random_policy() -> None:
    """Without an rng a jittered policy must not silently fall back to module randomness:
    ``connect`` refuses at once, naming the policy and the jitter mode."""
    with pytest.raises(ValueError, match="'aws-full-jitter' uses 'full' jitter: pass an rng"):
        connect(preset("aws-full-jitter"), TARGET)


@settings(max_examples=50, deadline=None)
@given(policy=policies(retry_on=st.just(DEFAULT_RETRYABLE)), data=st.data())
def test_a_permanent_code_ends_the_procedure(policy: RetryPolicy, data: st.DataObject) -> None:
    permanent = data.draw(st.sampled_from([5, 67, 86, 1219, 1326, 9999]))
    procedure = connect(policy, TARGET, np.random.default_rng(0))
    effect = next(procedure)
    assert effect == Dial("SITE-A")
    effect = procedure.send(Succeeded(at=1.0))
    if isinstance(effect, Sleep):
        effect = procedure.send(Succeeded(at=1.0 + effect.seconds))
    if isinstance(effect, HangUp):  # a settle past the deadline
        return
    assert isinstance(effect, AddConnection)
    assert procedure.send(Failed(code=permanent, at=50.0)) == HangUp()
    with pytest.raises(StopIteration) as stop:
        procedure.send(Succeeded(at=51.0))
    assert stop.value.value == GaveUp(reason="non_retryable", code=permanent, at=51.0,
                                      attempts=1, dials=1, codes=(permanent,))


# --- Backoff ------------------------------------------------------------------------------
backoff_params = st.tuples(
    st.floats(0.0, 100.0),  # initial
    st.floats(1.0, 10.0),   # base
    st.floats(0.0, 500.0),  # cap (Backoff raises it to initial)
)


@given(params=backoff_params, n=st.integers(1, 30))
def test_backoff_none_is_capped_exponential(params: tuple[float, float, float], n: int) -> None:
    initial, base, cap = params
    backoff = Backoff(initial, base, cap, "none", CountingUniform())
    cap = max(cap, initial)
    for k in range(n):
        expected = min(cap, initial * base ** k)
        assert math.isclose(backoff.next_wait(), expected, rel_tol=1e-9, abs_tol=1e-12), k


@pytest.mark.parametrize(("initial", "base", "cap", "waits"), [
    (1.0, 2.0, 30.0, [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]),
    (5.0, 1.0, 5.0, [5.0, 5.0, 5.0]),
    (60.0, 1.0, 60.0, [60.0, 60.0]),
    (2.0, 3.0, 10.0, [2.0, 6.0, 10.0, 10.0]),
    (10.0, 2.0, 1.0, [10.0, 10.0]),  # cap below initial: initial wins
    (0.0, 2.0, 10.0, [0.0, 0.0, 0.0]),
])
def test_backoff_none_table(initial: float, base: float, cap: float, waits: list[float]) -> None:
    backoff = Backoff(initial, base, cap, "none", CountingUniform())
    assert [backoff.next_wait() for _ in waits] == waits


@pytest.mark.parametrize(("jitter", "draws", "waits"), [
    # initial 4, base 2, cap 20 -> ceilings 4, 8, 16, 20
    ("full", [0.5, 0.25, 0.0, 0.75], [2.0, 2.0, 0.0, 15.0]),
    ("equal", [0.5, 0.25, 0.0, 0.75], [3.0, 5.0, 8.0, 17.5]),
    # uniform(4, 3 * prev) capped at 20; prev starts at 4
    ("decorrelated", [0.5, 0.5, 1.0 - 2**-53, 0.0], [8.0, 14.0, 20.0, 4.0]),
])
def test_backoff_jitter_table(jitter: str, draws: list[float], waits: list[float]) -> None:
    backoff = Backoff(4.0, 2.0, 20.0, jitter, iter_uniform(draws))
    got = [backoff.next_wait() for _ in waits]
    assert got == pytest.approx(waits, rel=1e-12)


def iter_uniform(values: list[float]) -> CountingUniform:
    it = iter(values)

    class FromList(CountingUniform):
        def random(self) -> float:
            self.draws += 1
            return next(it)

    return FromList()


@given(params=backoff_params, jitter=st.sampled_from(["full", "equal", "decorrelated"]),
       draws=st.lists(st.floats(0.0, 1.0, exclude_max=True), min_size=1, max_size=30))
def test_backoff_jitter_bounds(params: tuple[float, float, float], jitter: str,
                               draws: list[float]) -> None:
    initial, base, cap = params
    rng = iter_uniform(draws)
    backoff = Backoff(initial, base, cap, jitter, rng)
    cap = max(cap, initial)
    for k in range(len(draws)):
        ceiling = min(cap, initial * base ** k)
        wait = backoff.next_wait()
        slack = 1e-9 * max(1.0, cap)
        if jitter == "full":
            assert -slack <= wait <= ceiling + slack
        elif jitter == "equal":
            assert ceiling / 2 - slack <= wait <= ceiling + slack
        else:
            assert initial - slack <= wait <= cap + slack
    assert rng.draws == len(draws)


# --- RetryPolicy validation ---------------------------------------------------------------
@settings(max_examples=50)
@given(policy=policies())
def test_generated_policies_round_trip_through_replace(policy: RetryPolicy) -> None:
    assert policy.replace() == policy
    assert policy.max_wait >= policy.initial_wait
    described = policy.describe()
    assert described["retry_on"] == sorted(policy.retry_on)


@pytest.mark.parametrize(("changes", "field"), [
    ({"attempts_per_dial": 0}, "attempts_per_dial"),
    ({"attempts_per_dial": -1}, "attempts_per_dial"),
    ({"attempts_per_dial": True}, "attempts_per_dial"),
    ({"attempts_per_dial": 2.0}, "attempts_per_dial"),
    ({"attempts_per_dial": MAX_COUNT + 1}, "attempts_per_dial"),
    ({"max_dials": 0}, "max_dials"),
    ({"max_dials": False}, "max_dials"),
    ({"max_dials": "3"}, "max_dials"),
    ({"redial_after": 0}, "redial_after"),
    ({"redial_after": True}, "redial_after"),
    ({"settle": -1.0}, "settle"),
    ({"settle": float("nan")}, "settle"),
    ({"settle": True}, "settle"),
    ({"initial_wait": -0.5}, "initial_wait"),
    ({"initial_wait": float("inf")}, "initial_wait"),
    ({"max_wait": float("nan")}, "max_wait"),
    ({"max_wait": "60"}, "max_wait"),
    ({"max_wait": MAX_SECONDS + 1}, "max_wait"),
    ({"max_dials": MAX_COUNT + 1}, "max_dials"),
    ({"redial_wait": -60.0}, "redial_wait"),
    ({"deadline": 0}, "deadline"),
    ({"deadline": -5.0}, "deadline"),
    ({"deadline": float("nan")}, "deadline"),
    ({"deadline": True}, "deadline"),
    ({"backoff_base": 0.5}, "backoff_base"),
    ({"backoff_base": float("nan")}, "backoff_base"),
    ({"backoff_base": 101.0}, "backoff_base"),
    ({"backoff_base": True}, "backoff_base"),
    ({"initial_wait": 10.0, "max_wait": 5.0}, "max_wait"),
    ({"jitter": "random"}, "jitter"),
    ({"jitter": "None"}, "jitter"),
    ({"retry_on": {53, 0}}, "retry_on"),
    ({"retry_on": {53, True}}, "retry_on"),
    ({"retry_on": {"53"}}, "retry_on"),
    ({"redial_on": {-64}}, "redial_on"),
    ({"retry_on": 53}, "retry_on"),  # a bare code, not a set
    ({"retry_on": None}, "retry_on"),
    ({"retry_on": "53"}, "retry_on"),
    ({"redial_on": 64}, "redial_on"),
    ({"redial_on": [[53]]}, "redial_on"),  # unhashable members
    ({"name": ""}, "name"),
    ({"budget_tokens": 0}, "budget_tokens"),
    ({"budget_ratio": 0.0}, "budget_ratio"),
    ({"budget_ratio": 0.0004}, "budget_ratio"),  # would round to no refill at all
    ({"budget_ratio": 1000.5}, "budget_ratio"),
    ({"budget_ratio": True}, "budget_ratio"),
    ({"budget_ratio": float("nan")}, "budget_ratio"),
    ({"site_retries": -1}, "site_retries"),
    ({"site_backoff": -1.0}, "site_backoff"),
])
def test_invalid_policies_name_the_field(changes: dict[str, object], field: str) -> None:
    with pytest.raises(PolicyError) as info:
        RetryPolicy(**changes)  # type: ignore[arg-type]
    assert info.value.field == field
    assert str(info.value).startswith(f"{field}: ")
    with pytest.raises(PolicyError) as info:
        PRESETS["connras-fix"].replace(**changes)  # replace validates too
    assert info.value.field == field


@pytest.mark.parametrize("changes", [
    {"initial_wait": 10.0, "max_wait": 10.0},
    {"initial_wait": 0.0, "max_wait": 0.0},
    {"attempts_per_dial": MAX_COUNT, "max_dials": 1, "redial_after": MAX_COUNT},
    {"attempts_per_dial": 100, "max_dials": 100},
    {"max_wait": MAX_SECONDS, "deadline": MAX_SECONDS, "settle": MAX_SECONDS},
    {"deadline": 1e-9},
    {"backoff_base": 1.0},
    {"backoff_base": 100},
    {"retry_on": frozenset(), "redial_on": frozenset()},
])
def test_boundary_policies_are_valid(changes: dict[str, object]) -> None:
    policy = RetryPolicy(**changes)  # type: ignore[arg-type]
    for name, value in changes.items():
        assert getattr(policy, name) == value


@pytest.mark.parametrize(("initial_wait", "max_wait"), [(10.0, 9.5), (1.0, 0.999), (5, 0)])
def test_max_wait_just_below_initial_wait_is_rejected(initial_wait: float,
                                                      max_wait: float) -> None:
    with pytest.raises(PolicyError) as info:
        RetryPolicy(initial_wait=initial_wait, max_wait=max_wait)
    assert info.value.field == "max_wait"


def test_max_wait_error_says_how_to_fix() -> None:
    with pytest.raises(PolicyError, match=r"at least initial_wait \(10.0s\), got 5.0s") as info:
        RetryPolicy(initial_wait=10.0, max_wait=5.0)
    assert info.value.field == "max_wait"


def test_unknown_jitter_lists_the_modes() -> None:
    with pytest.raises(PolicyError, match="none, full, equal, decorrelated"):
        RetryPolicy(jitter="gaussian")  # type: ignore[arg-type]


def test_a_bare_code_set_error_says_what_is_expected() -> None:
    with pytest.raises(PolicyError, match=r"retry_on: must be a set of error codes .* got 53"):
        RetryPolicy(retry_on=53)  # type: ignore[arg-type]


def test_code_sets_are_frozen() -> None:
    policy = RetryPolicy(retry_on=[53, 64], redial_on={53})  # type: ignore[arg-type]
    assert policy.retry_on == frozenset({53, 64})
    assert isinstance(policy.redial_on, frozenset)


def test_unknown_preset_lists_known_presets() -> None:
    with pytest.raises(PolicyError) as info:
        preset("nope")
    assert info.value.field == "policy"
    message = str(info.value)
    assert "'nope'" in message
    for name in PRESETS:
        assert name in message


def test_a_map_budget_of_millions_per_trial_is_refused() -> None:
    # Each attempt is simulated; 10,000 x 10,000 maps per trial is a typo, not a policy.
    with pytest.raises(PolicyError) as info:
        RetryPolicy(attempts_per_dial=MAX_COUNT, max_dials=MAX_COUNT)
    assert info.value.field == "max_dials"
    assert "100,000,000 map attempts per trial; at most 10,000" in str(info.value)
