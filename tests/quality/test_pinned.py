"""Optimizations never change results: pinned summaries of canonical runs, bit for bit.

If a change is *meant* to change the model's numbers (a new default, a model fix), update
the pin in the same commit and say why in the message:

    python tests/test_pinned.py --update
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from sim.run.runner import run_trials
from sim.scenario.loader import load_scenario

ROOT = Path(__file__).resolve().parents[2]
PIN = ROOT / "tests" / "data" / "pinned-summaries.json"
SCENARIOS = ("q221951-unpatched", "faults-link-flap", "q221951-sms2-defaults")
TRIALS, SEED = 1500, 20261123


def current(name: str) -> dict[str, object]:
    loaded = load_scenario(ROOT / "scenarios" / f"{name}.toml")
    result = run_trials(loaded.scenario, loaded.policy, trials=TRIALS, seed=SEED)
    # Through JSON, as the pin was stored: floats round-trip exactly.
    summary: dict[str, object] = json.loads(json.dumps(result.summary.to_dict()))
    return summary


@pytest.mark.parametrize("name", SCENARIOS)
def test_summary_matches_pin(name: str) -> None:
    pinned = json.loads(PIN.read_text(encoding="utf-8"))[name]
    got = current(name)
    # Compare the stable core (keys may be added to summaries over time).
    for key in pinned:
        assert got[key] == pinned[key], f"{name}: {key} changed"


if __name__ == "__main__" and sys.argv[1:] == ["--update"]:
    PIN.write_text(json.dumps({n: current(n) for n in SCENARIOS}, indent=1, sort_keys=True),
                   encoding="utf-8")
