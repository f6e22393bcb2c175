"""Policies as people read and write them: readable names, identity, and TOML tables.

Rules:

1. ``policy_key`` is a policy's identity for comparison: every field except ``name``. Two
   policies with equal keys behave identically on every trial (the sender reads nothing
   else), which is what lets a sweep report "same as baseline" as an exact zero and lets
   ``tune`` reuse an evaluation instead of repeating it.
2. ``point_name`` names a grid point by its base and the fields it sets, in the order they
   were given: ``connras-fix attempts_per_dial=4 initial_wait=5s``.
3. ``policy_toml`` writes a policy as the inline table a scenario's ``[sender]`` takes,
   relative to a preset (only the fields that differ), with durations in units that read
   back to the exact same float. ``check_round_trip`` proves it by loading the text back
   through ``sim.scenario.loader.resolve_policy``.
"""

from __future__ import annotations

import math
import tomllib
from typing import Any

from sender.policy import PRESETS, RetryPolicy
from sim.draws.units import format_duration, parse_duration
from sim.scenario.loader import resolve_policy
from sim.scenario.policy_fields import CODE_FIELDS, DURATION_FIELDS, INT_FIELDS, POLICY_FIELDS
from sim.scenario.schema import PolicyTable

# CODE_FIELDS ... POLICY_FIELDS come from sim.scenario.policy_fields, re-exported for their
# existing importers.
__all__ = ["CODE_FIELDS", "DURATION_FIELDS", "INT_FIELDS", "POLICY_FIELDS", "check_round_trip",
           "format_value", "point_name", "policy_key", "policy_toml", "toml_value"]



def policy_key(policy: RetryPolicy) -> tuple[tuple[str, Any], ...]:
    """The policy's behaviour as a hashable tuple: every field but ``name`` (rule 1)."""
    out = []
    for name in POLICY_FIELDS:
        value = getattr(policy, name)
        out.append((name, tuple(sorted(value)) if isinstance(value, frozenset) else value))
    return tuple(out)


def format_value(field: str, value: Any) -> str:
    """A value as a name shows it: ``5s``, ``4``, ``1.5``, ``full``, ``53,64``."""
    if value is None:
        return "none"
    if field in DURATION_FIELDS:
        return format_duration(float(value))
    if field in CODE_FIELDS:
        return ",".join(str(c) for c in sorted(value))
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def point_name(base_name: str, items: list[tuple[str, Any]]) -> str:
    """``base_name field=value ...`` (rule 2)."""
    return " ".join([base_name, *(f"{field}={format_value(field, v)}" for field, v in items)])


def _duration_text(seconds: float) -> str:
    # Prefer the compact form ("2.5s", "1m", "250ms") when it reads back exactly; else the
    # shortest repr of the float in seconds, which always does.
    compact = format_duration(seconds)
    if parse_duration(compact) == seconds:
        return compact
    return f"{seconds!r}s"


def toml_value(field: str, value: Any) -> str:
    """The TOML text of one policy field's value, as a scenario file writes it."""
    if field in DURATION_FIELDS:
        return f'"{_duration_text(float(value))}"'
    if field in CODE_FIELDS:
        return "[" + ", ".join(str(c) for c in sorted(value)) + "]"
    if isinstance(value, bool):
        raise TypeError(f"{field}: unexpected boolean")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{field}: {value} cannot be written to TOML")
        return repr(value)
    if isinstance(value, int):
        return str(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def policy_toml(policy: RetryPolicy, preset: str | None = None) -> str:
    """``{ preset = "...", field = value, ... }``: the fields of ``policy`` that differ from
    the preset (or from ``RetryPolicy()`` defaults without one). Rule 3.

    A field the base has but ``policy`` lacks (``deadline`` None against a preset with a
    deadline) cannot be written as a table entry: ``ValueError``; use another preset.
    """
    base = PRESETS[preset] if preset is not None else RetryPolicy()
    parts = [f'preset = "{preset}"'] if preset is not None else []
    for field in POLICY_FIELDS:
        mine, theirs = getattr(policy, field), getattr(base, field)
        if mine == theirs:
            continue
        if mine is None:
            raise ValueError(f"{field}: the policy has none but preset {preset!r} sets "
                             f"{theirs}; a scenario table cannot unset it")
        parts.append(f"{field} = {toml_value(field, mine)}")
    return "{ " + ", ".join(parts) + " }" if parts else "{}"


def check_round_trip(policy: RetryPolicy, table: str) -> None:
    """Load ``policy = <table>`` as a scenario's ``[sender]`` would and compare behaviour.

    ``AssertionError`` when the text does not stand for ``policy`` (a bug in ``policy_toml``).
    """
    spec = tomllib.loads(f"policy = {table}")["policy"]
    loaded = resolve_policy(PolicyTable.model_validate(spec))
    if policy_key(loaded) != policy_key(policy):
        raise AssertionError(f"{table} loads as {loaded}, not {policy}")
