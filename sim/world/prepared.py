"""What every trial of one scenario derives from it, worked out once per scenario.

A run builds a fresh world for each of its trials (``sim.world.world``), and some of what a world
needs depends on the scenario alone: which milestones a fault waits for, whether a fault
can hold ports, the sender's target. ``prepared(scenario)`` computes that once and hands
the same answer to every trial of the scenario (``Scenario`` is frozen, so an answer cannot
go stale).

The cache holds the last few scenarios by identity. It keeps each one alive, so an ``id`` is
never reused while its entry exists; a stale entry is simply replaced. Lookups and stores are
single dict operations, safe in threads (two threads may both compute an entry: they are
equal).
"""

from __future__ import annotations

from dataclasses import dataclass

from sender.procedure import Target
from sim.scenario.schema import MILESTONES, Scenario

__all__ = ["Prepared", "prepared"]

_CACHE_SIZE = 16


@dataclass(frozen=True, slots=True)
class Prepared:
    """Facts about one scenario that every trial of it uses."""

    #: The milestones some scheduled fault waits for. Only these need a SimPy event: with
    #: no process waiting on it, a milestone's event would be processed with nothing to do.
    waited_milestones: tuple[str, ...]
    #: Whether a fault can hold ports, which needs the SimPy resource's queue (``sim.world.ports``).
    holdable_ports: bool
    #: What the sender connects to (frozen, so every trial can share it).
    target: Target


def _prepare(scenario: Scenario) -> Prepared:
    scheduled = {spec.schedule()[0] for spec in scenario.faults if spec.at is not None}
    return Prepared(
        # A fault at "start" (or at an absolute time) does not wait: ``sim.world.faults``.
        waited_milestones=tuple(m for m in MILESTONES if m in scheduled and m != "start"),
        holdable_ports=any(spec.kind == "ports_held" for spec in scenario.faults),
        target=Target(entry=scenario.sender.entry, remote=scenario.sender.remote,
                      user=scenario.sender.user),
    )


_cache: dict[int, tuple[Scenario, Prepared]] = {}


def prepared(scenario: Scenario) -> Prepared:
    """The ``Prepared`` facts of ``scenario`` (computed on first use, then cached)."""
    entry = _cache.get(id(scenario))
    if entry is not None and entry[0] is scenario:
        return entry[1]
    facts = _prepare(scenario)
    if len(_cache) >= _CACHE_SIZE:
        _cache.clear()  # rare (a sweep over many scenarios): recomputing is cheap
    _cache[id(scenario)] = (scenario, facts)
    return facts
