"""The committed JSON Schema (for editors) is the one the model generates today."""

from __future__ import annotations

import json
from pathlib import Path

from sim.scenario.json_schema import scenario_json_schema

SCHEMA = Path(__file__).resolve().parents[2] / "scenarios" / "scenario.schema.json"


def test_committed_schema_is_current() -> None:
    committed = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert committed == scenario_json_schema(), (
        "scenarios/scenario.schema.json is stale: regenerate it with "
        "`rassim schema > scenarios/scenario.schema.json`"
    )
