"""Expectations: does a run *demonstrate* each bound of a scenario's ``[expect]`` table?

Rules:

1. Every statistic is judged by its 95% interval, never by its point estimate. A bound is
   **demonstrated** when the whole interval lies on its side, **violated** when the whole
   interval lies on the wrong side, and **not demonstrated** when the interval straddles
   it. Only "demonstrated" passes: a check that passes has been shown at 95% confidence,
   and one that fails says whether more trials could help (straddles) or not (violated).
2. The intervals:

   * ``success_rate`` and ``rate_<code>``: Wilson score (``sim.stats.summary.wilson_interval``).
   * ``pNN_connect_time``: distribution-free. With n successful trials, the number of
     connect times below the true q-quantile is Binomial(n, q), so the order statistics
     X(l) and X(u), with l and u its 2.5% and 97.5% points, bracket the quantile with
     probability >= 95%. They are read from the sketch as the edges of their buckets, so
     the sketch's 0.5% rounding only widens the interval. Too few trials leave an end open
     (0 or infinity), and a bound on that side cannot be demonstrated.
   * ``attempts_mean``, ``dials_mean``, ``line_time_mean``: normal approximation, mean +-
     1.96 s / sqrt(n), with s from the summary's exact integer sums of squares.
   * Fleets: ``sender_success_rate`` and ``busy_rate`` are shares over senders (dials) whose
     trials are clusters: Wilson's interval on the Kish effective sample, never narrower
     than if the units were independent. ``work_mean`` and ``port_utilization`` are
     per-trial means, as above (``sim.stats.fleet_summary``).

3. A verdict is a pure function of the summary's integers, so it is as deterministic as the
   run: the same seed and trial count give the same verdict on every machine.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from sim.scenario.bounds import RATE_KEY, Bound, Kind, kind_of
from sim.scenario.schema import ExpectSpec
from sim.stats.fleet_summary import FleetStats
from sim.stats.intervals import Z95, wilson_interval
from sim.stats.summary import QuantileSketch, Summary

__all__ = ["STATUS_TEXT", "Status", "Verdict", "evaluate", "interval_of", "judge",
           "mean_interval", "order_statistic_ranks", "quantile_interval"]

Status = Literal["demonstrated", "violated", "not demonstrated"]

#: What each status means, as printed after the interval.
STATUS_TEXT: dict[Status, str] = {
    "demonstrated": "demonstrated",
    "violated": "violated (interval entirely on the wrong side)",
    "not demonstrated": "not demonstrated (interval straddles the bound)",
}

_NS_PER_S = 1_000_000_000
_TAIL = (1 - 0.95) / 2


@dataclass(frozen=True, slots=True)
class Verdict:
    """One expectation judged: the statistic's estimate, its 95% interval, and the status.

    ``estimate`` is None when the run has no data for the statistic (no successful trial
    for a connect-time quantile); the interval is then open. ``n`` is the sample size.
    """

    statistic: str
    bound: Bound
    estimate: float | None
    low: float
    high: float
    n: int
    status: Status

    @property
    def passed(self) -> bool:
        return self.status == "demonstrated"

    def describe(self) -> str:
        """``success_rate >= 0.99: 0.9991 [0.9985, 0.9994] demonstrated``."""
        estimate, low, high, bound = _format(
            [self.estimate, self.low, self.high, self.bound.value], self.bound.kind)
        return (f"{self.statistic} {self.bound.text}: {estimate} [{low}, {high}] "
                f"{STATUS_TEXT[self.status]}")


def judge(bound: Bound, low: float, high: float) -> Status:
    """Where the interval [low, high] lies relative to ``bound`` (rule 1).

    Both sides of a bound are half-lines, so the interval lies wholly on one side exactly
    when both of its ends do.
    """
    low_ok, high_ok = bound.holds(low), bound.holds(high)
    if low_ok and high_ok:
        return "demonstrated"
    if not low_ok and not high_ok:
        return "violated"
    return "not demonstrated"


def evaluate(spec: ExpectSpec, summary: Summary) -> list[Verdict]:
    """Every bound of ``spec`` judged against ``summary``, in ``spec.items()`` order."""
    verdicts = []
    for statistic, bound in spec.items():
        estimate, low, high, n = interval_of(statistic, summary)
        verdicts.append(Verdict(statistic, bound, estimate, low, high, n,
                                judge(bound, low, high)))
    return verdicts


def interval_of(statistic: str, summary: Summary) -> tuple[float | None, float, float, int]:
    """``(estimate, low, high, n)`` of ``statistic`` in ``summary`` (rule 2)."""
    n = summary.trials
    match = RATE_KEY.match(statistic)
    if statistic == "success_rate" or match:
        count = (summary.successes if match is None
                 else summary.failures.get(int(match.group(1)), 0))
        low, high = wilson_interval(count, n)
        return (count / n if n else None), low, high, n
    if statistic.endswith("_connect_time"):
        q = int(statistic[1:3]) / 100
        return (*quantile_interval(summary.connect_time, q), summary.connect_time.count)
    if statistic == "attempts_mean":
        return (*mean_interval(summary.attempts, summary.attempts_sq, n), n)
    if statistic == "dials_mean":
        return (*mean_interval(summary.dials, summary.dials_sq, n), n)
    if statistic == "line_time_mean":
        return (*mean_interval(summary.line_time_ns, summary.line_time_sq_ns2, n,
                               scale=_NS_PER_S), n)
    if statistic in _FLEET:
        return _fleet_interval(statistic, summary)
    raise ValueError(f"unknown statistic {statistic!r}")


#: A fleet statistic's (value, low, high) from the summary's fleet block, and its sample size.
_FLEET: dict[str, tuple[Callable[[FleetStats], tuple[float | None, float | None, float | None]],
                         Callable[[FleetStats], int]]] = {
    "sender_success_rate": (FleetStats.sender_success, lambda f: f.senders),
    "busy_rate": (FleetStats.busy_rate, lambda f: f.dials),
    "work_mean": (FleetStats.work_mean, lambda f: f.trials),
    "port_utilization": (FleetStats.utilization, lambda f: f.trials),
}


def _fleet_interval(statistic: str, summary: Summary) -> tuple[float | None, float, float, int]:
    """A fleet statistic (``sim.stats.fleet_summary``): a share judged on the cluster-effective
    sample (trials are clusters of senders), or a per-trial mean. Without data (no dials,
    fewer than 2 trials) the interval is open, so no bound on it can be demonstrated."""
    compute, size = _FLEET[statistic]
    value, low, high = compute(summary.fleet)
    kind = kind_of(statistic)
    top = 1.0 if kind == "rate" else math.inf
    return value, (0.0 if low is None else low), (top if high is None else high), \
        size(summary.fleet)


def mean_interval(total: int, total_sq: int, n: int,
                  scale: int = 1) -> tuple[float | None, float, float]:
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
    half = Z95 * math.sqrt(variance / n)
    return mean, max(0.0, mean - half), mean + half


def order_statistic_ranks(n: int, q: float) -> tuple[int, int]:
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
        if cdf <= _TAIL:
            low_rank = k  # P(B < k) = P(B <= k - 1) <= 2.5%
        if 1 - cdf <= _TAIL:
            high_rank = k  # P(B >= k) <= 2.5%
            break
        cdf += math.exp(log_fact_n - math.lgamma(k + 1) - math.lgamma(n - k + 1)
                        + k * log_q + (n - k) * log_1q)
    return low_rank, high_rank


def quantile_interval(sketch: QuantileSketch, q: float) -> tuple[float | None, float, float]:
    """``(estimate, low, high)`` of the q-quantile of the sketched (non-negative) values."""
    n = sketch.count
    if n == 0:
        return None, 0.0, math.inf
    low_rank, high_rank = order_statistic_ranks(n, q)
    low = sketch.bounds_at_rank(low_rank)[0] if low_rank >= 1 else 0.0
    high = sketch.bounds_at_rank(high_rank)[1] if high_rank <= n else math.inf
    return sketch.quantile(q), low, high


# --- formatting -------------------------------------------------------------------------------
_FIRST_DECIMALS: dict[Kind, int] = {"rate": 4, "duration": 1, "count": 3}


def _format(values: list[float | None], kind: Kind) -> list[str]:
    """Values as text with enough decimals that unequal values never print alike.

    Rates get at least two significant digits for their smallest non-zero value.

    Otherwise a low end of 0.98996 printed "0.9900" next to a bound of 0.99 would make a
    correct "not demonstrated" look wrong.
    """
    finite = [v for v in values if v is not None and math.isfinite(v)]
    decimals = _FIRST_DECIMALS[kind]
    if kind == "rate":
        # Two significant digits even for rare codes: 0.00036, not 0.0004.
        smallest = min((v for v in finite if v > 0), default=1.0)
        decimals = max(decimals, min(10, 1 - math.floor(math.log10(smallest))))
    while decimals < 12:
        texts = {v: f"{v:.{decimals}f}" for v in finite}
        if len(set(texts.values())) == len(texts):
            break
        decimals += 1
    unit = "s" if kind == "duration" else ""
    out = []
    for v in values:
        if v is None:
            out.append("-")
        elif math.isinf(v):
            out.append("inf")
        else:
            out.append(f"{v:.{decimals}f}{unit}")
    return out
