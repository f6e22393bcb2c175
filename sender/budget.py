"""A retry budget: a token bucket that stops retries when too many attempts fail.

This is gRPC's retry throttling (gRFC A6), applied to dials and map attempts:

1. The bucket holds ``max_tokens`` tokens and starts full.
2. Every failed attempt (a dial or a map that failed) spends one token; the count never
   goes below zero.
3. Every connection that succeeds (the share is mapped) refills ``ratio`` tokens, up to
   ``max_tokens``.
4. A *retry* (any dial or map after a sender's first attempt) is allowed only while the
   count is above half of ``max_tokens``. A first attempt is never throttled, so a sender
   that starts with the bucket drained still gets one try.

Tokens are counted in thousandths, as gRPC does, so a ratio of 0.1 adds exactly 100 and the
count never drifts with float rounding. A bucket shared by many senders is what makes it a
*budget*: when the whole fleet is failing, everybody stops retrying together, and the
server sees first attempts only until something succeeds again.
"""

from __future__ import annotations

import math

__all__ = ["MIN_RATIO", "RetryBudget"]

_MILLI = 1000
#: The smallest refill: one thousandth of a token, the unit the bucket counts in.
MIN_RATIO = 1 / _MILLI


class RetryBudget:
    """One token bucket; share the instance between the senders it should throttle."""

    __slots__ = ("_max", "_ratio", "_tokens", "throttled")

    def __init__(self, max_tokens: int, ratio: float) -> None:
        if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1:
            raise ValueError(f"max_tokens must be a whole number >= 1, got {max_tokens!r}")
        # A ratio above max_tokens is allowed: any success then fills the bucket (rule 3).
        # Below a thousandth it would round to no refill at all, a bucket that never refills.
        if isinstance(ratio, bool) or not isinstance(ratio, int | float) \
                or not math.isfinite(ratio) or ratio < MIN_RATIO:
            raise ValueError(f"ratio must be a finite number >= {MIN_RATIO}, got {ratio!r}")
        self._max = max_tokens * _MILLI
        self._ratio = round(ratio * _MILLI)
        self._tokens = self._max
        #: Retries refused so far (rule 4), for reports.
        self.throttled = 0

    @property
    def tokens(self) -> float:
        return self._tokens / _MILLI

    def record_failure(self) -> None:
        """A dial or map attempt failed (rule 2)."""
        self._tokens = max(0, self._tokens - _MILLI)

    def record_success(self) -> None:
        """A connection succeeded (rule 3)."""
        self._tokens = min(self._max, self._tokens + self._ratio)

    def allows_retry(self) -> bool:
        """Whether a retry may go ahead now (rule 4); a refusal is counted."""
        if self._tokens * 2 > self._max:
            return True
        self.throttled += 1
        return False
