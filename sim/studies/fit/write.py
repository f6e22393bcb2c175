"""The fitted scenario file: ``extends`` the base and carries each fitted distribution.

Rules:

1. The file extends the base scenario (a path relative to the file's own directory, as the
   loader resolves it) and sets only what was fitted, so ``rassim run`` runs it unchanged
   and everything else stays the base's. Without a base it names the base's profile.
2. A comment above each fitted table gives the log files' sha256, the connections used (and
   how they were censored), the family chosen with every candidate's AIC, and each
   estimate with its 95% bootstrap interval.
3. Durations are written with units to 4 decimals in seconds (ms below 1 s), enough that
   the value a reader sees is the value the file holds to the millisecond.
4. The file is written atomically (``sim.report.atomic``): on any error the destination is
   untouched. The text is checked by loading it before it is published.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

from sim import __version__
from sim.report.atomic import atomic_path
from sim.scenario.loader import load_scenario
from sim.studies.fit.dial import DialFit, RateFit
from sim.studies.fit.fit import LagFit

__all__ = ["duration_text", "file_sha256", "scenario_text", "write_scenario"]


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def duration_text(seconds: float) -> str:
    """Rule 3."""
    if seconds < 1.0:
        return f"{seconds * 1000:.1f}ms"
    return f"{seconds:.4f}s"


def _fit_comment(label: str, fit: LagFit, *, used: str) -> list[str]:
    """Rule 2's comment lines for one fitted distribution."""
    chosen = fit.chosen
    lines = [f"# {label}: {used}",
             f"#   family chosen by AIC: {chosen.family} ("
             + ", ".join(f"{c.family} AIC {c.aic:.1f}" + (f" k={c.k}" if c.family == "empirical"
                                                           else "")
                         for c in fit.candidates) + ")"]
    for key, value in chosen.estimates.items():
        low, high = fit.intervals.get(key, (float("nan"), float("nan")))
        lines.append(f"#   {key} {duration_text(value)}, 95% bootstrap interval "
                     f"[{duration_text(low)}, {duration_text(high)}] "
                     f"({fit.resamples - fit.failed_resamples} of {fit.resamples} resamples)")
    lines += [f"#   note: {note}" for note in fit.notes]
    return lines


def _table(fit: LagFit) -> str:
    chosen = fit.chosen
    if chosen.family == "empirical":
        samples = ", ".join(f'"{duration_text(v)}"' for v in chosen.samples)
        return f'{{ dist = "empirical", samples = [{samples}] }}'
    fields = ", ".join(f'{key} = "{duration_text(value)}"'
                       for key, value in chosen.estimates.items())
    return f'{{ dist = "{chosen.family}", {fields} }}'


def _rate_comment(label: str, rate: RateFit) -> str:
    low, high = rate.interval
    codes = ", ".join(f"{code} x{count}" for code, count in rate.codes) or "none"
    timeouts = f"; {rate.timeouts} 718 time-outs left out" if rate.timeouts else ""
    return (f"#   {label}: {rate.failures} of {rate.trials} ({rate.rate:.2%}, Wilson 95% "
            f"[{low:.2%}, {high:.2%}]); codes {codes}{timeouts}")


def _dial_lines(dial: DialFit, ras_logs: int) -> list[str]:
    if dial.source == "sender":
        lines = ["", f"# dial (from Sender.log alone, {dial.dials} dials; {dial.no_port} refused "
                 "for want of a port left out): reported here, NOT written as settings"]
        lines += [f"#   note: {note}" for note in dial.notes]
        if "dial" in dial.times:
            fit = dial.times["dial"]
            kinds = fit.censored.kinds()
            lines += _fit_comment("  dial start to Connected", fit,
                                  used=f"{kinds['exact']} connected, {kinds['right']} failed "
                                  "(right-censored)")
        lines.append(_rate_comment("dial failures", dial.rates["dial"]))
        return lines
    lines = ["", f"# dial phases: {dial.dials} dials in {ras_logs} RAS connection log(s); "
             f"{dial.no_port} refused for want of a port (not a phase's doing)"]
    lines += [f"#   note: {note}" for note in dial.notes]
    settings = ["[ras]"]
    for name, fit in dial.times.items():
        kinds = fit.censored.kinds()
        lines += _fit_comment(f"{name} time", fit, used=f"{kinds['exact']} exact, "
                              f"{kinds['right']} right-censored (718 time-outs), "
                              f"{kinds['left']} under 1 ms")
        settings.append(f"{name} = {_table(fit)}")
    for name, rate in dial.rates.items():
        lines.append(_rate_comment(f"{name} failures", rate))
        codes = f", codes = [{', '.join(str(c) for c, _ in rate.codes)}]" if rate.codes else ""
        settings.append(f"{name}_failure = {{ rate = {rate.rate:.6f}{codes} }}")
    return lines + settings


def scenario_text(*, name: str, base: Path | None, out: Path, profile: str,
                  logs: Sequence[tuple[Path, str]], lag: LagFit, log_form: str,
                  dial: DialFit | None = None,
                  ras_logs: Sequence[tuple[Path, str]] = (),
                  excluded: Sequence[str] = ()) -> str:
    """The whole file (rules 1 to 3). ``excluded`` are comment lines on the connections left
    out of the lag fit (``sim.studies.fit.faults``)."""
    kinds = lag.censored.kinds()
    lines = [f"# Fitted by `rassim fit` (rassim {__version__}) from {len(logs)} Sender.log "
             f"file(s) in {log_form} form:"]
    lines += [f"#   sha256 {digest}  {path.name}" for path, digest in logs]
    if ras_logs:
        lines.append(f"# and {len(ras_logs)} RAS connection log(s):")
        lines += [f"#   sha256 {digest}  {path.name}" for path, digest in ras_logs]
    header = len(lines)
    lines.append(f'name = "{name}"')
    if base is not None:
        relative = os.path.relpath(base.resolve(), out.resolve().parent)
        lines.insert(header, f'extends = "{Path(relative).as_posix()}"')
    else:
        lines.append(f'profile = "{profile}"')
    lines.append("")
    lines += _fit_comment(
        "name-path lag", lag,
        used=f"{lag.censored.used} connections used ({kinds['interval']} two-sided, "
        f"{kinds['left']} left-censored, {kinds['right']} right-censored intervals; "
        f"{lag.censored.uninformative} uninformative left out)")
    lines += [f"#   {line}" for line in excluded]
    lines += ["[name_path]", f"lag = {_table(lag)}"]
    if dial is not None:
        lines += _dial_lines(dial, len(ras_logs))
    lines.append("")
    return "\n".join(lines)


def write_scenario(out: Path, text: str) -> None:
    """Rule 4: load the text as a scenario first, then publish it atomically."""
    data = text.encode("utf-8")
    with atomic_path(out, suffix=".toml", option="--out", size=len(data)) as tmp:
        tmp.write_bytes(data)
        load_scenario(tmp)  # a ScenarioError here is a bug in this module, not user input
