"""``rassim sweep``: every policy of a grid on the same trials, paired against a baseline.

Also home of the execution options that ``sweep`` and ``tune`` share (``--workers``,
``--dask``) and of the small formatting helpers their tables use.
"""

from __future__ import annotations

import argparse
import json
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

__all__ = ["add_execution_options", "fmt_pct", "fmt_secs", "open_executor_for", "register"]


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
    sweep.add_argument("--max-trials", type=int, default=100_000,
                       help="with --precision: stop here even if the precision is not reached "
                       "(default: 100,000)")
    sweep.add_argument("--min-trials", type=int, default=1000,
                       help="with --precision: the first batch (default: 1,000)")
    sweep.add_argument("--seed", type=int, help="run seed (default: the scenario's)")
    sweep.add_argument("--baseline", help="the policy others are compared with: a preset or a "
                       "grid policy's name (default: the grid's, else the scenario's policy)")
    add_execution_options(sweep)
    sweep.add_argument("--json", action="store_true", help="print one JSON object")
    sweep.add_argument("--out", type=Path, help="write the table (.csv or .parquet)")
    sweep.add_argument("--plot", type=Path, metavar="FILE.png",
                       help="draw the table: success rate, error 53 and the paired difference "
                       "to the baseline per policy, and the rates over the varied fields "
                       "(.png, .svg or .pdf; needs rassim[plot])")
    sweep.set_defaults(handler=_cmd_sweep)


def add_execution_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--workers", type=int,
                        help="local worker processes (default: all cores)")
    parser.add_argument("--dask", metavar="ADDRESS",
                        help="run on the Dask scheduler at ADDRESS (e.g. tcp://host:8786) "
                        "instead; results are identical")


def open_executor_for(args: argparse.Namespace) -> Any:
    """The executor ``--workers``/``--dask`` ask for; setup problems are bad input."""
    from sim.run.executors import ExecutorError, open_executor

    check_count("workers", args.workers, 1, 1024)
    if args.dask is not None and args.workers is not None:
        raise BadInput("--workers and --dask: give one; a Dask cluster has its own workers")
    try:
        return open_executor(args.workers, args.dask)
    except ExecutorError as error:
        raise BadInput(str(error)) from None


def _cmd_sweep(args: argparse.Namespace) -> int:
    from sim.report.output import check_output_path
    from sim.scenario.loader import load_scenario
    from sim.scenario.schema import MAX_SEED, MAX_TRIALS
    from sim.studies.grid import load_grid
    from sim.studies.sweep import run_sweep, sweep_report, write_rows

    check_count("trials", args.trials, 1, MAX_TRIALS)
    check_count("seed", args.seed, 0, MAX_SEED)
    check_count("max-trials", args.max_trials, 1, MAX_TRIALS)
    check_count("min-trials", args.min_trials, 1, MAX_TRIALS)
    if args.precision is not None and not 0 < args.precision < 0.5:
        raise BadInput(f"--precision: must be a half-width between 0 and 0.5 (e.g. 0.002 for "
                       f"0.2 percentage points), got {args.precision}")
    loaded = load_scenario(args.file)
    grid = load_grid(args.grid, loaded.policy, baseline=args.baseline)
    if args.out is not None:
        check_output_path(args.out)
    if args.plot is not None:
        from sim.plots import check_plot_path, require_matplotlib

        check_plot_path(args.plot)
        require_matplotlib("--plot")
    points = _vary_points(args.grid, grid)
    scenario = loaded.scenario
    seed = scenario.seed if args.seed is None else args.seed
    trials = None if args.precision is not None else (args.trials or scenario.trials)
    provenance = {"scenario": scenario.name, "file": str(args.file),
                  "scenario_sha256": loaded.sha256, "version": __version__,
                  "senders": scenario.fleet.senders if scenario.fleet is not None else 1}
    count = len(grid.policies)
    with open_executor_for(args) as executor:
        bar = None if args.json else progress_bar((trials or args.min_trials) * count)
        if bar is None:
            result = run_sweep(scenario, grid, seed=seed, executor=executor, trials=trials,
                               precision=args.precision, max_trials=args.max_trials,
                               first_batch=args.min_trials)
        else:
            with bar:
                task = bar.add_task("policy-trials", total=(trials or args.min_trials) * count)
                result = run_sweep(
                    scenario, grid, seed=seed, executor=executor, trials=trials,
                    precision=args.precision, max_trials=args.max_trials,
                    first_batch=args.min_trials,
                    on_progress=lambda n: bar.advance(task, n),
                    on_batch=lambda end, _: bar.update(task, total=end * count))
        where = executor.describe()
    report = sweep_report(result, provenance)
    if args.out is not None:
        write_rows(args.out, report["policies"],
                   {k: v for k, v in report.items() if k != "policies"})
    plotted = False
    if args.plot is not None and not result.interrupted and report["trials"] > 0:
        from sim.plots import save

        save(sweep_figure(report, grid.varied, points), args.plot, option="--plot")
        plotted = True
    if args.json:
        print(json.dumps(report, indent=2, allow_nan=False))
    else:
        _print_table(report, args, result.elapsed, where, plotted)
    if args.plot is not None and not plotted:
        print(f"--plot {args.plot}: not written, the sweep was interrupted", file=sys.stderr)
    return EXIT_INTERRUPTED if result.interrupted else EXIT_OK


