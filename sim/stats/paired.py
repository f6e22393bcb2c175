"""Paired comparisons of two policies run on the same trials (common random numbers).

Rules:

1. Trial i of seed S faces the same world under every policy (``sim.draws.streams`` rule 2), so
   the outcomes of two policies on trial i form a *pair*. ``PairCounts`` counts the four
   kinds of pair as integers; like ``sim.stats.summary.Summary`` it is a pure function of the
   multiset of pairs added, so merging chunk counts in any order or grouping gives equal
   counts (and equal intervals) for any worker count, chunking or executor.
2. The difference is always *candidate minus baseline*: positive means the candidate
   connects more often. Only discordant pairs move it:
   ``(candidate_only - baseline_only) / n``.
3. The 95% interval is Newcombe's hybrid score interval for paired proportions, method 10
   of Newcombe (1998), "Improved confidence intervals for the difference between binomial
   proportions based on paired data", Stat Med 17:2635-2650. It combines the two Wilson
   intervals with the estimated correlation phi between the paired outcomes:

       L = d - sqrt((p1 - l1)^2 - 2 phi (p1 - l1)(u2 - p2) + (u2 - p2)^2)
       U = d + sqrt((u1 - p1)^2 - 2 phi (u1 - p1)(p2 - l2) + (p2 - l2)^2)

   with p1, (l1, u1) the candidate's rate and Wilson interval and p2, (l2, u2) the
   baseline's. phi is (ad - bc) / sqrt(product of the four margins), with Newcombe's
   continuity adjustment: ad - bc is replaced by ad - bc - n/2 when it exceeds n/2 and by 0
   when it lies in [0, n/2]; phi is 0 when a margin is empty. (This is the form tabulated in
   Fagerland, Lydersen & Laake, *Statistical Analysis of Contingency Tables*, ch. 8.) Unlike
   the Wald interval it stays inside [-1, 1] and behaves when discordant pairs are rare,
   which is the normal case for two similar policies on the same world.
4. A policy compared with *itself* differs by exactly 0 with interval (0, 0): under CRN its
   trials are identical, so there is nothing to estimate. The interval formula does not
   know that (it would give a small nonzero width from the asymmetry of the Wilson
   intervals), so callers that know the two policies are the same say so
   (``difference(identical=True)``), and that is checked against the counts.
5. A *quantity* measured on both sides of a pair (the work a trial offered the server, or
   its time to connect when both connected) has a paired mean difference: ``PairedMean``
   keeps n, the sum and the sum of squares of the per-trial differences as integers (the
   quantity in integer units: steps, or nanoseconds), so it merges exactly like the counts.
   Its 95% interval is the normal one, mean +- 1.96 s / sqrt(n), with s the sample standard
   deviation of the differences: under CRN most of the world's noise cancels in each
   difference, which is what makes these intervals narrow.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sim.stats.intervals import Z95, wilson_interval

__all__ = ["Difference", "PairCounts", "PairedMean", "newcombe_independent", "newcombe_paired"]


@dataclass(frozen=True, slots=True)
class Difference:
    """A difference in success rate (candidate - baseline) with its 95% interval."""

    estimate: float
    low: float
    high: float

    @property
    def excludes_zero(self) -> bool:
        """True when the interval shows a difference (lies wholly above or below 0)."""
        return self.low > 0 or self.high < 0


def newcombe_paired(both: int, candidate_only: int, baseline_only: int, neither: int,
                    z: float = Z95) -> Difference:
    """Newcombe's method 10 interval for ``p_candidate - p_baseline`` (see rule 3).

    The four arguments are the counts of trials where both policies connected, only the
    candidate did, only the baseline did, and neither did. With no pairs the difference is
    unknown: estimate 0 and interval (-1, 1).
    """
    a, b, c, d = both, candidate_only, baseline_only, neither
    if min(a, b, c, d) < 0:
        raise ValueError(f"pair counts must be non-negative, got {(a, b, c, d)}")
    n = a + b + c + d
    if n == 0:
        return Difference(0.0, -1.0, 1.0)
    p1 = (a + b) / n
    p2 = (a + c) / n
    estimate = (b - c) / n  # one division of exact integers (rule 2)
    l1, u1 = wilson_interval(a + b, n, z)
    l2, u2 = wilson_interval(a + c, n, z)
    margins = (a + b) * (c + d) * (a + c) * (b + d)
    phi = 0.0
    if margins > 0:
        cross = a * d - b * c
        if 2 * cross > n:
            phi = (cross - n / 2) / math.sqrt(margins)
        elif cross < 0:
            phi = cross / math.sqrt(margins)
    lower_span = (p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2
    upper_span = (u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2
    # The spans are sums of squares less a cross term with |phi| <= 1, so >= 0 up to
    # rounding: clamp before the square root.
    low = estimate - math.sqrt(max(0.0, lower_span))
    high = estimate + math.sqrt(max(0.0, upper_span))
    return Difference(estimate, max(-1.0, low), min(1.0, high))


def newcombe_independent(successes1: int, n1: int, successes2: int, n2: int,
                         z: float = Z95) -> Difference:
    """Newcombe's hybrid score interval (1998, method 10 for *independent* samples) for p1 - p2.

    The unpaired counterpart of ``newcombe_paired``: what a comparison costs when the two
    policies run on different seeds (the CRN benchmark contrasts the two).
    """
    if n1 <= 0 or n2 <= 0:
        return Difference(0.0, -1.0, 1.0)
    p1, p2 = successes1 / n1, successes2 / n2
    l1, u1 = wilson_interval(successes1, n1, z)
    l2, u2 = wilson_interval(successes2, n2, z)
    estimate = p1 - p2
    low = estimate - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = estimate + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return Difference(estimate, max(-1.0, low), min(1.0, high))


@dataclass(slots=True)
class PairCounts:
    """Counts of paired outcomes of a candidate against a baseline (rule 1)."""

    both: int = 0
    candidate_only: int = 0  # b01: the candidate connected, the baseline did not
    baseline_only: int = 0  # b10: the baseline connected, the candidate did not
    neither: int = 0

    @property
    def n(self) -> int:
        return self.both + self.candidate_only + self.baseline_only + self.neither

    def add(self, baseline_connected: bool, candidate_connected: bool) -> None:
        """Fold in one trial's pair of outcomes."""
        if baseline_connected and candidate_connected:
            self.both += 1
        elif candidate_connected:
            self.candidate_only += 1
        elif baseline_connected:
            self.baseline_only += 1
        else:
            self.neither += 1

    def add_masks(self, baseline: int, candidate: int, width: int) -> None:
        """Fold in ``width`` trials given as bit masks (bit k set = trial k connected)."""
        if width < 0 or baseline >> width or candidate >> width or baseline < 0 or candidate < 0:
            raise ValueError(f"masks must be non-negative and fit in {width} bits")
        full = (1 << width) - 1
        both = (baseline & candidate).bit_count()
        candidate_only = (candidate & ~baseline & full).bit_count()
        baseline_only = (baseline & ~candidate & full).bit_count()
        self.both += both
        self.candidate_only += candidate_only
        self.baseline_only += baseline_only
        self.neither += width - both - candidate_only - baseline_only

    def merge(self, other: PairCounts) -> PairCounts:
        """Add ``other``'s counts into these (in place) and return self."""
        self.both += other.both
        self.candidate_only += other.candidate_only
        self.baseline_only += other.baseline_only
        self.neither += other.neither
        return self

    def difference(self, *, identical: bool = False) -> Difference:
        """The paired difference with its 95% interval (rules 3 and 4).

        ``identical=True`` states that candidate and baseline are the same policy; the
        difference is then exactly 0 with interval (0, 0). A discordant pair under that
        claim means trials are not reproducible, which is a bug: ``AssertionError``.
        """
        if identical:
            if self.candidate_only or self.baseline_only:
                raise AssertionError(
                    f"a policy disagreed with itself on {self.candidate_only + self.baseline_only}"
                    " trials: trials are not reproducible (design guide section 3)"
                )
            return Difference(0.0, 0.0, 0.0)
        return newcombe_paired(self.both, self.candidate_only, self.baseline_only, self.neither)

    def to_dict(self) -> dict[str, Any]:
        return {"both": self.both, "candidate_only": self.candidate_only,
                "baseline_only": self.baseline_only, "neither": self.neither}


