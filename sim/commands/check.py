"""``rassim check``: demonstrate every scenario's ``[expect]`` bounds; exit 1 if any is not."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from sim.commands.common import EXIT_FAILED, EXIT_OK, BadInput, check_count, console
from sim.report.terminal import inert

__all__ = ["register"]


def register(commands: Any) -> None:
    check = commands.add_parser(
        "check", help="check the [expect] bounds of scenario files (exit 1 if any fails)",
        description="Run every scenario file with an [expect] table (its own seed and trial "
        "count) and print one line per expectation. An expectation passes only when its 95% "
        "interval lies entirely on the right side of the bound. Exit 0 when all pass, 1 when "
        "any is violated or not demonstrated, 2 on bad input.")
    check.add_argument("paths", nargs="*", type=Path, metavar="PATH",
                       help="scenario files, or directories searched for *.toml files with "
                       "an [expect] table (default: the current directory)")
    check.add_argument("--junit", type=Path, metavar="FILE",
                       help="also write a JUnit XML report, one test case per expectation")
    check.add_argument("--workers", type=int, help="worker processes per scenario (default: "
                       "all cores for large runs)")
    check.set_defaults(handler=_cmd_check)


def _cmd_check(args: argparse.Namespace) -> int:
    # why: lazy, so `rassim --help` and the other commands start without it
    from sim.check.check import find_checkable, load_target, run_check, summary_line
    from sim.check.junit import check_junit_path, write_junit
    from sim.world.faults import open_ended_notes

    check_count("workers", args.workers, 1, 1024)
    if args.junit is not None:
        check_junit_path(args.junit)
    paths = args.paths or [Path(".")]
    files = find_checkable(paths)
    if not files:
        raise BadInput(f"check: no scenario file with an [expect] table under "
                       f"{', '.join(str(p) for p in paths)}; add [expect] to a scenario or "
                       "pass its path")
    targets = [load_target(path) for path in files]  # all validated before any trial runs
    began = time.perf_counter()
    checks = []
    # Lines wrap at word boundaries to the terminal's width, so no figure is cut in two.
    out = console()
    for target in targets:
        if sys.stderr.isatty():
            _say(f"checking {target.name}: {target.trials:,} trials, seed {target.seed} ...",
                  file=sys.stderr, flush=True)
        check = run_check(target, args.workers)
        checks.append(check)
        for note in open_ended_notes(target.loaded.scenario.faults):
            out.print(inert(f"note: {target.name}: {note}"), markup=False)
        for line in check.lines():
            out.print(inert(line), markup=False)
        hint = None if check.passed else check.replay_hint()
        if hint:  # a command to copy is never broken across lines
            out.print(inert(f"  {hint}"), markup=False, soft_wrap=True)
        sys.stdout.flush()
    out.print(inert(summary_line(checks, time.perf_counter() - began)), markup=False)
    if args.junit is not None:
        write_junit(args.junit, checks)
        _say(f"JUnit report written to {args.junit}")
    return EXIT_OK if all(check.passed for check in checks) else EXIT_FAILED


def _say(text: str = "", *, flush: bool = False, file: TextIO | None = None) -> None:
    """``print``, with text from the scenario file made inert (``sim.report.terminal``)."""
    print("\n".join(inert(line) for line in text.split("\n")), flush=flush, file=file)
