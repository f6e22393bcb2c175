"""Deciding whether each policy meets a requirement, stopping as soon as the data say so.

``rassim sweep --require "success_rate >= 0.999"`` asks a yes/no question per policy. Rules:

1. **A requirement** is ``statistic op value`` for any statistic an ``[expect]`` table
   knows (``sim.scenario.bounds``), e.g. ``success_rate >= 0.999``, ``rate_53 <= 1%``,
   ``p95_connect_time <= 60s``.
2. **Planned looks.** The data are looked at only at the batch ends of ``sim.stats.adaptive``
   (doubling from the first batch up to the cap): K looks, all known before the first trial.
3. **Correction for optional stopping: Bonferroni over the K looks.** At each look the
   statistic's interval is taken at the two-sided level 1 - alpha / K (alpha = 5%, so with
   K = 9 looks each interval is a 99.44% one, z = 2.77), not at 95%. A policy is decided
   **meets** when the whole interval lies on the bound's side and **fails** when the whole
   interval lies on the other side; it then runs no more trials. By the union bound the
   probability that the true value lies outside the interval at *any* of the K looks is at
   most alpha, so a decision is wrong with probability at most 5% per policy, however many
   looks it took (the guarantee is per policy, as ``[expect]``'s 95% is per statistic).
4. **A cap, never for ever.** A policy whose interval still straddles the bound at the last
   look is **undecided**: the value is too close to the bound for the cap to tell.
5. **Deterministic.** The decision is a pure function of the summary's integers at fixed
   trial counts, so the same seed gives the same decisions for any worker count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import Literal

from sim.scenario.bounds import FLEET_STATISTICS, STATISTICS, Bound, kind_of, parse_bound
from sim.stats.metric_intervals import interval_of
from sim.stats.summary import Summary

__all__ = ["ALPHA", "Decision", "Requirement", "Verdict", "look_z"]

#: The error rate of a decision (rule 3): 1 - the confidence the user asks for.
ALPHA = 0.05

Verdict = Literal["meets", "fails", "undecided"]


@dataclass(frozen=True, slots=True)
class Requirement:
    """``statistic bound`` (rule 1), as ``--require`` writes it."""

    statistic: str
    bound: Bound

    @classmethod
    def parse(cls, text: str) -> Requirement:
        """``"success_rate >= 0.999"``; ``ValueError`` saying what to write otherwise."""
        parts = text.strip().split(None, 1)
        if len(parts) != 2:
            raise ValueError(f"cannot read {text!r}; write a statistic, a comparison and a "
                             "value, e.g. \"success_rate >= 0.999\"")
        statistic, rest = parts
        kind = kind_of(statistic)
        if kind is None:
            known = ", ".join([*STATISTICS, "rate_<code>"])
            raise ValueError(f"unknown statistic {statistic!r}; one of {known}")
        return cls(statistic, parse_bound(rest, kind))

    @property
    def fleet_only(self) -> bool:
        return self.statistic in FLEET_STATISTICS

    @property
    def text(self) -> str:
        return f"{self.statistic} {self.bound.text}"


def look_z(looks: int, alpha: float = ALPHA) -> float:
    """z of the two-sided 1 - alpha / looks interval (rule 3)."""
    if looks < 1:
        raise ValueError(f"need at least one look, got {looks}")
    return NormalDist().inv_cdf(1 - alpha / (2 * looks))


@dataclass(frozen=True, slots=True)
class Decision:
    """Where one policy stands: its verdict, the trials it took, the interval it was judged by."""

    verdict: Verdict
    trials: int
    estimate: float | None
    low: float
    high: float

    @classmethod
    def judge(cls, requirement: Requirement, summary: Summary, z: float) -> Decision:
        """Rules 3 and 4 on ``summary`` at one look."""
        estimate, low, high, _ = interval_of(requirement.statistic, summary, z)
        holds = requirement.bound.holds
        verdict: Verdict
        if holds(low) and holds(high):
            verdict = "meets"
        elif not holds(low) and not holds(high):
            verdict = "fails"
        else:
            verdict = "undecided"
        return cls(verdict, summary.trials, estimate, low, high)

    @property
    def decided(self) -> bool:
        return self.verdict != "undecided"

    def to_dict(self) -> dict[str, object]:
        return {"verdict": self.verdict, "trials": self.trials, "estimate": self.estimate,
                "low": self.low, "high": self.high if math.isfinite(self.high) else None}
