"""Read RAS connection logs (``sim.report.ras_log``'s RasDial states) into dials and phases.

Rules:

1. A dial starts at ``RASCS_OpenPort``. Its phases are read from the states that bound them
   (``sim.report.ras_log`` rule 1): each phase seen gets a start, an end and a code (0 when
   it completed); ``error CODE in RASCS_STATE`` ends the open phase with CODE, or, with no
   phase open, ends the dial before any phase (no free port). ``RASCS_Connected`` ends the
   dial with 0.
2. The form, stamps, trial separators and bad input are as for Sender.log
   (``sim.studies.fit.logparse`` rules 2 and 3, one reader for both): other lines and states
   out of order are counted and reported, never dropped silently; more than one phonebook
   entry in a file, or a file with no dial, is an error naming the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from sim.report.ras_log import PHASE_STATES
from sim.studies.fit.logparse import LogError, read_lines

__all__ = ["PHASES", "Phase", "RasDialRecord", "RasLog", "parse_ras_log"]

PHASES = tuple(PHASE_STATES)
_LINE = re.compile(r"^RasDial (?P<entry>.+?): (?P<state>RASCS_\w+)(?: \(.*\))?$")
_ERROR = re.compile(r"^RasDial (?P<entry>.+?): error (?P<code>\d+) in (?P<state>RASCS_\w+)$")
_STARTS = {start: name for name, (start, _) in PHASE_STATES.items()}
_ENDS = {end: name for name, (_, end) in PHASE_STATES.items()}
_EXAMPLES = 3


@dataclass(slots=True)
class Phase:
    """One phase of one dial: start, end and code (0 = completed); end None if unseen."""

    name: str
    start: float
    end: float | None = None
    code: int | None = None


@dataclass(slots=True)
class RasDialRecord:
    """One dial: when it started and ended, its code (0 = Connected) and its phases."""

    start: float
    end: float | None = None
    code: int | None = None
    phases: list[Phase] = field(default_factory=list)


@dataclass(slots=True)
class RasLog:
    """What one RAS connection log holds."""

    path: Path
    form: str
    lines: int = 0
    dials: list[RasDialRecord] = field(default_factory=list)
    unplaced: int = 0
    unplaced_examples: list[str] = field(default_factory=list)

    def note_unplaced(self, number: int, line: str) -> None:
        self.unplaced += 1
        if len(self.unplaced_examples) < _EXAMPLES:
            self.unplaced_examples.append(f"line {number}: {line.strip()[:80]}")


def parse_ras_log(path: Path) -> RasLog:
    """Rules 1 and 2. Raises ``LogError`` for bad input."""
    form, lines = read_lines(path, what="RAS connection log")
    log = RasLog(path=path, form=form, lines=len(lines))
    entries: set[str] = set()
    dial: RasDialRecord | None = None
    for line in lines:
        if line.t is None:  # a new trial: nothing carries over
            dial = None
            continue
        t = line.t
        error = _ERROR.match(line.text)
        state = _LINE.match(line.text)
        match = error or state
        if match is None:
            log.note_unplaced(line.number, line.raw)
            continue
        entries.add(match.group("entry"))
        name = match.group("state")
        if name == "RASCS_OpenPort" and error is None:
            dial = RasDialRecord(start=t)
            log.dials.append(dial)
            continue
        if dial is None or dial.code is not None:
            if name not in ("RASCS_Disconnected", "RASCS_Connected"):
                log.note_unplaced(line.number, line.raw)
            continue
        open_phase = dial.phases[-1] if dial.phases and dial.phases[-1].code is None else None
        if error is not None:
            code = int(error.group("code"))
            if open_phase is not None:
                open_phase.end, open_phase.code = t, code
            dial.end, dial.code = t, code
            continue
        if name in _ENDS and open_phase is not None and open_phase.name == _ENDS[name]:
            open_phase.end, open_phase.code = t, 0
            open_phase = None
        if name in _STARTS:
            if open_phase is not None:
                log.note_unplaced(line.number, line.raw)
                continue
            dial.phases.append(Phase(_STARTS[name], start=t))
        elif name == "RASCS_Connected":
            dial.end, dial.code = t, 0
        elif name not in _ENDS and name != "RASCS_PortOpened":
            log.note_unplaced(line.number, line.raw)
    if len(entries) > 1:
        raise LogError(f"{path}: holds lines for more than one site (RAS phonebook entries "
                       f"{', '.join(sorted(entries))}); split it into one file per site")
    if not log.dials:
        raise LogError(f"{path}: no RasDial in it (no RASCS_OpenPort line); give the RAS "
                       "connection log `rassim replay --format raslog` describes")
    return log
