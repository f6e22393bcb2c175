"""The shared text formatters: percentages, seconds, plain numbers, percentage points.

Every table (``rassim run``, ``sweep``, ``tune``) and every plot label formats numbers
through these, so a rate reads the same everywhere. ``None`` is a missing value and reads
``-``. The exact strings are pinned by the CLI tests: change them only on purpose.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["number", "percent", "percent_of", "percent_short", "points", "seconds"]


def percent(x: float | None, digits: int = 2, *, sign: bool = True) -> str:
    """A fraction as a percentage: ``0.1234`` -> ``12.34%`` (``12.34`` without ``sign``)."""
    if x is None:
        return "-"
    return f"{100 * x:.{digits}f}" + ("%" if sign else "")


def seconds(x: float | None, digits: int = 1, *, unit: bool = True) -> str:
    """Seconds: ``12.34`` -> ``12.3s`` (``12.3`` without ``unit``)."""
    if x is None:
        return "-"
    return f"{x:.{digits}f}" + ("s" if unit else "")


def number(x: float | None, digits: int = 2) -> str:
    """A plain number: ``1.234`` -> ``1.23``."""
    return "-" if x is None else f"{x:.{digits}f}"


def points(x: float) -> str:
    """A difference of two fractions in signed percentage points: ``-0.155`` -> ``-15.50``."""
    return f"{100 * x:+.2f}"


def percent_short(rate: float) -> str:
    """A percentage with one decimal, or more where one would round a miss to ``100.0%``."""
    for decimals in (1, 2, 3):
        text = f"{100 * rate:.{decimals}f}%"
        if rate == 1 or not text.startswith("100."):
            return text
    return text


def percent_of(decimals: int) -> Callable[[float, object], str]:
    """A tick formatter ``(value, position) -> text`` for fractions shown as percentages
    (wrap it in ``matplotlib.ticker.FuncFormatter``)."""
    return lambda value, _pos: f"{100 * value:.{decimals}f}%"
