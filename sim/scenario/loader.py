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
5. Files are read safely (``read_text_file``, ``parse_toml``): only regular files, opened
   with ``O_NONBLOCK`` then checked with ``fstat`` (a device, FIFO or socket is refused
   before a byte is read: ``/dev/zero`` must not eat memory, a FIFO must not hang), at most
   ``MAX_FILE_BYTES``, nested at most ``MAX_DEPTH`` deep; a NUL byte, a symlink loop or an
   over-long name is a ``ScenarioError`` like a missing file.
6. A parent may live anywhere (teams share base scenarios between folders and
   repositories) but must be a ``.toml`` file, so ``extends = "../../etc/shadow"`` is
   refused unread. A value set in a file outside the scenario's own folder (the folder of
   the file named on the command line, and below it) is never echoed in a message: the
   message names the file, the line and the field, and says the value is not shown.
"""

from __future__ import annotations

import errno
import functools
import hashlib
import json
import os
import stat
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args, get_origin

from pydantic import ValidationError

from sender.errors import UserError
from sender.policy import PolicyError, RetryPolicy, preset
from sim.draws.units import shorten
from sim.scenario.limits import work_problem
from sim.scenario.profiles import PROFILES
from sim.scenario.schema import PolicyTable, Scenario

__all__ = ["MAX_DEPTH", "MAX_FILE_BYTES", "LoadedScenario", "ScenarioError", "did_you_mean",
           "fields_at", "format_validation", "load_scenario", "parse_toml", "policy_from_table",
           "read_text_file", "resolve_path", "resolve_policy"]

_MAX_EXTENDS_DEPTH = 32
#: Problems listed in one message; the rest are counted.
MAX_PROBLEMS = 20
#: Longest message line; longer ones (a value echoed from the file) are cut.
MAX_LINE = 400


class ScenarioError(UserError):
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
    data, texts = _read_with_parents(resolve_path(path), [])
    profile = data.get("profile", "sna")
    # isinstance first: `profile = [1]` is unhashable and would escape as a TypeError.
    if not isinstance(profile, str) or profile not in PROFILES:
        hint, outside = _where(texts, ("profile",))
        shown = _NOT_SHOWN if outside else shorten(profile)
        raise ScenarioError(clip(
            f"{path}: {hint}profile: unknown profile {shown}; "
            f"use one of: {', '.join(sorted(PROFILES))}"
        ))
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
    problem = work_problem(scenario, chosen)
    if problem is not None:  # refused before any trial runs (sim.scenario.limits rule 2)
        raise ScenarioError(f"{path}: {problem}")
    digest = hashlib.sha256(
        json.dumps(scenario.public_dict(), sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()
    return LoadedScenario(path=path, scenario=scenario, policy=chosen, sha256=digest)


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean `attempts_per_dial`?)`` for the nearest of ``choices``, else ``""``."""
    # why: difflib is only needed when there is an error to explain
    import difflib

    if len(word) > 64:  # no field name is this long; comparing a huge key costs time
        return ""
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
        hint, outside = _where(texts, loc)
        why = f"invalid {_NOT_SHOWN}; fix it there" if outside else error.message
        raise ScenarioError(clip(f"{path}: {hint}{where}: {why}")) from None


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


# --- reading files safely (rule 5) ----------------------------------------------------------
MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_DEPTH = 32


def resolve_path(path: Path, by: str = "") -> Path:
    """``path`` made absolute with symlinks followed; ``ScenarioError`` for an impossible one."""
    try:
        return path.resolve()
    except ValueError:  # an embedded NUL byte
        raise ScenarioError(f"{_shown(path)}: the file name contains a NUL byte{by}; write "
                            "a plain file name") from None
    except RuntimeError:  # Python 3.11's "Symlink loop from ..."
        raise ScenarioError(f"{path}: symbolic link loop{by}; point the link at a file") from None
    except OSError as error:
        raise ScenarioError(f"{path}: cannot resolve{by}: {error.strerror}") from None


