"""Every place in a scenario file that holds a duration, or free text, found from the schema.

The fuzz test (tests/quality/test_fuzz_scenarios.py) puts extreme durations and hostile text
into each of them. Because the places are read from the pydantic model's JSON Schema, not
listed by hand, a field added later is fuzzed too.

A ``Slot`` is a path through the schema: ``document(value)`` is a scenario document (a
dict, to be written as TOML) with ``value`` at that place and the rest filled so that the
value is what gets validated: a distribution's ``dist`` and its other required fields, a
fault's ``kind`` (and a start, ``at``, unless the slot is the alternative to it). With
``siblings=True`` every other duration of the same table gets ``value`` too (``low`` and
``high`` of a uniform, all dial phases), so a value at the maximum reaches a run rather than
an ordering error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sim.scenario.schema import Scenario

__all__ = ["Slot", "duration_slots", "merge", "text_slots"]

_DURATION_MARK = "a duration with a unit"
#: What a table needs besides the slot for the slot to be validated on its own merits (a
#: model-level rule the JSON Schema cannot say). Keyed by the schema's title.
_CONTEXT: dict[str, dict[str, Any]] = {
    "FaultSpec": {"kind": "link_outage", "at": "1s"},
    "FleetSpec": {"senders": 2, "arrivals": "uniform", "window": "1m"},
    "LogNormal": {"median": "1s", "p95": "2s"},
}
_ALTERNATIVES = {("FaultSpec", "mean_interval"): "at"}  # give one of the two, not both

Place = Callable[[Any], Any]


@dataclass(frozen=True)
class Slot:
    label: str
    place: Callable[[Any, bool], dict[str, Any]]

    def document(self, value: Any, *, siblings: bool = False) -> dict[str, Any]:
        return self.place(value, siblings)


def schema() -> dict[str, Any]:
    return Scenario.model_json_schema()


def is_duration(node: dict[str, Any]) -> bool:
    return str(node.get("description", "")).startswith(_DURATION_MARK)


def is_text(node: dict[str, Any]) -> bool:
    return (node.get("type") == "string" and not {"pattern", "enum", "const", "format"} & set(node)
            and not is_duration(node))


def _filler(node: dict[str, Any]) -> Any:
    """A plain valid value for a required field that is not the slot."""
    if "$ref" in node:
        return {}
    if "const" in node:
        return node["const"]
    if "enum" in node:
        return node["enum"][0]
    if _is_duration_field(node):
        return "1s"
    kind = node.get("type")
    if kind == "integer":
        return max(1, node.get("minimum", 1))
    if kind == "number":
        return 1.0
    if kind == "boolean":
        return False
    if kind == "array":
        return []
    return "x"


def _slots(node: dict[str, Any], defs: dict[str, Any], label: str,
           place: Callable[[Any, bool, list[str]], Any], wanted: Callable[[dict[str, Any]], bool],
           seen: tuple[str, ...]) -> Iterator[Slot]:
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        if name in seen:  # a recursive schema: one level is enough
            return
        yield from _slots(defs[name], defs, label, place, wanted, (*seen, name))
        return
    if wanted(node):
        yield Slot(label, lambda value, siblings: place(value, siblings, []))
        return
    for branch in node.get("anyOf", []) + node.get("oneOf", []):
        if branch.get("type") != "null":
            yield from _slots(branch, defs, label, place, wanted, seen)
    if node.get("type") == "array":
        items = node.get("prefixItems") or [node.get("items", {})]
        for i, item in enumerate(items):
            def in_list(value: Any, siblings: bool, _: list[str], i: int = i,
                        n: int = len(items)) -> Any:
                fill = [value if siblings or j == i else "1s" for j in range(n)]
                return place(fill, False, [])
            yield from _slots(item, defs, f"{label}[{i}]", in_list, wanted, seen)
    for key, child in node.get("properties", {}).items():
        title = node.get("title", "")

        def in_table(value: Any, siblings: bool, _: list[str], key: str = key,
                     table: dict[str, Any] = node, title: str = title) -> Any:
            data: dict[str, Any] = dict(_CONTEXT.get(title, {}))
            data.pop(_ALTERNATIVES.get((title, key), ""), None)
            # A variant of a tagged union (a distribution) needs its own required fields; the
            # other tables' required fields are what a profile supplies in a file.
            if any("const" in prop for prop in table["properties"].values()):
                for name in table.get("required", []):
                    data.setdefault(name, _filler(table["properties"][name]))
            for name, prop in table["properties"].items():
                if "const" in prop:
                    data[name] = prop["const"]
                elif siblings and name != key and _is_duration_field(prop):
                    data[name] = value
            data[key] = value
            return place(data, False, [])  # siblings of the innermost table only
        yield from _slots(child, defs, f"{label}.{key}" if label else key, in_table, wanted,
                          seen)


def _is_duration_field(prop: dict[str, Any]) -> bool:
    return is_duration(prop) or any(is_duration(b) for b in prop.get("anyOf", []))


def _all(wanted: Callable[[dict[str, Any]], bool]) -> list[Slot]:
    root = schema()
    defs = root.get("$defs", {})
    found: dict[str, Slot] = {}
    for slot in _slots(root, defs, "", lambda value, siblings, _: value, wanted, ()):
        found.setdefault(slot.label, slot)
    return list(found.values())


def duration_slots() -> list[Slot]:
    """Every duration in a scenario file, distributions' parameters and list items too."""
    return _all(is_duration)


def text_slots() -> list[Slot]:
    """Every free-text string in a scenario file (names, servers, sites, fault names...)."""
    return _all(is_text)


def merge(a: Any, b: Any) -> Any:
    """``b`` laid over ``a``: tables merged key by key, lists item by item."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = dict(a)
        for key, value in b.items():
            out[key] = merge(a[key], value) if key in a else value
        return out
    if isinstance(a, list) and isinstance(b, list):
        return [merge(x, y) for x, y in zip(a, b, strict=False)] + a[len(b):] + b[len(a):]
    return b
