"""Load a scenario file: TOML, ``extends``, the link profile, validation, the policy.

Rules:

1. Every problem becomes one ``ScenarioError`` whose text names the file, the line where it
   can be found, the dotted field path, and the fix. Callers print it and exit 2; nothing
   here prints or exits.
2. ``extends = "parent.toml"`` resolves relative to the including file. Tables merge key by
   key, the child winning; any other value (lists included, so ``faults``) is replaced
   whole, and so is a distribution table (one with ``dist``): a child's uniform must not
   inherit the parent's lognormal median. Cycles are errors naming the cycle; a missing
   parent names both files.
3. Layers, lowest first: schema defaults, the profile's values, the ancestors, the file.
4. The scenario's identity (``sha256``) is the hash of the fully resolved scenario with
   credentials redacted, so two files that resolve to the same model share it, and a change
   in a parent changes it.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args, get_origin

from pydantic import ValidationError

from sender.policy import PolicyError, RetryPolicy, preset
from sim.scenario.profiles import PROFILES
from sim.scenario.schema import PolicyTable, Scenario

__all__ = ["LoadedScenario", "ScenarioError", "did_you_mean", "fields_at", "format_validation",
           "load_scenario",
           "policy_from_table", "resolve_policy"]

_MAX_EXTENDS_DEPTH = 32


class ScenarioError(Exception):
    """Bad input in a scenario file; ``str(error)`` is the complete message for the user."""


@dataclass(frozen=True, slots=True)
class LoadedScenario:
    """A validated scenario, the policy it runs, and its identity."""

    path: Path
    scenario: Scenario
    policy: RetryPolicy
    sha256: str

    def with_policy(self, policy: RetryPolicy) -> LoadedScenario:
        return LoadedScenario(self.path, self.scenario, policy, self.sha256)


def load_scenario(path: str | Path, *, policy: str | None = None) -> LoadedScenario:
    """Load, resolve and validate ``path``; ``policy`` names a preset that overrides the file's."""
    path = Path(path)
    data, texts = _read_with_parents(path.resolve(), [])
    profile = data.get("profile", "sna")
    # isinstance first: `profile = [1]` is unhashable and would escape as a TypeError.
    if not isinstance(profile, str) or profile not in PROFILES:
        raise ScenarioError(
            f"{path}: {_line_hint(texts, ('profile',))}profile: unknown profile {profile!r}; "
            f"use one of: {', '.join(sorted(PROFILES))}"
        )
    merged = _merge(PROFILES[profile], data)
    try:
        scenario = Scenario.model_validate(merged)
    except ValidationError as error:
        raise ScenarioError(_format_validation(path, texts, error)) from None
    if policy is not None:
        try:
            chosen = preset(policy)
        except PolicyError as error:
            raise ScenarioError(f"--policy: {error.message}") from None
    else:
        chosen = resolve_policy(scenario.sender.policy, path, texts)
    digest = hashlib.sha256(
        json.dumps(scenario.public_dict(), sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()
    return LoadedScenario(path=path, scenario=scenario, policy=chosen, sha256=digest)


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean `attempts_per_dial`?)`` for the nearest of ``choices``, else ``""``."""
    import difflib

    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean `{close[0]}`?)" if close else ""


def resolve_policy(spec: str | PolicyTable, path: Path | str = "<policy>",
                   texts: list[tuple[Path, str]] | None = None) -> RetryPolicy:
    """The ``RetryPolicy`` a scenario's ``sender.policy`` value stands for."""
    texts = texts or []
    try:
        return preset(spec) if isinstance(spec, str) else policy_from_table(spec)
    except PolicyError as error:
        where = "sender.policy" if error.field == "policy" else f"sender.policy.{error.field}"
        loc = tuple(where.split("."))
        raise ScenarioError(f"{path}: {_line_hint(texts, loc)}{where}: {error.message}") from None


def policy_from_table(table: PolicyTable) -> RetryPolicy:
    """The policy a table stands for: its preset (or the defaults) with its fields applied.

    ``PolicyError.field`` names the table key at fault (``"preset"`` for an unknown one);
    callers prefix it with where the table sits in their file.
    """
    given = table.model_dump(exclude_none=True)
    base_name = given.pop("preset", None)
    if base_name is None:
        base = RetryPolicy()
    else:
        try:
            base = preset(base_name)
        except PolicyError as error:
            raise PolicyError("preset", error.message) from None
        given.setdefault("name", f"{base_name}+custom" if given else base_name)
    for key in ("retry_on", "redial_on"):
        if key in given:
            given[key] = frozenset(given[key])
    return base.replace(**given)


# --- reading and merging ------------------------------------------------------------------
def _read_with_parents(
    path: Path, chain: list[Path]
) -> tuple[dict[str, Any], list[tuple[Path, str]]]:
    """The merged data of ``path`` and its ancestors, and each file's text (child first)."""
    if path in chain:
        cycle = " -> ".join(str(p) for p in [*chain[chain.index(path):], path])
        raise ScenarioError(f"{chain[-1]}: extends: cycle {cycle}; remove one of these extends")
    if len(chain) >= _MAX_EXTENDS_DEPTH:
        raise ScenarioError(f"{path}: extends: chain deeper than {_MAX_EXTENDS_DEPTH} files")
    text = _read_text(path, chain[-1] if chain else None)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ScenarioError(f"{path}: not valid TOML: {error}; fix the syntax there") from None
    texts = [(path, text)]
    parent = data.pop("extends", None)
    if parent is None:
        return data, texts
    if not isinstance(parent, str) or not parent:
        raise ScenarioError(
            f"{path}: {_line_hint(texts, ('extends',))}extends: must be a file name such as "
            "\"q221951-unpatched.toml\""
        )
    parent_path = (path.parent / parent).resolve()
    parent_data, parent_texts = _read_with_parents(parent_path, [*chain, path])
    return _merge(parent_data, data), texts + parent_texts


def _read_text(path: Path, included_by: Path | None) -> str:
    by = f" (extended by {included_by})" if included_by else ""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ScenarioError(f"{path}: no such scenario file{by}; check the path") from None
    except IsADirectoryError:
        raise ScenarioError(f"{path}: is a directory, not a scenario file{by}") from None
    except OSError as error:
        raise ScenarioError(f"{path}: cannot read{by}: {error.strerror}") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ScenarioError(
            f"{path}: not UTF-8 text (byte {error.start}){by}; save the file as UTF-8"
        ) from None


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        # A table naming its own ``dist`` is a whole distribution: merging it key by key into
        # the base's (say a profile's lognormal) would leave stray median/p95 keys beside a
        # uniform's low/high and reject every change of distribution kind.
        if isinstance(value, dict) and isinstance(out.get(key), dict) and "dist" not in value:
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


# --- error messages -----------------------------------------------------------------------
def format_validation(where: str, error: ValidationError) -> str:
    """The loader's message for ``error`` about data that came from ``where`` (not a file
    with lines: ``with_overrides``), so overrides get the same words as a file."""
    return _format_validation(Path(where), [], error)


def _format_validation(path: Path, texts: list[tuple[Path, str]], error: ValidationError) -> str:
    items = [(item, _clean_loc(item["loc"])) for item in error.errors(include_url=False)]
    # A field with several forms (sender.policy: a preset name or a table) gets one error per
    # form. When another form's error lies deeper (inside the table the user wrote), the
    # shallow "input should be a valid string" is noise that hides the real problem: drop it.
    items = [
        (item, loc) for item, loc in items
        if not (item["type"].endswith("_type")
                and any(len(other) > len(loc) and other[: len(loc)] == loc
                        for _, other in items))
    ]
    lines = []
    for item, loc in items:
        dotted = ".".join(str(part) for part in loc) or "(top level)"
        lines.append(f"{path}: {_line_hint(texts, loc)}{dotted}: {_explain(item, loc)}")
    count = len(lines)
    head = "" if count == 1 else f"{count} problems:\n"
    return head + "\n".join(lines)


def _tables_with_field(key: object) -> list[str]:
    """The scenario's tables that have a field named ``key`` (``policy``: ``sender``)."""
    tables = []
    for name, field in Scenario.model_fields.items():
        model = field.annotation
        repeated = get_origin(model) in (list, tuple)  # [[faults]]: an array of tables
        for candidate in get_args(model) or (model,):  # X | None, tuple[X, ...]
            if isinstance(candidate, type) and key in getattr(candidate, "model_fields", {}):
                tables.append(f"[{name}]" if repeated else name)
                break
    return tables


def fields_at(model: Any, loc: tuple[Any, ...]) -> list[str]:
    """The field names of the table at ``loc`` (a cleaned error location) under ``model``,
    following unions (``str | PolicyTable``), lists and optional fields; ``[]`` when the
    path leads to no table (the union of all candidates' fields where several fit)."""
    candidates = [model]
    for part in loc:
        following: list[Any] = []
        for candidate in _tables(candidates):
            if isinstance(part, int):
                following.append(candidate)  # a list index: the same element type
            elif part in candidate.model_fields:
                following.append(candidate.model_fields[part].annotation)
        candidates = following
    names: dict[str, None] = {}
    for candidate in _tables(candidates):
        names.update(dict.fromkeys(candidate.model_fields))
    return list(names)


def _tables(annotations: list[Any]) -> list[Any]:
    """The pydantic models inside ``annotations`` (through unions, lists, Annotated)."""
    found, stack = [], list(annotations)
    while stack:
        item = stack.pop()
        if isinstance(item, type) and hasattr(item, "model_fields"):
            found.append(item)
        else:
            stack.extend(get_args(item))
    return found


def _clean_loc(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """Drop pydantic's union-branch labels (``constant``, ``str``, ``function-before``...)."""
    noise = {"constant", "uniform", "exponential", "lognormal", "empirical", "str",
             "PolicyTable", "function-before[_shorthand(), tagged-union[Constant,Uniform,"
             "Exponential,LogNormal,Empirical]]"}
    kept = tuple(part for part in loc if not (isinstance(part, str) and
                                              (part in noise or part.startswith("function-"))))
    # A stray top-level key spelled like a branch label ("uniform") is still a key.
    return kept or loc[-1:]


def _explain(item: Any, loc: tuple[Any, ...]) -> str:
    kind, msg = str(item["type"]), str(item["msg"])
    if kind == "extra_forbidden":
        homes = _tables_with_field(loc[-1]) if len(loc) == 1 else []
        if homes:  # a key written above its table header, say policy = ... before [sender]
            where = " or ".join(f"[{table}]" for table in homes)
            return (f"unknown key {loc[-1]!r} at the top level; it belongs in the {where} "
                    "table: move it below that table's header")
        hint = did_you_mean(str(loc[-1]), fields_at(Scenario, loc[:-1]))
        return (f"unknown key {loc[-1]!r}{hint}; remove it or check its spelling (see "
                "`rassim schema`)")
    if kind == "missing":
        return "required but missing; add it"
    if kind == "union_tag_invalid" or kind == "union_tag_not_found":
        kinds = ("constant", "uniform", "exponential", "lognormal", "empirical")
        tag = (item.get("ctx") or {}).get("tag")
        written = f"unknown distribution dist = {json.dumps(tag)}" if tag else (
            "no distribution named (no dist key)")
        return (f"{written}{did_you_mean(str(tag), kinds) if tag else ''}; write a duration "
                f"(\"2s\") or a table with dist = one of {', '.join(kinds)}")
    if kind == "int_type" and isinstance(item.get("input"), float):
        return f"must be an integer, got {item['input']!r}"
    if kind in ("int_type", "float_type", "bool_type") and isinstance(item.get("input"), str):
        what = {"int_type": "an integer", "float_type": "a number", "bool_type": "true or false"}
        return (f"must be {what[kind]}, got the string {json.dumps(item['input'])}; write it "
                "without quotes")
    if kind == "literal_error":
        return msg.replace("Input should be", "must be")
    msg = msg.removeprefix("Value error, ")
    return msg[0].lower() + msg[1:] if msg else msg


def _line_hint(texts: list[tuple[Path, str]], loc: tuple[Any, ...]) -> str:
    """``"line N: "`` where ``loc``'s key is written in the (child-most) file, else ``""``."""
    for file, text in texts:
        line = _find_line(text, loc)
        if line:
            return f"line {line}: " if file == texts[0][0] else f"line {line} of {file}: "
    return ""


def _find_line(text: str, loc: tuple[Any, ...]) -> int | None:
    """The line that sets ``loc`` (a key path) in TOML ``text``, best effort."""
    # First with list indices, so faults.1.at finds the second [[faults]] table's ``at``
    # rather than the first's; then without (inline arrays, sub-tables of array elements).
    line = _scan_lines(text, [str(part) for part in loc], indexed=True)
    if line is None and any(isinstance(part, int) for part in loc):
        line = _scan_lines(text, [str(p) for p in loc if not isinstance(p, int)], indexed=False)
    return line


def _scan_lines(text: str, keys: list[str], *, indexed: bool) -> int | None:
    if not keys:
        return None
    table: list[str] = []
    best: int | None = None
    arrays: dict[tuple[str, ...], int] = {}  # [[name]] headers seen so far, per name
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if line.startswith("["):
            table = [p.strip() for p in line.strip("[]").split(".")]
            if indexed and line.startswith("[["):
                index = arrays.get(tuple(table), -1) + 1
                arrays[tuple(table)] = index
                table = [*table, str(index)]
                # A whole array element lives in one file: its header is a fair hint for
                # a problem inside it that no line spells out (e.g. a missing kind).
                if keys[: len(table)] == table and best is None:
                    best = number
            if table == keys:
                best = best or number
            continue
        key = line.split("=", 1)[0].strip().strip('"') if "=" in line else None
        if key is None:
            continue
        path = [*table, *[p.strip() for p in key.split(".")]]
        if path == keys:
            return number
        if keys[: len(path)] == path and best is None:
            best = number  # e.g. an inline table holding the field
    return best