def read_text_file(path: Path, what: str = "scenario", by: str = "") -> str:
    """The UTF-8 text of regular file ``path`` (rules 1, 2 and 4); ``by`` ends messages."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except ValueError:
        raise ScenarioError(f"{_shown(path)}: the file name contains a NUL byte{by}; write "
                            "a plain file name") from None
    except FileNotFoundError:
        raise ScenarioError(f"{path}: no such {what} file{by}; check the path") from None
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise ScenarioError(f"{path}: symbolic link loop{by}; point the link at a "
                                "file") from None
        raise ScenarioError(f"{_shown(path)}: cannot read{by}: {error.strerror}") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise ScenarioError(f"{path}: is a directory, not a {what} file{by}")
        if not stat.S_ISREG(info.st_mode):
            raise ScenarioError(f"{path}: not a regular file (a device, pipe or socket){by}; "
                                f"name a {what} file")
        if info.st_size > MAX_FILE_BYTES:
            raise ScenarioError(_too_large(path, info.st_size, by))
        chunks, size = [], 0
        while size <= MAX_FILE_BYTES:
            chunk = os.read(fd, MAX_FILE_BYTES + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        raw = b"".join(chunks)
    except OSError as error:
        raise ScenarioError(f"{path}: cannot read{by}: {error.strerror}") from None
    finally:
        os.close(fd)
    if len(raw) > MAX_FILE_BYTES:  # it grew after the fstat
        raise ScenarioError(_too_large(path, len(raw), by))
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ScenarioError(
            f"{path}: not UTF-8 text (byte {error.start}){by}; save the file as UTF-8"
        ) from None


def parse_toml(path: Path, text: str) -> dict[str, Any]:
    """The TOML document ``text`` of ``path``, at most ``MAX_DEPTH`` deep (rule 3)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ScenarioError(f"{path}: not valid TOML: {error}; fix the syntax there") from None
    except RecursionError:
        raise ScenarioError(_too_deep(path)) from None
    if _depth(data) > MAX_DEPTH:
        raise ScenarioError(_too_deep(path))
    return data


def _depth(data: Any) -> int:
    """How deeply ``data`` nests tables and arrays, counted without recursion."""
    deepest, stack = 0, [(data, 1)]
    while stack:
        node, level = stack.pop()
        if level > MAX_DEPTH:
            return level
        deepest = max(deepest, level)
        children = node.values() if isinstance(node, dict) else node
        stack.extend((child, level + 1) for child in children
                     if isinstance(child, dict | list))
    return deepest


def _too_deep(path: Path) -> str:
    return (f"{path}: tables or arrays nested more than {MAX_DEPTH} levels deep; no scenario "
            "needs that: flatten them")


def _too_large(path: Path, size: int, by: str) -> str:
    return (f"{path}: {size:,} bytes, larger than the {MAX_FILE_BYTES // 2**20} MiB a scenario "
            f"file may be{by}; is this the right file?")


def _shown(path: Path) -> str:
    """``path`` for a message, with a NUL byte (which no file name may hold) made visible."""
    return str(path).replace("\0", "\\0")


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
    by = f" (extended by {chain[-1]})" if chain else ""
    text = read_text_file(path, "scenario", by)
    data = parse_toml(path, text)
    texts = [(path, text)]
    parent = data.pop("extends", None)
    if parent is None:
        return data, texts
    if not isinstance(parent, str) or not parent:
        raise ScenarioError(
            f"{path}: {_line_hint(texts, ('extends',))}extends: must be a file name such as "
            "\"q221951-unpatched.toml\""
        )
    if "\0" in parent:
        raise ScenarioError(f"{path}: {_line_hint(texts, ('extends',))}extends: the file name "
                            "contains a NUL byte; write a plain file name")
    if not parent.endswith(".toml"):
        # Refused unread: a parent is a scenario file, never /etc/shadow (rule 6).
        raise ScenarioError(f"{path}: {_line_hint(texts, ('extends',))}extends: must name a "
                            ".toml scenario file, such as \"q221951-unpatched.toml\"")
    parent_path = resolve_path(path.parent / parent, f" (extended by {path})")
    parent_data, parent_texts = _read_with_parents(parent_path, [*chain, path])
    return _merge(parent_data, data), texts + parent_texts


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
    for item, loc in items[:MAX_PROBLEMS]:
        hint, outside = _where(texts, loc)
        why = f"invalid {_NOT_SHOWN}; fix it there" if outside else _explain(item, loc)
        lines.append(f"{path}: {hint}{dotted_path(loc)}: {why}")
    count = len(items)
    if count > MAX_PROBLEMS:
        lines.append(f"... and {count - MAX_PROBLEMS:,} more; fix these first")
    head = "" if count == 1 else f"{count:,} problems:\n"
    return head + "\n".join(clip(line) for line in lines)


