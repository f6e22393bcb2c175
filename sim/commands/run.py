"""``rassim run``: run a scenario's trials and summarise them."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from sim import __version__
from sim.commands.common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    BadInput,
    check_count,
    console,
    progress_bar,
)
from sim.commands.tables import Column, print_fitted
from sim.report.format import number, percent, seconds
from sim.report.terminal import markup_inert, terminal_safe

__all__ = ["register"]


def register(commands: Any) -> None:
    run = commands.add_parser("run", help="run a scenario's trials and summarise them")
    run.add_argument("file", type=Path, help="scenario file (.toml)")
    run.add_argument("--trials", type=int, help="number of trials (default: the scenario's)")
    run.add_argument("--seed", type=int, help="run seed (default: the scenario's)")
    run.add_argument("--policy", help="use this policy preset instead of the scenario's")
    run.add_argument("--workers", type=int, help="worker processes (default: all cores for "
                     "large runs)")
    run.add_argument("--json", action="store_true", help="print one JSON object")
    run.add_argument("--out", type=Path, help="write one row per trial (.csv or .parquet)")
    run.add_argument("--plot", type=Path, metavar="FILE.png",
                     help="also draw the run (time-to-connect CDF, failure codes) to this "
                     "picture (.png, .svg or .pdf; needs rassim[plot])")
    run.add_argument("--check-determinism", action="store_true",
                     help="run every trial twice with full tracing, once in a fresh process, "
                     "and fail (exit 1) if any trace differs")
    run.set_defaults(handler=_cmd_run)


def _cmd_run(args: argparse.Namespace) -> int:
    # why: lazy, so `rassim --help` and the other commands start without it
    from sim.report.output import RowSink, check_output_path
    from sim.run.interrupts import deferred_interrupts
    from sim.run.runner import default_workers, run_trials, trial_cost
    from sim.scenario.loader import load_scenario
    from sim.scenario.schema import MAX_SEED, MAX_TRIALS
    from sim.world.faults import open_ended_notes, unique_labels

    check_count("trials", args.trials, 1, MAX_TRIALS)
    check_count("seed", args.seed, 0, MAX_SEED)
    check_count("workers", args.workers, 1, 1024)
    if args.plot is not None:
        _check_plot(args)
    loaded = load_scenario(args.file, policy=args.policy)
    if args.check_determinism:
        return _check_determinism(args, loaded.scenario.trials, loaded.scenario.seed)
    if args.out is not None:
        check_output_path(args.out)
    scenario = loaded.scenario
    trials = args.trials or scenario.trials
    seed = scenario.seed if args.seed is None else args.seed
    workers = args.workers or default_workers(trials, trial_cost(scenario))
    provenance = {
        "scenario": scenario.name,
        "file": str(args.file),
        "scenario_sha256": loaded.sha256,
        "seed": seed,
        "policy": loaded.policy.describe(),
        "version": __version__,
    }
    sink: RowSink | None = None
    progress = progress_bar(trials) if not args.json else None
    try:
        # Made whole before a Ctrl-C is taken (``sim.run.interrupts``): one arriving meanwhile
        # finds the sink in ``sink``, and the handler below removes its temporary file.
        with deferred_interrupts():
            sink = RowSink(args.out, provenance) if args.out is not None else None
        if progress is not None:
            with progress:
                task = progress.add_task("trials", total=trials)
                result = run_trials(scenario, loaded.policy, trials=trials, seed=seed,
                                    workers=workers, on_rows=sink.write if sink else None,
                                    on_progress=lambda n: progress.advance(task, n))
        else:
            result = run_trials(scenario, loaded.policy, trials=trials, seed=seed,
                                workers=workers, on_rows=sink.write if sink else None)
    except BaseException:
        if sink is not None:
            sink.abort()
        raise
    if sink is not None:
        with deferred_interrupts():  # published whole, or left as the temporary file never
            sink.commit(interrupted=result.interrupted)
    summary = result.summary
    declared = unique_labels(scenario.faults)
    warnings = [
        f"fault {label!r} never touched a sender step in {summary.trials:,} trials"
        for label in declared if summary.trials and summary.faults_touched.get(label, 0) == 0
    ]
    if result.interrupted:
        warnings.insert(0, f"interrupted after {summary.trials:,} of {trials:,} trials")
    report = summary.to_dict(extra={**provenance, "requested_trials": trials,
                                    "interrupted": result.interrupted,
                                    "faults_declared": declared, "warnings": warnings,
                                    "notes": open_ended_notes(scenario.faults)})
    if args.plot is not None and not result.interrupted:
        _plot(args.plot, summary, f"{scenario.name} · policy {loaded.policy.name} · seed {seed}")
    plotted = args.plot if args.plot is not None and not result.interrupted else None
    if args.json:
        print(json.dumps(report, indent=2, allow_nan=False))
        if plotted is not None:  # stdout holds the JSON alone
            print(f"plot written to {plotted}", file=sys.stderr)
    else:
        _print_table(report, args.file, result.elapsed, workers, args.out, args.policy,
                     plotted)
    if args.plot is not None and plotted is None:
        print(f"--plot {args.plot}: not written, the run was interrupted", file=sys.stderr)
    return EXIT_INTERRUPTED if result.interrupted else EXIT_OK


def _check_plot(args: argparse.Namespace) -> None:
    """Before any trial: a bad path or a missing plot extra is bad input (exit 2)."""
    # why: sim.plots draws with the optional plot extra (matplotlib); only --plot needs it
    from sim.plots import check_plot_path, require_matplotlib

    if args.check_determinism:
        raise BadInput("--plot: cannot be combined with --check-determinism, which draws "
                       "nothing; run them separately")
    check_plot_path(args.plot)
    require_matplotlib("--plot")


def _plot(path: Path, summary: Any, title: str) -> None:
    # The figure is drawn from the streaming summary (its connect-time sketch and failure
    # counts), so --plot keeps the run's memory bounded: no per-trial rows are collected.
    # why: sim.plots draws with the optional plot extra (matplotlib); only --plot needs it
    from sim.plots import run_figure, save

    save(run_figure(summary, title=title), path, option="--plot")


def _print_table(report: dict[str, Any], file: Path, elapsed: float, workers: int,
                 out: Path | None, policy_option: str | None,
                 plotted: Path | None = None) -> None:
    # Names come from scenario files: inert on the terminal (sim.report.terminal).
    report = terminal_safe(report)
    file = markup_inert(str(file))  # type: ignore[assignment]
    out = markup_inert(str(out)) if out else None  # type: ignore[assignment]
    policy_option = markup_inert(policy_option) if policy_option else None
    screen = console(width=120)
    policy = report["policy"]["name"]
    screen.print(f"[bold]{report['scenario']}[/bold] ({file})")
    screen.print(f"policy {policy} · seed {report['seed']} · {report['trials']:,} trials · "
                  f"scenario sha256 {report['scenario_sha256'][:12]} · rassim {report['version']}")
    if not report["trials"]:  # interrupted before the first chunk: nothing to summarise
        for warning in report["warnings"]:
            screen.print(f"[yellow]warning:[/yellow] {warning}")
        screen.print("no trial completed, so there are no figures"
                     + (f"; {out} holds no rows" if out else ""), soft_wrap=True)
        return
    fleet = report.get("fleet")
    low, high = report["ci95"]
    if fleet is not None:
        value, lo, hi = fleet["sender_success_rate"]
        screen.print(f"\n[bold]fleet of {fleet['senders']} senders: {percent(value)} of senders "
                     f"connected[/bold]   95% CI [{percent(lo)}, {percent(hi)}] "
                     "(trials as clusters)")
        screen.print(f"whole fleet connected in {percent(report['success_rate'])} of trials   "
                     f"95% CI [{percent(low)}, {percent(high)}]   "
                     f"({report['successes']:,} of {report['trials']:,})")
    else:
        screen.print(f"\n[bold]success rate {percent(report['success_rate'])}[/bold]   "
                     f"95% CI [{percent(low)}, {percent(high)}]   "
                     f"({report['successes']:,} of {report['trials']:,})")
    if report["failures"]:
        title = ("trials by the most frequent final code of the senders that gave up"
                 if fleet is not None else "failures by final code")
        columns = [Column(header) for header in
                   ("code", "symbol", "count", "rate", "95% CI", "replay trial")]
        columns[1].justify = "left"
        for code, info in report["failures"].items():
            lo, hi = info["ci95"]
            cells = (code, info["symbol"], f"{info['count']:,}", percent(info["rate"]),
                     f"[{percent(lo)}, {percent(hi)}]", str(info["example_trial"]))
            for column, cell in zip(columns, cells, strict=True):
                column.cells.append(cell)
        screen.print()
        print_fitted(screen, columns[0], [[c] for c in columns[1:]], title=title)
    ct = report["connect_time"]
    what = ("makespan (trials where all connected)"
            if fleet is not None else "time to connect (successful trials)")
    screen.print(f"\n{what}: p50 {seconds(ct['p50'])}  p90 {seconds(ct['p90'])}  "
                 f"p99 {seconds(ct['p99'])}  mean {seconds(ct['mean'])}")
    if fleet is not None:
        work, busy, util = fleet["work_mean"], fleet["busy_rate"], fleet["port_utilization"]
        screen.print(f"work offered per trial: {report['attempts_mean']:.2f} map attempts + "
                     f"{report['dials_mean']:.2f} dials = {work[0]:.2f} "
                     f"(95% CI {number(work[1])}-{number(work[2])})")
        screen.print(f"busy signals: {percent(busy[0])} of dials (95% CI "
                     f"{percent(busy[1])}-{percent(busy[2])}), "
                     f"{fleet['busy_signals_mean']:.2f} per trial")
        screen.print(f"port utilization {percent(util[0])} (95% CI {percent(util[1])}-"
                     f"{percent(util[2])}) · RAS line time "
                     f"{seconds(report['line_time_mean'])} per trial, all senders")
    else:
        screen.print(f"per trial: attempts {report['attempts_mean']:.3f}  dials "
                     f"{report['dials_mean']:.3f}  RAS line time mean "
                     f"{seconds(report['line_time_mean'])}  "
                     f"p90 {seconds(report['line_time']['p90'])}")
    for note in report["notes"]:
        screen.print(f"note: {note}")
    if report["faults_declared"]:
        touched = report["faults_touched"]
        parts = [f"{label}: {touched.get(label, 0):,}" for label in report["faults_declared"]]
        screen.print("trials touched by each fault: " + ", ".join(parts))
    for warning in report["warnings"]:
        screen.print(f"[yellow]warning:[/yellow] {warning}")
    if report["failures"]:
        code, info = next(iter(report["failures"].items()))
        # The command on a line of its own: copied whole, and the wrap of a narrow terminal
        # never falls inside the sentence before it.
        screen.print(f"\nreplay the first trial that failed with {code}:")
        screen.print(f"rassim replay {file} "
                      f"--seed {report['seed']} --trial {info['example_trial']}"
                      + (f" --policy {policy_option}" if policy_option else ""),
                      soft_wrap=True)  # a command to copy is never broken across lines
    rate = report["trials"] / elapsed if elapsed > 0 else float("inf")
    screen.print(f"[dim]{elapsed:.1f}s, {rate:,.0f} trials/s on {workers} worker(s)"
                  + (f"; rows written to {out}" if out else "")
                  + (f"; plot written to {plotted}" if plotted else "") + "[/dim]")


def _check_determinism(args: argparse.Namespace, default_trials: int, default_seed: int) -> int:
    # why: lazy, so `rassim --help` and the other commands start without it
    from sim.check.determinism import first_difference, fresh_process_digests, trace_digests

    trials = args.trials or default_trials
    seed = default_seed if args.seed is None else args.seed
    here = trace_digests(args.file, seed=seed, trials=trials, policy=args.policy)
    again = trace_digests(args.file, seed=seed, trials=trials, policy=args.policy)
    fresh = fresh_process_digests(args.file, seed=seed, trials=trials, policy=args.policy)
    for label, other in (("a second run in this process", again),
                         ("a fresh process", fresh)):
        trial = first_difference(here, other)
        if trial is not None:
            replay = f"rassim replay {args.file} --seed {seed} --trial {trial}" + (
                f" --policy {args.policy}" if args.policy else "")
            print(f"NOT DETERMINISTIC: trial {trial}'s trace differs in {label}.\n"
                  f"Compare: {replay} --format jsonl", file=sys.stderr)
            return EXIT_FAILED
    print(f"deterministic: {trials:,} trials (seed {seed}) gave identical traces twice in "
          "this process and once in a fresh process")
    return EXIT_OK

