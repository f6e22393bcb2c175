"""``rassim tune``: search a policy space with Optuna, racing candidates on shared seeds."""

from __future__ import annotations

import argparse
import json
import os
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
)
from sim.commands.sweep import add_execution_options, open_executor_for
from sim.commands.tables import Column, print_fitted
from sim.report.format import number, percent, seconds
from sim.report.terminal import terminal_safe
from sim.stats.policy_metrics import DIRECTIONS

__all__ = ["register"]


def register(commands: Any) -> None:
    tune = commands.add_parser(
        "tune", help="search a policy space for the best policy that meets requirements",
        description="Search the policy space in SPACE with Optuna (TPE). Each candidate runs "
        "on the same seeds and is raced: evaluated on doubling batches of trials and dropped "
        "once its 95% intervals show it cannot meet --require or cannot beat a finished "
        "candidate. The study is stored (SQLite next to the scenario by default), so running "
        "the same command again resumes it.")
    tune.add_argument("file", type=Path, help="scenario file (.toml)")
    tune.add_argument("--space", type=Path, required=True,
                      help="search space (.toml): [base] and [params] ranges or choices; see "
                      "tuning/connras-space.toml")
    tune.add_argument("--require", action="append", default=[], metavar="METRIC>=VALUE",
                      help="a requirement such as success_rate>=0.999, rate_53<=0.1%%, "
                      "p95_connect_time<=60s (repeatable)")
    tune.add_argument("--minimize", action="append", default=[], metavar="METRIC",
                      help="an objective: "
                      + ", ".join(m for m, d in DIRECTIONS.items() if d == "minimize")
                      + " (work and busy_rate for a fleet; repeatable: several give a "
                      "Pareto front)")
    tune.add_argument("--maximize", action="append", default=[], metavar="METRIC",
                      help="an objective to maximize: "
                      + ", ".join(m for m, d in DIRECTIONS.items() if d == "maximize")
                      + " (the last two for a fleet)")
    tune.add_argument("--n-trials", type=int, default=40,
                      help="candidates the study should have evaluated in total, counting "
                      "earlier runs (default: 40)")
    tune.add_argument("--min-trials", type=int, default=250,
                      help="trials in a candidate's first batch (default: 250)")
    tune.add_argument("--max-trials", type=int, default=4000,
                      help="trials a candidate that is never dropped runs (default: 4,000)")
    tune.add_argument("--seed", type=int, help="the seed every candidate runs on (default: the "
                      "scenario's)")
    tune.add_argument("--storage", help="Optuna storage URL (default: sqlite:///<scenario "
                      "dir>/<scenario stem>.tune.db)")
    tune.add_argument("--study-name", help="study name (default: the scenario's name and a "
                      "hash of these settings, so the same command resumes the same study)")
    add_execution_options(tune)
    tune.add_argument("--json", action="store_true", help="print one JSON object")
    tune.set_defaults(handler=_cmd_tune)


def _goals(args: argparse.Namespace) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    # why: lazy, so `rassim --help` and the other commands start without it
    from sim.studies.tune.goals import parse_objective, parse_requirement

    requirements = []
    for text in args.require:
        try:
            requirements.append(parse_requirement(text))
        except ValueError as error:
            raise BadInput(f"--require {text!r}: {error}") from None
    objectives = []
    for option, direction in (("minimize", "minimize"), ("maximize", "maximize")):
        for metric in getattr(args, option):
            try:
                objective = parse_objective(metric.strip(), direction)  # type: ignore[arg-type]
            except ValueError as error:
                raise BadInput(f"--{option} {metric}: {error}") from None
            if objective in objectives:
                raise BadInput(f"--{option} {metric}: given twice")
            objectives.append(objective)
    if not objectives:
        raise BadInput("tune: give what to optimise, e.g. --minimize p95_connect_time "
                       "(and bound the rest with --require success_rate>=0.999)")
    return tuple(requirements), tuple(objectives)


def _storage(args: argparse.Namespace) -> str:
    if args.storage is not None:
        url: str = args.storage
        if url.startswith("sqlite:///"):
            _check_sqlite_dir(Path(url.removeprefix("sqlite:///")), "--storage")
        return url
    path = args.file.resolve().with_suffix(".tune.db")
    _check_sqlite_dir(path, "the default study file")
    return f"sqlite:///{path}"


