"""Durations with units, as scenario files write them: ``250ms``, ``1.5s``, ``2m``, ``1h``.

A bare number is rejected on purpose: "30" could be seconds or minutes, and a timer off by
60x silently changes every result. Zero may be written ``0`` since it has no unit ambiguity.

Every duration is at most ``MAX_DURATION``, seven days: SMS 2.0 gives up a send request
after retrying it for up to 7 days (Q214485), so no timer, wait, window or start time of one
send needs more, and the retry policy already capped its waits there. The bound keeps every
product and sum the model forms from one trial finite (the summaries count integer
nanoseconds: a "1e300s" would overflow them).
"""

from __future__ import annotations

import math
import re

__all__ = ["DURATION_PATTERN", "MAX_DURATION", "MAX_DURATION_TEXT", "format_duration",
           "parse_duration", "shorten"]

_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0}
DURATION_PATTERN = r"^\s*[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?\s*(us|ms|s|m|min|h|d)\s*$"
_RE = re.compile(DURATION_PATTERN)

#: The longest duration a scenario may write: 7 days (see the module docstring).
MAX_DURATION = 7 * 86400.0
MAX_DURATION_TEXT = "7d"
#: Longer written values are cut to this many characters in messages.
_SHOWN = 60


def shorten(value: object, limit: int = _SHOWN) -> str:
    """``repr(value)``, cut to about ``limit`` characters so a message stays one short line.

    A megabyte-long key or value must not make a megabyte-long error message, nor cost a
    megabyte-long ``repr`` to build one.
    """
    if isinstance(value, str | bytes) and len(value) > limit:
        return f"{value[: limit - 10]!r}... ({len(value):,} characters)"
    if isinstance(value, list | tuple | dict) and len(value) > 8:
        return f"a {type(value).__name__} of {len(value):,} items"
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


def parse_duration(value: object) -> float:
    """Seconds for ``value``; ``ValueError`` with the fix for anything else."""
    if isinstance(value, bool):
        raise ValueError(f"expected a duration such as \"1.5s\", got {shorten(value)}")
    if isinstance(value, int | float):
        if value == 0:
            return 0.0
        raise ValueError(
            f"a duration needs a unit: write \"{value}s\" (or ms, m, h), not the bare number "
            f"{shorten(value)}"
        )
    if not isinstance(value, str):
        raise ValueError(f"expected a duration such as \"1.5s\", got {type(value).__name__}")
    text = value.strip()
    if text.startswith("-"):
        raise ValueError(
            f"durations cannot be negative, got {shorten(value)}; remove the minus sign "
            "(e.g. \"1s\")"
        )
    if re.fullmatch(r"0+(\.0*)?", text):
        return 0.0
    match = _RE.match(text)
    if not match and re.fullmatch(r"[0-9]+(\.[0-9]*)?([eE][+-]?[0-9]+)?", text):
        # "30" in quotes is the same bare-number mistake as 30 unquoted: say so.
        raise ValueError(
            f"a duration needs a unit: write \"{shorten(text)[1:-1]}s\" (or ms, m, h), not the "
            f"bare number "
            f"{shorten(value)}"
        )
    if not match:
        raise ValueError(
            f"cannot read {shorten(value)} as a duration; write a number and a unit, e.g. "
            "\"250ms\", \"1.5s\", \"2m\", \"1h\""
        )
    unit = match.group(3)
    seconds = float(text[: len(text) - len(unit)].strip()) * _UNITS[unit]
    if not math.isfinite(seconds) or seconds > MAX_DURATION:
        raise ValueError(
            f"duration {shorten(value)} is too long: every duration must be at most 7 days "
            f"(\"{MAX_DURATION_TEXT}\", {MAX_DURATION:.0f}s)"
        )
    return seconds


def format_duration(seconds: float) -> str:
    """A compact human form (``"1.5s"``, ``"250ms"``, ``"2m"``) to 6 significant digits."""
    if seconds == 0:
        return "0s"
    if seconds < 1:
        return f"{seconds * 1000:g}ms"
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds / 3600:g}h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:g}m"
    return f"{seconds:g}s"
