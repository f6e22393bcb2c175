"""The link between the sender and the remote site, once RAS is connected.

Model contract (design guide section 2):

1. A message sent at t while the link carries traffic arrives at
   t + latency * warm-up * spike + bytes * 8 / rate, latency drawn per message (message n
   uses uniform n of the ``link`` stream, so policies on one seed see the same draws).
2. A message sent while the link is down, or in flight when it goes down, is lost. We
   detect that without interrupts: each loss of carriage bumps an epoch; a message carries
   the epoch it was sent in and is delivered iff the epoch is unchanged on arrival.
3. Warm-up: latency is multiplied by 1 + (factor - 1) * exp(-age / decay), age measured from
   the moment the RAS connection came up ("worst just after the session bind").
4. ``request`` is the one round-trip primitive the protocols use: request out, the far side
   decides (answer, stay silent), the response back.
5. In a fleet whose senders share the line (``Channel``), a message also waits for the
   messages sent before it by any sender to finish serialising: it leaves at
   max(now, line free) and occupies the line for bytes * 8 / rate, first come first served
   in both directions (SDLC lines for SNA are usually half duplex [I]). A lone sender's
   link does not queue its own messages: they are seconds apart and take milliseconds
   (a 78-byte name query takes 65 ms at 9600 bps; the next goes 1.5 s later).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import simpy

from sim.draws.streams import UniformStream
from sim.scenario.schema import LinkSpec
from sim.world.board import FaultBoard
from sim.world.events import LinkEvent, Source
from sim.world.stages import warmed
from sim.world.trace import Tracer

__all__ = ["LOST", "Channel", "Line", "Lines", "Link"]

#: Value of a ``request`` event whose request or response was lost to a link drop.
LOST = -1


class Channel:
    """A line's capacity, shared first come first served by the senders on it (rule 5)."""

    __slots__ = ("_seconds_per_byte", "_free_at")

    def __init__(self, rate_bps: float | None) -> None:
        self._seconds_per_byte = 8.0 / rate_bps if rate_bps else 0.0
        self._free_at = -math.inf

    def occupy(self, now: float, nbytes: int) -> float:
        """Queue a message of ``nbytes`` sent at ``now``: seconds until it is all sent."""
        self._free_at = max(now, self._free_at) + nbytes * self._seconds_per_byte
        return self._free_at - now


class Line(Protocol):
    """What link faults act on: one link, or every link of a fleet (``Lines``)."""

    def outage_begin(self, label: str) -> None: ...
    def outage_end(self, label: str) -> None: ...
    def spike_begin(self, label: str, factor: float) -> None: ...
    def spike_end(self, label: str) -> None: ...


class Lines:
    """A fault on the shared line reaches every sender's link."""

    def __init__(self, links: Sequence[Link]) -> None:
        self._links = links

    def outage_begin(self, label: str) -> None:
        for link in self._links:
            link.outage_begin(label)

    def outage_end(self, label: str) -> None:
        for link in self._links:
            link.outage_end(label)

    def spike_begin(self, label: str, factor: float) -> None:
        for link in self._links:
            link.spike_begin(label, factor)

    def spike_end(self, label: str) -> None:
        for link in self._links:
            link.spike_end(label)


