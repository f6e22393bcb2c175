"""One trial's result: a flat row, the unit of every summary and output table."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

__all__ = ["ROW_FIELDS", "TrialResult"]


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
