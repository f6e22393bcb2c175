"""``rassim fit``: a scenario fitted to a site's own Sender.log files."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from sim.commands.common import EXIT_OK, BadInput, check_count

__all__ = ["register", "require_calibrate"]


def register(commands: Any) -> None:
    fit = commands.add_parser("fit", help="fit the name-path lag to a site's Sender.log files")
    fit.add_argument("logs", nargs="+", type=Path, metavar="LOG",
                     help="Sender.log files of one site (SMS 2.0's form, or `rassim replay "
                     "--format log` output)")
    fit.add_argument("--scenario", type=Path, metavar="BASE.toml",
                     help="the site's scenario: its timers and link read the logs, and the "
                     "fitted file extends it (default: the sna profile's defaults)")
    fit.add_argument("--out", type=Path, required=True, metavar="SITE.toml",
                     help="write the fitted scenario here")
    fit.add_argument("--ras-log", type=Path, nargs="+", action="extend", default=[],
                     metavar="RASLOG",
                     help="RAS connection logs of the same site (RasDial states, as `rassim "
                     "replay --format raslog` writes): fits each dial phase's time and "
                     "failure rate; without them the dial is fitted from Sender.log as one "
                     "span and reported, not written")
    fit.add_argument("--resamples", type=int, default=200,
                     help="bootstrap resamples for the intervals (default 200)")
    fit.add_argument("--seed", type=int, default=0, help="seed of the bootstrap (default 0)")
    fit.set_defaults(handler=_cmd_fit)


def require_calibrate(option: str) -> None:
    """``BadInput`` with the install hint when scipy, SALib or lifelines is missing."""
    # why: lazy, so `rassim --help` and the other commands start without it
    import importlib.util

    missing = [name for name in ("scipy", "SALib", "lifelines")
               if importlib.util.find_spec(name) is None]
    if missing:
        raise BadInput(f"{option} needs {' and '.join(missing)}: pip install -e '.[calibrate]'")


def _cmd_fit(args: argparse.Namespace) -> int:
    # why: lazy, so `rassim --help` and the other commands start without it
    from sim.report.atomic import check_writable

    check_count("resamples", args.resamples, 20, 100_000)
    check_count("seed", args.seed, 0, 2**63 - 1)
    require_calibrate("rassim fit")
    out = check_writable(args.out, "--out", suffixes=(".toml",), kind="scenario")

    # why: lazy, so `rassim --help` and the other commands start without it
    from sim.scenario.loader import LoadedScenario, load_scenario
    from sim.scenario.schema import Scenario
    from sim.studies.fit.censor import allowance, censor
    from sim.studies.fit.fit import FitError, fit_lag
    from sim.studies.fit.logparse import LogError, parse_log
    from sim.studies.fit.write import file_sha256, scenario_text, write_scenario

    if args.scenario is not None:
        base: LoadedScenario | None = load_scenario(args.scenario)
        scenario = base.scenario if base is not None else None
    else:
        base = None
        # why: lazy, so `rassim --help` and the other commands start without it
        from sim.scenario.profiles import PROFILES

        scenario = Scenario.model_validate(PROFILES["sna"])
    assert scenario is not None
    # why: lazy, so `rassim --help` and the other commands start without it
    from sim.studies.fit.dial import fit_ras_dials, fit_sender_dials
    from sim.studies.fit.faults import screen
    from sim.studies.fit.raslog import parse_ras_log

    try:
        parsed = [parse_log(path) for path in args.logs]
        ras = [parse_ras_log(path) for path in args.ras_log]
    except LogError as error:
        raise BadInput(str(error)) from None
    forms = sorted({p.form for p in parsed})
    bounds = allowance(scenario)
    screened = screen([c for p in parsed for c in p.connections], bounds)
    censored = censor(screened.kept, bounds)
    try:
        lag = fit_lag(censored, resamples=args.resamples, seed=args.seed)
        if ras:
            dial = fit_ras_dials([d for r in ras for d in r.dials], scenario.ras,
                                 resamples=args.resamples, seed=args.seed)
        else:
            dial = fit_sender_dials([d for p in parsed for d in p.dials], scenario.ras,
                                    resamples=args.resamples, seed=args.seed)
    except FitError as error:
        raise BadInput(f"{', '.join(str(p) for p in args.logs)}: {error}") from None
    form_text = " and ".join({"sms": "SMS 2.0 (timestamped)",
                              "rassim": "rassim replay (virtual seconds)"}[f] for f in forms)
    logs = [(p.path, file_sha256(p.path)) for p in parsed]
    ras_logs = [(r.path, file_sha256(r.path)) for r in ras]
    name = f"{scenario.name}-fitted" if args.scenario is not None else "site-fitted"
    text = scenario_text(name=name, base=args.scenario, out=out, profile=scenario.profile,
                         logs=logs, lag=lag, log_form=form_text, dial=dial, ras_logs=ras_logs,
                         excluded=screened.lines())
    write_scenario(out, text)
    _report(parsed, form_text, censored, lag, bounds, out, screened, ras, dial)
    return EXIT_OK


def _report(parsed: Any, form: str, censored: Any, lag: Any, bounds: Any, out: Path,
            screened: Any, ras: Any, dial: Any) -> None:
    # why: lazy, so `rassim --help` and the other commands start without it
    from sim.studies.fit.write import duration_text

    print(f"read {len(parsed)} log file(s) in {form} form")
    for p in [*parsed, *ras]:
        unplaced = (f"; {p.unplaced} line(s) not placed, e.g. {p.unplaced_examples[0]}"
                    if p.unplaced else "; every line placed")
        counts = (f"{len(p.connections):,} connections, " if hasattr(p, "connections") else "")
        print(f"  {p.path}: {p.lines:,} lines, {counts}{len(p.dials):,} dials{unplaced}")
    for line in screened.lines():
        print(line)
    kinds = censored.kinds()
    print(f"name-path lag: {censored.used:,} connections bound it ({kinds['interval']:,} "
          f"two-sided, {kinds['left']:,} left-censored, {kinds['right']:,} right-censored); "
          f"{censored.uninformative:,} say nothing about it")
    if bounds.blur > 0.5 * bounds.interval:
        print(f"  note: one-way latency spreads over {bounds.blur:.2f}s (5-95%), a third of "
              f"the WINS interval or more: lags that close to a query's arrival may be "
              "counted in the neighbouring interval")
    _fit_lines(lag, duration_text)
    if dial.source == "sender":
        print(f"dial (Sender.log only, {dial.dials:,} dials): not written as settings")
    else:
        print(f"dial phases ({dial.dials:,} dials in {len(ras)} RAS log(s), "
              f"{dial.no_port:,} refused for want of a port):")
    for note in dial.notes:
        print(f"  note: {note}")
    for name, fit in dial.times.items():
        print(f"{name} time:")
        _fit_lines(fit, duration_text)
    for name, rate in dial.rates.items():
        low, high = rate.interval
        codes = ", ".join(f"{c} x{n}" for c, n in rate.codes) or "none"
        print(f"{name} failures: {rate.failures:,} of {rate.trials:,} ({rate.rate:.2%}, Wilson "
              f"95% [{low:.2%}, {high:.2%}]); codes {codes}")
    print(f"wrote {out} (run it: rassim run {out})")


def _fit_lines(fit: Any, duration_text: Any) -> None:
    for candidate in fit.candidates:
        mark = "*" if candidate is fit.chosen else " "
        values = ", ".join(f"{k} {duration_text(v)}" for k, v in candidate.estimates.items())
        print(f" {mark} {candidate.family:<12} AIC {candidate.aic:10.1f}   {values}")
    for key, (low, high) in fit.intervals.items():
        print(f"  {key} {duration_text(fit.chosen.estimates[key])}  95% bootstrap interval "
              f"[{duration_text(low)}, {duration_text(high)}]")
    for note in fit.notes:
        print(f"  note: {note}")
