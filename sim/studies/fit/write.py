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
from sim.studies.fit.fit import LagFit

__all__ = ["duration_text", "file_sha256", "scenario_text", "write_scenario"]


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def duration_text(seconds: float) -> str:
    """Rule 3."""
    if seconds < 1.0:
        return f"{seconds * 1000:.1f}ms"
    return f"{seconds:.4f}s"


def scenario_text(*, name: str, base: Path | None, out: Path, profile: str,
                  logs: Sequence[tuple[Path, str]], lag: LagFit, log_form: str) -> str:
    """The whole file (rules 1 to 3)."""
    chosen = lag.chosen
    kinds = lag.censored.kinds()
    lines = [f"# Fitted by `rassim fit` (rassim {__version__}) from {len(logs)} Sender.log "
             f"file(s) in {log_form} form:"]
    lines += [f"#   sha256 {digest}  {path.name}" for path, digest in logs]
    lines.append(f'name = "{name}"')
    if base is not None:
        relative = os.path.relpath(base.resolve(), out.resolve().parent)
        lines.insert(len(logs) + 1, f'extends = "{Path(relative).as_posix()}"')
    else:
        lines.append(f'profile = "{profile}"')
    lines += [
        "",
        f"# name-path lag: {lag.censored.used} connections used ({kinds['interval']} "
        f"two-sided, {kinds['left']} left-censored, {kinds['right']} right-censored "
        f"intervals; {lag.censored.uninformative} uninformative left out)",
        f"#   family chosen by AIC: {chosen.family} ("
        + ", ".join(f"{c.family} AIC {c.aic:.1f}" for c in lag.candidates) + ")",
    ]
    for key, value in chosen.estimates.items():
        low, high = lag.intervals.get(key, (float("nan"), float("nan")))
        lines.append(f"#   {key} {duration_text(value)}, 95% bootstrap interval "
                     f"[{duration_text(low)}, {duration_text(high)}] "
                     f"({lag.resamples - lag.failed_resamples} of {lag.resamples} resamples)")
    fields = ", ".join(f'{key} = "{duration_text(value)}"'
                       for key, value in chosen.estimates.items())
    lines += ["[name_path]", f'lag = {{ dist = "{chosen.family}", {fields} }}', ""]
    return "\n".join(lines)


def write_scenario(out: Path, text: str) -> None:
    """Rule 4: load the text as a scenario first, then publish it atomically."""
    data = text.encode("utf-8")
    with atomic_path(out, suffix=".toml", option="--out", size=len(data)) as tmp:
        tmp.write_bytes(data)
        load_scenario(tmp)  # a ScenarioError here is a bug in this module, not user input
