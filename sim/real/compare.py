"""Real against simulated, paired trial by trial.

Rules:

1. A pair is (simulated trial i, real trial i) of the same seed: the same world draws
   (``sim.real.world``). Real rows with ``error`` (a failure with no Win32 code) are left
   out and counted.
2. Agreement: both connected, or both gave up with the same final code. Its interval is
   Wilson's. Discordant pairs: b = simulated connected and real did not, c = the reverse;
   d = both gave up with different codes. The exact McNemar test is the two-sided binomial
   test of b against b + c at one half: a *systematic* difference shows as a small p even
   when the unpaired rates look alike.
3. Rates (success, and each final code seen on either side) are compared paired: the
   difference real - simulated with Newcombe's interval for paired proportions (1998,
   method 10, from the two Wilson intervals and the continuity-corrected phi correlation).
4. Time to connect: the mean paired difference real - simulated over pairs where both
   connected, +- 1.96 standard errors.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from sim.real.run import RealRow
from sim.stats.intervals import Z95, wilson_interval
from sim.trial.results import TrialResult

__all__ = ["Comparison", "RateDiff", "compare", "mcnemar_exact", "newcombe_paired"]


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value: binomial(b + c, 1/2) at min(b, c), doubled."""
    n = b + c
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(min(b, c) + 1)) / 2**n
    return float(min(1.0, 2 * tail))


def newcombe_paired(both: int, real_only: int, sim_only: int,
                    neither: int) -> tuple[float, float, float]:
    """(difference, low, high) of P(real) - P(sim) from paired counts (rule 3)."""
    n = both + real_only + sim_only + neither
    if n == 0:
        return 0.0, -1.0, 1.0
    p1, p2 = (both + real_only) / n, (both + sim_only) / n
    l1, u1 = wilson_interval(both + real_only, n)
    l2, u2 = wilson_interval(both + sim_only, n)
    denominator = ((both + real_only) * (sim_only + neither) * (both + sim_only)
                   * (real_only + neither))
    # Newcombe's continuity correction of phi: without it, no discordant pair at all would
    # give a zero-width interval (phi = 1 and symmetric Wilson ends cancel).
    cross = float(both * neither - real_only * sim_only)
    if cross > 0:
        cross = max(cross - n / 2, 0.0)
    phi = cross / math.sqrt(denominator) if denominator > 0 else 0.0
    d = p1 - p2
    low = d - math.sqrt(max(0.0, (p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2)
                            + (u2 - p2) ** 2))
    high = d + math.sqrt(max(0.0, (u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2)
                             + (p2 - l2) ** 2))
    return d, max(-1.0, low), min(1.0, high)


@dataclass(frozen=True, slots=True)
class RateDiff:
    """One rate, paired: counts on each side and the difference's interval."""

    key: str
    sim: int
    real: int
    b: int  # simulated yes, real no
    c: int  # simulated no, real yes
    diff: float
    low: float
    high: float


@dataclass
class Comparison:
    """The paired comparison of one run (rules 1-4)."""

    n: int = 0
    agree: int = 0
    b: int = 0
    c: int = 0
    d: int = 0
    errors: int = 0
    rates: list[RateDiff] = field(default_factory=list)
    connect_n: int = 0
    connect_mean: float = math.nan
    connect_low: float = -math.inf
    connect_high: float = math.inf
    discordant: list[tuple[TrialResult, RealRow]] = field(default_factory=list)

    @property
    def agreement(self) -> tuple[float, float, float]:
        low, high = wilson_interval(self.agree, self.n)
        return (self.agree / self.n if self.n else math.nan), low, high

    @property
    def mcnemar_p(self) -> float:
        return mcnemar_exact(self.b, self.c)


def _final(code: int, connected: bool) -> int:
    return 0 if connected else code


def compare(sim: list[TrialResult], real: list[RealRow]) -> Comparison:
    """Pair ``sim`` and ``real`` by trial index and compare them (rules 1-4)."""
    by_trial = {row.trial: row for row in sim}
    out = Comparison()
    pairs = []
    for row in real:
        if row.error is not None:
            out.errors += 1
            continue
        pairs.append((by_trial[row.trial], row))
    out.n = len(pairs)
    diffs = []
    for s, r in pairs:
        s_ok, r_ok = s.outcome == "connected", r.outcome == "connected"
        if _final(s.code, s_ok) == _final(r.code, r_ok):
            out.agree += 1
        else:
            out.discordant.append((s, r))
            if s_ok and not r_ok:
                out.b += 1
            elif r_ok and not s_ok:
                out.c += 1
            else:
                out.d += 1
        if s_ok and r_ok:
            diffs.append(r.connect_time - s.connect_time)
    keys = sorted({_final(s.code, s.outcome == "connected") for s, _ in pairs}
                  | {_final(r.code, r.outcome == "connected") for _, r in pairs})
    for key in keys:
        both = real_only = sim_only = neither = 0
        for s, r in pairs:
            in_s = _final(s.code, s.outcome == "connected") == key
            in_r = _final(r.code, r.outcome == "connected") == key
            both += in_s and in_r
            real_only += in_r and not in_s
            sim_only += in_s and not in_r
            neither += not in_s and not in_r
        diff, low, high = newcombe_paired(both, real_only, sim_only, neither)
        out.rates.append(RateDiff("success" if key == 0 else f"rate_{key}", both + sim_only,
                                  both + real_only, sim_only, real_only, diff, low, high))
    out.connect_n = len(diffs)
    if diffs:
        mean = sum(diffs) / len(diffs)
        out.connect_mean = mean
        if len(diffs) > 1:
            sd = math.sqrt(sum((x - mean) ** 2 for x in diffs) / (len(diffs) - 1))
            half = Z95 * sd / math.sqrt(len(diffs))
            out.connect_low, out.connect_high = mean - half, mean + half
    return out
