"""The scenario file that reproduces a fault schedule ``rassim search`` found.

Rules:

1. The file ``extends`` the searched scenario (by a path relative to itself), sets the seed,
   and declares the faults found with absolute ``at`` times: when each one began in the
   failing trial. ``extends`` replaces a list whole, so the file first repeats the searched
   scenario's own faults, as written; their streams, and so the world, stay the same.
2. It is verified before it is published: loaded from a temporary file beside the
   destination (so ``extends`` resolves alike) and the trial run again; the outcome must be
   the one the search saw. Should absolute times not reproduce it (two events at one
   instant running in another order), the milestone form the search used is written
   instead, and if that fails too it is a bug in rassim.
3. It is written atomically (a temporary file, then a rename), and it has no ``[expect]``
   table, so ``rassim check`` and ``pytest`` do not collect it.
"""

from __future__ import annotations

import json
import os
import re
import textwrap
from pathlib import Path
from typing import Any

from sender.codes import symbol_of
from sim import __version__
from sim.report.atomic import atomic_path
from sim.scenario.loader import load_scenario, parse_toml, read_text_file, resolve_path
from sim.studies.search import Found, SearchProblem, ms_text, run_with
from sim.trial.results import TrialResult
from sim.trial.trial import run_trial
from sim.world.events import FaultEvent, Source
from sim.world.trace import Recorder

__all__ = ["default_path", "write_found"]

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


class _NotReproduced(Exception):
    """This form of the file did not reproduce the failure (rule 2): try the next."""


def default_path(source: Path, found: Found) -> Path:
    """``<stem>-found-<kind>.toml`` beside ``source`` (kinds joined by ``-``)."""
    kinds = "-".join(dict.fromkeys(fault.kind for fault in found.faults))
    return source.with_name(f"{source.stem}-found-{kinds}.toml")


def write_found(problem: SearchProblem, found: Found, out: Path, *, command: str,
                policy: str | None) -> None:
    """Write and verify the file that reproduces ``found`` (see the module rules).

    ``command`` is the search command line, quoted in the header; ``policy`` the preset
    given with ``--policy`` (written into the file so that a replay uses it too).
    """
    recorder = Recorder()
    run_with(problem, found.trial, found.faults, recorder)
    began = {event.get("fault"): event.t for event in recorder.events
             if event.source == Source.FAULT and event.kind == FaultEvent.BEGIN}
    for absolute in (True, False):
        text = _text(problem, found, out, began if absolute else None, command, policy)
        data = text.encode("utf-8")
        try:
            with atomic_path(out, suffix=".toml", option="--out", size=len(data)) as tmp:
                tmp.write_bytes(data)
                if not _reproduces(tmp, found, problem.seed):
                    raise _NotReproduced  # leaves the block unpublished, the file removed
            return
        except _NotReproduced:
            continue
    raise AssertionError(f"the scenario written for {out} does not reproduce the failure "
                         "the search found; this is a bug in rassim, please report it")


def _reproduces(path: Path, found: Found, seed: int) -> bool:
    loaded = load_scenario(path)
    again = run_trial(loaded.scenario, loaded.policy, seed, found.trial)
    return _same(again, found.result)


def _same(a: TrialResult, b: TrialResult) -> bool:
    return (a.outcome, a.code, a.reason, a.end_time, a.codes) == (
        b.outcome, b.code, b.reason, b.end_time, b.codes)


def _text(problem: SearchProblem, found: Found, out: Path, began: dict[str, float] | None,
          command: str, policy: str | None) -> str:
    source = problem.loaded.path
    result = found.result
    extends = Path(os.path.relpath(source.resolve(), out.resolve().parent)).as_posix()
    count = len(found.faults)
    faults = "1 fault" if count == 1 else f"{count} faults"
    story = (
        f"Under the fault schedule below, trial "
        f"{found.trial} of seed {problem.seed} gives up ({result.reason}) with {result.code} "
        f"{symbol_of(result.code)} at {result.end_time:.3f}s; without it the trial connects. "
        f"Hypothesis tried {found.tried} schedules and shrank the first that failed to {faults} "
        "(fewer, shorter, earlier faults first). "
        + ("Times are absolute: when each fault began in that trial." if began is not None
           else "Times count from the milestone the search used."))
    lines = [
        f"# Found by `{command}` (rassim {__version__}).",  # whole, to copy and paste
        *textwrap.wrap(story, width=92, initial_indent="# ", subsequent_indent="# ",
                       break_on_hyphens=False, break_long_words=False),
        "#",
        f"# Reproduce it:  rassim replay {out} --trial {found.trial}",
        f"extends = {_toml(extends)}",
        f"name = {_toml(out.stem)}",
        f"description = {_toml(f'Fault schedule found by rassim search on {source.name}')}",
        f"seed = {problem.seed}",
    ]
    if policy is not None:
        lines += ["", "[sender]", f"policy = {_toml(policy)}"]
    own = _raw_faults(source)
    if own:
        lines += ["", f"# The faults of {source.name}, repeated because extends replaces a "
                      "list whole."]
        for raw in own:
            lines += ["[[faults]]", *(f"{_key(k)} = {_toml(v)}" for k, v in raw.items())]
    lines += ["", "# The faults found."]
    milestone = problem.milestone
    for index, fault in enumerate(found.faults, 1):
        label = f"found-{index}"
        lines += ["[[faults]]", f"name = {_toml(label)}", f"kind = {_toml(fault.kind)}"]
        relative = fault.at(milestone)
        if began is not None and label in began and milestone != "start":
            lines.append(f"at = {_toml(f'{began[label]!r}s')}  # {relative}")
        else:
            lines.append(f"at = {_toml(relative)}")
        lines.append(f"duration = {_toml(ms_text(fault.duration_ms))}")
    return "\n".join(lines) + "\n"


def _raw_faults(path: Path) -> list[dict[str, Any]]:
    """The ``faults`` list in effect for ``path``, as written (``extends`` followed)."""
    seen: set[Path] = set()
    current = path.resolve()
    while current not in seen:
        seen.add(current)
        data = parse_toml(current, read_text_file(current))
        if "faults" in data:
            faults: list[dict[str, Any]] = data["faults"]
            return faults
        parent = data.get("extends")
        if not isinstance(parent, str):
            return []
        current = resolve_path(current.parent / parent)
    return []  # pragma: no cover - the loader has already refused cycles


def _key(key: str) -> str:
    return key if _BARE_KEY.match(key) else _toml(key)


def _toml(value: Any) -> str:
    """``value`` (as read by tomllib from a scenario file) written as a TOML value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a valid TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_toml(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {value!r} as TOML")  # pragma: no cover - tomllib types
