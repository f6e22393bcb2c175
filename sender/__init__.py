"""rassim's sender: the real, deployable retry logic of a RAS sender, written sans-I/O.

``connect(policy, target, rng)`` is a generator of effects; drivers perform them. This
package never imports ``sim``, ``simpy``, ``time``, ``random`` or ``socket`` (a test enforces
it); the one module allowed real I/O is ``sender.realio``, which nothing here imports.
"""

from sender.budget import RetryBudget
from sender.codes import CATALOG, Code, explain, lookup, symbol_of
from sender.driver import run_sync
from sender.effects import (
    AddConnection,
    Connected,
    Dial,
    Failed,
    GaveUp,
    HangUp,
    Sleep,
    Succeeded,
)
from sender.policy import PRESETS, PolicyError, RetryPolicy, preset
from sender.procedure import Target, connect

__all__ = [
    "CATALOG",
    "PRESETS",
    "AddConnection",
    "Code",
    "Connected",
    "Dial",
    "Failed",
    "GaveUp",
    "HangUp",
    "PolicyError",
    "RetryBudget",
    "RetryPolicy",
    "Sleep",
    "Succeeded",
    "Target",
    "connect",
    "explain",
    "lookup",
    "preset",
    "run_sync",
    "symbol_of",
]
