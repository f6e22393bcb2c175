"""Streaming, mergeable summaries of trial results.

Rules
-----
1. A summary is a pure function of the *multiset* of trials added to it. Adding trials in
   any order, or summarising chunks on separate workers and merging the chunk summaries in
   any order and grouping, gives a ``to_dict()`` that is equal (``==``) and serialises to
   the same JSON text. This is what lets the runner change worker count or chunking without
   changing a single printed digit (design guide section 3).
2. Memory does not grow with the trial count (design guide section 4): state is integer
   counters, dicts keyed by distinct codes / reasons / fault names, and quantile sketches
   whose size is bounded by the logarithmic range of the values, not by how many there are.
3. Everything accumulated is an ``int``. Float addition is not associative, so a float sum
   would depend on merge order; times are therefore summed as integer nanoseconds
   (``round(seconds * 1e9)``) and divided once, at read-out, with a single correctly rounded
   ``int / int`` division.
4. Bad input is a bug, not a value: a negative or non-finite duration, or a connected trial
   without a connect time, raises ``ValueError`` instead of quietly skewing the statistics.

Theory of operation
-------------------
``QuantileSketch`` is DDSketch (Masson, Rim & Lee, VLDB 2019) with a fixed relative accuracy
``a = 0.005``. With ``gamma = (1 + a) / (1 - a)``, bucket ``i`` holds the values in
``(gamma**(i-1), gamma**i]`` and is represented by ``2 * gamma**i / (gamma + 1)``, which is
within a relative ``a`` of every value in the bucket. A value's bucket depends only on that
value, so merging is adding integer counts per bucket: exact and order-independent. Values
below ``MIN_VALUE`` (1 microsecond) share a zero bucket represented by 0.0. Durations from
1 us to 1e6 s span at most ~2,800 buckets.

``Summary`` counts outcomes, final failure codes, reasons, codes seen and faults touched,
sums attempts, dials and nanosecond times (and the exact squares of attempts, dials and line
time, from which ``sim.check.expect`` reads the spread of a mean), and keeps a connect-time sketch
(successful trials only) and a line-time sketch (all trials). Rates carry Wilson score
intervals, which, unlike the normal approximation, stay inside [0, 1] and behave at 0 and n
successes. ``QuantileSketch.bounds_at_rank`` gives the bucket edges around an order
statistic, so a quantile's confidence interval read from the sketch is conservative.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, TypeVar

from sender.codes import symbol_of
from sim.stats.fleet_summary import FleetStats
from sim.stats.intervals import wilson_interval
from sim.trial.results import Row, TrialResult

__all__ = ["GAMMA", "MIN_VALUE", "RELATIVE_ACCURACY", "QuantileSketch", "Summary"]

RELATIVE_ACCURACY = 0.005
GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY)
MIN_VALUE = 1e-6  # seconds; below this, log buckets would be wasted on clock noise
_LOG_GAMMA = math.log(GAMMA)
_NS_PER_S = 1_000_000_000
_K = TypeVar("_K", int, str)


def _check_duration(x: float, what: str) -> None:
    if not (math.isfinite(x) and x >= 0):
        raise ValueError(f"{what} must be a finite, non-negative number of seconds, got {x!r}")


def _ns(seconds: float) -> int:
    return round(seconds * _NS_PER_S)


def _mean_s(total_ns: int, n: int) -> float | None:
    # One correctly rounded int/int division: the result depends only on the integers.
    return total_ns / (n * _NS_PER_S) if n else None


def _json_float(x: float) -> float | None:
    return None if math.isnan(x) else x


@dataclass(slots=True)
class QuantileSketch:
    """Mergeable streaming quantiles of non-negative durations, relative error <= 0.5%.

    ``buckets`` maps a log-bucket index to its integer count; ``zero_count`` counts values
    below ``MIN_VALUE``. Two sketches fed the same multiset of values are equal, however the
    values were split and merged.
    """

    buckets: dict[int, int] = field(default_factory=dict)
    zero_count: int = 0
    count: int = 0

    def add(self, x: float) -> None:
        """Record one duration; raises ``ValueError`` for negative, NaN or infinite input."""
        _check_duration(x, "a sketch value")
        self._add_checked(x)

    def _add_checked(self, x: float) -> None:
        """``add`` for a value already checked (``Summary.add`` checks each row once)."""
        if x < MIN_VALUE:
            self.zero_count += 1
        else:
            i = math.ceil(math.log(x) / _LOG_GAMMA)
            self.buckets[i] = self.buckets.get(i, 0) + 1
        self.count += 1

    def merge(self, other: QuantileSketch) -> QuantileSketch:
        """Add ``other``'s counts into this sketch (in place) and return this sketch."""
        _add_counts(self.buckets, other.buckets)
        self.zero_count += other.zero_count
        self.count += other.count
        return self

    def quantile(self, q: float) -> float:
        """The representative value of the bucket holding the rank-``ceil(q*n)`` value.

        ``q`` is in [0, 1]; ``q == 0`` gives the smallest bucket. NaN when empty.
        """
        if not 0 <= q <= 1:
            raise ValueError(f"quantile q must be in [0, 1], got {q!r}")
        if self.count == 0:
            return math.nan
        # Read q as the decimal it was written as, so 0.07 * 100 is rank 7, not the 8 that
        # float 0.07 * 100 == 7.000000000000001 would round up to.
        rank = max(1, math.ceil(Fraction(repr(float(q))) * self.count))
        return self.value_at_rank(rank)

    def value_at_rank(self, rank: int) -> float:
        """The representative value of the bucket holding the ``rank``-th smallest value.

        ``rank`` counts from 1 to ``count``; the result is within 0.5% of that value.
        """
        bucket = self._bucket_at_rank(rank)
        return 0.0 if bucket is None else 2 * GAMMA**bucket / (GAMMA + 1)

    def bounds_at_rank(self, rank: int) -> tuple[float, float]:
        """``(low, high)`` that surely contain the ``rank``-th smallest value (1-based).

        These are the edges of its bucket: ``(0, MIN_VALUE)`` for the zero bucket, else
        ``(gamma**(i-1), gamma**i)``. An interval built from them is conservative: it holds
        the exact order statistic, whatever the sketch's rounding.
        """
        bucket = self._bucket_at_rank(rank)
        if bucket is None:
            return (0.0, MIN_VALUE)
        return (GAMMA ** (bucket - 1), GAMMA**bucket)

    def _bucket_at_rank(self, rank: int) -> int | None:
        """The bucket index holding the ``rank``-th smallest value; None for the zero bucket."""
        if not 1 <= rank <= self.count:
            raise ValueError(f"rank must be between 1 and {self.count}, got {rank}")
        seen = self.zero_count
        if rank <= seen:
            return None
        for i in sorted(self.buckets):
            seen += self.buckets[i]
            if rank <= seen:
                return i
        raise AssertionError("bucket counts do not add up to count")  # pragma: no cover


