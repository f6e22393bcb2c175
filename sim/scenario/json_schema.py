"""The JSON Schema of scenario *files*, generated from the same pydantic model.

A file need not spell out what its profile or the NT 4.0 defaults supply, so the file
schema is the model's schema with every object's ``required`` list dropped (except a fault's
``kind``), plus the loader's own ``extends`` key.
"""

from __future__ import annotations

from typing import Any

from sim.scenario.schema import Scenario

__all__ = ["scenario_json_schema"]


def scenario_json_schema() -> dict[str, Any]:
    schema = Scenario.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "rassim scenario file"
    schema["properties"]["extends"] = {
        "type": "string",
        "description": "a scenario file to inherit from, relative to this file",
    }
    _drop_required(schema)
    return schema


def _drop_required(node: Any, keep_kind: bool = False) -> None:
    if isinstance(node, dict):
        if node.get("title") == "FaultSpec":
            node["required"] = ["kind"]
        else:
            node.pop("required", None)
        for value in node.values():
            _drop_required(value)
    elif isinstance(node, list):
        for value in node:
            _drop_required(value)
