"""The sender's connect procedure: dial RAS, map the share, retry under a policy.

Theory of operation
-------------------
``connect`` is a generator: it yields effects (``Dial``, ``AddConnection``, ``Sleep``,
``HangUp``) and is sent results (``Succeeded``/``Failed``) carrying ``at``, the driver's clock
when the effect finished. It returns an outcome. It is sans-I/O: the same code runs under the
SimPy world in ``sim`` and under a synchronous real-time driver (``sender.driver``).

Rules (tests enforce each one):

1. It never reads a clock, sleeps, touches the network or uses module-level randomness. Its
   notion of time is ``started_at`` and the ``at`` of the last result. Jitter draws come
   from the ``rng`` argument, and only when the policy's jitter mode is random.
2. No ``AddConnection`` before a ``Dial`` has succeeded, and none on a link it hung up.
3. Every path that abandons a successfully dialed connection yields ``HangUp`` before it
   returns or redials. A failed dial holds no connection, so it is not hung up. [I] Win32
   requires RasHangUp on the handle of a failed RasDial; the world models that as freeing
   nothing, so we leave the effect out rather than trace a no-op.
4. No dial or map attempt starts at or after the deadline; no ``Sleep`` ends after it.
5. ``attempts_per_dial`` (per link) and ``max_dials`` (per connection round) are never
   exceeded.
6. A failure whose code is not in ``policy.retry_on`` ends the procedure at once.
7. A connection round that runs out of dials, or that the budget stops, backs the site off:
   after ``site_backoff`` the sender starts a new round, at most ``site_retries`` times
   (SMS 2.0 "won't try send requests going to site XXX for an hour", Q235753). Rounds
   ended by the deadline or a non-retryable code are final.
8. With a retry budget (``sender.budget``), every failed dial or map spends from it, a
   mapped share refills it, and every dial but the first of a connection round, and every
   map attempt but the first on each link, goes ahead only if the budget allows a retry;
   otherwise the sender hangs up any link it holds and gives up with reason ``"budget"``.
   The first dial of a round is a new request, as a new call is in gRPC: never throttled,
   so a fleet whose budget is drained still probes the server, and a success refills it.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import dataclass

from sender.budget import RetryBudget
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
)
from sender.policy import Backoff, RetryPolicy, UniformSource

__all__ = ["Procedure", "Target", "connect"]

Procedure = Generator[Effect, Result, Outcome]


@dataclass(frozen=True, slots=True)
class Target:
    """What to connect to: the phonebook entry to dial and the share to map."""

    entry: str
    remote: str
    user: str = ""


class _NeverRandom:
    """Stand-in rng for policies without jitter: drawing from it is a bug."""

    def random(self) -> float:
        raise AssertionError("a policy with jitter='none' drew a random number")


def connect(policy: RetryPolicy, target: Target, rng: UniformSource | None = None, *,
            started_at: float = 0.0, budget: RetryBudget | None = None) -> Procedure:
    """Dial ``target.entry`` and map ``target.remote``, retrying per ``policy``.

    ``rng`` is required when the policy's jitter is random; a missing one is a caller bug,
    reported here rather than at the first retry. ``budget`` is the retry budget this
    sender spends from (rule 8); senders that share one pass the same instance.
    """
    if rng is None:
        if policy.jitter != "none":
            raise ValueError(f"policy {policy.name!r} uses {policy.jitter!r} jitter: pass an "
                             "rng (anything with random() -> float in [0, 1))")
        rng = _NeverRandom()
    return _connect(policy, target, rng, budget, started_at)


def _connect(policy: RetryPolicy, target: Target, rng: UniformSource,
             budget: RetryBudget | None, started_at: float) -> Procedure:
    deadline_at = started_at + policy.deadline if policy.deadline is not None else math.inf
    now = started_at
    attempts = dials = 0
    codes: list[int] = []

    def gave_up(reason: str) -> GaveUp:
        return GaveUp(reason=reason, code=codes[-1] if codes else 0, at=now,
                      attempts=attempts, dials=dials, codes=tuple(codes))

    def failed(code: int) -> None:
        codes.append(code)
        if budget is not None:
            budget.record_failure()

    def use_link() -> Generator[Effect, Result, Connected | str]:
        """Map attempts on a fresh link: ``Connected``, or why the link is abandoned
        (``"deadline"``, ``"non_retryable"``, ``"budget"``, or ``""`` to redial if allowed)."""
        nonlocal now, attempts
        map_waits: Backoff | None = None  # made at the first retry: most links see none
        on_this_link = 0
        suspect_run = 0
        reason = ""
        wait = policy.settle
        while True:
            if wait > 0:
                if now + wait >= deadline_at:
                    reason = "deadline"
                    break
                now = (yield Sleep(wait)).at
            if now >= deadline_at:
                reason = "deadline"
                break
            if on_this_link and budget is not None and not budget.allows_retry():
                reason = "budget"
                break
            attempts += 1
            on_this_link += 1
            result = yield AddConnection(target.remote, target.user)
            now = result.at
            if not isinstance(result, Failed):
                return Connected(at=now, attempts=attempts, dials=dials, codes=tuple(codes))
            failed(result.code)
            if result.code not in policy.retry_on:
                reason = "non_retryable"
                break
            suspect_run = suspect_run + 1 if result.code in policy.redial_on else 0
            if on_this_link >= policy.attempts_per_dial:
                break  # this link has had its attempts: redial if allowed
            if policy.redial_after is not None and suspect_run >= policy.redial_after:
                break  # the link itself looks bad: redial if allowed
            if map_waits is None:
                map_waits = Backoff(policy.initial_wait, policy.backoff_base, policy.max_wait,
                                    policy.jitter, rng)
            wait = map_waits.next_wait()
        return reason

    def connection() -> Generator[Effect, Result, Connected | str]:
        """One connection round: dials and map attempts until connected, or the reason the
        round ended (``"dials_exhausted"`` when it simply ran out of dials)."""
        nonlocal now, dials
        redial_waits: Backoff | None = None  # made at the first redial
        round_dials = 0
        while True:
            # ---- dial ----------------------------------------------------------------------
            if now >= deadline_at:
                return "deadline"
            if round_dials and budget is not None and not budget.allows_retry():
                return "budget"
            dials += 1
            round_dials += 1
            result = yield Dial(target.entry)
            now = result.at
            if isinstance(result, Failed):
                failed(result.code)
                if result.code not in policy.retry_on:
                    return "non_retryable"
            else:
                # ---- connected: settle, then map attempts on this link ----------------------
                kept_or_reason = yield from use_link()
                if isinstance(kept_or_reason, Connected):
                    return kept_or_reason
                now = (yield HangUp()).at  # rule 3: abandon the link before giving up or redialing
                if kept_or_reason:
                    return kept_or_reason

            # ---- redial, if allowed --------------------------------------------------------
            if round_dials >= policy.max_dials:
                return "dials_exhausted"
            if redial_waits is None:
                redial_waits = Backoff(policy.redial_wait, policy.backoff_base,
                                       max(policy.max_wait, policy.redial_wait), policy.jitter,
                                       rng)
            wait = redial_waits.next_wait()
            if now + wait >= deadline_at:
                return "deadline"
            if wait > 0:
                now = (yield Sleep(wait)).at

    rounds = 0
    while True:
        ended = yield from connection()
        if isinstance(ended, Connected):
            if budget is not None:
                budget.record_success()
            return ended
        if ended not in ("dials_exhausted", "budget") or rounds >= policy.site_retries:
            return gave_up(ended)
        # ---- back off the site, then try it again (rule 7) ---------------------------------
        rounds += 1
        if now + policy.site_backoff >= deadline_at:
            return gave_up("deadline")
        if policy.site_backoff > 0:
            now = (yield Sleep(policy.site_backoff)).at