@dataclass(slots=True)
class Summary:
    """A mergeable accumulator of ``TrialResult`` rows (see the module rules).

    ``failures`` counts the final code of trials that gave up; ``reasons`` counts every
    trial's reason; ``codes_seen`` counts trials in which a code appeared at least once;
    ``faults_touched`` counts trials each fault touched. Times are integer nanoseconds.
    """

    trials: int = 0
    successes: int = 0
    failures: dict[int, int] = field(default_factory=dict)
    reasons: dict[str, int] = field(default_factory=dict)
    codes_seen: dict[int, int] = field(default_factory=dict)
    faults_touched: dict[str, int] = field(default_factory=dict)
    attempts: int = 0
    dials: int = 0
    connect_time_ns: int = 0
    line_time_ns: int = 0
    #: Exact sums of squares (rule 3), for the spread of the per-trial means: attempts²,
    #: dials² and line time in ns².
    attempts_sq: int = 0
    dials_sq: int = 0
    line_time_sq_ns2: int = 0
    connect_time: QuantileSketch = field(default_factory=QuantileSketch)
    line_time: QuantileSketch = field(default_factory=QuantileSketch)
    #: The smallest trial index that gave up with each final code: the trial to replay.
    #: A minimum is order-independent, so rule 1 holds for it too.
    examples: dict[int, int] = field(default_factory=dict)
    #: Fleet metrics (``sim.stats.fleet_summary``); reported only when a trial had many senders.
    fleet: FleetStats = field(default_factory=FleetStats)

    @classmethod
    def of(cls, results: Iterable[TrialResult]) -> Summary:
        """A new summary of ``results``."""
        summary = cls()
        for result in results:
            summary.add(result)
        return summary

    def add(self, result: Row) -> None:
        """Fold one trial in; raises ``ValueError`` for an inconsistent row (rule 4).

        Runs once per trial, so the checks and the nanosecond rounding of ``_check_duration``
        and ``_ns`` are written out here (the same tests, the same integers)."""
        line_time = result.line_time
        if not (line_time >= 0 and line_time < math.inf):  # NaN fails both
            _check_duration(line_time, "line_time")
        connected = result.outcome == "connected"
        if connected:
            connect_time = result.connect_time
            if not (connect_time >= 0 and connect_time < math.inf):
                _check_duration(connect_time, "connect_time of a connected trial")
        # Validate before mutating, so a rejected row leaves the summary unchanged.
        self.trials += 1
        reasons = self.reasons
        reasons[result.reason] = reasons.get(result.reason, 0) + 1
        if result.codes:
            for code in set(result.codes):  # "seen" is per trial, not per occurrence
                _bump(self.codes_seen, code)
        if result.faults:
            for fault in set(result.faults):
                _bump(self.faults_touched, fault)
        attempts, dials = result.attempts, result.dials
        self.attempts += attempts
        self.dials += dials
        self.attempts_sq += attempts * attempts
        self.dials_sq += dials * dials
        line_ns = round(line_time * _NS_PER_S)
        self.line_time_ns += line_ns
        self.line_time_sq_ns2 += line_ns * line_ns
        self.line_time._add_checked(line_time)
        self.fleet.add(result)
        if connected:
            self.successes += 1
            self.connect_time_ns += round(connect_time * _NS_PER_S)
            self.connect_time._add_checked(connect_time)
        else:
            code = result.code
            failures = self.failures
            failures[code] = failures.get(code, 0) + 1
            known = self.examples.get(code)
            if known is None or result.trial < known:
                self.examples[code] = result.trial

    def merge(self, other: Summary) -> Summary:
        """Add ``other`` into this summary **in place** and return this summary.

        ``other`` is not modified. ``a.merge(a)`` doubles ``a``, as adding its trials
        twice would.
        """
        self.trials += other.trials
        self.successes += other.successes
        _add_counts(self.failures, other.failures)
        _add_counts(self.reasons, other.reasons)
        _add_counts(self.codes_seen, other.codes_seen)
        _add_counts(self.faults_touched, other.faults_touched)
        self.attempts += other.attempts
        self.dials += other.dials
        self.connect_time_ns += other.connect_time_ns
        self.line_time_ns += other.line_time_ns
        self.attempts_sq += other.attempts_sq
        self.dials_sq += other.dials_sq
        self.line_time_sq_ns2 += other.line_time_sq_ns2
        self.connect_time.merge(other.connect_time)
        self.line_time.merge(other.line_time)
        self.fleet.merge(other.fleet)
        for code, trial in list(other.examples.items()):
            known = self.examples.get(code)
            if known is None or trial < known:
                self.examples[code] = trial
        return self

    @property
    def success_rate(self) -> float:
        """successes / trials; 0.0 with no trials."""
        return self.successes / self.trials if self.trials else 0.0

    @property
    def ci95(self) -> tuple[float, float]:
        """Wilson 95% interval for the success rate."""
        return wilson_interval(self.successes, self.trials)

    def rate(self, code: int) -> float:
        """The share of all trials that gave up with final ``code``; 0.0 with no trials."""
        return self.failures.get(code, 0) / self.trials if self.trials else 0.0

    def most_frequent_failure(self) -> int | None:
        """The final failure code with the highest count (ties: smaller code), or None."""
        ranked = _ranked(self.failures)
        return ranked[0][0] if ranked else None

    def to_dict(self, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        """A JSON-ready dict (no NaN: missing statistics are None); ``extra`` keys go first.

        Dicts are ordered by count descending, then key, so the JSON text is deterministic.
        ``extra`` (scenario sha256, seed, policy, version...) may not shadow a summary key.
        """
        n = self.trials

        def rate(c: int) -> float:
            return c / n if n else 0.0

        body: dict[str, Any] = {
            "trials": n,
            "successes": self.successes,
            "success_rate": self.success_rate,
            "ci95": list(self.ci95),
            "failures": {
                str(code): {"count": c, "rate": rate(c), "ci95": list(wilson_interval(c, n)),
                            "symbol": symbol_of(code), "example_trial": self.examples[code]}
                for code, c in _ranked(self.failures)
            },
            "reasons": dict(_ranked(self.reasons)),
            "codes_seen": {str(code): {"count": c, "rate": rate(c), "symbol": symbol_of(code)}
                           for code, c in _ranked(self.codes_seen)},
            "connect_time": {
                **self._quantiles(self.connect_time, (50, 90, 95, 99)),
                "mean": _mean_s(self.connect_time_ns, self.successes),
            },
            "attempts_mean": self.attempts / n if n else None,
            "dials_mean": self.dials / n if n else None,
            "line_time_mean": _mean_s(self.line_time_ns, n),
            "line_time": self._quantiles(self.line_time, (50, 90, 99)),
            "faults_touched": dict(_ranked(self.faults_touched)),
        }
        if self.fleet.is_fleet:
            # connect_time above is the makespan: the fleet's last mapped share.
            body["fleet"] = self.fleet.to_dict()
        extra = extra or {}
        clash = sorted(set(extra) & set(body))
        if clash:
            raise ValueError(f"extra keys {clash} would overwrite summary keys; rename them")
        return {**extra, **body}

    @staticmethod
    def _quantiles(sketch: QuantileSketch, percents: tuple[int, ...]) -> dict[str, float | None]:
        return {f"p{p}": _json_float(sketch.quantile(p / 100)) for p in percents}


def _bump(counts: dict[_K, int], key: _K) -> None:
    counts[key] = counts.get(key, 0) + 1


def _add_counts(mine: dict[_K, int], theirs: dict[_K, int]) -> None:
    for key, c in list(theirs.items()):  # list(): safe when theirs is mine (self-merge)
        mine[key] = mine.get(key, 0) + c


def _ranked(counts: dict[_K, int]) -> list[tuple[_K, int]]:
    # Count descending, then key ascending: a total order, so output never depends on the
    # insertion order of the dict (which does depend on the order trials arrived in).
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