def _check_sqlite_dir(path: Path, what: str) -> None:
    parent = path.parent
    if not parent.is_dir():
        raise BadInput(f"{what} {path}: directory {parent} does not exist; create it first")
    if not os.access(parent, os.W_OK) and not (path.exists() and os.access(path, os.W_OK)):
        raise BadInput(f"{what} {path}: directory {parent} is not writable; give --storage "
                       "sqlite:///somewhere/else.db")


def _cmd_tune(args: argparse.Namespace) -> int:
    # why: lazy, so `rassim --help` and the other commands start without it
    from sim.scenario.loader import load_scenario
    from sim.scenario.schema import MAX_SEED, MAX_TRIALS
    from sim.studies.tune.space import load_space
    from sim.studies.tune.study import TuneSettings, tune

    check_count("n-trials", args.n_trials, 1, 100_000)
    check_count("min-trials", args.min_trials, 1, MAX_TRIALS)
    check_count("max-trials", args.max_trials, 1, MAX_TRIALS)
    check_count("seed", args.seed, 0, MAX_SEED)
    if args.min_trials > args.max_trials:
        raise BadInput(f"--min-trials ({args.min_trials}) must not exceed --max-trials "
                       f"({args.max_trials})")
    requirements, objectives = _goals(args)
    loaded = load_scenario(args.file)
    space = load_space(args.space, loaded.policy)
    space.check_work(loaded.scenario)  # every candidate's trials end (sim.scenario.limits)
    storage = _storage(args)
    scenario = loaded.scenario
    settings = TuneSettings(requirements, objectives, args.n_trials, args.min_trials,
                            args.max_trials,
                            scenario.seed if args.seed is None else args.seed, storage,
                            args.study_name)
    show = None if args.json or not sys.stderr.isatty() else _announce
    with open_executor_for(args) as executor:
        result = tune(scenario, loaded.sha256, space, settings, executor, on_candidate=show)
        where = executor.describe()
    report = _report(result, args, loaded, space, settings)
    if args.json:
        print(json.dumps(report, indent=2, allow_nan=False))
    else:
        _print(report, result.elapsed, where)
    if result.interrupted:
        return EXIT_INTERRUPTED
    return EXIT_OK if result.recommended is not None else EXIT_FAILED


def _announce(candidate: Any) -> None:
    verdict = ("done" if candidate.state == "complete" else f"dropped: {candidate.reason}")
    again = f" (as #{candidate.reused_from})" if candidate.reused_from is not None else ""
    rate = candidate.metrics["success_rate"].value if candidate.metrics else None
    print(f"#{candidate.number} {candidate.name}: {candidate.trials:,} trials, "
          f"success {percent(rate)}{again}; {verdict}", file=sys.stderr)


def _report(result: Any, args: argparse.Namespace, loaded: Any, space: Any,
            settings: Any) -> dict[str, Any]:
    # why: lazy, so `rassim --help` and the other commands start without it
    from sender.policy import PRESETS
    from sim.studies.tune.study import best_toml, ranked

    states = [c.state for c in result.candidates]
    best = result.recommended
    recommended = None
    if best is not None:
        prefer = space.base_label if space.base_label in PRESETS else None
        table = best_toml(best.policy, prefer)
        recommended = {
            **best.to_dict(),
            "requirements": {str(r): {"met": r.met(best.metrics[r.metric]),
                                      "confirmed": r.confirmed(best.metrics[r.metric])}
                             for r in settings.requirements},
            "toml": f"[sender]\npolicy = {table}",
        }
    return {
        "scenario": loaded.scenario.name, "file": str(args.file),
        "scenario_sha256": loaded.sha256, "version": __version__,
        "space": str(space.path), "seed": settings.seed,
        "study_name": result.study_name, "storage": result.storage,
        "requirements": [str(r) for r in settings.requirements],
        "objectives": [{"metric": o.metric, "direction": o.direction}
                       for o in settings.objectives],
        "n_trials": settings.n_trials, "min_trials": settings.min_trials,
        "max_trials": settings.max_trials,
        "finished": len(states), "completed": states.count("complete"),
        "pruned": states.count("pruned"), "interrupted": result.interrupted,
        "recommended": recommended,
        "front": [c.to_dict() for c in result.front],
        "leaderboard": [c.number for c in ranked(result.candidates, space, settings)[:10]],
        "candidates": [c.to_dict() for c in result.candidates],
    }


