"""Retry policies: flat, frozen, keyword-only, validated records.

A policy is data a sweep can vary field by field and a TOML table can hold, not a graph of
combinators. ``RetryPolicy(...)`` validates eagerly and raises ``PolicyError`` naming the
field and the fix. Times are seconds.

How the fields act (the procedure in ``sender.procedure`` is the normative text):

* ``max_dials`` bounds RasDial calls. A dial that fails with a retryable code is followed by
  a redial after ``redial_wait`` (jittered), while dials remain.
* On a connected link the sender waits ``settle``, then makes up to ``attempts_per_dial``
  map attempts. Between map attempts it waits ``initial_wait * backoff_base**k`` capped at
  ``max_wait`` (k = 0 for the first retry on this link), jittered per ``jitter``.
* ``redial_after = N``: after N consecutive failures whose codes are in ``redial_on`` (codes
  that implicate the link, not the server) the sender hangs up and redials even if
  ``attempts_per_dial`` is not used up. Once ``attempts_per_dial`` is used up it redials too,
  if dials remain.
* ``deadline``: no dial or map attempt starts at or after ``started_at + deadline``, and the
  sender never sleeps past it. An attempt already in flight is not interrupted (a blocking
  WNetAddConnection2 cannot be), so an outcome may land after the deadline by at most one
  step's duration.
* A failure whose code is not in ``retry_on`` ends the procedure at once.
* ``site_retries``: when a connection round runs out of dials (or the budget stops it), the
  sender backs the site off for ``site_backoff`` and starts a new round (``max_dials``
  counts per round), at most this many times. SMS 2.0 backs a site off for an hour after
  a failed connection (Q235753).
* ``budget_tokens``: a retry budget (``sender.budget``, gRPC-style token bucket) of this
  many tokens; each failed dial or map spends one, each mapped share refills
  ``budget_ratio``, and retries stop while half or less is left. Who shares one bucket is
  the caller's choice (a fleet shares one by default). None: no budget.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Literal, Protocol, get_args

from sender.budget import MIN_RATIO
from sender.codes import DEFAULT_RETRYABLE, LINK_SUSPECT
from sender.errors import UserError

__all__ = [
    "JITTER_MODES",
    "Jitter",
    "PRESETS",
    "PRESET_SUMMARIES",
    "Backoff",
    "PolicyError",
    "RetryPolicy",
    "UniformSource",
    "preset",
]

Jitter = Literal["none", "full", "equal", "decorrelated"]
#: The jitter modes, defined once: ``Jitter`` is the type every layer uses.
JITTER_MODES: tuple[Jitter, ...] = get_args(Jitter)

# Upper bounds that no sensible policy reaches; past them a value is a typo (e.g. "6000"
# attempts) that would make a trial run for simulated days.
_MAX_COUNT = 10_000
_MAX_SECONDS = 7 * 24 * 3600.0  # SMS reschedules send requests for up to 7 days (Q214485)


class PolicyError(UserError, ValueError):
    """A policy field is invalid. ``field`` names it; the message says how to fix it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class UniformSource(Protocol):
    """Anything with ``random() -> float`` in [0, 1): a ``numpy.random.Generator`` will do."""

    def random(self) -> float: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """How the sender retries a map and redials. See the module docstring for semantics."""

    name: str = "custom"
    attempts_per_dial: int = 1
    settle: float = 0.0
    initial_wait: float = 1.0
    backoff_base: float = 2.0
    max_wait: float = 60.0
    jitter: Jitter = "none"
    deadline: float | None = None
    retry_on: frozenset[int] = DEFAULT_RETRYABLE
    redial_after: int | None = None
    redial_on: frozenset[int] = LINK_SUSPECT
    max_dials: int = 1
    redial_wait: float = 0.0
    site_backoff: float = 0.0
    site_retries: int = 0
    budget_tokens: int | None = None
    budget_ratio: float = 0.1

    def __post_init__(self) -> None:
        _count("attempts_per_dial", self.attempts_per_dial, minimum=1)
        _count("max_dials", self.max_dials, minimum=1)
        _count("site_retries", self.site_retries, minimum=0)
        if self.redial_after is not None:
            _count("redial_after", self.redial_after, minimum=1)
        maps = self.attempts_per_dial * self.max_dials * (self.site_retries + 1)
        if maps > _MAX_COUNT:
            # Each attempt is simulated: a budget of millions of maps per trial is a typo
            # that would make one trial run for hours.
            raise PolicyError(
                "max_dials",
                f"attempts_per_dial x max_dials x (site_retries + 1) allows {maps:,} map "
                f"attempts per trial; at most {_MAX_COUNT:,}",
            )
        for name in ("settle", "initial_wait", "max_wait", "redial_wait", "site_backoff"):
            _seconds(name, getattr(self, name))
        if self.budget_tokens is not None:
            _count("budget_tokens", self.budget_tokens, minimum=1)
        if not isinstance(self.budget_ratio, int | float) or isinstance(self.budget_ratio, bool) \
                or not math.isfinite(self.budget_ratio) \
                or not MIN_RATIO <= self.budget_ratio <= 1000:
            raise PolicyError("budget_ratio", f"must be a number of tokens from {MIN_RATIO} to "
                              "1000 that a success refills (gRPC's tokenRatio, in thousandths), "
                              f"got {self.budget_ratio!r}")
        if self.deadline is not None:
            _seconds("deadline", self.deadline)
            if self.deadline == 0:
                raise PolicyError("deadline", "must be positive; omit it for no deadline")
        if not isinstance(self.backoff_base, int | float) or isinstance(self.backoff_base, bool):
            raise PolicyError("backoff_base", "must be a number >= 1 (1 = constant waits)")
        if not math.isfinite(self.backoff_base) or not 1.0 <= self.backoff_base <= 100.0:
            raise PolicyError("backoff_base", f"must be between 1 and 100, got {self.backoff_base}")
        if self.max_wait < self.initial_wait:
            raise PolicyError(
                "max_wait",
                f"must be at least initial_wait ({self.initial_wait}s), got {self.max_wait}s",
            )
        if self.jitter not in JITTER_MODES:
            raise PolicyError(
                "jitter", f"unknown mode {self.jitter!r}; use one of {', '.join(JITTER_MODES)}"
            )
        for name in ("retry_on", "redial_on"):
            codes = getattr(self, name)
            if not isinstance(codes, frozenset):
                # A bare code (53) or a string ("53") is not a set of codes: say so by field
                # rather than escape as a TypeError or split "53" into "5" and "3".
                try:
                    if isinstance(codes, str | bytes):
                        raise TypeError(codes)
                    object.__setattr__(self, name, frozenset(codes))
                except TypeError:
                    raise PolicyError(name, f"must be a set of error codes such as "
                                            f"{{53, 64}}, got {codes!r}") from None
                codes = getattr(self, name)
            for code in codes:
                if not isinstance(code, int) or isinstance(code, bool) or code <= 0:
                    raise PolicyError(name, f"codes must be positive integers, got {code!r}")
        if not isinstance(self.name, str) or not self.name:
            raise PolicyError("name", "must be a non-empty string")

    def replace(self, **changes: object) -> RetryPolicy:
        """A copy with ``changes`` applied and validated (``dataclasses.replace``)."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    def describe(self) -> dict[str, object]:
        """The policy as a plain dict (codes sorted), for JSON output and provenance."""
        out: dict[str, object] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            out[f.name] = sorted(value) if isinstance(value, frozenset) else value
        return out


def _count(name: str, value: object, *, minimum: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise PolicyError(name, f"must be a whole number, got {value!r}")
    if not minimum <= value <= _MAX_COUNT:
        raise PolicyError(name, f"must be between {minimum} and {_MAX_COUNT}, got {value}")


def _seconds(name: str, value: object) -> None:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise PolicyError(name, f"must be a duration in seconds, got {value!r}")
    if not math.isfinite(value) or value < 0:
        raise PolicyError(name, f"must be a finite, non-negative duration, got {value}")
    if value > _MAX_SECONDS:
        raise PolicyError(name, f"must be at most 7 days ({_MAX_SECONDS:.0f}s), got {value}s")


class Backoff:
    """The wait before each retry in one sequence (map retries on one link, or redials).

    ``none``: ``min(cap, initial * base**k)``. ``full``: uniform in [0, that]. ``equal``: half
    of it plus uniform in [0, half]. ``decorrelated``: ``min(cap, uniform(initial, 3 * prev))``
    with ``prev`` starting at ``initial`` (the AWS Architecture Blog variants). The rng is
    touched only when the mode is random, so a policy without jitter consumes no draws.
    """

    __slots__ = ("_initial", "_base", "_cap", "_jitter", "_rng", "_step", "_prev")

    def __init__(self, initial: float, base: float, cap: float, jitter: Jitter,
                 rng: UniformSource) -> None:
        self._initial = initial
        self._base = base
        self._cap = max(cap, initial)
        self._jitter = jitter
        self._rng = rng
        self._step = initial  # the un-jittered wait of the next retry
        self._prev = initial

    def next_wait(self) -> float:
        """The wait before the next retry in this sequence, within [0, cap]."""
        ceiling = self._step
        self._step = min(self._cap, self._step * self._base)
        mode = self._jitter
        if mode == "none":
            return ceiling
        if mode == "full":
            return ceiling * self._rng.random()
        if mode == "equal":
            return ceiling / 2 + ceiling / 2 * self._rng.random()
        low, high = self._initial, max(self._initial, self._prev * 3)
        self._prev = min(self._cap, low + (high - low) * self._rng.random())
        return self._prev


# Named presets. Microsoft never published Connras.dll's retry count or delay (Q221951 only
# says "a retry mechanism has been added"), so "connras-fix" is our reading of "a few quick
# retries on the same link", not a documented value.
PRESETS: dict[str, RetryPolicy] = {
    p.name: p
    for p in (
        # The pre-SP1 connection component: one map per dial, no retry of its own.
        RetryPolicy(name="pre-fix", attempts_per_dial=1, max_dials=1),
        # SP1's Connras.dll as we model it: a few quick retries on the same link. [I]
        RetryPolicy(name="connras-fix", attempts_per_dial=4, initial_wait=5.0, backoff_base=1.0,
                    max_wait=5.0, max_dials=1),
        # SMS 2.0 sender defaults: 2 retries, 1 minute apart, each redialing
        # (SMS 2.0 help dsendadv.htm), with the pre-fix single map per dial.
        RetryPolicy(name="sms2-defaults", attempts_per_dial=1, max_dials=3, redial_wait=60.0,
                    backoff_base=1.0, initial_wait=60.0, max_wait=60.0),
        # The SMS 2.0 defaults plus the site back-off: after a failed connection the sender
        # "won't try send requests going to site XXX for an hour" (Q235753), and send
        # requests are rescheduled for up to 7 days (Q214485). Each round's own dials and
        # waits add a few minutes to its hour, so the 7-day deadline ends it (after 160
        # rounds when every dial fails at once); 167 more rounds is the hourly upper bound.
        RetryPolicy(name="sms2-site-backoff", attempts_per_dial=1, max_dials=3,
                    redial_wait=60.0, backoff_base=1.0, initial_wait=60.0, max_wait=60.0,
                    site_backoff=3600.0, site_retries=167, deadline=7 * 24 * 3600.0),
        # AWS Architecture Blog "full jitter": capped exponential, uniform in [0, cap].
        RetryPolicy(name="aws-full-jitter", attempts_per_dial=8, initial_wait=1.0,
                    backoff_base=2.0, max_wait=30.0, jitter="full", max_dials=2,
                    redial_wait=30.0, deadline=300.0),
    )
}

#: One line per preset, for ``rassim presets`` (the sources are in the comments above).
PRESET_SUMMARIES: dict[str, str] = {
    "pre-fix": "the connection component before SP1: one map per dial, no retry",
    "connras-fix": "our reading of SP1's retry mechanism: 4 maps on one link, 5 s apart "
                   "(Microsoft never published its values)",
    "sms2-defaults": "the SMS 2.0 sender's defaults: 2 retries, 1 minute apart, each "
                     "redialing",
    "sms2-site-backoff": "sms2-defaults, then the site is left alone for an hour after a "
                         "failed connection, for up to 7 days",
    "aws-full-jitter": "capped exponential backoff with full jitter, 2 dials, 300 s deadline",
}


def preset(name: str) -> RetryPolicy:
    """The preset called ``name``; ``PolicyError`` listing the known names otherwise."""
    try:
        return PRESETS[name]
    except KeyError:
        known = ", ".join(sorted(PRESETS))
        raise PolicyError("policy", f"unknown preset {name!r}; use one of: {known}") from None

