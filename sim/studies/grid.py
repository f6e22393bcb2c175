"""Grid files for ``rassim sweep``: which policies to compare, and against what.

A grid is TOML::

    baseline = "pre-fix"          # optional: a preset, or the name of a grid policy;
                                  # default: the scenario's own policy
    [base]                        # optional: the policy [vary] changes (a preset plus
    preset = "connras-fix"        # fields, like a scenario's policy table); default: the
    max_wait = "1m"               # scenario's own policy

    [vary]                        # the product of these lists, first key slowest
    attempts_per_dial = [1, 2, 4, 6]
    initial_wait = ["1s", "5s", "15s"]

    [[policies]]                  # and/or named policies, each a preset plus fields
    name = "sms2"
    preset = "sms2-defaults"

Rules:

1. Everything is validated before any trial runs. Every problem is one ``ScenarioError``
   naming the grid file, the line, the dotted field path and the fix (``sim.scenario.loader``
   rule 1): unknown keys, unknown presets, values a policy rejects (reported with the grid
   point that has them), an empty grid, a grid over ``MAX_POINTS``, duplicate names, an
   unknown baseline.
2. Durations carry units, as in scenario files; counts are whole numbers (``true`` or
   ``"4"`` are errors, not 1 and 4).
3. Policies come out in file order: the [vary] product first (named by ``point_name``), then
   [[policies]]. The baseline is the first grid policy that behaves like it
   (``policy_key``); when none does it is added in front, so every sweep shows its baseline.
"""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, Strict, ValidationError, field_validator

from sender.policy import PRESETS, Jitter, PolicyError, RetryPolicy
from sim.draws.distributions import Duration
from sim.draws.units import shorten
from sim.scenario.loader import (
    MAX_PROBLEMS,
    ScenarioError,
    _clean_loc,
    _explain,
    _line_hint,
    clip,
    did_you_mean,
    dotted_path,
    fields_at,
    parse_toml,
    policy_from_table,
    read_text_file,
)
from sim.scenario.policy_fields import SWEEPABLE, check_model
from sim.scenario.policy_text import point_name, policy_key
from sim.scenario.schema import Code, PolicyTable

__all__ = ["MAX_POINTS", "Grid", "load_grid", "read_toml", "resolve_table", "validation_message"]

#: More grid points than this is a typo (a list of 100 values times three more), not a plan.
MAX_POINTS = 10_000

