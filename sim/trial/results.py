"""One trial's result: a flat row, the unit of every summary and output table."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from typing import NamedTuple

__all__ = ["ROW_FIELDS", "Row", "RowMaker", "RowTuple", "TrialResult"]


@dataclass(frozen=True, slots=True)
class TrialResult:
    """What happened in trial ``trial`` of a run seeded with ``seed``.

    ``outcome`` is ``"connected"`` or ``"gave_up"``; ``code`` is 0 on success, else the last
    failure code; ``reason`` is the outcome's reason (``connected``, ``non_retryable``,
    ``dials_exhausted``, ``deadline``). ``connect_time`` is seconds from the sender's start
    to the mapped share (NaN when it gave up). ``line_time`` is how long this sender held a
    RAS port: from answer to hang-up, or to the outcome for a connection it keeps. ``codes``
    lists every failure code in the order seen; ``faults`` names the faults that touched a
    sender step in this trial.

    A fleet trial (``sim.trial.fleet``) is one row for the whole fleet: ``outcome`` is
    ``"connected"`` when every sender connected, ``code`` and ``reason`` are the most
    frequent among the senders that gave up (ties: the smaller code, the first reason in
    sort order), ``attempts``, ``dials`` and ``line_time`` are fleet totals (the work
    offered to the server), ``connect_time`` is the makespan (from the start of the trial to
    the last sender's mapped share), ``codes`` lists each sender's codes in sender order.
    ``senders`` and ``senders_connected`` count senders; ``busy_signals`` counts dials
    refused for want of a port; ``port_utilization`` is the share of port-seconds in use
    from 0 to ``end_time`` (1.0 means every port busy all the time). A lone sender is a
    fleet of one.
    """

    trial: int
    seed: int
    outcome: str
    code: int
    reason: str
    attempts: int
    dials: int
    connect_time: float
    end_time: float
    line_time: float
    codes: tuple[int, ...]
    faults: tuple[str, ...]
    senders: int = 1
    senders_connected: int = 0
    busy_signals: int = 0
    port_utilization: float = 0.0

    @property
    def connected(self) -> bool:
        return self.outcome == "connected"

    def as_row(self) -> dict[str, object]:
        """A flat dict for CSV/Parquet: tuples become space-separated strings."""
        row = asdict(self)
        row["codes"] = " ".join(str(c) for c in self.codes)
        row["faults"] = " ".join(self.faults)
        if math.isnan(self.connect_time):
            row["connect_time"] = None
        return row


ROW_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(TrialResult))


class RowTuple(NamedTuple):
    """A ``TrialResult``'s fields, in its order, as a tuple: what a summary-only run folds
    (``sim.run.runner``). Summaries read a row by field name, so either kind serves; this one
    costs a fifth of the frozen dataclass to build, which matters once per trial."""

    trial: int
    seed: int
    outcome: str
    code: int
    reason: str
    attempts: int
    dials: int
    connect_time: float
    end_time: float
    line_time: float
    codes: tuple[int, ...]
    faults: tuple[str, ...]
    senders: int = 1
    senders_connected: int = 0
    busy_signals: int = 0
    port_utilization: float = 0.0

    @property
    def connected(self) -> bool:
        return self.outcome == "connected"


#: A row as summaries and tallies read it.
Row = TrialResult | RowTuple
#: What builds a row from ``ROW_FIELDS`` in order (``TrialResult`` or ``RowTuple``).
RowMaker = Callable[..., Row]

assert RowTuple._fields == ROW_FIELDS  # one list of fields for both kinds
