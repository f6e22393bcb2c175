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
    fit.add_argument("--resamples", type=int, default=200,
                     help="bootstrap resamples for the intervals (default 200)")
    fit.add_argument("--seed", type=int, default=0, help="seed of the bootstrap (default 0)")
    fit.set_defaults(handler=_cmd_fit)


def require_calibrate(option: str) -> None:
    """``BadInput`` with the install hint when scipy or SALib is missing."""
    # why: lazy, so `rassim --help` and the other commands start without it
    import importlib.util

    missing = [name for name in ("scipy", "SALib") if importlib.util.find_spec(name) is None]
    if missing:
        raise BadInput(f"{option} needs {' and '.join(missing)}: pip install 'rassim[calibrate]'")


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
    parsed = []
    for path in args.logs:
        try:
            parsed.append(parse_log(path))
        except LogError as error:
            raise BadInput(str(error)) from None
    forms = sorted({p.form for p in parsed})
    bounds = allowance(scenario)
    connections = [c for p in parsed for c in p.connections]
    censored = censor(connections, bounds)
    try:
        lag = fit_lag(censored, resamples=args.resamples, seed=args.seed)
    except FitError as error:
        raise BadInput(f"{', '.join(str(p) for p in args.logs)}: {error}") from None
    form_text = " and ".join({"sms": "SMS 2.0 (timestamped)",
                              "rassim": "rassim replay (virtual seconds)"}[f] for f in forms)
    logs = [(p.path, file_sha256(p.path)) for p in parsed]
    name = f"{scenario.name}-fitted" if args.scenario is not None else "site-fitted"
    text = scenario_text(name=name, base=args.scenario, out=out, profile=scenario.profile,
                         logs=logs, lag=lag, log_form=form_text)
    write_scenario(out, text)
    _report(parsed, form_text, censored, lag, bounds, out)
    return EXIT_OK


def _report(parsed: Any, form: str, censored: Any, lag: Any, bounds: Any, out: Path) -> None:
    # why: lazy, so `rassim --help` and the other commands start without it
    from sim.studies.fit.write import duration_text

    print(f"read {len(parsed)} log file(s) in {form} form")
    for p in parsed:
        unplaced = (f"; {p.unplaced} line(s) not placed, e.g. {p.unplaced_examples[0]}"
                    if p.unplaced else "; every line placed")
        print(f"  {p.path}: {p.lines:,} lines, {len(p.connections):,} connections, "
              f"{len(p.dials):,} dials{unplaced}")
    kinds = censored.kinds()
    print(f"name-path lag: {censored.used:,} connections bound it ({kinds['interval']:,} "
          f"two-sided, {kinds['left']:,} left-censored, {kinds['right']:,} right-censored); "
          f"{censored.uninformative:,} say nothing about it")
    if bounds.blur > 0.5 * bounds.interval:
        print(f"  note: one-way latency spreads over {bounds.blur:.2f}s (5-95%), a third of "
              f"the WINS interval or more: lags that close to a query's arrival may be "
              "counted in the neighbouring interval")
    for candidate in lag.candidates:
        mark = "*" if candidate is lag.chosen else " "
        values = ", ".join(f"{k} {duration_text(v)}" for k, v in candidate.estimates.items())
        print(f" {mark} {candidate.family:<12} AIC {candidate.aic:10.1f}   {values}")
    for key, (low, high) in lag.intervals.items():
        print(f"  {key} {duration_text(lag.chosen.estimates[key])}  95% bootstrap interval "
              f"[{duration_text(low)}, {duration_text(high)}]")
    print(f"wrote {out} (run it: rassim run {out})")
