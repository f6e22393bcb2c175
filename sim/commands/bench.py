"""``rassim bench``: how fast the harness runs against bare SimPy, on this machine, now."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from sim.commands.common import EXIT_OK, BadInput, check_count, console

__all__ = ["register"]

#: --quick: a smoke run of a few seconds (figures too noisy to quote).
_QUICK = {"trials": 1000, "rounds": 1, "memory_trials": 5000}
_DEFAULTS = {"trials": 4_000, "rounds": 15, "memory_trials": 1_000_000}


def register(commands: Any) -> None:
    bench = commands.add_parser(
        "bench", help="measure rassim against a hand-written SimPy model of the same "
        "physics (per trial), bare SimPy (per event, context), 1 vs 2 workers, peak memory",
        description="Run the canonical scenario, the hand-written SimPy model of the same "
        "physics (benchmarks/peer_simpy.py) and a bare SimPy loop with the same events per "
        "trial, all in this process, and report the time per trial of rassim against the "
        "hand-written model first (and whether their results agree), then trials/s, events "
        "per trial and microseconds per event as context; then the same trials on 2 worker "
        "processes; then the fixed work alone (each trial set up and summarised, no event "
        "processed); then the peak memory of a summary-only run in a fresh process. An event "
        "is one simpy Environment.step. Every timing is the median of --rounds interleaved "
        "rounds. "
        "The figures are measurements, not checks: the exit code is 0 whatever they are.")
    bench.add_argument("file", type=Path, nargs="?", help="scenario file (default: "
                       "scenarios/q221951-unpatched.toml of this checkout)")
    bench.add_argument("--trials", type=int, help=f"trials per timed pass (default "
                       f"{_DEFAULTS['trials']:,}; at least 1,000 so that 2 workers get a "
                       "chunk each)")
    bench.add_argument("--rounds", type=int, help=f"interleaved rounds; the median is kept "
                       f"(default {_DEFAULTS['rounds']})")
    bench.add_argument("--memory-trials", type=int, help="trials in the peak-memory run; "
                       "memory is also sampled at a tenth of them (default "
                       f"{_DEFAULTS['memory_trials']:,}; 0 skips it)")
    bench.add_argument("--seed", type=int, help="run seed (default: the scenario's)")
    bench.add_argument("--policy", help="use this policy preset instead of the scenario's")
    bench.add_argument("--quick", action="store_true", help="a smoke run of a few seconds, too "
                       "short for figures worth quoting: "
                       + ", ".join(f"--{k.replace('_', '-')} {v:,}" for k, v in _QUICK.items())
                       + " unless given")
    bench.add_argument("--json", action="store_true", help="print one JSON object")
    bench.set_defaults(handler=_cmd_bench)


def _option(args: argparse.Namespace, name: str) -> int:
    value: int | None = getattr(args, name)
    if value is not None:
        return value
    return (_QUICK if args.quick else _DEFAULTS)[name]


def _cmd_bench(args: argparse.Namespace) -> int:
    # why: lazy, so `rassim --help` and the other commands start without it
    from sim.bench.bench import CANONICAL, BenchConfig, run_bench
    from sim.scenario.schema import MAX_SEED, MAX_TRIALS

    check_count("trials", args.trials, 1000, MAX_TRIALS)
    check_count("rounds", args.rounds, 1, 100)
    check_count("memory-trials", args.memory_trials, 0, MAX_TRIALS)
    if args.memory_trials is not None and 0 < args.memory_trials < 10:
        raise BadInput("--memory-trials: give 0 to skip, or at least 10 (memory is also "
                       f"sampled at a tenth of them), got {args.memory_trials}")
    check_count("seed", args.seed, 0, MAX_SEED)
    file = args.file
    if file is None:
        if not CANONICAL.is_file():
            raise BadInput("bench: no scenario file given and this installation has no "
                           "scenarios/ folder; pass the path of q221951-unpatched.toml")
        file = CANONICAL
    config = BenchConfig(file=file, trials=_option(args, "trials"),
                         rounds=_option(args, "rounds"),
                         memory_trials=_option(args, "memory_trials"), seed=args.seed,
                         policy=args.policy)
    progress = None if args.json or not sys.stderr.isatty() else _say
    report = run_bench(config, progress=progress)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, allow_nan=False))
    else:
        _print(report)
    return EXIT_OK


def _say(text: str) -> None:
    print(f"bench: {text} ...", file=sys.stderr, flush=True)


def _shown(file: str) -> str:
    """``file`` relative to the current directory when it is below it."""
    path = Path(file).resolve()
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return file


def _print(report: Any) -> None:
    # why: lazy, so `rassim --help` and the other commands start without it
    from rich.table import Table

    screen = console(width=120)
    machine = report.machine
    screen.print(f"[bold]{report.scenario}[/bold] ({_shown(report.file)}) · policy "
                 f"{report.policy} · seed {report.seed}")
    screen.print(f"{report.trials:,} trials per timed pass, the median of {report.rounds} "
                 f"interleaved round(s); load average {report.load[0]:.2f} before, "
                 f"{report.load[1]:.2f} after")
    screen.print(f"Python {machine['python']} · {machine['cpus']} cores · {machine['platform']}"
                 f" · simpy {machine['simpy']} · numpy {machine['numpy']} · rassim "
                 f"{machine['rassim']}")
    ratio = report.peer_ratio
    screen.print()
    if ratio is None:
        screen.print(f"[yellow]{report.peer_note}[/yellow]")
    else:
        assert report.peer_seconds is not None
        screen.print(f"[bold]per trial: rassim {1e6 * report.harness_seconds / report.trials:.1f}"
                     f" us, hand-written SimPy {1e6 * report.peer_seconds / report.trials:.1f} us"
                     f": {ratio:.2f}x[/bold] (target <= 0.5)")
        for check in report.peer_agreement:
            screen.print(f"  {check.metric}: rassim {check.rassim:.4g}, hand-written "
                         f"{check.peer:.4g} ({check.z:+.2f} SE) "
                         + ("agree" if check.agrees else "[red]DISAGREE[/red]"))
    screen.print("\ncontext, per event against bare SimPy:")
    figures = Table(box=None, show_header=True)
    for column in ("", "trials/s", "events/trial", "us/trial", "us/event"):
        figures.add_column(column, justify="left" if not column else "right")
    per_trial = report.events_per_trial
    figures.add_row("harness, 1 worker", f"{report.trials_per_s:,.0f}", f"{per_trial:.2f}",
                    f"{1e6 / report.trials_per_s:.1f}", f"{report.us_per_event:.2f}")
    bare_per_s = report.trials / report.bare_seconds
    figures.add_row("bare SimPy, same events", f"{bare_per_s:,.0f}",
                    f"{report.bare_events / report.trials:.2f}", f"{1e6 / bare_per_s:.1f}",
                    f"{report.bare_us_per_event:.2f}")
    figures.add_row("harness, 2 workers", f"{report.two_worker_trials_per_s:,.0f}", "", "", "")
    figures.add_row("set-up + summary only", f"{report.trials / report.fixed_seconds:,.0f}",
                    "0", f"{report.fixed_us_per_trial:.1f}", "")
    screen.print()
    screen.print(figures)
    screen.print(f"\nevents: harness {report.harness_events:,}, bare {report.bare_events:,} "
                 "(an event is one simpy Environment.step)")
    screen.print(f"fixed work (setting up each trial, summarising its row): "
                 f"{report.fixed_us_per_trial:.1f} us/trial; without it the harness would spend\n"
                 f"{report.events_us_per_event:.2f} us/event, {report.events_ratio:.2f}x bare "
                 "SimPy")
    screen.print("1 and 2 workers gave " + ("the same summary" if report.same_summary
                                             else "[red]DIFFERENT summaries[/red]"))
    memory = report.memory
    if memory is not None:
        screen.print(f"peak RSS (fresh process, summaries only): {memory.startup_mb:.1f} MB "
                     f"after start-up, {memory.first_mb:.1f} MB after {memory.first_trials:,} "
                     f"trials, {memory.peak_mb:.1f} MB after {memory.trials:,}")
    targets = Table(box=None, title="targets (the README's performance goals)",
                    title_justify="left")
    for column in ("target", "measured", "verdict"):
        targets.add_column(column)
    for _key, measured, target, verdict in report.targets():
        color = {"PASS": "green", "MISS": "red"}.get(verdict, "yellow")
        targets.add_row(target, measured, f"[{color}]{verdict}[/{color}]")
    screen.print()
    screen.print(targets)
