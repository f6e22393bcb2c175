"""The fleet timeline: one fleet trial, one row per sender, the shared RAS ports above.

On one time axis, top to bottom: a faults strip (only when the trial has faults: one bar
per window, a row per overlap, each window also shaded over the panels below); the RAS
server's ports in use (a step line) with the fleet's own ports filled under it (the gap is
other callers: a ``ports_held`` fault) and the capacity dashed; one row per sender,
sender 0 at the top:

* the spans the sender holds a port (``port_taken`` to ``port_freed``), coloured by
  phase: dialing (the RasDial phases), connected and mapping (WNetAddConnection2), and
  sending (the transfer after the share is mapped, then the hang-up);
* a thin line while the sender is alive without a port (sleeping, or refused);
* a red tick per busy signal (no free port), a red x per failed dial phase, a dot at the
  start of each map attempt (red: failed, green: mapped the share), a gold star where the
  share was mapped (the Connected outcome) and a black X where the sender gave up.

Rules:

1. No text inside the rows: codes and counts go into the legend, so the picture stays
   readable from 2 to 100 senders. Rows, bars and markers shrink with the fleet; tick
   labels name every sender while they fit, else every 2nd, 5th, 10th...
2. The ports-in-use line is the server's count (all callers) read from the ``in_use`` of
   ``port_taken``/``port_freed``. Between those events it is also known at a busy signal
   (the pool is full) and at the end of a ``ports_held`` fault (only the fleet holds
   ports then). Senders with a server each (``shared=False``) draw the fleet's
   ports against the fleet's capacity (``senders x ports``). After a ``ports_held``
   fault begins the count is unknown (the trace does not say how many it took) until the
   next of those events: the line has a gap there rather than a guess.
3. Artists a test or a notebook may look for carry a gid: ``sender-K`` (row K's life
   line, one per sender), ``holds-<phase>``, ``ports-in-use``, ``ports-fleet``,
   ``ports-capacity``, ``makespan``, ``fault-<label>`` (and ``fault-<label>-name``),
   ``busy``, ``dial-failed``,
   ``map-failed``, ``map-ok``, ``connected``, ``gave-up``.
4. The x axis is virtual time in seconds from the trial's start (with a sliver of margin
   left of 0, so busy signals at t = 0 are not hidden by the spine); the makespan counts
   from ``start`` (the scenario's ``[sender] start``), as the run's summary does.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from matplotlib.collections import PatchCollection
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import MaxNLocator

from sender.codes import symbol_of
from sender.effects import AddConnection, Connected, Failed, GaveUp
from sim.plots._base import FAULT_COLORS, Axes, Figure, fit_text, new_figure, renderer
from sim.world.events import FaultEvent, RasEvent, SenderEvent, Source
from sim.world.trace import TraceEvent

__all__ = ["FleetParts", "SenderRow", "fleet_parts", "fleet_timeline"]

_FAIL = "#c62828"
_PHASES = {  # port-hold phase: (legend text, colour)
    "dialing": ("port held: dialing (RasDial phases)", "#90caf9"),
    "mapping": ("port held: connected, mapping the share", "#ffb74d"),
    "sending": ("port held: sending, then hang-up", "#66bb6a"),
}


# --- the data: pure, no drawing -----------------------------------------------------------
@dataclass(slots=True)
class SenderRow:
    """What sender ``k`` did, in virtual seconds."""

    k: int
    first: float = math.inf  # its first and last sender or RAS event
    last: float = -math.inf
    holds: list[tuple[float, float, str]] = field(default_factory=list)  # start, end, phase
    busy: list[tuple[float, int]] = field(default_factory=list)  # busy signals: code
    dial_failed: list[tuple[float, int]] = field(default_factory=list)  # phase failed: code
    maps: list[tuple[float, int]] = field(default_factory=list)  # attempt start, code (0 ok)
    connected: float | None = None  # the Connected outcome
    gave_up: tuple[float, int] | None = None  # the GaveUp outcome and its code
    open_phase: tuple[float, str] | None = field(default=None, repr=False)  # (since, phase)
    pending: tuple[Any, float] | None = field(default=None, repr=False)  # effect awaiting
    # its result, and when it began

    def switch(self, t: float, phase: str | None) -> None:
        """End the open hold segment at ``t`` and open ``phase`` (None: the port is freed)."""
        if self.open_phase is not None:
            began, current = self.open_phase
            if phase == current:
                return
            self.holds.append((began, t, current))
        self.open_phase = (t, phase) if phase is not None else None


@dataclass(slots=True)
class FleetParts:
    """A fleet trial as rows and series (see the module rules)."""

    rows: list[SenderRow]
    ports: list[tuple[float, float]]  # (t, ports in use; NaN: not known), rule 2
    own: list[tuple[float, int]]  # (t, ports the fleet holds)
    shared: bool  # one pool for the fleet (else a server each)
    faults: list[tuple[float, float, str, str]]  # start, end, kind, label
    end: float


def fleet_parts(events: Iterable[TraceEvent], senders: int, capacity: int, *,
                shared: bool = True) -> FleetParts:
    """Turn a fleet trial's events (``Recorder.events``) into rows and the port series.

    ``shared`` is ``[fleet] share_ports``: one pool of ``capacity`` ports for the fleet, or
    a server of ``capacity`` ports for each sender (then the series is the fleet's own)."""
    events = list(events)
    end = max((e.t for e in events), default=0.0)
    rows = [SenderRow(k) for k in range(senders)]
    own = 0
    own_series: list[tuple[float, int]] = [(0.0, 0)]
    ports: list[tuple[float, float]] = [(0.0, 0.0)]  # all callers, if the pool is shared
    open_faults: dict[str, tuple[float, str, float]] = {}
    faults: list[tuple[float, float, str, str]] = []
    held = 0  # ports_held faults now active
    for e in events:
        t, k = e.t, e.get("sender")
        if k is None:
            if (e.source, e.kind) == (Source.FAULT, FaultEvent.BEGIN):
                duration = e.get("duration")
                label, kind = str(e.get("fault")), str(e.get("fault_kind"))
                stop = t + duration if math.isfinite(duration) else end
                open_faults[label] = (t, kind, stop)
                if kind == "ports_held":  # it takes ports now: how many is not traced
                    held += 1
                    ports.append((t, math.nan))
            elif (e.source, e.kind) == (Source.FAULT, FaultEvent.END):
                label = str(e.get("fault"))
                began, kind, _ = open_faults.pop(label, (t, str(e.get("fault_kind")), t))
                faults.append((began, t, kind, label))
                if kind == "ports_held":
                    held -= 1
                    if held == 0:  # only the fleet holds ports now
                        ports.append((t, float(own)))
            continue
        while k >= len(rows):
            rows.append(SenderRow(len(rows)))
        row = rows[k]
        if e.source in (Source.SENDER, Source.RAS):  # its life: link and name-path events may trail
            row.first, row.last = min(row.first, t), max(row.last, t)
        key = (e.source, e.kind)
        if key in ((Source.RAS, RasEvent.PORT_TAKEN), (Source.RAS, RasEvent.PREDIALED)):
            row.switch(e.get("since", t) if e.kind == RasEvent.PREDIALED else t, "dialing")
            own += 1
            own_series.append((t, own))
            if e.kind == RasEvent.PORT_TAKEN:
                ports.append((t, float(e.get("in_use"))))
        elif key == (Source.RAS, RasEvent.PORT_FREED):
            row.switch(t, None)
            own = max(0, own - 1)
            own_series.append((t, own))
            ports.append((t, float(e.get("in_use"))))
        elif key == (Source.RAS, RasEvent.CONNECTED):
            if row.open_phase is not None:
                row.switch(t, "mapping")
        elif key == (Source.SENDER, SenderEvent.SENDING):
            if row.open_phase is not None:
                row.switch(t, "sending")
        elif key == (Source.RAS, RasEvent.NO_PORT):
            row.busy.append((t, int(e.get("code"))))
            if shared:
                ports.append((t, float(capacity)))  # refused: the pool is full
        elif key == (Source.RAS, RasEvent.PHASE_FAILED):
            row.dial_failed.append((t, int(e.get("code"))))
        elif key == (Source.SENDER, SenderEvent.EFFECT):
            row.pending = (e.get("effect"), t)
        elif key == (Source.SENDER, SenderEvent.RESULT) and row.pending is not None:
            effect, began = row.pending
            row.pending = None
            if isinstance(effect, AddConnection):
                result = e.get("result")
                row.maps.append((began, result.code if isinstance(result, Failed) else 0))
        elif key == (Source.SENDER, SenderEvent.OUTCOME):
            outcome = e.get("outcome")
            if isinstance(outcome, Connected):
                row.connected = t
            elif isinstance(outcome, GaveUp):
                row.gave_up = (t, outcome.code)
    for row in rows:  # what is still open ends with the trial
        row.switch(end, None)
    for label, (began, kind, stop) in open_faults.items():
        faults.append((began, min(stop, end) if stop > began else end, kind, label))
    # Rule 2: one server per sender reports its own count; the fleet's sum is what to draw.
    # (Events come in time order, so both series are too.)
    if not shared:
        ports = [(t, float(v)) for t, v in own_series]
    faults.sort()
    return FleetParts(rows, ports, own_series, shared, faults, end)


def _stepper(series: Sequence[tuple[float, float]]) -> Callable[[float], float]:
    """The value of a step series at t: its last point at or before t (0 before the first)."""
    times = [t for t, _ in series]

    def at(t: float) -> float:
        i = bisect_right(times, t)
        return series[i - 1][1] if i else 0.0
    return at


# --- the drawing --------------------------------------------------------------------------
def _sizes(n: int) -> tuple[float, float]:
    """(row height in inches, the same in points): rows shrink as the fleet grows."""
    row = max(0.11, min(0.3, 6.0 / max(n, 1)))
    return row, row * 72.0


def _tick_step(row_pt: float) -> int:
    """Label every sender while the labels fit, else every 2nd, 5th, 10th..."""
    for step in (1, 2, 5, 10, 20, 50, 100, 200, 500):
        if step * row_pt >= 10.0:
            return step
    return 1000


def _codes(items: Iterable[int]) -> str:
    """``"53 ERROR_BAD_NETPATH ×9, 64 ×1"``: the codes, most frequent first."""
    counts = sorted(Counter(items).items(), key=lambda kv: (-kv[1], kv[0]))
    return ", ".join(f"{code} {symbol_of(code)} ×{n}" if i == 0 else f"{code} ×{n}"
                     for i, (code, n) in enumerate(counts[:3])) + (
        ", …" if len(counts) > 3 else "")


def fleet_timeline(events: Iterable[TraceEvent], *, scenario: str, policy: str, seed: int,
                   trial: int, senders: int, ports: int, shared: bool = True,
                   start: float = 0.0) -> Figure:
    """Draw one fleet trial (``Recorder.events`` of ``sim.trial.trial.run_trial``).

    ``senders`` is ``[fleet] senders``, ``ports`` is ``[ras] ports`` and ``shared`` is
    ``[fleet] share_ports``; ``start`` is ``[sender] start``, where the makespan counts
    from. Returns a new figure: the ports in use above, one row per sender below (see the
    module docstring).
    """
    parts = fleet_parts(events, senders, ports, shared=shared)
    rows = parts.rows
    n = len(rows)
    row_in, row_pt = _sizes(n)
    main_h = max(1.3, n * row_in)
    top_h = 1.45
    fault_rows = _fault_rows(parts.faults)
    lanes = max(fault_rows, default=-1) + 1  # rows in the faults strip (0: no strip)
    strip_h = 0.1 + 0.2 * lanes
    heights = ((strip_h,) if lanes else ()) + (top_h, main_h)
    fig, axes = new_figure(13.0, sum(heights) + 1.9, len(heights), 1, sharex=True,
                           height_ratios=heights)
    strip, top, ax = (axes[0], axes[1], axes[2]) if lanes else (None, axes[0], axes[1])
    right = max(parts.end, 1e-3) * 1.02
    ax.set_xlim(-0.008 * right, right)  # a margin: what happens at t = 0 clears the spine

    legend: list[Any] = []
    _draw_ports(top, parts, ports, senders, right, legend)
    fault_names: list[tuple[Any, float, float]] = []
    if strip is not None:
        strip.set_ylim(lanes, 0)
        strip.set_yticks([])
        strip.set_ylabel("faults", rotation=0, ha="right", va="center", fontsize=9)
        strip.tick_params(labelbottom=False, bottom=False)
        fault_names = _draw_faults(strip, (top, ax), parts, fault_rows, legend)

    # --- rows ------------------------------------------------------------------------------
    ax.set_ylim(n - 0.5, -0.5)  # sender 0 at the top
    step = _tick_step(row_pt)
    ticks = list(range(0, n, step))
    ax.set_yticks(ticks, [str(k) for k in ticks], fontsize=8 if row_pt >= 10 else 7)
    ax.set_ylabel("sender (index)")
    ax.set_xlabel("virtual time (s) from the trial's start")
    ax.grid(axis="x", color="#eeeeee", zorder=0)
    ax.set_axisbelow(True)
    if n <= 40:
        for k in range(1, n):
            ax.axhline(k - 0.5, color="#f0f0f0", linewidth=0.6, zorder=0)
    thin = n > 40
    for row in rows:
        if math.isfinite(row.first):
            ax.plot([max(row.first, 0.0), row.last], [row.k, row.k], color="#9e9e9e",
                    linewidth=0.6 if thin else 0.9, zorder=1, gid=f"sender-{row.k}",
                    solid_capstyle="butt")
        else:  # a sender with no event at all still has its (empty) row
            ax.plot([], [], gid=f"sender-{row.k}")
    legend.append(Line2D([], [], color="#9e9e9e", linewidth=0.9,
                         label="sender alive without a port (sleeping or refused)"))
    bar = 0.62
    for phase, (label, color) in _PHASES.items():
        rects = [Rectangle((max(a, 0.0), row.k - bar / 2), b - max(a, 0.0), bar)
                 for row in rows for a, b, p in row.holds if p == phase and b > 0]
        if not rects:
            continue
        collection = PatchCollection(rects, facecolor=color, edgecolor="none", zorder=2)
        collection.set_gid(f"holds-{phase}")
        ax.add_collection(collection)
        legend.append(Patch(facecolor=color, label=label))

    # Marker sizes: full at 20 senders or fewer, shrinking with the rows to a floor at
    # which a dot is still seen.
    scale = max(0.55, min(1.0, row_pt / 21.6))
    busy = [(t, row.k, code) for row in rows for t, code in row.busy]
    failed = [(t, row.k, code) for row in rows for t, code in row.dial_failed]
    maps_failed = [(t, row.k, code) for row in rows for t, code in row.maps if code]
    maps_ok = [(t, row.k) for row in rows for t, code in row.maps if not code]
    stars = [(row.connected, row.k) for row in rows if row.connected is not None]
    quits = [(row.gave_up[0], row.k, row.gave_up[1]) for row in rows
             if row.gave_up is not None]
    marks: list[tuple[str, list[Any], str, dict[str, Any]]] = [
        ("busy", busy, "busy signal: no free port",
         {"marker": "|", "color": _FAIL, "markersize": 12 * scale,
          "markeredgewidth": 0.9 if not thin else 0.6, "alpha": 0.8, "zorder": 3}),
        ("dial-failed", failed, "dial phase failed", {
            "marker": "x", "color": "#b71c1c", "markersize": 7 * scale,
            "markeredgewidth": 1.5 * max(scale, 0.6), "zorder": 4}),
        ("map-failed", maps_failed, "map attempt that failed", {
            "marker": "o", "markerfacecolor": _FAIL, "markeredgecolor": "white",
            "markeredgewidth": 0.5, "markersize": 6 * scale, "zorder": 5}),
        ("map-ok", maps_ok, "map attempt that mapped the share", {
            "marker": "o", "markerfacecolor": "#1b5e20", "markeredgecolor": "white",
            "markeredgewidth": 0.5, "markersize": 6 * scale, "zorder": 5}),
        ("connected", stars, "share mapped (Connected)", {
            "marker": "*", "markerfacecolor": "#ffc107", "markeredgecolor": "#4e342e",
            "markeredgewidth": 0.6, "markersize": 14 * scale, "zorder": 6}),
        ("gave-up", quits, "gave up", {
            "marker": "X", "markerfacecolor": "#212121", "markeredgecolor": "white",
            "markeredgewidth": 0.6, "markersize": 11 * scale, "zorder": 6}),
    ]
    for gid, points, label, style in marks:
        if not points:
            continue
        text = _mark_label(gid, points, label)
        ax.plot([p[0] for p in points], [p[1] for p in points], linestyle="none", gid=gid,
                **style)
        legend.append(Line2D([], [], linestyle="none", label=text,
                             **{**style, "markersize": max(style["markersize"], 6)}))

    # --- makespan, title, legend -----------------------------------------------------------
    connected = len(stars)
    signals = len(busy)
    if n and connected == n:
        makespan = max(t for t, _ in stars) - start
        head = f"makespan {makespan:.1f} s"
        for axis in (top, ax):
            axis.axvline(makespan + start, color="#4e342e", linestyle=":", linewidth=1.2,
                         zorder=1.5, gid="makespan")
        legend.append(Line2D([], [], color="#4e342e", linestyle=":", linewidth=1.2,
                             label="makespan: the last sender mapped the share"))
    else:
        head = (f"no makespan: {len(quits)} gave up "
                f"(trial ended at {parts.end:.1f} s)")
    title = " · ".join((scenario, f"policy {policy}", f"seed {seed}", f"trial {trial}"))
    plural = "s" if signals != 1 else ""
    fig.suptitle(f"{title}\n{connected} of {senders} senders connected; "
                 f"{signals} busy signal{plural}; {head}", fontsize=11)
    fig.legend(handles=legend, loc="outside lower center", ncols=3, fontsize=8,
               frameon=False)
    if strip is not None:
        _fit_fault_names(fig, strip, fault_names)
    return fig


def _mark_label(gid: str, points: list[Any], label: str) -> str:
    """The legend text of a marker kind, with its count and codes (rule 1)."""
    count = len(points)
    if gid in ("busy", "dial-failed", "map-failed", "gave-up"):
        return f"{label}: {_codes(p[2] for p in points)}"
    return f"{label} (×{count})"


def _draw_ports(top: Axes, parts: FleetParts, ports: int, senders: int, right: float,
                legend: list[Any]) -> None:
    """Rule 2: the ports in use, the fleet's own ports, and the capacity."""
    capacity = ports if parts.shared else ports * senders
    xs = [t for t, _ in parts.ports] + [right]
    ys = [v for _, v in parts.ports] + [parts.ports[-1][1]]
    line_label = "RAS ports in use" if parts.shared else "ports the fleet holds"
    ports_at, own_at = _stepper(parts.ports), _stepper(parts.own)
    differs = parts.shared and any(ports_at(t) != own_at(t) for t, _ in parts.ports)
    # The fill is the fleet's own ports: under the line, or the whole of it.
    own_x = [t for t, _ in parts.own] + [right]
    own_y = [v for _, v in parts.own] + [parts.own[-1][1]]
    fill = top.fill_between(own_x, own_y, step="post", color="#90caf9", alpha=0.7,
                            linewidth=0, zorder=1)
    fill.set_gid("ports-fleet")
    if differs:
        legend.append(Patch(facecolor="#90caf9", alpha=0.7,
                            label="… of them the fleet's (the rest: other callers)"))
        line_label = "RAS ports in use (all callers)"
    top.step(xs, ys, where="post", color="#0d47a1", linewidth=1.4, zorder=3,
             gid="ports-in-use", label=line_label)
    legend.insert(0, Line2D([], [], color="#0d47a1", linewidth=1.4, label=line_label))
    top.axhline(capacity, color="#424242", linestyle="--", linewidth=1.0, zorder=2,
                gid="ports-capacity")
    cap_label = (f"capacity: {capacity} port{'s' if capacity != 1 else ''}" if parts.shared
                 else f"capacity: {senders} servers × {ports} port{'s' if ports != 1 else ''}")
    legend.insert(1, Line2D([], [], color="#424242", linestyle="--", linewidth=1.0,
                            label=cap_label))
    top.set_ylim(0, capacity * 1.18 + 0.3)
    top.yaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
    top.set_ylabel("ports in use\n(count)")
    top.grid(color="#eeeeee", zorder=0)
    top.set_axisbelow(True)
    top.tick_params(labelbottom=False)


def _fault_rows(faults: Sequence[tuple[float, float, str, str]]) -> list[int]:
    """First-fit rows: fault windows that overlap in time get rows of their own."""
    ends: list[float] = []
    rows: list[int] = []
    for began, stop, _, _ in faults:  # sorted by start
        row = next((i for i, end in enumerate(ends) if end <= began), len(ends))
        if row == len(ends):
            ends.append(stop)
        else:
            ends[row] = stop
        rows.append(row)
    return rows


def _draw_faults(strip: Axes, shaded: Sequence[Axes], parts: FleetParts, rows: list[int],
                 legend: list[Any]) -> list[tuple[Any, float, float]]:
    """Each fault window: a bar in the faults strip (one row per overlap) and a shade over
    the other panels. Returns (name text, start, end) per window, for ``_fit_fault_names``."""
    named: dict[str, list[str]] = {}
    names: list[tuple[Any, float, float]] = []
    right = strip.get_xlim()[1]
    for (began, stop, kind, label), row in zip(parts.faults, rows, strict=True):
        color = FAULT_COLORS.get(kind, "#757575")
        left = max(began, 0.0)
        stop = max(min(stop, right), left)
        strip.add_patch(Rectangle((left, row + 0.1), stop - left, 0.8, facecolor=color,
                                  edgecolor="none", zorder=2, gid=f"fault-{label}"))
        for axis in shaded:
            axis.axvspan(left, stop, color=color, alpha=0.07, linewidth=0, zorder=0,
                         gid=f"fault-{label}")
        text = strip.text((left + stop) / 2, row + 0.5, label, fontsize=7.5, color="white",
                          ha="center", va="center", zorder=3, clip_on=True,
                          gid=f"fault-{label}-name")
        names.append((text, left, stop))
        if label not in named.setdefault(kind, []):
            named[kind].append(label)
    for kind, labels in named.items():
        listed = ", ".join(labels[:3]) + (", …" if len(labels) > 3 else "")
        legend.append(Patch(facecolor=FAULT_COLORS.get(kind, "#757575"),
                            label=f"fault: {kind.replace('_', ' ')} ({listed})"))
    return names


def _fit_fault_names(fig: Figure, strip: Axes, names: list[tuple[Any, float, float]]) -> None:
    """A fault's name sits inside its bar, or is dropped when it does not fit (the legend
    has it): never over a neighbour."""
    if not names:
        return
    rend = renderer(fig)
    to_px = strip.transData.transform
    for text, began, stop in names:
        width = to_px((stop, 0))[0] - to_px((began, 0))[0]
        if not fit_text(text, [text.get_text(), text.get_text()[:12]], width, rend):
            text.remove()
