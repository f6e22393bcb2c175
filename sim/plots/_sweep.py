"""The picture of a sweep (``rassim sweep --plot``).

A lone sender: per policy, the success rate and the error 53 rate with their 95% intervals
and the paired difference in success to the baseline. A fleet (``report["senders"] > 1``) is
judged on what it costs, so it draws what its table shows: per policy, the makespan (p50
and p95), the work, the busy rate and the port utilization with their intervals, the paired
differences in makespan and work, and the success (every sender connected) with its paired
difference. Below, when the grid varies one or two numeric fields, the success rate (a
fleet: the makespan's p95) over them; a heatmap's colours are centred on the baseline.

Takes the report of ``sim.studies.sweep.sweep_report`` (its ``policies`` rows).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.ticker import FuncFormatter, MaxNLocator

from sender.codes import ERROR_BAD_NETPATH
from sim.plots._base import Figure
from sim.plots._curves import rate_curves, success_heatmap, success_vs_budget
from sim.scenario.policy_fields import FIELDS

__all__ = ["sweep_figure"]

#: Grid fields a plot can put on an axis (numbers); jitter and the code sets cannot.
_NUMERIC_FIELDS = tuple(f.name for f in FIELDS if f.sweepable and f.numeric)
#: Past this many policies the per-policy panels show the baseline and the best ones only.
_MAX_ROWS = 40


def sweep_figure(report: dict[str, Any], varied: tuple[str, ...] = (),
                 points: range = range(0)) -> Figure:
    """The picture of a sweep report (see the module docstring): the per-policy panels;
    below, when the grid varies one or two numeric fields (``varied``, their grid points at
    ``points`` of the report's rows), the success rate (a fleet: the makespan's p95) over
    them."""

    rows = report["policies"]
    fleet = report.get("senders", 1) > 1
    value = "p95_connect_time" if fleet else "success_rate"
    shown = list(range(len(rows)))
    if len(rows) > _MAX_ROWS:
        def rank(i: int) -> float:
            v = rows[i][value]
            if v is None:
                return math.inf
            return float(v) if fleet else -float(v)
        best = sorted((i for i in shown if not rows[i]["baseline"]), key=rank)[:_MAX_ROWS - 1]
        shown = sorted({*best, *(i for i in shown if rows[i]["baseline"])})
    fields = [f for f in varied if f in _NUMERIC_FIELDS]
    frame = pd.DataFrame([rows[i] for i in points])
    if len(fields) != len(varied) or len(fields) > 2 or frame.empty:
        fields = []  # jitter, code sets or 3+ fields: no axis to put them on
    else:
        frame = frame.dropna(subset=[*fields, value])
        fields = fields if len(frame) > 1 else []
    band = 1.6 + 0.27 * len(shown)  # one row of per-policy panels
    height = 2 * band if fleet else band
    fig = Figure(figsize=(15 if fleet else 12.5, height + (4.3 if fields else 0)),
                 layout="constrained")
    FigureCanvasAgg(fig)
    if fields:
        top, bottom = fig.subfigures(2, 1, height_ratios=[height, 4.3])  # type: ignore[misc]
    else:
        top, bottom = fig, None
    if fleet:
        _fleet_panels(top, report, shown, len(rows))
    else:
        _policy_panels(top, report, shown, len(rows))
    if bottom is not None:
        baseline = rows[[r["baseline"] for r in rows].index(True)]
        _varied_panels(bottom, frame, fields, baseline, value)
    what = (f"a fleet of {report['senders']} senders per trial · " if fleet else "")
    fig.suptitle(f"{report['scenario']} · sweep {Path(report['grid']).name} · {what}"
                 f"{report['trials']:,} trials per policy on the same seeds · seed "
                 f"{report['seed']}", fontsize=11)
    return fig


def _estimates(ax: Any, ys: list[int], rows: list[dict[str, Any]], metric: str, color: str,
               scale: float = 1.0, marker: str = "o", label: str | None = None) -> None:
    """One dot per policy at ``metric`` with its 95% interval as a bar (``scale`` times)."""
    for y, row in zip(ys, rows, strict=True):
        value = row[metric]
        if value is None:
            continue
        low, high = row[f"{metric}_low"], row[f"{metric}_high"]
        low, high = value if low is None else low, value if high is None else high
        ax.errorbar([scale * value], [y], xerr=[[scale * (value - low)],
                                                [scale * (high - value)]],
                    fmt=marker, color=color, markersize=5, capsize=2.5, linewidth=1.3,
                    label=label if y == ys[0] else None)


def _differences(ax: Any, ys: list[int], rows: list[dict[str, Any]], name: str,
                 scale: float, lower_is_better: bool) -> None:
    """Each policy's paired difference ``name`` to the baseline with its 95% interval:
    green where the interval shows it better, red where worse, grey where it cannot tell."""
    baseline_ys = []
    for y, row in zip(ys, rows, strict=True):
        if row["baseline"]:
            baseline_ys.append(y)
            continue
        value, low, high = row[name], row[f"{name}_low"], row[f"{name}_high"]
        if value is None:
            continue
        low, high = value if low is None else low, value if high is None else high
        less, more = high < 0, low > 0
        better, worse = (less, more) if lower_is_better else (more, less)
        color = "#2e7d32" if better else "#c62828" if worse else "#757575"
        ax.errorbar([scale * value], [y], xerr=[[scale * (value - low)],
                                                [scale * (high - value)]],
                    fmt="o", color=color, markersize=5, capsize=2.5, linewidth=1.3)
    ax.axvline(0, color="#555555", linewidth=0.8)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:+g}" if v else "0"))
    # The word "baseline" beside the zero line, on the side with room, inside the panel.
    left, right = ax.get_xlim()
    room_right = (right - 0) / (right - left) if right > left else 1.0
    for y in baseline_ys:
        ax.annotate("baseline", (0, y), xytext=(4 if room_right > 0.25 else -4, 0),
                    textcoords="offset points", va="center",
                    ha="left" if room_right > 0.25 else "right", fontsize=8, color="#555555")


def _style(axes: Any, count: int) -> None:
    for ax in axes:
        ax.grid(axis="x", color="#eeeeee")
        ax.set_axisbelow(True)
        ax.set_ylim(-0.7, count - 0.3)


def _policy_names(ax: Any, ys: list[int], rows: list[dict[str, Any]]) -> None:
    ax.set_yticks(ys, [r["policy"] + (" (baseline)" if r["baseline"] else "") for r in rows],
                  fontsize=8)
    for label, row in zip(ax.get_yticklabels(), rows, strict=True):
        if row["baseline"]:
            label.set_fontweight("bold")


def _policy_panels(where: Any, report: dict[str, Any], shown: list[int], total: int) -> None:
    rows = [report["policies"][i] for i in shown]
    axes = where.subplots(1, 3, sharey=True, width_ratios=[1.25, 1, 1.1])
    ys = list(range(len(rows)))[::-1]  # the first policy at the top, as in the table
    success, fifty_three, delta = axes
    _estimates(success, ys, rows, "success_rate", "#2e7d32", 100)
    success.set_xlabel("success rate (% of trials)\ndot: estimate; bar: 95% interval")
    success.set_title("success rate")
    _estimates(fifty_three, ys, rows, "rate_53", "#c62828", 100)
    fifty_three.set_xlabel(f"error {ERROR_BAD_NETPATH} rate (% of trials)\n"
                           "dot: estimate; bar: 95% interval")
    fifty_three.set_title(f"error {ERROR_BAD_NETPATH} (the KB's failure)")
    fifty_three.set_xlim(left=0)
    _differences(delta, ys, rows, "diff", 100, lower_is_better=False)
    delta.set_xlabel(f"Δ success vs {report['baseline']} (percentage points)\n"
                     "paired 95% interval; green: better")
    delta.set_title("paired difference to the baseline")
    _style(axes, len(rows))
    percent = FuncFormatter(lambda v, _pos: f"{v:g}%")
    success.xaxis.set_major_formatter(percent)
    fifty_three.xaxis.set_major_formatter(percent)
    _policy_names(success, ys, rows)
    if len(rows) < total:
        success.set_title(f"success rate (best {len(rows) - 1} of {total} policies "
                          "and the baseline)")


def _fleet_panels(where: Any, report: dict[str, Any], shown: list[int], total: int) -> None:
    """Two rows of panels, one dot per policy, the same rows in every panel: what a fleet
    costs (makespan, work, busy signals, ports) above, the paired differences and the
    success below (the columns of the fleet table, ``rassim sweep``)."""
    rows = [report["policies"][i] for i in shown]
    axes = where.subplots(2, 4, sharey=True)
    ys = list(range(len(rows)))[::-1]  # the first policy at the top, as in the table
    (makespan, work, busy, ports), (d_makespan, d_work, success, d_success) = axes
    interval = "dot: estimate; bar: 95% interval"
    _estimates(makespan, ys, rows, "p50_connect_time", "#1565c0", label="p50")
    _estimates(makespan, ys, rows, "p95_connect_time", "#6a1b9a", marker="D", label="p95")
    makespan.set_title("makespan p50 and p95")
    makespan.set_xlabel("time until every sender connected (s)\n"
                        "trials where all connected; bar: 95% interval")
    makespan.legend(fontsize=8, loc="best")
    _estimates(work, ys, rows, "work", "#ef6c00")
    work.set_title("work")
    work.set_xlabel(f"map attempts + dials per trial (mean)\n{interval}")
    _estimates(busy, ys, rows, "busy_rate", "#c62828", 100)
    busy.set_title("busy rate")
    busy.set_xlabel(f"dials refused for want of a port (%)\n{interval}")
    _estimates(ports, ys, rows, "port_utilization", "#2e7d32", 100)
    ports.set_title("port utilization")
    ports.set_xlabel(f"share of port-seconds in use (%)\n{interval}")
    lower = "paired 95% interval; green: less, red: more"
    _differences(d_makespan, ys, rows, "connect_diff", 1, lower_is_better=True)
    d_makespan.set_title("Δ makespan to the baseline")
    d_makespan.set_xlabel(f"mean difference (s), trials both connected\n{lower}")
    _differences(d_work, ys, rows, "work_diff", 1, lower_is_better=True)
    d_work.set_title("Δ work to the baseline")
    d_work.set_xlabel(f"mean difference (map attempts + dials)\n{lower}")
    _estimates(success, ys, rows, "success_rate", "#2e7d32", 100, label="every sender")
    _estimates(success, ys, rows, "sender_success_rate", "#00838f", 100, marker="s",
               label="share of senders")
    success.set_title("connected")
    success.set_xlabel(f"% of trials (every sender) and of senders\n{interval}")
    success.legend(fontsize=8, loc="lower left")  # the dots sit near 100%, at the right
    _differences(d_success, ys, rows, "diff", 100, lower_is_better=False)
    d_success.set_title("Δ every sender connected")
    d_success.set_xlabel("difference (percentage points)\n"
                         "paired 95% interval; green: better")
    _style(axes.flat, len(rows))
    percent = FuncFormatter(lambda v, _pos: f"{v:g}%")
    for ax in (busy, ports, success):
        ax.xaxis.set_major_formatter(percent)
    for ax in (makespan, d_makespan):
        ax.xaxis.set_major_locator(MaxNLocator(6))
    _policy_names(makespan, ys, rows)
    _policy_names(d_makespan, ys, rows)
    if len(rows) < total:
        makespan.set_title(f"makespan (the {len(rows) - 1} of {total} policies with the "
                           "lowest p95, and the baseline)")


def _varied_panels(where: Any, frame: Any, fields: list[str], baseline: dict[str, Any],
                   value: str) -> None:
    fleet = value != "success_rate"
    label = "makespan p95 (s)" if fleet else "success rate (% of trials)"
    name = "makespan p95" if fleet else "success rate"
    if len(fields) == 1:
        ax = where.subplots(1, 1)
        if fleet:
            rate_curves(frame, fields[0], value=value, by=None, ax=ax, ylabel=label,
                        title=f"{name} over the grid (95% band)")
        else:
            success_vs_budget(frame, fields[0], by=None, ax=ax)
    else:
        left, right = where.subplots(1, 2, width_ratios=[1.15, 1])
        x, by = fields
        if frame[x].nunique() < frame[by].nunique():
            x, by = by, x  # more points along the axis, fewer curves
        rate_curves(frame, x, value=value, by=by, ax=left, ylabel=label,
                    title=f"{name} over the grid (95% band)")
        ax = left
        if frame.duplicated([x, by]).any():
            right.set_axis_off()
        else:
            success_heatmap(frame, x, by, value=value, ax=right,
                            title=f"{name} over the grid", center=baseline[value],
                            center_label=f"the baseline, {baseline['policy']}",
                            higher_is_better=not fleet, value_label=label)
    # The grid's own values as ticks (2, 3, 4, 6 maps; 2, 5, 10 s), not 2.5 maps.
    values = sorted(frame[x if len(fields) == 2 else fields[0]].unique())
    if len(values) <= 12:
        ax.set_xticks(values, [f"{v:g}" for v in values])
    shown = (f"{baseline[value]:.0f} s" if fleet and baseline[value] is not None
             else "-" if baseline[value] is None else f"{100 * baseline[value]:.1f}%")
    ax.set_title(ax.get_title() + f" · baseline {baseline['policy']}: {shown}", fontsize=10)
