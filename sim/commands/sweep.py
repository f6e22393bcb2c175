"""``rassim sweep``: every policy of a grid on the same trials, paired against a baseline.

Also home of the execution options that ``sweep`` and ``tune`` share (``--workers``,
``--dask``) and of the small formatting helpers their tables use.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sim import __version__
from sim.commands.common import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    BadInput,
    check_count,
    console,
    progress_bar,
)
from sim.commands.tables import Column, print_fitted
from sim.report.format import number, percent, points, seconds
from sim.report.terminal import markup_inert, terminal_safe

__all__ = ["add_execution_options", "open_executor_for", "register"]


def register(commands: Any) -> None:
    sweep = commands.add_parser(
        "sweep", help="run every policy of a grid on the same seeds and compare them",
        description="Run every policy in GRID on the same trials (common random numbers) "
        "and print one row per policy with the paired difference in success rate against "
        "the baseline.")
    sweep.add_argument("file", type=Path, help="scenario file (.toml)")
    sweep.add_argument("--grid", type=Path, required=True,
                       help="grid file (.toml): [base], [vary] lists and/or [[policies]], "
                       "optional baseline; see tuning/connras-grid.toml")
    size = sweep.add_mutually_exclusive_group()
    size.add_argument("--trials", type=int, help="trials per policy (default: the scenario's)")
    size.add_argument("--precision", type=float, metavar="HALF_WIDTH",
                      help="add trials in doubling batches until every success rate's 95%% "
                      "interval half-width is at most this (e.g. 0.002 = 0.2 points)")
    size.add_argument("--require", metavar="REQUIREMENT",
                      help="decide for each policy whether it meets REQUIREMENT, e.g. "
                      "\"success_rate >= 0.999\" (any statistic an [expect] table knows), "
                      "at 95%% confidence: each policy stops as soon as its interval lies "
                      "wholly on one side of the bound (Bonferroni-corrected over the planned "
                      "looks), or is reported undecided at --max-trials")
    sweep.add_argument("--max-trials", type=int, default=100_000,
                       help="with --precision or --require: stop here even if the precision "
                       "is not reached or a policy is undecided (default: 100,000)")
    sweep.add_argument("--min-trials", type=int, default=1000,
                       help="with --precision or --require: the first batch (default: 1,000)")
    sweep.add_argument("--seed", type=int, help="run seed (default: the scenario's)")
    sweep.add_argument("--baseline", help="the policy others are compared with: a preset or a "
                       "grid policy's name (default: the grid's, else the scenario's policy)")
    add_execution_options(sweep)
    sweep.add_argument("--json", action="store_true", help="print one JSON object")
    sweep.add_argument("--out", type=Path, help="write the table (.csv or .parquet)")
    sweep.add_argument("--plot", type=Path, metavar="FILE.png",
                       help="draw the table: per policy, success rate, error 53 and the paired "
                       "difference to the baseline (a fleet: makespan p50/p95, work, busy "
                       "rate, port utilization and the paired differences), and the "
                       "success rate (a fleet: makespan p95) over the varied fields, the "
                       "heatmap centred on the baseline (.png, .svg or .pdf; needs the plot "
                       "extra)")
    sweep.set_defaults(handler=_cmd_sweep)


def add_execution_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--workers", type=int,
                        help="local worker processes (default: all cores)")
    parser.add_argument("--dask", metavar="ADDRESS",
                        help="run on the Dask scheduler at ADDRESS (e.g. tcp://host:8786) "
                        "instead; results are identical")


def open_executor_for(args: argparse.Namespace) -> Any:
    """The executor ``--workers``/``--dask`` ask for; setup problems are bad input
    (``ExecutorError``, a ``UserError``)."""
    # why: lazy, so `rassim --help` and the other commands start without it
    from sim.run.executors import open_executor

    check_count("workers", args.workers, 1, 1024)
    if args.dask is not None and args.workers is not None:
        raise BadInput("--workers and --dask: give one; a Dask cluster has its own workers")
    return open_executor(args.workers, args.dask)


def _cmd_sweep(args: argparse.Namespace) -> int:
    # why: lazy, so `rassim --help` and the other commands start without it
    from sim.report.output import check_output_path
    from sim.run.interrupts import deferred_interrupts
    from sim.scenario.loader import load_scenario
    from sim.scenario.schema import MAX_SEED, MAX_TRIALS
    from sim.studies.grid import load_grid
    from sim.studies.sweep import check_grid_work, run_sweep, sweep_report, write_rows

    check_count("trials", args.trials, 1, MAX_TRIALS)
    check_count("seed", args.seed, 0, MAX_SEED)
    check_count("max-trials", args.max_trials, 1, MAX_TRIALS)
    check_count("min-trials", args.min_trials, 1, MAX_TRIALS)
    if args.precision is not None and not 0 < args.precision < 0.5:
        raise BadInput(f"--precision: must be a half-width between 0 and 0.5 (e.g. 0.002 for "
                       f"0.2 percentage points), got {args.precision}")
    require = None
    if args.require is not None:
        # why: lazy, so `rassim --help` and the other commands start without it
        from sim.stats.sequential import Requirement

        try:
            require = Requirement.parse(args.require)
        except ValueError as error:
            raise BadInput(f"--require: {error}") from None
    loaded = load_scenario(args.file)
    if require is not None and require.fleet_only and loaded.scenario.fleet is None:
        raise BadInput(f"--require: {require.statistic} is a fleet statistic and "
                       f"{args.file} has no [fleet] table; require success_rate, rate_<code>, "
                       "a connect-time quantile or a mean instead")
    grid = load_grid(args.grid, loaded.policy, baseline=args.baseline)
    check_grid_work(loaded.scenario, grid)  # every policy's trials end (sim.scenario.limits)
    if args.out is not None:
        check_output_path(args.out)
    if args.plot is not None:
        # why: sim.plots draws with the optional plot extra (matplotlib); only --plot needs it
        from sim.plots import check_plot_path, require_matplotlib

        check_plot_path(args.plot)
        require_matplotlib("--plot")
    points = _vary_points(args.grid, grid)
    scenario = loaded.scenario
    seed = scenario.seed if args.seed is None else args.seed
    adaptive = args.precision is not None or require is not None
    trials = None if adaptive else (args.trials or scenario.trials)
    provenance = {"scenario": scenario.name, "file": str(args.file),
                  "scenario_sha256": loaded.sha256, "version": __version__,
                  "senders": scenario.fleet.senders if scenario.fleet is not None else 1}
    count = len(grid.policies)
    with open_executor_for(args) as executor:
        bar = None if args.json else progress_bar((trials or args.min_trials) * count)
        if bar is None:
            result = run_sweep(scenario, grid, seed=seed, executor=executor, trials=trials,
                               precision=args.precision, require=require,
                               max_trials=args.max_trials, first_batch=args.min_trials)
        else:
            with bar:
                task = bar.add_task("policy-trials", total=(trials or args.min_trials) * count)
                result = run_sweep(
                    scenario, grid, seed=seed, executor=executor, trials=trials,
                    precision=args.precision, require=require, max_trials=args.max_trials,
                    first_batch=args.min_trials,
                    on_progress=lambda n: bar.advance(task, n),
                    on_batch=lambda end, _: bar.update(task, total=end * count))
        where = executor.describe()
    report = sweep_report(result, provenance)
    if args.out is not None:
        # Marked as ``rassim run`` marks its rows (sim.report.output rule 3); published whole
        # with its sidecar, or not at all, even if Ctrl-C arrives meanwhile.
        metadata = {k: v for k, v in report.items() if k != "policies"}
        metadata["complete"] = not result.interrupted
        with deferred_interrupts():
            write_rows(args.out, report["policies"], metadata)
    plotted = False
    if args.plot is not None and not result.interrupted and report["trials"] > 0:
        # why: sim.plots draws with the optional plot extra (matplotlib); only --plot needs it
        from sim.plots import save, sweep_figure

        save(sweep_figure(report, grid.varied, points), args.plot, option="--plot")
        plotted = True
    if args.json:
        print(json.dumps(report, indent=2, allow_nan=False))
    else:
        _print_table(report, args, result.elapsed, where, plotted)
        if report["decision"] is not None:
            _print_decisions(report)
    if args.plot is not None and not plotted:
        print(f"--plot {args.plot}: not written, the sweep was interrupted", file=sys.stderr)
    return EXIT_INTERRUPTED if result.interrupted else EXIT_OK


# --- shared output helpers ----------------------------------------------------------------
def _paired(row: dict[str, Any], name: str, fmt: Callable[[float], str]) -> str:
    """``-15.5 [-16.0, -15.0]`` for a paired mean difference, coloured when its interval
    excludes 0 (lower is better); ``-`` when no trial paired."""
    value, low, high = row[name], row[f"{name}_low"], row[f"{name}_high"]
    if value is None:
        return "-"
    text = fmt(value)
    if low is not None and high is not None:
        if high < 0:
            text = f"[green]{text}[/green]"
        elif low > 0:
            text = f"[red]{text}[/red]"
        return f"{text} [{fmt(low)}, {fmt(high)}]"
    return f"{text} (open interval)"


def _print_table(report: dict[str, Any], args: argparse.Namespace, elapsed: float,
                 where: str, plotted: bool = False) -> None:
    report = terminal_safe(report)  # names come from files: inert on the terminal
    out = console()
    rows = report["policies"]
    out.print(f"[bold]{report['scenario']}[/bold] ({markup_inert(str(args.file))}) · grid "
              f"{report['grid']}")
    # A decision sweep stops each policy once decided: its figures are over its own trials.
    per_policy = (f"up to {report['trials']:,} trials per policy (each stops once decided, "
                  "below)" if report.get("decision") else f"{report['trials']:,} trials per policy")
    out.print(f"seed {report['seed']} · {per_policy} on the same "
              f"seeds (CRN) · {len(rows)} policies · baseline {report['baseline']} · "
              f"scenario sha256 {report['scenario_sha256'][:12]} · rassim {report['version']}")
    if report["trials"] == 0:
        for warning in report["warnings"]:
            out.print(f"[yellow]warning:[/yellow] {warning}, before any chunk of trials "
                      "finished on every policy")
        return
    adaptive = report["adaptive"]
    if adaptive is not None and adaptive["reached"]:
        out.print(f"precision ±{100 * adaptive['precision']:.2f} points reached at "
                  f"{report['trials']:,} trials (checked at "
                  + ", ".join(f"{n:,}" for n in adaptive["checkpoints"]) + ")")
    fleet = report.get("senders", 1) > 1
    headers = (("senders ok", "all ok", "95% CI", "p50", "p95", "work", "busy", "ports")
               if fleet else ("success", "95% CI", "53", "p50", "p95", "dials", "line"))
    # A fleet is judged on what it costs: its paired differences are in work and makespan.
    compared = ("Δ work [95% CI]", "Δ makespan s [95% CI]") if fleet else ("Δ points", "Δ 95% CI")
    columns = {header: Column(header) for header in (*headers, *compared)}
    for row in rows:
        if row["baseline"]:
            diff, diff_ci = "baseline", ""
        elif row["same_as_baseline"]:
            diff, diff_ci = "0 (same policy)", "[0, 0]"
        elif fleet:  # lower is better for both
            diff = _paired(row, "work_diff", lambda x: f"{x:+.1f}")
            diff_ci = _paired(row, "connect_diff", lambda x: f"{x:+.0f}")
        else:
            diff = points(row["diff"])
            diff_ci = f"[{points(row['diff_low'])}, {points(row['diff_high'])}]"
            if row["diff_low"] > 0:
                diff = f"[green]{diff}[/green]"
            elif row["diff_high"] < 0:
                diff = f"[red]{diff}[/red]"
        success = (percent(row["success_rate"]),
                   f"[{percent(row['success_rate_low'])}, {percent(row['success_rate_high'])}]")
        times = (seconds(row["p50_connect_time"]), seconds(row["p95_connect_time"]))
        cells: tuple[str, ...]
        if fleet:
            cells = (percent(row["sender_success_rate"]), *success, *times,
                     number(row["work"]), percent(row["busy_rate"]),
                     percent(row["port_utilization"]))
        else:
            cells = (*success, percent(row["rate_53"]), *times, number(row["dials"]),
                     seconds(row["line_time"]))
        for column, cell in zip(columns.values(), (*cells, diff, diff_ci), strict=True):
            column.cells.append(cell)
    # A value and its interval, and the two quantiles, stay side by side when split.
    together = ((("senders ok",), ("all ok", "95% CI"), ("p50", "p95"), ("work",), ("busy",),
                 ("ports",), compared[:1], compared[1:]) if fleet else
                (("success", "95% CI"), ("53",), ("p50", "p95"), ("dials",), ("line",),
                 compared))
    out.print()
    print_fitted(out, Column("policy", [row["policy"] for row in rows], "left"),
                 [[columns[header] for header in group] for group in together])
    if fleet:
        out.print(f"\nA fleet of {report['senders']} senders per trial. senders ok: share of "
                  "senders that connected. all ok: share of trials in which every sender "
                  "connected, with its interval. p50/p95: makespan (trials where all "
                  "connected). work: map attempts + dials per trial. busy: share of dials "
                  "refused for want of a port. ports: port utilization. Δ work, Δ makespan: "
                  f"mean differences from {report['baseline']}, paired trial by trial "
                  "(makespan: trials where both connected every sender); green where the "
                  "interval shows less, red where it shows more. The paired difference in "
                  "all ok is in --json and --out (diff).")
    else:
        out.print(f"\nΔ: success rate minus {report['baseline']}'s, in percentage points, "
                  "paired trial by trial (Newcombe's paired score interval).\n53: share of "
                  "trials that gave up with 53. p50/p95: time to connect (successful trials). "
                  "line: mean RAS line time per trial.")
    for warning in report["warnings"]:
        out.print(f"[yellow]warning:[/yellow] {warning}")
    done = report["trials"] * len(rows)
    rate = done / elapsed if elapsed > 0 else float("inf")
    out.print(f"[dim]{elapsed:.1f}s, {rate:,.0f} policy-trials/s on {where}"
              + (f"; table written to {args.out}" if args.out else "")
              + (f"; plot written to {args.plot}" if plotted else "") + "[/dim]")


def _print_decisions(report: dict[str, Any]) -> None:
    """--require: each policy's decision, the trials it took, and the survivors' p95."""
    decision = report["decision"]
    out = console()
    out.print(f"\n[bold]require {decision['require']}[/bold] at 95% confidence per policy; "
              f"{decision['correction']}; looked at "
              + ", ".join(f"{n:,}" for n in decision["checkpoints"]) + " trials")
    rows = {row["policy"]: row for row in report["policies"]}
    colors = {"meets": "green", "fails": "red", "undecided": "yellow"}
    for name, verdict in decision["policies"].items():
        row = rows[name]
        shown = verdict["verdict"]
        line = (f"  {name}: [{colors[shown]}]{shown.upper()}[/{colors[shown]}] after "
                f"{verdict['trials']:,} trials")
        if shown == "meets":
            line += f"; p95 connect time {seconds(row['p95_connect_time'])}"
        out.print(line)
    survivors = [name for name, v in decision["policies"].items() if v["verdict"] == "meets"]
    out.print("survivors: " + (", ".join(survivors) if survivors else "none"))


# --- --plot (the figure itself is sim.plots.sweep_figure) --------------------------------
def _vary_points(path: Path, grid: Any) -> range:
    """The indices of the grid's [vary] points in ``grid.policies`` (they come first, after
    the baseline when ``load_grid`` added it)."""
    # why: lazy, so `rassim --help` and the other commands start without it
    from sim.studies.grid import read_toml

    if not grid.varied:
        return range(0)
    data, _ = read_toml(path, "grid")
    count = math.prod(len(data["vary"][name]) for name in grid.varied)
    start = 1 if grid.baseline_added else 0
    return range(start, start + count)
