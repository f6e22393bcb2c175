"""Durations with units, as scenario files write them: ``250ms``, ``1.5s``, ``2m``, ``1h``.

A bare number is rejected on purpose: "30" could be seconds or minutes, and a timer off by
60x silently changes every result. Zero may be written ``0`` since it has no unit ambiguity.
"""

from __future__ import annotations

import math
import re

__all__ = ["DURATION_PATTERN", "format_duration", "parse_duration"]

_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0}
DURATION_PATTERN = r"^\s*[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?\s*(us|ms|s|m|min|h|d)\s*$"
_RE = re.compile(DURATION_PATTERN)


def parse_duration(value: object) -> float:
    """Seconds for ``value``; ``ValueError`` with the fix for anything else."""
    if isinstance(value, bool):
        raise ValueError(f"expected a duration such as \"1.5s\", got {value!r}")
    if isinstance(value, int | float):
        if value == 0:
            return 0.0
        raise ValueError(
            f"a duration needs a unit: write \"{value}s\" (or ms, m, h), not the bare number "
            f"{value!r}"
        )
    if not isinstance(value, str):
        raise ValueError(f"expected a duration such as \"1.5s\", got {type(value).__name__}")
    text = value.strip()
    if text.startswith("-"):
        raise ValueError(
            f"durations cannot be negative, got {value!r}; remove the minus sign (e.g. \"1s\")"
        )
    if re.fullmatch(r"0+(\.0*)?", text):
        return 0.0
    match = _RE.match(text)
    if not match and re.fullmatch(r"[0-9]+(\.[0-9]*)?([eE][+-]?[0-9]+)?", text):
        # "30" in quotes is the same bare-number mistake as 30 unquoted: say so.
        raise ValueError(
            f"a duration needs a unit: write \"{text}s\" (or ms, m, h), not the bare number "
            f"{value!r}"
        )
    if not match:
        raise ValueError(
            f"cannot read {value!r} as a duration; write a number and a unit, e.g. \"250ms\", "
            "\"1.5s\", \"2m\", \"1h\""
        )
    unit = match.group(3)
    seconds = float(text[: len(text) - len(unit)].strip()) * _UNITS[unit]
    if not math.isfinite(seconds):
        raise ValueError(f"duration {value!r} is not finite")
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