def dotted_path(loc: tuple[Any, ...]) -> str:
    """``ras.connect`` for a pydantic location, each part shortened for a message."""
    # A key with control characters (an escape sequence) is shown as its repr: inert.
    return ".".join(str(part) if len(str(part)) <= 60 and str(part).isprintable()
                    else shorten(str(part)) for part in loc) or "(top level)"


def clip(line: str, limit: int = MAX_LINE) -> str:
    """``line`` cut to ``limit`` characters: a message line stays readable whatever the input."""
    return line if len(line) <= limit else f"{line[: limit - 30]}... ({len(line):,} characters)"


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
            return (f"unknown key {shorten(loc[-1])} at the top level; it belongs in the {where} "
                    "table: move it below that table's header")
        hint = did_you_mean(str(loc[-1]), fields_at(Scenario, loc[:-1]))
        return (f"unknown key {shorten(loc[-1])}{hint}; remove it or check its spelling "
                "(see `rassim schema`)")
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


_NOT_SHOWN = "value (not shown: it is set in a file outside this scenario's folder)"


def _where(texts: list[tuple[Path, str]], loc: tuple[Any, ...]) -> tuple[str, bool]:
    """The line hint for ``loc``, and whether its value comes from a file outside the folder
    of the scenario named on the command line (``texts[0]``), whose values are never echoed
    (rule 6). A value no file sets comes from the defaults and may be shown."""
    if not texts:
        return "", False
    folder = texts[0][0].parent
    for file, text in texts:
        line = _find_line(text, loc)
        if line:
            hint = f"line {line}: " if file == texts[0][0] else f"line {line} of {file}: "
            return hint, not file.is_relative_to(folder)
    return "", False


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
    line = _lookup(_line_index(text, True), tuple(str(part) for part in loc))
    if line is None and any(isinstance(part, int) for part in loc):
        line = _lookup(_line_index(text, False),
                       tuple(str(p) for p in loc if not isinstance(p, int)))
    return line


_Index = tuple[dict[tuple[str, ...], int], dict[tuple[str, ...], int], dict[tuple[str, ...], int]]


def _lookup(index: _Index, keys: tuple[str, ...]) -> int | None:
    """The line of ``keys``: the key's own line, else the first line of a table or key that
    holds it (an inline table, the header of its table or of its array element)."""
    if not keys:
        return None
    exact, holders, tables = index
    if keys in exact:
        return exact[keys]
    found = [holders[keys[:k]] for k in range(1, len(keys) + 1) if keys[:k] in holders]
    if keys in tables:
        found.append(tables[keys])
    return min(found) if found else None


@functools.lru_cache(maxsize=16)
def _line_index(text: str, indexed: bool) -> _Index:
    """Every key path written in ``text`` and the first line writing it, built once per file.

    Built once and looked up per error: scanning the file again for each of 2,000 unknown
    keys took seconds (and never finished for 100,000).
    """
    exact: dict[tuple[str, ...], int] = {}
    holders: dict[tuple[str, ...], int] = {}  # paths that hold deeper keys (prefix match)
    tables: dict[tuple[str, ...], int] = {}  # table headers (exact match only)
    table: list[str] = []
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
                holders.setdefault(tuple(table), number)
            tables.setdefault(tuple(table), number)
            continue
        if "=" not in line:
            continue
        key = line.split("=", 1)[0].strip().strip('"')
        path = (*table, *[p.strip() for p in key.split(".")])
        exact.setdefault(path, number)
        holders.setdefault(path, number)  # e.g. an inline table holding the field
    return exact, holders, tables
