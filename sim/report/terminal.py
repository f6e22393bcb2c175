"""Text from scenario files made inert before it reaches a terminal.

Names, servers, sites, entries and fault names are written by whoever wrote the scenario,
and scenario files travel between teams. On a terminal such text must print as itself:

1. ``inert``: control characters (C0, DEL, C1) and the bidirectional overrides print as
   visible ``\\xNN`` / ``\\uNNNN`` escapes, so an escape sequence in a name cannot retitle,
   clear or recolour the terminal, and a carriage return cannot overwrite a line. Tabs
   stay tabs.
2. ``markup_inert``: ``inert``, then rich's markup escaped, so ``name = "[/bold]"`` prints
   as written instead of crashing the table (MarkupError) and ``[link=...]`` is no link.
3. ``terminal_safe``: ``markup_inert`` applied to every string (keys included) of a report
   before a command renders it with rich; JSON output needs none of this (``json.dumps``
   escapes control characters itself).
"""

from __future__ import annotations

import re
from typing import Any

from rich.markup import escape

__all__ = ["inert", "markup_inert", "terminal_safe"]

_UNSAFE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def inert(text: str) -> str:
    """``text`` with every control character shown as an escape (rule 1)."""
    return _UNSAFE.sub(_escaped, text)


def markup_inert(text: str) -> str:
    """``text`` safe to pass to rich as markup: printed exactly as ``inert`` shows it."""
    return escape(inert(text))


def _inert_lines(text: str) -> str:
    """``inert`` line by line: kept text (a TOML snippet) keeps its line breaks."""
    return "\n".join(inert(line) for line in text.split("\n"))


def terminal_safe(value: Any, keep: frozenset[str] = frozenset()) -> Any:
    """``value`` (a report: dicts, lists, strings, numbers) with every string made
    ``markup_inert``; the values of keys in ``keep`` are made ``inert`` only (text printed
    with markup off, such as a TOML snippet to paste)."""
    if isinstance(value, str):
        return markup_inert(value)
    if isinstance(value, dict):
        return {terminal_safe(k): (_inert_lines(v) if k in keep and isinstance(v, str)
                                   else terminal_safe(v, keep))
                for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(terminal_safe(item, keep) for item in value)
    return value