# --- shared output helpers ----------------------------------------------------------------
def fmt_pct(x: float | None, digits: int = 2) -> str:
    return "-" if x is None else f"{100 * x:.{digits}f}%"


def fmt_secs(x: float | None) -> str:
    return "-" if x is None else f"{x:.1f}s"


def _pp(x: float) -> str:
    return f"{100 * x:+.2f}"


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


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _print_table(report: dict[str, Any], args: argparse.Namespace, elapsed: float,
                 where: str, plotted: bool = False) -> None:
    out = console()
    rows = report["policies"]
    out.print(f"[bold]{report['scenario']}[/bold] ({args.file}) · grid {report['grid']}")
    out.print(f"seed {report['seed']} · {report['trials']:,} trials per policy on the same "
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
            diff = _pp(row["diff"])
            diff_ci = f"[{_pp(row['diff_low'])}, {_pp(row['diff_high'])}]"
            if row["diff_low"] > 0:
                diff = f"[green]{diff}[/green]"
            elif row["diff_high"] < 0:
                diff = f"[red]{diff}[/red]"
        success = (fmt_pct(row["success_rate"]),
                   f"[{fmt_pct(row['success_rate_low'])}, {fmt_pct(row['success_rate_high'])}]")
        times = (fmt_secs(row["p50_connect_time"]), fmt_secs(row["p95_connect_time"]))
        cells: tuple[str, ...]
        if fleet:
            cells = (fmt_pct(row["sender_success_rate"]), *success, *times,
                     _number(row["work"]), fmt_pct(row["busy_rate"]),
                     fmt_pct(row["port_utilization"]))
        else:
            cells = (*success, fmt_pct(row["rate_53"]), *times, _number(row["dials"]),
                     fmt_secs(row["line_time"]))
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


# --- --plot -------------------------------------------------------------------------------
#: Grid fields a plot can put on an axis (numbers); jitter and the code sets cannot.
_NUMERIC_FIELDS = ("attempts_per_dial", "settle", "initial_wait", "backoff_base", "max_wait",
                   "deadline", "redial_after", "max_dials", "redial_wait")
#: Past this many policies the per-policy panels show the baseline and the best ones only.
_MAX_ROWS = 40


def _vary_points(path: Path, grid: Any) -> range:
    """The indices of the grid's [vary] points in ``grid.policies`` (they come first, after
    the baseline when ``load_grid`` added it)."""
    import math

    from sim.studies.grid import read_toml

    if not grid.varied:
        return range(0)
    data, _ = read_toml(path, "grid")
    count = math.prod(len(data["vary"][name]) for name in grid.varied)
    start = 1 if grid.baseline_added else 0
    return range(start, start + count)


def sweep_figure(report: dict[str, Any], varied: tuple[str, ...] = (),
                 points: range = range(0)) -> Any:
    """The picture of a sweep report: per policy, the success rate and the error 53 rate
    with their 95% intervals and the paired difference to the baseline; below, when the
    grid varies one or two numeric fields, the success rate over them."""
    import pandas as pd
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    rows = report["policies"]
    shown = list(range(len(rows)))
    if len(rows) > _MAX_ROWS:
        best = sorted((i for i in shown if not rows[i]["baseline"]),
                      key=lambda i: -(rows[i]["success_rate"] or 0))[:_MAX_ROWS - 1]
        shown = sorted({*best, *(i for i in shown if rows[i]["baseline"])})
    fields = [f for f in varied if f in _NUMERIC_FIELDS]
    frame = pd.DataFrame([rows[i] for i in points])
    if len(fields) != len(varied) or len(fields) > 2 or frame.empty:
        fields = []  # jitter, code sets or 3+ fields: no axis to put them on
    else:
        frame = frame.dropna(subset=[*fields, "success_rate"])
        fields = fields if len(frame) > 1 else []
    height = 1.6 + 0.27 * len(shown)
    fig = Figure(figsize=(12.5, height + (4.3 if fields else 0)), layout="constrained")
    FigureCanvasAgg(fig)
    if fields:
        top, bottom = fig.subfigures(2, 1, height_ratios=[height, 4.3])  # type: ignore[misc]
    else:
        top, bottom = fig, None
    _policy_panels(top, report, shown, len(rows))
    if bottom is not None:
        _varied_panels(bottom, frame, fields, rows[[r["baseline"] for r in rows].index(True)])
    fig.suptitle(f"{report['scenario']} · sweep {Path(report['grid']).name} · "
                 f"{report['trials']:,} trials per policy on the same seeds · seed "
                 f"{report['seed']}", fontsize=11)
    return fig


def _policy_panels(where: Any, report: dict[str, Any], shown: list[int], total: int) -> None:
    from matplotlib.ticker import FuncFormatter

    rows = [report["policies"][i] for i in shown]
    axes = where.subplots(1, 3, sharey=True, width_ratios=[1.25, 1, 1.1])
    ys = list(range(len(rows)))[::-1]  # the first policy at the top, as in the table
    names = [r["policy"] + (" (baseline)" if r["baseline"] else "") for r in rows]

    def dots(ax: Any, metric: str, color: str, scale: float = 1.0) -> None:
        for y, row in zip(ys, rows, strict=True):
            value = row[metric]
            if value is None:
                continue
            low, high = row[f"{metric}_low"], row[f"{metric}_high"]
            ax.errorbar([scale * value], [y], xerr=[[scale * (value - low)],
                                                    [scale * (high - value)]],
                        fmt="o", color=color, markersize=5, capsize=2.5, linewidth=1.3)

    success, fifty_three, delta = axes
    dots(success, "success_rate", "#2e7d32", 100)
    success.set_xlabel("success rate (% of trials)\ndot: estimate; bar: 95% interval")
    success.set_title("success rate")
    dots(fifty_three, "rate_53", "#c62828", 100)
    fifty_three.set_xlabel("error 53 rate (% of trials)\ndot: estimate; bar: 95% interval")
    fifty_three.set_title("error 53 (the KB's failure)")
    fifty_three.set_xlim(left=0)
    for y, row in zip(ys, rows, strict=True):
        if row["baseline"]:
            delta.annotate("baseline", (0, y), xytext=(4, 0), textcoords="offset points",
                           va="center", fontsize=8, color="#555555")
            continue
        if row["diff"] is None:
            continue
        better, worse = row["diff_low"] > 0, row["diff_high"] < 0
        color = "#2e7d32" if better else "#c62828" if worse else "#757575"
        delta.errorbar([100 * row["diff"]], [y],
                       xerr=[[100 * (row["diff"] - row["diff_low"])],
                             [100 * (row["diff_high"] - row["diff"])]],
                       fmt="o", color=color, markersize=5, capsize=2.5, linewidth=1.3)
    delta.axvline(0, color="#555555", linewidth=0.8)
    delta.set_xlabel(f"Δ success vs {report['baseline']} (percentage points)\n"
                     "paired 95% interval; green: better")
    delta.set_title("paired difference to the baseline")
    for ax in axes:
        ax.grid(axis="x", color="#eeeeee")
        ax.set_axisbelow(True)
        ax.set_ylim(-0.7, len(rows) - 0.3)
    percent = FuncFormatter(lambda v, _pos: f"{v:g}%")
    success.xaxis.set_major_formatter(percent)
    fifty_three.xaxis.set_major_formatter(percent)
    delta.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:+g}" if v else "0"))
    success.set_yticks(ys, names, fontsize=8)
    for label, row in zip(success.get_yticklabels(), rows, strict=True):
        if row["baseline"]:
            label.set_fontweight("bold")
    if len(rows) < total:
        success.set_title(f"success rate (best {len(rows) - 1} of {total} policies "
                          "and the baseline)")


