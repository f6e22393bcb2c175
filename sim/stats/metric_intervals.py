"""The 95% (or other level) interval of every statistic an ``[expect]`` table can bound.

``sim.check.expect`` judges bounds with these intervals at 95% (its rule 2 states each one);
``sim.stats.sequential`` asks for wider ones at each look of a sequential decision. They
live here, below both, so that checks and sweeps judge a statistic by the same interval.

Every function is a pure function of a summary's integers: as deterministic as the run.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from sim.scenario.bounds import RATE_KEY, kind_of
from sim.stats.fleet_summary import FleetStats
from sim.stats.intervals import Z95, wilson_interval
from sim.stats.summary import QuantileSketch, Summary

__all__ = ["interval_of", "mean_interval", "order_statistic_ranks", "quantile_interval",
           "tail_of"]

_NS_PER_S = 1_000_000_000
_TAIL = (1 - 0.95) / 2


def interval_of(statistic: str, summary: Summary, z: float = Z95
                ) -> tuple[float | None, float, float, int]:
    """``(estimate, low, high, n)`` of ``statistic`` in ``summary`` (rule 2).

    ``z`` sets the confidence: the two-sided level is 2 Phi(z) - 1 (95% by default). A
    sequential decision (``sim.stats.sequential``) asks for wider intervals at each look."""
    n = summary.trials
    match = RATE_KEY.match(statistic)
    if statistic == "success_rate" or match:
        count = (summary.successes if match is None
                 else summary.failures.get(int(match.group(1)), 0))
        low, high = wilson_interval(count, n, z)
        return (count / n if n else None), low, high, n
    if statistic.endswith("_connect_time"):
        q = int(statistic[1:3]) / 100
        return (*quantile_interval(summary.connect_time, q, tail_of(z)),
                summary.connect_time.count)
    if statistic == "attempts_mean":
        return (*mean_interval(summary.attempts, summary.attempts_sq, n, z=z), n)
    if statistic == "dials_mean":
        return (*mean_interval(summary.dials, summary.dials_sq, n, z=z), n)
    if statistic == "line_time_mean":
        return (*mean_interval(summary.line_time_ns, summary.line_time_sq_ns2, n,
                               scale=_NS_PER_S, z=z), n)
    if statistic in _FLEET:
        return _fleet_interval(statistic, summary, z)
    raise ValueError(f"unknown statistic {statistic!r}")


#: A fleet statistic's (value, low, high) from the summary's fleet block, and its sample size.
_FLEET: dict[str, tuple[Callable[[FleetStats, float],
                                  tuple[float | None, float | None, float | None]],
                         Callable[[FleetStats], int]]] = {
    "sender_success_rate": (FleetStats.sender_success, lambda f: f.senders),
    "busy_rate": (FleetStats.busy_rate, lambda f: f.dials),
    "work_mean": (FleetStats.work_mean, lambda f: f.trials),
    "port_utilization": (FleetStats.utilization, lambda f: f.trials),
}


def tail_of(z: float) -> float:
    """The one-sided tail beyond ``z``: 2.5% for the default 95% interval."""
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def _fleet_interval(statistic: str, summary: Summary, z: float = Z95
                    ) -> tuple[float | None, float, float, int]:
    """A fleet statistic (``sim.stats.fleet_summary``): a share judged on the cluster-effective
    sample (trials are clusters of senders), or a per-trial mean. Without data (no dials,
    fewer than 2 trials) the interval is open, so no bound on it can be demonstrated."""
    compute, size = _FLEET[statistic]
    value, low, high = compute(summary.fleet, z)
    kind = kind_of(statistic)
    top = 1.0 if kind == "rate" else math.inf
    return value, (0.0 if low is None else low), (top if high is None else high), \
        size(summary.fleet)


def mean_interval(total: int, total_sq: int, n: int,
                  scale: int = 1, z: float = Z95) -> tuple[float | None, float, float]:
    """``(mean, low, high)`` of n non-negative values from their exact sum and sum of squares.

    Values are ``value * scale`` integers (nanoseconds: ``scale = 10**9``). The sample
    variance is ``(n * sum_sq - sum**2) / (n (n - 1))``, formed exactly in integers and
    divided once; the low end is clipped at 0. Fewer than two values give an open interval.
    """
    if n == 0:
        return None, 0.0, math.inf
    mean = total / (n * scale)
    if n == 1:
        return mean, 0.0, math.inf
    spread = n * total_sq - total * total  # >= 0 exactly (Cauchy-Schwarz on integers)
    variance = spread / (n * (n - 1) * scale * scale)
    half = z * math.sqrt(variance / n)
    return mean, max(0.0, mean - half), mean + half


def order_statistic_ranks(n: int, q: float, tail: float = _TAIL) -> tuple[int, int]:
    """1-based ranks ``(l, u)`` with P(X(l) <= q-quantile <= X(u)) >= 95% for n values.

    ``l`` is the largest rank with P(B < l) <= 2.5% and ``u`` the smallest with
    P(B >= u) <= 2.5%, where B ~ Binomial(n, q) counts the values below the quantile.
    ``l == 0`` means no order statistic is low enough (the interval is open below) and
    ``u == n + 1`` that none is high enough (open above).
    """
    if n < 0 or not 0 < q < 1:
        raise ValueError(f"need n >= 0 and 0 < q < 1, got n={n}, q={q}")
    if n == 0:
        return 0, 1
    # Sum the binomial pmf upwards from far in the left tail: beyond 12 standard deviations
    # the mass (< 1e-32) cannot move a 2.5% cut, and skipping it keeps huge n cheap.
    sd = math.sqrt(n * q * (1 - q))
    start = max(0, math.floor(n * q - 12 * sd - 10))
    log_q, log_1q, log_fact_n = math.log(q), math.log1p(-q), math.lgamma(n + 1)
    low_rank, high_rank = 0, n + 1
    cdf = 0.0  # P(B <= k - 1) at the top of the loop
    for k in range(start, n + 1):
        # Ranks are 1-based: X(k + 1) is above the quantile iff B <= k.
        if cdf <= tail:
            low_rank = k  # P(B < k) = P(B <= k - 1) <= 2.5%
        if 1 - cdf <= tail:
            high_rank = k  # P(B >= k) <= 2.5%
            break
        cdf += math.exp(log_fact_n - math.lgamma(k + 1) - math.lgamma(n - k + 1)
                        + k * log_q + (n - k) * log_1q)
    return low_rank, high_rank


def quantile_interval(sketch: QuantileSketch, q: float, tail: float = _TAIL
                      ) -> tuple[float | None, float, float]:
    """``(estimate, low, high)`` of the q-quantile of the sketched (non-negative) values;
    ``tail`` is the probability left out on each side (2.5%: a 95% interval)."""
    n = sketch.count
    if n == 0:
        return None, 0.0, math.inf
    low_rank, high_rank = order_statistic_ranks(n, q, tail)
    low = sketch.bounds_at_rank(low_rank)[0] if low_rank >= 1 else 0.0
    high = sketch.bounds_at_rank(high_rank)[1] if high_rank <= n else math.inf
    return sketch.quantile(q), low, high