@dataclass(slots=True)
class PairedMean:
    """The paired differences (candidate - baseline) of an integer quantity (rule 5)."""

    n: int = 0
    total: int = 0
    total_sq: int = 0

    def add(self, baseline: int, candidate: int) -> None:
        d = candidate - baseline
        self.n += 1
        self.total += d
        self.total_sq += d * d

    def merge(self, other: PairedMean) -> PairedMean:
        """Add ``other``'s sums into these (in place) and return self."""
        self.n += other.n
        self.total += other.total
        self.total_sq += other.total_sq
        return self

    def difference(self, *, scale: int = 1, identical: bool = False) -> Difference | None:
        """The mean difference in units of ``1/scale`` with its 95% interval; None with no
        pair. One pair gives an open interval. ``identical`` as ``PairCounts.difference``."""
        if identical:
            if self.total or self.total_sq:
                raise AssertionError("a policy disagreed with itself: trials are not "
                                     "reproducible (design guide section 3)")
            return Difference(0.0, 0.0, 0.0) if self.n else None
        if self.n == 0:
            return None
        mean = self.total / (self.n * scale)
        if self.n < 2:
            return Difference(mean, -math.inf, math.inf)
        # Sample variance from exact integers: (sum d^2 - (sum d)^2 / n) / (n - 1).
        spread = max(0, self.n * self.total_sq - self.total * self.total)
        sd = math.sqrt(spread / (self.n * (self.n - 1))) / scale
        half = Z95 * sd / math.sqrt(self.n)
        return Difference(mean, mean - half, mean + half)

    def to_dict(self) -> dict[str, Any]:
        return {"n": self.n, "total": self.total, "total_sq": self.total_sq}
