"""Hand-computable worlds for timing tests: zero latency and constant distributions.

``zero_world(**overrides)`` returns a validated ``Scenario`` in which every dial phase takes
0 s, the link has 0 latency and no rate, the name path is ready at once, the server thinks
for 0 s and NetBT has no broadcast fallback, so every time in a trial is a sum of the
timers the test sets. Overrides are dotted paths: ``zero_world(**{"link.latency": "1s"})``.
"""

from __future__ import annotations

from typing import Any

from sender.effects import Failed, Succeeded
from sim.scenario.schema import Scenario
from sim.world.trace import Recorder

__all__ = ["sender_results", "zero_world"]


def _base() -> dict[str, Any]:
    return {
        "name": "zero-world",
        "ras": {"connect": "0s", "authenticate": "0s", "project": "0s", "hangup": "0s",
                "busy_after": "2s"},
        "link": {"latency": "0s"},
        "name_path": {"lag": "0s"},
        "netbt": {"broadcast_fallback": False},
        "smb": {"server_think": "0s"},
    }


def zero_world(faults: list[dict[str, Any]] | None = None, **overrides: Any) -> Scenario:
    data = _base()
    for dotted, value in overrides.items():
        node = data
        *parents, leaf = dotted.split(".")
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = value
    if faults:
        data["faults"] = faults
    return Scenario.model_validate(data)


def sender_results(recorder: Recorder) -> list[tuple[str, float, int]]:
    """The sender's results in order as (effect type, at, code) with code 0 for success."""
    out = []
    effect = None
    for event in recorder.events:
        if event.source != "sender":
            continue
        if event.kind == "effect":
            effect = type(event.get("effect")).__name__
        elif event.kind == "result":
            result = event.get("result")
            assert isinstance(result, Succeeded | Failed)
            out.append((str(effect), result.at, getattr(result, "code", 0)))
    return out
