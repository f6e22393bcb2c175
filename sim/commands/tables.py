"""Tables that fit the terminal: every figure whole, no column dropped, every name visible.

rich shrinks a table that is wider than the console by cutting cells with an ellipsis, so a
sweep's 14 columns at 80 columns showed ``10…`` and ``[91.24%, …``. :func:`print_fitted`
lays a table out instead:

1. the figures are never cut: each figure column keeps the width of its widest cell;
2. the key column (the policy's name) wraps at word boundaries within at most a third of the
   width (at least 16 characters), so every row's whole name is visible and no two rows
   look alike;
3. when the figures do not fit beside the key, the columns are split, in their order, into
   as many tables as needed, each repeating the key column; columns that belong together (a
   value and its interval) are one group and never split. A line says the table was split
   and that a wider terminal shows it in one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Column", "print_fitted"]

#: The key column never gets narrower than this, whatever the terminal.
_MIN_KEY = 16
#: rich's default padding puts two spaces between neighbouring columns.
_GAP = 2


@dataclass(slots=True)
class Column:
    """One column: its header, its cells as rich markup, and how it is justified."""

    header: str
    cells: list[str] = field(default_factory=list)
    justify: str = "right"

    def width(self) -> int:
        # why: lazy, so `rassim --help` and the other commands start without rich
        from rich.text import Text

        return max([Text.from_markup(self.header).cell_len,
                    *(Text.from_markup(c).cell_len for c in self.cells)])


def print_fitted(out: Any, key: Column, groups: Sequence[Sequence[Column]],
                 title: str | None = None) -> int:
    """Print ``key`` and the column ``groups`` on the rich console ``out``, split as
    needed to fit ``out.width`` (module rules); return how many tables it took."""
    width = out.width
    key_width = min(key.width(), max(_MIN_KEY, width // 3))
    parts: list[list[Column]] = []
    used = width  # forces a first part
    for group in groups:
        need = sum(column.width() + _GAP for column in group)
        if not parts or used + need > width:
            parts.append([])
            used = key_width
        parts[-1].extend(group)
        used += need
    if len(parts) > 1:  # the key takes what the widest part leaves, up to its own width
        widest = max(sum(c.width() + _GAP for c in part) for part in parts)
        key_width = max(key_width, min(key.width(), width - widest))
    for number, part in enumerate(parts):
        if number:
            out.print()
        out.print(_table(key, key_width, part, title if number == 0 else None))
    if len(parts) > 1:
        out.print(f"[dim](the table is split in {len(parts)} to fit {width} columns; a "
                  "terminal wide enough shows it in one)[/dim]")
    return len(parts)


def _table(key: Column, key_width: int, columns: list[Column], title: str | None) -> Any:
    # why: lazy, so `rassim --help` and the other commands start without rich
    from rich.table import Table

    table = Table(title=title, title_justify="left", box=None, pad_edge=False)
    # max_width, not width: a short key column stays as narrow as its longest name.
    table.add_column(key.header, justify=key.justify,  # type: ignore[arg-type]
                     overflow="fold", max_width=key_width)
    for column in columns:
        table.add_column(column.header, justify=column.justify,  # type: ignore[arg-type]
                         no_wrap=True, min_width=column.width())
    for index, name in enumerate(key.cells):
        table.add_row(name, *(column.cells[index] for column in columns))
    return table
