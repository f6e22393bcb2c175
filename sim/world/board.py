"""The fault board: which faults are active now, and which have touched a sender step.

Components that a fault acts on (the link, NetBT, SMB, the RAS server) read the board; the
fault processes in ``sim.world.faults`` write it. It lives apart from them so that the link
can read it without importing the fault processes that act on the link.
"""

from __future__ import annotations

from sim.scenario.schema import FaultKind

__all__ = ["BOARD_KINDS", "FaultBoard"]

#: Kinds whose state lives on the board (the others act on the link or the RAS server).
BOARD_KINDS: tuple[FaultKind, ...] = (
    "wins_unavailable", "server_paused", "share_missing", "bad_credentials")


class FaultBoard:
    """Which faults are active now, and which have touched a sender step."""

    __slots__ = ("active", "touched")

    def __init__(self) -> None:
        #: Active labels by kind (one of ``BOARD_KINDS``); a kind is added when a fault of
        #: it first begins, so a trial without faults builds no lists.
        self.active: dict[FaultKind, list[str]] = {}
        self.touched: set[str] = set()

    def first_active(self, kind: FaultKind) -> str | None:
        """The label of an active fault of ``kind``, or None; marks it as having touched."""
        labels = self.active.get(kind)
        if not labels:
            return None
        self.touch(labels[0])
        return labels[0]

    def touch(self, label: str) -> None:
        self.touched.add(label)
