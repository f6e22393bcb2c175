"""``rassim search``: find a minimal fault schedule that defeats the sender (Hypothesis)."""

from __future__ import annotations

import argparse
import importlib.util
import os
import shlex
from pathlib import Path
from typing import Any

from sim.commands.common import EXIT_FAILED, EXIT_OK, BadInput, check_count
from sim.report.terminal import inert

__all__ = ["register"]

DEFAULT_BUDGET = 200


def register(commands: Any) -> None:
    search = commands.add_parser(
        "search", help="search for a minimal fault schedule under which the sender fails",
        description="Hypothesis tries fault schedules within the bounds of the scenario's "
        "[search] table, on a fixed trial, and shrinks the first one that makes the sender "
        "give up to a minimal one (fewer, shorter, earlier faults). rassim then writes a "
        "scenario file that extends FILE and reproduces the failure, and prints its replay "
        "timeline. The same budget always gives the same answer. Exit 1 when a failing "
        "schedule was found, 0 when none was within the budget, 2 on bad input.")
    search.add_argument("file", type=Path, help="scenario file (.toml) with a [search] table")
    search.add_argument("--policy", help="use this policy preset instead of the scenario's")
    search.add_argument("--budget", type=int, default=DEFAULT_BUDGET,
                        help=f"schedules to try before giving up (default {DEFAULT_BUDGET}; "
                        "shrinking a failing one tries more)")
    search.add_argument("--out", type=Path, help="where to write the reproducing scenario "
                        "(default: FILE's directory, <stem>-found-<kind>.toml)")
    search.set_defaults(handler=_cmd_search)


def _cmd_search(args: argparse.Namespace) -> int:
    # why: lazy, so `rassim --help` and the other commands start without it
    from sender.codes import symbol_of
    from sim.report.render import timeline
    from sim.scenario.loader import load_scenario
    from sim.studies.found import default_path, write_found
    from sim.studies.search import describe_fault, problem_of, run_with, search
    from sim.world.trace import Recorder

    check_count("budget", args.budget, 1, 1_000_000)
    if importlib.util.find_spec("hypothesis") is None:  # a base dependency; say so if gone
        raise BadInput("rassim search needs Hypothesis, which is not installed: "
                       "pip install 'hypothesis>=6.100' (or reinstall rassim)")
    _check_out(args.out, args.file)
    loaded = load_scenario(args.file, policy=args.policy)
    problem = problem_of(loaded)
    spec = problem.spec
    _say(f"searching {loaded.scenario.name} (policy {loaded.policy.name}, seed {problem.seed}, "
          f"trial{'s' if len(problem.trials) > 1 else ''} "
          f"{', '.join(str(t) for t in problem.trials)}): up to {spec.max_faults} fault(s) of "
          f"{', '.join(spec.kinds)}, starting {spec.window[0]} .. {spec.window[1]}, lasting "
          f"{spec.durations[0]:g}s .. {spec.durations[1]:g}s; budget {args.budget} schedules")
    for trial, result in problem.skipped:
        _say(f"  trial {trial} left out: it gives up with {result.code} "
              f"{symbol_of(result.code)} without any injected fault")
    found = search(problem, args.budget)
    if found is None:
        _say(f"no schedule within the [search] bounds defeated the sender in {args.budget} "
              "tries; a larger --budget or wider bounds may find one")
        return EXIT_OK
    result = found.result
    count = len(found.faults)
    _say(f"found after trying {found.tried} schedules (shrinking included): "
          + ("1 fault defeats" if count == 1 else f"{count} faults defeat")
          + f" the sender on trial {found.trial}")
    for fault in found.faults:
        _say(f"  {describe_fault(fault, problem.milestone)}")
    out = args.out or default_path(args.file, found)
    command = shlex.join(["rassim", "search", str(args.file),
                          *(["--policy", args.policy] if args.policy else []),
                          "--budget", str(args.budget)])
    write_found(problem, found, out, command=command, policy=args.policy)
    _say(f"wrote {out}: it extends {args.file} and reproduces the failure")
    _say(f"replay it: rassim replay {out} --trial {found.trial}")
    _say()
    recorder = Recorder()
    run_with(problem, found.trial, found.faults, recorder)
    _say(f"{out.stem} · policy {loaded.policy.name} · seed {problem.seed} · trial "
          f"{found.trial}: gave up ({result.reason}) with {result.code} {symbol_of(result.code)} "
          f"at {result.end_time:.3f}s; attempts {result.attempts}, dials {result.dials}")
    _say("\n".join(timeline(recorder.events)))
    return EXIT_FAILED


def _check_out(out: Path | None, source: Path) -> None:
    """Bad input now, not after the search, when the file cannot be written."""
    if out is not None and out.suffix != ".toml":
        raise BadInput(f"--out {out}: a scenario file name must end in .toml")
    if out is not None and out.is_dir():
        raise BadInput(f"--out {out}: is a directory; give a file name ending in .toml")
    where = f"--out {out}" if out is not None else f"{source}"
    parent = (out or source).parent
    parent = parent if str(parent) else Path(".")
    if not parent.is_dir():
        raise BadInput(f"{where}: directory {parent} does not exist; create it first")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise BadInput(f"{where}: directory {parent} is not writable, so the scenario found "
                       "cannot be written there; choose a directory with --out")


def _say(text: str = "") -> None:
    """``print``, with text from the scenario file made inert (``sim.report.terminal``)."""
    print("\n".join(inert(line) for line in text.split("\n")))
