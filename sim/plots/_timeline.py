"""The trial timeline: one trial's RAS dial, link, name path, map attempts and faults.

Lanes, top to bottom (``sim.plots._spans.LANES``): the sender's calls (RasDial, each
WNetAddConnection2 with its result code, sleeps, hang-ups), the protocol steps inside each
map (WINS queries, the broadcast wait, TCP SYNs, NetBIOS session and SMB steps), the name
path (not ready, then ready), the link (up, warm-up, outages, latency spikes), the RAS port
and dial phases, and the fault windows (only when the trial has any).

Rules:

1. Text never overlaps. A label inside a bar is shown in the longest form that fits and
   dropped when none does: the colour is in the legend. A map's result code is always
   shown: inside its bar, else above it, on a second row when the first is taken.
2. Artists a test or a notebook may look for carry a gid: ``map-N`` and ``map-N-code`` for
   map attempt N (``dial-N``, ``dial-N-code`` for dials), ``lane-<kind>`` for the rest.
3. The axis starts at t = 0 (the trial's start). A connection dialed before (the RASDIAL
   workaround) is clipped there, with its real start written on the bar.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.transforms import ScaledTranslation

from sender.codes import ERROR_BAD_NETPATH, symbol_of
from sim.plots._base import FAULT_COLORS, Axes, Figure, axes_of, fit_text, renderer
from sim.plots._spans import LANES, Span, timeline_parts
from sim.world.trace import TraceEvent

__all__ = ["timeline"]

_FAIL = "#c62828"
_OK = "#2e7d32"


@dataclass(frozen=True, slots=True)
class _Style:
    label: str  # legend text
    color: str
    height: float = 0.56
    hatch: str | None = None
    edge: str = "none"
    z: float = 2.0
    text_color: str = "black"


_STYLES: dict[str, _Style] = {
    # sender
    "dial": _Style("RasDial (sender waits)", "#b0bec5"),
    "dial_failed": _Style("RasDial failed", "#ef9a9a", edge=_FAIL),
    "map_ok": _Style("WNetAddConnection2 succeeded", _OK, text_color="white"),
    "map_failed": _Style("WNetAddConnection2 failed", _FAIL, text_color="white"),
    "sleep": _Style("wait before a retry", "white", hatch="///", edge="#9e9e9e"),
    "settle": _Style("settle after Connected", "white", hatch="...", edge="#9e9e9e"),
    "hangup": _Style("hang-up", "#424242", text_color="white"),
    # protocol steps of a map
    "wins": _Style("WINS name queries", "#b39ddb"),
    "wins_failed": _Style("WINS queries unanswered", "#d1c4e9", edge=_FAIL),
    "broadcast": _Style("broadcast wait (cannot cross RAS)", "#e0e0e0", hatch="..",
                        edge="#757575"),
    "tcp": _Style("TCP connect to 139", "#ffcc80"),
    "tcp_failed": _Style("TCP connect gave up", "#ffe0b2", edge=_FAIL),
    "netbios_session": _Style("NetBIOS session", "#80cbc4"),
    "negotiate": _Style("SMB negotiate", "#4db6ac"),
    "session_setup": _Style("SMB session setup", "#26a69a"),
    "tree_connect": _Style("SMB tree connect", "#00897b", text_color="white"),
    # name path
    "not_ready": _Style("name path not ready (lag)", "#ffcdd2", hatch="xx", edge="#e57373"),
    "ready": _Style("name path ready", "#c8e6c9"),
    # link
    "link_up": _Style("link up", "#bbdefb", z=1.0),
    "outage": _Style("link outage", "#e53935", hatch="//", edge="#b71c1c", height=0.4, z=3.0),
    "spike": _Style("latency spike", "#fb8c00", hatch="\\\\", edge="#e65100", height=0.4,
                    z=3.0),
    # RAS
    "port": _Style("RAS port held", "#eeeeee", height=0.8, edge="#9e9e9e", z=1.0),
    "phase_connect": _Style("dial: connect", "#90caf9", height=0.46),
    "phase_authenticate": _Style("dial: authenticate", "#42a5f5", height=0.46),
    "phase_project": _Style("dial: PPP projection", "#1565c0", height=0.46,
                            text_color="white"),
}
_LANE_TITLES = {
    "sender": "sender", "steps": "map steps", "name path": "name path", "link": "link",
    "RAS": "RAS port\n& dial", "faults": "faults",
}
#: Instants: (legend text, height above the lane's centre, marker style). Marks sit on an
#: edge of their lane's bars, clear of the labels centred inside them (rule 1).
_MARKS: dict[str, tuple[str, float, dict[str, Any]]] = {
    "wins_query": ("WINS query sent", 0.28, {"marker": "|", "color": "#4527a0",
                                             "markersize": 10, "markeredgewidth": 2.2}),
    "syn": ("TCP SYN sent", 0.3, {"marker": "v", "color": "#e65100", "markersize": 6}),
    "cache_hit": ("name from cache", -0.3, {"marker": "o", "color": "#4527a0",
                                            "markersize": 5}),  # foot: SYNs share the top
    "ras_connected": ("RASCS_Connected", 0.4, {"marker": "D", "color": "#0d47a1",
                                               "markersize": 6}),
    "ras_hangup": ("RasHangUp", 0.4, {"marker": "X", "color": "#212121", "markersize": 7}),
    "no_port": ("no free port", 0.4, {"marker": "X", "color": _FAIL, "markersize": 8}),
    "connected": ("share mapped (outcome)", 0.0, {"marker": "*", "color": _OK,
                                                  "markersize": 15,
                                                  "markeredgecolor": "white"}),
    "gave_up": ("gave up (outcome)", 0.0, {"marker": "*", "color": _FAIL, "markersize": 15,
                                           "markeredgecolor": "white"}),
}
_HATCHED_TEXT_BOX = {"boxstyle": "round,pad=0.15", "facecolor": "white", "alpha": 0.85,
                     "edgecolor": "none"}


def _style(span: Span) -> _Style:
    if span.kind.startswith("fault_"):
        kind = span.kind.removeprefix("fault_")
        return _Style(f"fault: {kind.replace('_', ' ')}", FAULT_COLORS.get(kind, "#757575"),
                      height=0.5, text_color="white")
    return _STYLES[span.kind]


def _texts(span: Span) -> list[str]:
    """Label candidates, longest first (rule 1)."""
    kind, code = span.kind, span.code
    if kind in ("map_ok", "map_failed"):
        if code:
            return [f"map {span.number}: {code} {symbol_of(code)}", f"map {span.number}: {code}",
                    f"{code}"]
        return [f"map {span.number}: succeeded", f"map {span.number}: ok", "ok"]
    if kind in ("dial", "dial_failed"):
        if code:
            return [f"RasDial {span.number}: {code} {symbol_of(code)}", f"dial: {code}",
                    f"{code}"]
        return [f"RasDial {span.number}", "dial"]
    if kind == "sleep":
        return [f"wait {span.note} s", "wait"]
    if kind == "settle":
        return [f"settle {span.note} s", "settle"]
    if kind.startswith("fault_"):
        return [span.note, span.note[:12]]
    if kind == "not_ready":
        return [f"not ready (lag {span.note} s)", f"lag {span.note} s"]
    if span.start < 0 and kind in ("port", "link_up", "ready"):
        since = f"{span.start:.0f}".replace("-", "\u2212")  # a real minus sign
        what = {"port": "port held", "link_up": "link up", "ready": "ready"}[kind]
        return [f"{what} since {since} s (dialed by hand)", f"{what} since {since} s",
                f"since {since} s"]
    if kind == "broadcast":
        return ([f"broadcast → {ERROR_BAD_NETPATH}", "bcast", f"→{ERROR_BAD_NETPATH}"] if code
                else ["broadcast", "bcast"])
    short = {
        "wins": ["WINS", "W"], "wins_failed": ["WINS: no answer", "WINS"],
        "tcp": ["TCP", "T"], "tcp_failed": [f"TCP gave up → {ERROR_BAD_NETPATH}", "TCP"],
        "netbios_session": ["NetBIOS", "NBT"], "negotiate": ["negotiate", "neg"],
        "session_setup": ["setup", "set"], "tree_connect": ["tree", "tr"],
        "phase_connect": ["connect", "conn"], "phase_authenticate": ["authenticate", "auth"],
        "phase_project": ["project", "proj"], "outage": ["outage"],
        "spike": [f"latency ×{span.note}"], "link_up": ["link up"],
        "ready": ["ready"],
    }
    candidates = short.get(kind, [])
    if code and kind not in ("broadcast",):
        candidates = [f"{c} → {code}" for c in candidates] + candidates
    return candidates


def timeline(events: Iterable[TraceEvent], *, scenario: str | None = None,
             policy: str | None = None, seed: int | None = None, trial: int | None = None,
             warmup: tuple[float, float] | None = None, ax: Axes | None = None) -> Figure:
    """Draw one trial's recorded events (``Recorder.events``) on one time axis.

    ``scenario``, ``policy``, ``seed`` and ``trial`` go into the title with the outcome.
    ``warmup=(factor, decay_s)`` shades the link's warm-up (latency x factor, decaying);
    ``sim.frames.replay`` returns it with the events. Returns the figure (a new one unless
    ``ax`` is given). The x axis is virtual time in seconds from the trial's start.
    """
    parts = timeline_parts(events)
    lanes = [lane for lane in LANES if lane != "faults"
             or any(s.lane == "faults" for s in parts.spans)]
    fig, ax = axes_of(ax, 12.0, 2.3 + 0.62 * len(lanes))
    y = {lane: len(lanes) - 1 - i for i, lane in enumerate(lanes)}
    right = max(parts.end, 1e-3) * 1.03
    ax.set_xlim(0.0, right)
    ax.set_ylim(-0.6, len(lanes) - 0.4)
    ax.set_yticks([y[lane] for lane in lanes], [_LANE_TITLES[lane] for lane in lanes])
    ax.set_xlabel("virtual time (s) from the trial's start")
    for lane in lanes[1:]:
        ax.axhline(y[lane] + 0.5, color="#e0e0e0", linewidth=0.8, zorder=0)
    ax.grid(axis="x", color="#eeeeee", zorder=0)
    ax.set_axisbelow(True)

    used: dict[str, tuple[int, Any]] = {}  # legend entries, ordered by lane below
    labels: list[tuple[Any, Span, list[str]]] = []
    codes: list[tuple[Any, Span]] = []
    rows = _fault_rows(parts.spans)
    for span in parts.spans:
        style = _style(span)
        left, width = max(span.start, 0.0), min(span.end, right) - max(span.start, 0.0)
        if width <= 0:  # e.g. a RasDial answered at once by a connection dialed by hand
            continue
        centre, height = float(y[span.lane]), style.height
        if id(span) in rows:  # fault windows that overlap in time share the lane in rows
            row, count = rows[id(span)]
            height = 0.8 / count
            centre += 0.4 - height * (row + 0.5)
            height *= 0.85
        bar = Rectangle((left, centre - height / 2), width, height,
                        facecolor=style.color, edgecolor=style.edge, hatch=style.hatch,
                        linewidth=1.2 if style.edge != "none" else 0, zorder=style.z)
        bar.set_gid(_gid(span))
        ax.add_patch(bar)
        used.setdefault(style.label, (LANES.index(span.lane), Patch(
            facecolor=style.color, edgecolor=style.edge, hatch=style.hatch, label=style.label)))
        if span.kind == "link_up" and warmup is not None:
            _shade_warmup(ax, span, warmup, y[span.lane], style.height, right, used)
        candidates = _texts(span)
        if not candidates:
            continue
        on_top = span.kind in ("map_ok", "map_failed", "dial_failed")
        text = ax.text(left + width / 2, centre, candidates[0], ha="center",
                       va="center", fontsize=8, color=style.text_color, clip_on=True,
                       zorder=style.z + 0.5, fontweight="bold" if on_top else "normal",
                       bbox=_HATCHED_TEXT_BOX if style.hatch else None)
        if on_top:
            text.set_gid(f"{_gid(span)}-code")
            codes.append((text, span))
        labels.append((text, span, candidates))

    for mark in parts.marks:
        name, lift, kw = _MARKS[mark.kind]
        # The outcome star sits in the right margin, clear of the last bar's label.
        t = (parts.end + right) / 2 if mark.kind in ("connected", "gave_up") else mark.t
        ax.plot([t], [y[mark.lane] + lift], linestyle="none", zorder=5, clip_on=False, **kw)
        used.setdefault(name, (LANES.index(mark.lane), Line2D([], [], linestyle="none",
                                                              label=name, **kw)))

    title = " · ".join(p for p in (
        scenario, f"policy {policy}" if policy else None,
        f"seed {seed}" if seed is not None else None,
        f"trial {trial}" if trial is not None else None) if p)
    outcome = (f"{parts.verdict} at {parts.end:.3f} s; {parts.attempts} map attempt(s), "
               f"{parts.dials} dial(s)")
    ax.set_title(f"{title}\n{outcome}" if title else outcome, fontsize=11)
    handles = [h for _, h in sorted(used.values(), key=lambda entry: entry[0])]
    fig.legend(handles=handles, loc="outside lower center",
               ncols=min(5, max(1, len(used))), fontsize=8, frameon=False)
    _fit_labels(fig, ax, labels, codes, y)
    return fig


def _beside(text: Any, span: Span, label: str, ax: Axes, rend: Any) -> bool:
    """Move ``text`` just right of its bar, in dark ink; False if it would leave the axes."""
    text.set_text(label)
    text.set_position((min(span.end, ax.get_xlim()[1]), text.get_position()[1]))
    text.set_horizontalalignment("left")
    text.set_color("#212121")
    text.set_bbox(None)
    # 3 points right of the bar's end (in points, so it holds at any dpi).
    shift = ScaledTranslation(3 / 72, 0, ax.figure.dpi_scale_trans)
    text.set_transform(ax.transData + shift)
    box, frame = text.get_window_extent(rend), ax.get_window_extent(rend)
    return bool(box.x1 <= frame.x1)


def _fault_rows(spans: Sequence[Span]) -> dict[int, tuple[int, int]]:
    """(row, rows in the lane) for each fault span: first-fit rows, so windows that overlap
    in time (an outage during another fault) are stacked, never drawn over each other."""
    ends: list[float] = []
    rows: dict[int, int] = {}
    for span in sorted((s for s in spans if s.lane == "faults"), key=lambda s: s.start):
        row = next((i for i, end in enumerate(ends) if end <= span.start), len(ends))
        if row == len(ends):
            ends.append(span.end)
        else:
            ends[row] = span.end
        rows[id(span)] = row
    return {key: (row, max(1, len(ends))) for key, row in rows.items()}


def _gid(span: Span) -> str:
    if span.kind in ("map_ok", "map_failed"):
        return f"map-{span.number}"
    if span.kind in ("dial", "dial_failed"):
        return f"dial-{span.number}"
    return f"lane-{span.kind}"


def _shade_warmup(ax: Axes, span: Span, warmup: tuple[float, float], lane_y: float,
                  height: float, right: float, used: dict[str, tuple[int, Any]]) -> None:
    """An orange strip along the bar's foot, fading with the warm-up factor's excess:
    strongest right after link-up. A strip, not an overlay, so the bar keeps its colour."""
    factor, decay = warmup
    if factor <= 1.0 or decay <= 0:
        return
    steps = 24
    stop = min(span.end, span.start + 4 * decay, right)
    edges = [span.start + (stop - span.start) * i / steps for i in range(steps + 1)]
    drawn = False
    for a, b in zip(edges, edges[1:], strict=False):
        alpha = 0.9 * math.exp(-((a + b) / 2 - span.start) / decay)
        if b <= 0 or alpha < 0.03:
            continue
        ax.add_patch(Rectangle((max(a, 0.0), lane_y - height / 2), b - max(a, 0.0),
                               height / 4, facecolor="#e65100", alpha=alpha, linewidth=0,
                               zorder=1.5, gid="lane-warmup"))
        drawn = True
    if drawn:
        label = f"link warm-up (latency ×{factor:g}, fading over ~{decay:g} s)"
        used.setdefault(label, (LANES.index("link"),
                                Patch(facecolor="#e65100", alpha=0.45, label=label)))


def _fit_labels(fig: Figure, ax: Axes, labels: Sequence[tuple[Any, Span, list[str]]],
                codes: Sequence[tuple[Any, Span]], y: dict[str, int]) -> None:
    """Rule 1: shorten or drop bar labels that do not fit; lift codes that do not."""
    rend = renderer(fig)
    to_px = ax.transData.transform
    lifted: list[Any] = []
    code_texts = {id(t) for t, _ in codes}
    for text, span, candidates in labels:
        left, right = max(span.start, 0.0), min(span.end, ax.get_xlim()[1])
        width_px = to_px((right, 0))[0] - to_px((left, 0))[0]
        if fit_text(text, candidates, width_px, rend):
            continue
        if id(text) in code_texts:
            text.set_text(candidates[-1])
            lifted.append(text)
        elif span.kind.startswith("fault_") and _beside(text, span, candidates[0], ax, rend):
            continue  # the faults lane is mostly empty: name a short window beside it
        else:
            text.remove()
    # Bars in one lane can overlap (an outage over "link up"): of two labels that collide,
    # keep the one on top (the overlay), or the code of a map or dial.
    kept: list[Any] = []
    ranked = sorted((entry for entry in labels if entry[0].axes is not None
                     and entry[0] not in lifted),
                    key=lambda entry: (id(entry[0]) not in code_texts, -entry[0].get_zorder()))
    for text, _, _ in ranked:
        box = text.get_window_extent(rend)
        if any(box.overlaps(other) for other in kept):
            text.remove()
        else:
            kept.append(box)
    # Lifted codes sit above the sender lane; a code that would touch its left neighbour
    # moves up a row (first-fit), so codes of short, close attempts never overlap.
    rows: list[float] = []  # the right edge (px) of the last label in each row
    placed: list[tuple[Any, int]] = []
    for text in sorted(lifted, key=lambda t: t.get_position()[0]):
        text.set_color(_OK if text.get_text() == "ok" else _FAIL)
        extent = text.get_window_extent(rend)
        row = next((i for i, edge in enumerate(rows) if extent.x0 > edge + 3), len(rows))
        if row == len(rows):
            rows.append(extent.x1)
        else:
            rows[row] = extent.x1
        placed.append((text, row))
    top = y["sender"]
    for text, row in placed:
        text.set_position((text.get_position()[0], top + 0.32 + 0.3 * row))
        text.set_va("bottom")
        text.set_clip_on(False)
    if rows:
        ax.set_ylim(ax.get_ylim()[0], top + 0.32 + 0.3 * len(rows) + 0.15)
