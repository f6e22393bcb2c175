"""Goals and racing for ``rassim tune``: requirements, objectives, pruning and ranking.

Rules:

1. A requirement (``success_rate>=0.999``, ``p95_connect_time<=60s``) is *met* when the
   point estimate satisfies it, *confirmed* when the whole 95% interval does, and *violated
   for sure* when the whole interval is on the wrong side.
2. Racing: a candidate runs on growing batches of trials (``sim.stats.adaptive.batch_ends``,
   doubling from ``min_trials`` to ``max_trials``) and is dropped after any batch when
   (a) a requirement is violated for sure, or (b) it cannot win: some finished, feasible
   candidate beats it even when the candidate is read at the optimistic end of its
   intervals and the incumbent at the pessimistic end, on every objective (strictly on at
   least one). A tie cannot be ruled out, so ties race on to the end.
3. Ranking is a total order, so the recommendation never depends on the order candidates
   were evaluated in: objectives (in the order given, each in its direction), then higher
   success rate, fewer dials, shorter line time, fewer map attempts, then the searched
   values (smaller first, in space order: the least aggressive policy wins a tie), then
   the candidate number.
4. Everything here reads ``Estimate``s, never Optuna objects, so it is tested directly.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sim.draws.units import parse_duration
from sim.stats.policy_metrics import DIRECTIONS, METRICS, RATE_METRICS, TIME_METRICS, Estimate

__all__ = ["ALIASES", "Objective", "Requirement", "cannot_win", "dominates", "parse_objective",
           "parse_requirement", "rank_key"]

#: Names ``rassim check``'s [expect] tables use for the same statistics.
ALIASES = {"dials_mean": "dials", "line_time_mean": "line_time"}
_REQUIREMENT = re.compile(r"^\s*([a-z0-9_]+)\s*(>=|<=|=>|=<|>|<|==|=)\s*(.+?)\s*$")


@dataclass(frozen=True, slots=True)
class Requirement:
    """``metric op threshold`` with op ``>=`` or ``<=`` (rule 1)."""

    metric: str
    op: Literal[">=", "<="]
    threshold: float

    def __str__(self) -> str:
        value = (f"{self.threshold:g}s" if self.metric in TIME_METRICS
                 else f"{self.threshold:g}")
        return f"{self.metric} {self.op} {value}"

    def met(self, estimate: Estimate) -> bool:
        v = estimate.value
        return v is not None and (v >= self.threshold if self.op == ">=" else v <= self.threshold)

    def confirmed(self, estimate: Estimate) -> bool:
        bound = estimate.low if self.op == ">=" else estimate.high
        return bound is not None and (bound >= self.threshold if self.op == ">="
                                      else bound <= self.threshold)

    def violated_for_sure(self, estimate: Estimate) -> bool:
        bound = estimate.high if self.op == ">=" else estimate.low
        return bound is not None and (bound < self.threshold if self.op == ">="
                                      else bound > self.threshold)

    def slack(self, estimate: Estimate) -> float:
        """Optuna's constraint value: <= 0 when met (by the point estimate)."""
        v = estimate.value
        if v is None:
            return 1.0  # no data (e.g. no trial connected): not met
        return self.threshold - v if self.op == ">=" else v - self.threshold


@dataclass(frozen=True, slots=True)
class Objective:
    metric: str
    direction: Literal["minimize", "maximize"]

    def __str__(self) -> str:
        return f"{self.direction} {self.metric}"

    def better(self, a: float, b: float) -> bool:
        return a < b if self.direction == "minimize" else a > b

    def optimistic(self, e: Estimate) -> float | None:
        return e.low if self.direction == "minimize" else e.high

    def pessimistic(self, e: Estimate) -> float | None:
        return e.high if self.direction == "minimize" else e.low


def _known(metric: str) -> str:
    return f"unknown metric {metric!r}; use one of: {', '.join(METRICS)}"


