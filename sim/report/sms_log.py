"""Sender.log lines with SMS 2.0's own suffix: wall-clock stamps derived from virtual time.

``rassim replay --format log`` prints ``sender_log`` lines with virtual seconds in front
(``     5.303s  RAS connection to BOSTON #INTER established.``). A site's real Sender.log
carries the component, the local time with its bias and the thread after the message::

    RAS connection to BOSTON #INTER established.~  $$<SMS_SNA_RAS_SENDER>
    <03-12-1999 10:00:05.303+000><thread=0x1A4>

(one line in the file; broken here to fit).

Rules:

1. ``stamp`` rewrites rendered lines only; the text between the virtual time and the end is
   kept byte for byte, so what ``rassim fit`` reads is what ``sender_log`` wrote.
2. The stamp is ``clock + t`` to the millisecond (the virtual time is printed to the
   millisecond too), as ``MM-DD-YYYY HH:MM:SS.mmm`` followed by the bias in minutes
   (``+000``: the clock is taken as UTC).
3. Trials of one log follow each other on the clock: trial k+1 starts ``TRIAL_GAP`` after
   trial k's last line (rounded up to the second), so no name stays in the NetBT cache
   (10 min) from one trial to the next and times never go backwards.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import datetime, timedelta

__all__ = ["SMS_STAMP_FORMAT", "TRIAL_GAP", "component_for", "stamp", "trial_header"]

#: ``strftime`` form of the date and time in the ``$$<...>`` suffix (milliseconds appended).
SMS_STAMP_FORMAT = "%m-%d-%Y %H:%M:%S"
#: Seconds between one trial's last line and the next trial's first (rule 3).
TRIAL_GAP = 3600.0
_VIRTUAL = re.compile(r"^\s*(\d+\.\d{3})s  (.*)$")
_COMPONENTS = {"sna": "SMS_SNA_RAS_SENDER", "async": "SMS_ASYNC_RAS_SENDER",
               "isdn": "SMS_ISDN_RAS_SENDER"}


def component_for(profile: str) -> str:
    """The SMS 2.0 sender component that logs for a link ``profile`` (all log to Sender.log)."""
    return _COMPONENTS.get(profile, "SMS_SNA_RAS_SENDER")


def trial_header(trial: int) -> str:
    """The separator line between trials of a log without wall-clock stamps."""
    return f"--- trial {trial} ---"


def _when(clock: datetime, seconds: float) -> str:
    at = clock + timedelta(milliseconds=round(seconds * 1000))
    return f"{at.strftime(SMS_STAMP_FORMAT)}.{at.microsecond // 1000:03d}+000"


def stamp(lines: Sequence[str], *, clock: datetime, offset: float, component: str,
          thread: int) -> tuple[list[str], float]:
    """``lines`` (as ``sender_log`` renders them) stamped at ``clock + offset + t``, and the
    offset at which the next trial starts (rule 3)."""
    out: list[str] = []
    last = 0.0
    for line in lines:
        match = _VIRTUAL.match(line)
        if match is None:  # pragma: no cover - sender_log always writes the virtual time
            raise ValueError(f"not a rendered Sender.log line: {line!r}")
        t = float(match.group(1))
        last = max(last, t)
        out.append(f"{match.group(2)}~  $$<{component}><{_when(clock, offset + t)}>"
                   f"<thread=0x{thread:X}>")
    return out, offset + math.ceil(last) + TRIAL_GAP