def _one(name: str, x: float | None, unit: bool = True) -> str:
    # why: lazy, so `rassim --help` and the other commands start without it
    from sim.stats.policy_metrics import RATE_METRICS, TIME_METRICS

    if x is None:
        return "-"
    if name in TIME_METRICS:
        return seconds(x, unit=unit)
    if name in RATE_METRICS:
        return percent(x, sign=unit)
    return number(x, 3)


def _metric(name: str, e: dict[str, Any]) -> str:
    return f"{_one(name, e['value'])} [{_one(name, e['low'])}, {_one(name, e['high'])}]"


def _compact(name: str, e: dict[str, Any]) -> str:
    return (f"{_one(name, e['value'])} [{_one(name, e['low'], False)}, "
            f"{_one(name, e['high'], False)}]")


def _print(report: dict[str, Any], elapsed: float, where: str) -> None:
    # Names come from files: inert on the terminal; the TOML to paste is printed unmarked.
    report = terminal_safe(report, keep=frozenset({"toml"}))
    out = console()
    goals = [f"{o['direction']} {o['metric']}" for o in report["objectives"]]
    out.print(f"[bold]{report['scenario']}[/bold] ({report['file']}) · space {report['space']}")
    out.print(f"study {report['study_name']} in {report['storage']}", soft_wrap=True)
    out.print(f"seed {report['seed']} · {report['finished']} of {report['n_trials']} candidates "
              f"finished ({report['completed']} completed, {report['pruned']} dropped) · "
              f"{report['min_trials']:,} to {report['max_trials']:,} trials each on the same "
              "seeds · rassim " + report["version"])
    out.print("goal: " + " · ".join(["require " + r for r in report["requirements"]] + goals))
    if report["interrupted"]:
        out.print("[yellow]warning:[/yellow] interrupted; run the same command again to resume")
    best = report["recommended"]
    metrics = [o["metric"] for o in report["objectives"]]
    required = [name for name in (best or {}).get("metrics", {})
                if any(text.startswith(name) for text in report["requirements"])]
    shown = list(dict.fromkeys(["success_rate", *required, *metrics, "rate_53",
                                "p95_connect_time", "line_time", "dials"]))
    if best is None:
        out.print("\n[bold red]no candidate met the requirements[/bold red]; widen the space, "
                  "raise --n-trials, or relax --require")
    else:
        out.print(f"\n[bold]recommended: #{best['number']} {best['name']}[/bold] "
                  f"({best['trials']:,} trials)")
        for name in shown:
            out.print(f"  {name:<19} {_metric(name, best['metrics'][name])}")
        for text, status in best["requirements"].items():
            note = ("met, and the whole 95% interval meets it" if status["confirmed"]
                    else "met by the estimate; the 95% interval still reaches past it "
                    "(raise --max-trials to confirm)")
            out.print(f"  require {text}: {note}")
        out.print("\npaste into a scenario:\n")
        out.print(best["toml"], markup=False, soft_wrap=True)  # pasted as is: never wrapped
    if report["front"]:
        front = report["front"]
        out.print()
        print_fitted(out, *_front_columns(front, metrics), title=front_title(len(front),
                                                                              len(metrics)))
    out.print(f"[dim]{elapsed:.1f}s on {where}[/dim]")


#: The front table shows this many candidates; --json has them all.
_FRONT_ROWS = 20


def front_title(size: int, objectives: int) -> str:
    """The front table's title, in agreement with the number of rows it shows."""
    if objectives > 1:
        what = (f"Pareto front: {size} feasible candidate{'s' if size > 1 else ''} no other "
                "beats on every objective")
    elif size == 1:
        what = "best feasible candidate"
    else:
        what = f"best feasible candidates: {size}, tied on the objective"
    if size > _FRONT_ROWS:
        what += f" (the first {_FRONT_ROWS} shown; --json lists all)"
    return what


def _front_columns(front: list[dict[str, Any]], metrics: list[str]
                   ) -> tuple[Column, list[list[Column]]]:
    shown = front[:_FRONT_ROWS]
    # The policy's name wraps, so that on a narrow console the figures are never cut.
    key = Column("# policy", [f"#{c['number']} {c['name']}" for c in shown], "left")
    groups = [[Column(name, [_compact(name, c["metrics"][name]) for c in shown])]
              for name in dict.fromkeys([*metrics, "success_rate", "line_time"])]
    return key, groups
