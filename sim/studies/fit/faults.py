"""Connections whose pattern the lag model cannot explain: faults, left out with a count.

The lag model (``sim.studies.fit.censor``) reads every WINS-timeout 53 as "the name path
was not ready yet". A link outage or WINS being down makes the same 53, and would be read as
a longer lag. Some connections show that something other than the lag was at work; they
are left out of the lag fit, counted by reason, and the count is reported and written.

Rules (a connection is left out for the first that applies):

1. **53 after the name resolved.** Once a map on a connection resolved the name (it mapped,
   or failed later than name resolution), the name path is ready for good in the lag
   model; a later WINS-timeout 53 on the same connection needs WINS down or the link out.
2. **53 at another time.** A 53 that took neither the WINS give-up time nor less (a TCP
   connect that gave up after its SYN retransmissions, ``sim.world.smb`` rule 2): the name
   resolved but nothing answered on port 139, which on a RAS link means the link stopped
   carrying traffic.
3. **Link-failure codes.** 64 (session dropped), 59 (unexpected network error), 121 (SMB
   time-out), 1222 (no network) or 1231 (unreachable) on the connection: the link failed
   under it.

What this cannot see: a fault that only ever delays the first resolution of a connection
(an outage or WINS failure that ends before the map that resolves) looks exactly like a
longer lag. The log holds nothing that tells them apart; the report says so.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from sim.studies.fit.censor import GIVE_UP_TOLERANCE, Allowance
from sim.studies.fit.logparse import Connection

__all__ = ["LINK_CODES", "REASONS", "Screened", "screen"]

#: Codes that say the link failed under a connection (rule 3).
LINK_CODES = frozenset({59, 64, 121, 1222, 1231})
REASONS = {
    "after": "53 after the name had resolved on the same connection",
    "tcp": "53 at another time than the WINS give-up (the link stopped carrying)",
    "link": "a link-failure code (59, 64, 121, 1222, 1231)",
}


@dataclass(frozen=True, slots=True)
class Screened:
    """The connections the lag model can explain, and how many were left out, by reason."""

    kept: tuple[Connection, ...]
    excluded: dict[str, int]

    @property
    def total_excluded(self) -> int:
        return sum(self.excluded.values())

    def lines(self) -> list[str]:
        """One line per reason, and the limit of the screen, for the report and the file."""
        if not self.total_excluded:
            return ["no connection shows a fault pattern (53 after resolution, 53 at TCP "
                    "give-up, link-failure codes); a fault that only delays the first "
                    "resolution cannot be told from lag"]
        out = [f"{self.total_excluded} connection(s) left out of the lag fit: patterns the "
               "lag model cannot explain (outages, WINS down)"]
        out += [f"  {count} x {REASONS[reason]}" for reason, count in self.excluded.items()
                if count]
        out.append("a fault that only delays the first resolution cannot be told from lag")
        return out


def _reason(connection: Connection, bounds: Allowance) -> str | None:
    resolved = False
    for attempt in connection.attempts:
        if attempt.code is None or attempt.end is None:
            break
        if attempt.code in LINK_CODES:
            return "link"
        if attempt.code == 53:
            took = attempt.end - attempt.start
            if took > bounds.give_up + GIVE_UP_TOLERANCE:
                return "tcp"
            if resolved:
                return "after"
        else:
            resolved = True
    return None


def screen(connections: Sequence[Connection], bounds: Allowance) -> Screened:
    """Rules 1 to 3."""
    kept: list[Connection] = []
    excluded: Counter[str] = Counter()
    for connection in connections:
        reason = _reason(connection, bounds)
        if reason is None:
            kept.append(connection)
        else:
            excluded[reason] += 1
    return Screened(tuple(kept), {reason: excluded[reason] for reason in REASONS})
