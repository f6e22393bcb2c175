"""The bounds a scenario's ``[expect]`` table states: ``">= 0.99"``, ``"<= 60s"``, ``"<= 0.1%"``.

A bound is a comparison and a value, written as one string so that it reads like the claim
it makes. The statistic it is attached to fixes the value's unit:

* ``rate``: a fraction in [0, 1] (``"0.001"``) or a percentage (``"0.1%"``);
* ``duration``: a duration with a unit, as everywhere in a scenario (``"60s"``, ``"2m"``);
* ``count``: a plain non-negative number (``"1.2"``), for means of per-trial counts.

Comparisons are ``>=``, ``<=``, ``>`` and ``<``. Equality is refused: no finite sample
demonstrates that a statistic equals a value.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

from sim.draws.units import format_duration, parse_duration, shorten

__all__ = ["FLEET_STATISTICS", "OPERATORS", "RATE_KEY", "STATISTICS", "Bound", "Kind", "kind_of",
           "parse_bound"]

Kind = Literal["rate", "duration", "count"]
OPERATORS = (">=", "<=", ">", "<")

#: Every statistic an ``[expect]`` table may bound, besides ``rate_<code>``: its unit and
#: what it measures (these texts are also the JSON Schema descriptions).
STATISTICS: dict[str, tuple[Kind, str]] = {
    "success_rate": ("rate", "share of trials that mapped the share (Wilson 95% interval)"),
    "p50_connect_time": ("duration", "median time to connect of successful trials "
                                     "(order-statistic 95% interval)"),
    "p90_connect_time": ("duration", "90th percentile of the time to connect"),
    "p95_connect_time": ("duration", "95th percentile of the time to connect"),
    "p99_connect_time": ("duration", "99th percentile of the time to connect"),
    "attempts_mean": ("count", "mean WNetAddConnection2 attempts per trial "
                               "(normal-approximation 95% interval)"),
    "dials_mean": ("count", "mean RAS dials per trial (normal-approximation 95% interval)"),
    "line_time_mean": ("duration", "mean RAS line time per trial "
                                   "(normal-approximation 95% interval)"),
    # Fleets only ([fleet] table): a trial is a cluster of senders (sim.stats.fleet_summary).
    "sender_success_rate": ("rate", "fleets: share of senders that mapped the share "
                                    "(Wilson 95% interval on the cluster-effective sample)"),
    "work_mean": ("count", "fleets: mean map attempts + dials per trial, the work offered to "
                           "the server (normal-approximation 95% interval)"),
    "busy_rate": ("rate", "fleets: share of dials refused for want of a port "
                          "(Wilson 95% interval on the cluster-effective sample)"),
    "port_utilization": ("rate", "fleets: mean share of the RAS ports in use over a trial "
                                 "(normal-approximation 95% interval)"),
}

#: The statistics that only a fleet scenario has.
FLEET_STATISTICS = ("sender_success_rate", "work_mean", "busy_rate", "port_utilization")

#: ``rate_53``: the share of trials that gave up with final code 53 (Wilson 95% interval).
RATE_KEY = re.compile(r"^rate_([1-9][0-9]{0,9})$")

_FORM = re.compile(r"^\s*(>=|<=|>|<|=>|=<|==|=|≥|≤)\s*(.*?)\s*$")
_SPELLINGS = {"≥": ">=", "≤": "<=", "=>": ">=", "=<": "<="}
_EXAMPLES: dict[Kind, str] = {"rate": "\">= 0.99\" or \"<= 0.1%\"",
                              "duration": "\"<= 60s\"", "count": "\"<= 1.5\""}


@dataclass(frozen=True, slots=True)
class Bound:
    """``op value``: the statistic must be ``op`` ``value`` (seconds for durations).

    ``written`` is the value as the file wrote it (``"60s"``, ``"0.1%"``), for messages.
    """

    op: str
    value: float
    kind: Kind
    written: str = ""

    def holds(self, x: float) -> bool:
        """Whether the single value ``x`` is on the right side of the bound."""
        if self.op == ">=":
            return x >= self.value
        if self.op == "<=":
            return x <= self.value
        if self.op == ">":
            return x > self.value
        return x < self.value

    @property
    def text(self) -> str:
        """The bound as written, spaced canonically (``">= 0.99"``, ``"<= 60s"``)."""
        if self.written:
            return f"{self.op} {self.written}"
        if self.kind == "duration":
            return f"{self.op} {format_duration(self.value)}"
        return f"{self.op} {self.value:g}"


def kind_of(key: str) -> Kind | None:
    """The unit of statistic ``key``, or None when ``key`` names no statistic."""
    if key in STATISTICS:
        return STATISTICS[key][0]
    return "rate" if RATE_KEY.match(key) else None


def parse_bound(written: object, kind: Kind) -> Bound:
    """The bound ``written`` states; ``ValueError`` with the fix for anything else."""
    example = _EXAMPLES[kind]
    if not isinstance(written, str):
        raise ValueError(f"write the bound as a string with its comparison, e.g. {example}, "
                         f"not {shorten(written)}")
    match = _FORM.match(written)
    if not match:
        raise ValueError(f"cannot read {shorten(written)}; start with >=, <=, > or <, "
                         f"e.g. {example}")
    op = match.group(1)
    if op in _SPELLINGS:
        raise ValueError(f"{shorten(written)}: write {_SPELLINGS[op]!r} for {op!r}, e.g. {example}")
    if op in ("=", "=="):
        raise ValueError(f"{shorten(written)}: a sample cannot demonstrate equality; bound it from "
                         "one side with >= or <= (two bounds make a range: "
                         "[\">= 0.05\", \"<= 0.5\"])")
    text = match.group(2)
    if not text:
        raise ValueError(f"{shorten(written)} has no value; write e.g. {example}")
    return Bound(op, _value(text, kind, written), kind, text)


def _value(text: str, kind: Kind, written: str) -> float:
    if kind == "duration":
        try:
            return parse_duration(text)
        except ValueError as error:
            raise ValueError(f"{shorten(written)}: {error}") from None
    percent = kind == "rate" and text.endswith("%")
    try:
        value = float(text.removesuffix("%").strip() if percent else text)
    except ValueError:
        raise ValueError(f"{shorten(written)}: {shorten(text)} is not a number; write e.g. "
                         f"{_EXAMPLES[kind]}") from None
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{shorten(written)}: the value must be a finite, non-negative number")
    if percent:
        value /= 100
    if kind == "rate" and value > 1:
        raise ValueError(f"{shorten(written)}: a rate is a fraction between 0 and 1 (or a "
                         "percentage such as \"99%\")")
    return value