class Link:
    """Carriage state, latency draws and the message primitive."""

    def __init__(self, env: simpy.Environment, spec: LinkSpec, stream: UniformStream,
                 faults: FaultBoard, tracer: Tracer, channel: Channel | None = None) -> None:
        self.env = env
        self._latency = spec.latency
        self._seconds_per_byte = 8.0 / spec.rate_bps if spec.rate_bps else 0.0
        self._channel = channel
        self._warm_extra = spec.warmup.factor - 1.0
        self._warm_decay = spec.warmup.decay
        self._stream = stream
        self._faults = faults
        self._tracer = tracer
        self.connected = False
        #: ``connected and not self._outages``, kept up to date by every change of either:
        #: it is read twice per message.
        self._carrying = False
        self.up_since = -math.inf
        self._outages: list[str] = []
        self._spikes: dict[str, float] = {}
        self._epoch = 0
        self._down_causes: list[str] = []  # cause of the loss that ended epoch n
        self.messages = 0

    # --- carriage ---------------------------------------------------------------------
    @property
    def carrying(self) -> bool:
        return self._carrying

    def _update_carrying(self) -> None:
        self._carrying = self.connected and not self._outages

    def connect(self, since: float) -> None:
        """The RAS connection is up (``since`` may be in the past for a predialed link)."""
        was = self._carrying
        self.connected = True
        self._update_carrying()
        self.up_since = since
        self._tracer.record(self.env.now, Source.LINK, LinkEvent.UP, since=since)
        if not was and self._carrying:
            self._tracer.record(self.env.now, Source.LINK, LinkEvent.CARRYING)

    def disconnect(self) -> None:
        self._lose_carriage("hang-up")
        self.connected = False
        self._update_carrying()
        self._tracer.record(self.env.now, Source.LINK, LinkEvent.DOWN, cause="hang-up")

    def outage_begin(self, label: str) -> None:
        self._lose_carriage(label)
        self._outages.append(label)
        self._update_carrying()
        self._tracer.record(self.env.now, Source.LINK, LinkEvent.OUTAGE, fault=label)

    def outage_end(self, label: str) -> None:
        self._outages.remove(label)
        self._update_carrying()
        self._tracer.record(self.env.now, Source.LINK, LinkEvent.OUTAGE_OVER, fault=label)

    def spike_begin(self, label: str, factor: float) -> None:
        self._spikes[label] = factor
        self._tracer.record(self.env.now, Source.LINK, LinkEvent.SPIKE, fault=label, factor=factor)

    def spike_end(self, label: str) -> None:
        del self._spikes[label]
        self._tracer.record(self.env.now, Source.LINK, LinkEvent.SPIKE_OVER, fault=label)

    def _lose_carriage(self, cause: str) -> None:
        if self._carrying:
            self._epoch += 1
            self._down_causes.append(cause)

    # --- messages ---------------------------------------------------------------------
    def transit_time(self, nbytes: int, *, on_line: bool = True) -> float:
        """Draw the next message's one-way time (consumes one uniform). ``on_line``: the
        message takes its turn on a shared channel (a lost one never reaches the line)."""
        now = self.env.now
        latency = warmed(self._latency.ppf(self._stream.random()), now - self.up_since,
                         self._warm_extra, self._warm_decay)
        if self._spikes:
            for label, factor in self._spikes.items():
                latency *= factor
                self._faults.touch(label)
        if self._channel is not None and on_line:
            return latency + self._channel.occupy(now, nbytes)
        return latency + nbytes * self._seconds_per_byte

    def token(self) -> int:
        """The token a message sent now carries (rule 2): the epoch, or -1 when it is lost
        before it leaves. The fast path (``sim.trial.fast``) sends with it too."""
        return self._epoch if self._carrying else LOST

    def send(self, nbytes: int) -> simpy.Timeout:
        """A message; the event fires at its arrival time with a token for ``delivered``."""
        self.messages += 1
        if self._carrying:
            return simpy.Timeout(self.env, self.transit_time(nbytes), self._epoch)
        for label in self._outages:
            self._faults.touch(label)
        return simpy.Timeout(self.env, self.transit_time(nbytes, on_line=False), -1)

    def delivered(self, token: Any) -> bool:
        """Whether a message sent with ``token`` got through (call at its arrival)."""
        if token == self._epoch and self._carrying:
            return True
        if token != -1 and token < len(self._down_causes):
            cause = self._down_causes[token]
            if cause != "hang-up":
                self._faults.touch(cause)
        return False

    def request(self, request_bytes: int, response_bytes: int,
                serve: Callable[[float], int | None], think: float = 0.0) -> simpy.Event:
        """A round trip. The event fires with the far side's verdict when the response
        arrives, with ``LOST`` when either message is lost, and never if the far side stays
        silent (``serve`` returned None)."""
        reply = _Reply(self, response_bytes, serve, think)
        self.send(request_bytes).callbacks.append(reply.at_far_side)
        return reply


class _Reply(simpy.Event):
    """The event ``Link.request`` returns (rule 4), which also carries the round trip's
    state and its messages' callbacks: one object per round trip instead of three closures
    and their cells, on the path every message takes.

    The request's arrival calls ``at_far_side``; a verdict sends the response (after the
    server's think time, if any) and its arrival calls ``at_near_side``, which fires this
    event. Events are scheduled exactly as by closures: same times, same order.
    """

    def __init__(self, link: Link, response_bytes: int, serve: Callable[[float], int | None],
                 think: float) -> None:
        super().__init__(link.env)
        self._link = link
        self._response_bytes = response_bytes
        self._serve = serve
        self._think = think
        self._verdict = 0

    def at_far_side(self, message: simpy.Event) -> None:
        link = self._link
        token = message._value
        # ``link.delivered(token)``, its common case written out: this runs per message.
        if not (token == link._epoch and link._carrying) and not link.delivered(token):
            self.succeed(LOST)
            return
        verdict = self._serve(self.env.now)
        if verdict is None:
            return
        self._verdict = verdict
        if self._think > 0:
            simpy.Timeout(self.env, self._think).callbacks.append(self.answer)
        else:
            self.answer(message)

    def answer(self, _: simpy.Event) -> None:
        self._link.send(self._response_bytes).callbacks.append(self.at_near_side)

    def at_near_side(self, message: simpy.Event) -> None:
        link = self._link
        token = message._value
        if (token == link._epoch and link._carrying) or link.delivered(token):
            self.succeed(self._verdict)
        else:
            self.succeed(LOST)
