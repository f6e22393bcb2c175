"""The vocabulary between the sender procedure and whatever performs its effects.

Effects are imperative nouns the procedure yields (``Dial``); results are what the performer
sends back, each carrying ``at``, the performer's clock when the effect finished; outcomes are
what the procedure returns (``Connected``, ``GaveUp``). All are frozen and slotted: a trace can
hold them and a test can compare them without worrying that someone mutated one.

Expected failures are values (``Failed(code=53, at=...)``). A performer raises only for bugs.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "AddConnection",
    "Connected",
    "Dial",
    "Effect",
    "Failed",
    "GaveUp",
    "HangUp",
    "Outcome",
    "Result",
    "Sleep",
    "Succeeded",
]


# --- effects ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Dial:
    """Dial the RAS phonebook ``entry`` (RasDial). Succeeds at RASCS_Connected."""

    entry: str


@dataclass(frozen=True, slots=True)
class AddConnection:
    """Map ``remote`` (``\\\\SERVER\\SHARE``) as ``user``: WNetAddConnection2 semantics.

    The password is deliberately not part of the effect: effects are traced, and a trace must
    never carry credentials. The performer knows the credentials of the account it runs as.
    """

    remote: str
    user: str = ""


@dataclass(frozen=True, slots=True)
class Sleep:
    """Wait ``seconds`` before the next step."""

    seconds: float


@dataclass(frozen=True, slots=True)
class HangUp:
    """Hang up the RAS connection this procedure dialed (RasHangUp)."""


Effect = Dial | AddConnection | Sleep | HangUp


# --- results ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Succeeded:
    """The effect finished without error at ``at`` (seconds on the performer's clock)."""

    at: float


@dataclass(frozen=True, slots=True)
class Failed:
    """The effect failed with Win32/RAS ``code`` at ``at``."""

    code: int
    at: float


Result = Succeeded | Failed


# --- outcomes -----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Connected:
    """The share is mapped over a live RAS connection (which the caller now owns)."""

    at: float
    attempts: int
    dials: int
    codes: tuple[int, ...] = ()

    reason = "connected"
    code = 0


@dataclass(frozen=True, slots=True)
class GaveUp:
    """The procedure stopped without a mapping and hung up any connection it had dialed.

    ``reason`` is one of ``"non_retryable"`` (the last code is not in the policy's retry set),
    ``"dials_exhausted"`` (no attempt or dial left, site retries included), ``"deadline"``
    (the next step would start at or after the policy's deadline) or ``"budget"`` (the
    retry budget refused the next retry and no site retry was left). ``code`` is the last
    failure code seen.
    """

    reason: str
    code: int
    at: float
    attempts: int
    dials: int
    codes: tuple[int, ...] = ()


Outcome = Connected | GaveUp
