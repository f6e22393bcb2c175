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
from dataclasses import dataclass
from typing import Literal

from sim.scenario.bounds import Bound, Kind
from sim.scenario.schema import ExpectSpec
from sim.stats.metric_intervals import (
    interval_of,
    mean_interval,
    order_statistic_ranks,
    quantile_interval,
)
from sim.stats.summary import Summary

__all__ = ["STATUS_TEXT", "Status", "Verdict", "evaluate", "interval_of", "judge",
           "mean_interval", "order_statistic_ranks", "quantile_interval"]

Status = Literal["demonstrated", "violated", "not demonstrated"]

#: What each status means, as printed after the interval.
STATUS_TEXT: dict[Status, str] = {
    "demonstrated": "demonstrated",
    "violated": "violated (interval entirely on the wrong side)",
    "not demonstrated": "not demonstrated (interval straddles the bound)",
}



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
