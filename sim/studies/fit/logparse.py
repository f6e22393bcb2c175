"""Read Sender.log files and rebuild each RAS connection and its map attempts.

Two line forms are accepted, and the first line with content decides which a file is in:

* **SMS 2.0's own** (``"sms"``): the message, an optional ``~``, then
  ``$$<COMPONENT><MM-DD-YYYY HH:MM:SS.mmm+BIAS><thread=...>``. The bias is minutes to add to
  local time for UTC (SMS writes ``+300`` for US Eastern), so stamps are compared in UTC and
  a change of daylight saving is not a jump. The older ``<Thu Mar 12 10:04:05.123 1999
  Zone Name>`` stamp is accepted too (read as local time: the zone name gives no bias).
* **rassim's** (``"rassim"``, what ``rassim replay --format log`` prints without
  ``--clock``): virtual seconds, two spaces, the message. ``--- trial N ---`` lines separate
  trials; each restarts the clock at 0.

Rules:

1. Each connection is: the dial's start, ``RAS connection to ENTRY established.`` (t = the
   time RAS reported Connected), then each ``Trying the No. ...`` (a ``WNetAddConnection2``
   attempt's start) with its result (``Error during WNetAddConnection2 to REMOTE (CODE).``
   or ``Connected to REMOTE.``), up to the hang-up. A failed dial (``Error during RasDial
   (CODE).``) is kept as a dial with its code and duration.
2. Lines whose message is not one of the Sender.log lines above, and events that fit no
   connection (an attempt with no connection open, a result with no attempt), are counted
   and reported with their first examples; none is dropped silently.
3. Bad input raises ``LogError`` naming file and line: a file in neither form, a line cut
   short (an SMS line without its complete ``$$<...><...><thread=...>`` suffix, or a
   rassim line without its time), a time earlier than the line before it, and lines for more
   than one site (remote share, phonebook entry or site name) in one file. A file with no
   connection that made a map attempt is an error too: nothing in it can be fitted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

__all__ = ["Attempt", "Connection", "Dial", "LogError", "LogLine", "ParsedLog", "parse_log",
           "read_lines"]

_SMS = re.compile(r"^(?P<text>.*?)~?\s*\$\$<(?P<component>[^<>]*)><(?P<stamp>[^<>]*)>"
                  r"<thread=(?P<thread>[^<>]*)>\s*$")
_SMS_START = re.compile(r"\$\$<")
_NUMERIC = re.compile(r"^(\d{2}-\d{2}-\d{4} \d{2}:\d{2}:\d{2}\.\d{3})([+-]\d+)$")
_VERBOSE = re.compile(r"^\w{3} (\w{3} \d{1,2} \d{2}:\d{2}:\d{2}\.\d{3} \d{4})(?: .*)?$")
_VIRTUAL = re.compile(r"^\s*(?P<t>\d+\.\d+)s  (?P<text>.*)$")
_TRIAL = re.compile(r"^--- trial (\d+) ---$")
_FLEET = re.compile(r"^--- sender \d+ .*---$")

_DIALING = re.compile(r"^Dialing RAS phonebook entry (?P<entry>.+)\.$")
_ESTABLISHED = re.compile(r"^RAS connection to (?P<entry>.+) established\.$")
_DIAL_ERROR = re.compile(r"^Error during RasDial \((?P<code>\d+)\)\.$")
_TRYING = re.compile(r"^Trying the No\. \d+ address \(out of \d+\)$")
_MAP_ERROR = re.compile(r"^Error during WNetAddConnection2 to (?P<remote>\S+) \((?P<code>\d+)\)\.$")
_MAPPED = re.compile(r"^Connected to (?P<remote>\S+)\.$")
_HANGUP = re.compile(r"^Hanging up the RAS connection\.$")
_GAVE_UP = re.compile(r"^Cannot connect to server \\\\(?P<server>\S+) at remote site "
                      r"(?P<site>\S+), won't try send requests")
_KNOWN = re.compile(r"^(Operation is retryable\.|Waiting [\d.]+ seconds before retrying\.|"
                    r"Could not establish connection\.|Attempt to connect failed\.)$")
_EXAMPLES = 3


class LogError(Exception):
    """A log that cannot be read; ``str(error)`` names the file, the line and the fix."""


@dataclass(slots=True)
class Attempt:
    """One ``WNetAddConnection2``: start time, end time and code (0 = mapped), or None."""

    start: float
    end: float | None = None
    code: int | None = None


@dataclass(slots=True)
class Dial:
    """One RAS dial: when it started, ended, and its RAS code (0 = Connected)."""

    start: float
    end: float | None = None
    code: int | None = None


@dataclass(slots=True)
class Connection:
    """A dial that reached Connected, and the map attempts made on it (rule 1)."""

    connected_at: float
    attempts: list[Attempt] = field(default_factory=list)
    hung_up_at: float | None = None
    trial: int = 0


@dataclass(slots=True)
class ParsedLog:
    """What one file holds: its form, the connections and dials, and what could not be placed."""

    path: Path
    form: str  # "sms" or "rassim"
    lines: int = 0
    connections: list[Connection] = field(default_factory=list)
    dials: list[Dial] = field(default_factory=list)
    unplaced: int = 0
    unplaced_examples: list[str] = field(default_factory=list)
    sites: set[str] = field(default_factory=set)

    def note_unplaced(self, number: int, line: str) -> None:
        self.unplaced += 1
        if len(self.unplaced_examples) < _EXAMPLES:
            self.unplaced_examples.append(f"line {number}: {line.strip()[:80]}")


def _sms_time(path: Path, number: int, text: str) -> float:
    """Seconds since 1970 (UTC where the stamp gives its bias) for an SMS stamp."""
    numeric = _NUMERIC.match(text)
    if numeric is not None:
        try:
            local = datetime.strptime(numeric.group(1), "%m-%d-%Y %H:%M:%S.%f")
        except ValueError:
            raise LogError(f"{path}:{number}: the stamp {text!r} is not a valid date and time; "
                           "is the line cut short?") from None
        return (local + timedelta(minutes=int(numeric.group(2))) - _EPOCH).total_seconds()
    verbose = _VERBOSE.match(text)
    if verbose is not None:
        try:
            local = datetime.strptime(verbose.group(1), "%b %d %H:%M:%S.%f %Y")
        except ValueError:
            raise LogError(f"{path}:{number}: the stamp {text!r} is not a valid date and time; "
                           "is the line cut short?") from None
        return (local - _EPOCH).total_seconds()
    raise LogError(f"{path}:{number}: the stamp <{text}> is not SMS's MM-DD-YYYY "
                   "HH:MM:SS.mmm+BIAS; is the line cut short?")


_EPOCH = datetime(1970, 1, 1)


def _form_of(path: Path, number: int, line: str, what: str) -> str:
    if _FLEET.match(line.strip()):
        return "rassim"
    if _SMS.match(line) or _SMS_START.search(line):
        return "sms"
    if _VIRTUAL.match(line) or _TRIAL.match(line):
        return "rassim"
    raise LogError(f"{path}:{number}: not a {what} line ({line.strip()[:60]!r}); rassim "
                   "reads SMS 2.0's line form (message ~  $$<component><date time>"
                   "<thread=...>) and `rassim replay --format log` output")


class _Builder:
    """Rule 1's state machine over one file's messages, in time order."""

    def __init__(self, parsed: ParsedLog) -> None:
        self.parsed = parsed
        self.dial: Dial | None = None
        self.connection: Connection | None = None
        self.attempt: Attempt | None = None
        self.trial = 0
        self.remotes: set[str] = set()
        self.entries: set[str] = set()

    def new_trial(self, trial: int) -> None:
        self._close()
        self.trial = trial

    def _close(self) -> None:
        self.dial = self.connection = self.attempt = None

    def feed(self, number: int, t: float, text: str, raw: str) -> None:
        parsed = self.parsed
        if (m := _DIALING.match(text)) is not None:
            self.entries.add(m.group("entry"))
            self._close()
            self.dial = Dial(start=t)
            parsed.dials.append(self.dial)
        elif (m := _ESTABLISHED.match(text)) is not None:
            self.entries.add(m.group("entry"))
            if self.dial is None or self.dial.code is not None:
                parsed.note_unplaced(number, raw)
                return
            self.dial.end, self.dial.code = t, 0
            self.connection = Connection(connected_at=t, trial=self.trial)
            parsed.connections.append(self.connection)
        elif (m := _DIAL_ERROR.match(text)) is not None:
            if self.dial is None or self.dial.code is not None:
                parsed.note_unplaced(number, raw)
                return
            self.dial.end, self.dial.code = t, int(m.group("code"))
        elif _TRYING.match(text):
            if self.connection is None or self.connection.hung_up_at is not None:
                parsed.note_unplaced(number, raw)
                return
            self.attempt = Attempt(start=t)
            self.connection.attempts.append(self.attempt)
        elif (m := _MAP_ERROR.match(text) or _MAPPED.match(text)) is not None:
            self.remotes.add(m.group("remote"))
            if self.attempt is None or self.attempt.code is not None:
                parsed.note_unplaced(number, raw)
                return
            code = m.groupdict().get("code")
            self.attempt.end, self.attempt.code = t, int(code) if code else 0
        elif _HANGUP.match(text):
            if self.connection is not None and self.connection.hung_up_at is None:
                self.connection.hung_up_at = t
            self.attempt = None
        elif (m := _GAVE_UP.match(text)) is not None:
            parsed.sites.add(m.group("site"))
        elif not _KNOWN.match(text):
            parsed.note_unplaced(number, raw)

    def check_one_site(self) -> None:
        parsed = self.parsed
        for what, seen in (("remote shares", self.remotes), ("RAS phonebook entries",
                                                               self.entries),
                           ("remote sites", parsed.sites)):
            if len(seen) > 1:
                raise LogError(f"{parsed.path}: holds lines for more than one site ({what} "
                               f"{', '.join(sorted(seen))}); split it into one file per site")


@dataclass(frozen=True, slots=True)
class LogLine:
    """One line with content: its number, time (None for a ``--- trial N ---`` separator,
    whose number is then in ``trial``), message and the raw text."""

    number: int
    t: float | None
    text: str
    raw: str
    trial: int = 0


def read_lines(path: Path, *, what: str = "Sender.log") -> tuple[str, list[LogLine]]:
    """The form of ``path`` (``"sms"`` or ``"rassim"``) and its lines in order, with rule 3's
    checks on each line's form and time. ``what`` names the kind of log in messages."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as error:
        raise LogError(f"{path}: cannot read it ({error.strerror or error})") from None
    form: str | None = None
    out: list[LogLine] = []
    last = -float("inf")
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if form is None:
            form = _form_of(path, number, line, what)
        if _FLEET.match(line.strip()):
            raise LogError(f"{path}:{number}: a fleet's logs (one per sender site) in one file; "
                           "split it into one file per site")
        if form == "sms":
            match = _SMS.match(line)
            if match is None:
                raise LogError(f"{path}:{number}: the line has no complete SMS suffix "
                               "($$<component><date time><thread=...>); is it cut short, or "
                               "is the file in another format?")
            t = _sms_time(path, number, match.group("stamp"))
            message = match.group("text").strip()
        else:
            trial = _TRIAL.match(line.strip())
            if trial is not None:
                out.append(LogLine(number, None, "", line, int(trial.group(1))))
                last = -float("inf")
                continue
            virtual = _VIRTUAL.match(line)
            if virtual is None:
                raise LogError(f"{path}:{number}: expected `SECONDSs  message` like the lines "
                               "before it; is the line cut short, or is the file in another "
                               "format?")
            t = float(virtual.group("t"))
            message = virtual.group("text").strip()
        if t < last:
            raise LogError(f"{path}:{number}: the time goes backwards ({t - last:+.3f} s "
                           "against the line before); rassim needs one sender's lines in the "
                           "order they were written")
        last = t
        out.append(LogLine(number, t, message, line))
    if form is None:
        raise LogError(f"{path}: the file is empty; give a {what}")
    return form, out


def parse_log(path: Path) -> ParsedLog:
    """Read ``path`` (rules 1 to 3). Raises ``LogError`` for bad input."""
    form, lines = read_lines(path)
    parsed = ParsedLog(path=path, form=form, lines=len(lines))
    builder = _Builder(parsed)
    for line in lines:
        if line.t is None:
            builder.new_trial(line.trial)
            continue
        builder.feed(line.number, line.t, line.text, line.raw)
    builder.check_one_site()
    if not any(c.attempts for c in parsed.connections):
        raise LogError(f"{path}: no usable connection (no RAS connection with a "
                       "WNetAddConnection2 attempt after it); nothing to fit")
    return parsed