def _varied_panels(where: Any, frame: Any, fields: list[str], baseline: dict[str, Any]
                   ) -> None:
    from sim.plots import rate_curves, success_heatmap, success_vs_budget

    if len(fields) == 1:
        ax = where.subplots(1, 1)
        success_vs_budget(frame, fields[0], by=None, ax=ax)
    else:
        left, right = where.subplots(1, 2, width_ratios=[1.15, 1])
        x, by = fields
        if frame[x].nunique() < frame[by].nunique():
            x, by = by, x  # more points along the axis, fewer curves
        rate_curves(frame, x, by=by, ax=left,
                    title="success rate over the grid (95% band)")
        ax = left
        if frame.duplicated([x, by]).any():
            right.set_axis_off()
        else:
            success_heatmap(frame, x, by, ax=right, title="success rate over the grid")
    # The grid's own values as ticks (2, 3, 4, 6 maps; 2, 5, 10 s), not 2.5 maps.
    values = sorted(frame[x if len(fields) == 2 else fields[0]].unique())
    if len(values) <= 12:
        ax.set_xticks(values, [f"{v:g}" for v in values])
    ax.set_title(ax.get_title() + f" · baseline {baseline['policy']}: "
                 f"{100 * baseline['success_rate']:.1f}%", fontsize=10)
