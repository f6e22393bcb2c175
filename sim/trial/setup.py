"""What a sender needs before its first step, shared by lone and fleet trials."""

from __future__ import annotations

from sender.budget import RetryBudget
from sender.policy import RetryPolicy
from sender.procedure import Target
from sim.scenario.schema import Scenario
from sim.world.prepared import prepared

__all__ = ["budget_of", "target_of"]


def target_of(scenario: Scenario) -> Target:
    """What the scenario's sender connects to (one shared, frozen value per scenario)."""
    return prepared(scenario).target


def budget_of(policy: RetryPolicy) -> RetryBudget | None:
    """A fresh retry budget for ``policy``, or None when it has none."""
    if policy.budget_tokens is None:
        return None
    return RetryBudget(policy.budget_tokens, policy.budget_ratio)
