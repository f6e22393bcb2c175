"""``rassim real``: run a scenario on the real stack and pair it with the simulation.

Exit 0 when every ``[expect_real]`` bound is demonstrated (or there is none), 1 when one is
not or the run stopped early (a daemon died), 2 on bad input: a scenario the testbed cannot
express, a scale too fast for this machine's timers, or missing prerequisites (the message
names the install command). The testbed is torn down on every path (``sim.real.bed``).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from pathlib import Path
from typing import Any

from sim.commands.common import EXIT_FAILED, EXIT_OK, BadInput, check_count

__all__ = ["register"]

DEFAULT_TRIALS = 100
DEFAULT_SCALE = 10.0
DEFAULT_CLOCK = "1999-03-12T10:00:00"


def register(commands: Any) -> None:
    real = commands.add_parser(
        "real", help="run a scenario against real nmbd/smbd and pair it with the simulation",
        description="Run the unchanged sender against real Samba daemons (nmbd as WINS, smbd "
        "serving the share) through a user-space wire in private network namespaces, with "
        "every timer divided by the scale, trial by trial on the same world draws as "
        "`rassim run`, and print real against simulated. Needs root, /dev/net/tun, Samba and "
        "the `real` extra.")
    real.add_argument("file", type=Path, help="scenario file (.toml)")
    real.add_argument("--trials", type=int, help=f"real trials (default: [expect_real] "
                      f"trials, else {DEFAULT_TRIALS})")
    real.add_argument("--scale", type=float, help="time scale k: real seconds = model / k "
                      "(default: [expect_real] scale, else 10)")
    real.add_argument("--seed", type=int, help="run seed (default: [expect_real] seed, else "
                      "the scenario's)")
    real.add_argument("--out", type=Path, help="write real and simulated rows side by side "
                      "(.csv)")
    real.add_argument("--log", type=Path, metavar="FILE", help="write the sender's "
                      "Sender.log lines of the REAL trials to FILE, stamped as `rassim replay "
                      "--format log --clock` stamps them (for `rassim fit`)")
    real.add_argument("--clock", metavar="YYYY-MM-DDTHH:MM:SS", default=DEFAULT_CLOCK,
                      help=f"wall-clock time of the log's first trial (default {DEFAULT_CLOCK})")
    real.add_argument("--json", action="store_true", help="print one JSON object")
    real.add_argument("--no-skip", action="store_true", help="really wait out idle stretches "
                      "(link down, nothing in flight) instead of skipping them")
    real.set_defaults(handler=_cmd_real)


def _cmd_real(args: argparse.Namespace) -> int:
    # why: lazy, so `rassim --help` and the other commands start without it
    from sim.real.bed import Testbed, Unavailable, preflight
    from sim.real.run import check_scale, run_real
    from sim.real.world import expressible
    from sim.report.atomic import atomic_path, check_writable
    from sim.scenario.loader import load_scenario
    from sim.scenario.schema import MAX_SEED
    from sim.trial.trial import run_trial

    check_count("trials", args.trials, 1, 100_000)
    check_count("seed", args.seed, 0, MAX_SEED)
    loaded = load_scenario(args.file)
    scenario, policy = loaded.scenario, loaded.policy
    expect = scenario.expect_real
    trials = args.trials or (expect.trials if expect and expect.trials else DEFAULT_TRIALS)
    scale = args.scale or (expect.scale if expect and expect.scale else DEFAULT_SCALE)
    seed = args.seed if args.seed is not None else (
        expect.seed if expect and expect.seed is not None else scenario.seed)
    why = expressible(scenario)
    if why:
        raise BadInput(f"{args.file}: {why}")
    why = check_scale(scenario, policy, scale)
    if why:
        raise BadInput(f"{args.file}: {why}")
    if args.out is not None:
        if args.out.suffix != ".csv":
            raise BadInput(f"--out: {args.out}: write the rows to a .csv file")
        check_writable(args.out, "out")
    log = _LogWriter(args, scenario) if args.log is not None else None
    try:
        preflight()
    except Unavailable as error:
        raise BadInput(f"rassim real: {error}") from None

    progress = _Progress(trials, quiet=args.json)
    with Testbed(scenario.sender.server, scenario.sender.share) as bed:
        try:
            run = run_real(scenario, policy, trials=trials, seed=seed, scale=scale, bed=bed,
                           on_row=progress.step, skip_idle=not args.no_skip,
                           on_trial=log.add if log is not None else None)
            dead = bed.dead_daemon()
        finally:
            progress.done()
    if dead and not run.stopped:
        run.stopped = dead
    sim_rows = [run_trial(scenario, policy, seed, row.trial) for row in run.rows]
    # why: lazy, so `rassim --help` and the other commands start without it
    from sim.real.compare import compare

    comparison = compare(sim_rows, run.rows)
    verdicts = _verdicts(expect, comparison) if expect else []
    if args.out is not None:
        with atomic_path(args.out) as tmp:
            _write_rows(tmp, sim_rows, run.rows, complete=run.stopped is None)
    if log is not None:
        log.write()
    if args.json:
        print(json.dumps(_as_json(args, scenario.name, seed, scale, run, comparison, verdicts),
                         default=str))
    else:
        _print(args, scenario.name, seed, scale, run, comparison, verdicts)
    if run.stopped or not all(v.passed for v in verdicts):
        return EXIT_FAILED
    return EXIT_OK


class _LogWriter:
    """``--log``: each real trial's Sender.log lines, stamped on one clock (rule 3 of
    ``sim.report.sms_log``: trials follow each other an hour apart), written at the end
    (atomically) for the trials that ran, even when the run stopped early."""

    def __init__(self, args: argparse.Namespace, scenario: Any) -> None:
        # why: lazy, so `rassim --help` and the other commands start without it
        from datetime import datetime

        from sim.report.atomic import check_writable
        from sim.report.sms_log import component_for

        check_writable(args.log, "log")
        try:
            self.clock = datetime.fromisoformat(args.clock).replace(tzinfo=None)
        except ValueError:
            raise BadInput(f"--clock {args.clock}: not a date and time; write e.g. "
                           "1999-03-12T10:00:00") from None
        self.path: Path = args.log
        self.server, self.site = scenario.sender.server, scenario.sender.site
        self.component = component_for(scenario.profile)
        self.offset = 0.0
        self.lines: list[str] = []

    def add(self, _trial: int, events: list[Any]) -> None:
        # why: lazy, so `rassim --help` and the other commands start without it
        from sim.report.render import sender_log
        from sim.report.sms_log import stamp

        lines = sender_log(events, server=self.server, site=self.site)
        stamped, self.offset = stamp(lines, clock=self.clock, offset=self.offset,
                                     component=self.component, thread=0x1A4)
        self.lines.extend(stamped)

    def write(self) -> None:
        # why: lazy, so `rassim --help` and the other commands start without it
        from sim.report.atomic import atomic_path

        with atomic_path(self.path) as tmp:
            tmp.write_text("".join(line + "\n" for line in self.lines), encoding="utf-8")


class _Progress:
    """A progress bar on stderr at a terminal; silent otherwise."""

    def __init__(self, total: int, quiet: bool) -> None:
        self._bar: Any = None
        if quiet or not sys.stderr.isatty():
            return
        # why: lazy, so `rassim --help` and the other commands start without it
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

        self._bar = Progress("real trials", BarColumn(), MofNCompleteColumn(),
                             TimeRemainingColumn(), console=Console(stderr=True),
                             transient=True)
        self._bar.start()
        self._task = self._bar.add_task("real", total=total)

    def step(self, _: object) -> None:
        if self._bar is not None:
            self._bar.advance(self._task)

    def done(self) -> None:
        if self._bar is not None:
            self._bar.stop()


def _abs_interval(low: float, high: float) -> tuple[float, float]:
    """The interval of |x| when x lies in [low, high]."""
    if low >= 0:
        return low, high
    if high <= 0:
        return -high, -low
    return 0.0, max(-low, high)


def _verdicts(expect: Any, comparison: Any) -> list[Any]:
    # why: lazy, so `rassim --help` and the other commands start without it
    from sim.check.expect import Verdict, judge

    out = []
    n = comparison.n
    for bound in expect.agreement or ():
        estimate, low, high = comparison.agreement
        out.append(Verdict("agreement", bound, None if math.isnan(estimate) else estimate,
                           low, high, n, judge(bound, low, high)))
    for bound in expect.rate_diff or ():
        for rate in comparison.rates:
            low, high = _abs_interval(rate.low, rate.high)
            out.append(Verdict(f"|rate_diff {rate.key}|", bound, abs(rate.diff), low, high, n,
                               judge(bound, low, high)))
    for bound in expect.connect_diff or ():
        low, high = _abs_interval(comparison.connect_low, comparison.connect_high)
        estimate = None if math.isnan(comparison.connect_mean) else abs(comparison.connect_mean)
        out.append(Verdict("|connect_diff|", bound, estimate, low, high, comparison.connect_n,
                           judge(bound, low, high)))
    return out


def _fmt(x: float, digits: int = 3) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def _print(args: argparse.Namespace, name: str, seed: int, scale: float, run: Any,
           comparison: Any, verdicts: list[Any]) -> None:
    c = comparison
    estimate, low, high = c.agreement
    print(f"{name} · real stack (nmbd + smbd via the wire) vs simulation · seed {seed} · "
          f"scale {scale:g} · {len(run.rows)} real trials (bed up in {run.setup_seconds:.2f}s)")
    if run.stopped:
        print(f"STOPPED EARLY after {len(run.rows)} trials: {run.stopped}")
    if c.errors:
        print(f"{c.errors} real trial(s) ended in a failure with no Win32 code (left out):")
        for row in run.rows:
            if row.error:
                print(f"  trial {row.trial}: {row.error}")
    print(f"paired agreement {c.agree}/{c.n} = {_fmt(estimate, 4)} "
          f"(95% Wilson {_fmt(low, 4)}-{_fmt(high, 4)})")
    print(f"discordant: sim connected/real failed b = {c.b}, sim failed/real connected "
          f"c = {c.c}, both failed with other codes d = {c.d}; exact McNemar p = "
          f"{c.mcnemar_p:.3g}")
    print("rate         sim    real    b    c   real-sim  95% interval (paired, Newcombe)")
    for rate in c.rates:
        print(f"{rate.key:<10} {rate.sim:>5} {rate.real:>7} {rate.b:>4} {rate.c:>4}   "
              f"{rate.diff:+.4f}  [{rate.low:+.4f}, {rate.high:+.4f}]")
    if c.connect_n:
        print(f"time to connect, real - sim (both connected, n = {c.connect_n}): mean "
              f"{c.connect_mean:+.3f}s (95% {c.connect_low:+.3f}s to {c.connect_high:+.3f}s)")
    for s, r in c.discordant:
        lags = ", ".join(f"{x:.3f}s" for x in r.lags) or "-"
        dials = ", ".join(f"{x:.3f}s" for x in r.dial_seconds) or "-"
        print(f"  trial {r.trial}: sim {s.outcome} {s.code} {list(s.codes)} | real {r.outcome} "
              f"{r.code} {list(r.codes)}; lag {lags}; dials {dials}; nearest timing boundary "
              f"{_fmt(r.margin)}s")
    counters = ", ".join(f"{k} {v}" for k, v in sorted(run.counters.items()))
    print(f"wire: {counters}")
    for verdict in verdicts:
        print(f"{'PASS' if verdict.passed else 'FAIL'} {verdict.describe()}")


def _as_json(args: argparse.Namespace, name: str, seed: int, scale: float, run: Any,
             comparison: Any, verdicts: list[Any]) -> dict[str, Any]:
    c = comparison
    estimate, low, high = c.agreement
    return {
        "scenario": name, "file": str(args.file), "seed": seed, "scale": scale,
        "trials": len(run.rows), "stopped": run.stopped, "unmapped": c.errors,
        "agreement": {"agree": c.agree, "n": c.n, "estimate": estimate, "low": low,
                      "high": high},
        "discordant": {"b": c.b, "c": c.c, "d": c.d, "mcnemar_p": c.mcnemar_p,
                       "trials": [{"trial": r.trial, "sim": [s.outcome, s.code],
                                   "real": [r.outcome, r.code], "lags": r.lags,
                                   "dial_seconds": r.dial_seconds, "margin": r.margin}
                                  for s, r in c.discordant]},
        "rates": [rate.__dict__ if hasattr(rate, "__dict__") else
                  {k: getattr(rate, k) for k in rate.__slots__} for rate in c.rates],
        "connect_diff": {"n": c.connect_n, "mean": c.connect_mean, "low": c.connect_low,
                         "high": c.connect_high},
        "wire": run.counters,
        "verdicts": [{"statistic": v.statistic, "bound": v.bound.text, "estimate": v.estimate,
                      "low": v.low, "high": v.high, "status": v.status} for v in verdicts],
    }


def _write_rows(path: Path, sim_rows: list[Any], real_rows: list[Any], complete: bool) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["trial", "sim_outcome", "sim_code", "sim_codes", "sim_connect_time",
                      "real_outcome", "real_code", "real_codes", "real_connect_time", "lags",
                      "dial_seconds", "margin", "faults", "error", "run_complete"])
        for s, r in zip(sim_rows, real_rows, strict=True):
            out.writerow([r.trial, s.outcome, s.code, " ".join(map(str, s.codes)),
                          s.connect_time, r.outcome, r.code, " ".join(map(str, r.codes)),
                          r.connect_time, " ".join(f"{x:.6f}" for x in r.lags),
                          " ".join(f"{x:.6f}" for x in r.dial_seconds), r.margin,
                          " ".join(r.faults), r.error or "", complete])
