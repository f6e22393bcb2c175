"""``rassim replay``: one trial's timeline, Sender.log lines or JSON lines."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from sim.commands.common import EXIT_OK, BadInput, check_count
from sim.report.terminal import inert

__all__ = ["register"]


def register(commands: Any) -> None:
    replay = commands.add_parser(
        "replay", help="print one trial's timeline",
        description="Run trial I of FILE again with full tracing and print its events. A "
        "replay equals the trial as it ran inside `rassim run`: trial I depends only on the "
        "scenario, the policy, the seed and I.")
    replay.add_argument("file", type=Path, metavar="FILE",
                        help="scenario file (.toml) whose trial to replay, e.g. the one a "
                        "`rassim run` or `rassim check` line names")
    replay.add_argument("--seed", type=int, help="run seed (default: the scenario's)")
    which = replay.add_mutually_exclusive_group(required=True)
    which.add_argument("--trial", type=int, metavar="I", help="trial index (0 is the first)")
    which.add_argument("--trials", metavar="A-B",
                       help="with --format log or raslog: the log of trials A to B, one "
                       "after the other (for `rassim fit` round trips)")
    replay.add_argument("--policy", help="use this policy preset instead of the scenario's")
    replay.add_argument("--format", choices=("timeline", "log", "raslog", "jsonl"),
                        default="timeline",
                        help="timeline (every event), log (Sender.log lines), raslog (the RAS "
                        "connection log: RasDial states, for `rassim fit --ras-log`) or jsonl")
    replay.add_argument("--clock", metavar="YYYY-MM-DDTHH:MM:SS",
                        help="with --format log or raslog: stamp each line as SMS 2.0 does "
                        "($$<component><date time><thread>), t = 0 at this wall-clock time")
    replay.add_argument("--plot", type=Path, metavar="FILE.png",
                        help="also draw the trial's timeline to this picture (.png, .svg or "
                        ".pdf; needs rassim[plot])")
    replay.set_defaults(handler=_cmd_replay)


def _cmd_replay(args: argparse.Namespace) -> int:
    # why: lazy, so `rassim --help` and the other commands start without it
    from sender.codes import symbol_of
    from sim.report.render import jsonl, sender_log, timeline
    from sim.scenario.loader import load_scenario
    from sim.scenario.schema import MAX_SEED, MAX_TRIALS
    from sim.trial.trial import run_trial
    from sim.world.trace import Recorder

    check_count("seed", args.seed, 0, MAX_SEED)
    check_count("trial", args.trial, 0, MAX_TRIALS - 1)
    if args.trials is not None or args.clock is not None:
        return _logs(args)
    if args.plot is not None:
        _check_plot(args.plot)
    loaded = load_scenario(args.file, policy=args.policy)
    scenario = loaded.scenario
    seed = scenario.seed if args.seed is None else args.seed
    recorder = Recorder()
    result = run_trial(scenario, loaded.policy, seed, args.trial, recorder)
    if args.plot is not None:
        _plot(args.plot, recorder, scenario, loaded.policy.name, seed, args.trial)
        # On stderr: stdout is the trace alone (jsonl and log output are parsed).
        print(f"plot written to {args.plot}", file=sys.stderr)
    if args.format == "jsonl":
        _say("\n".join(jsonl(recorder.events)))
        return EXIT_OK
    if args.format == "raslog":
        # why: lazy, so `rassim --help` and the other commands start without it
        from sim.report.ras_log import ras_log

        if scenario.fleet is not None:
            raise BadInput("--format raslog writes one sender's RAS log; this scenario is a "
                           "fleet (use --format timeline)")
        _say("\n".join(ras_log(recorder.events, entry=scenario.sender.entry)))
        return EXIT_OK
    if args.format == "log":
        if scenario.fleet is None:
            _say("\n".join(sender_log(recorder.events, server=scenario.sender.server,
                                       site=scenario.sender.site)))
            return EXIT_OK
        for k in range(scenario.fleet.senders):  # one Sender.log per site of the fleet
            mine = [e for e in recorder.events if e.get("sender") == k]
            _say(f"--- sender {k} (site {scenario.sender.site}-{k}) ---")
            _say("\n".join(sender_log(mine, server=scenario.sender.server,
                                       site=f"{scenario.sender.site}-{k}")))
        return EXIT_OK
    verdict = ("connected" if result.connected
               else f"gave up ({result.reason}) with {result.code} {symbol_of(result.code)}")
    if result.senders > 1:
        verdict = (f"{result.senders_connected} of {result.senders} senders connected"
                   + ("" if result.connected else f"; most gave up ({result.reason}) with "
                      f"{result.code} {symbol_of(result.code)}")
                   + f"; {result.busy_signals} busy signals")
    _say(f"{scenario.name} · policy {loaded.policy.name} · seed {seed} · trial {args.trial}: "
          f"{verdict} at {result.end_time:.3f}s; attempts {result.attempts}, dials "
          f"{result.dials}, line time {result.line_time:.3f}s"
          + (f"; faults touched: {', '.join(result.faults)}" if result.faults else ""))
    _say("\n".join(timeline(recorder.events)))
    return EXIT_OK


def _logs(args: argparse.Namespace) -> int:
    """``--trials`` / ``--clock``: many trials' Sender.log, optionally with SMS's stamps."""
    # why: lazy, so `rassim --help` and the other commands start without it
    from datetime import datetime

    from sim.report.ras_log import RAS_COMPONENT, ras_log
    from sim.report.render import sender_log
    from sim.report.sms_log import component_for, stamp, trial_header
    from sim.scenario.loader import load_scenario
    from sim.scenario.schema import MAX_TRIALS
    from sim.trial.trial import run_trial
    from sim.world.trace import Recorder

    if args.format not in ("log", "raslog"):
        raise BadInput("--trials and --clock go with --format log or raslog; add --format log")
    if args.plot is not None:
        raise BadInput("--plot draws one trial; use --trial I instead of --trials")
    first = last = args.trial
    if args.trials is not None:
        low, dash, high = args.trials.partition("-")
        if not (low.isdigit() and (not dash or high.isdigit())):
            raise BadInput(f"--trials {args.trials}: write a range such as 0-999 (or one "
                           "index)")
        first, last = int(low), int(high or low)
        if last < first:
            raise BadInput(f"--trials {args.trials}: the range is empty; write A-B with A <= B")
        check_count("trials", last, 0, MAX_TRIALS - 1)
    clock = None
    if args.clock is not None:
        try:
            clock = datetime.fromisoformat(args.clock).replace(tzinfo=None)
        except ValueError:
            raise BadInput(f"--clock {args.clock}: not a date and time; write e.g. "
                           "1999-03-12T10:00:00") from None
    loaded = load_scenario(args.file, policy=args.policy)
    scenario = loaded.scenario
    if scenario.fleet is not None:
        raise BadInput("--trials and --clock write one site's Sender.log; this scenario is a "
                       "fleet (use --trial I --format log for its per-site logs)")
    seed = scenario.seed if args.seed is None else args.seed
    component = (component_for(scenario.profile) if args.format == "log" else RAS_COMPONENT)
    offset = 0.0
    for trial in range(first, last + 1):
        recorder = Recorder()
        run_trial(scenario, loaded.policy, seed, trial, recorder)
        if args.format == "log":
            lines = sender_log(recorder.events, server=scenario.sender.server,
                               site=scenario.sender.site)
        else:
            lines = ras_log(recorder.events, entry=scenario.sender.entry)
        if clock is None:
            print(trial_header(trial))
        else:
            lines, offset = stamp(lines, clock=clock, offset=offset, component=component,
                                  thread=0x1A4)
        if lines:
            print("\n".join(lines))
    return EXIT_OK


def _check_plot(path: Path) -> None:
    """Before the trial runs: a bad path or a missing plot extra is bad input (exit 2)."""
    # why: sim.plots draws with the optional plot extra (matplotlib); only --plot needs it
    from sim.plots import check_plot_path, require_matplotlib

    check_plot_path(path)
    require_matplotlib("--plot")


def _plot(path: Path, recorder: Any, scenario: Any, policy: str, seed: int, trial: int) -> None:
    # why: sim.plots draws with the optional plot extra (matplotlib); only --plot needs it
    from sim.plots import fleet_timeline, save, timeline

    fleet = scenario.fleet
    if fleet is not None:  # the shared ports above one row per sender
        figure = fleet_timeline(recorder.events, scenario=scenario.name, policy=policy,
                                seed=seed, trial=trial, senders=fleet.senders,
                                ports=scenario.ras.ports, shared=fleet.share_ports,
                                start=scenario.sender.start)
    else:
        warmup = scenario.link.warmup
        figure = timeline(recorder.events, scenario=scenario.name, policy=policy, seed=seed,
                          trial=trial, warmup=(warmup.factor, warmup.decay))
    save(figure, path, option="--plot")


def _say(text: str = "") -> None:
    """``print``, with text from the scenario file made inert (``sim.report.terminal``)."""
    print("\n".join(inert(line) for line in text.split("\n")))
