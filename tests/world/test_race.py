"""``sim.world.race.Wake``: one reusable "first of two events" wakes a process exactly when,
and in exactly the order among equal times, SimPy's ``a | b`` would (its module contract).

The worlds here are made of integer times, so ties are everywhere: several processes wait on
answers and time-outs falling at the same instants, with answers shared between consecutive
waits (as a name resolution's answer is) and losers of earlier races still queued when the
wake is re-armed. Each run logs who woke when and what it saw; the log with ``Wake`` must equal
the log with ``Condition``.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.world.race import Wake

#: One process's plan: per wait, (answer delay or None for "never", timeout, new answer?).
Plan = list[tuple[int | None, int, bool]]
Log = list[tuple[float, int, int, bool, bool]]

plans = st.lists(
    st.lists(st.tuples(st.one_of(st.none(), st.integers(0, 4)), st.integers(0, 4),
                       st.booleans()), min_size=1, max_size=5),
    min_size=1, max_size=4)


def _run(plans: list[Plan], wait: Callable[[simpy.Environment, int],
                                           Callable[[simpy.Event, simpy.Event], simpy.Event]]
         ) -> Log:
    env = simpy.Environment()
    log: Log = []

    def answer_later(event: simpy.Event, delay: int) -> Generator[simpy.Event, Any, None]:
        yield env.timeout(delay)
        if not event.triggered:
            event.succeed()

    def waiter(k: int, plan: Plan) -> Generator[simpy.Event, Any, None]:
        first_of = wait(env, k)
        answer = env.event()
        for n, (delay, timeout, fresh) in enumerate(plan):
            if fresh:
                answer = env.event()
            if delay is not None:
                env.process(answer_later(answer, delay))
            deadline = env.timeout(timeout)
            yield first_of(answer, deadline)
            log.append((env.now, k, n, answer.processed, deadline.processed))

    for k, plan in enumerate(plans):
        env.process(waiter(k, plan))
    env.run()
    return log


def _condition(env: simpy.Environment, k: int
               ) -> Callable[[simpy.Event, simpy.Event], simpy.Event]:
    return lambda a, b: a | b


def _wake(env: simpy.Environment, k: int) -> Callable[[simpy.Event, simpy.Event], simpy.Event]:
    return Wake(env).first_of


@settings(max_examples=300, deadline=None)
@given(plans)
def test_a_wake_wakes_as_a_condition_does(plans: list[Plan]) -> None:
    assert _run(plans, _wake) == _run(plans, _condition)


def test_a_scripted_tie_keeps_the_conditions_order() -> None:
    # Two processes, answers and time-outs all at t=2. Each deadline was scheduled before its
    # answer's timer (the answering process starts later), so both first waits end on the
    # deadline with the answer still queued; each second wait then ends at once at t=2 (the
    # kept answer, or a fresh one answered after 0 s), in process order.
    plans: list[Plan] = [[(2, 2, True), (None, 1, False)], [(2, 2, False), (0, 3, True)]]
    log = _run(plans, _wake)
    assert log == _run(plans, _condition)
    assert log == [(2, 0, 0, False, True), (2, 1, 0, False, True), (2, 0, 1, True, False),
                   (2, 1, 1, True, False)]


def test_a_loser_of_an_earlier_race_does_not_wake_the_next_wait() -> None:
    env = simpy.Environment()
    woken: list[float] = []

    def waiter() -> Generator[simpy.Event, Any, None]:
        wake = Wake(env)
        answer = env.event()
        answer.succeed()
        yield wake.first_of(answer, env.timeout(5))  # the answer wins at t=0
        woken.append(env.now)
        # The time-out of 5 s is still queued; it must not end this wait of 7 s.
        yield wake.first_of(env.event(), env.timeout(7))
        woken.append(env.now)

    env.process(waiter())
    env.run()
    assert woken == [0, 7]


def test_re_arming_a_pending_wake_is_refused() -> None:
    env = simpy.Environment()
    wake = Wake(env)
    wake.first_of(env.event(), env.timeout(1))
    with pytest.raises(RuntimeError, match="re-armed"):
        wake.first_of(env.event(), env.timeout(1))
