"""What a policy scored on a set of trials: the metrics that sweeps report and tune optimises.

Rules:

1. ``Tally`` is a ``Summary`` plus the integer sums of squares that a mean's interval needs.
   Everything in it is an ``int`` (or a ``Summary``, which is all ints), so it merges
   exactly and in any order (``sim.stats.summary`` rule 1 and 3).
2. Every metric is an ``Estimate``: a point value and a 95% interval, computed only from
   the integers at read-out, so equal tallies give equal estimates to the last bit. A
   metric with no data (a connect time when nothing connected) has ``value`` None.
3. The metrics and their intervals:

   - ``success_rate``, ``rate_53``: share of trials (connected; gave up with final code
     53), Wilson score interval.
   - ``p50_connect_time``, ``p95_connect_time``: the quantile of the successful trials'
     connect times as the summary's sketch reports it, with the distribution-free
     order-statistic interval: the values at ranks ``m q -+ z sqrt(m q (1-q))`` (normal
     approximation to the binomial count below the quantile) of the m sorted values, read
     from the same sketch (so within its 0.5% relative accuracy).
   - ``line_time`` (mean RAS line time per trial, seconds), ``dials`` (mean dials per
     trial): the mean with a normal-approximation interval, mean -+ z s / sqrt(n), where
     the sample variance s^2 comes from exact integer sums.
   - Fleet metrics (``sim.stats.fleet_summary``): ``sender_success_rate`` (share of senders that
     connected) and ``busy_rate`` (share of dials refused for want of a port), ratio
     estimators with trials as clusters; ``work`` (map attempts + dials per trial) and
     ``port_utilization`` (share of port-seconds in use), means. In a fleet,
     ``success_rate`` is the share of trials in which every sender connected and the
     connect-time quantiles are the makespan's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

from sender.codes import ERROR_BAD_NETPATH
from sim.stats.intervals import Z95, wilson_interval
from sim.stats.summary import GAMMA, QuantileSketch, Summary
from sim.trial.results import Row

__all__ = ["DIRECTIONS", "METRICS", "RATE_METRICS", "TIME_METRICS", "Estimate", "Tally",
           "estimates_to_json", "metrics_of"]

_NS_PER_S = 1_000_000_000

#: Every metric name, in display order, with the direction that is better.
DIRECTIONS: dict[str, Literal["maximize", "minimize"]] = {
    "success_rate": "maximize",
    "rate_53": "minimize",
    "p50_connect_time": "minimize",
    "p95_connect_time": "minimize",
    "line_time": "minimize",
    "dials": "minimize",
    # Fleet metrics (``sim.stats.fleet_summary``); for a lone sender they are its own.
    "sender_success_rate": "maximize",
    "work": "minimize",
    "busy_rate": "minimize",
    "port_utilization": "maximize",
}
METRICS: tuple[str, ...] = tuple(DIRECTIONS)
#: Metrics measured in seconds (written with units in requirements, shown as durations).
TIME_METRICS: frozenset[str] = frozenset({"p50_connect_time", "p95_connect_time", "line_time"})
#: Metrics that are shares in [0, 1] (shown as percentages).
RATE_METRICS: frozenset[str] = frozenset({"success_rate", "rate_53", "sender_success_rate",
                                          "busy_rate", "port_utilization"})


@dataclass(frozen=True, slots=True)
class Estimate:
    """A metric's point value and 95% interval; all None when there is no data."""

    value: float | None
    low: float | None
    high: float | None

    def as_list(self) -> list[float | None]:
        return [self.value, self.low, self.high]

    @classmethod
    def from_list(cls, values: list[float | None]) -> Estimate:
        value, low, high = values
        return cls(value, low, high)


@dataclass(slots=True)
class Tally:
    """A ``Summary`` and the sums of squares of line time (ns^2) and dials (rule 1)."""

    summary: Summary = field(default_factory=Summary)
    line_time_ns_sq: int = 0
    dials_sq: int = 0

    def add(self, result: Row) -> None:
        self.summary.add(result)
        # The same rounding as Summary's nanosecond sum, so sum and sum of squares agree.
        ns = round(result.line_time * _NS_PER_S)
        self.line_time_ns_sq += ns * ns
        self.dials_sq += result.dials * result.dials

    def merge(self, other: Tally) -> Tally:
        """Add ``other`` into this tally (in place) and return it."""
        self.summary.merge(other.summary)
        self.line_time_ns_sq += other.line_time_ns_sq
        self.dials_sq += other.dials_sq
        return self


def metrics_of(tally: Tally) -> dict[str, Estimate]:
    """Every metric in ``METRICS`` with its interval (rules 2 and 3)."""
    s = tally.summary
    n = s.trials
    if n == 0:
        return {name: Estimate(None, None, None) for name in METRICS}
    low, high = wilson_interval(s.successes, n)
    fails_53 = s.failures.get(ERROR_BAD_NETPATH, 0)
    low53, high53 = wilson_interval(fails_53, n)
    return {
        "success_rate": Estimate(s.successes / n, low, high),
        "rate_53": Estimate(fails_53 / n, low53, high53),
        "p50_connect_time": _quantile(s.connect_time, 0.5),
        "p95_connect_time": _quantile(s.connect_time, 0.95),
        "line_time": _mean(s.line_time_ns, tally.line_time_ns_sq, n, _NS_PER_S),
        "dials": _mean(s.dials, tally.dials_sq, n, 1),
        "sender_success_rate": Estimate(*s.fleet.sender_success()),
        "work": Estimate(*s.fleet.work_mean()),
        "busy_rate": Estimate(*s.fleet.busy_rate()),
        "port_utilization": Estimate(*s.fleet.utilization()),
    }


def _mean(total: int, total_sq: int, n: int, scale: int) -> Estimate:
    mean = total / (n * scale)
    if n < 2:
        return Estimate(mean, None, None)
    # n * sum(x^2) - sum(x)^2 is an exact, non-negative integer: no cancellation error.
    spread = n * total_sq - total * total
    sd = math.sqrt(spread / (n * (n - 1))) / scale
    half = Z95 * sd / math.sqrt(n)
    return Estimate(mean, max(0.0, mean - half), mean + half)


def _quantile(sketch: QuantileSketch, q: float) -> Estimate:
    m = sketch.count
    if m == 0:
        return Estimate(None, None, None)
    spread = Z95 * math.sqrt(m * q * (1 - q))
    low_rank = max(1, math.floor(m * q - spread))
    high_rank = min(m, math.ceil(m * q + spread) + 1)
    return Estimate(sketch.quantile(q), _at_rank(sketch, low_rank), _at_rank(sketch, high_rank))


def _at_rank(sketch: QuantileSketch, rank: int) -> float:
    """The sketch's representative value of the rank-th smallest value (1-based)."""
    seen = sketch.zero_count
    if rank <= seen:
        return 0.0
    for i in sorted(sketch.buckets):
        seen += sketch.buckets[i]
        if rank <= seen:
            return 2 * GAMMA**i / (GAMMA + 1)  # the representative QuantileSketch uses
    raise AssertionError("bucket counts do not add up to count")  # pragma: no cover


def estimates_to_json(metrics: dict[str, Estimate]) -> dict[str, Any]:
    """``{name: [value, low, high]}``, for JSON output and Optuna user attributes."""
    return {name: metrics[name].as_list() for name in METRICS if name in metrics}