StrictInt = Annotated[int, Strict()]
StrictFloat = Annotated[float, Strict(), Field(allow_inf_nan=False)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VarySpec(_Strict):
    """Lists of values per policy field; the grid is their product."""

    attempts_per_dial: list[StrictInt] | None = None
    settle: list[Duration] | None = None
    initial_wait: list[Duration] | None = None
    backoff_base: list[StrictFloat] | None = None
    max_wait: list[Duration] | None = None
    jitter: list[Jitter] | None = None
    deadline: list[Duration] | None = None
    retry_on: list[list[Code]] | None = None
    redial_after: list[StrictInt] | None = None
    redial_on: list[list[Code]] | None = None
    max_dials: list[StrictInt] | None = None
    redial_wait: list[Duration] | None = None

    @field_validator("*")
    @classmethod
    def _non_empty_distinct(cls, values: list[Any] | None) -> list[Any] | None:
        if values is None:
            return values
        if not values:
            raise ValueError("empty list; give at least one value, e.g. [1, 2, 4]")
        seen = [sorted(v) if isinstance(v, list) else v for v in values]
        for i, value in enumerate(seen):
            if value in seen[:i]:
                raise ValueError(f"value {values[i]!r} is listed twice; remove one")
        return values


# Rule 2 of sim.scenario.policy_fields: [vary] takes exactly the sweepable fields, in order.
check_model(VarySpec, SWEEPABLE)


class NamedPolicy(PolicyTable):
    """A [[policies]] entry: a policy table that must have a name."""

    name: str = Field(min_length=1)


class GridFile(_Strict):
    baseline: str | None = Field(default=None, min_length=1)
    base: PolicyTable | None = None
    vary: VarySpec | None = None
    policies: list[NamedPolicy] = Field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Grid:
    """The policies of a sweep, in order, and which one is the baseline (rule 3)."""

    path: Path
    policies: tuple[RetryPolicy, ...]
    baseline: int
    varied: tuple[str, ...]
    baseline_added: bool

    def same_as_baseline(self, index: int) -> bool:
        """True when policy ``index`` behaves exactly like the baseline (``policy_key``)."""
        return policy_key(self.policies[index]) == policy_key(self.policies[self.baseline])


def read_toml(path: Path, what: str) -> tuple[dict[str, Any], str]:
    """The parsed TOML of ``path`` and its text; ``ScenarioError`` naming ``what`` file."""
    # Regular files only, size-capped, opened without blocking (sim.scenario.loader rule 5).
    text = read_text_file(path, what)
    return parse_toml(path, text), text


def validation_message(path: Path, text: str, error: ValidationError, help_hint: str,
                       model: type[BaseModel] | None = None) -> str:
    """``sim.scenario.loader``'s one-line-per-problem message, for files other than scenarios.

    ``model`` is the file's model: an unknown key then names the nearest valid key of its
    table ("did you mean `attempts_per_dial`?"), as a scenario file's does."""
    texts = [(path, text)]
    lines = []
    items = error.errors(include_url=False)
    for item in items[:MAX_PROBLEMS]:
        loc = _clean_loc(item["loc"])
        dotted = dotted_path(loc)
        kind = item["type"]
        if kind == "extra_forbidden":
            near = did_you_mean(str(loc[-1]), fields_at(model, loc[:-1])) if model else ""
            why = (f"unknown key {shorten(loc[-1])}{near}; remove it or check its spelling "
                   f"({help_hint})")
        elif kind == "list_type":
            why = "must be a list of values to try, e.g. [1, 2, 4] or [\"1s\", \"5s\"]"
        elif kind in ("int_type", "float_type", "int_from_float"):
            why = f"{_explain(item, loc)}, got {_as_written(item['input'])}"
        else:
            why = _explain(item, loc)
        lines.append(clip(f"{path}: {_line_hint(texts, loc)}{dotted}: {why}"))
    if len(items) > MAX_PROBLEMS:
        lines.append(f"... and {len(items) - MAX_PROBLEMS:,} more; fix these first")
    return lines[0] if len(items) == 1 else f"{len(items):,} problems:\n" + "\n".join(lines)


def _as_written(value: object) -> str:
    """``value`` roughly as TOML writes it, short; any TOML value (a datetime too) works."""
    if isinstance(value, str | int | float | bool) or value is None:
        return clip(json.dumps(value), 80)
    return shorten(value if not hasattr(value, "isoformat") else value.isoformat())


def resolve_table(table: PolicyTable, where: str, path: Path, text: str) -> RetryPolicy:
    """The policy a table stands for, with errors located at ``where`` (a dotted path)."""
    try:
        return policy_from_table(table)
    except PolicyError as error:
        dotted = f"{where}.{error.field}"
        hint = _line_hint([(path, text)], tuple(_loc(dotted)))
        raise ScenarioError(f"{path}: {hint}{dotted}: {error.message}") from None


def _loc(dotted: str) -> list[str | int]:
    return [int(p) if p.isdigit() else p for p in dotted.split(".")]


def load_grid(path: str | Path, scenario_policy: RetryPolicy,
              baseline: str | None = None) -> Grid:
    """Load and validate a grid file (rule 1); ``scenario_policy`` is the default base and
    the default baseline. ``baseline`` (``--baseline``) overrides the file's."""
    path = Path(path)
    data, text = read_toml(path, "grid")
    try:
        spec = GridFile.model_validate(data)
    except ValidationError as error:
        raise ScenarioError(validation_message(path, text, error, "see `rassim sweep --help`",
                                               GridFile)) from None
    hint = _hint(path, text)
    varied: list[str] = list(data.get("vary", {})) if spec.vary is not None else []
    if not varied and not spec.policies:
        raise ScenarioError(f"{path}: the grid is empty; add a [vary] table with lists of "
                            "values, or [[policies]] entries")
    lists = [getattr(spec.vary, name) for name in varied]
    points = math.prod(len(values) for values in lists) if varied else 0
    if points + len(spec.policies) > MAX_POINTS:
        raise ScenarioError(
            f"{path}: {hint(('vary',))}vary: {points:,} grid points"
            + (f" plus {len(spec.policies)} policies" if spec.policies else "")
            + f" is more than {MAX_POINTS:,}; shorten the lists or split the grid"
        )
    base = (resolve_table(spec.base, "base", path, text) if spec.base is not None
            else scenario_policy)
    # Points are named after the base's own name, else its preset ("connras-fix
    # attempts_per_dial=4"), not the loader's "connras-fix+custom": the fields a [base]
    # changes are in every output row, and a short name reads better in a table.
    base_name = base.name
    if spec.base is not None and spec.base.name is None:
        base_name = spec.base.preset or "custom"
    policies: list[RetryPolicy] = []
    for combo in itertools.product(*lists) if varied else ():
        items = list(zip(varied, combo, strict=True))
        name = point_name(base_name, items)
        changes = {f: frozenset(v) if f in ("retry_on", "redial_on") else v for f, v in items}
        try:
            policies.append(base.replace(name=name, **changes))
        except PolicyError as error:
            fix = ("change the values in [vary]" if error.field in varied
                   else "set it in [base] or vary it too")
            raise ScenarioError(
                f"{path}: {hint(('vary',))}vary: grid point '{name}' is not a valid policy: "
                f"{error.field}: {error.message}; {fix}"
            ) from None
    for i, table in enumerate(spec.policies):
        policies.append(resolve_table(table, f"policies.{i}", path, text).replace(name=table.name))
    names = [p.name for p in policies]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise ScenarioError(f"{path}: two grid policies are named {name!r}; give each "
                                "[[policies]] entry a unique name")
    if baseline is not None:
        chosen, added = _baseline(baseline, policies, scenario_policy, "--baseline")
    else:
        chosen, added = _baseline(spec.baseline, policies, scenario_policy,
                                  f"{path}: {hint(('baseline',))}baseline")
    if added:
        policies.insert(0, chosen)
        index = 0
    else:
        named = [i for i, p in enumerate(policies)
                 if p.name == chosen.name and policy_key(p) == policy_key(chosen)]
        index = named[0] if named else next(
            i for i, p in enumerate(policies) if policy_key(p) == policy_key(chosen))
    return Grid(path, tuple(policies), index, tuple(varied), added)


def _hint(path: Path, text: str) -> Any:
    return lambda loc: _line_hint([(path, text)], loc)


def _baseline(name: str | None, policies: list[RetryPolicy], scenario_policy: RetryPolicy,
              where: str) -> tuple[RetryPolicy, bool]:
    """The baseline policy, and whether it must be added to the grid (rule 3)."""
    if name is None:
        chosen = scenario_policy
    else:
        by_name = {p.name: p for p in policies}
        if name in by_name:
            return by_name[name], False
        if name not in PRESETS:
            known = sorted(PRESETS) + [p.name for p in policies][:5]
            more = "..." if len(policies) > 5 else ""
            raise ScenarioError(
                f"{where}: {name!r} is neither a preset nor a "
                f"grid policy; use one of: {', '.join(known)}{more}"
            )
        chosen = PRESETS[name]
    if any(policy_key(p) == policy_key(chosen) for p in policies):
        return chosen, False
    if chosen.name in {p.name for p in policies}:
        chosen = chosen.replace(name=f"{chosen.name} (baseline)")
    return chosen, True
