"""Fleet metrics: what many senders sharing one RAS server did, summed over trials.

Rules (the same as ``sim.stats.summary``'s): everything accumulated is an ``int``, so a fleet
summary merges exactly and in any order; the numbers are read out once, at the end.

Theory of operation
-------------------
The senders of one trial share ports, a line and a budget, so their outcomes are not
independent: a Wilson interval over sender-outcomes would be too narrow. Trials are
independent, so per-sender rates are ratio estimators over trials (each trial a cluster):
``R = sum(y) / sum(x)`` with the linearised variance
``sum((y - R x)^2) / (T (T - 1) xbar^2)`` read from exact integer sums of squares and
cross products (Cochran, *Sampling Techniques*, 6.3), turned into a Wilson interval on
the effective sample size (``ratio_interval``). Means of per-trial values (work,
utilisation) use the normal interval of a mean.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

from sim.stats.intervals import wilson_interval
from sim.trial.results import Row

__all__ = ["FleetStats", "mean_interval", "ratio_interval"]

Z95 = 1.959963984540054
_E9 = 1_000_000_000


def ratio_interval(y: int, x: int, yy: int, xx: int, xy: int, trials: int, z: float = Z95
                   ) -> tuple[float | None, float | None, float | None]:
    """The share ``sum(y) / sum(x)`` over ``trials`` clusters, with its 95% interval.

    The interval is Wilson's on the effective sample size ``x / deff`` (Kish), where the
    design effect ``deff`` is the ratio estimator's variance over the variance the same
    share would have if the units were independent, floored at 1: clustering may widen the
    interval, never narrow it below the independent one (which also keeps it honest when
    every unit succeeded and the cluster variance is 0). All None when ``x`` is 0; no
    interval with fewer than 2 trials.
    """
    if x == 0:
        return (None, None, None)
    ratio = y / x
    if trials < 2:
        return (ratio, None, None)
    # sum((y - R x)^2) = yy - 2 R xy + R^2 xx, formed with R = y/x as exact fractions:
    # (x^2 yy - 2 x y xy + y^2 xx) / x^2, an integer numerator that cannot cancel badly.
    numerator = x * x * yy - 2 * x * y * xy + y * y * xx
    variance = max(0, numerator) / (x * x) / (trials * (trials - 1)) / (x / trials) ** 2
    independent = ratio * (1 - ratio) / x
    deff = max(1.0, variance / independent) if independent > 0 else 1.0

    n_eff = x / deff
    low, high = wilson_interval(ratio * n_eff, n_eff, z)
    return (ratio, low, high)


def mean_interval(total: int, total_sq: int, n: int, scale: int = 1, z: float = Z95
                  ) -> tuple[float | None, float | None, float | None]:
    """The mean of n values (summed as integers ``scale`` times the value) and its 95%
    normal interval; no interval with fewer than 2 values."""
    if n == 0:
        return (None, None, None)
    mean = total / (n * scale)
    if n < 2:
        return (mean, None, None)
    spread = n * total_sq - total * total  # exact and non-negative
    half = z * math.sqrt(spread / (n * (n - 1))) / scale / math.sqrt(n)
    return (mean, mean - half, mean + half)


@dataclass(slots=True)
class FleetStats:
    """Integer sums over trials of the fleet fields of ``TrialResult`` (rule above)."""

    trials: int = 0
    senders: int = 0
    senders_sq: int = 0
    connected: int = 0
    connected_sq: int = 0
    connected_x_senders: int = 0
    work: int = 0  # map attempts + dials: what the fleet offered the server
    work_sq: int = 0
    dials: int = 0
    dials_sq: int = 0
    busy: int = 0
    busy_sq: int = 0
    busy_x_dials: int = 0
    utilization_e9: int = 0
    utilization_sq_e18: int = 0
    largest: int = 0  # the most senders in one trial (a lone sender's summary has 1)

    def add(self, r: Row) -> None:
        self.trials += 1
        n, k = r.senders, r.senders_connected
        self.senders += n
        self.senders_sq += n * n
        self.connected += k
        self.connected_sq += k * k
        self.connected_x_senders += k * n
        work = r.attempts + r.dials
        self.work += work
        self.work_sq += work * work
        self.dials += r.dials
        self.dials_sq += r.dials * r.dials
        self.busy += r.busy_signals
        self.busy_sq += r.busy_signals * r.busy_signals
        self.busy_x_dials += r.busy_signals * r.dials
        u = round(r.port_utilization * _E9)
        self.utilization_e9 += u
        self.utilization_sq_e18 += u * u
        if n > self.largest:
            self.largest = n

    def merge(self, other: FleetStats) -> FleetStats:
        for f in fields(self):
            if f.name == "largest":
                self.largest = max(self.largest, other.largest)
            else:
                setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))
        return self

    @property
    def is_fleet(self) -> bool:
        return self.largest > 1

    def sender_success(self, z: float = Z95) -> tuple[float | None, float | None, float | None]:
        """The share of senders that connected, with its cluster-robust 95% interval
        (``z``: another two-sided level, 2 Phi(z) - 1)."""
        return ratio_interval(self.connected, self.senders, self.connected_sq, self.senders_sq,
                              self.connected_x_senders, self.trials, z)

    def busy_rate(self, z: float = Z95) -> tuple[float | None, float | None, float | None]:
        """The share of dials refused for want of a port, with its 95% interval."""
        return ratio_interval(self.busy, self.dials, self.busy_sq, self.dials_sq,
                              self.busy_x_dials, self.trials, z)

    def work_mean(self, z: float = Z95) -> tuple[float | None, float | None, float | None]:
        return mean_interval(self.work, self.work_sq, self.trials, z=z)

    def utilization(self, z: float = Z95) -> tuple[float | None, float | None, float | None]:
        return mean_interval(self.utilization_e9, self.utilization_sq_e18, self.trials, _E9,
                             z)

    def to_dict(self) -> dict[str, Any]:
        """The fleet block of a summary's JSON: ``[value, low, high]`` per metric."""
        return {
            "senders": self.largest,
            "sender_success_rate": list(self.sender_success()),
            "work_mean": list(self.work_mean()),
            "busy_rate": list(self.busy_rate()),
            "busy_signals_mean": self.busy / self.trials if self.trials else None,
            "port_utilization": list(self.utilization()),
        }
