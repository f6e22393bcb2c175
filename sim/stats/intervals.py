"""Binomial intervals: the Wilson score interval every rate in rassim is reported with.

It lives apart from ``sim.stats.summary`` so that fleet metrics, paired comparisons and
adaptive stopping can use it without importing the summary that aggregates them.
"""

from __future__ import annotations

import math

__all__ = ["Z95", "wilson_interval"]

Z95 = 1.959963984540054  # the 0.975 standard-normal quantile: a two-sided 95% interval


def wilson_interval(successes: float, n: float, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval for ``successes`` out of ``n`` Bernoulli trials.

    Counts are usually whole; an effective sample size (``sim.stats.fleet_summary``) may not be.

    Returns ``(0.0, 1.0)`` when ``n == 0`` (nothing is known). The lower bound is exactly
    0.0 when ``successes == 0`` and the upper bound exactly 1.0 when ``successes == n``;
    both are clipped to [0, 1] against rounding.
    """
    if n < 0 or not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n, got successes={successes}, n={n}")
    if not z > 0:
        raise ValueError(f"z must be positive, got {z}")
    if n == 0:
        return (0.0, 1.0)
    # The form (2s + z^2 +- z*sqrt(z^2 + 4s(n-s)/n)) / (2(n + z^2)) avoids forming p(1-p)
    # from a rounded p, so it stays accurate for large n and extreme proportions.
    z2 = z * z
    centre = 2 * successes + z2
    spread = z * math.sqrt(z2 + 4 * successes * (n - successes) / n)
    denom = 2 * (n + z2)
    low = 0.0 if successes == 0 else max(0.0, (centre - spread) / denom)
    high = 1.0 if successes == n else min(1.0, (centre + spread) / denom)
    return (low, high)
