"""Adaptive stopping: add trials in batches until every success rate is known well enough.

Rules:

1. Batches are fixed ranges of trial indices that double: [0, first), [first, 2 first),
   [2 first, 4 first), ... and the last one ends exactly at ``max_trials``. Every policy
   runs the same ranges, so the policies stay paired (CRN) at every stop.
2. After each batch the run stops when every policy's Wilson 95% half-width
   ``(high - low) / 2`` is at most ``precision``, or when ``max_trials`` is reached; the
   second case is reported as "precision not reached".
3. The trial counts checked, and hence the count the run stops at, depend only on the
   data (the trials' results), never on timing, workers or the executor.

Doubling keeps the overshoot bounded (a run stops at most 2x past the count it needed) while
needing only log2(max / first) checkpoints. A one-step-ahead guess from the current rate
would overshoot less but would make the stopping point depend on more than rule 3 states.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from sim.stats.intervals import wilson_interval

__all__ = ["FIRST_BATCH", "Precision", "batch_ends", "half_width", "precision_status"]

FIRST_BATCH = 1000


def batch_ends(max_trials: int, first: int = FIRST_BATCH) -> Iterator[int]:
    """The trial counts at which the stopping rule is checked (rule 1)."""
    if max_trials < 1 or first < 1:
        raise ValueError(f"need max_trials >= 1 and first >= 1, got {max_trials}, {first}")
    end = min(first, max_trials)
    while True:
        yield end
        if end >= max_trials:
            return
        end = min(2 * end, max_trials)


def half_width(successes: int, n: int) -> float:
    """Half the width of the Wilson 95% interval of ``successes`` out of ``n``."""
    low, high = wilson_interval(successes, n)
    return (high - low) / 2


@dataclass(frozen=True, slots=True)
class Precision:
    """Where an adaptive run stands: the widest half-width and whether the target is met."""

    target: float
    widest: float
    widest_index: int
    met: bool


def precision_status(counts: Iterable[tuple[int, int]], target: float) -> Precision:
    """Check rule 2 over ``(successes, trials)`` per policy; ties name the first policy."""
    if not target > 0:
        raise ValueError(f"precision must be positive, got {target}")
    widest, index = -1.0, -1
    for k, (successes, n) in enumerate(counts):
        width = half_width(successes, n)
        if width > widest:
            widest, index = width, k
    if index < 0:
        raise ValueError("precision_status needs at least one policy")
    return Precision(target, widest, index, widest <= target)