def parse_requirement(text: str) -> Requirement:
    """``"success_rate>=0.999"``, ``"rate_53<=0.1%"``, ``"p95_connect_time<=60s"``.

    ``ValueError`` with the fix otherwise. Rates may be written as fractions or percents;
    times need units, like every duration in rassim.
    """
    match = _REQUIREMENT.match(text)
    if not match:
        raise ValueError("write METRIC>=VALUE or METRIC<=VALUE, e.g. success_rate>=0.999")
    metric, op, raw = match.groups()
    metric = ALIASES.get(metric, metric)
    if metric not in DIRECTIONS:
        raise ValueError(_known(metric))
    if op in ("=>", "=<", ">", "<", "==", "="):
        raise ValueError(f"use >= or <= (got {op!r}); the estimates are not exact enough for "
                         "strict or equality tests")
    if metric in TIME_METRICS:
        threshold = parse_duration(raw)
    elif raw.endswith("%"):
        threshold = _number(raw[:-1]) / 100
    else:
        threshold = _number(raw)
    if metric in RATE_METRICS and not 0 <= threshold <= 1:
        raise ValueError(f"{metric} is a share: give a value in [0, 1] or a percent "
                         f"such as 99.9%, got {raw}")
    if metric in _WILSON_METRICS and (threshold, op) in ((0.0, "<="), (1.0, ">=")):
        # A requirement is met only by its whole 95% interval, and a Wilson interval from
        # any finite sample stays off 0 and 1: no candidate could ever meet it.
        edge, side = ("0", "above") if op == "<=" else ("1", "below")
        raise ValueError(f"{metric}{op}{raw} can never be demonstrated: a 95% interval from "
                         f"a finite sample always reaches {side} {edge}; require a small "
                         f"margin instead, e.g. {metric}{op}"
                         + ("0.1%" if op == "<=" else "99.9%"))
    if threshold < 0:
        raise ValueError(f"{metric} cannot be negative, got {raw}")
    return Requirement(metric, ">=" if op == ">=" else "<=", threshold)


#: Shares whose interval is Wilson's (``sim.stats.policy_metrics``), never reaching 0 or 1.
_WILSON_METRICS = frozenset({"success_rate", "rate_53", "sender_success_rate", "busy_rate"})


def _number(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"cannot read {raw!r} as a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"{raw!r} is not a finite number")
    return value


def parse_objective(metric: str, direction: Literal["minimize", "maximize"]) -> Objective:
    """An objective; ``ValueError`` for an unknown metric or one that only goes one way."""
    metric = ALIASES.get(metric, metric)
    if metric not in DIRECTIONS:
        raise ValueError(_known(metric))
    if DIRECTIONS[metric] != direction:
        raise ValueError(f"{metric} is better {DIRECTIONS[metric].removesuffix('ize')}ized "
                         f"({'--maximize' if direction == 'minimize' else '--minimize'} it, "
                         "or bound it with --require)")
    return Objective(metric, direction)


def dominates(a: dict[str, Estimate], b: dict[str, Estimate],
              objectives: Sequence[Objective]) -> bool:
    """Point estimates: ``a`` at least as good as ``b`` everywhere, strictly somewhere."""
    strictly = False
    for o in objectives:
        va, vb = a[o.metric].value, b[o.metric].value
        if va is None or vb is None:
            return False
        if o.better(vb, va):
            return False
        strictly = strictly or o.better(va, vb)
    return strictly


def cannot_win(candidate: dict[str, Estimate], incumbents: Iterable[dict[str, Estimate]],
               objectives: Sequence[Objective]) -> bool:
    """Rule 2(b): some incumbent beats the candidate's best case with its own worst case."""
    for incumbent in incumbents:
        strictly = False
        for o in objectives:
            best = o.optimistic(candidate[o.metric])
            worst = o.pessimistic(incumbent[o.metric])
            if best is None or worst is None or o.better(best, worst):
                break  # the candidate might beat this incumbent on o
            strictly = strictly or o.better(worst, best)
        else:
            if strictly:
                return True
    return False


def rank_key(metrics: dict[str, Estimate], attempts: float, values: Sequence[Any],
             number: int, objectives: Sequence[Objective]) -> tuple[Any, ...]:
    """The sort key of rule 3 (smaller is better). ``values`` are the searched values."""
    def signed(metric: str, direction: str) -> float:
        v = metrics[metric].value
        if v is None:
            return float("inf")
        return v if direction == "minimize" else -v

    return (
        *(signed(o.metric, o.direction) for o in objectives),
        signed("success_rate", "maximize"),
        signed("dials", "minimize"),
        signed("line_time", "minimize"),
        attempts,
        *(_orderable(v) for v in values),
        number,
    )


def _orderable(value: Any) -> tuple[int, Any]:
    # Numbers before strings, so a mixed tuple still sorts; jitter sorts by name.
    return (0, value) if isinstance(value, int | float) else (1, str(value))
